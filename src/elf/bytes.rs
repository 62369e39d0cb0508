//! Reading fixed-size fields of either byte order from ELF bytes. A leaf of `elf`.

/// The unsigned `size`-byte (2, 4 or 8) field at `at`, `None` past the end.
pub(crate) fn word(bytes: &[u8], at: usize, size: usize, little: bool) -> Option<u64> {
    let b = bytes.get(at..at.checked_add(size)?)?;
    Some(match (size, little) {
        (8, true) => u64::from_le_bytes(b.try_into().ok()?),
        (8, false) => u64::from_be_bytes(b.try_into().ok()?),
        (4, true) => u32::from_le_bytes(b.try_into().ok()?) as u64,
        (4, false) => u32::from_be_bytes(b.try_into().ok()?) as u64,
        (2, true) => u16::from_le_bytes(b.try_into().ok()?) as u64,
        (2, false) => u16::from_be_bytes(b.try_into().ok()?) as u64,
        _ => return None,
    })
}
