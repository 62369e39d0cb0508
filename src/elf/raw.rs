//! What the parser reads from an ELF file before interpreting it ([`Raw`]).

use super::notes::NoteFacts;

/// One undefined dynamic symbol; when versioned, the index of its (library, version) in
/// [`Raw::needs`].
#[derive(Debug, Clone)]
pub(crate) struct RawUndefined {
    pub name: std::sync::Arc<str>,
    pub weak: bool,
    pub version: Option<usize>,
}

/// Everything read from the file, before interpretation.
#[derive(Debug, Default)]
pub(crate) struct Raw {
    pub elf64: bool,
    pub little: bool,
    pub machine: u16,
    pub e_type: u16,
    pub interpreter: Option<String>,
    pub has_dynamic: bool,
    pub needed: Vec<String>,
    pub soname: Option<String>,
    pub rpath: Vec<String>,
    pub runpath: Vec<String>,
    pub flags: u64,
    pub flags_1: u64,
    pub bind_now_tag: bool,
    pub dt_relr: bool,
    pub has_symtab: bool,
    pub has_section_headers: bool,
    pub undefined: Vec<RawUndefined>,
    /// (library, [(version, weak)]) in file order.
    pub verneed: Vec<(String, Vec<(String, bool)>)>,
    /// Every (library, version) of `verneed`, in the same order, shared by the symbols bound to it.
    pub needs: Vec<(std::sync::Arc<str>, std::sync::Arc<str>)>,
    /// Version names this object defines (the base/SONAME entry excluded).
    pub verdefs: Vec<String>,
    /// Its own definitions that its relocations refer to and musl's lookup skips (hidden
    /// version, IFUNC, value 0).
    pub hidden_self_refs: Vec<String>,
    /// Has IRELATIVE (IFUNC) relocations.
    pub irelative: bool,
    /// Why glibc's loader will not map this file, when it will not.
    pub glibc_refuses: Option<&'static str>,
    /// Why musl's loader crashes mapping this file, when it does.
    pub musl_crashes: Option<&'static str>,
    pub notes: NoteFacts,
}
