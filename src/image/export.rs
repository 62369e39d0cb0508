//! Getting an image's profile through the Engine API: from the cache, or by streaming the filesystem
//! of a created, never-started container — one file in memory at a time, nothing written to disk but
//! the profile.

use std::io::Read;

use anyhow::Context;
use futures_util::TryStreamExt;

use crate::docker::{ContainerSpec, Engine, Sandbox};

use super::base::BaseProfile;
use crate::image::cache::load_cached;
use crate::image::cache::store;
use crate::image::read::from_tar;
use crate::image::source::is_daemonless;

/// The profile of `image` (whose ID is `image_id`): cached, or read from the image now.
pub async fn profile<E: Engine>(
    engine: &E,
    image: &str,
    image_id: &str,
    run_id: &str,
) -> anyhow::Result<BaseProfile> {
    let t = std::time::Instant::now();
    if let Some(p) = load_cached(image_id) {
        tracing::info!(
            image,
            ms = t.elapsed().as_millis() as u64,
            "profile from the cache"
        );
        return Ok(p);
    }
    let id_owned = image_id.to_string();
    let p = with_image_tar(engine, image, run_id, move |r| from_tar(r, &id_owned)).await?;
    tracing::info!(
        image,
        ms = t.elapsed().as_millis() as u64,
        "profiled (filesystem {} and read)",
        if is_daemonless(image) {
            "merged from its layers"
        } else {
            "exported"
        }
    );
    store(&p);
    Ok(p)
}

/// Export a created, never-started container of `image` and hand its tar stream to `read`
/// (on a blocking thread). The container is removed on every path. An image named with a
/// daemonless transport (`registry:`, `oci:`, …) is merged from its layers instead.
pub async fn with_image_tar<E: Engine, T: Send + 'static>(
    engine: &E,
    image: &str,
    run_id: &str,
    read: impl FnOnce(Box<dyn Read + Send>) -> std::io::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    if is_daemonless(image) {
        return crate::image::sources::with_image_tar(image, read).await;
    }
    let spec = ContainerSpec {
        image: image.to_string(),
        entrypoint: vec!["/libccheck-never-started".into()],
        cmd: vec![],
        env: vec![],
        // Never started; its export may take a while for a large image.
        labels: crate::docker::owner::labels(run_id, std::time::Duration::from_secs(3600)),
        sandbox: Sandbox::default(),
        user: Sandbox::default().user,
        cap_add: vec![],
        work_dir: String::new(),
        // Exported, never started: nothing may be added to the filesystem it shows.
        scratch_tmp: false,
        mount: None,
    };
    let result = crate::docker::with_container(engine, &spec, async |id: &str| {
        let stream = engine.export(id).map_err(std::io::Error::other);
        let reader = tokio_util::io::StreamReader::new(stream);
        tokio::task::spawn_blocking(move || {
            read(Box::new(tokio_util::io::SyncIoBridge::new(reader)))
        })
        .await
    })
    .await??;
    result.with_context(|| format!("reading the filesystem of {image}"))
}
