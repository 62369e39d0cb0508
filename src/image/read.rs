//! An image's files → [`BaseProfile`]: from a tar stream of its filesystem (an exported container)
//! or from a root directory on the host, one entry at a time.

use std::io::Read;

use super::base::{BaseProfile, Builder};

/// One tar entry's header, as the walk hands it on.
pub(crate) struct TarItem {
    /// Absolute (`/etc/passwd`).
    pub path: String,
    pub kind: tar::EntryType,
    /// A symlink's target as written; a hard link's as an absolute path.
    pub target: Option<String>,
    /// Permission bits (`0o1777`) and owner; `None` when the header's field is unreadable.
    pub mode: Option<u32>,
    pub uid: Option<u32>,
}

/// Walk a tar stream of a filesystem, one entry at a time, paths made absolute.
pub(crate) fn walk_tar<R: Read>(
    reader: R,
    mut visit: impl FnMut(TarItem, &mut dyn ReadSized) -> std::io::Result<()>,
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
        // Some writers put the file type bits (0o40000) in the mode field too.
        let mode = e.header().mode().ok().map(|m| m & 0o7777);
        let uid = e.header().uid().ok().and_then(|u| u32::try_from(u).ok());
        let item = TarItem {
            path,
            kind,
            target,
            mode,
            uid,
        };
        visit(item, &mut e)?;
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
    walk_tar(reader, |item, e| {
        let path = item.path;
        match (item.kind, item.target) {
            (tar::EntryType::Symlink, Some(t)) => b.add_link(&path, &t),
            (tar::EntryType::Link, Some(t)) => b.add_hardlink(&path, &t),
            (tar::EntryType::Directory, _) => b.add_dir(&path, item.mode, item.uid),
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

/// A root directory on the host, walked as an image's `/`: symlinks are recorded (never followed,
/// so an absolute link means that path inside the root), regular files listed, directories with
/// their mode and owner; unreadable entries are skipped.
struct RootWalk {
    links: Vec<(String, String)>,
    files: Vec<(String, std::path::PathBuf)>,
    dirs: Vec<(String, Option<u32>, Option<u32>)>,
}

fn walk_root(root: &std::path::Path) -> RootWalk {
    use std::os::unix::fs::MetadataExt;
    let mut w = RootWalk {
        links: vec![],
        files: vec![],
        dirs: vec![],
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
        } else if e.file_type().is_dir() {
            let meta = e.metadata().ok();
            let mode = meta.as_ref().map(|m| m.mode() & 0o7777);
            w.dirs.push((path, mode, meta.map(|m| m.uid())));
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
    for (path, mode, owner) in &walk.dirs {
        b.add_dir(path, *mode, *owner);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A tar entry of `kind` at `path` with `mode` and owner `uid`.
    fn append(
        t: &mut tar::Builder<Vec<u8>>,
        path: &str,
        kind: tar::EntryType,
        mode: u32,
        uid: u64,
        body: &[u8],
        link: Option<&str>,
    ) {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(uid);
        h.set_size(body.len() as u64);
        if let Some(l) = link {
            h.set_link_name(l).unwrap();
        }
        t.append_data(&mut h, path, body).unwrap();
    }

    /// The run-time facts come through the tar walk: a directory's mode and owner from its
    /// header, `/etc/passwd`'s bytes, links resolved inside the image.
    #[test]
    fn runtime_facts_from_a_tar_stream() {
        use tar::EntryType::{Directory, Regular, Symlink};
        let mut t = tar::Builder::new(Vec::new());
        append(&mut t, "tmp/", Directory, 0o41777, 0, b"", None);
        append(&mut t, "var/tmp/", Directory, 0o700, 1, b"", None);
        append(
            &mut t,
            "etc/passwd",
            Regular,
            0o644,
            0,
            b"root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n",
            None,
        );
        append(
            &mut t,
            "etc/ssl/certs/ca-certificates.crt",
            Regular,
            0o644,
            0,
            b"-----BEGIN CERTIFICATE-----\n",
            None,
        );
        append(
            &mut t,
            "etc/ssl/cert.pem",
            Symlink,
            0o777,
            0,
            b"",
            Some("certs/ca-certificates.crt"),
        );
        append(
            &mut t,
            "etc/localtime",
            Symlink,
            0o777,
            0,
            b"",
            Some("/usr/share/zoneinfo/Etc/UTC"),
        );
        append(&mut t, "bin/sh", Symlink, 0o777, 0, b"", Some("busybox"));
        let p = from_tar(&t.into_inner().unwrap()[..], "sha256:t").unwrap();
        let r = &p.runtime;
        assert_eq!(r.tmp_mode, Some(0o1777));
        assert_eq!(r.tmp_owner, Some(0));
        assert_eq!(
            r.passwd.entries,
            [("root".to_string(), 0), ("nonroot".to_string(), 65532)]
        );
        assert!(!r.group.present);
        assert_eq!(
            r.ca_bundle.as_deref(),
            Some("/etc/ssl/certs/ca-certificates.crt")
        );
        assert!(!r.localtime, "a dangling /etc/localtime");
        assert!(p.shell);
    }

    /// The same facts from a root directory: the directory's mode from the host's metadata.
    #[test]
    fn runtime_facts_from_a_root_directory() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let dir = |p: &str, mode: u32| {
            let d = root.path().join(p);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        dir("tmp", 0o755);
        dir("etc", 0o755);
        dir("usr/share/zoneinfo/Etc", 0o755);
        std::fs::write(root.path().join("usr/share/zoneinfo/Etc/UTC"), b"TZif").unwrap();
        std::os::unix::fs::symlink(
            "../usr/share/zoneinfo/Etc/UTC",
            root.path().join("etc/localtime"),
        )
        .unwrap();
        std::fs::write(root.path().join("etc/group"), b"root:x:0:\n").unwrap();
        let p = profile_from_dir(root.path(), "dir:t");
        let r = &p.runtime;
        assert_eq!(r.tmp_mode, Some(0o755));
        assert!(r.localtime);
        assert_eq!(r.zoneinfo, 1);
        assert_eq!(r.group.entries, [("root".to_string(), 0)]);
        assert!(!r.passwd.present);
    }
}
