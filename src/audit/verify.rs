//! The I/O half of `libccheck audit`: each target's image made ready and profiled, and every file
//! verified on a target in one container, where the static probe runs the target's loader on
//! each file. Reading the source is [`source`](super::source); the pure logic is [`crate::audit`].

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use crate::audit::{self, Source, TargetResult};
use crate::docker::{ContainerSpec, Engine, Sandbox};
use crate::image::aliases::Base;
use crate::verdict::{Outcome, Verdict};

use crate::docker::upload;
use anyhow::Context;

use crate::probe::jobs::WORK_DIR;
use crate::probe::{self, Job};

/// What to audit and how.
pub struct AuditConfig {
    pub targets: Vec<Base>,
    pub all: bool,
    pub no_run: bool,
    pub timeout: Duration,
    pub sandbox: Sandbox,
    pub pull: crate::check::PullPolicy,
}

/// Probe jobs for the selected files on `target`, each where it is placed: `f<i>` (own
/// interpreter) or `f<i>-glibc` / `f<i>-musl`; a module whose host program the target has is
/// loaded with the host's libraries mapped first.
pub fn audit_jobs(
    source: &Source,
    all: bool,
    target: &crate::image::base::BaseProfile,
) -> Vec<Job> {
    source
        .placements(all)
        .iter()
        .enumerate()
        // A file of another architecture is not loaded: its verdict is a fact of its header.
        .filter(|(_, (f, _))| {
            crate::loader::wrong_arch(&f.lib.profile, crate::loader::BASE_MACHINE).is_none()
        })
        .flat_map(|(i, (f, at))| {
            let scope = audit::host_scope(f, target);
            crate::probe::jobs::load_jobs(&f.lib.profile, at, &format!("f{i}"))
                .into_iter()
                .map(move |j| crate::probe::jobs::with_host_scope(j, scope))
        })
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
            if let Some(wrong) =
                crate::loader::wrong_arch(&f.lib.profile, crate::loader::BASE_MACHINE)
            {
                let mut o = Outcome::new(wrong.verdict, wrong.reason);
                o.problems = wrong.problems;
                return (f.path.clone(), o);
            }
            let o = crate::probe::jobs::load_outcome(
                &f.lib.profile,
                |n| by_name.get(n).copied(),
                &format!("f{i}"),
                "/nonexistent",
            )
            .unwrap_or_else(|| Outcome::new(Verdict::Ok, "static: no loader involved"));
            (f.path.clone(), source.unplaced(o))
        })
        .collect()
}

/// Where the application's files come from, for copying them into each target.
#[derive(Debug, Clone)]
pub enum Origin {
    Dir(std::path::PathBuf),
    Image(String),
    /// A zip archive (a wheel, a jar): each file of the source is the member named beside its
    /// path, decompressed while it is uploaded.
    Zip {
        archive: std::path::PathBuf,
        members: BTreeMap<String, String>,
    },
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
        upload::add_host_file(
            &mut tar,
            at,
            &root.join(p.trim_start_matches('/')),
            0o755,
            None,
        )?;
    }
    for (l, t) in links {
        upload::add_symlink(&mut tar, l, t)?;
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
        let path = crate::image::base::normalize(&format!("/{}", e.path()?.to_string_lossy()));
        if e.header().entry_type().is_file()
            && let Some(at) = wanted.get(&path)
        {
            let mut h = upload::file_header(e.size(), 0o755);
            tar.append_data(&mut h, at.trim_start_matches('/'), &mut e)?;
        }
    }
    for (l, t) in links {
        upload::add_symlink(&mut tar, l, t)?;
    }
    tar.into_inner()?.flush()
}

/// The same from a zip archive: each placed file is its member (`members`: source path → member
/// name), decompressed into the tar as it streams; nothing is extracted to disk.
pub fn overlay_from_zip(
    archive: &Path,
    members: &BTreeMap<String, String>,
    placed: &[(String, String)],
    links: &[(String, String)],
    out: impl Write,
) -> std::io::Result<()> {
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(std::fs::File::open(archive)?))
        .map_err(std::io::Error::other)?;
    let mut tar = tar::Builder::new(out);
    for (p, at) in placed {
        let name = members
            .get(p)
            .ok_or_else(|| std::io::Error::other(format!("{p}: not a member of the archive")))?;
        let mut member = zip.by_name(name).map_err(std::io::Error::other)?;
        let mut h = upload::file_header(member.size(), 0o755);
        tar.append_data(&mut h, at.trim_start_matches('/'), &mut member)?;
    }
    for (l, t) in links {
        upload::add_symlink(&mut tar, l, t)?;
    }
    tar.into_inner()?.flush()
}

/// The bytes the placed members of a zip archive decompress to (for the upload's time limit).
fn zip_placed_size(archive: &Path, members: &BTreeMap<String, String>) -> u64 {
    let Ok(zip) = std::fs::File::open(archive)
        .map_err(zip::result::ZipError::Io)
        .and_then(|f| zip::ZipArchive::new(std::io::BufReader::new(f)))
    else {
        return 0;
    };
    members
        .values()
        .filter_map(|m| zip.index_for_name(m))
        .filter_map(|i| zip.by_index_data(i).ok())
        .map(|m| m.size())
        .sum()
}

/// For the upload's time limit when the files come from an image export.
const IMAGE_OVERLAY_SIZE_HINT: u64 = 4 << 30;

/// The bytes of the placed files of a root directory (for the upload's time limit).
fn placed_size(root: &Path, placed: &[(String, String)]) -> u64 {
    placed
        .iter()
        .filter_map(|(p, _)| std::fs::metadata(root.join(p.trim_start_matches('/'))).ok())
        .map(|m| m.len())
        .sum()
}

/// Copy the application's files into container `id` at `/`, streamed from their origin.
async fn upload_overlay<E: Engine>(
    engine: &E,
    id: &str,
    source: &Source,
    all: bool,
    origin: &Origin,
    run_id: &str,
) -> anyhow::Result<()> {
    let placed: Vec<(String, String)> = source
        .placements(all)
        .into_iter()
        .map(|(f, at)| (f.path.clone(), at))
        .collect();
    let links = source.overlay_links(all);
    match origin {
        Origin::Dir(root) => {
            let root = root.clone();
            let size = placed_size(&root, &placed);
            let body = upload::stream_from(move |w| overlay_from_dir(&root, &placed, &links, w));
            Ok(engine.upload_stream(id, "/", body, size).await?)
        }
        Origin::Zip { archive, members } => {
            let (archive, members) = (archive.clone(), members.clone());
            let size = zip_placed_size(&archive, &members);
            let body = upload::stream_from(move |w| {
                overlay_from_zip(&archive, &members, &placed, &links, w)
            });
            Ok(engine.upload_stream(id, "/", body, size).await?)
        }
        Origin::Image(image) => {
            // A second, never-started container of the source image: its export is filtered
            // down to the application's files on the way into the target.
            let wanted: BTreeMap<String, String> = placed.into_iter().collect();
            let (mut w, body) = upload::channel();
            // Their sizes are known only once the export streams: allow for a large image.
            let upload = engine.upload_stream(id, "/", body, IMAGE_OVERLAY_SIZE_HINT);
            let produce = crate::image::export::with_image_tar(engine, image, run_id, move |r| {
                let res = overlay_from_stream(r, &wanted, &links, &mut w).and_then(|_| w.flush());
                if let Err(e) = &res {
                    w.fail(std::io::Error::other(e.to_string()));
                }
                res
            });
            let (u, p) = tokio::join!(upload, produce);
            p?;
            Ok(u?)
        }
    }
}

/// The first file or link of the source that would land in libccheck's own `/libccheck` (outside
/// the directories where libccheck places files on purpose: packaged files, a package's install
/// directory).
fn in_work_dir(source: &Source, all: bool) -> Option<String> {
    let placed_on_purpose = |p: &str| {
        std::iter::once(audit::SYSTEM_DIR)
            .chain(source.install_dir.as_deref())
            .any(|dir| p.starts_with(&format!("{dir}/")))
    };
    let ours = |p: &str| {
        (p == WORK_DIR || p.starts_with(&format!("{WORK_DIR}/"))) && !placed_on_purpose(p)
    };
    let placed = source.placements(all).into_iter().map(|(_, at)| at);
    let links = source.overlay_links(all).into_iter().map(|(l, _)| l);
    placed.chain(links).find(|p| ours(p))
}

/// Run every file's loader check on one target in one container.
pub async fn verify<E: Engine>(
    engine: &E,
    source: &Source,
    origin: &Origin,
    cfg: &AuditConfig,
    target: &Base,
    profile: &crate::image::base::BaseProfile,
    run_id: &str,
) -> anyhow::Result<BTreeMap<String, Outcome>> {
    let jobs = audit_jobs(source, cfg.all, profile);
    if let Some(at) = in_work_dir(source, cfg.all) {
        anyhow::bail!(
            "the source has {at} under /libccheck, where libccheck's probe works: it cannot be verified there"
        );
    }
    let overlay = Overlay {
        source,
        all: cfg.all,
        origin,
    };
    let results = probe_in(engine, &target.image, &jobs, cfg, Some(overlay), run_id).await?;
    Ok(outcomes(source, cfg.all, &results))
}

/// The files to copy into a verifying container before the probe: the selected files of a
/// source, from where they come.
pub struct Overlay<'a> {
    pub source: &'a Source,
    pub all: bool,
    pub origin: &'a Origin,
}

/// Run `jobs` in one probe container of `image` (with `overlay`'s files copied in first, when
/// given) and return their results: the loaders in trace/list mode, or a program itself.
pub async fn probe_in<E: Engine>(
    engine: &E,
    image: &str,
    jobs: &[Job],
    cfg: &AuditConfig,
    overlay: Option<Overlay<'_>>,
    run_id: &str,
) -> anyhow::Result<Vec<probe::JobResult>> {
    let key = probe::new_key().context("no report key")?;
    let key_file = format!("{WORK_DIR}/{}", probe::KEY_FILE);
    let launch = probe::launch(&cfg.sandbox.user, probe::KeyFrom::File(&key_file));
    let (args, job_file) = probe::job_file(
        cfg.timeout.as_millis() as u64,
        8192,
        &launch.options,
        jobs,
        &format!("{WORK_DIR}/jobs"),
        4,
    );
    let mut sandbox = cfg.sandbox.clone();
    // Copied-in files must sit at their own paths, so the root takes writes; nothing of them
    // runs (loaders in trace/list mode only), and the user stays unprivileged.
    if overlay.is_some() {
        sandbox.read_only_root = false;
    }
    let limit = cfg.timeout * (jobs.len() as u32 / 4).max(1) + Duration::from_secs(30);
    let spec = ContainerSpec {
        image: image.to_string(),
        entrypoint: vec![format!("{WORK_DIR}/probe")],
        cmd: args,
        env: vec![],
        labels: crate::docker::owner::labels(run_id, limit + Duration::from_secs(600)),
        sandbox,
        user: launch.user,
        cap_add: launch.cap_add,
        work_dir: WORK_DIR.into(),
        scratch_tmp: true,
        mount: None,
    };
    let tools = vec![
        upload::Entry::bytes("probe", 0o755, probe::PROBE_BINARY),
        upload::Entry::bytes(probe::KEY_FILE, 0o400, key.as_bytes()),
        upload::Entry::bytes("jobs", 0o644, job_file),
    ];
    crate::docker::with_container(engine, &spec, async |id: &str| {
        // The source's files first, libccheck's after: nothing of the source can stand in for
        // the probe, its key or its jobs.
        if let Some(o) = &overlay {
            upload_overlay(engine, id, o.source, o.all, o.origin, run_id).await?;
        }
        let size = upload::total_size(&tools).unwrap_or(0);
        engine
            .upload_stream(id, WORK_DIR, upload::tar_stream(tools), size)
            .await?;
        let Some(code) = crate::docker::start_and_wait(engine, id, limit).await? else {
            anyhow::bail!(crate::check::stalled_message(limit));
        };
        let (out, err) = engine.logs(id).await?;
        if code != 0 {
            anyhow::bail!(
                "the probe failed (exit {code}): {}",
                String::from_utf8_lossy(&err).lines().last().unwrap_or("")
            );
        }
        probe::parse_report(&out, &key, jobs).map_err(anyhow::Error::msg)
    })
    .await?
}

/// A target made ready for an audit: its image resolved and its profile read (or why not).
pub struct Prepared {
    pub base: Base,
    pub profile: Result<crate::image::base::BaseProfile, String>,
}

/// Resolve every target's image and read its profile (cached, or from the image). Needs nothing
/// of the source, so it runs while the source is being read.
pub async fn prepare_targets<E: Engine>(
    engine: &E,
    cfg: &AuditConfig,
    run_id: &str,
) -> Vec<Prepared> {
    let progress = crate::check::Progress::new(true, cfg.targets.len());
    let images =
        crate::check::ensure_images_online(engine, &cfg.targets, cfg.pull, &progress).await;
    progress.line("reading the targets' profiles");
    let futs = cfg.targets.iter().map(|t| {
        let (images, progress) = (&images, &progress);
        async move {
            let profile = match images.get(&t.image) {
                Some(Ok(info)) => crate::image::export::profile(engine, &t.image, &info.id, run_id)
                    .await
                    .map_err(|e| format!("{e:#}")),
                Some(Err(e)) => Err(e.clone()),
                None => Err("image was not resolved".into()),
            };
            progress.inc(&format!("profiled {}", t.name));
            Prepared {
                base: t.clone(),
                profile,
            }
        }
    });
    let prepared = futures_util::future::join_all(futs).await;
    progress.finish();
    prepared
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
    let progress = crate::check::Progress::new(true, prepared.len());
    progress.line(match cfg.no_run {
        true => "predicting on each target",
        false => "predicting and verifying on each target",
    });
    let futs = prepared.iter().map(|p| {
        let progress = &progress;
        async move {
            let started = std::time::Instant::now();
            let cannot_run = match cfg.no_run {
                true => None,
                false => crate::check::why_unverifiable(engine, &p.base.image),
            };
            let verified = match (&p.profile, cfg.no_run) {
                (Ok(_), false) if cannot_run.is_some() => None,
                (Ok(profile), false) => Some(
                    verify(engine, source, origin, cfg, &p.base, profile, run_id)
                        .await
                        .map_err(|e| format!("verification failed: {e:#}")),
                ),
                _ => None,
            };
            if verified.is_some() {
                let ms = started.elapsed().as_millis() as u64;
                tracing::info!(target = %p.base.name, image = %p.base.image, ms, "verified");
            }
            let profile = p.profile.as_ref().map_err(String::as_str);
            let mut r = audit::target_result(source, cfg.all, &p.base, profile, verified);
            if r.error.is_none() {
                r.unverified = cannot_run;
            }
            progress.inc(&format!("audited on {}", p.base.name));
            r
        }
    });
    let results = futures_util::future::join_all(futs).await;
    progress.finish();
    results
}
