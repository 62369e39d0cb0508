//! Everything libccheck asks of Docker, behind one small trait ([`Engine`]), and its one real
//! implementation over the Engine API ([`BollardEngine`], bollard + tokio). Nothing else in the
//! crate talks to Docker, so the orchestration logic is testable with a fake.

pub mod absent;
pub mod init_layer;
pub mod owner;
pub mod podman;
pub mod upload;

use std::collections::HashMap;
use std::time::Duration;

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig, HostConfigLogConfig, Mount, MountTypeEnum};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, KillContainerOptionsBuilder,
    ListContainersOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    UploadToContainerOptionsBuilder,
};
use futures_util::StreamExt;

/// Label on every container libccheck creates; its value is the run id.
pub const RUN_LABEL: &str = "org.libccheck.run";
/// The host and process that created the container (so that `clean` spares live runs).
pub const HOST_LABEL: &str = "org.libccheck.host";
pub const PID_LABEL: &str = "org.libccheck.pid";

/// The part of a pull failure's advice that only a check can follow (`audit` and `image` have no
/// `--offline`).
const OFFLINE_ADVICE: &str = ", or predict without Docker with --offline";

/// A Docker error's message for a subcommand without `--offline`.
pub fn without_offline_advice(message: &str) -> String {
    message.replace(OFFLINE_ADVICE, "")
}

#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error(
        "cannot reach the {} at {host}: {reason} ({})",
        podman::engine_name(host),
        podman::start_advice(host)
    )]
    Unreachable { host: String, reason: String },
    #[error(
        "permission denied on the {} socket {host} ({})",
        if podman::names_podman(host) { "Podman" } else { "Docker" },
        podman::permission_advice(host)
    )]
    PermissionDenied { host: String },
    #[error("image {image} is not present locally (and --pull never forbids pulling it)")]
    ImageMissing { image: String },
    #[error(
        "pulling {image} failed: {reason} (use a local image with --pull never{OFFLINE_ADVICE})"
    )]
    Pull { image: String, reason: String },
    /// An image read without the daemon (a registry, an archive, a layout) could not be read.
    #[error("{0}")]
    Source(String),
    #[error("Docker {op} failed: {message}")]
    Api { op: &'static str, message: String },
    #[error(
        "the {} at {host} did not answer the {op} request within {secs} s (is it overloaded or hung? DOCKER_HOST selects another daemon)",
        podman::engine_name(host)
    )]
    Timeout {
        op: &'static str,
        host: String,
        secs: u64,
    },
}

/// How long the daemon may take to answer the first request (its version).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Uploads may take longer than other requests: this much more per 10 MB.
const UPLOAD_SECS_PER_10MB: u64 = 1;

/// Sandbox settings of a probe container.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Sandbox {
    pub network: bool,
    pub read_only_root: bool,
    pub user: String,
    pub memory_bytes: i64,
    pub pids_limit: i64,
    pub drop_capabilities: bool,
    pub no_new_privileges: bool,
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox {
            network: false,
            read_only_root: true,
            user: "65532:65532".into(),
            memory_bytes: 512 << 20,
            pids_limit: 128,
            drop_capabilities: true,
            no_new_privileges: true,
        }
    }
}

/// What to create: an image, an entrypoint and its arguments, labels, a sandbox, and a volume
/// (`work_dir`) that receives the uploaded files (a volume because a read-only root refuses uploads)
/// — or, on a daemon that shares libccheck's filesystem, a host directory mounted read-only there.
/// `user` and `cap_add` are the entrypoint's (the probe's); the sandbox's user is the one the probe
/// runs the program as.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    pub image: String,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub labels: HashMap<String, String>,
    pub sandbox: Sandbox,
    pub user: String,
    pub cap_add: Vec<String>,
    pub work_dir: String,
    /// A fresh tmpfs on `/tmp`, also the working directory: for every container that runs
    /// something. A container that is only exported goes without: Docker would create a `/tmp`
    /// the image lacks (mode 0755) and the export would show it.
    pub scratch_tmp: bool,
    /// A host directory mounted read-only at `work_dir` instead of a volume (nothing is uploaded).
    pub mount: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    pub id: String,
    pub os: String,
    pub arch: String,
    /// What the image's container runs by default: Entrypoint, Cmd, Env, WorkingDir and User
    /// (`nonroot`, `65532`, `1000:1000`; empty means root).
    pub start: crate::image::entry::Config,
    /// The image's size in bytes as the daemon reports it (`Size`: uncompressed, on disk).
    pub size: Option<u64>,
}

/// Pull progress for a display: bytes done / total across layers, and the latest status line.
#[derive(Debug, Clone, Default)]
pub struct PullProgress {
    pub current: i64,
    pub total: i64,
    pub status: String,
}

/// The Docker operations libccheck needs.
#[allow(async_fn_in_trait)]
pub trait Engine: Send + Sync {
    /// Why there is no engine behind this one (see [`absent::NoEngine`]); `None` for a real one.
    fn absent(&self) -> Option<String> {
        None
    }
    async fn image_info(&self, image: &str) -> Result<Option<ImageInfo>, DockerError>;
    /// Pull `image`; for `platform` (`linux/arm64`) when given, else the daemon's own. A daemon
    /// keeps one image per tag: pulling another platform re-points the tag.
    async fn pull(
        &self,
        image: &str,
        platform: Option<&str>,
        progress: &(dyn Fn(&PullProgress) + Send + Sync),
    ) -> Result<(), DockerError>;
    /// Tag the image `source` (a reference or an id) as `target` (`repo:tag`).
    async fn tag(&self, source: &str, target: &str) -> Result<(), DockerError>;
    async fn create(&self, spec: &ContainerSpec) -> Result<String, DockerError>;
    /// Upload a tar produced as a stream (bounded memory for large uploads) of about `size` bytes
    /// (for its time limit).
    async fn upload_stream(
        &self,
        id: &str,
        dir: &str,
        tar: futures_util::stream::BoxStream<'static, Result<bytes::Bytes, std::io::Error>>,
        size: u64,
    ) -> Result<(), DockerError>;
    async fn start(&self, id: &str) -> Result<(), DockerError>;
    /// Wait for the container to exit; its exit code.
    async fn wait(&self, id: &str) -> Result<i64, DockerError>;
    /// stdout and stderr of the (exited) container.
    async fn logs(&self, id: &str) -> Result<(Vec<u8>, Vec<u8>), DockerError>;
    async fn kill(&self, id: &str) -> Result<(), DockerError>;
    /// Force-remove the container and its anonymous volumes.
    async fn remove(&self, id: &str) -> Result<(), DockerError>;
    /// The filesystem of a (created, never started) container as a tar stream.
    fn export(
        &self,
        id: &str,
    ) -> futures_util::stream::BoxStream<'static, Result<bytes::Bytes, DockerError>>;
    /// Containers (any state) carrying `label` (`key` or `key=value`): id and labels.
    async fn list_labelled(
        &self,
        label: &str,
    ) -> Result<Vec<(String, HashMap<String, String>)>, DockerError>;
}

pub struct BollardEngine {
    docker: Docker,
    request_timeout: Duration,
    /// The engine is Podman's compatibility layer (told by its `/_ping` answer): some requests
    /// differ (see [`podman`]).
    podman: bool,
    /// The resource limits a Podman container is given (see [`podman::ulimits`]).
    ulimits: Vec<bollard::models::ResourcesUlimits>,
}

/// The engine libccheck talks to: as `DOCKER_HOST` names it, else Docker's socket, else a Podman
/// socket that exists (see [`podman::default_host`]). Decided once per process.
pub fn docker_host() -> String {
    static HOST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HOST.get_or_init(|| {
        podman::default_host(
            std::env::var("DOCKER_HOST").ok().as_deref(),
            std::env::var("XDG_RUNTIME_DIR").ok().as_deref(),
            podman::runs_as_root(),
            |p| p.exists(),
        )
    })
    .clone()
}

fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        cur = err.source();
    }
    None
}

fn root_message(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: &(dyn std::error::Error + 'static) = e;
    while let Some(s) = cur.source() {
        cur = s;
    }
    cur.to_string()
}

/// Map a bollard error to ours, recognising an unreachable daemon wherever it happens.
fn api(op: &'static str, e: bollard::errors::Error) -> DockerError {
    use bollard::errors::Error as E;
    match &e {
        E::DockerResponseServerError { message, .. } => DockerError::Api {
            op,
            message: podman::explain(message.trim()),
        },
        // Podman reports a failed pull inside its (HTTP 200) progress stream, where Docker
        // answers the request with an error status.
        E::DockerStreamError { error } => DockerError::Api {
            op,
            message: podman::explain(error.trim()),
        },
        E::DockerContainerWaitError { error, code } => DockerError::Api {
            op,
            message: format!("{error} (exit {code})"),
        },
        E::RequestTimeoutError => DockerError::Timeout {
            op,
            host: docker_host(),
            secs: 0,
        },
        _ => match io_kind(&e) {
            Some(std::io::ErrorKind::PermissionDenied) => DockerError::PermissionDenied {
                host: docker_host(),
            },
            Some(
                std::io::ErrorKind::ConnectionRefused
                | std::io::ErrorKind::NotFound
                | std::io::ErrorKind::ConnectionReset,
            ) => DockerError::Unreachable {
                host: docker_host(),
                reason: root_message(&e),
            },
            _ => DockerError::Api {
                op,
                message: root_message(&e),
            },
        },
    }
}

impl BollardEngine {
    /// Connect as `DOCKER_HOST` says (unix socket by default, tcp:// too) and negotiate the API
    /// version so that older daemons (API 1.41, Docker 20.10) work.
    /// Every request must be answered within `request_timeout` (uploads get more, by size); the
    /// first within [`CONNECT_TIMEOUT`].
    pub async fn connect(request_timeout: Duration) -> Result<Self, DockerError> {
        let host = docker_host();
        // The version from `/_ping`, as the docker CLI does (`/version` makes dockerd run
        // `runc --version` and others, which costs the daemon far more); its headers also tell
        // Podman from Docker. Any failure takes the general path below, which explains it.
        let pinged = ping(&host).await.ok_or(DockerError::Timeout {
            op: "version",
            host: host.clone(),
            secs: CONNECT_TIMEOUT.as_secs(),
        })?;
        let podman = pinged.as_ref().is_some_and(|p| p.podman);
        let ulimits = match &pinged {
            Some(p) if p.podman => podman_ulimits(p.peer_pid),
            _ => vec![],
        };
        if let Some(server) = pinged.as_ref().and_then(|p| p.version.as_ref()) {
            let version = if *server < *bollard::API_DEFAULT_VERSION {
                server
            } else {
                bollard::API_DEFAULT_VERSION
            };
            // The timeout given here is replaced by the exact one right after.
            let docker = match host.strip_prefix("tcp://") {
                Some(_) => Docker::connect_with_http(&host, 120, version),
                None => Docker::connect_with_unix(&host, 120, version),
            };
            if let Ok(docker) = docker {
                tracing::debug!(api = %docker.client_version(), podman, "connected");
                return Ok(BollardEngine {
                    docker: docker.with_timeout(request_timeout),
                    request_timeout,
                    podman,
                    ulimits,
                });
            }
        }
        let unreachable = |e: bollard::errors::Error| DockerError::Unreachable {
            host: host.clone(),
            reason: root_message(&e),
        };
        // A socket found without DOCKER_HOST (Podman's) is not where bollard's defaults look.
        let docker = match host.strip_prefix("unix://") {
            Some(_) => Docker::connect_with_unix(&host, 120, bollard::API_DEFAULT_VERSION),
            None => Docker::connect_with_defaults(),
        }
        .map_err(unreachable)?
        .with_timeout(CONNECT_TIMEOUT);
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| match api("version", e) {
                DockerError::Api { message, .. } => DockerError::Unreachable {
                    host: host.clone(),
                    reason: message,
                },
                DockerError::Timeout { op, host, .. } => DockerError::Timeout {
                    op,
                    host,
                    secs: CONNECT_TIMEOUT.as_secs(),
                },
                other => other,
            })?;
        tracing::debug!(api = %docker.client_version(), podman, "connected");
        Ok(BollardEngine {
            docker: docker.with_timeout(request_timeout),
            request_timeout,
            podman,
            ulimits,
        })
    }
}

impl BollardEngine {
    /// A timeout error with the limit that applied.
    fn timed(&self, e: DockerError, limit: Duration) -> DockerError {
        match e {
            DockerError::Timeout { op, host, .. } => DockerError::Timeout {
                op,
                host,
                secs: limit.as_secs(),
            },
            other => other,
        }
    }

    fn api(&self, op: &'static str, e: bollard::errors::Error) -> DockerError {
        self.timed(api(op, e), self.request_timeout)
    }
}

/// The parts of an image's configuration that decide what its container runs.
fn start_config(c: bollard::models::ImageConfig) -> crate::image::entry::Config {
    crate::image::entry::Config {
        entrypoint: c.entrypoint.unwrap_or_default(),
        cmd: c.cmd.unwrap_or_default(),
        env: c.env.unwrap_or_default(),
        working_dir: c.working_dir.unwrap_or_default(),
        user: c.user.unwrap_or_default(),
    }
}

impl Engine for BollardEngine {
    async fn image_info(&self, image: &str) -> Result<Option<ImageInfo>, DockerError> {
        match self.docker.inspect_image(image).await {
            Ok(i) => Ok(Some(ImageInfo {
                id: i.id.unwrap_or_default(),
                os: i.os.unwrap_or_default(),
                arch: i.architecture.unwrap_or_default(),
                start: i.config.map(start_config).unwrap_or_default(),
                size: i.size.and_then(|s| u64::try_from(s).ok()),
            })),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(self.api("image inspect", e)),
        }
    }

    async fn pull(
        &self,
        image: &str,
        platform: Option<&str>,
        progress: &(dyn Fn(&PullProgress) + Send + Sync),
    ) -> Result<(), DockerError> {
        let (name, tag) = split_ref(image);
        let mut opts = CreateImageOptionsBuilder::new().from_image(name).tag(tag);
        if let Some(p) = platform {
            opts = opts.platform(p);
        }
        let opts = opts.build();
        let mut stream = self.docker.create_image(Some(opts), None, None);
        let mut layers: HashMap<String, (i64, i64)> = HashMap::new();
        // Drain the whole stream: the pull is only complete when it ends.
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| match api("pull", e) {
                DockerError::Api { message, .. } => DockerError::Pull {
                    image: image.into(),
                    reason: message,
                },
                other => other,
            })?;
            if let Some(err) = info.error.or(info.error_detail.and_then(|d| d.message)) {
                return Err(DockerError::Pull {
                    image: image.into(),
                    reason: err,
                });
            }
            if let (Some(id), Some(d)) = (&info.id, &info.progress_detail)
                && let (Some(c), Some(t)) = (d.current, d.total)
            {
                layers.insert(id.clone(), (c, t));
            }
            let (current, total) = layers
                .values()
                .fold((0, 0), |(c, t), (lc, lt)| (c + lc, t + lt));
            progress(&PullProgress {
                current,
                total,
                status: info.status.unwrap_or_default(),
            });
        }
        Ok(())
    }

    async fn tag(&self, source: &str, target: &str) -> Result<(), DockerError> {
        let (repo, tag) = split_ref(target);
        let opts = bollard::query_parameters::TagImageOptionsBuilder::new()
            .repo(repo)
            .tag(tag)
            .build();
        self.docker
            .tag_image(source, Some(opts))
            .await
            .map_err(|e| self.api("tag", e))
    }

    async fn create(&self, spec: &ContainerSpec) -> Result<String, DockerError> {
        let sb = &spec.sandbox;
        let host = HostConfig {
            init: Some(true),
            network_mode: Some(if sb.network {
                "bridge".into()
            } else {
                "none".into()
            }),
            cap_drop: sb.drop_capabilities.then(|| vec!["ALL".into()]),
            cap_add: (!spec.cap_add.is_empty()).then(|| spec.cap_add.clone()),
            security_opt: sb
                .no_new_privileges
                .then(|| vec!["no-new-privileges".into()]),
            readonly_rootfs: Some(sb.read_only_root),
            mounts: spec.mount.as_ref().map(|dir| {
                vec![Mount {
                    target: Some(spec.work_dir.clone()),
                    source: Some(dir.to_string_lossy().into_owned()),
                    typ: Some(MountTypeEnum::BIND),
                    read_only: Some(true),
                    ..Default::default()
                }]
            }),
            tmpfs: spec.scratch_tmp.then(|| {
                HashMap::from([("/tmp".to_string(), "rw,nosuid,nodev,size=64m".to_string())])
            }),
            memory: Some(sb.memory_bytes),
            memory_swap: Some(sb.memory_bytes),
            pids_limit: Some(sb.pids_limit),
            // Podman: the limits Docker would give instead of Podman's own (see podman::ulimits).
            ulimits: self.podman.then(|| self.ulimits.clone()),
            log_config: Some(HostConfigLogConfig {
                typ: Some("json-file".into()),
                config: Some(HashMap::from([(
                    "max-size".to_string(),
                    "256m".to_string(),
                )])),
            }),
            ..Default::default()
        };
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            entrypoint: Some(spec.entrypoint.clone()),
            cmd: Some(spec.cmd.clone()),
            env: Some(spec.env.clone()),
            user: Some(spec.user.clone()),
            labels: Some(spec.labels.clone()),
            volumes: (!spec.work_dir.is_empty() && spec.mount.is_none())
                .then(|| HashMap::from([(spec.work_dir.clone(), HashMap::new())])),
            working_dir: Some(if spec.scratch_tmp { "/tmp" } else { "/" }.into()),
            network_disabled: Some(!sb.network),
            attach_stdout: Some(false),
            attach_stderr: Some(false),
            tty: Some(false),
            host_config: Some(host),
            ..Default::default()
        };
        let r = self
            .docker
            .create_container(Some(CreateContainerOptionsBuilder::new().build()), body)
            .await
            .map_err(|e| self.api("container create", e))?;
        Ok(r.id)
    }

    async fn upload_stream(
        &self,
        id: &str,
        dir: &str,
        tar: futures_util::stream::BoxStream<'static, Result<bytes::Bytes, std::io::Error>>,
        size: u64,
    ) -> Result<(), DockerError> {
        let opts = UploadToContainerOptionsBuilder::new().path(dir).build();
        // The daemon answers an upload once it has the whole body: allow for its size.
        let timeout =
            self.request_timeout + Duration::from_secs(size / 10_000_000 * UPLOAD_SECS_PER_10MB);
        self.docker
            .clone()
            .with_timeout(timeout)
            .upload_to_container(id, Some(opts), bollard::body_try_stream(tar))
            .await
            .map_err(|e| self.timed(api("upload", e), timeout))
    }

    async fn start(&self, id: &str) -> Result<(), DockerError> {
        self.docker
            .start_container(id, None::<bollard::query_parameters::StartContainerOptions>)
            .await
            .map_err(|e| self.api("container start", e))
    }

    async fn wait(&self, id: &str) -> Result<i64, DockerError> {
        let mut s = self
            .docker
            .wait_container(id, None::<bollard::query_parameters::WaitContainerOptions>);
        match s.next().await {
            Some(Ok(r)) => Ok(r.status_code),
            // A non-zero exit arrives as an error variant carrying the code.
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(code),
            Some(Err(e)) => Err(self.api("container wait", e)),
            None => Err(DockerError::Api {
                op: "container wait",
                message: "the daemon closed the wait stream".into(),
            }),
        }
    }

    async fn logs(&self, id: &str) -> Result<(Vec<u8>, Vec<u8>), DockerError> {
        let opts = LogsOptionsBuilder::new()
            .stdout(true)
            .stderr(true)
            .tail("all")
            .build();
        let mut s = self.docker.logs(id, Some(opts));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let deadline = tokio::time::Instant::now() + self.request_timeout;
        // The request's own time limit ends with the answer's headers; the body must come too.
        while let Some(item) = tokio::time::timeout_at(deadline, s.next())
            .await
            .map_err(|_| {
                self.timed(
                    api("logs", bollard::errors::Error::RequestTimeoutError),
                    self.request_timeout,
                )
            })?
        {
            match item.map_err(|e| self.api("logs", e))? {
                bollard::container::LogOutput::StdOut { message } => {
                    out.extend_from_slice(&message)
                }
                bollard::container::LogOutput::StdErr { message } => {
                    err.extend_from_slice(&message)
                }
                bollard::container::LogOutput::Console { message } => {
                    out.extend_from_slice(&message)
                }
                _ => {}
            }
        }
        Ok((out, err))
    }

    async fn kill(&self, id: &str) -> Result<(), DockerError> {
        let opts = KillContainerOptionsBuilder::new().signal("KILL").build();
        match self.docker.kill_container(id, Some(opts)).await {
            Ok(()) => Ok(()),
            // Already stopped or gone: that is what we wanted.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404 | 409,
                ..
            }) => Ok(()),
            Err(e) => Err(self.api("container kill", e)),
        }
    }

    async fn remove(&self, id: &str) -> Result<(), DockerError> {
        let opts = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        match self.docker.remove_container(id, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            // "removal already in progress"
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409, ..
            }) => Ok(()),
            Err(e) => Err(self.api("container remove", e)),
        }
    }

    fn export(
        &self,
        id: &str,
    ) -> futures_util::stream::BoxStream<'static, Result<bytes::Bytes, DockerError>> {
        let raw = self
            .docker
            .export_container(id)
            .map(|r| r.map_err(|e| api("export", e)));
        if self.podman {
            // Podman's export lacks Docker's init layer and keeps hard links (see
            // podman::with_docker_init_layer).
            return as_docker_export(self.docker.clone(), id.to_string(), raw.boxed());
        }
        raw.boxed()
    }

    async fn list_labelled(
        &self,
        label: &str,
    ) -> Result<Vec<(String, HashMap<String, String>)>, DockerError> {
        let filters = HashMap::from([("label".to_string(), vec![label.to_string()])]);
        let opts = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        let list = self
            .docker
            .list_containers(Some(opts))
            .await
            .map_err(|e| self.api("container list", e))?;
        Ok(list
            .into_iter()
            .filter_map(|c| Some((c.id?, c.labels.unwrap_or_default())))
            .collect())
    }
}

/// A Podman export of container `id` as Docker would give it, rewritten on a blocking thread as
/// it streams.
fn as_docker_export(
    docker: Docker,
    id: String,
    raw: futures_util::stream::BoxStream<'static, Result<bytes::Bytes, DockerError>>,
) -> futures_util::stream::BoxStream<'static, Result<bytes::Bytes, DockerError>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, DockerError>>(8);
    let reader = tokio_util::io::StreamReader::new(raw.map(|r| r.map_err(std::io::Error::other)));
    let input = tokio_util::io::SyncIoBridge::new(reader);
    let errors = tx.clone();
    tokio::task::spawn_blocking(move || {
        let out = std::io::BufWriter::with_capacity(256 << 10, ChannelWriter(tx));
        let copy_of = |path: &str| -> std::io::Result<Box<dyn std::io::Read>> {
            let opts = bollard::query_parameters::DownloadFromContainerOptionsBuilder::new()
                .path(path)
                .build();
            let file = docker
                .download_from_container(&id, Some(opts))
                .map(|r| r.map_err(|e| std::io::Error::other(api("export", e))));
            Ok(Box::new(tokio_util::io::SyncIoBridge::new(
                tokio_util::io::StreamReader::new(file),
            )))
        };
        if let Err(e) = podman::with_docker_init_layer(input, out, copy_of) {
            // The engine's own error, when reading its stream failed.
            let e = match e.into_inner().map(|i| i.downcast::<DockerError>()) {
                Some(Ok(docker)) => *docker,
                Some(Err(other)) => DockerError::Api {
                    op: "export",
                    message: other.to_string(),
                },
                None => DockerError::Api {
                    op: "export",
                    message: "the exported filesystem is not a tar archive".into(),
                },
            };
            let _ = errors.blocking_send(Err(e));
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) })
        .boxed()
}

/// Bytes written here come out of the channel's receiver (closed receiver: a broken pipe).
struct ChannelWriter(tokio::sync::mpsc::Sender<Result<bytes::Bytes, DockerError>>);

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(Ok(bytes::Bytes::copy_from_slice(buf)))
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The `nofile` and `nproc` limits of the Podman service (the process at the other end of its
/// socket, as dockerd gives its own), or libccheck's own when they cannot be read (a remote
/// service), for its containers.
fn podman_ulimits(service_pid: Option<i32>) -> Vec<bollard::models::ResourcesUlimits> {
    let text = service_pid
        .and_then(|pid| std::fs::read_to_string(format!("/proc/{pid}/limits")).ok())
        .or_else(|| std::fs::read_to_string("/proc/self/limits").ok())
        .unwrap_or_default();
    let pid_max = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()
        .and_then(|m| m.trim().parse().ok());
    podman::ulimits(&text, pid_max)
        .into_iter()
        .map(|u| bollard::models::ResourcesUlimits {
            name: Some(u.name.to_string()),
            soft: Some(u.soft),
            hard: Some(u.hard),
        })
        .collect()
}

/// Create a container from `spec`, run `work` with its id, and remove the container whatever
/// `work` returned. A failed removal is only logged: the run's cleanup and `libccheck clean` find
/// the container by its labels.
pub async fn with_container<E: Engine, T>(
    engine: &E,
    spec: &ContainerSpec,
    work: impl AsyncFnOnce(&str) -> T,
) -> Result<T, DockerError> {
    let id = engine.create(spec).await?;
    tracing::debug!(container = %id, image = %spec.image, "created");
    let out = work(&id).await;
    if let Err(e) = engine.remove(&id).await {
        tracing::warn!("could not remove container {id}: {e}");
    }
    tracing::debug!(container = %id, "removed");
    Ok(out)
}

/// Start the container and wait for its exit code; `None` when it outlived `limit` (it is then
/// killed).
pub async fn start_and_wait<E: Engine>(
    engine: &E,
    id: &str,
    limit: Duration,
) -> Result<Option<i64>, DockerError> {
    engine.start(id).await?;
    match tokio::time::timeout(limit, engine.wait(id)).await {
        Ok(code) => code.map(Some),
        Err(_) => {
            engine.kill(id).await?;
            Ok(None)
        }
    }
}

/// Where an image pulled for `platform` is kept locally, beside the reference (whose tag the
/// pull re-points): `alpine:3.22` for linux/arm64 → `alpine:3.22-linux-arm64`. `None` for a
/// digest reference, which names one content already.
pub fn platform_ref(image: &str, platform: &str) -> Option<String> {
    if image.contains('@') {
        return None;
    }
    let (name, tag) = split_ref(image);
    Some(format!("{name}:{tag}-{}", platform.replace('/', "-")))
}

/// `alpine:3.22` → (`alpine`, `3.22`); `host:5000/x/y` → (`host:5000/x/y`, `latest`); digests kept whole.
pub fn split_ref(image: &str) -> (&str, &str) {
    if image.contains('@') {
        return (image, "");
    }
    match image.rfind(':') {
        Some(i) if !image[i + 1..].contains('/') => (&image[..i], &image[i + 1..]),
        _ => (image, "latest"),
    }
}

/// What an engine's `GET /_ping` answer says.
struct Pinged {
    /// `None` when it cannot tell (the caller asks the general way).
    version: Option<bollard::ClientVersion>,
    podman: bool,
    /// The process that answers on a unix socket (its peer credentials).
    peer_pid: Option<i32>,
}

/// Ping the engine at a unix socket or a plain `tcp://` address: `Some(None)` when that cannot be
/// done or told (the caller asks the general way, which explains a failure), `None` when the
/// engine accepted the connection and did not answer in time.
async fn ping(host: &str) -> Option<Option<Pinged>> {
    use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
    async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(mut s: S) -> Option<Vec<u8>> {
        s.write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            .await
            .ok()?;
        let mut answer = Vec::with_capacity(512);
        s.take(16 << 10).read_to_end(&mut answer).await.ok()?;
        Some(answer)
    }
    let answer = async {
        if let Some(path) = host.strip_prefix("unix://") {
            let s = tokio::net::UnixStream::connect(path).await.ok()?;
            let pid = s.peer_cred().ok().and_then(|c| c.pid());
            Some((exchange(s).await?, pid))
        } else if let Some(addr) = host.strip_prefix("tcp://") {
            // TLS (DOCKER_TLS_VERIFY) is the general path's.
            if std::env::var_os("DOCKER_TLS_VERIFY").is_some_and(|v| !v.is_empty()) {
                return None;
            }
            let s = tokio::net::TcpStream::connect(addr.trim_end_matches('/'));
            Some((exchange(s.await.ok()?).await?, None))
        } else {
            None
        }
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, answer).await {
        Err(_) => None,
        Ok(answer) => Some(answer.map(|(a, peer_pid)| {
            Pinged {
                version: api_version_header(&a),
                peer_pid,
                podman: podman::is_podman_answer(
                    String::from_utf8_lossy(&a)
                        .split("\r\n\r\n")
                        .next()
                        .unwrap_or(""),
                ),
            }
        })),
    }
}

/// `Api-Version: 1.41` of an HTTP answer with status 200, as a client version (pure).
fn api_version_header(answer: &[u8]) -> Option<bollard::ClientVersion> {
    let head = String::from_utf8_lossy(answer);
    let head = head.split("\r\n\r\n").next()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?;
    if !status.starts_with("HTTP/1.") || status.split(' ').nth(1) != Some("200") {
        return None;
    }
    let value = lines.find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("api-version")
            .then(|| v.trim())
    })?;
    let (major, minor) = value.split_once('.')?;
    Some(bollard::ClientVersion {
        major_version: major.parse().ok()?,
        minor_version: minor.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::{DockerError, api_version_header, platform_ref, split_ref, without_offline_advice};

    /// A check may fall back to --offline; audit and image, which lack it, are not told to.
    #[test]
    fn a_pull_failure_names_offline_only_where_it_exists() {
        let e = DockerError::Pull {
            image: "x:1".into(),
            reason: "no route".into(),
        }
        .to_string();
        assert!(
            e.ends_with(
                "(use a local image with --pull never, or predict without Docker with --offline)"
            ),
            "{e}"
        );
        assert_eq!(
            without_offline_advice(&e),
            "pulling x:1 failed: no route (use a local image with --pull never)"
        );
    }

    #[test]
    fn api_version_from_a_ping_answer() {
        let ok = b"HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nServer: Docker/20.10.24\r\n\r\nOK";
        let v = api_version_header(ok).unwrap();
        assert_eq!((v.major_version, v.minor_version), (1, 41));
        let lower = b"HTTP/1.0 200 OK\r\napi-version:1.51\r\n\r\nOK";
        assert_eq!(api_version_header(lower).unwrap().minor_version, 51);
        assert!(
            api_version_header(b"HTTP/1.1 500 Internal\r\nApi-Version: 1.41\r\n\r\n").is_none()
        );
        assert!(api_version_header(b"HTTP/1.1 200 OK\r\n\r\nApi-Version: 1.41").is_none());
        assert!(api_version_header(b"HTTP/1.1 200 OK\r\nApi-Version: one\r\n\r\n").is_none());
        assert!(api_version_header(b"garbage").is_none());
    }

    #[test]
    fn each_platform_has_its_own_local_reference() {
        assert_eq!(
            platform_ref("alpine:3.22", "linux/arm64").as_deref(),
            Some("alpine:3.22-linux-arm64")
        );
        assert_eq!(
            platform_ref("host:5000/x/y", "linux/arm64").as_deref(),
            Some("host:5000/x/y:latest-linux-arm64")
        );
        assert_eq!(platform_ref("x@sha256:ab", "linux/arm64"), None);
    }

    #[test]
    fn image_references() {
        assert_eq!(split_ref("alpine:3.22"), ("alpine", "3.22"));
        assert_eq!(split_ref("alpine"), ("alpine", "latest"));
        assert_eq!(
            split_ref("127.0.0.1:5000/x/y"),
            ("127.0.0.1:5000/x/y", "latest")
        );
        assert_eq!(
            split_ref("127.0.0.1:5000/x/y:1"),
            ("127.0.0.1:5000/x/y", "1")
        );
        assert_eq!(
            split_ref("gcr.io/distroless/cc-debian13"),
            ("gcr.io/distroless/cc-debian13", "latest")
        );
    }
}
