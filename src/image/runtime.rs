//! What a base provides a program at run time, read from its files: CA bundle, tzdata, locale
//! data, gconv modules, NSS configuration, users and groups, `/tmp`.

use serde::{Deserialize, Serialize};

/// A base's run-time facts (see the module docs). Absent or malformed files are facts, not errors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
}

/// The entries of an `/etc/passwd` or `/etc/group`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accounts {
    /// The file exists.
    pub present: bool,
    /// (name, id) of each well-formed line, in file order.
    pub entries: Vec<(String, u32)>,
    /// Lines that are neither well-formed, blank nor comments.
    pub malformed: u32,
}
