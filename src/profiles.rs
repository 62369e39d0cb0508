//! Getting a [`BaseProfile`] for an image: from the on-disk cache (keyed by image ID, with a
//! format version), or by streaming the filesystem of a created, never-started container through
//! the Engine API — one file in memory at a time, nothing written to disk but the profile.

use std::io::Read;
use std::path::PathBuf;

use futures_util::TryStreamExt;

use crate::base::{self, BaseProfile, Builder};
use crate::docker::{ContainerSpec, Engine, Sandbox};

/// `$XDG_CACHE_HOME/libccheck/bases` (or `~/.cache/...`); `LIBCCHECK_CACHE_DIR` overrides.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("LIBCCHECK_CACHE_DIR") {
        return PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("libccheck").join("bases")
}

/// The hex digits of an image ID (`sha256:` dropped).
fn id_hex(image_id: &str) -> String {
    image_id
        .trim_start_matches("sha256:")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// `v<FORMAT>-<id>.bin`: postcard, each library's profile encoded on its own inside (decoded when
/// a prediction first needs it). Loading the profile of a 400-library base maps under 2 MB and
/// copies little of it: about 1 ms.
fn cache_file(image_id: &str) -> PathBuf {
    cache_dir().join(format!("v{}-{}.bin", base::FORMAT, id_hex(image_id)))
}

/// A cached profile, if present, readable, of this format and this image; anything else is
/// ignored (and rebuilt by the caller).
pub fn load_cached(image_id: &str) -> Option<BaseProfile> {
    let p = match read_cache_file(&cache_file(image_id)) {
        Ok(p) => p,
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!("ignoring the cached profile of {image_id}: {e}");
            }
            return None;
        }
    };
    (p.format == base::FORMAT && p.image_id == image_id).then_some(p)
}

/// Read one profile cache file (any image, any format version a caller then checks).
/// The file is mapped, not read: each library's encoded profile and its export lines stay slices
/// of the mapping (see [`shared_bytes`](crate::shared_bytes)). Cache files are only ever replaced
/// by a rename, never rewritten in place, so the mapped file does not change under us.
/// The file ends in a CRC-32 of everything before it: a damaged byte anywhere (inside a library's
/// encoded profile too, which is decoded only later) means a rebuild, never another answer.
pub fn read_cache_file(path: &std::path::Path) -> std::io::Result<BaseProfile> {
    let file = std::fs::File::open(path)?;
    // SAFETY: read-only private map of a file replaced only by rename (see above).
    let map = unsafe { memmap2::Mmap::map(&file)? };
    let bytes = bytes::Bytes::from_owner(map);
    let body =
        checked_body(&bytes).ok_or_else(|| std::io::Error::other("corrupt: checksum mismatch"))?;
    crate::shared_bytes::decoding_from(&body, || postcard::from_bytes(&body))
        .map_err(|e| std::io::Error::other(format!("corrupt: {e}")))
}

/// The cache file's content without its checksum, if the checksum matches.
fn checked_body(file: &bytes::Bytes) -> Option<bytes::Bytes> {
    let at = file.len().checked_sub(4)?;
    let sum = u32::from_le_bytes(file[at..].try_into().ok()?);
    (crc32fast::hash(&file[..at]) == sum).then(|| file.slice(..at))
}

/// Write one profile cache file, atomically (a temporary file renamed over it).
pub fn write_cache_file(path: &std::path::Path, p: &BaseProfile) -> std::io::Result<()> {
    let mut bytes = postcard::to_stdvec(p).map_err(std::io::Error::other)?;
    let sum = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&sum.to_le_bytes());
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp.as_file(), &bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

pub fn store(p: &BaseProfile) {
    let path = cache_file(&p.image_id);
    // Profiles of other formats for this image are stale now.
    let id = id_hex(&p.image_id);
    if let Ok(rd) = std::fs::read_dir(path.parent().unwrap()) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            let of_image = n
                .split_once('-')
                .is_some_and(|(_, rest)| rest.split('.').next() == Some(id.as_str()));
            if of_image && e.path() != path {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    if let Err(e) = write_cache_file(&path, p) {
        tracing::warn!(
            "cannot cache the profile of {} in {}: {e}",
            p.image_id,
            path.display()
        );
    }
}

/// Walk a tar stream of a filesystem, one entry at a time, paths made absolute.
fn walk_tar<R: Read>(
    reader: R,
    mut visit: impl FnMut(
        String,
        tar::EntryType,
        Option<String>,
        &mut dyn ReadSized,
    ) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries()? {
        let mut e = entry?;
        let path = format!(
            "/{}",
            e.path()?
                .to_string_lossy()
                .trim_start_matches("./")
                .trim_end_matches('/')
        );
        let kind = e.header().entry_type();
        let target = match kind {
            tar::EntryType::Symlink => e.link_name()?.map(|t| t.to_string_lossy().into_owned()),
            tar::EntryType::Link => e
                .link_name()?
                .map(|t| format!("/{}", t.to_string_lossy().trim_start_matches("./"))),
            _ => None,
        };
        visit(path, kind, target, &mut e)?;
    }
    Ok(())
}

/// A tar entry's content and size.
pub trait ReadSized: Read {
    fn size(&self) -> u64;
}

impl<R: Read> ReadSized for tar::Entry<'_, R> {
    fn size(&self) -> u64 {
        tar::Entry::size(self)
    }
}

/// Read a tar stream of an image filesystem into a profile.
pub fn from_tar(reader: impl Read, image_id: &str) -> std::io::Result<BaseProfile> {
    let mut b = Builder::default();
    let mut buf = Vec::new();
    walk_tar(reader, |path, kind, target, e| {
        match (kind, target) {
            (tar::EntryType::Symlink, Some(t)) => b.add_link(&path, &t),
            (tar::EntryType::Link, Some(t)) => b.add_hardlink(&path, &t),
            (tar::EntryType::Regular | tar::EntryType::Continuous, _) => {
                b.add_other(&path);
                if b.wants(&path, e.size()) {
                    buf.clear();
                    e.read_to_end(&mut buf)?;
                    b.add_file(&path, &buf);
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    Ok(b.finish(image_id))
}

/// The profile of `image` (whose ID is `image_id`): cached, or read from the image now.
pub async fn profile<E: Engine>(
    engine: &E,
    image: &str,
    image_id: &str,
    run_id: &str,
) -> Result<BaseProfile, String> {
    let t = std::time::Instant::now();
    if let Some(p) = load_cached(image_id) {
        tracing::debug!(ms = t.elapsed().as_millis() as u64, "loaded cached profile");
        return Ok(p);
    }
    let id_owned = image_id.to_string();
    let p = with_image_tar(engine, image, run_id, move |r| from_tar(r, &id_owned)).await?;
    store(&p);
    Ok(p)
}

/// Entries larger than this are spilled to a temporary file while an audit source is read.
const SPILL_BYTES: u64 = 16 << 20;

/// Read the source of an audit from a tar stream of its filesystem.
pub fn source_from_tar(reader: impl Read) -> std::io::Result<crate::audit::Source> {
    use crate::audit::SourceBuilder;
    let mut b = SourceBuilder::default();
    let mut buf = Vec::new();
    walk_tar(reader, |path, kind, target, e| {
        match (kind, target) {
            (tar::EntryType::Symlink | tar::EntryType::Link, Some(t)) => b.add_link(&path, &t),
            (tar::EntryType::Regular | tar::EntryType::Continuous, _) => {
                buf.clear();
                if SourceBuilder::wants_text(&path) {
                    e.read_to_end(&mut buf)?;
                    b.add_file(&path, &buf);
                    return Ok(());
                }
                let mut magic = [0u8; 4];
                if e.size() < 52 || e.read_exact(&mut magic).is_err() || &magic != b"\x7fELF" {
                    b.add_non_elf();
                    return Ok(());
                }
                if e.size() > SPILL_BYTES {
                    // A very large object: through a temporary file and a map, so that only the
                    // pages the parser touches are in memory.
                    let mut tmp = tempfile::tempfile()?;
                    std::io::Write::write_all(&mut tmp, &magic)?;
                    std::io::copy(e, &mut tmp)?;
                    // SAFETY: a private temporary file nobody else writes.
                    let map = unsafe { memmap2::Mmap::map(&tmp)? };
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

/// A root directory on the host, walked as an image's `/`: symlinks are recorded (never followed,
/// so an absolute link means that path inside the root), regular files listed; unreadable
/// entries are skipped.
struct RootWalk {
    links: Vec<(String, String)>,
    files: Vec<(String, std::path::PathBuf)>,
}

fn walk_root(root: &std::path::Path) -> RootWalk {
    let mut w = RootWalk {
        links: vec![],
        files: vec![],
    };
    for e in walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by_file_name()
    {
        let Ok(e) = e else { continue };
        let rel = e.path().strip_prefix(root).unwrap_or(e.path());
        let path = format!("/{}", rel.to_string_lossy());
        if e.file_type().is_symlink() {
            if let Ok(t) = std::fs::read_link(e.path()) {
                w.links.push((path, t.to_string_lossy().into_owned()));
            }
        } else if e.file_type().is_file() {
            w.files.push((path, e.into_path()));
        }
    }
    w
}

/// A base profile from a root directory on the host (for `catalog-entry --dir`).
pub fn profile_from_dir(root: &std::path::Path, image_id: &str) -> BaseProfile {
    let walk = walk_root(root);
    let mut b = Builder::default();
    for (path, target) in &walk.links {
        b.add_link(path, target);
    }
    for (path, host) in &walk.files {
        b.add_other(path);
        let size = std::fs::metadata(host).map(|m| m.len()).unwrap_or(0);
        if b.wants(path, size)
            && let Ok(bytes) = std::fs::read(host)
        {
            b.add_file(path, &bytes);
        }
    }
    b.finish(image_id)
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
            let child = crate::base::join(&path, &name.to_string_lossy());
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
    crate::report::io_message(e).to_lowercase()
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
        let n = match read_full(&mut f, &mut header) {
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
            // SAFETY: read-only private map of a file we only read (see inspect).
            return match unsafe { memmap2::Mmap::map(&f) } {
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

/// Read until `buf` is full or the file ends; the number of bytes read.
fn read_full(f: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
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

/// Export a created, never-started container of `image` and hand its tar stream to `read`
/// (on a blocking thread). The container is removed on every path.
pub async fn with_image_tar<E: Engine, T: Send + 'static>(
    engine: &E,
    image: &str,
    run_id: &str,
    read: impl FnOnce(Box<dyn Read + Send>) -> std::io::Result<T> + Send + 'static,
) -> Result<T, String> {
    let spec = ContainerSpec {
        image: image.to_string(),
        entrypoint: vec!["/libccheck-never-started".into()],
        cmd: vec![],
        env: vec![],
        // Never started; its export may take a while for a large image.
        labels: crate::owner::labels(run_id, std::time::Duration::from_secs(3600)),
        sandbox: Sandbox::default(),
        user: Sandbox::default().user,
        cap_add: vec![],
        work_dir: String::new(),
    };
    let id = engine.create(&spec).await.map_err(|e| e.to_string())?;
    let stream = engine.export(&id).map_err(std::io::Error::other);
    let reader = tokio_util::io::StreamReader::new(stream);
    let result = tokio::task::spawn_blocking(move || {
        read(Box::new(tokio_util::io::SyncIoBridge::new(reader)))
    })
    .await;
    if let Err(e) = engine.remove(&id).await {
        tracing::warn!("could not remove container {id}: {e}");
    }
    result
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("reading the filesystem of {image}: {e}"))
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

    /// A profile written to the cache reads back equal through the mapping, its libraries' export
    /// tables shared with the mapping (not copied) and still usable and extendable.
    #[test]
    fn any_damaged_byte_of_a_cache_file_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("usr/lib/x86_64-linux-gnu");
        std::fs::create_dir_all(&dir).unwrap();
        let real = std::fs::canonicalize("/usr/lib/x86_64-linux-gnu/libz.so.1").unwrap();
        std::fs::copy(real, dir.join("libz.so.1")).unwrap();
        let profile = profile_from_dir(root.path(), "sha256:test");
        let cache = tempfile::tempdir().unwrap();
        let path = cache.path().join("p.bin");
        write_cache_file(&path, &profile).unwrap();
        let good = std::fs::read(&path).unwrap();
        // Every byte, the library's encoded profile and export lines included.
        for at in (0..good.len()).step_by(3) {
            let mut bad = good.clone();
            bad[at] ^= 0x10;
            std::fs::write(&path, &bad).unwrap();
            assert!(
                read_cache_file(&path).is_err(),
                "byte {at} of {} flipped: accepted",
                good.len()
            );
        }
        std::fs::write(&path, &good).unwrap();
        assert_eq!(read_cache_file(&path).unwrap(), profile);
    }

    #[test]
    fn cached_profiles_read_back_from_the_mapping() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("usr/lib/x86_64-linux-gnu");
        std::fs::create_dir_all(&dir).unwrap();
        let mut copied = 0;
        for lib in ["libz.so.1", "libm.so.6", "libc.so.6"] {
            let host = std::path::Path::new("/usr/lib/x86_64-linux-gnu").join(lib);
            if let Ok(real) = std::fs::canonicalize(&host)
                && std::fs::copy(real, dir.join(lib)).is_ok()
            {
                copied += 1;
            }
        }
        assert!(copied >= 2, "host libraries to profile");
        let profile = profile_from_dir(root.path(), "sha256:test");
        assert!(profile.libraries.len() >= 2);
        let cache = tempfile::tempdir().unwrap();
        let path = cache.path().join("p.bin");
        write_cache_file(&path, &profile).unwrap();
        let back = read_cache_file(&path).unwrap();
        assert_eq!(back, profile);
        for (path, lib) in &back.libraries {
            assert!(lib.exports.is_shared(), "{path}: export table copied");
            assert!(!lib.exports.is_empty(), "{path}: no exports");
        }
        let (_, lib) = back
            .libraries
            .iter()
            .find(|(p, _)| p.ends_with("libm.so.6") || p.ends_with("libc.so.6"))
            .unwrap();
        let mut exports = lib.exports.clone();
        let before = exports.len();
        exports.push("libccheck_test_symbol", Some("X_1"), true);
        assert!(exports.has_default("libccheck_test_symbol") && !exports.is_shared());
        assert_eq!(exports.len(), before + 1);
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
