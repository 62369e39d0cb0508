//! Reading the loader-relevant parts of an ELF file with goblin's table parsers.
//!
//! goblin's all-in-one `Elf::parse` also pre-splits every string table and walks every relocation,
//! which on a 100 MB library touches tens of megabytes; here only the headers, the dynamic array,
//! `.dynsym`, the version sections and the note segments are read, and strings are looked up on
//! demand.

use goblin::container::{Container, Ctx};
use goblin::elf::Elf;
use goblin::elf::dynamic::{self, Dynamic};
use goblin::elf::header::Header;
use goblin::elf::program_header::{self, ProgramHeader};
use goblin::elf::section_header::{self, SectionHeader};
use goblin::elf::sym;
use goblin::elf::symver::{VerdefSection, VerneedSection, VersymSection};

use std::borrow::Cow;

use super::bytes::word;
use super::exports::{ExportTable, musl_sees};
use super::notes;
use super::profile::{self, BinaryProfile};
use super::raw::{Raw, RawUndefined};
use crate::fast::intern::intern;

/// Why a file could not be read as ELF. The caller adds the file name.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ElfError {
    #[error("empty file")]
    Empty,
    #[error("not an ELF file")]
    NotElf,
    #[error("truncated ELF: {0}")]
    Truncated(String),
    #[error("corrupt ELF: {0}")]
    Corrupt(String),
}

const DT_RELR: u64 = 36;
const VER_FLG_BASE: u16 = 0x1;
const VER_FLG_WEAK: u16 = 0x2;
const STB_GNU_UNIQUE: u8 = 10;

/// glibc's checks of the program headers before it maps a file (`_dl_map_object_from_fd`), in
/// its order: a PT_LOAD whose address and offset differ by other than whole pages, a PT_DYNAMIC
/// with no bytes in the file (debug-info-only files from `objcopy --only-keep-debug` keep the
/// headers of the object they came from), a shared object without PT_LOAD or PT_DYNAMIC.
/// (Older glibc words the first one differently; every release refuses it.)
fn glibc_refusal(phdrs: &[ProgramHeader], e_type: u16) -> Option<&'static str> {
    const PAGE: u64 = 4096;
    let mut loads = 0;
    let mut dynamic = false;
    for ph in phdrs {
        match ph.p_type {
            program_header::PT_LOAD => {
                if ph.p_vaddr.wrapping_sub(ph.p_offset) % PAGE != 0 {
                    return Some("ELF load command address/offset not page-aligned");
                }
                loads += 1;
            }
            program_header::PT_DYNAMIC => {
                if ph.p_filesz == 0 {
                    return Some("object file has no dynamic section");
                }
                dynamic = true;
            }
            _ => {}
        }
    }
    if loads == 0 {
        return Some("object file has no loadable segments");
    }
    (!dynamic && e_type == goblin::elf::header::ET_DYN)
        .then_some("object file has no dynamic section")
}

/// musl's loader (map_library) first maps the whole span with the protection of the lowest
/// PT_LOAD, does not map again a segment that starts in that same page, and then zero-fills the
/// rest of the page after each writable segment's file bytes. A writable segment whose file bytes
/// end inside the lowest page of a file whose lowest segment is not writable makes it write to a
/// read-only page: SIGSEGV. Only malformed layouts do this (Go's debug/elf test data).
fn musl_mapping_crash(phdrs: &[ProgramHeader]) -> Option<&'static str> {
    const PAGE: u64 = 4096;
    if !phdrs.iter().any(|p| p.p_type == program_header::PT_DYNAMIC) {
        return None; // musl refuses it before mapping anything
    }
    let loads = || phdrs.iter().filter(|p| p.p_type == program_header::PT_LOAD);
    // The first of the lowest, as musl picks it.
    let lowest = loads().fold(None::<&ProgramHeader>, |low, p| match low {
        Some(l) if l.p_vaddr <= p.p_vaddr => Some(l),
        _ => Some(p),
    })?;
    let writable = |p: &ProgramHeader| p.p_flags & program_header::PF_W != 0;
    let first_page = lowest.p_vaddr & !(PAGE - 1);
    let zero_fills_first_page = |p: &ProgramHeader| {
        let brk = p.p_vaddr.wrapping_add(p.p_filesz);
        writable(p)
            && p.p_memsz > p.p_filesz
            && p.p_vaddr & !(PAGE - 1) == first_page
            && !brk.is_multiple_of(PAGE)
            && brk & !(PAGE - 1) == first_page
    };
    (!writable(lowest) && loads().any(zero_fills_first_page))
        .then_some("a writable segment ends in the lowest page, which musl maps read-only")
}

/// The bytes of the NUL-terminated string at `off`, as text (lossy only when not UTF-8).
fn cstr_ref(table: &[u8], off: usize) -> Option<std::borrow::Cow<'_, str>> {
    let s = table.get(off..)?;
    let bytes = &s[..memchr::memchr(0, s)?];
    if bytes.is_ascii() {
        // SAFETY: ASCII is UTF-8 (this skips the general validation for the usual symbol name).
        return Some(std::borrow::Cow::Borrowed(unsafe {
            std::str::from_utf8_unchecked(bytes)
        }));
    }
    Some(match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => String::from_utf8_lossy(bytes),
    })
}

fn cstr(table: &[u8], off: usize) -> Option<String> {
    cstr_ref(table, off).map(std::borrow::Cow::into_owned)
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> ElfError {
    ElfError::Corrupt(format!("{what}: {e}"))
}

/// Does `what` (at `off`, `size` bytes) fit in the file? Tables the ELF header points at directly
/// (program headers, segments, section header table) are cut off by truncation; anything else
/// found beyond the end means a corrupt table.
fn check_extent(len: usize, off: u64, size: u64, what: &str) -> Result<(), ElfError> {
    match off.checked_add(size) {
        Some(end) if end <= len as u64 => Ok(()),
        _ => {
            let msg = format!(
                "{what} ends at byte {} but the file has {len} bytes",
                off as u128 + size as u128
            );
            let header_level = matches!(
                what,
                "program header table" | "a loadable segment" | "section header table"
            );
            Err(if header_level {
                ElfError::Truncated(msg)
            } else {
                ElfError::Corrupt(msg)
            })
        }
    }
}

/// Parse the profile of one ELF file.
pub fn parse(bytes: &[u8]) -> Result<BinaryProfile, ElfError> {
    let raw = read(bytes, None, false)?;
    Ok(profile::build(raw))
}

/// Parse the profile and the exported dynamic symbols (what a library offers to others).
pub fn parse_with_exports(bytes: &[u8]) -> Result<(BinaryProfile, ExportTable), ElfError> {
    let mut exports = ExportTable::default();
    let raw = read(bytes, Some(&mut exports), false)?;
    Ok((profile::build(raw), exports))
}

/// Everything a loader simulation needs: the profile, the exports, and the hidden-version
/// definitions the object's own relocations use (this reads the relocation tables).
pub fn parse_for_loader(bytes: &[u8]) -> Result<(BinaryProfile, ExportTable), ElfError> {
    let mut exports = ExportTable::default();
    let raw = read(bytes, Some(&mut exports), true)?;
    Ok((profile::build(raw), exports))
}

/// The dynamic relocation tables (file offset, size, RELA or REL) past their leading
/// `R_*_RELATIVE` entries: DT_RELACOUNT/DT_RELCOUNT say how many lead, and the loader applies those
/// without looking at them (glibc's `elf_dynamic_do_Rel`), as does this reader.
fn relocation_tables(info: &dynamic::DynamicInfo, elf64: bool) -> [(usize, usize, bool); 3] {
    let (rela_ent, rel_ent) = if elf64 { (24, 16) } else { (12, 8) };
    let skip = |off: usize, size: usize, count: usize, ent: usize| {
        let k = count.saturating_mul(ent).min(size);
        (off.saturating_add(k), size - k)
    };
    let (rela, relasz) = skip(info.rela, info.relasz, info.relacount, rela_ent);
    let (rel, relsz) = skip(info.rel, info.relsz, info.relcount, rel_ent);
    [
        (rela, relasz, true),
        (rel, relsz, false),
        (info.jmprel, info.pltrelsz, info.pltrel == dynamic::DT_RELA),
    ]
}

/// How many rounds [`loader_ranges`] takes.
pub const LOADER_ROUNDS: u8 = 3;

/// The parts of an ELF file that [`parse_for_loader`] reads, found in rounds, so that a caller
/// reading from a file fetches only those: a typical library's loader metadata is a sixth of it
/// (no code, no data, no debug sections).
///
/// `bytes` has the file's full length; its first 64 bytes and the ranges of the earlier rounds are
/// filled (the rest may hold anything). Round 0 names the program and section header tables,
/// round 1 the segments and sections the parser looks at, round 2 the tables the dynamic array
/// points at (there are [`LOADER_ROUNDS`]). Ranges are clipped to the file. `None`: the headers
/// make no sense — read the whole file and let the parser say what is wrong.
pub fn loader_ranges(bytes: &[u8], round: u8) -> Option<Vec<std::ops::Range<usize>>> {
    let header: Header = Elf::parse_header(bytes).ok()?;
    let ctx = Ctx::new(header.container().ok()?, header.endianness().ok()?);
    let len = bytes.len() as u64;
    let range = |off: u64, size: u64| -> Option<std::ops::Range<usize>> {
        let end = off.checked_add(size)?;
        Some(off.min(len) as usize..end.min(len) as usize)
    };
    let (ph_size, sh_size) = match ctx.container {
        Container::Big => (56u64, 64u64),
        Container::Little => (32, 40),
    };
    let shdrs_present = header.e_shoff != 0 && header.e_shnum != 0;
    let phdrs =
        || ProgramHeader::parse(bytes, header.e_phoff as usize, header.e_phnum as usize, ctx).ok();
    let mut out = Vec::new();
    match round {
        0 => {
            let phent = ph_size.max(header.e_phentsize as u64);
            out.push(range(header.e_phoff, header.e_phnum as u64 * phent)?);
            if shdrs_present {
                let shent = sh_size.max(header.e_shentsize as u64);
                out.push(range(header.e_shoff, header.e_shnum as u64 * shent)?);
            }
        }
        1 => {
            // Only four fields of each header: read in place, nothing allocated. The entries are
            // as far apart as the parser reads them (its structure's size, as goblin does).
            let little = ctx.le.is_little();
            let w = if ctx.container == Container::Big {
                8
            } else {
                4
            };
            let field = |table: u64, i: u64, stride: u64, at: u64, size: usize| {
                let pos = table.checked_add(i.checked_mul(stride)?)?.checked_add(at)?;
                word(bytes, usize::try_from(pos).ok()?, size, little)
            };
            // p_offset, p_filesz; sh_offset, sh_size, sh_link
            let (p_off, p_size) = if w == 8 { (8, 32) } else { (4, 16) };
            let (s_off, s_size, s_link) = if w == 8 { (24, 32, 40) } else { (16, 20, 24) };
            for i in 0..header.e_phnum as u64 {
                let p_type = field(header.e_phoff, i, ph_size, 0, 4)? as u32;
                if matches!(
                    p_type,
                    program_header::PT_INTERP
                        | program_header::PT_NOTE
                        | program_header::PT_DYNAMIC
                ) {
                    out.push(range(
                        field(header.e_phoff, i, ph_size, p_off, w)?,
                        field(header.e_phoff, i, ph_size, p_size, w)?,
                    )?);
                }
            }
            if shdrs_present {
                let section = |i: u64| -> Option<(u32, u64, u64, u64)> {
                    Some((
                        field(header.e_shoff, i, sh_size, 4, 4)? as u32,
                        field(header.e_shoff, i, sh_size, s_off, w)?,
                        field(header.e_shoff, i, sh_size, s_size, w)?,
                        field(header.e_shoff, i, sh_size, s_link, 4)?,
                    ))
                };
                for i in 0..header.e_shnum as u64 {
                    let (sh_type, offset, size, sh_link) = section(i)?;
                    if matches!(
                        sh_type,
                        section_header::SHT_DYNSYM
                            | section_header::SHT_GNU_VERSYM
                            | section_header::SHT_GNU_VERNEED
                            | section_header::SHT_GNU_VERDEF
                    ) {
                        out.push(range(offset, size)?);
                        if sh_link < header.e_shnum as u64 {
                            let (_, l_offset, l_size, _) = section(sh_link)?;
                            out.push(range(l_offset, l_size)?);
                        }
                    }
                }
            }
        }
        2 => {
            if let Some(d) = Dynamic::parse(bytes, &phdrs()?, ctx).ok()? {
                let i = &d.info;
                out.push(range(i.strtab as u64, i.strsz as u64)?);
                for (off, size, _) in relocation_tables(i, ctx.container == Container::Big) {
                    out.push(range(off as u64, size as u64)?);
                }
            }
        }
        _ => {}
    }
    Some(out)
}

/// The fields of a dynamic symbol the parser uses.
#[derive(Clone, Copy)]
struct DynSym {
    st_name: usize,
    st_info: u8,
    st_other: u8,
    st_shndx: usize,
    st_value_is_zero: bool,
}

/// The entries of a dynamic symbol table, read in place (the table is whole entries).
fn dynsyms(table: &[u8], elf64: bool, little: bool) -> impl Iterator<Item = DynSym> + '_ {
    // Elf64_Sym: name, info, other, shndx, value, size; Elf32_Sym: name, value, size, info,
    // other, shndx.
    let (ent, info, shndx, value) = if elf64 {
        (24, 4, 6, (8, 8))
    } else {
        (16, 12, 14, (4, 4))
    };
    table.chunks_exact(ent).map(move |e| DynSym {
        st_name: word(e, 0, 4, little).unwrap_or(0) as usize,
        st_info: e[info],
        st_other: e[info + 1],
        st_shndx: word(e, shndx, 2, little).unwrap_or(0) as usize,
        st_value_is_zero: word(e, value.0, value.1, little).unwrap_or(0) == 0,
    })
}

/// (symbol index, type) of each entry of a relocation table, read straight from its bytes.
fn relocation_entries(
    table: &[u8],
    rela: bool,
    elf64: bool,
    little: bool,
) -> impl Iterator<Item = (usize, u32)> + '_ {
    let ent = match (elf64, rela) {
        (true, true) => 24,
        (true, false) => 16,
        (false, true) => 12,
        (false, false) => 8,
    };
    // r_info: 8 bytes after r_offset (symbol << 32 | type), 4 bytes (symbol << 8 | type).
    table.chunks_exact(ent).map(move |e| {
        if elf64 {
            let info = word(e, 8, 8, little).unwrap_or(0);
            ((info >> 32) as usize, info as u32)
        } else {
            let info = word(e, 4, 4, little).unwrap_or(0) as u32;
            ((info >> 8) as usize, info & 0xff)
        }
    })
}

/// Read what a loader reads, in the order that decides which error a damaged file reports: the
/// ELF header, the program and section header tables, the segments, the dynamic array, then
/// `.dynsym` with its version tables and, for a loader simulation, the relocations.
pub(crate) fn read(
    bytes: &[u8],
    exports: Option<&mut ExportTable>,
    relocations: bool,
) -> Result<Raw, ElfError> {
    let (header, ctx) = read_elf_header(bytes)?;
    let mut raw = Raw {
        elf64: ctx.container == Container::Big,
        little: ctx.le.is_little(),
        machine: header.e_machine,
        e_type: header.e_type,
        ..Raw::default()
    };
    let phdrs = read_program_headers(bytes, &header, ctx, &mut raw)?;
    let shdrs = read_section_headers(bytes, &header, ctx, &mut raw)?;
    read_interpreter_and_notes(bytes, &phdrs, &mut raw)?;

    let dynamic = Dynamic::parse(bytes, &phdrs, ctx).map_err(|e| corrupt("dynamic section", e))?;
    let Some(dynamic) = dynamic else {
        return Ok(raw);
    };
    raw.has_dynamic = true;
    let dynstr = dynamic_string_table(bytes, &dynamic.info)?;
    read_dynamic_entries(&dynamic.dyns, dynstr, &mut raw)?;

    let Some(syms) = dynsym_table(bytes, &shdrs, dynstr, raw.elf64, raw.little)? else {
        return Ok(raw);
    };
    let versions = read_versions(bytes, &shdrs, ctx, syms.strings, &mut raw)?;
    let unseen = musl_unseen(&syms, &versions, exports.is_some());
    let used = if relocations {
        read_relocations(bytes, &dynamic.info, syms.count, &unseen, &mut raw)
    } else {
        Vec::new()
    };
    let musl = MuslSkips { unseen, used };
    read_dynamic_symbols(bytes.len(), &syms, &versions, &musl, exports, &mut raw);
    Ok(raw)
}

/// The ELF header and the word size and byte order it declares. The checks before goblin's tell
/// an empty, a non-ELF and a cut-short file apart.
fn read_elf_header(bytes: &[u8]) -> Result<(Header, Ctx), ElfError> {
    if bytes.is_empty() {
        return Err(ElfError::Empty);
    }
    if bytes.len() < 4 || &bytes[..4] != b"\x7fELF" {
        return Err(ElfError::NotElf);
    }
    if bytes.len() < 52 {
        return Err(ElfError::Truncated(format!(
            "ELF header needs at least 52 bytes, file has {}",
            bytes.len()
        )));
    }
    let header: Header = Elf::parse_header(bytes).map_err(|e| match bytes.len() {
        n if n < 64 => ElfError::Truncated(format!("ELF header cut short ({n} bytes): {e}")),
        _ => corrupt("ELF header", e),
    })?;
    let container = header.container().map_err(|e| corrupt("ELF class", e))?;
    let endian = header
        .endianness()
        .map_err(|e| corrupt("ELF data encoding", e))?;
    Ok((header, Ctx::new(container, endian)))
}

/// The program headers, and what glibc and musl make of them before they map anything. Every
/// PT_LOAD and PT_DYNAMIC must lie in the file (a file cut short fails here).
fn read_program_headers(
    bytes: &[u8],
    header: &Header,
    ctx: Ctx,
    raw: &mut Raw,
) -> Result<Vec<ProgramHeader>, ElfError> {
    check_extent(
        bytes.len(),
        header.e_phoff,
        header.e_phnum as u64 * header.e_phentsize as u64,
        "program header table",
    )?;
    let phdrs = ProgramHeader::parse(bytes, header.e_phoff as usize, header.e_phnum as usize, ctx)
        .map_err(|e| corrupt("program headers", e))?;
    raw.glibc_refuses = glibc_refusal(&phdrs, header.e_type);
    raw.musl_crashes = musl_mapping_crash(&phdrs);
    for ph in &phdrs {
        if ph.p_type == program_header::PT_LOAD || ph.p_type == program_header::PT_DYNAMIC {
            check_extent(bytes.len(), ph.p_offset, ph.p_filesz, "a loadable segment")?;
        }
    }
    Ok(phdrs)
}

/// The section header table, when there is one: it locates `.dynsym` and the version tables
/// (the dynamic array gives no sizes for them), and a `.symtab` in it means "not stripped".
fn read_section_headers(
    bytes: &[u8],
    header: &Header,
    ctx: Ctx,
    raw: &mut Raw,
) -> Result<Vec<SectionHeader>, ElfError> {
    let shdrs = if header.e_shoff != 0 && header.e_shnum != 0 {
        check_extent(
            bytes.len(),
            header.e_shoff,
            header.e_shnum as u64 * header.e_shentsize as u64,
            "section header table",
        )?;
        SectionHeader::parse(bytes, header.e_shoff as usize, header.e_shnum as usize, ctx)
            .map_err(|e| corrupt("section header table", e))?
    } else {
        Vec::new()
    };
    raw.has_section_headers = !shdrs.is_empty();
    raw.has_symtab = shdrs
        .iter()
        .any(|s| s.sh_type == section_header::SHT_SYMTAB);
    Ok(shdrs)
}

/// PT_INTERP (the loader the kernel starts) and the PT_NOTE segments (ABI tag, ISA levels).
/// A note segment outside the file is skipped rather than refused.
fn read_interpreter_and_notes(
    bytes: &[u8],
    phdrs: &[ProgramHeader],
    raw: &mut Raw,
) -> Result<(), ElfError> {
    for ph in phdrs {
        match ph.p_type {
            program_header::PT_INTERP if ph.p_filesz > 0 => {
                let start = ph.p_offset as usize;
                let seg = bytes
                    .get(start..start.saturating_add(ph.p_filesz as usize))
                    .ok_or_else(|| {
                        ElfError::Truncated("PT_INTERP lies beyond the end of the file".into())
                    })?;
                let end = seg.iter().position(|&b| b == 0).unwrap_or(seg.len());
                raw.interpreter = Some(String::from_utf8_lossy(&seg[..end]).into_owned());
            }
            program_header::PT_NOTE => {
                let start = ph.p_offset as usize;
                if let Some(seg) = bytes.get(start..start.saturating_add(ph.p_filesz as usize)) {
                    notes::scan(
                        seg,
                        ph.p_align as usize,
                        raw.little,
                        raw.elf64,
                        &mut raw.notes,
                    );
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The string table DT_STRTAB/DT_STRSZ name (`.dynstr`), in place.
fn dynamic_string_table<'a>(
    bytes: &'a [u8],
    info: &dynamic::DynamicInfo,
) -> Result<&'a [u8], ElfError> {
    if info.strsz == 0 {
        return Ok(&[]);
    }
    bytes
        .get(info.strtab..info.strtab.saturating_add(info.strsz))
        .ok_or_else(|| {
            corrupt(
                "dynamic string table",
                format!(
                    "offset {:#x}+{:#x} outside the file",
                    info.strtab, info.strsz
                ),
            )
        })
}

/// The entries of the dynamic array the loaders act on: DT_NEEDED, DT_SONAME, the search paths,
/// the flags that make binding immediate, and DT_RELR (which needs a glibc 2.36 loader).
fn read_dynamic_entries(
    dyns: &[dynamic::Dyn],
    dynstr: &[u8],
    raw: &mut Raw,
) -> Result<(), ElfError> {
    for d in dyns {
        match d.d_tag {
            dynamic::DT_NEEDED => raw.needed.push(dynamic_string(dynstr, d.d_val)?),
            dynamic::DT_SONAME => raw.soname = Some(dynamic_string(dynstr, d.d_val)?),
            dynamic::DT_RPATH => raw
                .rpath
                .extend(search_path(&dynamic_string(dynstr, d.d_val)?)),
            dynamic::DT_RUNPATH => raw
                .runpath
                .extend(search_path(&dynamic_string(dynstr, d.d_val)?)),
            dynamic::DT_FLAGS => raw.flags = d.d_val,
            dynamic::DT_FLAGS_1 => raw.flags_1 = d.d_val,
            dynamic::DT_BIND_NOW => raw.bind_now_tag = true,
            DT_RELR => raw.dt_relr = true,
            _ => {}
        }
    }
    Ok(())
}

/// The string a dynamic entry's value points at; outside `.dynstr` the section is corrupt.
fn dynamic_string(dynstr: &[u8], off: u64) -> Result<String, ElfError> {
    cstr(dynstr, off as usize).ok_or_else(|| {
        corrupt(
            "dynamic section",
            format!("string offset {off:#x} outside .dynstr"),
        )
    })
}

/// The directories of a DT_RPATH/DT_RUNPATH value (empty entries dropped).
fn search_path(value: &str) -> impl Iterator<Item = String> + '_ {
    value.split(':').filter(|s| !s.is_empty()).map(String::from)
}

/// `.dynsym`, whole entries in place, with the string table its names are in.
struct DynsymTable<'a> {
    entries: &'a [u8],
    count: usize,
    strings: &'a [u8],
    elf64: bool,
    little: bool,
}

impl<'a> DynsymTable<'a> {
    fn iter(&self) -> impl Iterator<Item = DynSym> + 'a {
        dynsyms(self.entries, self.elf64, self.little)
    }
}

/// `.dynsym`, found by its section header: the dynamic array gives no symbol count. Its names
/// are in the section its sh_link names, else in the dynamic array's `.dynstr`. `None`: no
/// `.dynsym` section (then nothing later is read).
fn dynsym_table<'a>(
    bytes: &'a [u8],
    shdrs: &[SectionHeader],
    dynstr: &'a [u8],
    elf64: bool,
    little: bool,
) -> Result<Option<DynsymTable<'a>>, ElfError> {
    let len = bytes.len();
    let Some(dynsym_sh) = shdrs
        .iter()
        .find(|s| s.sh_type == section_header::SHT_DYNSYM)
    else {
        return Ok(None);
    };
    check_extent(len, dynsym_sh.sh_offset, dynsym_sh.sh_size, ".dynsym")?;
    let entsize = if elf64 { 24 } else { 16 };
    let count = (dynsym_sh.sh_size / entsize) as usize;
    let start = dynsym_sh.sh_offset as usize;
    let entries = bytes
        .get(start..start + count * entsize as usize)
        .ok_or_else(|| corrupt(".dynsym", "outside the file"))?;
    let strings: &[u8] = match shdrs.get(dynsym_sh.sh_link as usize) {
        Some(s) => {
            check_extent(len, s.sh_offset, s.sh_size, ".dynstr")?;
            &bytes[s.sh_offset as usize..(s.sh_offset + s.sh_size) as usize]
        }
        None => dynstr,
    };
    Ok(Some(DynsymTable {
        entries,
        count,
        strings,
        elf64,
        little,
    }))
}

/// The version tables, as lookups by version index.
struct Versions<'a> {
    versym: Option<VersymSection<'a>>,
    /// version index → place of its (library, version) in [`Raw::needs`]
    needs: Vec<(u16, usize)>,
    /// version index → the name of a version this object defines
    defs: Vec<(u16, Cow<'a, str>)>,
    /// The string table the definitions' names are in.
    def_strings: &'a [u8],
}

impl Versions<'_> {
    /// The `.gnu.version` value of dynamic symbol `i`: version index, bit 15 for hidden.
    fn of(&self, i: usize) -> Option<u16> {
        self.versym
            .as_ref()
            .and_then(|v| v.get_at(i))
            .map(|v| v.vs_val)
    }
}

/// `.gnu.version`, `.gnu.version_r` (the versions needed, into `raw.verneed` and `raw.needs`)
/// and `.gnu.version_d` (the versions defined, into `raw.verdefs`). Parsing any of them can fail
/// the file; reading them cannot.
fn read_versions<'a>(
    bytes: &'a [u8],
    shdrs: &[SectionHeader],
    ctx: Ctx,
    symstr: &'a [u8],
    raw: &mut Raw,
) -> Result<Versions<'a>, ElfError> {
    let versym = VersymSection::parse(bytes, shdrs, ctx).map_err(|e| corrupt(".gnu.version", e))?;
    let verneed =
        VerneedSection::parse(bytes, shdrs, ctx).map_err(|e| corrupt(".gnu.version_r", e))?;
    let verdef =
        VerdefSection::parse(bytes, shdrs, ctx).map_err(|e| corrupt(".gnu.version_d", e))?;
    let needs = match &verneed {
        Some(vn) => read_verneed(
            vn,
            version_strings(bytes, shdrs, section_header::SHT_GNU_VERNEED, symstr),
            raw,
        ),
        None => Vec::new(),
    };
    let def_strings = version_strings(bytes, shdrs, section_header::SHT_GNU_VERDEF, symstr);
    let defs = match &verdef {
        Some(vd) => read_verdef(vd, def_strings, raw),
        None => Vec::new(),
    };
    Ok(Versions {
        versym,
        needs,
        defs,
        def_strings,
    })
}

/// The string table a version section links to (normally `.dynstr`), else `symstr`.
fn version_strings<'a>(
    bytes: &'a [u8],
    shdrs: &[SectionHeader],
    sh_type: u32,
    symstr: &'a [u8],
) -> &'a [u8] {
    shdrs
        .iter()
        .find(|s| s.sh_type == sh_type)
        .and_then(|s| shdrs.get(s.sh_link as usize))
        .and_then(|s| {
            bytes.get(s.sh_offset as usize..(s.sh_offset.saturating_add(s.sh_size)) as usize)
        })
        .unwrap_or(symstr)
}

/// Each needed (library, version) in file order, into `raw.verneed` and, interned, `raw.needs`.
/// Returns version index → place in `raw.needs`, for the undefined symbols.
fn read_verneed(vn: &VerneedSection<'_>, strs: &[u8], raw: &mut Raw) -> Vec<(u16, usize)> {
    let mut need_by_index = Vec::new();
    for need in vn.iter() {
        let lib = cstr(strs, need.vn_file).unwrap_or_default();
        let shared_lib = intern(&lib);
        let mut versions = Vec::new();
        for aux in need.iter() {
            let ver = cstr(strs, aux.vna_name).unwrap_or_default();
            need_by_index.push((aux.vna_other & 0x7fff, raw.needs.len()));
            raw.needs.push((shared_lib.clone(), intern(&ver)));
            versions.push((ver, aux.vna_flags & VER_FLG_WEAK != 0));
        }
        raw.verneed.push((lib, versions));
    }
    need_by_index
}

/// The versions this object defines into `raw.verdefs` (the base entry, its SONAME, left out).
/// Returns version index → name, for the exports; the names stay in the file's bytes.
fn read_verdef<'a>(
    vd: &VerdefSection<'_>,
    strs: &'a [u8],
    raw: &mut Raw,
) -> Vec<(u16, Cow<'a, str>)> {
    let mut def_by_index = Vec::new();
    for def in vd.iter() {
        if let Some(aux) = def.iter().next() {
            let name = cstr_ref(strs, aux.vda_name).unwrap_or_default();
            if def.vd_flags & VER_FLG_BASE == 0 {
                raw.verdefs.push(name.clone().into_owned());
            }
            def_by_index.push((def.vd_ndx, name));
        }
    }
    def_by_index
}

/// Per `.dynsym` entry: a global definition musl's lookup skips. When the object's own
/// relocations name one, musl looks it up like any symbol and finds no definition of it. Only
/// the exports need it: empty unless `wanted`.
fn musl_unseen(syms: &DynsymTable<'_>, versions: &Versions<'_>, wanted: bool) -> Vec<bool> {
    syms.iter()
        .take(if wanted { syms.count } else { 0 })
        .enumerate()
        .map(|(i, s)| {
            let bind = sym::st_bind(s.st_info);
            s.st_shndx != section_header::SHN_UNDEF as usize
                && matches!(bind, sym::STB_GLOBAL | sym::STB_WEAK | STB_GNU_UNIQUE)
                && !musl_sees(sym::st_type(s.st_info), s.st_value_is_zero, versions.of(i))
        })
        .collect()
}

/// Which musl-unseen definitions the object's own relocations use, per `.dynsym` entry, and
/// whether any relocation is IRELATIVE (into `raw.irelative`). Only a loader simulation asks:
/// `inspect` does not, and big libraries have big tables. Usually musl sees every definition,
/// so the scan is a cheap pass. A table outside the file is skipped.
fn read_relocations(
    bytes: &[u8],
    info: &dynamic::DynamicInfo,
    count: usize,
    musl_unseen: &[bool],
    raw: &mut Raw,
) -> Vec<bool> {
    let any_unseen = musl_unseen.iter().any(|&h| h);
    let mut unseen_used = vec![false; count];
    let irelative = irelative_type(raw.machine);
    for (off, size, is_rela) in relocation_tables(info, raw.elf64) {
        if size == 0 || off.checked_add(size).is_none_or(|e| e > bytes.len()) {
            continue;
        }
        for (sym, typ) in
            relocation_entries(&bytes[off..off + size], is_rela, raw.elf64, raw.little)
        {
            if any_unseen && sym < count && musl_unseen[sym] {
                unseen_used[sym] = true;
            }
            if Some(typ) == irelative {
                raw.irelative = true;
            }
        }
    }
    unseen_used
}

/// The IRELATIVE relocation type of a machine: R_X86_64_IRELATIVE (37), R_386_IRELATIVE (42),
/// R_AARCH64_IRELATIVE (1032).
fn irelative_type(machine: u16) -> Option<u32> {
    match machine {
        62 => Some(37),
        3 => Some(42),
        183 => Some(1032),
        _ => None,
    }
}

/// Per `.dynsym` entry: the definitions musl's lookup skips, and which of those the object's own
/// relocations use (empty when the relocations were not read).
struct MuslSkips {
    unseen: Vec<bool>,
    used: Vec<bool>,
}

/// One pass over `.dynsym`: the undefined symbols (what the object needs, into `raw.undefined`)
/// and, when `exports` is given, the definitions it offers to others.
fn read_dynamic_symbols(
    file_len: usize,
    syms: &DynsymTable<'_>,
    versions: &Versions<'_>,
    musl: &MuslSkips,
    mut exports: Option<&mut ExportTable>,
    raw: &mut Raw,
) {
    if let Some(ex) = exports.as_deref_mut() {
        // Each definition takes its name and at most a version: the names' table bounds it.
        ex.reserve(syms.strings.len().min(file_len) + syms.count * 4);
    }
    // Export lines cannot hold a line break: checked once per string table, not per name.
    let breaks = |t: &[u8]| memchr::memchr(b'\n', t).is_some();
    let clean = !breaks(syms.strings) && !breaks(versions.def_strings);
    raw.undefined.reserve(
        syms.iter()
            .filter(|s| s.st_shndx == section_header::SHN_UNDEF as usize)
            .count(),
    );
    for (i, s) in syms.iter().enumerate().skip(1) {
        let vidx = versions.of(i);
        if s.st_shndx == section_header::SHN_UNDEF as usize {
            if let Some(u) = undefined_symbol(s, vidx, syms.strings, &versions.needs) {
                raw.undefined.push(u);
            }
        } else if let Some(ex) = exports.as_deref_mut() {
            if !is_exported(s) {
                continue;
            }
            let (version, default) = export_version(vidx, &versions.defs);
            let name = cstr_ref(syms.strings, s.st_name).unwrap_or_default();
            let seen_by_musl = !musl.unseen[i];
            if !seen_by_musl && musl.used.get(i).copied().unwrap_or(false) {
                raw.hidden_self_refs.push(name.clone().into_owned());
            }
            if clean {
                ex.push_clean(&name, version, default, seen_by_musl);
            } else {
                ex.push_for(&name, version, default, seen_by_musl);
            }
        }
    }
}

/// An undefined symbol another object must provide, with the place of its (library, version)
/// in `raw.needs` when versioned. `None` for an entry with no name and for local ones.
fn undefined_symbol(
    s: DynSym,
    vidx: Option<u16>,
    strings: &[u8],
    need_by_index: &[(u16, usize)],
) -> Option<RawUndefined> {
    let bind = sym::st_bind(s.st_info);
    if s.st_name == 0 || bind == sym::STB_LOCAL {
        return None;
    }
    let name = intern(cstr_ref(strings, s.st_name).as_deref().unwrap_or_default());
    let version = vidx
        .map(|v| v & 0x7fff)
        .filter(|&v| v >= 2)
        .and_then(|v| need_by_index.iter().find(|(i, _)| *i == v))
        .map(|(_, k)| *k);
    Some(RawUndefined {
        name,
        weak: bind == sym::STB_WEAK,
        version,
    })
}

/// Can another object bind to this definition: global, weak or unique, not a section or file
/// symbol, default or protected visibility?
fn is_exported(s: DynSym) -> bool {
    let bind = sym::st_bind(s.st_info);
    let typ = sym::st_type(s.st_info);
    let vis = s.st_other & 0x3;
    matches!(bind, sym::STB_GLOBAL | sym::STB_WEAK | STB_GNU_UNIQUE)
        && typ != sym::STT_SECTION
        && typ != sym::STT_FILE
        && (vis == 0 || vis == 3)
}

/// The version a definition is exported at and whether it is the default one (`name@@VER`, not
/// hidden `name@VER`); indexes 0 and 1 (local, global) are unversioned defaults.
fn export_version<'v>(
    vidx: Option<u16>,
    def_by_index: &'v [(u16, Cow<'_, str>)],
) -> (Option<&'v str>, bool) {
    match vidx {
        Some(v) if v & 0x7fff >= 2 => {
            let name = def_by_index
                .iter()
                .find(|(i, _)| *i == v & 0x7fff)
                .map(|(_, n)| n.as_ref());
            (name, v & 0x8000 == 0)
        }
        _ => (None, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parse `whole` as a reader following [`loader_ranges`] would see it: every byte no round
    /// names is zero (no gap read through, no small file read whole).
    fn through_ranges(whole: &[u8]) -> String {
        let mut buf = vec![0u8; whole.len()];
        let head = whole.len().min(64);
        buf[..head].copy_from_slice(&whole[..head]);
        for round in 0..LOADER_ROUNDS {
            let Some(ranges) = loader_ranges(&buf, round) else {
                return format!("{:?}", parse_for_loader(whole));
            };
            for r in ranges {
                buf[r.clone()].copy_from_slice(&whole[r]);
            }
        }
        format!("{:?}", parse_for_loader(&buf))
    }

    /// The ranges name every byte the parser reads: the host's ELF files (and copies cut short)
    /// parse the same with everything else zeroed.
    #[test]
    fn loader_ranges_cover_what_the_parser_reads() {
        let mut n = 0;
        for dir in ["/usr/lib/x86_64-linux-gnu", "/usr/bin", "/usr/sbin"] {
            let Ok(rd) = std::fs::read_dir(dir) else {
                continue;
            };
            for e in rd.flatten().take(400) {
                let Ok(whole) = std::fs::read(e.path()) else {
                    continue;
                };
                if !whole.starts_with(b"\x7fELF") {
                    continue;
                }
                for cut in [whole.len(), whole.len() / 2, 5000, 100] {
                    let bytes = &whole[..cut.min(whole.len())];
                    assert_eq!(
                        through_ranges(bytes),
                        format!("{:?}", parse_for_loader(bytes)),
                        "{} (first {} bytes)",
                        e.path().display(),
                        bytes.len()
                    );
                }
                n += 1;
            }
        }
        assert!(n > 50, "only {n} ELF files found");
    }
}
