//! ELF facts a loader cares about, read from bytes with no I/O.
//!
//! [`parse`] turns the bytes of one ELF file into a [`BinaryProfile`]: what it is, which interpreter
//! and libraries it asks for, which symbol versions it needs and which symbols force each version,
//! and which libc it was built against. Only the parts a loader reads are touched (headers, dynamic
//! section, .dynsym/.dynstr, version sections, notes) so that a memory-mapped 100 MB library costs
//! a few pages, never its full `.symtab`.

pub mod arch;
mod bytes;
mod exports;
pub mod module;
pub mod needs;
mod notes;
mod parse;
mod profile;
mod raw;
pub mod version;

pub use exports::ExportTable;
pub use parse::{
    ElfError, LOADER_ROUNDS, loader_ranges, parse, parse_for_loader, parse_with_exports,
};
pub use profile::*;
