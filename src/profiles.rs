//! Getting a [`BaseProfile`] for an image: from the on-disk cache (keyed by image ID, with a
//! format version), or by streaming the filesystem of a created, never-started container through
//! the Engine API — one file in memory at a time, nothing written to disk but the profile.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;

use futures_util::TryStreamExt;

use crate::base::{self, BaseProfile, Builder};
use crate::docker::{ContainerSpec, Engine, HOST_LABEL, PID_LABEL, RUN_LABEL, Sandbox};

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

fn cache_file(image_id: &str) -> PathBuf {
    let id: String = image_id
        .trim_start_matches("sha256:")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    cache_dir().join(format!("v{}-{id}.json", base::FORMAT))
}

/// A cached profile, if present, readable, of this format and this image; anything else is
/// ignored (and rebuilt by the caller).
pub fn load_cached(image_id: &str) -> Option<BaseProfile> {
    let bytes = std::fs::read(cache_file(image_id)).ok()?;
    let p: BaseProfile = match serde_json::from_slice(&bytes) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!("ignoring corrupt cached profile of {image_id}: {e}");
            return None;
        }
    };
    (p.format == base::FORMAT && p.image_id == image_id).then_some(p)
}

pub fn store(p: &BaseProfile) {
    let path = cache_file(&p.image_id);
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(path.parent().unwrap())?;
        let tmp = tempfile::NamedTempFile::new_in(path.parent().unwrap())?;
        serde_json::to_writer(std::io::BufWriter::new(tmp.as_file()), p)?;
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    };
    // Profiles of older formats for this image are stale now.
    if let Ok(rd) = std::fs::read_dir(path.parent().unwrap()) {
        let id = path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .split_once('-')
            .map(|(_, rest)| rest.to_string())
            .unwrap_or_default();
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.ends_with(&id) && e.path() != path {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    if let Err(e) = write() {
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
        let fail = |at: &std::path::Path, e: std::io::Error| {
            let item = Item::Unreadable(at.display().to_string(), io_why(&e));
            found.lock().unwrap().items.push(item);
        };
        let rd = match std::fs::read_dir(&host) {
            Ok(rd) => rd,
            Err(e) => return fail(&host, e),
        };
        let mut files = Vec::new();
        let mut links = Vec::new();
        for e in rd {
            let e = match e {
                Ok(e) => e,
                Err(err) => {
                    fail(&host, err);
                    continue;
                }
            };
            let name = e.file_name();
            let child = format!("{}/{}", path.trim_end_matches('/'), name.to_string_lossy());
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
                Err(err) => fail(&e.path(), err),
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
/// ELF files are read whole into a reused per-thread buffer, or mapped when large (the parser
/// touches a fraction of their pages).
fn read_item(path: &str, host: &std::path::Path) -> crate::audit::Item {
    use crate::audit::{Item, SourceBuilder};
    use std::cell::RefCell;
    thread_local! {
        static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    let unreadable = |e: std::io::Error| Item::Unreadable(host.display().to_string(), io_why(&e));
    let mut f = match std::fs::File::open(host) {
        Ok(f) => f,
        Err(e) => return unreadable(e),
    };
    BUF.with_borrow_mut(|buf| {
        buf.clear();
        if SourceBuilder::wants_text(path) {
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
        // Exactly the file's size: no read past the end to find it.
        buf.reserve(size as usize);
        buf.extend_from_slice(&header);
        match f
            .take(size.saturating_sub(header.len() as u64))
            .read_to_end(buf)
        {
            Ok(_) => SourceBuilder::parse_entry(path, buf),
            Err(e) => unreadable(e),
        }
    })
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
        labels: HashMap::from([
            (RUN_LABEL.to_string(), run_id.to_string()),
            (HOST_LABEL.to_string(), crate::run::hostname()),
            (PID_LABEL.to_string(), std::process::id().to_string()),
        ]),
        sandbox: Sandbox::default(),
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
