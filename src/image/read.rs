//! An image's files → [`BaseProfile`]: from a tar stream of its filesystem (an exported container)
//! or from a root directory on the host, one entry at a time.

use std::io::Read;

use super::base::{BaseProfile, Builder};

/// Walk a tar stream of a filesystem, one entry at a time, paths made absolute.
pub(crate) fn walk_tar<R: Read>(
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
