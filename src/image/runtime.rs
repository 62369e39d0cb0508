//! What a base provides a program at run time, read from its files: CA bundle, tzdata, locale
//! data, gconv modules, NSS configuration, users and groups, `/tmp`.
//!
//! [`Collector`] is fed the image's entries by the profile builder (see
//! [`image::base`](super::base)) as they stream past: the existence of the few paths these facts
//! depend on, the bytes of `/etc/passwd` and `/etc/group`, the mode of the top directories.
//! Links are resolved at the end, once every link of the image is known (the caller resolves
//! them, inside the image). No I/O here, and nothing here fails: a missing, dangling or malformed
//! file is a fact.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};

/// A base's run-time facts (see the module docs). Absent or malformed files are facts, not errors.
/// A fact left out of a hand-written catalog entry reads as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RuntimeFacts {
    /// The first CA bundle file found among the paths OpenSSL, Go and rustls read.
    pub ca_bundle: Option<String>,
    /// Zone files under `/usr/share/zoneinfo` (0: no tzdata).
    pub zoneinfo: u32,
    /// `/etc/localtime` exists.
    pub localtime: bool,
    /// glibc's `/usr/lib/locale/locale-archive` exists.
    pub locale_archive: bool,
    /// Compiled locale directories under `/usr/lib/locale` (`C.utf8`), sorted.
    pub locales: Vec<String>,
    /// glibc's `gconv-modules` (iconv beyond the built-in charsets) exists.
    pub gconv: bool,
    /// `/etc/nsswitch.conf` exists.
    pub nsswitch: bool,
    /// `/etc/passwd`.
    pub passwd: Accounts,
    /// `/etc/group`.
    pub group: Accounts,
    /// The mode of `/tmp` (`0o1777`), when it exists as a directory.
    pub tmp_mode: Option<u32>,
    /// The owner (uid) of `/tmp`: a `0700` `/tmp` is writable by its owner only.
    pub tmp_owner: Option<u32>,
    /// Facts a hand-written catalog entry could not establish, by field name (`ca_bundle`,
    /// `zoneinfo`, `locales`, `gconv`, `passwd`, `tmp`, ...): unknown, not absent. Always empty
    /// for a profile read from an image's files.
    pub unknown: Vec<String>,
}

impl RuntimeFacts {
    /// Facts of a base nobody entered: every one unknown, none absent.
    pub fn all_unknown() -> RuntimeFacts {
        let fields = [
            "ca_bundle",
            "zoneinfo",
            "localtime",
            "locales",
            "gconv",
            "nsswitch",
            "passwd",
            "group",
            "tmp",
        ];
        RuntimeFacts {
            unknown: fields.iter().map(|f| f.to_string()).collect(),
            ..RuntimeFacts::default()
        }
    }

    /// Is the fact named `field` established (read from files, or entered with a source)?
    pub fn knows(&self, field: &str) -> bool {
        !self.unknown.iter().any(|u| u == field)
    }
}

/// The entries of an `/etc/passwd` or `/etc/group`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Accounts {
    /// The file exists.
    pub present: bool,
    /// (name, id) of each well-formed line, in file order.
    pub entries: Vec<(String, u32)>,
    /// Lines that are neither well-formed, blank nor comments.
    pub malformed: u32,
    /// The file exists but was not read (larger than [`MAX_ACCOUNTS_BYTES`], or a link to
    /// another file): its entries are unknown, not empty.
    pub unread: bool,
}

impl Accounts {
    /// The name of the entry with this id, if the file has one.
    pub fn name_of(&self, id: u32) -> Option<&str> {
        self.entries
            .iter()
            .find(|(_, i)| *i == id)
            .map(|(n, _)| n.as_str())
    }
}

/// `/etc/passwd` and `/etc/group` larger than this are not read (a real one is a few KiB; the
/// profile is built one file in memory at a time).
pub const MAX_ACCOUNTS_BYTES: u64 = 1 << 20;

const PASSWD: &str = "/etc/passwd";
const GROUP: &str = "/etc/group";
const ZONEINFO: &str = "/usr/share/zoneinfo";
const LOCALE_DIR: &str = "/usr/lib/locale";

/// CA bundle files, in the order the libraries try them. Go's `crypto/x509/root_linux.go`
/// `certFiles` and openssl-probe's `CERTIFICATE_FILE_NAMES` (which rustls-native-certs and
/// native-tls use) name the same `/etc` files; OpenSSL itself reads `OPENSSLDIR/cert.pem`
/// (`/usr/lib/ssl` on Debian and Ubuntu, `/etc/pki/tls` on Red Hat, `/etc/ssl` on Alpine).
pub const CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/opt/etc/ssl/certs/ca-certificates.crt",
    "/usr/lib/ssl/cert.pem",
    "/etc/pki/tls/cert.pem",
];

/// Collects [`RuntimeFacts`] from an image's entries (see the module docs).
#[derive(Debug, Default)]
pub struct Collector {
    /// Regular files at the paths the facts depend on (see [`watched`]).
    files: HashSet<String>,
    /// Links (symbolic or hard) at those paths; resolved in [`finish`](Self::finish).
    links: Vec<String>,
    /// Mode and owner of the directories near the root, where `/tmp` or its link target is.
    dirs: HashMap<String, (Option<u32>, Option<u32>)>,
    passwd: Option<Accounts>,
    group: Option<Accounts>,
}

/// Could this path decide a fact? Only these are remembered: an image has tens of thousands of
/// files, and a CA bundle's or `/etc/localtime`'s link points into these places.
fn watched(path: &str) -> bool {
    path.starts_with("/etc/")
        || path.starts_with("/usr/share/zoneinfo/")
        || path.starts_with("/usr/lib/locale/")
        || path.starts_with("/usr/lib/ssl/")
        || path.starts_with("/usr/share/ca-certificates/")
        || path.starts_with("/opt/etc/ssl/")
        || is_gconv_config(path)
}

/// glibc's iconv module configuration: `gconv-modules`, its cache, or `gconv-modules.d/*.conf`,
/// in a `gconv` directory of a library directory (`/usr/lib/x86_64-linux-gnu/gconv` on Debian,
/// `/usr/lib64/gconv` on Red Hat, `/usr/lib/gconv` elsewhere).
fn is_gconv_config(path: &str) -> bool {
    (path.starts_with("/usr/lib") || path.starts_with("/lib"))
        && path.contains("/gconv/gconv-modules")
}

/// Is `rel` (a path below the zoneinfo directory) a zone? Zone names start with a capital
/// (`UTC`, `America/New_York`); the tables beside them do not (`zone.tab`, `tzdata.zi`,
/// `leapseconds`, `posixrules`). `posix/` and `right/` hold second copies of every zone.
fn is_zone(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    !rel.starts_with("posix/")
        && !rel.starts_with("right/")
        && name.starts_with(|c: char| c.is_ascii_uppercase())
}

/// Directories this close to the root are remembered with their mode (`/tmp`, `/var/tmp`).
fn near_root(path: &str) -> bool {
    path.matches('/').count() <= 2
}

impl Collector {
    /// Does the collector want this regular file's bytes?
    pub fn wants(path: &str, size: u64) -> bool {
        (path == PASSWD || path == GROUP) && size <= MAX_ACCOUNTS_BYTES
    }

    /// A regular file exists at `path` (normalised).
    pub fn add_file(&mut self, path: &str) {
        if watched(path) {
            self.files.insert(path.to_string());
        }
    }

    /// A symbolic or hard link exists at `path` (normalised); where it points is the caller's.
    pub fn add_link(&mut self, path: &str) {
        if watched(path) {
            self.links.push(path.to_string());
        }
    }

    /// A directory with its permission bits and owner, as far as the source tells them.
    pub fn add_dir(&mut self, path: &str, mode: Option<u32>, owner: Option<u32>) {
        if near_root(path) {
            self.dirs
                .insert(path.to_string(), (mode.map(|m| m & 0o7777), owner));
        }
    }

    /// The bytes of a file [`wants`](Self::wants) asked for.
    pub fn add_content(&mut self, path: &str, bytes: &[u8]) {
        match path {
            PASSWD => self.passwd = Some(parse_passwd(bytes)),
            GROUP => self.group = Some(parse_group(bytes)),
            _ => {}
        }
    }

    /// The facts, with `resolve` following an image path through the image's links (`None` for
    /// a link loop).
    pub fn finish(mut self, resolve: impl Fn(&str) -> Option<String>) -> RuntimeFacts {
        let exists = |path: &str| resolve(path).is_some_and(|real| self.files.contains(&real));
        let (tmp_mode, tmp_owner) = self.tmp(&resolve);
        RuntimeFacts {
            ca_bundle: CA_BUNDLES.iter().find(|p| exists(p)).map(|p| p.to_string()),
            zoneinfo: self.zone_count(&resolve),
            localtime: exists("/etc/localtime"),
            locale_archive: exists("/usr/lib/locale/locale-archive"),
            locales: self.locale_dirs(&resolve),
            gconv: self.files.iter().any(|f| is_gconv_config(f)),
            nsswitch: exists("/etc/nsswitch.conf"),
            passwd: accounts_at(PASSWD, self.passwd.take(), &resolve, &self.files),
            group: accounts_at(GROUP, self.group.take(), &resolve, &self.files),
            tmp_mode,
            tmp_owner,
            unknown: vec![],
        }
    }

    /// Mode and owner of the directory `/tmp` is, or links to (`/tmp -> /var/tmp`).
    fn tmp(&self, resolve: &impl Fn(&str) -> Option<String>) -> (Option<u32>, Option<u32>) {
        resolve("/tmp")
            .and_then(|real| self.dirs.get(&real).copied())
            .unwrap_or_default()
    }

    /// Zone files and links to zone files under the zoneinfo directory.
    fn zone_count(&self, resolve: &impl Fn(&str) -> Option<String>) -> u32 {
        let Some(dir) = resolve(ZONEINFO) else {
            return 0;
        };
        let prefix = format!("{dir}/");
        let zone = |p: &String| p.strip_prefix(&prefix).is_some_and(is_zone);
        let files = self.files.iter().filter(|p| zone(p)).count();
        let links = self
            .links
            .iter()
            .filter(|p| zone(p))
            .filter(|p| resolve(p).is_some_and(|real| self.files.contains(&real)))
            .count();
        u32::try_from(files + links).unwrap_or(u32::MAX)
    }

    /// Directories under the locale directory that hold files (`C.utf8/LC_CTYPE`), and links
    /// there to such directories (`C.UTF-8 -> C.utf8`).
    fn locale_dirs(&self, resolve: &impl Fn(&str) -> Option<String>) -> Vec<String> {
        let Some(dir) = resolve(LOCALE_DIR) else {
            return vec![];
        };
        let prefix = format!("{dir}/");
        let holds_files = |d: &str| {
            let inner = format!("{d}/");
            self.files.iter().any(|f| f.starts_with(&inner))
        };
        let mut names = BTreeSet::new();
        for f in &self.files {
            if let Some((name, _)) = f.strip_prefix(&prefix).and_then(|r| r.split_once('/')) {
                names.insert(name.to_string());
            }
        }
        for l in &self.links {
            let Some(name) = l.strip_prefix(&prefix).filter(|n| !n.contains('/')) else {
                continue;
            };
            if resolve(l).is_some_and(|real| holds_files(&real)) {
                names.insert(name.to_string());
            }
        }
        names.into_iter().collect()
    }
}

/// The accounts file at `path`: parsed when it is a regular file there, present but unread when
/// it is a link to another file, absent otherwise (a dangling link included).
fn accounts_at(
    path: &str,
    parsed: Option<Accounts>,
    resolve: &impl Fn(&str) -> Option<String>,
    files: &HashSet<String>,
) -> Accounts {
    let real = resolve(path);
    match (real.as_deref(), parsed) {
        (Some(r), Some(accounts)) if r == path => accounts,
        (Some(r), _) if files.contains(r) => Accounts {
            present: true,
            unread: true,
            ..Accounts::default()
        },
        _ => Accounts::default(),
    }
}

/// `/etc/passwd`: `name:password:uid:gid:gecos:home:shell`.
pub fn parse_passwd(bytes: &[u8]) -> Accounts {
    parse_accounts(bytes, 7)
}

/// `/etc/group`: `name:password:gid:members`.
pub fn parse_group(bytes: &[u8]) -> Accounts {
    parse_accounts(bytes, 4)
}

/// Lines of `name:password:id:...` with at least `fields` fields, as musl's `getpwent` and
/// `getgrent` require (glibc is more lenient: what both accept is well-formed).
fn parse_accounts(bytes: &[u8], fields: usize) -> Accounts {
    let mut a = Accounts {
        present: true,
        ..Accounts::default()
    };
    for line in bytes.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if is_not_an_account(line) {
            continue;
        }
        match parse_account(line, fields) {
            Some(entry) => a.entries.push(entry),
            None => a.malformed += 1,
        }
    }
    a
}

/// Blank lines, comments, and NIS compat entries (`+`, `-name`) name no local account.
fn is_not_an_account(line: &[u8]) -> bool {
    match line.iter().find(|b| !b.is_ascii_whitespace()) {
        None => true,
        Some(b) => matches!(b, b'#' | b'+' | b'-'),
    }
}

/// (name, id) of one line, or `None` when it is malformed.
fn parse_account(line: &[u8], fields: usize) -> Option<(String, u32)> {
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(':');
    let name = parts.next().filter(|n| !n.is_empty())?;
    let id = parts.nth(1)?;
    if line.split(':').count() < fields {
        return None;
    }
    Some((name.to_string(), parse_id(id)?))
}

/// A decimal uid/gid that fits 32 bits (`4294967296` does not: the line is malformed).
fn parse_id(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// One short line of what a base provides, e.g. `CA bundle, tzdata (597 zones), C.utf8, gconv,
/// /bin/sh, /tmp 1777, users root, nobody(65534), nonroot(65532); no /etc/localtime`.
pub fn describe(f: &RuntimeFacts, shell: bool) -> String {
    // (present, how it reads when present, how its absence reads: `None` when its absence is
    // not worth a word — musl needs no locale files or gconv modules).
    let facts: [(&str, bool, String, Option<&str>); 10] = [
        (
            "ca_bundle",
            f.ca_bundle.is_some(),
            "CA bundle".into(),
            Some("CA bundle"),
        ),
        (
            "zoneinfo",
            f.zoneinfo > 0,
            format!("tzdata ({} zones)", f.zoneinfo),
            Some("tzdata"),
        ),
        (
            "localtime",
            f.localtime,
            "/etc/localtime".into(),
            Some("/etc/localtime"),
        ),
        ("locales", f.locale_archive, "locale-archive".into(), None),
        ("locales", !f.locales.is_empty(), f.locales.join(", "), None),
        ("gconv", f.gconv, "gconv".into(), None),
        ("nsswitch", f.nsswitch, "nsswitch.conf".into(), None),
        ("shell", shell, "/bin/sh".into(), Some("/bin/sh")),
        (
            "tmp",
            f.tmp_mode.is_some(),
            format!("/tmp {:o}", f.tmp_mode.unwrap_or(0)),
            Some("/tmp"),
        ),
        (
            "passwd",
            f.passwd.present,
            describe_users(&f.passwd),
            Some("/etc/passwd"),
        ),
    ];
    let has: Vec<&str> = facts
        .iter()
        .filter(|(_, present, _, _)| *present)
        .map(|(_, _, yes, _)| yes.as_str())
        .collect();
    // An unknown fact is neither had nor lacked: it is listed as unknown.
    let lacks: Vec<&str> = facts
        .iter()
        .filter(|(key, present, _, _)| !present && f.knows(key))
        .filter_map(|(_, _, _, no)| *no)
        .collect();
    let mut parts = vec![];
    if !has.is_empty() {
        parts.push(has.join(", "));
    }
    if !lacks.is_empty() {
        parts.push(format!("no {}", lacks.join(", no ")));
    }
    if !f.unknown.is_empty() {
        parts.push(format!("unknown: {}", f.unknown.join(", ")));
    }
    parts.join("; ")
}

/// `users root, nobody(65534), nonroot(65532)`: root, and the accounts a container is commonly
/// run as (nobody, distroless' nonroot, a distribution's first user at 1000 and up).
fn describe_users(p: &Accounts) -> String {
    if p.unread {
        return "/etc/passwd (not read)".into();
    }
    let mut users: Vec<String> = Vec::new();
    if let Some(name) = p.name_of(0) {
        users.push(name.to_string());
    }
    for (name, id) in &p.entries {
        if *id == 65534 || *id == 65532 || (1000..60000).contains(id) {
            users.push(format!("{name}({id})"));
        }
    }
    let mut s = if users.is_empty() {
        "/etc/passwd (no root)".to_string()
    } else {
        format!("users {}", users.join(", "))
    };
    match p.malformed {
        0 => {}
        1 => s.push_str(" (1 malformed line)"),
        n => s.push_str(&format!(" ({n} malformed lines)")),
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Facts of an image given as files, links, directories and account file contents.
    fn facts(
        files: &[&str],
        links: &[(&str, &str)],
        dirs: &[(&str, u32, u32)],
        contents: &[(&str, &[u8])],
    ) -> RuntimeFacts {
        let mut c = Collector::default();
        for f in files {
            c.add_file(f);
        }
        for (l, _) in links {
            c.add_link(l);
        }
        for (d, mode, owner) in dirs {
            c.add_dir(d, Some(*mode), Some(*owner));
        }
        for (path, bytes) in contents {
            c.add_file(path);
            assert!(Collector::wants(path, bytes.len() as u64));
            c.add_content(path, bytes);
        }
        // The image's own resolution (test modules may reach across the layout).
        let map: BTreeMap<String, String> = links
            .iter()
            .map(|(l, t)| (l.to_string(), t.to_string()))
            .collect();
        c.finish(|p| crate::image::base::resolve_in(&map, p))
    }

    #[test]
    fn an_empty_image_provides_nothing() {
        assert_eq!(facts(&[], &[], &[], &[]), RuntimeFacts::default());
    }

    #[test]
    fn every_fact_of_a_debian_like_image() {
        let f = facts(
            &[
                "/etc/ssl/certs/ca-certificates.crt",
                "/usr/share/zoneinfo/Etc/UTC",
                "/usr/share/zoneinfo/America/New_York",
                "/usr/share/zoneinfo/zone.tab",
                "/usr/share/zoneinfo/tzdata.zi",
                "/usr/share/zoneinfo/leapseconds",
                "/usr/share/zoneinfo/right/Etc/UTC",
                "/usr/lib/locale/C.utf8/LC_CTYPE",
                "/usr/lib/locale/locale-archive",
                "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.d/gconv-modules-extra.conf",
                "/etc/nsswitch.conf",
            ],
            &[
                ("/etc/localtime", "/usr/share/zoneinfo/Etc/UTC"),
                ("/usr/share/zoneinfo/UTC", "Etc/UTC"),
                ("/usr/share/zoneinfo/posix", "."),
                ("/usr/share/zoneinfo/posixrules", "America/New_York"),
                ("/usr/lib/ssl/cert.pem", "/etc/ssl/certs/ca-certificates.crt"),
            ],
            &[("/tmp", 0o41777, 0), ("/usr", 0o755, 0)],
            &[
                ("/etc/passwd", b"root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"),
                ("/etc/group", b"root:x:0:\nnogroup:x:65534:\n"),
            ],
        );
        assert_eq!(
            f,
            RuntimeFacts {
                ca_bundle: Some("/etc/ssl/certs/ca-certificates.crt".into()),
                zoneinfo: 3,
                localtime: true,
                locale_archive: true,
                locales: vec!["C.utf8".into()],
                gconv: true,
                nsswitch: true,
                passwd: Accounts {
                    present: true,
                    entries: vec![("root".into(), 0), ("nobody".into(), 65534)],
                    malformed: 0,
                    unread: false,
                },
                group: Accounts {
                    present: true,
                    entries: vec![("root".into(), 0), ("nogroup".into(), 65534)],
                    malformed: 0,
                    unread: false,
                },
                tmp_mode: Some(0o1777),
                tmp_owner: Some(0),
                unknown: vec![],
            }
        );
        assert_eq!(
            describe(&f, true),
            "CA bundle, tzdata (3 zones), /etc/localtime, locale-archive, C.utf8, gconv, \
             nsswitch.conf, /bin/sh, /tmp 1777, users root, nobody(65534)"
        );
    }

    #[test]
    fn ca_bundles_count_through_links_and_not_when_dangling() {
        // Alpine: cert.pem is a relative link to the bundle.
        let alpine = facts(
            &["/etc/ssl/certs/ca-certificates.crt"],
            &[("/etc/ssl/cert.pem", "certs/ca-certificates.crt")],
            &[],
            &[],
        );
        assert_eq!(
            alpine.ca_bundle.as_deref(),
            Some("/etc/ssl/certs/ca-certificates.crt")
        );
        // Red Hat: the Go/OpenSSL names are links into ca-trust's extracted bundle.
        let rhel = facts(
            &["/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"],
            &[(
                "/etc/pki/tls/certs/ca-bundle.crt",
                "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
            )],
            &[],
            &[],
        );
        assert_eq!(
            rhel.ca_bundle.as_deref(),
            Some("/etc/pki/tls/certs/ca-bundle.crt")
        );
        // Debian without ca-certificates but with openssl: the link dangles.
        let dangling = facts(
            &[],
            &[(
                "/usr/lib/ssl/cert.pem",
                "/etc/ssl/certs/ca-certificates.crt",
            )],
            &[],
            &[],
        );
        assert_eq!(dangling.ca_bundle, None);
        let looping = facts(&[], &[("/etc/ssl/cert.pem", "/etc/ssl/cert.pem")], &[], &[]);
        assert_eq!(looping.ca_bundle, None);
    }

    #[test]
    fn localtime_counts_when_it_resolves_to_a_file() {
        let copied = facts(&["/etc/localtime"], &[], &[], &[]);
        assert!(copied.localtime);
        let linked = facts(
            &["/usr/share/zoneinfo/Etc/UTC"],
            &[("/etc/localtime", "../usr/share/zoneinfo/Etc/UTC")],
            &[],
            &[],
        );
        assert!(linked.localtime);
        assert_eq!(linked.zoneinfo, 1);
        // tzdata removed, the link left behind (a common slimming step).
        let dangling = facts(
            &[],
            &[("/etc/localtime", "/usr/share/zoneinfo/Etc/UTC")],
            &[],
            &[],
        );
        assert!(!dangling.localtime);
        assert_eq!(dangling.zoneinfo, 0);
    }

    #[test]
    fn zone_links_count_only_when_they_resolve() {
        let f = facts(
            &["/usr/share/zoneinfo/Etc/UTC"],
            &[
                ("/usr/share/zoneinfo/UTC", "Etc/UTC"),
                ("/usr/share/zoneinfo/Zulu", "Etc/Nowhere"),
                ("/usr/share/zoneinfo/Loop", "Loop"),
            ],
            &[],
            &[],
        );
        assert_eq!(f.zoneinfo, 2);
        // The zoneinfo directory itself behind a link.
        let moved = facts(
            &["/usr/share/zoneinfo-all/UTC"],
            &[("/usr/share/zoneinfo", "zoneinfo-all")],
            &[],
            &[],
        );
        assert_eq!(moved.zoneinfo, 0, "only watched places are remembered");
    }

    #[test]
    fn locales_from_their_files_and_links() {
        let f = facts(
            &[
                "/usr/lib/locale/C.utf8/LC_CTYPE",
                "/usr/lib/locale/C.utf8/LC_MESSAGES/SYS_LC_MESSAGES",
                "/usr/lib/locale/en_US.utf8/LC_CTYPE",
            ],
            &[
                ("/usr/lib/locale/C.UTF-8", "C.utf8"),
                ("/usr/lib/locale/broken", "gone"),
            ],
            &[],
            &[],
        );
        assert_eq!(f.locales, ["C.UTF-8", "C.utf8", "en_US.utf8"]);
        assert!(!f.locale_archive);
    }

    #[test]
    fn gconv_in_any_library_directory() {
        for path in [
            "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules",
            "/usr/lib64/gconv/gconv-modules.cache",
            "/usr/lib/gconv/gconv-modules.d/gconv-modules-extra.conf",
        ] {
            assert!(facts(&[path], &[], &[], &[]).gconv, "{path}");
        }
        assert!(!facts(&["/usr/share/doc/gconv/gconv-modules"], &[], &[], &[]).gconv);
    }

    #[test]
    fn tmp_mode_absent_restricted_and_linked() {
        assert_eq!(facts(&[], &[], &[], &[]).tmp_mode, None);
        let locked = facts(&[], &[], &[("/tmp", 0o700, 1)], &[]);
        assert_eq!((locked.tmp_mode, locked.tmp_owner), (Some(0o700), Some(1)));
        let plain = facts(&[], &[], &[("/tmp", 0o755, 0)], &[]);
        assert_eq!(plain.tmp_mode, Some(0o755));
        assert!(describe(&plain, false).contains("/tmp 755"));
        let linked = facts(&[], &[("/tmp", "var/tmp")], &[("/var/tmp", 0o1777, 0)], &[]);
        assert_eq!(linked.tmp_mode, Some(0o1777));
        let dangling = facts(&[], &[("/tmp", "/nowhere")], &[], &[]);
        assert_eq!(dangling.tmp_mode, None);
        // Deep directories are not remembered.
        let mut c = Collector::default();
        c.add_dir("/a/b/tmp", Some(0o1777), None);
        assert!(c.dirs.is_empty());
    }

    #[test]
    fn malformed_passwd_lines_are_counted_not_fatal() {
        let p = parse_passwd(
            b"# comment\n\
              \n\
              root:x:0:0:root:/root:/bin/sh\r\n\
              short:x:1:1\n\
              :x:2:2::/:/bin/sh\n\
              neg:x:-1:1::/:/bin/sh\n\
              huge:x:4294967296:1::/:/bin/sh\n\
              max:x:4294967295:1::/:/bin/sh\n\
              noid:x::1::/:/bin/sh\n\
              hex:x:0x10:1::/:/bin/sh\n\
              +::::::\n\
              -baduser\n\
              nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin:extra\n\
              last-without-newline:x:7:7::/:/bin/sh",
        );
        assert!(p.present && !p.unread);
        assert_eq!(
            p.entries,
            [
                ("root".to_string(), 0),
                ("max".to_string(), u32::MAX),
                ("nonroot".to_string(), 65532),
                ("last-without-newline".to_string(), 7),
            ]
        );
        assert_eq!(p.malformed, 6);
        assert_eq!(p.name_of(65532), Some("nonroot"));
        assert_eq!(p.name_of(1), None);
        let g = parse_group(b"root:x:0:\nstaff:x:50\nwheel:x:10:root,alice\n");
        assert_eq!(
            g.entries,
            [("root".to_string(), 0), ("wheel".to_string(), 10)]
        );
        assert_eq!(g.malformed, 1);
    }

    #[test]
    fn binary_junk_as_passwd_is_a_fact() {
        let junk: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
        let p = parse_passwd(&junk);
        assert!(p.present);
        assert!(p.entries.is_empty());
        assert!(p.malformed > 0);
        let f = facts(&[], &[], &[], &[("/etc/passwd", &junk)]);
        assert!(describe(&f, false).contains("no root"));
        assert_eq!(
            parse_passwd(b""),
            Accounts {
                present: true,
                ..Default::default()
            }
        );
    }

    #[test]
    fn accounts_files_missing_huge_or_linked() {
        let none = facts(&[], &[], &[], &[]);
        assert!(!none.passwd.present && !none.group.present);
        assert!(describe(&none, false).contains("no /etc/passwd"));
        // Too large to read: present, entries unknown.
        assert!(!Collector::wants("/etc/passwd", MAX_ACCOUNTS_BYTES + 1));
        let huge = facts(&["/etc/passwd"], &[], &[], &[]);
        assert_eq!(
            huge.passwd,
            Accounts {
                present: true,
                unread: true,
                ..Default::default()
            }
        );
        // A link to a file elsewhere in /etc: present, not read; a dangling one: absent.
        let linked = facts(
            &["/etc/users/passwd"],
            &[
                ("/etc/group", "users/group"),
                ("/etc/passwd", "users/passwd"),
            ],
            &[],
            &[],
        );
        assert!(linked.passwd.unread && linked.passwd.present);
        assert!(!linked.group.present);
        assert!(!Collector::wants("/etc/shadow", 10));
    }

    #[test]
    fn describe_names_the_users_a_container_runs_as() {
        let f = RuntimeFacts {
            passwd: parse_passwd(
                b"root:x:0:0::/:/bin/sh\nbin:x:2:2::/:/bin/sh\nnobody:x:65534:65534::/:/bin/sh\n\
                  nonroot:x:65532:65532::/:/bin/sh\nubuntu:x:1000:1000::/:/bin/sh\nbad\n",
            ),
            ..Default::default()
        };
        assert_eq!(
            describe(&f, false),
            "users root, nobody(65534), nonroot(65532), ubuntu(1000) (1 malformed line); \
             no CA bundle, no tzdata, no /etc/localtime, no /bin/sh, no /tmp"
        );
    }
}
