//! Modules and the host programs that load them: a Python extension exports `PyInit_<name>` and
//! leaves the interpreter's `Py*` symbols undefined on purpose, a Node-API addon exports
//! `napi_register_module_v1`, a JNI library `JNI_OnLoad` or `Java_*`, a Perl XS module `boot_*`,
//! a Ruby extension `Init_*`, a Lua module `luaopen_*`. And where an image keeps each host's
//! program. Pure.

use serde::{Deserialize, Serialize};

use super::{BinaryProfile, ExportTable, Kind};

/// A program that loads modules of its own kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Host {
    Python,
    Node,
    Java,
    Perl,
    Ruby,
    Lua,
}

impl Host {
    pub const ALL: [Host; 6] = [
        Host::Python,
        Host::Node,
        Host::Java,
        Host::Perl,
        Host::Ruby,
        Host::Lua,
    ];

    /// `Python`, `Node.js`, …
    pub fn name(self) -> &'static str {
        match self {
            Host::Python => "Python",
            Host::Node => "Node.js",
            Host::Java => "Java",
            Host::Perl => "Perl",
            Host::Ruby => "Ruby",
            Host::Lua => "Lua",
        }
    }

    /// What a base must have to load the module: `Python interpreter`, `Java runtime`, …
    pub fn program(self) -> &'static str {
        match self {
            Host::Python => "Python interpreter",
            Host::Node => "Node.js runtime",
            Host::Java => "Java runtime",
            Host::Perl => "Perl interpreter",
            Host::Ruby => "Ruby interpreter",
            Host::Lua => "Lua interpreter",
        }
    }

    /// The prefixes of the symbols this host provides to its modules (none for the JVM: JNI
    /// reaches it through function tables).
    fn symbol_prefixes(self) -> &'static [&'static str] {
        match self {
            Host::Python => &["Py", "_Py"],
            Host::Node => &["napi_", "node_api_"],
            Host::Java => &[],
            Host::Perl => &["Perl", "PL_"],
            Host::Ruby => &["rb_", "ruby_"],
            Host::Lua => &["lua_", "luaL_"],
        }
    }

    /// Whether this host defines `symbol` for its modules.
    pub fn provides(self, symbol: &str) -> bool {
        self.symbol_prefixes().iter().any(|p| symbol.starts_with(p))
    }

    /// The host whose program sits at `path` in an image (`/usr/bin/python3.11`,
    /// `/usr/local/bin/node`, a JVM's `libjvm.so`), if one does.
    pub fn of_program_path(path: &str) -> Option<Host> {
        let (dir, name) = path.rsplit_once('/')?;
        if name == "libjvm.so" {
            return Some(Host::Java);
        }
        let in_bin = matches!(dir, "/usr/bin" | "/usr/local/bin" | "/bin")
            || (dir.ends_with("/bin") && (dir.starts_with("/opt/") || dir.contains("/jvm/")));
        if !in_bin {
            return None;
        }
        let versioned = |stem: &str| {
            name.strip_prefix(stem)
                .is_some_and(|v| v.is_empty() || v.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
        };
        Some(match name {
            "node" | "nodejs" => Host::Node,
            "java" => Host::Java,
            "luajit" => Host::Lua,
            _ if versioned("python3") => Host::Python,
            _ if versioned("perl") => Host::Perl,
            _ if versioned("ruby") => Host::Ruby,
            _ if versioned("lua") => Host::Lua,
            _ => return None,
        })
    }
}

/// A module, its host and the export that shows it (`PyInit__speedups`), or the host symbol
/// it imports when it exports no entry point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Module {
    pub host: Host,
    pub evidence: String,
}

/// The host program a shared object is a module of: by its entry point, else by the host
/// symbols it leaves undefined.
pub fn module_of(profile: &BinaryProfile, exports: &ExportTable) -> Option<Module> {
    if profile.kind != Kind::SharedObject {
        return None;
    }
    let imports = || profile.unversioned_undefined.iter().map(|u| &*u.name);
    let imports_from = |host: Host| imports().any(|s| host.provides(s));
    let entry = exports
        .iter()
        .map(|e| e.split('@').next().unwrap_or(e))
        .find_map(|name| Some((entry_host(name, imports_from)?, name)));
    if let Some((host, name)) = entry {
        return Some(Module {
            host,
            evidence: name.to_string(),
        });
    }
    imports().find_map(|s| {
        let host = Host::ALL.into_iter().find(|h| h.provides(s))?;
        Some(Module {
            host,
            evidence: s.to_string(),
        })
    })
}

/// The host of an exported entry point. `boot_` and `Init_` are common words: they count only
/// with the host's own symbols imported beside them.
fn entry_host(name: &str, imports_from: impl Fn(Host) -> bool) -> Option<Host> {
    let prefixed = |p: &str| name.strip_prefix(p).is_some_and(|rest| !rest.is_empty());
    if prefixed("PyInit_") {
        Some(Host::Python)
    } else if name == "napi_register_module_v1" || prefixed("node_register_module_v") {
        Some(Host::Node)
    } else if name == "JNI_OnLoad" || prefixed("Java_") {
        Some(Host::Java)
    } else if prefixed("luaopen_") {
        Some(Host::Lua)
    } else if prefixed("boot_") && imports_from(Host::Perl) {
        Some(Host::Perl)
    } else if prefixed("Init_") && imports_from(Host::Ruby) {
        Some(Host::Ruby)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::UndefinedSymbol;

    fn module(exports: &[&str], imports: &[&str]) -> Option<Module> {
        let mut p = BinaryProfile::empty(Kind::SharedObject);
        p.unversioned_undefined = imports
            .iter()
            .map(|s| UndefinedSymbol {
                name: (*s).into(),
                weak: false,
            })
            .collect();
        module_of(&p, &ExportTable::from_lines(exports))
    }

    #[test]
    fn modules_by_entry_point_then_by_imports() {
        let host = |e: &[&str], i: &[&str]| module(e, i).map(|m| (m.host, m.evidence));
        assert_eq!(
            host(&["PyInit__speedups"], &["PyModuleDef_Init"]),
            Some((Host::Python, "PyInit__speedups".into()))
        );
        assert_eq!(
            host(&["napi_register_module_v1"], &[]),
            Some((Host::Node, "napi_register_module_v1".into()))
        );
        assert_eq!(
            host(&["Java_org_x_Native_add@@V1"], &["malloc"]),
            Some((Host::Java, "Java_org_x_Native_add".into()))
        );
        assert_eq!(host(&["JNI_OnLoad"], &[]).unwrap().0, Host::Java);
        assert_eq!(host(&["luaopen_cjson"], &[]).unwrap().0, Host::Lua);
        assert_eq!(
            host(&["boot_List__Util"], &["Perl_newXS_deffile"])
                .unwrap()
                .0,
            Host::Perl
        );
        assert_eq!(
            host(&["Init_json"], &["rb_define_module"]).unwrap().0,
            Host::Ruby
        );
        // Common words alone are not entry points; a host's imports still tell.
        assert_eq!(host(&["Init_tables", "boot_loader"], &["malloc"]), None);
        assert_eq!(
            host(&["helper"], &["malloc", "napi_create_string_utf8"]),
            Some((Host::Node, "napi_create_string_utf8".into()))
        );
        let mut exe = BinaryProfile::empty(Kind::Pie);
        exe.unversioned_undefined = vec![];
        assert_eq!(
            module_of(&exe, &ExportTable::from_lines(["PyInit_x"])),
            None
        );
    }

    #[test]
    fn host_programs_where_images_keep_them() {
        for (path, host) in [
            ("/usr/bin/python3.11", Some(Host::Python)),
            ("/usr/local/bin/python3", Some(Host::Python)),
            ("/usr/bin/python3-config", None),
            ("/usr/local/bin/node", Some(Host::Node)),
            (
                "/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so",
                Some(Host::Java),
            ),
            ("/opt/java/openjdk/bin/java", Some(Host::Java)),
            ("/usr/bin/perl5.36.0", Some(Host::Perl)),
            ("/usr/bin/perldoc", None),
            ("/usr/bin/lua5.4", Some(Host::Lua)),
            ("/home/x/python3", None),
        ] {
            assert_eq!(Host::of_program_path(path), host, "{path}");
        }
    }
}
