//! Images stored as files: `docker save` archives and OCI image layouts (a directory, or a tar of
//! one). Their manifest names a configuration (what the container runs, os/arch) and the layers,
//! read in place: an archive's members are found once by their headers and then read where they
//! lie, never copied out.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use serde::Deserialize;

use super::layers::{Layer, LayerError, Layers};
use crate::docker::ImageInfo;

/// The platform images are chosen for in manifest lists and indexes.
pub const OS: &str = "linux";

/// The architecture chosen from manifest lists (Docker's name): the run's platform, amd64 unless
/// a run for another one said otherwise (see [`choose_arch`]).
static ARCH: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// Choose images for `arch` (`arm64`) from manifest lists and indexes, for this process: a
/// run checks one platform.
pub fn choose_arch(arch: &'static str) {
    let _ = ARCH.set(arch);
}

/// The architecture chosen from manifest lists.
pub fn arch() -> &'static str {
    ARCH.get().copied().unwrap_or("amd64")
}

/// Where an image's blobs are: the members of a tar, or the files of a directory.
enum Store {
    Tar {
        path: PathBuf,
        /// Member name → (offset of its data, size).
        members: HashMap<String, (u64, u64)>,
    },
    Dir(PathBuf),
}

impl Store {
    /// The members of the tar at `path`, found by their headers alone.
    fn tar(path: &Path) -> anyhow::Result<Store> {
        let file = std::fs::File::open(path).with_context(|| format!("{}", path.display()))?;
        let mut archive = tar::Archive::new(file);
        let mut members = HashMap::new();
        let bad =
            |e: std::io::Error| anyhow!("{}: not a readable tar archive ({e})", path.display());
        for entry in archive.entries_with_seek().map_err(bad)? {
            let e = entry.map_err(bad)?;
            let name = e
                .path()
                .map_err(bad)?
                .to_string_lossy()
                .trim_start_matches("./")
                .to_string();
            members.insert(name, (e.raw_file_position(), e.size()));
        }
        if members.is_empty() {
            bail!(
                "{}: not a readable tar archive (no members)",
                path.display()
            );
        }
        Ok(Store::Tar {
            path: path.to_path_buf(),
            members,
        })
    }

    /// The member or file `name`, to read from its start.
    fn open(&self, name: &str) -> std::io::Result<Box<dyn Read + Send>> {
        match self {
            Store::Dir(root) => Ok(Box::new(std::fs::File::open(root.join(name))?)),
            Store::Tar { path, members } => {
                let &(at, size) = members.get(name.trim_start_matches("./")).ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::NotFound, format!("no member {name}"))
                })?;
                let mut f = std::fs::File::open(path)?;
                f.seek(SeekFrom::Start(at))?;
                // A member cut short by the end of the file reads short: the layer reader says so.
                Ok(Box::new(f.take(size)))
            }
        }
    }

    fn read(&self, name: &str) -> anyhow::Result<Vec<u8>> {
        let mut out = Vec::new();
        self.open(name)
            .and_then(|mut r| r.read_to_end(&mut out))
            .with_context(|| format!("reading {name}"))?;
        Ok(out)
    }
}

/// An image in a store: its configuration's bytes and its layers' names, bottom first.
struct Found {
    config: Vec<u8>,
    layers: Vec<(String, String)>,
}

/// `docker save` output: `manifest.json` lists each image's config and layers.
fn docker_archive(store: &Store, reference: Option<&str>) -> anyhow::Result<Found> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Item {
        config: String,
        #[serde(default)]
        repo_tags: Option<Vec<String>>,
        layers: Vec<String>,
    }
    let manifest: Vec<Item> = serde_json::from_slice(&store.read("manifest.json")?)
        .context("manifest.json is not a docker save manifest")?;
    let item = match reference {
        None if manifest.len() == 1 => &manifest[0],
        None => bail!(
            "it holds {} images; name one after the path (docker-archive:PATH:REPO:TAG)",
            manifest.len()
        ),
        Some(r) => manifest
            .iter()
            .find(|i| i.repo_tags.iter().flatten().any(|t| t == r))
            .ok_or_else(|| anyhow!("no image tagged {r} in it"))?,
    };
    Ok(Found {
        config: store.read(&item.config)?,
        layers: item
            .layers
            .iter()
            .map(|l| (l.clone(), digest_of_member(l)))
            .collect(),
    })
}

/// The digest a member's name shows (`blobs/sha256/HEX`, `HEX/layer.tar`), for error messages.
fn digest_of_member(name: &str) -> String {
    match name.strip_prefix("blobs/") {
        Some(rest) => rest.replacen('/', ":", 1),
        None => name.to_string(),
    }
}

#[derive(Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    platform: Option<Platform>,
    #[serde(default)]
    annotations: HashMap<String, String>,
}

#[derive(Deserialize)]
struct Platform {
    os: String,
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

impl Platform {
    fn describe(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}/{}/{v}", self.os, self.architecture),
            None => format!("{}/{}", self.os, self.architecture),
        }
    }
}

#[derive(Deserialize)]
struct Index {
    manifests: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct Manifest {
    config: Descriptor,
    layers: Vec<Descriptor>,
}

fn blob_path(digest: &str) -> anyhow::Result<String> {
    let (alg, hex) = digest
        .split_once(':')
        .filter(|(a, h)| !a.is_empty() && !h.is_empty() && !h.contains('/') && !a.contains('/'))
        .ok_or_else(|| anyhow!("a malformed digest {digest:?}"))?;
    Ok(format!("blobs/{alg}/{hex}"))
}

fn is_index(d: &Descriptor) -> bool {
    d.media_type.ends_with("image.index.v1+json") || d.media_type.ends_with("manifest.list.v2+json")
}

/// An OCI layout: `index.json` → (an index →) a manifest → config and layers.
fn oci_layout(store: &Store, reference: Option<&str>) -> anyhow::Result<Found> {
    let index: Index = serde_json::from_slice(&store.read("index.json")?)
        .context("index.json is not an OCI image index")?;
    let named = |d: &&Descriptor| {
        reference.is_none_or(|r| {
            d.annotations
                .get("org.opencontainers.image.ref.name")
                .map(String::as_str)
                == Some(r)
        })
    };
    let candidates: Vec<&Descriptor> = index.manifests.iter().filter(named).collect();
    if candidates.is_empty() {
        bail!("no image named {} in it", reference.unwrap_or("(any)"));
    }
    let d = pick_platform(&candidates, arch())?;
    if !is_index(d) {
        return manifest_at(store, d);
    }
    // An index inside: the layout of a multi-platform image.
    let inner: Index = serde_json::from_slice(&store.read(&blob_path(&d.digest)?)?)
        .with_context(|| format!("{} is not an image index", d.digest))?;
    let all: Vec<&Descriptor> = inner.manifests.iter().collect();
    manifest_at(store, pick_platform(&all, arch())?)
}

/// The image manifest `d` points to, read.
fn manifest_at(store: &Store, d: &Descriptor) -> anyhow::Result<Found> {
    let m: Manifest = serde_json::from_slice(&store.read(&blob_path(&d.digest)?)?)
        .with_context(|| format!("{} is not an image manifest", d.digest))?;
    let layers = m
        .layers
        .iter()
        .map(|l| Ok((blob_path(&l.digest)?, l.digest.clone())))
        .collect::<anyhow::Result<_>>()?;
    Ok(Found {
        config: store.read(&blob_path(&m.config.digest)?)?,
        layers,
    })
}

/// The entry for linux/`arch` among several (or the only one, whatever it says: its config tells
/// the platform then, and the check says what it makes of it).
fn pick_platform<'a>(candidates: &[&'a Descriptor], arch: &str) -> anyhow::Result<&'a Descriptor> {
    if let [only] = candidates
        && only.platform.is_none()
    {
        return Ok(only);
    }
    candidates
        .iter()
        .find(|d| {
            d.platform
                .as_ref()
                .is_some_and(|p| p.os == OS && p.architecture == arch)
        })
        .copied()
        .ok_or_else(|| {
            let have: Vec<String> = candidates
                .iter()
                .map(|d| {
                    d.platform
                        .as_ref()
                        .map_or("unknown platform".into(), Platform::describe)
                })
                .collect();
            anyhow!("no {OS}/{arch} image in it (it has {})", have.join(", "))
        })
}

/// An image's configuration → what the daemon's inspect would have said of it. The ID is the
/// configuration's digest, as Docker's image ID is: profiles cached under it serve every source.
pub fn info_from_config(config: &[u8]) -> anyhow::Result<ImageInfo> {
    #[derive(Deserialize, Default)]
    #[serde(rename_all = "PascalCase")]
    struct Run {
        #[serde(default)]
        entrypoint: Option<Vec<String>>,
        #[serde(default)]
        cmd: Option<Vec<String>>,
        #[serde(default)]
        env: Option<Vec<String>>,
        #[serde(default)]
        working_dir: Option<String>,
        #[serde(default)]
        user: Option<String>,
    }
    #[derive(Deserialize)]
    struct Config {
        #[serde(default)]
        os: String,
        #[serde(default)]
        architecture: String,
        #[serde(default)]
        config: Option<Run>,
    }
    use sha2::Digest;
    let c: Config =
        serde_json::from_slice(config).context("the image configuration is not valid JSON")?;
    let run = c.config.unwrap_or_default();
    let hex: String = sha2::Sha256::digest(config)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(ImageInfo {
        id: format!("sha256:{hex}"),
        os: c.os,
        arch: c.architecture,
        start: crate::image::entry::Config {
            entrypoint: run.entrypoint.unwrap_or_default(),
            cmd: run.cmd.unwrap_or_default(),
            env: run.env.unwrap_or_default(),
            working_dir: run.working_dir.unwrap_or_default(),
            user: run.user.unwrap_or_default(),
        },
        size: None,
    })
}

/// Which store and format a file source is.
#[derive(Debug, Clone, Copy)]
pub enum Format {
    DockerArchive,
    OciDir,
    OciArchive,
}

fn found(format: Format, path: &Path, reference: Option<&str>) -> anyhow::Result<(Store, Found)> {
    let store = match format {
        Format::OciDir => {
            if !path.is_dir() {
                bail!("{}: not an OCI layout directory", path.display());
            }
            Store::Dir(path.to_path_buf())
        }
        _ => Store::tar(path)?,
    };
    let f = match format {
        Format::DockerArchive => docker_archive(&store, reference),
        _ => oci_layout(&store, reference),
    }?;
    Ok((store, f))
}

/// The configuration of the image in a file source.
pub fn info(format: Format, path: &Path, reference: Option<&str>) -> anyhow::Result<ImageInfo> {
    info_from_config(&found(format, path, reference)?.1.config)
}

/// The layers of the image in a file source, top first, each opened when reached.
pub fn layers(format: Format, path: &Path, reference: Option<&str>) -> anyhow::Result<Layers> {
    let (store, f) = found(format, path, reference)?;
    let n = f.layers.len();
    let named: Vec<(String, String, String)> = f
        .layers
        .into_iter()
        .enumerate()
        .map(|(i, (member, digest))| (layer_name(i, n, &digest), member, digest))
        .rev()
        .collect();
    Ok(Box::new(named.into_iter().map(
        move |(name, member, _)| match store.open(&member) {
            Ok(reader) => Ok(Layer { name, reader }),
            Err(e) => Err(LayerError::Read {
                layer: name,
                source: e,
            }),
        },
    )))
}

/// `layer 2 of 5 (sha256:0123456789ab)`.
pub fn layer_name(i: usize, n: usize, digest: &str) -> String {
    let short: String = digest.chars().take(19).collect();
    format!("layer {} of {n} ({short})", i + 1)
}
