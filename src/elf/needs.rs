//! What a binary will ask for at run time, read from its ELF bytes with no I/O: imported functions
//! whose behaviour differs between musl and glibc, its `PT_GNU_STACK` size, run-time data paths
//! named in its read-only data, and for Go programs their build settings and linked packages.

use serde::{Deserialize, Serialize};

use super::BinaryProfile;

/// A binary's run-time needs (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeNeeds {
    /// Imported functions with a known musl/glibc difference, sorted and deduplicated.
    pub imports: Vec<String>,
    /// `PT_GNU_STACK`'s `p_memsz` when non-zero (`-Wl,-z,stack-size=N`).
    pub stack_size: Option<u64>,
    /// Run-time data paths named in read-only data (from a fixed list), sorted.
    pub paths: Vec<String>,
    /// Go build facts, for Go programs.
    pub go: Option<GoBuild>,
    /// The string scan stopped at its bound before the end of the read-only data.
    pub scan_truncated: bool,
}

/// What a Go program's build info and function table say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoBuild {
    /// `go1.19.8`, from `.go.buildinfo`.
    pub version: Option<String>,
    /// `CGO_ENABLED` from the build settings, when recorded.
    pub cgo: Option<bool>,
    /// Build tags (`netgo`, `osusergo`, `timetzdata`, ...).
    pub tags: Vec<String>,
    /// Module dependencies, `path@version`.
    pub deps: Vec<String>,
    /// Standard-library packages linked, from a fixed list: `crypto/x509`, `net`, `os/user`,
    /// `time/tzdata`.
    pub packages: Vec<String>,
    /// Functions linked, from a fixed list: `crypto/x509.loadSystemRoots`, `time.LoadLocation`.
    pub functions: Vec<String>,
}

/// The run-time needs of the binary whose bytes are `bytes` and profile is `profile`.
pub fn runtime_needs(_bytes: &[u8], _profile: &BinaryProfile) -> RuntimeNeeds {
    RuntimeNeeds::default()
}
