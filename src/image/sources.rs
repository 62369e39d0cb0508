//! Reading an image named with a daemonless transport ([`super::source::Source`]): its
//! configuration, and its merged filesystem as the tar stream a container export would give
//! (so every reader of exported containers reads these images unchanged).

use std::io::Read;

use anyhow::anyhow;

use super::archive::{self, Format};
use super::layers::{Layers, with_merged};
use super::source::Source;
use crate::docker::ImageInfo;

/// What a file source is, and where.
fn file_source(src: &Source) -> Option<(Format, &std::path::Path, Option<&str>)> {
    match src {
        Source::DockerArchive { path, reference } => {
            Some((Format::DockerArchive, path, reference.as_deref()))
        }
        Source::Oci { path, reference } => Some((Format::OciDir, path, reference.as_deref())),
        Source::OciArchive { path, reference } => {
            Some((Format::OciArchive, path, reference.as_deref()))
        }
        _ => None,
    }
}

fn parse(image: &str) -> anyhow::Result<Source> {
    Source::parse(image).map_err(anyhow::Error::msg)
}

/// The configuration of `image` (a daemonless source): what its container runs, its platform,
/// its ID (the configuration's digest) and its size as Docker would report it. The size needs
/// every layer: the first time, the image is profiled here (every caller profiles it next, and
/// finds the profile cached).
pub async fn info(image: &str) -> anyhow::Result<ImageInfo> {
    let mut info = config_info(image).await?;
    let size = match super::cache::load_size(&info.id) {
        Some(s) => s,
        None => profile_now(image, &info.id).await?,
    };
    info.size = Some(size);
    Ok(info)
}

/// Read `image` from its layers: its profile and size go to the cache; the size is returned.
async fn profile_now(image: &str, image_id: &str) -> anyhow::Result<u64> {
    let t = std::time::Instant::now();
    let id = image_id.to_string();
    let (profile, merged) = merged_tar(image, move |r| super::read::from_tar(r, &id)).await?;
    tracing::info!(
        image,
        ms = t.elapsed().as_millis() as u64,
        "profiled (filesystem merged from its layers and read)"
    );
    super::cache::store(&profile);
    super::cache::store_size(image_id, merged.size);
    Ok(merged.size)
}

/// [`info`] without the size: the configuration alone.
async fn config_info(image: &str) -> anyhow::Result<ImageInfo> {
    let src = parse(image)?;
    let r = match (&src, file_source(&src)) {
        (Source::Registry(r), _) => super::registry::info(r).await,
        (_, Some((format, path, reference))) => {
            let (path, reference) = (path.to_path_buf(), reference.map(String::from));
            tokio::task::spawn_blocking(move || archive::info(format, &path, reference.as_deref()))
                .await?
        }
        _ => Err(anyhow!(
            "read through the Docker daemon, not a daemonless source"
        )),
    };
    r.map_err(|e| anyhow!("{image}: {e:#}"))
}

/// The layers of `image`, top first.
async fn layers(image: &str) -> anyhow::Result<Layers> {
    let src = parse(image)?;
    match (&src, file_source(&src)) {
        (Source::Registry(r), _) => super::registry::layers(r).await,
        (_, Some((format, path, reference))) => archive::layers(format, path, reference),
        _ => Err(anyhow!(
            "read through the Docker daemon, not a daemonless source"
        )),
    }
}

/// Hand the merged filesystem of `image` to `read` as one tar stream (on a blocking thread).
pub async fn with_image_tar<T: Send + 'static>(
    image: &str,
    read: impl FnOnce(Box<dyn Read + Send>) -> std::io::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    Ok(merged_tar(image, read).await?.0)
}

/// [`with_image_tar`], with what the merge found.
async fn merged_tar<T: Send + 'static>(
    image: &str,
    read: impl FnOnce(Box<dyn Read + Send>) -> std::io::Result<T> + Send + 'static,
) -> anyhow::Result<(T, super::layers::Merged)> {
    let layers = layers(image).await.map_err(|e| anyhow!("{image}: {e:#}"))?;
    let (value, merged) = tokio::task::spawn_blocking(move || with_merged(layers, read))
        .await?
        .map_err(|e| anyhow!("{image}: {e:#}"))?;
    if merged.stray_whiteouts > 0 {
        tracing::info!(
            image,
            "{} whiteout(s) of paths no lower layer has (tolerated, as Docker does)",
            merged.stray_whiteouts
        );
    }
    Ok((value, merged))
}
