//! No engine at all: what checks, audits and `image` use when no Docker daemon answers and every
//! image they name is read without one (`registry:`, `oci:`, …). Predictions need nothing of it;
//! anything that would start a container gets the connection's error, and callers that can do
//! without (verification) ask [`Engine::absent`] first and say the result is unverified.

use std::collections::HashMap;

use super::{ContainerSpec, DockerError, Engine, ImageInfo, PullProgress};

/// The engine that was not reached, and why.
pub struct NoEngine {
    /// The connection's error, as it was said.
    reason: String,
}

impl NoEngine {
    /// From the error connecting gave.
    pub fn new(connect_error: &DockerError) -> NoEngine {
        NoEngine {
            reason: connect_error.to_string(),
        }
    }

    fn err(&self) -> DockerError {
        DockerError::Source(self.reason.clone())
    }
}

impl Engine for NoEngine {
    fn absent(&self) -> Option<String> {
        Some(self.reason.clone())
    }
    async fn image_info(&self, _: &str) -> Result<Option<ImageInfo>, DockerError> {
        Err(self.err())
    }
    async fn pull(
        &self,
        _: &str,
        _: Option<&str>,
        _: &(dyn Fn(&PullProgress) + Send + Sync),
    ) -> Result<(), DockerError> {
        Err(self.err())
    }
    async fn tag(&self, _: &str, _: &str) -> Result<(), DockerError> {
        Err(self.err())
    }
    async fn create(&self, _: &ContainerSpec) -> Result<String, DockerError> {
        Err(self.err())
    }
    async fn upload_stream(
        &self,
        _: &str,
        _: &str,
        _: futures_util::stream::BoxStream<'static, Result<bytes::Bytes, std::io::Error>>,
        _: u64,
    ) -> Result<(), DockerError> {
        Err(self.err())
    }
    async fn start(&self, _: &str) -> Result<(), DockerError> {
        Err(self.err())
    }
    async fn wait(&self, _: &str) -> Result<i64, DockerError> {
        Err(self.err())
    }
    async fn logs(&self, _: &str) -> Result<(Vec<u8>, Vec<u8>), DockerError> {
        Err(self.err())
    }
    async fn kill(&self, _: &str) -> Result<(), DockerError> {
        Err(self.err())
    }
    async fn remove(&self, _: &str) -> Result<(), DockerError> {
        Err(self.err())
    }
    fn export(
        &self,
        _: &str,
    ) -> futures_util::stream::BoxStream<'static, Result<bytes::Bytes, DockerError>> {
        Box::pin(futures_util::stream::once(std::future::ready(Err(
            self.err()
        ))))
    }
    async fn list_labelled(
        &self,
        _: &str,
    ) -> Result<Vec<(String, HashMap<String, String>)>, DockerError> {
        Err(self.err())
    }
}

/// The daemon when it answers, or no engine at all (see [`NoEngine`]).
pub enum AnyEngine {
    Docker(super::BollardEngine),
    None(NoEngine),
}

/// Each call goes to whichever engine there is.
macro_rules! either {
    ($self:ident, $e:ident => $call:expr) => {
        match $self {
            AnyEngine::Docker($e) => $call,
            AnyEngine::None($e) => $call,
        }
    };
}

impl Engine for AnyEngine {
    fn absent(&self) -> Option<String> {
        either!(self, e => e.absent())
    }
    async fn image_info(&self, image: &str) -> Result<Option<ImageInfo>, DockerError> {
        either!(self, e => e.image_info(image).await)
    }
    async fn pull(
        &self,
        image: &str,
        platform: Option<&str>,
        progress: &(dyn Fn(&PullProgress) + Send + Sync),
    ) -> Result<(), DockerError> {
        either!(self, e => e.pull(image, platform, progress).await)
    }
    async fn tag(&self, source: &str, target: &str) -> Result<(), DockerError> {
        either!(self, e => e.tag(source, target).await)
    }
    async fn create(&self, spec: &ContainerSpec) -> Result<String, DockerError> {
        either!(self, e => e.create(spec).await)
    }
    async fn upload_stream(
        &self,
        id: &str,
        dir: &str,
        tar: futures_util::stream::BoxStream<'static, Result<bytes::Bytes, std::io::Error>>,
        size: u64,
    ) -> Result<(), DockerError> {
        either!(self, e => e.upload_stream(id, dir, tar, size).await)
    }
    async fn start(&self, id: &str) -> Result<(), DockerError> {
        either!(self, e => e.start(id).await)
    }
    async fn wait(&self, id: &str) -> Result<i64, DockerError> {
        either!(self, e => e.wait(id).await)
    }
    async fn logs(&self, id: &str) -> Result<(Vec<u8>, Vec<u8>), DockerError> {
        either!(self, e => e.logs(id).await)
    }
    async fn kill(&self, id: &str) -> Result<(), DockerError> {
        either!(self, e => e.kill(id).await)
    }
    async fn remove(&self, id: &str) -> Result<(), DockerError> {
        either!(self, e => e.remove(id).await)
    }
    fn export(
        &self,
        id: &str,
    ) -> futures_util::stream::BoxStream<'static, Result<bytes::Bytes, DockerError>> {
        either!(self, e => e.export(id))
    }
    async fn list_labelled(
        &self,
        label: &str,
    ) -> Result<Vec<(String, HashMap<String, String>)>, DockerError> {
        either!(self, e => e.list_labelled(label).await)
    }
}
