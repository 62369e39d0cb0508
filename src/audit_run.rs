//! The I/O half of `libccheck audit`: reading the source (image or directory), profiling each
//! target, and verifying every file on a target in one container, where the static probe runs the
//! target's loader on each file. Pure logic lives in [`crate::audit`].

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use crate::audit::{self, Source, TargetResult};
use crate::bases::Base;
use crate::classify::{Outcome, Verdict};
use crate::docker::{ContainerSpec, Engine, HOST_LABEL, PID_LABEL, RUN_LABEL, Sandbox};

use crate::probe::{self, Job};

/// What to audit and how.
pub struct AuditConfig {
    pub targets: Vec<Base>,
    pub all: bool,
    pub no_run: bool,
    pub timeout: Duration,
    pub sandbox: Sandbox,
    pub pull: crate::run::PullPolicy,
}

/// Probe jobs for the selected files, each where it is placed: `f<i>` (own interpreter) or
/// `f<i>-glibc` / `f<i>-musl`.
pub fn audit_jobs(source: &Source, all: bool) -> Vec<Job> {
    source
        .placements(all)
        .iter()
        .enumerate()
        .flat_map(|(i, (f, at))| crate::run::load_jobs(&f.lib.profile, at, &format!("f{i}")))
        .collect()
}

/// Per file: the loader's verdict in the verifying container (pure).
pub fn outcomes(
    source: &Source,
    all: bool,
    results: &[probe::JobResult],
) -> BTreeMap<String, Outcome> {
    let by_name: HashMap<&str, &probe::JobResult> =
        results.iter().map(|r| (r.name.as_str(), r)).collect();
    source
        .placements(all)
        .iter()
        .enumerate()
        .map(|(i, (f, _))| {
            let o = crate::run::load_outcome(
                &f.lib.profile,
                |n| by_name.get(n).copied(),
                &format!("f{i}"),
                "/nonexistent",
            )
            .unwrap_or_else(|| Outcome::new(Verdict::Ok, "static: no loader involved"));
            (f.path.clone(), audit::unplaced(o))
        })
        .collect()
}

fn add_symlink<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    target: &str,
) -> std::io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    h.set_mode(0o777);
    h.set_mtime(0);
    tar.append_link(&mut h, path.trim_start_matches('/'), target)
}

/// Where the application's files come from, for copying them into each target.
#[derive(Debug, Clone)]
pub enum Origin {
    Dir(std::path::PathBuf),
    Image(String),
}

/// Write the files to audit (each at the path it is checked at) and the symlinks to the
/// application's own as a tar to extract at `/`, from a root directory.
pub fn overlay_from_dir(
    root: &Path,
    placed: &[(String, String)],
    links: &[(String, String)],
    out: impl Write,
) -> std::io::Result<()> {
    let mut tar = tar::Builder::new(out);
    for (p, at) in placed {
        let bytes = std::fs::read(root.join(p.trim_start_matches('/')))?;
        crate::run::add_file(&mut tar, at, &bytes, 0o755)?;
    }
    for (l, t) in links {
        add_symlink(&mut tar, l, t)?;
    }
    tar.into_inner()?.flush()
}

/// The same from an image's exported filesystem: keeps only the selected files, entry by entry.
pub fn overlay_from_stream(
    reader: impl Read,
    wanted: &BTreeMap<String, String>,
    links: &[(String, String)],
    out: impl Write,
) -> std::io::Result<()> {
    let mut tar = tar::Builder::new(out);
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries()? {
        let mut e = entry?;
        let path = crate::base::normalize(&format!("/{}", e.path()?.to_string_lossy()));
        if e.header().entry_type().is_file()
            && let Some(at) = wanted.get(&path)
        {
            let mut h = crate::run::file_header(e.size(), 0o755);
            tar.append_data(&mut h, at.trim_start_matches('/'), &mut e)?;
        }
    }
    for (l, t) in links {
        add_symlink(&mut tar, l, t)?;
    }
    tar.into_inner()?.flush()
}

/// A `Write` that hands 256 KiB chunks to an async consumer (back-pressure through a small channel).
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<bytes::Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 256 << 10 {
            self.flush()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            let chunk = bytes::Bytes::from(std::mem::take(&mut self.buf));
            self.tx
                .blocking_send(Ok(chunk))
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "upload ended"))?;
        }
        Ok(())
    }
}

/// Run `produce` on a blocking thread and stream what it writes.
fn stream_from<F>(
    produce: F,
) -> futures_util::stream::BoxStream<'static, Result<bytes::Bytes, std::io::Error>>
where
    F: FnOnce(&mut ChannelWriter) -> std::io::Result<()> + Send + 'static,
{
    use futures_util::StreamExt;
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    tokio::task::spawn_blocking(move || {
        let mut w = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::new(),
        };
        if let Err(e) = produce(&mut w).and_then(|_| w.flush()) {
            let _ = tx.blocking_send(Err(e));
        }
    });
    tokio_stream_from(rx).boxed()
}

fn tokio_stream_from<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// Copy the application's files into container `id` at `/`, streamed from their origin.
async fn upload_overlay<E: Engine>(
    engine: &E,
    id: &str,
    source: &Source,
    all: bool,
    origin: &Origin,
    run_id: &str,
) -> Result<(), String> {
    let placed: Vec<(String, String)> = source
        .placements(all)
        .into_iter()
        .map(|(f, at)| (f.path.clone(), at))
        .collect();
    let links = source.overlay_links(all);
    match origin {
        Origin::Dir(root) => {
            let root = root.clone();
            let body = stream_from(move |w| overlay_from_dir(&root, &placed, &links, w));
            engine
                .upload_stream(id, "/", body)
                .await
                .map_err(|e| e.to_string())
        }
        Origin::Image(image) => {
            // A second, never-started container of the source image: its export is filtered
            // down to the application's files on the way into the target.
            let wanted: BTreeMap<String, String> = placed.into_iter().collect();
            let (tx, rx) = tokio::sync::mpsc::channel(8);
            let upload = engine.upload_stream(
                id,
                "/",
                futures_util::StreamExt::boxed(tokio_stream_from(rx)),
            );
            let produce = crate::profiles::with_image_tar(engine, image, run_id, move |r| {
                let mut w = ChannelWriter {
                    tx: tx.clone(),
                    buf: Vec::new(),
                };
                let res = overlay_from_stream(r, &wanted, &links, &mut w).and_then(|_| w.flush());
                if let Err(e) = &res {
                    let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
                }
                res
            });
            let (u, p) = tokio::join!(upload, produce);
            p?;
            u.map_err(|e| e.to_string())
        }
    }
}

/// Run every file's loader check on one target in one container.
pub async fn verify<E: Engine>(
    engine: &E,
    source: &Source,
    origin: &Origin,
    cfg: &AuditConfig,
    target: &Base,
    run_id: &str,
) -> Result<BTreeMap<String, Outcome>, String> {
    let jobs = audit_jobs(source, cfg.all);
    let timeout_ms = cfg.timeout.as_millis() as u64;
    let (args, job_file) = probe::job_file(timeout_ms, 8192, &jobs, "/libccheck/jobs", 4);
    let mut sandbox = cfg.sandbox.clone();
    // The application's files must sit at their own paths; nothing of them runs (loaders in
    // trace/list mode only), and the user stays unprivileged.
    sandbox.read_only_root = false;
    let spec = ContainerSpec {
        image: target.image.clone(),
        entrypoint: vec!["/libccheck/probe".into()],
        cmd: args,
        env: vec![],
        labels: HashMap::from([
            (RUN_LABEL.to_string(), run_id.to_string()),
            (HOST_LABEL.to_string(), crate::run::hostname()),
            (PID_LABEL.to_string(), std::process::id().to_string()),
        ]),
        sandbox,
        work_dir: "/libccheck".into(),
    };
    let id = engine.create(&spec).await.map_err(|e| e.to_string())?;
    let body = async {
        let mut tools = tar::Builder::new(Vec::new());
        crate::run::add_file(&mut tools, "probe", probe::PROBE_BINARY, 0o755)
            .map_err(|e| e.to_string())?;
        crate::run::add_file(&mut tools, "jobs", &job_file, 0o644).map_err(|e| e.to_string())?;
        engine
            .upload(
                &id,
                "/libccheck",
                tools.into_inner().map_err(|e| e.to_string())?,
            )
            .await
            .map_err(|e| e.to_string())?;
        upload_overlay(engine, &id, source, cfg.all, origin, run_id).await?;
        engine.start(&id).await.map_err(|e| e.to_string())?;
        let limit = cfg.timeout * (jobs.len() as u32 / 4).max(1) + Duration::from_secs(30);
        let code = match tokio::time::timeout(limit, engine.wait(&id)).await {
            Ok(c) => c.map_err(|e| e.to_string())?,
            Err(_) => {
                let _ = engine.kill(&id).await;
                return Err("the verifying container did not finish in time".to_string());
            }
        };
        let (out, err) = engine.logs(&id).await.map_err(|e| e.to_string())?;
        if code != 0 {
            return Err(format!(
                "the probe failed (exit {code}): {}",
                String::from_utf8_lossy(&err).lines().last().unwrap_or("")
            ));
        }
        probe::parse_report(&out)
    }
    .await;
    if let Err(e) = engine.remove(&id).await {
        tracing::warn!("could not remove container {id}: {e}");
    }
    Ok(outcomes(source, cfg.all, &body?))
}

/// A target made ready for an audit: its image resolved and its profile read (or why not).
pub struct Prepared {
    pub base: Base,
    pub profile: Result<crate::base::BaseProfile, String>,
}

/// Resolve every target's image and read its profile (cached, or from the image). Needs nothing
/// of the source, so it runs while the source is being read.
pub async fn prepare_targets<E: Engine>(
    engine: &E,
    cfg: &AuditConfig,
    run_id: &str,
) -> Vec<Prepared> {
    let progress = crate::run::Progress::new(true, cfg.targets.len());
    let images = crate::run::ensure_images(engine, &cfg.targets, cfg.pull, &progress).await;
    progress.finish();
    let futs = cfg.targets.iter().map(|t| {
        let images = &images;
        async move {
            let profile = match images.get(&t.image) {
                Some(Ok(info)) => {
                    crate::profiles::profile(engine, &t.image, &info.id, run_id).await
                }
                Some(Err(e)) => Err(e.clone()),
                None => Err("image was not resolved".into()),
            };
            Prepared {
                base: t.clone(),
                profile,
            }
        }
    });
    futures_util::future::join_all(futs).await
}

/// Audit on every prepared target: predictions from each target's profile, then (unless
/// `no_run`) one verifying container per target.
pub async fn audit_targets<E: Engine>(
    engine: &E,
    source: &Source,
    origin: &Origin,
    cfg: &AuditConfig,
    prepared: &[Prepared],
    run_id: &str,
) -> Vec<TargetResult> {
    let futs = prepared.iter().map(|p| async move {
        let t = &p.base;
        let mut tr = TargetResult {
            base: t.name.clone(),
            image: t.image.clone(),
            libc: None,
            audited: source.selected(cfg.all).len(),
            broken: 0,
            mismatches: 0,
            groups: vec![],
            files: vec![],
            error: None,
        };
        let bp = match &p.profile {
            Ok(bp) => bp,
            Err(e) => {
                tr.error = Some(e.clone());
                return tr;
            }
        };
        tr.libc = Some(bp.describe_libc());
        let started = std::time::Instant::now();
        let predictions = audit::predict_all(source, cfg.all, bp);
        tracing::debug!(ms = started.elapsed().as_millis() as u64, target = %tr.base, "predicted");
        let verified = if cfg.no_run {
            None
        } else {
            match verify(engine, source, origin, cfg, t, run_id).await {
                Ok(v) => Some(v),
                Err(e) => {
                    tr.error = Some(format!("verification failed: {e}"));
                    None
                }
            }
        };
        let (files, groups) = audit::assemble(source, bp, predictions, verified.as_ref());
        tr.broken = files.iter().filter(|f| f.verdict != Verdict::Ok).count();
        tr.mismatches = files.iter().filter(|f| f.agree == Some(false)).count();
        tr.files = files;
        tr.groups = groups;
        tr
    });
    futures_util::future::join_all(futs).await
}
