//! Images straight from a registry, through the OCI distribution API (the `oci-client` crate):
//! the manifest (the linux/amd64 one of a manifest list), the configuration, and the layers
//! streamed one at a time. Credentials come from `~/.docker/config.json` and its helpers (the
//! `docker_credential` crate; `oci-client` does not read that file); token auth is oci-client's.
//! HTTPS always, except for the registries the user marks insecure.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{anyhow, bail};
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::manifest::{OciDescriptor, OciImageManifest, OciManifest};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use super::archive::{OS, arch, info_from_config, layer_name};
use super::layers::{Layer, LayerError, Layers};
use crate::docker::ImageInfo;

/// Registries (`host[:port]`) spoken to over plain HTTP: `--insecure-registry` and
/// `insecure_registries` in libccheck.toml. Set once, before any image is read.
static INSECURE: OnceLock<Vec<String>> = OnceLock::new();

/// Mark these registries insecure (HTTP) for the rest of the process.
pub fn set_insecure(registries: Vec<String>) {
    let _ = INSECURE.set(registries);
}

fn insecure() -> Vec<String> {
    INSECURE.get().cloned().unwrap_or_default()
}

/// A registry image, resolved to one platform's manifest.
struct Remote {
    client: Client,
    reference: Reference,
    manifest: OciImageManifest,
}

fn client() -> Client {
    Client::new(ClientConfig {
        protocol: ClientProtocol::HttpsExcept(insecure()),
        // Lists are resolved here, to say which platforms a list has when it lacks ours.
        platform_resolver: None,
        connect_timeout: Some(Duration::from_secs(10)),
        read_timeout: Some(Duration::from_secs(60)),
        ..Default::default()
    })
}

/// The credentials `~/.docker/config.json` (or `$DOCKER_CONFIG`) holds for `registry`, if any.
fn auth_for(registry: &str) -> RegistryAuth {
    use docker_credential::DockerCredential;
    match docker_credential::get_credential(registry) {
        Ok(DockerCredential::UsernamePassword(u, p)) => RegistryAuth::Basic(u, p),
        Ok(DockerCredential::IdentityToken(t)) => RegistryAuth::Bearer(t),
        Err(e) => {
            tracing::debug!("no credentials for {registry}: {e}");
            RegistryAuth::Anonymous
        }
    }
}

/// One line for an oci-client error: its message, its innermost cause (a refused connection),
/// and what to do about the usual ones.
fn say(e: oci_client::errors::OciDistributionError) -> anyhow::Error {
    use oci_client::errors::OciDistributionError as E;
    let hint = match &e {
        E::UnauthorizedError { .. } | E::AuthenticationFailure(_) => Some(
            "the credentials in ~/.docker/config.json (or $DOCKER_CONFIG) were refused or there are none; docker login to the registry",
        ),
        _ => None,
    };
    let mut msg = e.to_string();
    let mut cur: &dyn std::error::Error = &e;
    while let Some(s) = cur.source() {
        cur = s;
    }
    let root = cur.to_string();
    if !msg.contains(&root) {
        msg = format!("{msg}: {root}");
    }
    let hint = hint.or_else(|| {
        // A TLS handshake answered in plain HTTP.
        (root.contains("InvalidContentType") || root.contains("wrong version number"))
            .then_some("is it an HTTP registry? --insecure-registry HOST:PORT reads it over HTTP")
    });
    if let Some(h) = hint {
        msg = format!("{msg} ({h})");
    }
    anyhow!("{}", msg.replace('\n', " "))
}

async fn resolve(image: &str) -> anyhow::Result<Remote> {
    let reference: Reference = image
        .parse()
        .map_err(|e| anyhow!("not an image reference ({e})"))?;
    let client = client();
    let auth = auth_for(reference.resolve_registry());
    let host = reference.resolve_registry().to_string();
    let (manifest, _) = client
        .pull_manifest(&reference, &auth)
        .await
        .map_err(|e| say(e).context(format!("registry {host}")))?;
    let manifest = match manifest {
        OciManifest::Image(m) => m,
        OciManifest::ImageIndex(list) => {
            let entry = list
                .manifests
                .iter()
                .find(|m| {
                    m.platform.as_ref().is_some_and(|p| {
                        p.os.to_string() == OS && p.architecture.to_string() == arch()
                    })
                })
                .ok_or_else(|| {
                    let have: Vec<String> = list
                        .manifests
                        .iter()
                        .map(|m| {
                            m.platform.as_ref().map_or("unknown platform".into(), |p| {
                                format!("{}/{}", p.os, p.architecture)
                            })
                        })
                        .collect();
                    anyhow!(
                        "no {OS}/{} image in its manifest list (it has {})",
                        arch(),
                        have.join(", ")
                    )
                })?;
            let one = reference.clone_with_digest(entry.digest.clone());
            match client.pull_manifest(&one, &auth).await.map_err(say)? {
                (OciManifest::Image(m), _) => m,
                _ => bail!("{}: a manifest list inside a manifest list", entry.digest),
            }
        }
    };
    Ok(Remote {
        client,
        reference,
        manifest,
    })
}

/// The configuration of a registry image (its manifest and config blob; no layer is fetched).
pub async fn info(image: &str) -> anyhow::Result<ImageInfo> {
    let r = resolve(image).await?;
    let mut config = Vec::new();
    r.client
        .pull_blob(&r.reference, &r.manifest.config, &mut config)
        .await
        .map_err(|e| say(e).context(format!("configuration {}", r.manifest.config.digest)))?;
    info_from_config(&config)
}

/// The layers of a registry image, top first; each download starts when its turn comes and is
/// read as it arrives (oci-client checks each blob's digest at its end). Called on a runtime
/// thread; the layers are then read on a blocking thread through `handle`.
pub async fn layers(image: &str) -> anyhow::Result<Layers> {
    let r = Arc::new(resolve(image).await?);
    let handle = tokio::runtime::Handle::current();
    let n = r.manifest.layers.len();
    let descriptors: Vec<(usize, OciDescriptor)> = r
        .manifest
        .layers
        .iter()
        .cloned()
        .enumerate()
        .rev()
        .collect();
    Ok(Box::new(descriptors.into_iter().map(move |(i, d)| {
        let name = layer_name(i, n, &d.digest);
        let blob = handle.block_on(r.client.pull_blob_stream(&r.reference, &d));
        match blob {
            Ok(s) => {
                let reader = tokio_util::io::StreamReader::new(s.stream);
                let reader = tokio_util::io::SyncIoBridge::new_with_handle(reader, handle.clone());
                Ok(Layer {
                    name,
                    reader: Box::new(reader),
                })
            }
            Err(e) => Err(LayerError::Open(format!("{name}: {}", say(e)))),
        }
    })))
}
