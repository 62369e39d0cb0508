//! Synthetic ELF files for the tests of `needs`: a header, a read-only `PT_LOAD` over all the
//! data, an optional `PT_GNU_STACK`, and named sections (or none), in either class and byte order.

pub(super) struct TestElf {
    elf64: bool,
    little: bool,
    stack: Option<u64>,
    sections: Vec<(String, u32, Vec<u8>, u32)>,
    section_headers: bool,
}

const SHT_PROGBITS: u32 = 1;
const SHT_STRTAB: u32 = 3;

impl TestElf {
    pub fn new(elf64: bool, little: bool) -> TestElf {
        TestElf {
            elf64,
            little,
            stack: None,
            sections: Vec::new(),
            section_headers: true,
        }
    }

    /// A `PT_GNU_STACK` header with this `p_memsz`.
    pub fn stack(mut self, size: u64) -> TestElf {
        self.stack = Some(size);
        self
    }

    pub fn section(mut self, name: &str, data: &[u8]) -> TestElf {
        self.sections
            .push((name.into(), SHT_PROGBITS, data.to_vec(), 0));
        self
    }

    /// `.symtab` (with its `.strtab`): each name a global function, defined or undefined.
    pub fn symtab(mut self, functions: &[(&str, bool)]) -> TestElf {
        let mut strings = vec![0u8];
        let mut entries = vec![0u8; self.sym_size()];
        for (name, defined) in functions {
            let at = strings.len() as u64;
            strings.extend_from_slice(name.as_bytes());
            strings.push(0);
            entries.extend(self.symbol(at, *defined));
        }
        let strtab_index = self.sections.len() as u32 + 2; // after the null section and .symtab
        self.sections
            .push((".symtab".into(), 2, entries, strtab_index));
        self.sections
            .push((".strtab".into(), SHT_STRTAB, strings, 0));
        self
    }

    /// Drop the section header table (data stays, reachable through the `PT_LOAD`).
    pub fn without_section_headers(mut self) -> TestElf {
        self.section_headers = false;
        self
    }

    fn sym_size(&self) -> usize {
        if self.elf64 { 24 } else { 16 }
    }

    fn symbol(&self, name: u64, defined: bool) -> Vec<u8> {
        let info = (1 << 4) | 2; // STB_GLOBAL, STT_FUNC
        let shndx = if defined { 1 } else { 0 };
        let mut e = vec![0u8; self.sym_size()];
        self.put(&mut e, 0, name, 4);
        let (info_at, shndx_at) = if self.elf64 { (4, 6) } else { (12, 14) };
        e[info_at] = info;
        self.put(&mut e, shndx_at, shndx, 2);
        e
    }

    fn put(&self, buf: &mut [u8], at: usize, v: u64, size: usize) {
        let b = v.to_le_bytes();
        for i in 0..size {
            buf[at + i] = if self.little { b[i] } else { b[size - 1 - i] };
        }
    }

    pub fn build(self) -> Vec<u8> {
        let (eh, ph, sh) = if self.elf64 {
            (64, 56, 64)
        } else {
            (52, 32, 40)
        };
        let nph = 1 + self.stack.is_some() as usize;
        let mut out = vec![0u8; eh + nph * ph];
        // Section data, then the name table, then the section headers.
        let mut names = vec![0u8];
        let mut placed = Vec::new();
        for (name, typ, data, link) in &self.sections {
            placed.push((names.len(), *typ, out.len(), data.len(), *link));
            names.extend_from_slice(name.as_bytes());
            names.push(0);
            out.extend_from_slice(data);
        }
        let data_end = out.len();
        placed.push((names.len(), SHT_STRTAB, out.len(), 0, 0));
        names.extend_from_slice(b".shstrtab\0");
        let names_len = names.len();
        placed.last_mut().unwrap().3 = names_len;
        out.extend_from_slice(&names);
        while !out.len().is_multiple_of(8) {
            out.push(0);
        }
        let shoff = out.len();
        if self.section_headers {
            out.extend(vec![0u8; sh]); // the null section
            for &(name, typ, off, size, link) in &placed {
                out.extend(self.section_header(name, typ, off, size, link));
            }
        }
        self.header(&mut out, nph, shoff, placed.len() + 1);
        self.program_headers(&mut out, eh, data_end);
        out
    }

    fn section_header(&self, name: usize, typ: u32, off: usize, size: usize, link: u32) -> Vec<u8> {
        let mut s = vec![0u8; if self.elf64 { 64 } else { 40 }];
        let w = if self.elf64 { 8 } else { 4 };
        let off_at = if self.elf64 { 24 } else { 16 };
        self.put(&mut s, 0, name as u64, 4);
        self.put(&mut s, 4, typ as u64, 4);
        self.put(&mut s, off_at, off as u64, w);
        self.put(&mut s, off_at + w, size as u64, w);
        self.put(&mut s, off_at + 2 * w, link as u64, 4);
        s
    }

    fn header(&self, out: &mut [u8], nph: usize, shoff: usize, nsh: usize) {
        out[..4].copy_from_slice(b"\x7fELF");
        out[4] = if self.elf64 { 2 } else { 1 };
        out[5] = if self.little { 1 } else { 2 };
        out[6] = 1;
        self.put(out, 16, 2, 2); // ET_EXEC
        self.put(out, 18, 62, 2);
        let w = if self.elf64 { 8 } else { 4 };
        let (phoff_at, counts_at) = if self.elf64 { (32, 56) } else { (28, 44) };
        let eh = if self.elf64 { 64 } else { 52 };
        self.put(out, phoff_at, eh, w);
        let with_sections = self.section_headers;
        self.put(
            out,
            phoff_at + w,
            if with_sections { shoff as u64 } else { 0 },
            w,
        );
        self.put(out, counts_at, nph as u64, 2);
        self.put(
            out,
            counts_at + 4,
            if with_sections { nsh as u64 } else { 0 },
            2,
        );
        self.put(
            out,
            counts_at + 6,
            if with_sections { nsh as u64 - 1 } else { 0 },
            2,
        );
    }

    fn program_headers(&self, out: &mut [u8], eh: usize, data_end: usize) {
        let ph = if self.elf64 { 56 } else { 32 };
        let w = if self.elf64 { 8 } else { 4 };
        let (flags_at, off_at, filesz_at) = if self.elf64 { (4, 8, 32) } else { (24, 4, 16) };
        let mut write = |i: usize, typ: u64, flags: u64, off: u64, filesz: u64, memsz: u64| {
            let at = eh + i * ph;
            self.put(out, at, typ, 4);
            self.put(out, at + flags_at, flags, 4);
            self.put(out, at + off_at, off, w);
            self.put(out, at + filesz_at, filesz, w);
            self.put(out, at + filesz_at + w, memsz, w);
        };
        let len = data_end as u64;
        write(0, 1, 4, 0, len, len); // PT_LOAD, PF_R
        if let Some(size) = self.stack {
            write(1, 0x6474_e551, 6, 0, 0, size); // PT_GNU_STACK, RW
        }
    }
}
