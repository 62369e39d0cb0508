//! The few header facts the run-time scans need: byte order, word size, the program headers and
//! the named sections. Read by hand and tolerant: a field outside the file ends the table there
//! instead of failing, because a damaged file still has needs worth showing (and must never
//! panic). The loader's own parser (`elf::parse`) stays the judge of what is malformed.

use super::super::bytes::word;

pub(super) const PT_LOAD: u32 = 1;
pub(super) const PT_GNU_STACK: u32 = 0x6474_e551;
pub(super) const PF_X: u32 = 1;
pub(super) const PF_W: u32 = 2;
pub(super) const PF_R: u32 = 4;
pub(super) const SHT_SYMTAB: u32 = 2;
pub(super) const SHT_NOBITS: u32 = 8;

/// The ELF header fields the scans use.
#[derive(Debug, Clone, Copy)]
pub(super) struct Header {
    pub elf64: bool,
    pub little: bool,
    phoff: u64,
    phnum: u64,
    shoff: u64,
    shnum: u64,
    shstrndx: u64,
}

/// One program header, and where it sits in the file (to patch it).
#[derive(Debug, Clone, Copy)]
pub(super) struct Segment {
    pub p_type: u32,
    pub flags: u32,
    pub offset: u64,
    pub filesz: u64,
    pub memsz: u64,
    /// File offset of this program header.
    pub header_at: u64,
}

/// One section header with its name.
#[derive(Debug, Clone, Copy)]
pub(super) struct Section<'a> {
    pub name: &'a [u8],
    pub sh_type: u32,
    pub offset: u64,
    pub size: u64,
    pub link: u32,
}

/// The headers of one file, borrowed from its bytes.
pub(super) struct Layout<'a> {
    pub bytes: &'a [u8],
    pub header: Header,
    pub segments: Vec<Segment>,
    pub sections: Vec<Section<'a>>,
}

impl Header {
    /// `None`: not ELF, or a class or byte order the scans do not know.
    pub fn read(bytes: &[u8]) -> Option<Header> {
        if bytes.get(..4)? != b"\x7fELF" {
            return None;
        }
        let elf64 = match bytes.get(4)? {
            1 => false,
            2 => true,
            _ => return None,
        };
        let little = match bytes.get(5)? {
            1 => true,
            2 => false,
            _ => return None,
        };
        let w = if elf64 { 8 } else { 4 };
        // e_phoff and e_shoff follow e_entry; the counts follow e_flags and the two sizes.
        let (phoff_at, counts_at) = if elf64 { (32, 56) } else { (28, 44) };
        let half = |at: usize| word(bytes, at, 2, little);
        Some(Header {
            elf64,
            little,
            phoff: word(bytes, phoff_at, w, little)?,
            shoff: word(bytes, phoff_at + w, w, little)?,
            phnum: half(counts_at)?,
            shnum: half(counts_at + 4)?,
            shstrndx: half(counts_at + 6)?,
        })
    }

    fn word_size(&self) -> usize {
        if self.elf64 { 8 } else { 4 }
    }

    /// The `size`-byte field `plus` bytes after `at` (`None` past the end of the file).
    fn field(&self, bytes: &[u8], at: u64, plus: u64, size: usize) -> Option<u64> {
        let pos = usize::try_from(at.checked_add(plus)?).ok()?;
        word(bytes, pos, size, self.little)
    }

    /// The program headers, as far as they lie in the file.
    pub fn segments(&self, bytes: &[u8]) -> Vec<Segment> {
        (0..self.phnum)
            .map_while(|i| self.segment(bytes, i))
            .collect()
    }

    fn segment(&self, bytes: &[u8], i: u64) -> Option<Segment> {
        let w = self.word_size() as u64;
        // Elf64_Phdr: type, flags, offset, vaddr, paddr, filesz, memsz, align;
        // Elf32_Phdr: type, offset, vaddr, paddr, filesz, memsz, flags, align.
        let (size, flags_at, offset_at, filesz_at) = if self.elf64 {
            (56, 4, 8, 32)
        } else {
            (32, 24, 4, 16)
        };
        let at = self.phoff.checked_add(i.checked_mul(size)?)?;
        let ws = w as usize;
        Some(Segment {
            p_type: self.field(bytes, at, 0, 4)? as u32,
            flags: self.field(bytes, at, flags_at, 4)? as u32,
            offset: self.field(bytes, at, offset_at, ws)?,
            filesz: self.field(bytes, at, filesz_at, ws)?,
            memsz: self.field(bytes, at, filesz_at + w, ws)?,
            header_at: at,
        })
    }

    /// Where `p_memsz` of the program header at `header_at` is, and its width.
    pub fn memsz_field(&self, header_at: u64) -> (u64, usize) {
        if self.elf64 {
            (header_at + 40, 8)
        } else {
            (header_at + 20, 4)
        }
    }

    /// The section headers with their names, as far as they lie in the file.
    fn sections<'a>(&self, bytes: &'a [u8]) -> Vec<Section<'a>> {
        let raw: Vec<(u64, Section<'a>)> = (0..self.shnum)
            .map_while(|i| self.section(bytes, i))
            .collect();
        // SHN_XINDEX: the name table's index is in section 0's sh_link.
        let names_index = match self.shstrndx {
            0xffff => raw.first().map_or(0, |(_, s)| u64::from(s.link)),
            i => i,
        };
        let names = raw
            .get(names_index as usize)
            .map_or(&[][..], |(_, s)| clipped(bytes, s.offset, s.size));
        raw.into_iter()
            .map(|(name_at, s)| Section {
                name: name_in(names, name_at),
                ..s
            })
            .collect()
    }

    /// One section header and the offset of its name in the name table.
    fn section<'a>(&self, bytes: &'a [u8], i: u64) -> Option<(u64, Section<'a>)> {
        let w = self.word_size() as u64;
        let ws = w as usize;
        // sh_name, sh_type, sh_flags, sh_addr, sh_offset, sh_size, sh_link.
        let (size, offset_at) = if self.elf64 { (64, 24) } else { (40, 16) };
        let at = self.shoff.checked_add(i.checked_mul(size)?)?;
        Some((
            self.field(bytes, at, 0, 4)?,
            Section {
                name: &[],
                sh_type: self.field(bytes, at, 4, 4)? as u32,
                offset: self.field(bytes, at, offset_at, ws)?,
                size: self.field(bytes, at, offset_at + w, ws)?,
                link: self.field(bytes, at, offset_at + 2 * w, 4)? as u32,
            },
        ))
    }
}

/// The NUL-terminated name at `at` in `names` (empty when outside or unterminated).
fn name_in(names: &[u8], at: u64) -> &[u8] {
    let rest = usize::try_from(at)
        .ok()
        .and_then(|a| names.get(a..))
        .unwrap_or_default();
    memchr::memchr(0, rest).map_or(&[][..], |end| &rest[..end])
}

/// `bytes[offset..offset + size]`, cut at the end of the file (empty when it starts beyond).
pub(super) fn clipped(bytes: &[u8], offset: u64, size: u64) -> &[u8] {
    let len = bytes.len() as u64;
    let start = offset.min(len) as usize;
    let end = offset.saturating_add(size).min(len) as usize;
    &bytes[start..end]
}

impl<'a> Layout<'a> {
    pub fn read(bytes: &'a [u8]) -> Option<Layout<'a>> {
        let header = Header::read(bytes)?;
        Some(Layout {
            bytes,
            header,
            segments: header.segments(bytes),
            sections: header.sections(bytes),
        })
    }

    pub fn section(&self, name: &str) -> Option<&Section<'a>> {
        self.sections.iter().find(|s| s.name == name.as_bytes())
    }

    /// A section's bytes in the file (none for `SHT_NOBITS`), cut at the end of the file.
    pub fn data(&self, s: &Section<'_>) -> &'a [u8] {
        if s.sh_type == SHT_NOBITS {
            return &[];
        }
        clipped(self.bytes, s.offset, s.size)
    }

    /// A segment's bytes in the file, cut at the end of the file.
    pub fn segment_data(&self, s: &Segment) -> &'a [u8] {
        clipped(self.bytes, s.offset, s.filesz)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_headers_of_this_test_program() {
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let l = Layout::read(&exe).unwrap();
        assert!(l.header.elf64 && l.header.little);
        assert!(l.segments.iter().any(|s| s.p_type == PT_LOAD));
        assert!(l.section(".text").is_some());
        assert!(l.section(".rodata").is_some());
    }

    #[test]
    fn not_elf_and_cut_short_files_give_what_is_there() {
        assert!(Layout::read(b"").is_none());
        assert!(Layout::read(b"\x7fELF").is_none());
        assert!(Layout::read(b"MZ\x90\x00").is_none());
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let l = Layout::read(&exe[..200]).unwrap();
        assert!(l.sections.is_empty());
        assert!(l.segments.len() <= 2);
    }
}
