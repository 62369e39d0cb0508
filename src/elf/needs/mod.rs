//! What a binary will ask for at run time, read from its ELF bytes with no I/O: imported functions
//! whose behaviour differs between musl and glibc, its `PT_GNU_STACK` size, run-time data paths
//! named in its read-only data, and for Go programs their build settings and linked packages.
//!
//! Every scan is bounded (the `.symtab` of a static executable, 16 MiB of read-only data, the Go
//! tables) and tolerant: a damaged or cut-short file gives what can be read, never a panic.
//!
//! The JSON form leaves empty fields out; a binary encoding (postcard) of these types would need
//! a complete mirror, as `BinaryProfile` has in `CompleteProfile`.

mod dlopen;
mod go;
mod imports;
mod layout;
mod paths;
mod stack;
#[cfg(test)]
mod test_elf;
pub mod toolchain;

use serde::{Deserialize, Serialize};

use super::{BinaryProfile, Kind};

pub use dlopen::DlopenDep;
pub use go::{FUNCTIONS as GO_FUNCTIONS, PACKAGES as GO_PACKAGES};
pub use imports::{Difference, Topic, difference};
pub use stack::with_stack_size;

/// A binary's run-time needs (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeNeeds {
    /// Functions with a known musl/glibc difference ([`difference`] says which and why), sorted:
    /// the undefined dynamic symbols, or for a static executable the functions its `.symtab`
    /// defines (none when stripped) — linked, which for a static program is not always called.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imports: Vec<String>,
    /// `PT_GNU_STACK`'s `p_memsz` when non-zero (`-Wl,-z,stack-size=N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack_size: Option<u64>,
    /// Run-time data paths named in read-only data (from a fixed list), sorted, at most 32: the
    /// whole NUL-terminated string around each, or only the match where there is none. Not read
    /// for Go programs (see [`runtime_needs`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Go build facts, for Go programs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub go: Option<GoBuild>,
    /// A bounded scan (read-only data, `.symtab`) stopped before the end: the lists may be short.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub scan_truncated: bool,
    /// Libraries it loads with `dlopen`: declared in `.note.dlopen`, or (when it imports
    /// `dlopen`) sonames named in its read-only data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dlopen: Vec<dlopen::DlopenDep>,
    /// What built it (for fix hints in its own terms). Not a need: reports show it on its own.
    #[serde(skip)]
    pub toolchain: toolchain::Toolchain,
}

impl RuntimeNeeds {
    /// Nothing found: the JSON of `inspect` leaves the field out.
    /// Asks for nothing (what built it aside).
    pub fn is_empty(&self) -> bool {
        *self
            == RuntimeNeeds {
                toolchain: self.toolchain.clone(),
                ..RuntimeNeeds::default()
            }
    }
}

/// What a Go program's build info and function table say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoBuild {
    /// Whether the build info could be read; when not, version and settings are unknown.
    pub build_info: GoBuildInfo,
    /// `go1.19.8`, from `.go.buildinfo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `CGO_ENABLED` from the build settings, when recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgo: Option<bool>,
    /// Build tags (`netgo`, `osusergo`, `timetzdata`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Module dependencies, `path@version` (`… => path@version` when replaced).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deps: Vec<String>,
    /// Standard-library packages linked, from [`GO_PACKAGES`]: `crypto/x509`, `net`, `os/user`,
    /// `time/tzdata`, `runtime/cgo`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<String>,
    /// Functions linked, from [`GO_FUNCTIONS`]: `crypto/x509.loadSystemRoots`,
    /// `time.LoadLocation`, ...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub functions: Vec<String>,
}

impl GoBuild {
    pub fn links(&self, function: &str) -> bool {
        self.functions.iter().any(|f| f == function)
    }
    pub fn has_package(&self, package: &str) -> bool {
        self.packages.iter().any(|p| p == package)
    }
}

/// What became of a Go program's `.go.buildinfo`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoBuildInfo {
    /// Read (Go ≥ 1.18 writes it inline).
    Read,
    /// Written before Go 1.18 (pointers into the data): the version is not read.
    OlderFormat,
    /// None found (stripped of its section, or not built by the go command).
    #[default]
    Missing,
    /// Present but cut short or malformed.
    Damaged,
}

/// The run-time needs of the binary whose bytes are `bytes` and profile is `profile`.
pub fn runtime_needs(bytes: &[u8], profile: &BinaryProfile) -> RuntimeNeeds {
    needs(bytes, profile, true)
}

/// The same without the scan of the file's read-only strings for `paths`: what a walk or an
/// audit over thousands of files can afford (the read-only data of `/usr/lib` is hundreds of
/// megabytes). Imports (a static program's `.symtab` included), stack size and a Go program's
/// build info and function names stay: Go programs are few, and their names are what shows a
/// system CA pool or time zones being loaded.
pub fn runtime_needs_quick(bytes: &[u8], profile: &BinaryProfile) -> RuntimeNeeds {
    needs(bytes, profile, false)
}

fn needs(bytes: &[u8], profile: &BinaryProfile, scan_data: bool) -> RuntimeNeeds {
    let mut needs = RuntimeNeeds {
        imports: dynamic_imports(profile),
        ..RuntimeNeeds::default()
    };
    let Some(layout) = layout::Layout::read(bytes) else {
        return needs;
    };
    if is_static_program(profile) {
        let (defined, cut) = imports::defined_in_symtab(&layout);
        needs.imports = defined;
        needs.scan_truncated |= cut;
    }
    needs.stack_size = stack::stack_size(&layout);
    let go = go::is_go(&layout);
    // A Go program's packages name their paths whether the program uses them or not, and its
    // strings are packed without terminators: its linked functions are the evidence instead.
    if scan_data && !go {
        let (paths, cut) = paths::named_paths(&paths::read_only_data(&layout));
        needs.paths = paths;
        needs.scan_truncated |= cut;
    }
    if go {
        needs.go = Some(go::go_build(&layout));
    }
    needs.dlopen = dlopen::from_notes(&layout);
    // `.comment` lies outside the parts a walk or an audit reads of each file.
    if scan_data {
        needs.toolchain = toolchain::detect(Some(&layout), needs.go.as_ref());
    }
    if is_static_glibc(profile) {
        drop_static_glibc_baseline(&mut needs);
    }
    // After the baseline is dropped: glibc's own dlopen (NSS, iconv) is not the program's.
    if scan_data && !go && needs.imports.iter().any(|i| i == "dlopen") {
        let named = dlopen::from_strings(&paths::read_only_data(&layout));
        let declared = |d: &DlopenDep| needs.dlopen.iter().any(|n| n.soname.contains(&d.soname[0]));
        let new: Vec<DlopenDep> = named.into_iter().filter(|d| !declared(d)).collect();
        needs.dlopen.extend(new);
    }
    needs
}

/// The table's functions among the undefined dynamic symbols.
fn dynamic_imports(profile: &BinaryProfile) -> Vec<String> {
    let versioned = profile.versioned_undefined.iter().map(|s| &*s.name);
    let unversioned = profile.unversioned_undefined.iter().map(|s| &*s.name);
    imports::known(versioned.chain(unversioned))
}

/// A static executable imports nothing: it carries its libc, so what it uses is what it defines.
fn is_static_program(profile: &BinaryProfile) -> bool {
    matches!(profile.kind, Kind::Static | Kind::StaticPie)
        && profile.versioned_undefined.is_empty()
        && profile.unversioned_undefined.is_empty()
}

/// Static glibc programs carry the ABI tag note of glibc's start files (musl's and Go's do not).
fn is_static_glibc(profile: &BinaryProfile) -> bool {
    is_static_program(profile) && profile.abi_tag.is_some()
}

/// glibc links some of the table into every static program, whatever the program calls:
/// `setlocale`, `dlopen` and `dlclose` (its NSS and iconv load modules with `dlopen`) with the
/// locale archive and gconv paths, and with threads `res_init`/`res_ninit` and
/// `/etc/resolv.conf` (a thread's exit frees its resolver state). In a static glibc program
/// they say nothing about the program, so they are left out; `getaddrinfo`, `getpwnam` and the
/// like still show when linked.
fn drop_static_glibc_baseline(needs: &mut RuntimeNeeds) {
    const LINKED_BY_GLIBC: &[&str] = &["dlclose", "dlopen", "res_init", "res_ninit", "setlocale"];
    needs
        .imports
        .retain(|f| !LINKED_BY_GLIBC.contains(&f.as_str()));
    needs.paths.retain(|p| {
        !p.starts_with("/usr/lib/locale") && !p.contains("/gconv") && p != "/etc/resolv.conf"
    });
}

#[cfg(test)]
mod tests {
    use super::test_elf::TestElf;
    use super::*;
    use proptest::prelude::*;

    fn needs_of(path: &str) -> Option<RuntimeNeeds> {
        let bytes = std::fs::read(path).ok()?;
        let profile = crate::elf::parse(&bytes).ok()?;
        Some(runtime_needs(&bytes, &profile))
    }

    /// GNU ls asks for users and groups by name and id, collates and sets the locale.
    #[test]
    fn host_ls_imports() {
        let Some(n) = needs_of("/bin/ls") else {
            return;
        };
        for f in ["getpwuid", "getgrgid", "setlocale", "strcoll"] {
            assert!(
                n.imports.iter().any(|i| i == f),
                "{f} not in {:?}",
                n.imports
            );
        }
        assert!(n.imports.windows(2).all(|w| w[0] < w[1]));
        assert!(n.go.is_none());
    }

    #[test]
    fn a_static_program_shows_what_it_defines_and_glibc_s_baseline_is_left_out() {
        let f = TestElf::new(true, true)
            .stack(1 << 20)
            .section(
                ".rodata",
                b"\0/usr/lib/locale/locale-archive\0/etc/ssl/certs\0/etc/resolv.conf\0",
            )
            .symtab(&[
                ("pthread_create", true),
                ("dlopen", true),
                ("setlocale", true),
                ("__res_init", true),
            ])
            .build();
        let musl = BinaryProfile::empty(Kind::Static);
        let n = runtime_needs(&f, &musl);
        assert_eq!(
            n.imports,
            ["dlopen", "pthread_create", "res_init", "setlocale"]
        );
        assert_eq!(n.stack_size, Some(1 << 20));
        assert_eq!(
            n.paths,
            [
                "/etc/resolv.conf",
                "/etc/ssl/certs",
                "/usr/lib/locale/locale-archive"
            ]
        );
        let quick = runtime_needs_quick(&f, &musl);
        assert_eq!(
            (&quick.imports, quick.stack_size),
            (&n.imports, n.stack_size)
        );
        assert!(quick.paths.is_empty());
        let mut glibc = musl.clone();
        glibc.abi_tag = Some("Linux 3.2.0".into());
        let n = runtime_needs(&f, &glibc);
        assert_eq!(n.imports, ["pthread_create"]);
        assert_eq!(n.paths, ["/etc/ssl/certs"]);
        // A dynamic program: its imports, not its definitions.
        let n = runtime_needs(&f, &BinaryProfile::empty(Kind::Pie));
        assert!(n.imports.is_empty());
    }

    #[test]
    fn nothing_found_is_empty() {
        let f = TestElf::new(false, false)
            .section(".rodata", b"hello")
            .build();
        let n = runtime_needs(&f, &BinaryProfile::empty(Kind::Executable));
        assert!(n.is_empty());
        assert_eq!(serde_json::to_string(&n).unwrap(), "{}");
        assert!(runtime_needs(b"garbage", &BinaryProfile::empty(Kind::Static)).is_empty());
    }

    fn corpus() -> &'static Vec<Vec<u8>> {
        static C: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
        C.get_or_init(|| {
            let mut c: Vec<Vec<u8>> = ["/bin/ls", "/bin/true"]
                .iter()
                .filter_map(|p| std::fs::read(p).ok())
                .collect();
            c.push(
                TestElf::new(true, true)
                    .stack(0)
                    .section(".rodata", b"\0/etc/passwd\0")
                    .symtab(&[("system", true)])
                    .build(),
            );
            c.push(go::tests::go_program());
            c
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]
        /// Damaged files (bytes overwritten in the headers and anywhere, cut short) never make
        /// the scans panic, with the profile the parser gives or one that says static.
        #[test]
        fn damaged_files_never_panic(
            which in 0usize..5,
            flips in proptest::collection::vec((0usize..8192, any::<u8>()), 0..12),
            anywhere in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..12),
            cut in any::<usize>(),
        ) {
            let c = corpus();
            let mut b = c[which % c.len()].clone();
            for (pos, val) in flips.into_iter().chain(anywhere) {
                let n = b.len();
                b[pos % n] = val;
            }
            b.truncate(cut % (b.len() + 1));
            if let Ok(p) = crate::elf::parse(&b) {
                let _ = runtime_needs(&b, &p);
            }
            let _ = runtime_needs(&b, &BinaryProfile::empty(Kind::Static));
            let _ = with_stack_size(&b, 8 << 20);
        }
    }
}
