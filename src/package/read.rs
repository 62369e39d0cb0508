//! Reading a package from the host: the members of a zip archive (a wheel, a jar) into memory,
//! one at a time and on all cores, never extracted to disk; or a directory, walked like an audit's
//! root. Each ELF file becomes a file of an audit [`Source`] at the path an installer gives it.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::audit::verify::Origin;
use crate::audit::{Item, Source, SourceBuilder};
use crate::package::{PackageKind, Wheel, tags};

/// A package read from the host, ready to be checked.
pub struct Package {
    pub kind: PackageKind,
    /// Its file or directory name.
    pub name: String,
    pub path: PathBuf,
    pub source: Source,
    /// Where each container gets the files from.
    pub origin: Origin,
    /// A wheel's tags and what is wrong with them.
    pub wheel: Option<Wheel>,
}

/// Why a package cannot be checked (each a one-line message naming the package).
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("{path}: {why}")]
    Unreadable { path: String, why: String },
    #[error("{path}: not a zip archive (a {kind} is one)")]
    NotZip { path: String, kind: &'static str },
    #[error("{path}: damaged zip archive: {why}")]
    Damaged { path: String, why: String },
    #[error(
        "{path}: member {member:?} would be installed outside the package (an absolute path or ..); refusing the package"
    )]
    Escapes { path: String, member: String },
    #[error("{path}: no ELF files in this {kind} ({others} other files): nothing to check")]
    NoElf {
        path: String,
        kind: &'static str,
        others: usize,
    },
    #[error("{0}")]
    WheelName(String),
}

/// Members above this size are not read into memory for a wheel's metadata.
const METADATA_LIMIT: u64 = 1 << 20;

/// ELF members above this size are not read (each is held in memory while it is parsed, one per
/// core): reported as unreadable rather than risking the memory of the machine.
const MEMBER_LIMIT: u64 = 4 << 30;

/// Read a package of `kind` at `path`.
pub fn read(path: &Path, kind: PackageKind) -> Result<Package, PackageError> {
    let shown = path.display().to_string();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| shown.clone());
    // A wheel's name carries its tags: a name that is not one is refused before reading it.
    let wheel_name = match kind {
        PackageKind::Wheel => Some(tags::WheelName::parse(&name).map_err(PackageError::WheelName)?),
        _ => None,
    };
    let (source, origin, wheel_file) = match kind {
        PackageKind::Directory => {
            let source = crate::audit::source::source_from_dir(path);
            (source, Origin::Dir(path.to_path_buf()), None)
        }
        PackageKind::Wheel | PackageKind::Jar => {
            let z = read_zip(path, kind)?;
            let origin = Origin::Zip {
                archive: path.to_path_buf(),
                members: z.members,
            };
            (z.source, origin, z.wheel_file)
        }
    };
    if source.files.is_empty() {
        return Err(PackageError::NoElf {
            path: shown,
            kind: kind.describe(),
            others: source.non_elf,
        });
    }
    let wheel = wheel_name.map(|wheel_name| {
        let files: Vec<(&str, &crate::elf::BinaryProfile)> = source
            .files
            .iter()
            .map(|f| (super::shown(&f.path), &*f.lib.profile))
            .collect();
        Wheel::new(wheel_name, wheel_file.as_deref(), &files)
    });
    let mut source = source;
    source.install_dir = Some(kind.install_dir().to_string());
    Ok(Package {
        kind,
        name,
        path: path.to_path_buf(),
        source,
        origin,
        wheel,
    })
}

/// What a zip archive holds for a check.
struct ZipRead {
    source: Source,
    /// Source path → member name, for the upload.
    members: BTreeMap<String, String>,
    /// The text of a wheel's `*.dist-info/WHEEL`.
    wheel_file: Option<String>,
}

/// One member to read: its index, its name, the source path it is installed at.
struct Member {
    index: usize,
    name: String,
    path: String,
}

fn read_zip(path: &Path, kind: PackageKind) -> Result<ZipRead, PackageError> {
    let shown = || path.display().to_string();
    let damaged = |e: zip::result::ZipError| PackageError::Damaged {
        path: shown(),
        why: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(|e| PackageError::Unreadable {
        path: shown(),
        why: crate::text::io_message(&e),
    })?;
    if !has_zip_magic(&file) {
        return Err(PackageError::NotZip {
            path: shown(),
            kind: kind.describe(),
        });
    }
    // Mapped, so that each thread reads its members straight from the page cache.
    let map = crate::files::map(&file).map_err(|e| PackageError::Unreadable {
        path: shown(),
        why: crate::text::io_message(&e),
    })?;
    let zip = zip::ZipArchive::new(std::io::Cursor::new(&map[..])).map_err(damaged)?;
    let members = installed_members(&zip, kind).map_err(|e| match e {
        MemberError::Zip(e) => damaged(e),
        MemberError::Escapes(member) => PackageError::Escapes {
            path: shown(),
            member,
        },
    })?;
    let read = read_members(&zip, &members).map_err(damaged)?;
    let mut b = SourceBuilder::default();
    let mut wheel_file = None;
    for (m, r) in members.iter().zip(read) {
        match r {
            MemberRead::Item(item) => b.add_item(item),
            MemberRead::WheelMetadata(text) => {
                b.add_non_elf();
                if super::is_wheel_metadata(&m.name) {
                    wheel_file = Some(text);
                }
            }
        }
    }
    let source = b.finish();
    let elf: std::collections::HashSet<&str> =
        source.files.iter().map(|f| f.path.as_str()).collect();
    let members = members
        .into_iter()
        .filter(|m| elf.contains(m.path.as_str()))
        .map(|m| (m.path, m.name))
        .collect();
    Ok(ZipRead {
        source,
        members,
        wheel_file,
    })
}

/// `PK\3\4` (a first member) or `PK\5\6` (an empty archive).
fn has_zip_magic(mut f: &std::fs::File) -> bool {
    let mut magic = [0u8; 4];
    matches!(crate::files::read_full(&mut f, &mut magic), Ok(4))
        && (magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06")
}

enum MemberError {
    Zip(zip::result::ZipError),
    Escapes(String),
}

/// The archive's file members with the source path each is installed at; directories and
/// symlinks are left out (pip and the JVM install regular files).
fn installed_members<R: std::io::Read + std::io::Seek>(
    zip: &zip::ZipArchive<R>,
    kind: PackageKind,
) -> Result<Vec<Member>, MemberError> {
    let mut out = Vec::with_capacity(zip.len());
    for index in 0..zip.len() {
        let e = zip.by_index_data(index).map_err(MemberError::Zip)?;
        let name = e.name().map_err(MemberError::Zip)?.into_owned();
        if !super::member_is_enclosed(&name) {
            return Err(MemberError::Escapes(name));
        }
        if e.is_dir() || e.is_symlink() {
            continue;
        }
        let installed = match kind {
            PackageKind::Wheel => super::wheel_install_path(&name),
            _ => &name,
        };
        let path = crate::image::base::normalize(&format!("/{installed}"));
        out.push(Member { index, name, path });
    }
    Ok(out)
}

/// What reading one member gave.
enum MemberRead {
    Item(Item),
    /// A small text member a wheel's tags may be in.
    WheelMetadata(String),
}

/// Read the members on all cores, each thread with its own view of the archive; ELF members are
/// decompressed into memory one at a time per thread and parsed, the rest only to their magic.
fn read_members(
    zip: &zip::ZipArchive<std::io::Cursor<&[u8]>>,
    members: &[Member],
) -> Result<Vec<MemberRead>, zip::result::ZipError> {
    use rayon::prelude::*;
    members
        .par_iter()
        .map_init(
            || (zip.clone(), Vec::new()),
            |(z, buf), m| read_member(z, m, buf),
        )
        .collect()
}

fn read_member(
    zip: &mut zip::ZipArchive<std::io::Cursor<&[u8]>>,
    m: &Member,
    buf: &mut Vec<u8>,
) -> Result<MemberRead, zip::result::ZipError> {
    let mut f = zip.by_index(m.index)?;
    let size = f.size();
    if super::is_wheel_metadata(&m.name) && size <= METADATA_LIMIT {
        let mut text = String::new();
        f.read_to_string(&mut text)
            .map_err(zip::result::ZipError::Io)?;
        return Ok(MemberRead::WheelMetadata(text));
    }
    let mut magic = [0u8; 4];
    if size < 52
        || crate::files::read_full(&mut f, &mut magic).map_err(zip::result::ZipError::Io)? < 4
        || magic != *b"\x7fELF"
    {
        return Ok(MemberRead::Item(Item::NonElf));
    }
    if size > MEMBER_LIMIT {
        let why = format!("larger than {} GiB: not read", MEMBER_LIMIT >> 30);
        return Ok(MemberRead::Item(Item::Unreadable(m.path.clone(), why)));
    }
    buf.clear();
    buf.extend_from_slice(&magic);
    // The declared size bounds what is read, whatever the compressed stream would inflate to.
    (&mut f)
        .take(size)
        .read_to_end(buf)
        .map_err(zip::result::ZipError::Io)?;
    Ok(MemberRead::Item(SourceBuilder::parse_entry(&m.path, buf)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A wheel of these members in a temporary directory (kept while the first value lives).
    fn zip_of(members: &[(&str, &[u8])]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pkg-1.0-py3-none-any.whl");
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes) in members {
            w.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(bytes).unwrap();
        }
        std::fs::write(&path, w.finish().unwrap().into_inner()).unwrap();
        (dir, path)
    }

    #[test]
    fn a_member_outside_the_package_is_refused_before_anything_is_read() {
        let (_d, z) = zip_of(&[("pkg/a.py", b"x"), ("../evil.so", b"\x7fELF")]);
        let e = read(&z, PackageKind::Wheel).err().unwrap();
        assert!(matches!(e, PackageError::Escapes { .. }), "{e}");
        assert!(e.to_string().contains("\"../evil.so\""), "{e}");
    }

    #[test]
    fn no_elf_and_no_zip_are_one_line_errors() {
        let (_d, z) = zip_of(&[("pkg/a.py", b"print(1)")]);
        let e = read(&z, PackageKind::Wheel).err().unwrap();
        assert!(
            e.to_string()
                .ends_with("no ELF files in this wheel (1 other files): nothing to check"),
            "{e}"
        );
        let mut junk = tempfile::Builder::new().suffix(".jar").tempfile().unwrap();
        junk.write_all(b"not a zip at all").unwrap();
        let e = read(junk.path(), PackageKind::Jar).err().unwrap();
        assert!(
            e.to_string()
                .ends_with("not a zip archive (a Java archive is one)"),
            "{e}"
        );
    }

    #[test]
    fn a_damaged_archive_is_an_error_not_a_panic() {
        let (_d, z) = zip_of(&[("pkg/a.py", b"print(1)")]);
        let mut bytes = std::fs::read(&z).unwrap();
        let n = bytes.len();
        bytes.truncate(n - 10);
        std::fs::write(&z, &bytes).unwrap();
        let e = read(&z, PackageKind::Wheel).err().unwrap();
        assert!(matches!(e, PackageError::Damaged { .. }), "{e}");
    }
}
