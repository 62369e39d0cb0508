//! The on-disk cache of base profiles, keyed by image ID with a format version. The file is
//! mapped, not read, and ends in a CRC-32: a damaged entry is rebuilt, never read as another answer.

use std::path::PathBuf;

use super::base::{self, BaseProfile};

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
/// a prediction first needs it), so loading a profile copies little of the mapped file.
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
/// of the mapping (see [`shared_bytes`](crate::fast::shared_bytes)). Cache files are only ever replaced
/// by a rename, never rewritten in place, so the mapped file does not change under us.
/// The file ends in a CRC-32 of everything before it: a damaged byte anywhere (inside a library's
/// encoded profile too, which is decoded only later) means a rebuild, never another answer.
pub fn read_cache_file(path: &std::path::Path) -> std::io::Result<BaseProfile> {
    let file = std::fs::File::open(path)?;
    let map = crate::files::map(&file)?;
    let bytes = bytes::Bytes::from_owner(map);
    let body =
        checked_body(&bytes).ok_or_else(|| std::io::Error::other("corrupt: checksum mismatch"))?;
    crate::fast::shared_bytes::decoding_from(&body, || postcard::from_bytes(&body))
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

/// The size of an image read from its layers (the daemon reports it for its own images),
/// beside its profile: `<id>.size`, its decimal bytes.
fn size_file(image_id: &str) -> PathBuf {
    cache_dir().join(format!("{}.size", id_hex(image_id)))
}

/// The cached size of an image read from its layers, if known.
pub fn load_size(image_id: &str) -> Option<u64> {
    std::fs::read_to_string(size_file(image_id))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Remember the size of an image read from its layers (best effort, like the profile).
pub fn store_size(image_id: &str, bytes: u64) {
    let path = size_file(image_id);
    let write = || -> std::io::Result<()> {
        let dir = path.parent().unwrap_or(std::path::Path::new("."));
        std::fs::create_dir_all(dir)?;
        let tmp = tempfile::NamedTempFile::new_in(dir)?;
        std::io::Write::write_all(&mut tmp.as_file(), bytes.to_string().as_bytes())?;
        tmp.persist(&path).map_err(|e| e.error)?;
        Ok(())
    };
    if let Err(e) = write() {
        tracing::warn!(
            "cannot cache the size of {image_id} in {}: {e}",
            path.display()
        );
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::read::profile_from_dir;

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

    /// A profile written to the cache reads back equal through the mapping, its libraries' export
    /// tables shared with the mapping (not copied) and still usable and extendable.
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
}
