//! Reading the source of an audit — an image's exported filesystem or a root directory — into
//! [`Source`]: each file's loader profile (only the parts the loader reads), links and packages.

use std::io::Read;

use crate::image::entry::FileKind;
use crate::image::read::walk_tar;

/// Entries larger than this are spilled to a temporary file while an audit source is read.
const SPILL_BYTES: u64 = 16 << 20;

/// Read the source of an audit from a tar stream of its filesystem.
pub fn source_from_tar(reader: impl Read) -> std::io::Result<crate::audit::Source> {
    use crate::audit::SourceBuilder;
    let mut b = SourceBuilder::default();
    let mut buf = Vec::new();
    walk_tar(reader, |item, e| {
        let path = item.path;
        let executable = item.mode.is_some_and(|m| m & 0o111 != 0);
        match (item.kind, item.target) {
            (tar::EntryType::Symlink, Some(t)) => b.add_link(&path, &t),
            (tar::EntryType::Link, Some(t)) => b.add_hardlink(&path, &t),
            (tar::EntryType::Directory, _) => b.add_kind(&path, FileKind::Directory),
            (tar::EntryType::Regular | tar::EntryType::Continuous, _) => {
                buf.clear();
                if SourceBuilder::wants_text(&path) {
                    b.add_kind(&path, FileKind::Other { executable });
                    e.read_to_end(&mut buf)?;
                    b.add_file(&path, &buf);
                    return Ok(());
                }
                let mut magic = [0u8; 4];
                let read = e.size() >= 4 && e.read_exact(&mut magic).is_ok();
                if !read || &magic != b"\x7fELF" || e.size() < 52 {
                    b.add_kind(&path, not_elf_kind(read.then_some(&magic), e, executable));
                    b.add_non_elf();
                    return Ok(());
                }
                b.add_kind(&path, FileKind::Elf { executable });
                if e.size() > SPILL_BYTES {
                    // A very large object: through a temporary file and a map, so that only the
                    // pages the parser touches are in memory.
                    let mut tmp = tempfile::tempfile()?;
                    std::io::Write::write_all(&mut tmp, &magic)?;
                    std::io::copy(e, &mut tmp)?;
                    let map = crate::files::map(&tmp)?;
                    b.add_file(&path, &map);
                    return Ok(());
                }
                buf.extend_from_slice(&magic);
                e.read_to_end(&mut buf)?;
                b.add_file(&path, &buf);
                if buf.capacity() > 4 * SPILL_BYTES as usize {
                    buf = Vec::new();
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(b.finish())
}

/// What a file that is not ELF is to exec: a script when it starts with `#!` (the rest of its
/// first line, at most 256 bytes, is its shebang), else a file exec refuses.
fn not_elf_kind(magic: Option<&[u8; 4]>, rest: impl Read, executable: bool) -> FileKind {
    match magic {
        Some(m) if m.starts_with(b"#!") => {
            let mut line = m[2..].to_vec();
            let _ = rest.take(256).read_to_end(&mut line);
            let end = line.iter().position(|&b| b == b'\n').unwrap_or(line.len());
            FileKind::Script {
                executable,
                // Only what the kernel strips: a carriage return stays part of the name.
                shebang: String::from_utf8_lossy(&line[..end]).to_string(),
            }
        }
        _ => FileKind::Other { executable },
    }
}

/// Read the source of an audit from a root directory on the host: directories are walked and
/// files read in parallel (rayon tasks), symlinks recorded, never followed.
pub fn source_from_dir(root: &std::path::Path) -> crate::audit::Source {
    use crate::audit::{Item, SourceBuilder};
    use std::sync::Mutex;
    #[derive(Default)]
    struct Found {
        links: Vec<(String, String)>,
        items: Vec<Item>,
    }
    let found = Mutex::new(Found::default());
    fn walk<'s>(
        scope: &rayon::Scope<'s>,
        host: std::path::PathBuf,
        path: String,
        found: &'s Mutex<Found>,
    ) {
        // Errors name the path inside the root, as every other line of the audit does.
        let fail = |at: &str, e: std::io::Error| {
            let item = Item::Unreadable(at.to_string(), io_why(&e));
            found.lock().unwrap().items.push(item);
        };
        let rd = match std::fs::read_dir(&host) {
            Ok(rd) => rd,
            Err(e) => return fail(&path, e),
        };
        let mut files = Vec::new();
        let mut links = Vec::new();
        for e in rd {
            let e = match e {
                Ok(e) => e,
                Err(err) => {
                    fail(&path, err);
                    continue;
                }
            };
            let name = e.file_name();
            let child = crate::image::base::join(&path, &name.to_string_lossy());
            match e.file_type() {
                Ok(t) if t.is_dir() => {
                    scope.spawn(move |s| walk(s, e.path(), child, found));
                }
                Ok(t) if t.is_symlink() => {
                    if let Ok(target) = std::fs::read_link(e.path()) {
                        links.push((child, target.to_string_lossy().into_owned()));
                    }
                }
                Ok(t) if t.is_file() => files.push((child, e.path())),
                Ok(_) => {}
                Err(err) => fail(&child, err),
            }
        }
        found.lock().unwrap().links.extend(links);
        // Files in batches: big directories (/usr/lib/<triplet>) spread over the threads.
        for batch in files.chunks(24).map(|c| c.to_vec()) {
            scope.spawn(move |_| {
                let items: Vec<Item> = batch.iter().map(|(p, h)| read_item(p, h)).collect();
                found.lock().unwrap().items.extend(items);
            });
        }
    }
    rayon::scope(|s| walk(s, root.to_path_buf(), "/".to_string(), &found));
    let found = found.into_inner().unwrap();
    let mut b = SourceBuilder::default();
    for (path, target) in &found.links {
        b.add_link(path, target);
    }
    for i in found.items {
        b.add_item(i);
    }
    b.finish()
}

/// An I/O error as the one-line reason of an unreadable entry.
fn io_why(e: &std::io::Error) -> String {
    crate::text::io_message(e).to_lowercase()
}

/// One regular file of an audit source: the ELF header is read first (most files are not ELF);
/// of an ELF file only the parts the loader simulation looks at are read (see
/// [`elf::loader_ranges`](crate::elf::loader_ranges)) into a reused per-thread buffer, or it is
/// mapped when large.
fn read_item(path: &str, host: &std::path::Path) -> crate::audit::Item {
    use crate::audit::{Item, SourceBuilder};
    use std::cell::RefCell;
    thread_local! {
        static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    let unreadable = |e: std::io::Error| Item::Unreadable(path.to_string(), io_why(&e));
    let mut f = match std::fs::File::open(host) {
        Ok(f) => f,
        Err(e) => return unreadable(e),
    };
    BUF.with_borrow_mut(|buf| {
        if SourceBuilder::wants_text(path) {
            buf.clear();
            return match f.read_to_end(buf) {
                Ok(_) => SourceBuilder::parse_entry(path, buf),
                Err(e) => unreadable(e),
            };
        }
        let mut header = [0u8; 64];
        let n = match crate::files::read_full(&mut f, &mut header) {
            Ok(n) => n,
            Err(e) => return unreadable(e),
        };
        if n < 4 || &header[..4] != b"\x7fELF" {
            return Item::NonElf;
        }
        if n < header.len() {
            return SourceBuilder::parse_entry(path, &header[..n]);
        }
        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
        if size > 256 << 10 {
            return match crate::files::map(&f) {
                Ok(m) => SourceBuilder::parse_entry(path, &m),
                Err(e) => unreadable(e),
            };
        }
        match read_for_loader(&f, &header, size as usize, buf) {
            Ok(()) => SourceBuilder::parse_entry(path, &buf[..size as usize]),
            Err(e) => unreadable(e),
        }
    })
}

/// Fill `buf[..size]` with what the loader simulation reads of an ELF file whose first bytes
/// are `head`: the whole of a small file, else the ranges [`elf::loader_ranges`] names, round by
/// round, neighbours read in one call. Bytes outside those ranges are left as they were.
fn read_for_loader(
    f: &std::fs::File,
    head: &[u8],
    size: usize,
    buf: &mut Vec<u8>,
) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    /// Files up to this size are read whole; gaps up to this size are read through.
    const SMALL: usize = 16 << 10;
    if buf.len() < size {
        buf.resize(size, 0);
    }
    let bytes = &mut buf[..size];
    let head = &head[..head.len().min(size)];
    bytes[..head.len()].copy_from_slice(head);
    if size <= SMALL {
        return f.read_exact_at(&mut bytes[head.len()..], head.len() as u64);
    }
    let mut loaded: Vec<std::ops::Range<usize>> = Vec::with_capacity(8);
    loaded.push(0..head.len());
    for round in 0..crate::elf::LOADER_ROUNDS {
        let Some(mut want) = crate::elf::loader_ranges(bytes, round) else {
            return f.read_exact_at(&mut bytes[head.len()..], head.len() as u64);
        };
        want.retain(|r| {
            !r.is_empty() && !loaded.iter().any(|l| l.start <= r.start && r.end <= l.end)
        });
        want.sort_unstable_by_key(|r| r.start);
        let mut reads: Vec<std::ops::Range<usize>> = Vec::with_capacity(want.len());
        for r in want {
            match reads.last_mut() {
                Some(last) if r.start <= last.end + SMALL => last.end = last.end.max(r.end),
                _ => reads.push(r),
            }
        }
        for r in reads {
            f.read_exact_at(&mut bytes[r.clone()], r.start as u64)?;
            loaded.push(r);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_as_whole_read(host: &std::path::Path) -> bool {
        let Ok(bytes) = std::fs::read(host) else {
            return false;
        };
        let whole = crate::audit::SourceBuilder::parse_entry("/f", &bytes);
        let partial = read_item("/f", host);
        assert_eq!(
            format!("{partial:?}"),
            format!("{whole:?}"),
            "{} read in parts differs from read whole",
            host.display()
        );
        bytes.len() > 16 << 10 && bytes.len() <= 256 << 10 && bytes.starts_with(b"\x7fELF")
    }

    /// Every ELF file of the host's library and program directories reads the same in parts as
    /// whole, and so do damaged copies of a library (cut at several points, a header scribbled on).
    #[test]
    fn reading_only_the_loader_parts_changes_nothing() {
        let mut partial = 0;
        for dir in [
            "/usr/lib/x86_64-linux-gnu",
            "/usr/lib",
            "/usr/bin",
            "/usr/sbin",
        ] {
            let Ok(rd) = std::fs::read_dir(dir) else {
                continue;
            };
            for e in rd.flatten() {
                if e.file_type().is_ok_and(|t| t.is_file()) && same_as_whole_read(&e.path()) {
                    partial += 1;
                }
            }
        }
        assert!(partial > 20, "only {partial} files were read in parts");

        let lib = [
            "/usr/lib/x86_64-linux-gnu/libz.so.1",
            "/usr/lib/x86_64-linux-gnu/libm.so.6",
        ]
        .iter()
        .find_map(|p| std::fs::read(std::fs::canonicalize(p).ok()?).ok())
        .expect("a library to damage");
        let dir = tempfile::tempdir().unwrap();
        let n = lib.len();
        let mut damaged: Vec<Vec<u8>> = [60, 100, 4096, 20 << 10, n / 2, n - 1]
            .iter()
            .map(|&k| lib[..k.min(n)].to_vec())
            .collect();
        for at in [0x20, 0x28, 0x30, 0x3c, 0x40, 0x48] {
            let mut d = lib.clone();
            d[at..at + 4].copy_from_slice(&[0xff, 0xff, 0x7f, 0x00]);
            damaged.push(d);
        }
        for (i, d) in damaged.iter().enumerate() {
            let p = dir.path().join(format!("d{i}"));
            std::fs::write(&p, d).unwrap();
            same_as_whole_read(&p);
        }
    }
}
