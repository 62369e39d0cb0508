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
/// and its ID (the configuration's digest).
pub async fn info(image: &str) -> anyhow::Result<ImageInfo> {
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
    Ok(value)
}
