//! [`BinaryProfile`]: the interpreted facts of one ELF file (kind, libc flavour, version needs).

use serde::{Deserialize, Serialize};

use super::raw::{Raw, RawUndefined};
use super::version;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Dynamically linked, fixed address (ET_EXEC with PT_INTERP).
    Executable,
    /// Position-independent executable (ET_DYN with PT_INTERP).
    Pie,
    /// Shared object (ET_DYN, no PT_INTERP, or with a SONAME like libc.so.6).
    SharedObject,
    /// Statically linked executable (no PT_INTERP, no dynamic section).
    Static,
    /// Static position-independent executable (ET_DYN, no PT_INTERP, DF_1_PIE).
    StaticPie,
    Relocatable,
    Core,
    Other,
}

impl Kind {
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Executable => "dynamic executable",
            Kind::Pie => "PIE executable",
            Kind::SharedObject => "shared object",
            Kind::Static => "static executable",
            Kind::StaticPie => "static-PIE executable",
            Kind::Relocatable => "relocatable object",
            Kind::Core => "core dump",
            Kind::Other => "other ELF",
        }
    }
    /// Can the kernel execute it directly?
    pub fn is_program(self) -> bool {
        matches!(
            self,
            Kind::Executable | Kind::Pie | Kind::Static | Kind::StaticPie
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LibcFlavour {
    Glibc,
    Musl,
    Static,
    Unknown,
}

impl std::fmt::Display for LibcFlavour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LibcFlavour::Glibc => "glibc",
            LibcFlavour::Musl => "musl",
            LibcFlavour::Static => "static",
            LibcFlavour::Unknown => "unknown",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Libc {
    pub flavour: LibcFlavour,
    /// Why: "interpreter /lib64/ld-linux-x86-64.so.2", "needs libc.so.6", "GLIBC_ versions".
    pub evidence: Vec<String>,
}

/// A symbol name, shared by the lists of a profile that mention it (one allocation per name).
pub type Name = std::sync::Arc<str>;

/// Names read straight into their shared, interned allocation: serde's own `Arc<str>` goes
/// through a `Box<str>` first (two allocations and a copy per name when a cached profile is
/// decoded), and most names a library needs are ones the thread has met already.
mod names {
    use super::Name;
    use serde::Deserializer;
    use serde::de::{Error, SeqAccess, Visitor};
    use std::fmt;

    struct OneName;
    impl Visitor<'_> for OneName {
        type Value = Name;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a symbol name")
        }
        fn visit_str<E: Error>(self, v: &str) -> Result<Name, E> {
            Ok(crate::fast::intern::intern(v))
        }
    }

    struct Seed;
    impl<'de> serde::de::DeserializeSeed<'de> for Seed {
        type Value = Name;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Name, D::Error> {
            one(d)
        }
    }

    pub fn one<'de, D: Deserializer<'de>>(d: D) -> Result<Name, D::Error> {
        d.deserialize_str(OneName)
    }

    pub fn list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Name>, D::Error> {
        struct List;
        impl<'de> Visitor<'de> for List {
            type Value = Vec<Name>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of symbol names")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Name>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
                while let Some(n) = seq.next_element_seed(Seed)? {
                    out.push(n);
                }
                Ok(out)
            }
        }
        d.deserialize_seq(List)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionNeed {
    /// `GLIBC_2.34`
    pub version: String,
    /// VER_FLG_WEAK: a missing version only warns.
    pub weak: bool,
    /// The undefined symbols bound to this version, sorted.
    #[serde(deserialize_with = "names::list")]
    pub symbols: Vec<Name>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryNeeds {
    pub library: String,
    pub versions: Vec<VersionNeed>,
}

/// The highest version of one family (GLIBC_, GLIBCXX_, CXXABI_, GCC_, …) and what forces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HighestVersion {
    /// `GLIBC`, `GLIBCXX`, `CXXABI`, `GCC`, …
    pub family: String,
    pub version: String,
    pub library: String,
    #[serde(deserialize_with = "names::list")]
    pub symbols: Vec<Name>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndefinedSymbol {
    #[serde(deserialize_with = "names::one")]
    pub name: Name,
    pub weak: bool,
}

/// A versioned undefined symbol: `name` must come from `library` at `version`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionedSymbol {
    #[serde(deserialize_with = "names::one")]
    pub name: Name,
    pub weak: bool,
    /// Shared by every symbol bound to the same library and version.
    #[serde(deserialize_with = "names::one")]
    pub library: std::sync::Arc<str>,
    #[serde(deserialize_with = "names::one")]
    pub version: std::sync::Arc<str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BinaryProfile {
    /// `elf32` / `elf64`
    pub class: String,
    /// `little` / `big`
    pub endian: String,
    /// `x86-64`, `aarch64`, `i386`, …
    pub machine: String,
    pub e_machine: u16,
    pub kind: Kind,
    pub stripped: bool,
    pub interpreter: Option<String>,
    pub libc: Libc,
    pub needed: Vec<String>,
    pub soname: Option<String>,
    pub rpath: Vec<String>,
    pub runpath: Vec<String>,
    pub version_needs: Vec<LibraryNeeds>,
    /// Highest version per family; GLIBC first when present.
    pub highest_versions: Vec<HighestVersion>,
    /// Symbols bound to GLIBC_PRIVATE (only the matching glibc build provides them).
    #[serde(deserialize_with = "names::list")]
    pub glibc_private: Vec<Name>,
    /// Needs GLIBC_ABI_DT_RELR (glibc ≥ 2.36 loader).
    pub glibc_abi_dt_relr: bool,
    /// Versioned undefined symbols, in symbol-table order (for loader simulation).
    pub versioned_undefined: Vec<VersionedSymbol>,
    /// Undefined dynamic symbols without a version.
    pub unversioned_undefined: Vec<UndefinedSymbol>,
    /// Versions this object defines (libraries only).
    pub version_definitions: Vec<String>,
    /// Its own definitions that its relocations use but musl's lookup skips — hidden-version ones
    /// (`name@VER`), IFUNCs, value 0: musl looks them up like any symbol and fails unless another
    /// object defines them. (The name is older than the IFUNC case.) Filled when exports are read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hidden_self_refs: Vec<String>,
    /// Uses IRELATIVE (IFUNC) relocations, which musl's loader does not support. Filled when
    /// exports are read for a loader simulation.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub irelative: bool,
    /// Why glibc's loader will not map this file (`object file has no dynamic section`), when it
    /// will not: the program headers describe no loadable object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub glibc_refuses: Option<String>,
    /// Why musl's loader crashes mapping this file, when it does (a malformed segment layout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub musl_crashes: Option<String>,
    pub bind_now: bool,
    pub dt_relr: bool,
    /// `Linux 3.2.0` from .note.ABI-tag.
    pub abi_tag: Option<String>,
    /// x86-64 ISA levels from the GNU property note.
    pub x86_isa_needed: Vec<String>,
}

/// How the profile cache encodes a [`BinaryProfile`]: every field, also those the JSON output
/// leaves out when empty — a binary format has no field names to tell an omitted field by. (serde's
/// remote derive: a field added to `BinaryProfile` and not here does not compile.)
#[derive(Serialize)]
#[serde(remote = "BinaryProfile")]
struct CompleteProfile {
    pub class: String,
    pub endian: String,
    pub machine: String,
    pub e_machine: u16,
    pub kind: Kind,
    pub stripped: bool,
    pub interpreter: Option<String>,
    pub libc: Libc,
    pub needed: Vec<String>,
    pub soname: Option<String>,
    pub rpath: Vec<String>,
    pub runpath: Vec<String>,
    pub version_needs: Vec<LibraryNeeds>,
    pub highest_versions: Vec<HighestVersion>,
    pub glibc_private: Vec<Name>,
    pub glibc_abi_dt_relr: bool,
    pub versioned_undefined: Vec<VersionedSymbol>,
    pub unversioned_undefined: Vec<UndefinedSymbol>,
    pub version_definitions: Vec<String>,
    pub hidden_self_refs: Vec<String>,
    pub irelative: bool,
    pub glibc_refuses: Option<String>,
    pub musl_crashes: Option<String>,
    pub bind_now: bool,
    pub dt_relr: bool,
    pub abi_tag: Option<String>,
    pub x86_isa_needed: Vec<String>,
}

/// A profile to encode completely ([`CompleteProfile`]).
pub struct Complete<'a>(pub &'a BinaryProfile);

impl Serialize for Complete<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        CompleteProfile::serialize(self.0, s)
    }
}

impl BinaryProfile {
    /// An x86-64 ELF64 profile with nothing in it but its kind: the start of profiles made up from
    /// facts rather than read from a file (the offline catalog, tests).
    pub fn empty(kind: Kind) -> BinaryProfile {
        BinaryProfile {
            class: "elf64".into(),
            endian: "little".into(),
            machine: "x86-64".into(),
            e_machine: 62,
            kind,
            stripped: true,
            interpreter: None,
            libc: Libc {
                flavour: LibcFlavour::Unknown,
                evidence: vec![],
            },
            needed: vec![],
            soname: None,
            rpath: vec![],
            runpath: vec![],
            version_needs: vec![],
            highest_versions: vec![],
            glibc_private: vec![],
            glibc_abi_dt_relr: false,
            versioned_undefined: vec![],
            unversioned_undefined: vec![],
            version_definitions: vec![],
            hidden_self_refs: vec![],
            irelative: false,
            glibc_refuses: None,
            musl_crashes: None,
            bind_now: false,
            dt_relr: false,
            abi_tag: None,
            x86_isa_needed: vec![],
        }
    }

    pub fn highest(&self, family: &str) -> Option<&HighestVersion> {
        self.highest_versions.iter().find(|h| h.family == family)
    }
    /// `2.34` when the file needs GLIBC_2.34 at most.
    pub fn glibc_min(&self) -> Option<&str> {
        self.highest("GLIBC")
            .and_then(|h| version::glibc_number(&h.version))
    }
}

fn machine_name(m: u16) -> String {
    use goblin::elf::header::*;
    match m {
        EM_X86_64 => "x86-64".into(),
        EM_386 => "i386".into(),
        EM_AARCH64 => "aarch64".into(),
        EM_ARM => "arm".into(),
        EM_RISCV => "riscv".into(),
        EM_PPC64 => "ppc64".into(),
        EM_PPC => "ppc".into(),
        EM_S390 => "s390".into(),
        EM_MIPS => "mips".into(),
        258 => "loongarch".into(),
        other => format!(
            "{} ({other})",
            machine_to_str(other)
                .trim_start_matches("EM_")
                .to_lowercase()
        ),
    }
}

/// Is this path a glibc dynamic loader name (`ld-linux-x86-64.so.2`, `ld-linux.so.2`, `ld64.so.2`, …)?
pub fn is_glibc_loader(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path);
    (base.starts_with("ld-linux") || base.starts_with("ld64.so") || base == "ld.so.1")
        && base.contains(".so")
}

/// Is this path musl's loader (`ld-musl-x86_64.so.1`)?
pub fn is_musl_loader(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .unwrap_or(path)
        .starts_with("ld-musl-")
}

/// Sonames only musl provides: Alpine's `libc.musl-<arch>.so.1` and the bare `libc.so` Debian's musl-gcc links.
pub fn is_musl_libc_name(name: &str) -> bool {
    name == "libc.so" || (name.starts_with("libc.musl-") && name.ends_with(".so.1"))
}

fn classify_libc(raw: &Raw, kind: Kind) -> Libc {
    let mut glibc = Vec::new();
    let mut musl = Vec::new();
    if let Some(i) = &raw.interpreter {
        if is_musl_loader(i) {
            musl.push(format!("interpreter {i}"));
        } else if is_glibc_loader(i) {
            glibc.push(format!("interpreter {i}"));
        }
    }
    for n in &raw.needed {
        if n == "libc.so.6" {
            glibc.push("needs libc.so.6".to_string());
        } else if is_musl_libc_name(n) {
            musl.push(format!("needs {n} (no version suffix)"));
        }
    }
    if raw
        .verneed
        .iter()
        .any(|(_, vs)| vs.iter().any(|(v, _)| v.starts_with("GLIBC_")))
    {
        glibc.push("needs GLIBC_ symbol versions".to_string());
    }
    let interp_musl = raw.interpreter.as_deref().is_some_and(is_musl_loader);
    if !musl.is_empty() && (interp_musl || glibc.is_empty()) {
        return Libc {
            flavour: LibcFlavour::Musl,
            evidence: musl,
        };
    }
    if !glibc.is_empty() {
        return Libc {
            flavour: LibcFlavour::Glibc,
            evidence: glibc,
        };
    }
    if matches!(kind, Kind::Static | Kind::StaticPie) {
        return Libc {
            flavour: LibcFlavour::Static,
            evidence: vec!["no interpreter and no needed libraries".into()],
        };
    }
    let why = match &raw.interpreter {
        Some(i) => format!("unrecognised interpreter {i}"),
        None if raw.needed.is_empty() => "no libc dependency".to_string(),
        None => "no libc among the needed libraries".to_string(),
    };
    Libc {
        flavour: LibcFlavour::Unknown,
        evidence: vec![why],
    }
}

fn classify_kind(raw: &Raw) -> Kind {
    use goblin::elf::dynamic::DF_1_PIE;
    use goblin::elf::header::*;
    match raw.e_type {
        ET_REL => Kind::Relocatable,
        ET_CORE => Kind::Core,
        ET_EXEC if raw.interpreter.is_some() => Kind::Executable,
        ET_EXEC => Kind::Static,
        ET_DYN => {
            let pie_flag = raw.flags_1 & DF_1_PIE != 0;
            match (&raw.interpreter, pie_flag) {
                (Some(_), true) => Kind::Pie,
                (Some(_), false) if raw.soname.is_none() => Kind::Pie,
                (None, true) => Kind::StaticPie,
                _ => Kind::SharedObject,
            }
        }
        _ => Kind::Other,
    }
}

/// Interpret what the parser read: the file's kind and libc, its version needs and the symbols
/// behind them.
pub(crate) fn build(raw: Raw) -> BinaryProfile {
    let kind = classify_kind(&raw);
    let libc = classify_libc(&raw, kind);
    let version_needs = version_needs(&raw);
    let highest = highest_versions(&version_needs);
    let glibc_private = glibc_private(&raw);
    let glibc_abi_dt_relr = raw
        .verneed
        .iter()
        .any(|(_, vs)| vs.iter().any(|(v, _)| v == "GLIBC_ABI_DT_RELR"));
    let bind_now = binds_now(&raw);
    let (versioned_undefined, unversioned_undefined) = split_undefined(raw.undefined, &raw.needs);

    BinaryProfile {
        class: if raw.elf64 { "elf64" } else { "elf32" }.into(),
        endian: if raw.little { "little" } else { "big" }.into(),
        machine: machine_name(raw.machine),
        e_machine: raw.machine,
        kind,
        stripped: !raw.has_symtab,
        interpreter: raw.interpreter,
        libc,
        needed: raw.needed,
        soname: raw.soname,
        rpath: raw.rpath,
        runpath: raw.runpath,
        version_needs,
        highest_versions: highest,
        glibc_private,
        glibc_abi_dt_relr,
        versioned_undefined,
        unversioned_undefined,
        version_definitions: raw.verdefs,
        hidden_self_refs: raw.hidden_self_refs,
        irelative: raw.irelative,
        glibc_refuses: raw.glibc_refuses.map(String::from),
        musl_crashes: raw.musl_crashes.map(String::from),
        bind_now,
        dt_relr: raw.dt_relr,
        abi_tag: raw.notes.abi_tag,
        x86_isa_needed: raw.notes.x86_isa_needed,
    }
}

/// DT_BIND_NOW, DF_BIND_NOW or DF_1_NOW: every symbol is bound at load time.
fn binds_now(raw: &Raw) -> bool {
    use goblin::elf::dynamic::{DF_1_NOW, DF_BIND_NOW};
    raw.bind_now_tag || raw.flags & DF_BIND_NOW != 0 || raw.flags_1 & DF_1_NOW != 0
}

/// Each needed library with its versions (sorted oldest first) and the symbols bound to each.
fn version_needs(raw: &Raw) -> Vec<LibraryNeeds> {
    let (same_as, mut bound) = symbols_per_need(raw);
    let listed_twice = |k: usize| same_as.iter().filter(|&&j| j == same_as[k]).count() > 1;
    let mut k = 0;
    let mut version_needs: Vec<LibraryNeeds> = raw
        .verneed
        .iter()
        .map(|(lib, vs)| LibraryNeeds {
            library: lib.clone(),
            versions: vs
                .iter()
                .map(|(v, weak)| {
                    let symbols = if listed_twice(k) {
                        bound[same_as[k]].clone()
                    } else {
                        std::mem::take(&mut bound[k])
                    };
                    k += 1;
                    VersionNeed {
                        version: v.clone(),
                        weak: *weak,
                        symbols,
                    }
                })
                .collect(),
        })
        .collect();
    for l in &mut version_needs {
        l.versions
            .sort_by(|a, b| version::compare(&a.version, &b.version));
    }
    version_needs
}

/// The symbols bound to each (library, version) of `raw.needs`, sorted, in one pass over the
/// undefined symbols. A pair listed twice (never seen in practice) gets the symbols of both, in
/// each place: `same_as` maps every index to the first of its pair, where they are collected.
fn symbols_per_need(raw: &Raw) -> (Vec<usize>, Vec<Vec<Name>>) {
    let same_as: Vec<usize> = (0..raw.needs.len())
        .map(|i| (0..i).find(|&j| raw.needs[j] == raw.needs[i]).unwrap_or(i))
        .collect();
    let mut sizes = vec![0usize; raw.needs.len()];
    for k in raw.undefined.iter().filter_map(|u| u.version) {
        sizes[same_as[k]] += 1;
    }
    let mut bound: Vec<Vec<Name>> = sizes.into_iter().map(Vec::with_capacity).collect();
    for u in &raw.undefined {
        if let Some(k) = u.version {
            bound[same_as[k]].push(u.name.clone());
        }
    }
    for b in &mut bound {
        b.sort_unstable();
        b.dedup();
    }
    (same_as, bound)
}

/// The highest version of each numbered family (GLIBC first, then GLIBCXX, CXXABI, GCC, then
/// the rest by name) and the symbols that need it.
fn highest_versions(version_needs: &[LibraryNeeds]) -> Vec<HighestVersion> {
    // By reference first: one copy of the winner's symbols at the end, not one per better
    // version met on the way.
    let mut best: Vec<(&str, &LibraryNeeds, Vec<&VersionNeed>)> = Vec::new();
    for l in version_needs {
        for v in &l.versions {
            let fam = version::family(&v.version);
            if fam == v.version || !version::is_numeric(&v.version, fam) {
                continue;
            }
            let family = fam.trim_end_matches('_');
            match best.iter_mut().find(|b| b.0 == family) {
                Some(b) => match version::compare(&v.version, &b.2[0].version) {
                    std::cmp::Ordering::Greater => *b = (family, l, vec![v]),
                    std::cmp::Ordering::Equal => b.2.push(v),
                    std::cmp::Ordering::Less => {}
                },
                None => best.push((family, l, vec![v])),
            }
        }
    }
    let mut highest: Vec<HighestVersion> = best
        .into_iter()
        .map(|(family, l, vs)| {
            let mut symbols: Vec<Name> =
                vs.iter().flat_map(|v| v.symbols.iter().cloned()).collect();
            if vs.len() > 1 {
                symbols.sort_unstable();
                symbols.dedup();
            }
            HighestVersion {
                family: family.to_string(),
                version: vs[0].version.clone(),
                library: l.library.clone(),
                symbols,
            }
        })
        .collect();
    let rank = |f: &str| {
        ["GLIBC", "GLIBCXX", "CXXABI", "GCC"]
            .iter()
            .position(|x| *x == f)
            .unwrap_or(99)
    };
    highest.sort_by(|a, b| {
        rank(&a.family)
            .cmp(&rank(&b.family))
            .then(a.family.cmp(&b.family))
    });
    highest
}

/// The undefined symbols bound to GLIBC_PRIVATE, sorted.
fn glibc_private(raw: &Raw) -> Vec<Name> {
    let mut glibc_private: Vec<Name> = raw
        .undefined
        .iter()
        .filter(|u| {
            u.version
                .is_some_and(|k| &*raw.needs[k].1 == "GLIBC_PRIVATE")
        })
        .map(|u| u.name.clone())
        .collect();
    glibc_private.sort_unstable();
    glibc_private
}

/// The undefined symbols, versioned (in symbol-table order, with their shared library and
/// version names) and unversioned (sorted, duplicates dropped).
fn split_undefined(
    undefined: Vec<RawUndefined>,
    needs: &[(Name, Name)],
) -> (Vec<VersionedSymbol>, Vec<UndefinedSymbol>) {
    // Sized up front: these are the biggest lists of a profile, and grown they would be copied.
    let versioned = undefined.iter().filter(|u| u.version.is_some()).count();
    let mut versioned_undefined = Vec::with_capacity(versioned);
    let mut unversioned_undefined: Vec<UndefinedSymbol> =
        Vec::with_capacity(undefined.len() - versioned);
    for u in undefined {
        match u.version {
            Some(k) => versioned_undefined.push(VersionedSymbol {
                name: u.name,
                weak: u.weak,
                library: needs[k].0.clone(),
                version: needs[k].1.clone(),
            }),
            None => unversioned_undefined.push(UndefinedSymbol {
                name: u.name,
                weak: u.weak,
            }),
        }
    }
    unversioned_undefined.sort_by(|a, b| a.name.cmp(&b.name));
    unversioned_undefined.dedup();
    (versioned_undefined, unversioned_undefined)
}

/// Expand `$ORIGIN` / `${ORIGIN}` in an RPATH/RUNPATH entry against the file's directory.
pub fn expand_origin(entry: &str, origin: &str) -> String {
    entry
        .replace("${ORIGIN}", origin)
        .replace("$ORIGIN", origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loader_names() {
        assert!(is_glibc_loader("/lib64/ld-linux-x86-64.so.2"));
        assert!(is_glibc_loader("/lib/ld-linux-aarch64.so.1"));
        assert!(is_glibc_loader("/lib/ld-linux.so.2"));
        assert!(!is_glibc_loader("/lib/ld-musl-x86_64.so.1"));
        assert!(is_musl_loader("/lib/ld-musl-x86_64.so.1"));
        assert!(is_musl_libc_name("libc.musl-x86_64.so.1"));
        assert!(is_musl_libc_name("libc.so"));
        assert!(!is_musl_libc_name("libc.so.6"));
    }

    #[test]
    fn origin_expansion() {
        assert_eq!(expand_origin("$ORIGIN/lib", "/opt/app"), "/opt/app/lib");
        assert_eq!(
            expand_origin("${ORIGIN}/../lib", "/opt/app/bin"),
            "/opt/app/bin/../lib"
        );
        assert_eq!(expand_origin("/usr/lib", "/x"), "/usr/lib");
    }
}
