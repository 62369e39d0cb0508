//! The thread stack size a program asks for in `PT_GNU_STACK`, and the patch that changes it.
//!
//! musl (≥ 1.1.21) starts its threads with a 128 KiB stack unless the program asks for more:
//! it raises that default to the largest `PT_GNU_STACK` `p_memsz` of the program and the
//! libraries loaded at start, capped at 8 MiB (`-Wl,-z,stack-size=N` sets it). glibc sizes
//! thread stacks from the stack rlimit (8 MiB by default) and ignores the field.

use super::layout::{Header, Layout, PT_GNU_STACK};

/// `PT_GNU_STACK`'s `p_memsz`, when there is such a header and the size is not zero.
pub(super) fn stack_size(layout: &Layout<'_>) -> Option<u64> {
    layout
        .segments
        .iter()
        .find(|s| s.p_type == PT_GNU_STACK)
        .map(|s| s.memsz)
        .filter(|&size| size != 0)
}

/// The bytes to write at a file offset so that a copy of the file asks for thread stacks of
/// `size` bytes (its `PT_GNU_STACK` `p_memsz`, in the file's byte order). `None` when the file
/// has no `PT_GNU_STACK` header, or `size` does not fit an ELF32 field.
///
/// This is how a suspected thread-stack overflow is confirmed: the same program, asking for
/// more, run once more. Only that one field changes, so nothing else about the run differs.
pub fn with_stack_size(bytes: &[u8], size: u64) -> Option<(u64, Vec<u8>)> {
    let header = Header::read(bytes)?;
    let stack = header
        .segments(bytes)
        .into_iter()
        .find(|s| s.p_type == PT_GNU_STACK)?;
    let (at, width) = header.memsz_field(stack.header_at);
    let value = if width == 4 {
        let v = u32::try_from(size).ok()?;
        if header.little {
            v.to_le_bytes().to_vec()
        } else {
            v.to_be_bytes().to_vec()
        }
    } else if header.little {
        size.to_le_bytes().to_vec()
    } else {
        size.to_be_bytes().to_vec()
    };
    Some((at, value))
}

#[cfg(test)]
mod tests {
    use super::super::test_elf::TestElf;
    use super::*;

    fn patched(bytes: &[u8], size: u64) -> Vec<u8> {
        let (at, new) = with_stack_size(bytes, size).expect("has PT_GNU_STACK");
        let mut copy = bytes.to_vec();
        copy[at as usize..at as usize + new.len()].copy_from_slice(&new);
        copy
    }

    fn read_back(bytes: &[u8]) -> Option<u64> {
        stack_size(&Layout::read(bytes).unwrap())
    }

    #[test]
    fn the_patch_sets_the_stack_size_in_every_class_and_byte_order() {
        for (elf64, little) in [(true, true), (true, false), (false, true), (false, false)] {
            let f = TestElf::new(elf64, little).stack(0).build();
            assert_eq!(read_back(&f), None, "elf64={elf64} little={little}");
            let p = patched(&f, 8 << 20);
            assert_eq!(
                read_back(&p),
                Some(8 << 20),
                "elf64={elf64} little={little}"
            );
            // Only p_memsz changed.
            let differing = f.iter().zip(&p).filter(|(a, b)| a != b).count();
            assert!((1..=8).contains(&differing));
            assert_eq!(read_back(&patched(&p, 1 << 20)), Some(1 << 20));
        }
    }

    #[test]
    fn no_header_no_patch_and_elf32_has_four_bytes() {
        let f = TestElf::new(true, true).build();
        assert_eq!(with_stack_size(&f, 1 << 20), None);
        let f32 = TestElf::new(false, true).stack(0).build();
        assert_eq!(with_stack_size(&f32, 1 << 32), None);
        assert_eq!(with_stack_size(&f32, 1 << 20).unwrap().1.len(), 4);
        assert_eq!(with_stack_size(b"not elf", 1), None);
        assert_eq!(with_stack_size(&f32[..60], 1), None);
    }

    #[test]
    fn a_linked_stack_size_is_read() {
        let f = TestElf::new(true, true).stack(1 << 20).build();
        assert_eq!(read_back(&f), Some(1 << 20));
    }

    /// The host's programs: the patch re-reads as the size asked for, and the loader's parser
    /// sees the same file otherwise.
    #[test]
    fn host_programs_patch_and_reparse() {
        let mut n = 0;
        for p in ["/bin/ls", "/bin/sh", "/usr/bin/env"] {
            let Ok(bytes) = std::fs::read(p) else {
                continue;
            };
            let Some(_) = with_stack_size(&bytes, 0) else {
                continue;
            };
            let copy = patched(&bytes, 1 << 23);
            assert_eq!(read_back(&copy), Some(1 << 23), "{p}");
            assert_eq!(
                crate::elf::parse(&copy).unwrap(),
                crate::elf::parse(&bytes).unwrap()
            );
            n += 1;
        }
        assert!(n > 0, "no host program with PT_GNU_STACK");
    }
}
