//! The two ELF notes a loader or kernel acts on: the `.note.ABI-tag` minimum kernel and the GNU
//! property note's x86-64 ISA level. Parsed by hand with bounds checks: note segments in the wild
//! are often padded oddly and must never make the parser fail.

const NT_GNU_ABI_TAG: u32 = 1;
const NT_GNU_PROPERTY_TYPE_0: u32 = 5;
const GNU_PROPERTY_X86_ISA_1_NEEDED: u32 = 0xc000_8002;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct NoteFacts {
    /// `Linux 3.2.0` from `.note.ABI-tag`.
    pub abi_tag: Option<String>,
    /// x86-64 ISA levels needed (`x86-64-baseline`, `x86-64-v2`, …, `unknown:0x10` for bits no
    /// level has yet) from the GNU property note.
    pub x86_isa_needed: Vec<String>,
}

fn read_u32(b: &[u8], off: usize, little: bool) -> Option<u32> {
    super::bytes::word(b, off, 4, little).map(|v| v as u32)
}

fn align_up(v: usize, a: usize) -> Option<usize> {
    v.checked_add(a - 1).map(|x| x & !(a - 1))
}

/// Scan one note segment (`seg` are its bytes; `align` is 4 or 8) and add what it says to `facts`.
pub fn scan(seg: &[u8], align: usize, little: bool, elf64: bool, facts: &mut NoteFacts) {
    let align = if align == 8 { 8 } else { 4 };
    let mut off = 0usize;
    while off + 12 <= seg.len() {
        let (Some(namesz), Some(descsz), Some(ntype)) = (
            read_u32(seg, off, little),
            read_u32(seg, off + 4, little),
            read_u32(seg, off + 8, little),
        ) else {
            return;
        };
        let name_start = off + 12;
        let Some(desc_start) = align_up(name_start + namesz as usize, align) else {
            return;
        };
        let Some(desc_end) = desc_start.checked_add(descsz as usize) else {
            return;
        };
        let (Some(name), Some(desc)) = (
            seg.get(name_start..name_start + namesz as usize),
            seg.get(desc_start..desc_end),
        ) else {
            return;
        };
        if name == b"GNU\0" {
            match ntype {
                NT_GNU_ABI_TAG if desc.len() >= 16 => {
                    let os = read_u32(desc, 0, little).unwrap_or(u32::MAX);
                    let os_name = match os {
                        0 => "Linux",
                        1 => "GNU",
                        2 => "Solaris",
                        3 => "FreeBSD",
                        _ => "unknown OS",
                    };
                    let v: Vec<u32> = (1..4)
                        .filter_map(|i| read_u32(desc, i * 4, little))
                        .collect();
                    facts.abi_tag = Some(format!("{os_name} {}.{}.{}", v[0], v[1], v[2]));
                }
                NT_GNU_PROPERTY_TYPE_0 => scan_properties(desc, little, elf64, facts),
                _ => {}
            }
        }
        match align_up(desc_end, align) {
            Some(next) if next > off => off = next,
            _ => return,
        }
    }
}

fn scan_properties(desc: &[u8], little: bool, elf64: bool, facts: &mut NoteFacts) {
    let palign = if elf64 { 8 } else { 4 };
    let mut off = 0usize;
    while off + 8 <= desc.len() {
        let (Some(ptype), Some(size)) =
            (read_u32(desc, off, little), read_u32(desc, off + 4, little))
        else {
            return;
        };
        let data = off + 8;
        if ptype == GNU_PROPERTY_X86_ISA_1_NEEDED
            && size >= 4
            && let Some(bits) = read_u32(desc, data, little)
        {
            for (bit, name) in [
                (1, "x86-64-baseline"),
                (2, "x86-64-v2"),
                (4, "x86-64-v3"),
                (8, "x86-64-v4"),
            ] {
                if bits & bit != 0 {
                    facts.x86_isa_needed.push(name.to_string());
                }
            }
            // Bits of levels not defined yet: glibc's loader refuses them on every CPU.
            if bits & !0xf != 0 {
                facts
                    .x86_isa_needed
                    .push(format!("unknown:{:#x}", bits & !0xf));
            }
        }
        match data
            .checked_add(size as usize)
            .and_then(|e| align_up(e, palign))
        {
            Some(next) if next > off => off = next,
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(name: &[u8], ntype: u32, desc: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend((name.len() as u32).to_le_bytes());
        v.extend((desc.len() as u32).to_le_bytes());
        v.extend(ntype.to_le_bytes());
        v.extend(name);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v.extend(desc);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    #[test]
    fn abi_tag_and_isa_level() {
        let mut desc = Vec::new();
        for x in [0u32, 3, 2, 0] {
            desc.extend(x.to_le_bytes());
        }
        let mut seg = note(b"GNU\0", 1, &desc);
        let mut prop = Vec::new();
        prop.extend(GNU_PROPERTY_X86_ISA_1_NEEDED.to_le_bytes());
        prop.extend(4u32.to_le_bytes());
        prop.extend(3u32.to_le_bytes());
        prop.extend(0u32.to_le_bytes());
        seg.extend(note(b"GNU\0", 5, &prop));
        let mut f = NoteFacts::default();
        scan(&seg, 4, true, true, &mut f);
        assert_eq!(f.abi_tag.as_deref(), Some("Linux 3.2.0"));
        assert_eq!(f.x86_isa_needed, vec!["x86-64-baseline", "x86-64-v2"]);
    }

    #[test]
    fn isa_bits_of_no_level_yet_are_named() {
        let mut prop = Vec::new();
        prop.extend(GNU_PROPERTY_X86_ISA_1_NEEDED.to_le_bytes());
        prop.extend(4u32.to_le_bytes());
        prop.extend(0x19u32.to_le_bytes());
        prop.extend(0u32.to_le_bytes());
        let mut f = NoteFacts::default();
        scan(&note(b"GNU\0", 5, &prop), 8, true, true, &mut f);
        assert_eq!(
            f.x86_isa_needed,
            vec!["x86-64-baseline", "x86-64-v4", "unknown:0x10"]
        );
    }

    #[test]
    fn garbage_does_not_panic() {
        let mut f = NoteFacts::default();
        scan(&[0xff; 40], 8, true, true, &mut f);
        scan(
            &[1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 5, 0, 0, 0],
            4,
            true,
            true,
            &mut f,
        );
        assert_eq!(f, NoteFacts::default());
    }
}
