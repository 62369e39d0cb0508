//! Docker's init layer (moby `daemon/initlayer`): what Docker puts above an image's layers in
//! every container, and so what its export shows. Readers of an image that do not go through
//! Docker's export (Podman's export, registries, archives) add it, so that every way of reading
//! one image gives the same filesystem — and the same cached profile.

use std::io::Write;

/// Directories (mode 0755).
pub const DIRS: [&str; 6] = ["dev", "dev/pts", "dev/shm", "etc", "proc", "sys"];
/// Empty files (mode 0755).
pub const FILES: [&str; 5] = [
    ".dockerenv",
    "dev/console",
    "etc/hostname",
    "etc/hosts",
    "etc/resolv.conf",
];
/// A symbolic link and its target.
pub const LINK: (&str, &str) = ("etc/mtab", "/proc/mounts");

/// Whether `path` (relative, no leading `/`) is one of the layer's entries.
pub fn holds(path: &str) -> bool {
    DIRS.contains(&path) || FILES.contains(&path) || path == LINK.0
}

/// Append the layer's entries to `tar`.
pub fn append(tar: &mut tar::Builder<impl Write>) -> std::io::Result<()> {
    let header = |kind: tar::EntryType, mode: u32| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(0);
        h
    };
    for d in DIRS {
        tar.append_data(
            &mut header(tar::EntryType::Directory, 0o755),
            d,
            std::io::empty(),
        )?;
    }
    for f in FILES {
        tar.append_data(
            &mut header(tar::EntryType::Regular, 0o755),
            f,
            std::io::empty(),
        )?;
    }
    let (link, target) = LINK;
    tar.append_link(&mut header(tar::EntryType::Symlink, 0o777), link, target)
}
