//! Functions whose behaviour differs between musl and glibc (or that need something of the base
//! image), one table, and which of them a binary uses: its undefined dynamic symbols, or for a
//! static executable the functions its `.symtab` defines (a static program carries its libc).
//!
//! Sources: the musl wiki's "Functional differences from glibc", the glibc manual.

use serde::{Deserialize, Serialize};

use super::super::bytes::word;
use super::layout::{Layout, SHT_SYMTAB};

/// What a group of functions asks of the base image, for grouping in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Threads,
    Resolver,
    Locale,
    Iconv,
    DynamicLoading,
    Users,
    Regex,
    Shell,
    TempFiles,
    Certificates,
}

impl Topic {
    /// A short label for a report line.
    pub fn label(self) -> &'static str {
        match self {
            Topic::Threads => "threads",
            Topic::Resolver => "resolver",
            Topic::Locale => "locale",
            Topic::Iconv => "iconv",
            Topic::DynamicLoading => "dlopen",
            Topic::Users => "users",
            Topic::Regex => "regex",
            Topic::Shell => "shell",
            Topic::TempFiles => "temp files",
            Topic::Certificates => "CA certificates",
        }
    }
}

/// One function with a known difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Difference {
    pub name: &'static str,
    pub topic: Topic,
    /// The difference, in one line.
    pub why: &'static str,
}

const fn d(name: &'static str, topic: Topic, why: &'static str) -> Difference {
    Difference { name, topic, why }
}

use Topic::*;

const STACK: &str = "musl's default thread stack is 128 KiB (glibc: the stack rlimit, 8 MiB), raised only by PT_GNU_STACK (-Wl,-z,stack-size=N) or per thread";
const RESOLVER: &str = "musl's resolver: a name with ndots dots never tries the search list, all nameservers are asked at once, TCP fallback only from 1.2.4; no nsswitch.conf";
const RES: &str = "musl implements only res_init, res_query, res_search, res_mkquery and res_send, over its own resolver; glibc's res_n* state interface is missing";
const COLLATION: &str = "no collation on musl: strings compare by code point in every locale";
const LOCALES: &str = "musl has C and C.UTF-8 only (no locale data to install); glibc needs locale data (locale-archive) for any other locale";
const NSS: &str = "no NSS on musl: only /etc/passwd and /etc/group; glibc follows /etc/nsswitch.conf (LDAP, systemd users, ...); the user must exist in the base";
const GNU_REGEX: &str = "GNU regex interface: glibc only";
const SHELL: &str = "runs /bin/sh: distroless and scratch-like bases have none";
const TEMP: &str = "creates files in /tmp (or $TMPDIR): the base must have a writable /tmp";
const CA: &str = "loads CA certificates from OpenSSL's default file and directory: the base needs a CA bundle there";

/// Sorted by name (a test checks): looked up by binary search.
const DIFFERENCES: &[Difference] = &[
    d(
        "SSL_CTX_load_verify_locations",
        Certificates,
        "loads CA certificates from a path the program names: the base must have it",
    ),
    d("SSL_CTX_set_default_verify_paths", Certificates, CA),
    d("X509_STORE_set_default_paths", Certificates, CA),
    d(
        "dlclose",
        DynamicLoading,
        "a no-op on musl: the library stays loaded and its destructors do not run",
    ),
    d(
        "dlopen",
        DynamicLoading,
        "loads a library named only at run time: the base must have it, and no DT_NEEDED says so",
    ),
    d("getaddrinfo", Resolver, RESOLVER),
    d("getgrgid", Users, NSS),
    d("getgrgid_r", Users, NSS),
    d("getgrnam", Users, NSS),
    d("getgrnam_r", Users, NSS),
    d("getgrouplist", Users, NSS),
    d("gethostbyaddr", Resolver, RESOLVER),
    d("gethostbyname", Resolver, RESOLVER),
    d("gethostbyname2", Resolver, RESOLVER),
    d("gethostbyname_r", Resolver, RESOLVER),
    d("getpwent", Users, NSS),
    d("getpwnam", Users, NSS),
    d("getpwnam_r", Users, NSS),
    d("getpwuid", Users, NSS),
    d("getpwuid_r", Users, NSS),
    d(
        "iconv_open",
        Iconv,
        "musl: a //TRANSLIT or //IGNORE suffix fails with EINVAL and unconvertible characters become '*'; glibc loads gconv modules from the base",
    ),
    d("initgroups", Users, NSS),
    d("mkdtemp", TempFiles, TEMP),
    d("mkstemp", TempFiles, TEMP),
    d("mkstemps", TempFiles, TEMP),
    d("newlocale", Locale, LOCALES),
    d("popen", Shell, SHELL),
    d(
        "pthread_attr_setstack",
        Threads,
        "the program gives its threads stacks of its own: the libc default does not apply to them",
    ),
    d(
        "pthread_attr_setstacksize",
        Threads,
        "the program sizes thread stacks itself: musl's small default does not apply to those threads",
    ),
    d("pthread_create", Threads, STACK),
    d("re_compile_pattern", Regex, GNU_REGEX),
    d("re_search", Regex, GNU_REGEX),
    d(
        "regcomp",
        Regex,
        "musl's regex (TRE) is POSIX only: no GNU extensions such as \\w, \\s, \\b or \\<",
    ),
    d("res_init", Resolver, RES),
    d("res_mkquery", Resolver, RES),
    d("res_ninit", Resolver, RES),
    d("res_nquery", Resolver, RES),
    d("res_nsearch", Resolver, RES),
    d("res_query", Resolver, RES),
    d("res_search", Resolver, RES),
    d("res_send", Resolver, RES),
    d("setlocale", Locale, LOCALES),
    d("strcoll", Locale, COLLATION),
    d("strcoll_l", Locale, COLLATION),
    d("strxfrm", Locale, COLLATION),
    d("strxfrm_l", Locale, COLLATION),
    d("system", Shell, SHELL),
    d("tempnam", TempFiles, TEMP),
    d("tmpfile", TempFiles, TEMP),
    d("tmpnam", TempFiles, TEMP),
];

/// The entry of `name` or of the function it is another name of: glibc's `<resolv.h>` binds
/// `res_init` and friends to `__res_*`, both libcs define internal `__` names beside the public
/// ones (`__pthread_create`, `__strcoll_l`), and large-file builds call `mkstemp64`, `tmpfile64`.
pub fn difference(name: &str) -> Option<&'static Difference> {
    let bare = name.strip_prefix("__").unwrap_or(name);
    if !could_be_listed(bare) {
        return None;
    }
    exact(bare).or_else(|| exact(bare.strip_suffix("64")?))
}

/// The first bytes of the table's names: most symbols a large library imports (C++ names start
/// with `_Z`) are rejected by one lookup instead of a search.
const FIRST_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < DIFFERENCES.len() {
        t[DIFFERENCES[i].name.as_bytes()[0] as usize] = true;
        i += 1;
    }
    t
};

/// The longest name of the table, with a `64` suffix.
const LONGEST: usize = 34;

fn could_be_listed(name: &str) -> bool {
    name.len() <= LONGEST
        && name
            .as_bytes()
            .first()
            .is_some_and(|&b| FIRST_BYTES[b as usize])
}

fn exact(name: &str) -> Option<&'static Difference> {
    DIFFERENCES
        .binary_search_by(|d| d.name.cmp(name))
        .ok()
        .map(|i| &DIFFERENCES[i])
}

/// The table's names among `names`, sorted and deduplicated.
pub(super) fn known<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = names
        .filter_map(difference)
        .map(|d| d.name.to_string())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// How many `.symtab` entries a static executable's scan reads at most: ten times a large static
/// program's, so that a hostile table cannot make `inspect` slow.
const MAX_SYMBOLS: usize = 4 << 20;

/// The functions a `.symtab` defines (global or weak, `STT_FUNC` or `STT_GNU_IFUNC`) that are in
/// the table; and whether the table was longer than the scan's bound.
pub(super) fn defined_in_symtab(layout: &Layout<'_>) -> (Vec<String>, bool) {
    let Some(symtab) = layout.sections.iter().find(|s| s.sh_type == SHT_SYMTAB) else {
        return (Vec::new(), false);
    };
    let strings = layout
        .sections
        .get(symtab.link as usize)
        .map_or(&[][..], |s| layout.data(s));
    let h = layout.header;
    let entry = if h.elf64 { 24 } else { 16 };
    let table = layout.data(symtab);
    let cut = table.len() / entry > MAX_SYMBOLS;
    let names = table
        .chunks_exact(entry)
        .take(MAX_SYMBOLS)
        .filter_map(|e| defined_function(e, h.elf64, h.little, strings));
    (known(names), cut)
}

/// The name of a symbol table entry that defines a global or weak function.
fn defined_function<'a>(e: &[u8], elf64: bool, little: bool, strings: &'a [u8]) -> Option<&'a str> {
    let (info_at, shndx_at) = if elf64 { (4, 6) } else { (12, 14) };
    let info = *e.get(info_at)?;
    let (bind, typ) = (info >> 4, info & 0xf);
    let shndx = word(e, shndx_at, 2, little)?;
    // STB_GLOBAL, STB_WEAK; STT_FUNC, STT_GNU_IFUNC; SHN_UNDEF
    if !matches!(bind, 1 | 2) || !matches!(typ, 2 | 10) || shndx == 0 {
        return None;
    }
    let at = usize::try_from(word(e, 0, 4, little)?).ok()?;
    let rest = strings.get(at..)?;
    // The longest name in the table is short: a longer one is not worth reading.
    let name = &rest[..memchr::memchr(0, &rest[..rest.len().min(40)])?];
    std::str::from_utf8(name).ok()
}

#[cfg(test)]
mod tests {
    use super::super::test_elf::TestElf;
    use super::*;

    #[test]
    fn the_table_is_sorted_and_every_line_says_why() {
        assert!(DIFFERENCES.windows(2).all(|w| w[0].name < w[1].name));
        assert!(DIFFERENCES.iter().all(|d| d.why.len() > 20));
        assert!(DIFFERENCES.iter().all(|d| d.name.len() + 2 <= LONGEST));
    }

    #[test]
    fn other_names_of_the_same_function() {
        assert_eq!(difference("__res_init").unwrap().name, "res_init");
        assert_eq!(difference("__res_nquery").unwrap().name, "res_nquery");
        assert_eq!(difference("mkstemp64").unwrap().name, "mkstemp");
        assert_eq!(difference("tmpfile64").unwrap().name, "tmpfile");
        assert_eq!(
            difference("__pthread_create").unwrap().name,
            "pthread_create"
        );
        assert_eq!(difference("pthread_create").unwrap().topic, Topic::Threads);
        assert!(difference("printf").is_none());
        assert!(difference("pthread_create2").is_none());
        assert!(difference("").is_none());
        assert!(difference("64").is_none());
    }

    #[test]
    fn known_sorts_and_merges_aliases() {
        let got = known(
            [
                "puts",
                "__res_query",
                "res_query",
                "pthread_create",
                "mkstemp64",
            ]
            .into_iter(),
        );
        assert_eq!(got, ["mkstemp", "pthread_create", "res_query"]);
    }

    #[test]
    fn defined_functions_of_a_symtab_in_every_class_and_byte_order() {
        for (elf64, little) in [(true, true), (true, false), (false, true), (false, false)] {
            let f = TestElf::new(elf64, little)
                .symtab(&[
                    ("pthread_create", true),
                    ("getaddrinfo", false),
                    ("main", true),
                    ("__strcoll_l", true),
                ])
                .build();
            let l = Layout::read(&f).unwrap();
            assert_eq!(
                defined_in_symtab(&l),
                (
                    vec!["pthread_create".to_string(), "strcoll_l".to_string()],
                    false
                ),
                "elf64={elf64} little={little}"
            );
        }
    }
}
