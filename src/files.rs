//! Reading host files: the one memory map libccheck makes, and reading a file's first bytes.

use std::io::Read;

/// Map `f` read-only. Large files (libraries of hundreds of MB, the profile cache) are mapped so
/// that only the pages the parser touches are read.
pub fn map(f: &std::fs::File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: the map is read-only and private, and every parser bounds-checks its reads against
    // its length. A file another process truncates while it is mapped can still fault (SIGBUS),
    // the trade-off readelf, scanelf and every mmap-based tool make; the profile cache is only
    // ever replaced by a rename, never rewritten in place.
    unsafe { memmap2::Mmap::map(f) }
}

/// Read until `buf` is full or the input ends; the number of bytes read.
pub fn read_full(f: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
