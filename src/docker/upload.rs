//! What libccheck copies into a container, as a tar produced while it is sent: files are read
//! from disk entry by entry (never held whole in memory), so a check of a 2 GB binary on six bases
//! costs a few MiB of buffers, not six copies of the binary.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;

/// A tar body being produced for an upload.
pub type TarStream = BoxStream<'static, Result<bytes::Bytes, std::io::Error>>;

/// Where an uploaded file's bytes come from.
#[derive(Debug, Clone)]
pub enum Content {
    /// A file on the host, read when the tar is produced.
    Host(PathBuf),
    /// Bytes libccheck holds (the probe, a job list, a report key).
    Bytes(Arc<[u8]>),
    /// A directory.
    Dir,
    /// A host file with `bytes` written over it at offset `at` (a patched copy, never on disk).
    Patched {
        path: PathBuf,
        at: u64,
        bytes: Arc<[u8]>,
    },
}

/// One tar entry: a path relative to where the tar is extracted, its mode and content.
#[derive(Debug, Clone)]
pub struct Entry {
    pub dest: String,
    pub mode: u32,
    pub content: Content,
}

impl Entry {
    pub fn bytes(dest: &str, mode: u32, bytes: impl Into<Arc<[u8]>>) -> Entry {
        Entry {
            dest: dest.into(),
            mode,
            content: Content::Bytes(bytes.into()),
        }
    }
    pub fn host(dest: &str, mode: u32, path: PathBuf) -> Entry {
        Entry {
            dest: dest.into(),
            mode,
            content: Content::Host(path),
        }
    }
    pub fn dir(dest: &str) -> Entry {
        Entry {
            dest: dest.into(),
            mode: 0o755,
            content: Content::Dir,
        }
    }
}

/// The tar header of a regular file we upload: owned by root, mtime 0.
pub fn file_header(size: u64, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(size);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h
}

/// Append a regular file at `dest` (a leading `/` is dropped).
pub fn add_file<W: Write>(
    tar: &mut tar::Builder<W>,
    dest: &str,
    data: &[u8],
    mode: u32,
) -> std::io::Result<()> {
    let mut h = file_header(data.len() as u64, mode);
    tar.append_data(&mut h, dest.trim_start_matches('/'), data)
}

/// Append the host file `host` at `dest`, streamed from disk, with `patch` (offset, bytes)
/// written over it on the way.
pub fn add_host_file<W: Write>(
    tar: &mut tar::Builder<W>,
    dest: &str,
    host: &std::path::Path,
    mode: u32,
    patch: Option<(u64, &[u8])>,
) -> std::io::Result<()> {
    let f = std::fs::File::open(host)?;
    let size = f.metadata()?.len();
    let mut h = file_header(size, mode);
    let (at, bytes) = patch.unwrap_or((0, &[]));
    tar.append_data(
        &mut h,
        dest.trim_start_matches('/'),
        &mut Patch {
            inner: Exact {
                inner: f,
                left: size,
            },
            pos: 0,
            at,
            bytes,
        },
    )
}

/// `inner` with `bytes` in place of its bytes from offset `at`.
struct Patch<'a, R> {
    inner: R,
    pos: u64,
    at: u64,
    bytes: &'a [u8],
}

impl<R: std::io::Read> std::io::Read for Patch<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let (start, end) = (self.pos, self.pos + n as u64);
        let (p_start, p_end) = (self.at, self.at + self.bytes.len() as u64);
        let (from, to) = (start.max(p_start), end.min(p_end));
        if from < to {
            let dst = &mut buf[(from - start) as usize..(to - start) as usize];
            dst.copy_from_slice(&self.bytes[(from - p_start) as usize..(to - p_start) as usize]);
        }
        self.pos = end;
        Ok(n)
    }
}

/// Exactly `left` bytes of `inner`, as the tar header promised: a file that grows is cut, one
/// that shrinks while it is read is an error (a short entry would shift every entry after it).
struct Exact<R> {
    inner: R,
    left: u64,
}

impl<R: std::io::Read> std::io::Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let want = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file shrank while it was being uploaded",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

pub fn add_symlink<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    target: &str,
) -> std::io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_mode(0o777);
    h.set_mtime(0);
    tar.append_link(&mut h, path.trim_start_matches('/'), target)
}

fn add_dir<W: Write>(tar: &mut tar::Builder<W>, dest: &str, mode: u32) -> std::io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_size(0);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    tar.append_data(&mut h, dest.trim_start_matches('/'), std::io::empty())
}

fn with_path(err: std::io::Error, p: &std::path::Path) -> std::io::Error {
    std::io::Error::new(err.kind(), format!("{}: {err}", p.display()))
}

/// Write `entries` as a tar to `out`.
pub fn write_tar(entries: &[Entry], out: impl Write) -> std::io::Result<()> {
    let mut tar = tar::Builder::new(out);
    for e in entries {
        match &e.content {
            Content::Host(p) => add_host_file(&mut tar, &e.dest, p, e.mode, None)
                .map_err(|err| with_path(err, p))?,
            Content::Patched { path, at, bytes } => {
                add_host_file(&mut tar, &e.dest, path, e.mode, Some((*at, bytes)))
                    .map_err(|err| with_path(err, path))?
            }
            Content::Bytes(b) => add_file(&mut tar, &e.dest, b, e.mode)?,
            Content::Dir => add_dir(&mut tar, &e.dest, e.mode)?,
        }
    }
    tar.into_inner()?.flush()
}

/// The tar of `entries`, produced on a blocking thread as it is sent.
pub fn tar_stream(entries: Vec<Entry>) -> TarStream {
    stream_from(move |w| write_tar(&entries, w))
}

/// The total bytes of the files `entries` name (host files by their size on disk).
pub fn total_size(entries: &[Entry]) -> std::io::Result<u64> {
    let mut total = 0;
    for e in entries {
        total += match &e.content {
            Content::Host(p) | Content::Patched { path: p, .. } => std::fs::metadata(p)?.len(),
            Content::Bytes(b) => b.len() as u64,
            Content::Dir => 0,
        };
    }
    Ok(total)
}

/// Write `entries` as files under `root` (a fresh directory), each with its mode: the tree an
/// upload of them makes, for a daemon that mounts it instead. Every file is a new copy (never a
/// link to the user's file, whose inode a container could then lock or see), and nothing is
/// written through a path that exists already.
pub fn write_dir(entries: &[Entry], root: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    for e in entries {
        let dest = root.join(e.dest.trim_start_matches('/'));
        let mode = e.mode & 0o777; // only permission bits: no set-id bit reaches the container
        let new_file = || {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&dest)
                .map_err(|err| with_path(err, &dest))
        };
        match &e.content {
            Content::Dir => match std::fs::create_dir(&dest) {
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists && dest.is_dir() => {}
                r => r.map_err(|err| with_path(err, &dest))?,
            },
            Content::Bytes(b) => new_file()?.write_all(b)?,
            Content::Host(p) => copy_into(p, &mut new_file()?, None)?,
            Content::Patched { path, at, bytes } => {
                copy_into(path, &mut new_file()?, Some((*at, bytes)))?
            }
        }
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// Copy the host file `src` into `out`, with `patch` (offset, bytes) written over it.
fn copy_into(
    src: &std::path::Path,
    out: &mut std::fs::File,
    patch: Option<(u64, &[u8])>,
) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt;
    let mut from = std::fs::File::open(src).map_err(|err| with_path(err, src))?;
    std::io::copy(&mut from, out).map_err(|err| with_path(err, src))?;
    if let Some((at, bytes)) = patch {
        out.write_all_at(bytes, at)?;
    }
    Ok(())
}

/// A `Write` that hands 256 KiB chunks to an async consumer (back-pressure through a channel of
/// four: about 1 MiB in flight per upload).
pub struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    /// Report a failure to the consumer (the upload then fails with it).
    pub fn fail(&self, e: std::io::Error) {
        let _ = self.tx.blocking_send(Err(e));
    }
}

/// The size of the chunks handed to the upload.
const CHUNK: usize = 256 << 10;

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        // Flush first, so that a chunk never grows past its allocation (a grown Vec doubles).
        if self.buf.len() + data.len() > CHUNK {
            self.flush()?;
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            let full = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
            let chunk = bytes::Bytes::from(full);
            self.tx
                .blocking_send(Ok(chunk))
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "upload ended"))?;
        }
        Ok(())
    }
}

/// A channel for a producer on a blocking thread: the writer end and the stream to upload.
pub fn channel() -> (ChannelWriter, TarStream) {
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let w = ChannelWriter {
        tx,
        buf: Vec::with_capacity(CHUNK),
    };
    (
        w,
        futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed(),
    )
}

/// Run `produce` on a blocking thread and stream what it writes.
pub fn stream_from<F>(produce: F) -> TarStream
where
    F: FnOnce(&mut ChannelWriter) -> std::io::Result<()> + Send + 'static,
{
    let (mut w, stream) = channel();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = produce(&mut w).and_then(|_| w.flush()) {
            w.fail(e);
        }
    });
    stream
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_and_sizes(tar: &[u8]) -> Vec<(String, u64)> {
        let mut a = tar::Archive::new(tar);
        a.entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (e.path().unwrap().display().to_string(), e.size())
            })
            .collect()
    }

    #[test]
    fn a_patched_copy_differs_from_its_file_exactly_at_the_patch() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("bin");
        let original: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&p, &original).unwrap();
        // Across a chunk boundary of the tar writer's reads.
        for at in [0u64, 262_140, 699_996] {
            let entries = vec![Entry {
                dest: "app/bin".into(),
                mode: 0o755,
                content: Content::Patched {
                    path: p.clone(),
                    at,
                    bytes: Arc::from(&[0xAAu8, 0xBB, 0xCC, 0xDD][..]),
                },
            }];
            let mut out = Vec::new();
            write_tar(&entries, &mut out).unwrap();
            let mut a = tar::Archive::new(&out[..]);
            let mut e = a.entries().unwrap().next().unwrap().unwrap();
            let mut got = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut got).unwrap();
            let mut want = original.clone();
            want[at as usize..at as usize + 4].copy_from_slice(&[0xAA, 0xBB, 0xCC, 0xDD]);
            assert!(got == want, "patch at {at}");
        }
        assert_eq!(
            std::fs::read(&p).unwrap(),
            original,
            "the file itself is untouched"
        );
    }

    #[test]
    fn host_files_are_streamed_with_their_size() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("big");
        std::fs::write(&p, vec![7u8; 300_000]).unwrap();
        let entries = vec![
            Entry::bytes("probe", 0o755, &b"ELF"[..]),
            Entry::dir("app"),
            Entry::host("app/big", 0o755, p.clone()),
        ];
        let mut out = Vec::new();
        write_tar(&entries, &mut out).unwrap();
        assert_eq!(
            names_and_sizes(&out),
            [
                ("probe".to_string(), 3),
                ("app".to_string(), 0),
                ("app/big".to_string(), 300_000)
            ]
        );
        assert_eq!(total_size(&entries).unwrap(), 300_003);
    }

    #[test]
    fn an_entry_is_exactly_the_size_its_header_says() {
        use std::io::Read;
        let mut buf = Vec::new();
        let mut cut = Exact {
            inner: &b"abcdef"[..],
            left: 4,
        };
        cut.read_to_end(&mut buf).unwrap();
        assert_eq!(buf, b"abcd");
        let mut short = Exact {
            inner: &b"ab"[..],
            left: 4,
        };
        let e = short.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn a_written_tree_holds_what_the_tar_holds() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let host = d.path().join("host.bin");
        std::fs::write(&host, b"0123456789").unwrap();
        let root = d.path().join("root");
        std::fs::create_dir(&root).unwrap();
        let entries = [
            Entry::bytes("probe", 0o755, &b"probe"[..]),
            Entry::dir("app"),
            Entry::host("app/prog", 0o4755, host.clone()),
            Entry {
                dest: "app/patched".into(),
                mode: 0o644,
                content: Content::Patched {
                    path: host,
                    at: 2,
                    bytes: Arc::from(&b"ab"[..]),
                },
            },
        ];
        write_dir(&entries, &root).unwrap();
        let mut tar = vec![];
        write_tar(&entries, &mut tar).unwrap();
        for (name, size) in names_and_sizes(&tar) {
            let m = std::fs::metadata(root.join(name.trim_end_matches('/'))).unwrap();
            if m.is_file() {
                assert_eq!(m.len(), size, "{name}");
            }
        }
        assert_eq!(
            std::fs::read(root.join("app/patched")).unwrap(),
            b"01ab456789"
        );
        let mode = |p: &str| {
            std::fs::metadata(root.join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o7777
        };
        // The set-uid bit is dropped; the rest of the mode is kept.
        assert_eq!(mode("app/prog"), 0o755);
        assert_eq!(mode("app/patched"), 0o644);
        assert_eq!(mode("probe"), 0o755);
    }

    #[test]
    fn a_written_tree_is_a_copy_and_never_writes_through_a_name_twice() {
        use std::os::unix::fs::MetadataExt;
        let d = tempfile::tempdir().unwrap();
        let host = d.path().join("prog");
        std::fs::write(&host, b"the user's program").unwrap();
        let root = d.path().join("root");
        std::fs::create_dir(&root).unwrap();
        let entries = [
            Entry::host("prog", 0o755, host.clone()),
            Entry::bytes("prog", 0o755, &b"something else"[..]),
        ];
        let e = write_dir(&entries, &root).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists, "{e}");
        assert_eq!(std::fs::read(&host).unwrap(), b"the user's program");
        let (a, b) = (
            std::fs::metadata(&host).unwrap(),
            std::fs::metadata(root.join("prog")).unwrap(),
        );
        assert_ne!(a.ino(), b.ino(), "a copy, not a link to the user's file");
        assert_eq!(a.nlink(), 1);
    }

    #[test]
    fn a_missing_host_file_names_its_path() {
        let entries = vec![Entry::host("x", 0o755, "/nonexistent/x".into())];
        let e = write_tar(&entries, Vec::new()).unwrap_err();
        assert!(e.to_string().starts_with("/nonexistent/x:"), "{e}");
    }
}
