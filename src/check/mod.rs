//! The run matrix: one sandboxed container per base, the static probe as its entrypoint, the load
//! probe (the program's own interpreter in trace/list mode) and optionally the exec probe (the
//! program with the user's arguments). Docker is reached only through [`Engine`].

pub mod deliver;
pub mod explain;

use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::docker::upload;
use crate::docker::{
    ContainerSpec, DockerError, Engine, ImageInfo, PullProgress, RUN_LABEL, Sandbox,
};
use crate::elf::module::Host;
use crate::elf::needs::RuntimeNeeds;
use crate::elf::{self, BinaryProfile};
use crate::image::aliases::Base;
use crate::image::base::{BaseProfile, HostProgram, LibcKind, Library};
use crate::loader::{self, Prediction, Subject};
use crate::probe::agreement::{self, compare};
use crate::probe::classify::{self, ProbeKind};
use crate::probe::jobs::APP_DIR;
use crate::probe::jobs::WORK_DIR;
use crate::probe::jobs::base_verdict;
use crate::probe::jobs::image_facts;
use crate::probe::jobs::jobs_for;
use crate::probe::{self, Job};
use crate::report::run::BaseResult;
use crate::risks::{self, BaseSide};
use crate::verdict::{self, Verdict};
use deliver::Delivery;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, serde::Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum PullPolicy {
    /// Pull only images that are not present locally.
    #[default]
    Missing,
    /// Pull every image, even when present.
    Always,
    /// Never pull; a missing image is predicted from the offline catalog (an error for a base
    /// it does not have, or with --require-run).
    Never,
}

/// A file uploaded beside the binary (`--with PATH[:DEST]`, DEST relative to the binary's directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraFile {
    pub host: PathBuf,
    pub dest: String,
}

impl ExtraFile {
    pub fn parse(spec: &str) -> Result<ExtraFile, String> {
        let (host, dest) = match spec.rsplit_once(':') {
            Some((h, d)) if !h.is_empty() => (h, d.to_string()),
            _ => (spec, String::new()),
        };
        let host = PathBuf::from(host);
        let dest = if dest.is_empty() {
            host.file_name()
                .ok_or_else(|| format!("--with {spec}: no file name"))?
                .to_string_lossy()
                .into_owned()
        } else {
            dest
        };
        let p = Path::new(&dest);
        if p.is_absolute() || p.components().any(|c| matches!(c, Component::ParentDir)) {
            return Err(format!(
                "--with {spec}: DEST must be a relative path below the binary's directory"
            ));
        }
        // One spelling per path (`./a//b` is `a/b`), so that two names of one file are seen.
        let dest: Vec<_> = p
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .filter(|c| c != ".")
            .collect();
        if dest.is_empty() {
            return Err(format!("--with {spec}: DEST names no file"));
        }
        Ok(ExtraFile {
            host,
            dest: dest.join("/"),
        })
    }
}

/// Everything a run needs, checked before any I/O.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub bases: Vec<Base>,
    /// Names of the bases that must work for exit 0.
    pub required: Vec<String>,
    pub pull: PullPolicy,
    pub timeout: Duration,
    pub jobs: usize,
    /// `Some` runs the exec probe with these arguments.
    pub exec_args: Option<Vec<String>>,
    pub extra_files: Vec<ExtraFile>,
    pub sandbox: Sandbox,
    /// Bytes kept of each of stdout and stderr.
    pub output_cap: usize,
    pub progress: bool,
    /// Predict only: read the images' filesystems, start no container.
    pub no_run: bool,
    /// `--platform`: every base's image must be for it. `None`: the binary's own, and an image
    /// of another platform is a wrong architecture (a verdict).
    pub platform: Option<&'static elf::arch::Arch>,
}

/// What is uploaded and what the probe is asked to do; the same for every base.
#[derive(Debug, Clone)]
pub struct Plan {
    pub binary_name: String,
    /// The files uploaded into [`WORK_DIR`] besides the probe (streamed from disk per container).
    pub files: Vec<upload::Entry>,
    pub jobs: Vec<Job>,
    /// The ELF files uploaded beside the binary, by container path (for prediction).
    pub sidecars: BTreeMap<String, Library>,
    /// The platform checked on (`--platform`, else the binary's own): the probe's facts jobs
    /// use its names.
    pub platform: &'static elf::arch::Arch,
}

impl Plan {
    /// The plan on a base whose host program loads the module: the load probe maps the host's
    /// libraries first, as the host would have them.
    fn with_host_scope(&self, scope: &[String]) -> Plan {
        Plan {
            jobs: self
                .jobs
                .iter()
                .cloned()
                .map(|j| match crate::probe::jobs::is_load_job(&j) {
                    true => crate::probe::jobs::with_host_scope(j, scope),
                    false => j,
                })
                .collect(),
            ..self.clone()
        }
    }
}

/// The most libccheck uploads into one container (the binary, its `$ORIGIN` libraries and
/// `--with` files): beyond it the upload alone takes minutes, per base.
pub const MAX_UPLOAD: u64 = 1 << 30;

/// `<dir>/<rel>` normalised (both relative to [`WORK_DIR`]); `None` when it would leave the
/// upload volume.
fn container_rel(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').collect();
    for c in rel.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// A directory the loader searches through `$ORIGIN`: on the host and in the upload volume.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OriginDir {
    host: PathBuf,
    /// Relative to [`WORK_DIR`].
    container: String,
}

/// The `$ORIGIN` entries of `runpath`/`rpath`-style `entries`, for an object in `dir`.
fn origin_dirs(entries: &[String], dir: &OriginDir) -> Vec<OriginDir> {
    entries
        .iter()
        .filter(|e| e.contains("ORIGIN"))
        .filter_map(|entry| {
            let rel = elf::expand_origin(entry, ".");
            let Some(container) = container_rel(&dir.container, &rel) else {
                tracing::warn!("RUNPATH entry {entry} leaves the upload directory; not uploaded");
                return None;
            };
            Some(OriginDir {
                host: dir.host.join(&rel),
                container,
            })
        })
        .collect()
}

/// Read a library's loader profile from disk (mapped: only the parts the loader reads are touched).
fn library_at(path: &Path) -> Option<Library> {
    let f = std::fs::File::open(path).ok()?;
    let map = crate::files::map(&f).ok()?;
    let (profile, exports) = elf::parse_for_loader(&map).ok()?;
    Some(Library::new(profile, exports))
}

/// The libraries the loader will find through `$ORIGIN` directories for the binary's needed
/// sonames, and for theirs, transitively: (host path, container path below [`WORK_DIR`],
/// profile). Nothing else beside the binary is uploaded: not its sources, data or secrets.
fn origin_libraries(binary_dir: &Path, profile: &BinaryProfile) -> Vec<(PathBuf, String, Library)> {
    let app = OriginDir {
        host: binary_dir.to_path_buf(),
        container: "app".into(),
    };
    // glibc: an object without RUNPATH also searches the executable's RPATH.
    let exe_rpath = origin_dirs(&profile.rpath, &app);
    let search = |p: &BinaryProfile, dir: &OriginDir| -> Vec<OriginDir> {
        if p.runpath.is_empty() {
            let mut d = origin_dirs(&p.rpath, dir);
            d.extend(exe_rpath.iter().cloned());
            d
        } else {
            origin_dirs(&p.runpath, dir)
        }
    };
    let mut found: Vec<(PathBuf, String, Library)> = Vec::new();
    let mut queue: Vec<(Vec<String>, Vec<OriginDir>)> =
        vec![(profile.needed.clone(), search(profile, &app))];
    while let Some((needed, dirs)) = queue.pop() {
        for soname in needed.iter().filter(|n| !n.contains('/')) {
            let hit = dirs.iter().find_map(|d| {
                let host = d.host.join(soname);
                host.is_file()
                    .then(|| (host, format!("{}/{soname}", d.container), d.clone()))
            });
            let Some((host, dest, dir)) = hit else {
                continue;
            };
            if found.iter().any(|(_, d, _)| *d == dest) {
                continue;
            }
            if let Some(lib) = library_at(&host) {
                queue.push((lib.profile.needed.clone(), search(&lib.profile, &dir)));
                found.push((host, dest, lib));
            }
        }
    }
    found
}

/// Directory entries for every ancestor of `dest` below `app` not yet in `dirs`.
fn parent_dirs(dest: &str, dirs: &mut Vec<String>, files: &mut Vec<upload::Entry>) {
    let mut ancestors: Vec<&str> = Path::new(dest)
        .ancestors()
        .skip(1)
        .filter_map(|a| a.to_str())
        .filter(|a| !a.is_empty())
        .collect();
    ancestors.reverse();
    for a in ancestors {
        if !dirs.iter().any(|d| d == a) {
            dirs.push(a.to_string());
            files.push(upload::Entry::dir(a));
        }
    }
}

/// Whether two host paths name one file (the same inode).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

/// What to upload: the binary, the libraries its `$ORIGIN` directories resolve, `--with` files.
/// Nothing is read here but their loader parts; the upload streams them from disk.
pub fn plan(binary: &Path, profile: &BinaryProfile, cfg: &RunConfig) -> anyhow::Result<Plan> {
    let binary_name = binary
        .file_name()
        .ok_or_else(|| anyhow::anyhow!("binary path has no file name"))?
        .to_string_lossy()
        .into_owned();
    let binary_dir = binary
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut dirs: Vec<String> = vec![];
    let mut files: Vec<upload::Entry> = vec![];
    let mut sidecars: BTreeMap<String, Library> = BTreeMap::new();
    let bin_dest = format!("app/{binary_name}");
    parent_dirs(&bin_dest, &mut dirs, &mut files);
    files.push(upload::Entry::host(&bin_dest, 0o755, binary.to_path_buf()));
    let mut added = vec![(bin_dest, binary.to_path_buf())];
    let libraries = origin_libraries(binary_dir, profile);
    let extras = cfg.extra_files.iter().map(|x| {
        let dest = format!("app/{}", x.dest);
        let lib = library_at(&x.host);
        (x.host.clone(), dest, lib)
    });
    let all = libraries
        .into_iter()
        .map(|(h, d, l)| (h, d, Some(l)))
        .chain(extras);
    for (host, dest, lib) in all {
        if let Some((_, first)) = added.iter().find(|(d, _)| *d == dest) {
            // The same file named twice (an $ORIGIN library also given with --with) is one file.
            if same_file(first, &host) {
                continue;
            }
            anyhow::bail!(
                "--with {}: {WORK_DIR}/{dest} is already {}",
                host.display(),
                first.display()
            );
        }
        tracing::info!("uploading {} as {WORK_DIR}/{dest}", host.display());
        parent_dirs(&dest, &mut dirs, &mut files);
        files.push(upload::Entry::host(&dest, 0o755, host.clone()));
        if let Some(lib) = lib {
            sidecars.insert(format!("{WORK_DIR}/{dest}"), lib);
        }
        added.push((dest, host));
    }
    let size = upload::total_size(&files)
        .map_err(|e| anyhow::anyhow!("{}: {}", binary.display(), crate::text::io_message(&e)))?;
    if size > MAX_UPLOAD {
        anyhow::bail!(
            "{}: the upload would be {:.1} GiB (the binary and the files beside it); libccheck uploads at most {} GiB per container",
            binary.display(),
            size as f64 / (1u64 << 30) as f64,
            MAX_UPLOAD >> 30
        );
    }
    let platform = cfg
        .platform
        .unwrap_or_else(|| elf::arch::default_for(&profile.machine));
    Ok(Plan {
        jobs: jobs_for(
            profile,
            &binary_name,
            cfg.exec_args.as_deref(),
            platform.machine,
        ),
        binary_name,
        files,
        sidecars,
        platform,
    })
}

/// Progress on a terminal: an indicatif bar (done/total, the current step, elapsed time) on
/// stderr; hidden when stderr is not a terminal, with -q, or when the caller has nothing to count.
pub struct Progress {
    bar: indicatif::ProgressBar,
}

impl Progress {
    pub fn new(enabled: bool, total: usize) -> Progress {
        let bar = if enabled && crate::term::progress_wanted() {
            let bar = indicatif::ProgressBar::new(total as u64);
            let style = indicatif::ProgressStyle::with_template(
                "{spinner} [{pos}/{len}] {wide_msg} {elapsed}",
            )
            .expect("a valid template");
            bar.set_style(style);
            // Steps of one command overlap (an audit reads its source while it profiles its
            // targets): each bar gets its own line.
            let bar = terminal_bars().add(bar);
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        Progress { bar }
    }
    /// The step under way.
    pub fn line(&self, msg: &str) {
        self.bar.set_message(msg.to_string());
    }
    /// One more unit done (a base, a target, a file).
    pub fn inc(&self, msg: &str) {
        self.bar.inc(1);
        self.bar.set_message(msg.to_string());
    }
    fn base_done(&self, name: &str) {
        self.inc(&format!("checked {name}"));
    }
    pub fn finish(&self) {
        self.bar.finish_and_clear();
        terminal_bars().remove(&self.bar);
    }
}

/// Every progress bar of the process, drawn together on stderr.
fn terminal_bars() -> &'static indicatif::MultiProgress {
    static BARS: std::sync::OnceLock<indicatif::MultiProgress> = std::sync::OnceLock::new();
    BARS.get_or_init(indicatif::MultiProgress::new)
}

impl Drop for Progress {
    /// An early return (an error, Ctrl-C) clears the display too, so the error line stands alone.
    fn drop(&mut self) {
        self.finish();
    }
}

/// [`ensure_images`] for `audit` and `image`: their errors do not suggest `--offline`, which
/// they do not have.
pub async fn ensure_images_online<E: Engine>(
    engine: &E,
    bases: &[Base],
    pull: PullPolicy,
    progress: &Progress,
) -> HashMap<String, Result<crate::docker::ImageInfo, String>> {
    let mut images = ensure_images(engine, bases, pull, progress).await;
    for e in images.values_mut().filter_map(|r| r.as_mut().err()) {
        *e = crate::docker::without_offline_advice(e);
    }
    images
}

/// Make sure each image is present, pulling as the policy says. Per image: its id/arch or an error.
pub async fn ensure_images<E: Engine>(
    engine: &E,
    bases: &[Base],
    pull: PullPolicy,
    progress: &Progress,
) -> HashMap<String, Result<crate::docker::ImageInfo, String>> {
    ensure_images_typed(engine, bases, pull, None, progress)
        .await
        .into_iter()
        .map(|(image, r)| (image, r.map_err(|e| e.to_string())))
        .collect()
}

/// [`ensure_images`] with the daemon's errors as they are (an unavailable image is told apart).
/// With a `platform` other than the daemon's own (and whether `--platform` asked for it), each
/// image is that platform's (see [`ensure_platform_image`]).
pub async fn ensure_images_typed<E: Engine>(
    engine: &E,
    bases: &[Base],
    pull: PullPolicy,
    platform: Option<(&'static elf::arch::Arch, bool)>,
    progress: &Progress,
) -> HashMap<String, Result<crate::docker::ImageInfo, DockerError>> {
    let mut images: Vec<&str> = bases.iter().map(|b| b.image.as_str()).collect();
    images.sort();
    images.dedup();
    let futs = images.into_iter().map(|image| async move {
        if crate::image::source::is_daemonless(image) {
            return (image.to_string(), daemonless_image(image, progress).await);
        }
        if let Some((p, explicit)) = platform {
            let r = ensure_platform_image(engine, image, pull, p, explicit, progress).await;
            return (image.to_string(), r);
        }
        let r: Result<_, DockerError> = async {
            let present = engine.image_info(image).await?;
            let must_pull = match (pull, &present) {
                (PullPolicy::Always, _) => true,
                (PullPolicy::Missing, None) => true,
                (PullPolicy::Never, None) => {
                    return Err(DockerError::ImageMissing {
                        image: image.into(),
                    });
                }
                _ => false,
            };
            if must_pull {
                let t = Instant::now();
                progress.line(&format!("pulling {image}"));
                let show = |p: &PullProgress| {
                    if p.total > 0 {
                        let filled = ((p.current.min(p.total) * 30) / p.total) as usize;
                        progress.line(&format!(
                            "pulling {image} [{}{}] {:.1}/{:.1} MB",
                            "#".repeat(filled),
                            " ".repeat(30 - filled),
                            p.current as f64 / 1e6,
                            p.total as f64 / 1e6
                        ));
                    } else {
                        progress.line(&format!("pulling {image}: {}", p.status));
                    }
                };
                engine.pull(image, None, &show).await?;
                tracing::info!(image, ms = t.elapsed().as_millis() as u64, "pulled");
                return engine
                    .image_info(image)
                    .await?
                    .ok_or_else(|| DockerError::Pull {
                        image: image.into(),
                        reason: "image absent after pull".into(),
                    });
            }
            tracing::info!(image, "present locally");
            Ok(present.unwrap())
        }
        .await;
        (image.to_string(), r)
    });
    join_all(futs).await.into_iter().collect()
}

/// An image of another platform than the daemon's: the reference itself when it is that
/// platform's (a local image built for it), else its own local reference for that platform
/// ([`crate::docker::platform_ref`]), pulled with the Engine API's platform parameter when
/// missing (or always, as the policy says). A daemon keeps one image per tag, so the pull
/// re-points the reference; it is pointed back at the image it had, and the platform's image
/// keeps its own tag. When neither is there and pulling is not allowed, the reference's image
/// as it is (the check then names the platform it is for); the same, without pulling, for a
/// platform not asked for (`explicit` false: the program's own).
/// The configuration of an image read without the daemon (its platform is checked with every
/// base's, by [`image_arch`]).
async fn daemonless_image(image: &str, progress: &Progress) -> Result<ImageInfo, DockerError> {
    progress.line(&format!("reading the configuration of {image}"));
    crate::image::sources::info(image)
        .await
        .map_err(|e| DockerError::Source(format!("{e:#}")))
}

async fn ensure_platform_image<E: Engine>(
    engine: &E,
    image: &str,
    pull: PullPolicy,
    platform: &'static elf::arch::Arch,
    explicit: bool,
    progress: &Progress,
) -> Result<ImageInfo, DockerError> {
    let is_for = |i: &Option<ImageInfo>| i.as_ref().is_some_and(|i| i.arch == platform.docker);
    let present = engine.image_info(image).await?;
    if pull != PullPolicy::Always && is_for(&present) {
        return Ok(present.unwrap());
    }
    // The program's own platform, not asked for: a local image of another platform is checked
    // as it is (the program's architecture is then the wrong one for it).
    if !explicit
        && pull != PullPolicy::Always
        && let Some(p) = &present
    {
        return Ok(p.clone());
    }
    let own = crate::docker::platform_ref(image, &platform.platform());
    if pull != PullPolicy::Always
        && let Some(own) = &own
    {
        let kept = engine.image_info(own).await?;
        if is_for(&kept) {
            tracing::info!(image, local = %own, "present locally for {}", platform.platform());
            return Ok(kept.unwrap());
        }
    }
    if pull == PullPolicy::Never {
        return present.ok_or_else(|| DockerError::ImageMissing {
            image: image.into(),
        });
    }
    progress.line(&format!("pulling {image} for {}", platform.platform()));
    let pulled = engine
        .pull(image, Some(&platform.platform()), &|p: &PullProgress| {
            progress.line(&format!(
                "pulling {image} for {}: {}",
                platform.platform(),
                p.status
            ))
        })
        .await;
    if let (Err(DockerError::Pull { reason, .. }), Some(p)) = (&pulled, &present) {
        return Err(DockerError::Pull {
            image: image.into(),
            reason: format!("{reason} (the local image is for linux/{})", p.arch),
        });
    }
    pulled?;
    let pulled = engine.image_info(image).await?;
    let Some(pulled) = pulled.filter(|i| i.arch == platform.docker) else {
        return Err(DockerError::Pull {
            image: image.into(),
            reason: format!("the registry has no {} image for it", platform.platform()),
        });
    };
    if let Some(own) = &own {
        engine.tag(&pulled.id, own).await?;
        if let Some(before) = present.filter(|b| b.id != pulled.id) {
            engine.tag(&before.id, image).await?;
        }
    }
    Ok(pulled)
}

/// The binary being checked: its loader profile, what it exports, and its run-time needs.
#[derive(Clone, Copy)]
pub struct Program<'a> {
    pub profile: &'a BinaryProfile,
    pub exports: &'a crate::elf::ExportTable,
    pub needs: &'a RuntimeNeeds,
    /// The host program it is a module of, if it is one ([`elf::module::module_of`]).
    pub module: Option<Host>,
}

impl<'a> Program<'a> {
    /// The program of a profile: its module host, if any, read once.
    pub fn new(
        profile: &'a BinaryProfile,
        exports: &'a crate::elf::ExportTable,
        needs: &'a RuntimeNeeds,
    ) -> Self {
        Program {
            profile,
            exports,
            needs,
            module: elf::module::module_of(profile, exports).map(|m| m.host),
        }
    }

    /// The host program on `base` that would load this module, when it is one and the base
    /// has its host.
    fn host_on<'b>(&self, base: &'b BaseProfile) -> Option<&'b HostProgram> {
        let module = self.module?;
        base.hosts.iter().find(|h| h.host == module)
    }

    /// The check's prediction on a base (the image runs as `user`).
    fn predict(&self, plan: &Plan, base: &BaseProfile, user: &str) -> Prediction {
        let at = Placed {
            path: format!("{APP_DIR}/{}", plan.binary_name),
            sidecars: &plan.sidecars,
            name: &plan.binary_name,
        };
        self.predict_at(&at, base, user, crate::advice::Context::Check)
    }

    /// The prediction of the program placed `at` on a base, with its fix hints (for `context`)
    /// and, where it loads, its run-time risks (the image runs as `user`).
    pub fn predict_at(
        &self,
        at: &Placed<'_>,
        base: &BaseProfile,
        user: &str,
        context: crate::advice::Context,
    ) -> Prediction {
        // A module is loaded the way its host program would load it, when the base has the host.
        let host = self.host_on(base);
        let subject = Subject {
            profile: self.profile,
            exports: self.exports,
            path: at.path.clone(),
            sidecars: at.sidecars,
            host_scope: host.map_or(&[][..], |h| &h.needed),
        };
        let mut p = loader::predict(&subject, base);
        // A module's host provides some of its symbols (Python's, Node's): not the base's problem.
        loader::host::leave_to_host(
            self.profile.kind,
            &mut p.verdict,
            &mut p.reason,
            &mut p.problems,
        );
        if let Some(m) = self.module {
            say_the_host(&mut p, m, host, base.catalog);
        }
        let p = loader::dlopen::Search {
            subject: &subject,
            base,
            prediction: &p,
            program: at.name,
        }
        .with_required(&self.needs.dlopen);
        let mut p =
            crate::advice::with_hints(self.profile, &self.needs.toolchain, base, p, context);
        if let Some(m) = self.module
            && host.is_none()
            && !base.catalog
            && p.verdict == Verdict::MissingSymbol
        {
            p.hints.insert(
                0,
                format!(
                    "a {} module, and no {} in this base: loaded by one, the module also sees the libraries it brings (libm, libz, …); link what the module uses, or check it on a base with its host",
                    m.name(),
                    m.program()
                ),
            );
        }
        if p.verdict == Verdict::Ok {
            let search = loader::dlopen::Search {
                subject: &subject,
                base,
                prediction: &p,
                program: at.name,
            };
            let mut side = BaseSide::of(base, user);
            side.libraries = &search;
            // A base can hold both libcs: the program runs with the one whose loader it names.
            side.libc = match p.loader.as_deref() {
                Some("musl") => LibcKind::Musl,
                Some("glibc") => LibcKind::Glibc,
                _ => side.libc,
            };
            let found = risks::assess(self.profile, self.needs, &side);
            p.risks = found;
            let cpu = crate::cpu::facts(self.profile, at.name, &p, base);
            p.risks.extend(crate::cpu::risks(&cpu));
        }
        p
    }
}

/// Where a program sits in the container: its path, the files placed beside it, and the name
/// its problems call it by.
pub struct Placed<'a> {
    pub path: String,
    pub sidecars: &'a dyn loader::Sidecars,
    pub name: &'a str,
}

/// A module's prediction says which host program loads it on this base, or that the base has
/// none (a catalog base's programs are not known).
fn say_the_host(p: &mut Prediction, host: Host, found: Option<&HostProgram>, catalog: bool) {
    if p.verdict == Verdict::Ok
        && let Some(said) = host_note(host, found, catalog)
    {
        p.reason.push_str(&said);
    }
}

/// `; loaded as /usr/bin/python3.11 would load it`, `; no Python interpreter in this base`.
fn host_note(host: Host, found: Option<&HostProgram>, catalog: bool) -> Option<String> {
    match found {
        Some(h) => Some(format!("; loaded as {} would load it", h.path)),
        None if !catalog => Some(format!("; no {} in this base", host.program())),
        None => None,
    }
}

/// Predict from the built-in catalog only (`--offline`): no Docker at all.
pub fn predict_offline(plan: &Plan, program: Program, cfg: &RunConfig) -> Vec<BaseResult> {
    cfg.bases
        .iter()
        .map(|base| {
            let required = cfg.required.contains(&base.name);
            let Some(entry) = crate::catalog::find_on(&base.name, plan.platform.docker) else {
                let names: Vec<&str> = crate::catalog::entries_on(plan.platform.docker)
                    .iter()
                    .map(|e| e.name.as_str())
                    .collect();
                return BaseResult::error(
                    base,
                    required,
                    format!("not in the offline catalog (it has: {})", names.join(", ")),
                );
            };
            let bp = entry.to_profile();
            let p = program.predict(plan, &bp, "");
            let mut r = BaseResult::error(base, required, p.reason.clone());
            r.image = entry.image.clone();
            r.verdict = p.verdict;
            r.libc = Some(bp.describe_libc());
            r.os = Some(entry.os.clone());
            r.size = entry.image_size();
            r.prediction = Some(p);
            r
        })
        .collect()
}

/// Why an image could not be had, when that is all that went wrong (it is missing and may not be
/// pulled, or the pull failed): the offline catalog can stand in for it. `None` for anything
/// else the daemon said.
pub fn unavailable_cause(e: &DockerError) -> Option<String> {
    match e {
        DockerError::ImageMissing { .. } => {
            Some("not present locally, and --pull never forbids pulling it".into())
        }
        DockerError::Pull { reason, .. } => Some(format!("pulling failed: {reason}")),
        _ => None,
    }
}

/// A base whose image is unavailable: the offline catalog's prediction for it where the catalog
/// has it (marked unverified), else an error that says why.
fn unavailable_base(
    plan: &Plan,
    program: Program,
    base: &Base,
    required: bool,
    e: &DockerError,
) -> BaseResult {
    let mut r = BaseResult::error(base, required, e.to_string());
    let Some(cause) = unavailable_cause(e) else {
        return r;
    };
    r.unavailable = Some(cause);
    // Each platform's entries describe that platform's images only.
    let Some(entry) = crate::catalog::for_base_on(base, plan.platform.docker) else {
        return r;
    };
    tracing::info!(
        "{}: image {} unavailable ({}); predicting from the offline catalog's {}",
        base.name,
        base.image,
        r.unavailable.as_deref().unwrap_or(""),
        entry.name
    );
    let bp = entry.to_profile();
    let p = program.predict(plan, &bp, "");
    r.reason = format!(
        "not verified: predicted from the offline catalog ({}); {}",
        entry.name, p.reason
    );
    r.verdict = p.verdict;
    r.libc = Some(bp.describe_libc());
    r.os = Some(entry.os.clone());
    r.size = entry.image_size();
    r.fallback = Some("catalog".into());
    r.prediction = Some(p);
    r
}

/// A local image's size, as the daemon reports it.
fn local_size(info: &ImageInfo) -> Option<crate::suggest::Size> {
    info.size.map(|bytes| crate::suggest::Size {
        bytes,
        from: crate::suggest::SizeFrom::Local,
    })
}

/// Run the plan on every base, `cfg.jobs` containers at a time, predicting each from its image's
/// filesystem at the same time.
pub async fn run_matrix<E: Engine>(
    engine: &E,
    plan: &Plan,
    program: Program<'_>,
    cfg: &RunConfig,
    run_id: &str,
    progress: &Progress,
) -> Vec<BaseResult> {
    // The daemon's own platform is what it pulls anyway (and a 386 program runs on its amd64).
    let foreign = (plan.platform.docker != elf::arch::default_for(probe::NATIVE_MACHINE).docker)
        .then_some((plan.platform, cfg.platform.is_some()));
    // Images read without the daemon are chosen from their manifest lists for the run's platform.
    crate::image::archive::choose_arch(plan.platform.docker);
    let images = ensure_images_typed(engine, &cfg.bases, cfg.pull, foreign, progress).await;
    let delivery = match cfg.no_run {
        true => Delivery::Upload,
        false => Delivery::for_run(&cfg.sandbox.user, &crate::docker::docker_host()),
    };
    let m = Matrix {
        delivery: &delivery,
        engine,
        plan,
        program,
        profile: program.profile,
        cfg,
        run_id,
        sem: Semaphore::new(cfg.jobs.max(1)),
    };
    let futs = cfg.bases.iter().map(|base| {
        let (m, images) = (&m, &images);
        async move {
            let required = cfg.required.contains(&base.name);
            let r = match images.get(&base.image) {
                Some(Ok(info)) => BaseResult {
                    size: local_size(info),
                    ..m.base(base, info, required).await
                },
                Some(Err(e)) => unavailable_base(plan, program, base, required, e),
                None => BaseResult::error(base, required, "image was not resolved".into()),
            };
            progress.base_done(&base.name);
            r
        }
    });
    let mut results = join_all(futs).await;
    if !cfg.no_run {
        explain::likely_causes(&mut results);
        let delivery = &delivery;
        explain::confirm_thread_stacks(engine, plan, delivery, program, cfg, run_id, &mut results)
            .await;
    }
    results
}

/// What every base of a run shares.
struct Matrix<'a, E> {
    engine: &'a E,
    plan: &'a Plan,
    program: Program<'a>,
    profile: &'a BinaryProfile,
    cfg: &'a RunConfig,
    run_id: &'a str,
    delivery: &'a Delivery,
    /// At most `--jobs` containers at once.
    sem: Semaphore,
}

impl<E: Engine> Matrix<'_, E> {
    /// One base whose image is present: predicted, and (unless `--no-run`) run.
    async fn base(&self, base: &Base, info: &ImageInfo, required: bool) -> BaseResult {
        // An image of another platform may be kept under its own reference (the base's may
        // point at another platform's image): read and run it by its id.
        if info.arch != elf::arch::default_for(probe::NATIVE_MACHINE).docker && !info.id.is_empty()
        {
            let by_id = Base {
                name: base.name.clone(),
                image: info.id.clone(),
            };
            let mut r = self.base_as(&by_id, info, required).await;
            r.image = base.image.clone();
            return r;
        }
        self.base_as(base, info, required).await
    }

    async fn base_as(&self, base: &Base, info: &ImageInfo, required: bool) -> BaseResult {
        let arch = match image_arch(info, self.cfg.platform) {
            Ok(a) => a,
            Err(why) => return BaseResult::error(base, required, why),
        };
        if let Some(mut wrong) = loader::wrong_arch(self.profile, arch.machine) {
            // A fact of the ELF header: nothing to read of the image, nothing to run.
            if let Some(note) = starts_here_anyway(self.profile, arch) {
                wrong.reason.push_str(&note);
            }
            let mut r = BaseResult::error(base, required, wrong.reason.clone());
            r.verdict = wrong.verdict;
            r.image_id = Some(info.id.clone());
            r.prediction = Some(wrong);
            return r;
        }
        if !self.cfg.no_run && probe::probe_for(self.plan.platform.machine).is_none() {
            let why = probe::no_probe_reason(self.plan.platform.machine);
            let predicted = self.predict(base, info).await;
            return self.not_runnable_here(base, info, required, &why, predicted);
        }
        let _permit = self.sem.acquire().await.expect("semaphore open");
        let started = Instant::now();
        let mut r = if self.cfg.no_run {
            predicted_only(base, self.predict(base, info).await)
        } else if let Some(why) = why_unverifiable(self.engine, &base.image) {
            unverified(base, self.predict(base, info).await, why)
        } else {
            let (mut r, predicted) = self.run_and_predict(base, info).await;
            if !r.verified
                && let Some(why) = cannot_run_platform(&r.reason, arch)
            {
                // The prediction made beside the run stands alone.
                return self.not_runnable_here(base, info, required, &why, predicted);
            }
            match predicted {
                Ok(mut pr) => {
                    // The CPU the container ran on decides what the prediction could not.
                    if let Some(cpu) = &r.cpu_level {
                        crate::cpu::against_cpu(&mut pr.prediction, &pr.cpu, cpu);
                    }
                    if r.verdict == Verdict::Ok
                        && let Some(said) = pr.host_note
                    {
                        r.reason.push_str(&said);
                    }
                    attach_prediction(&mut r, pr.prediction)
                }
                Err(e) => tracing::warn!("no prediction for {}: {e:#}", base.name),
            }
            r
        };
        r.required = required;
        r.image_id = Some(info.id.clone());
        tracing::info!(
            base = %base.name,
            image = %base.image,
            verdict = %r.verdict,
            ms = started.elapsed().as_millis() as u64,
            "{}",
            if self.cfg.no_run { "predicted" } else { "predicted and ran" }
        );
        r
    }

    /// Run the probe on a base while its prediction is made. A module whose host program the
    /// base has waits for the prediction: the load probe maps the host's libraries first.
    async fn run_and_predict(
        &self,
        base: &Base,
        info: &ImageInfo,
    ) -> (BaseResult, anyhow::Result<Predicted>) {
        // The host-scoped plan differs in its jobs only: the same files serve both.
        let run = |plan| {
            run_base(
                self.engine,
                plan,
                self.delivery,
                self.profile,
                self.cfg,
                base,
                self.run_id,
            )
        };
        if self.program.module.is_none() {
            return tokio::join!(run(self.plan), self.predict(base, info));
        }
        let predicted = self.predict(base, info).await;
        let scope = predicted.as_ref().map_or(&[][..], |p| &p.host_scope);
        let r = match scope.is_empty() {
            true => run(self.plan).await,
            false => run(&self.plan.with_host_scope(scope)).await,
        };
        (r, predicted)
    }

    /// A base libccheck cannot run here (no probe for its platform, or the daemon cannot run
    /// that platform): its prediction from the image, marked not verified, with `why`.
    fn not_runnable_here(
        &self,
        base: &Base,
        info: &ImageInfo,
        required: bool,
        why: &str,
        predicted: anyhow::Result<Predicted>,
    ) -> BaseResult {
        let mut r = predicted_only(base, predicted);
        r.required = required;
        r.image_id = Some(info.id.clone());
        r.size = local_size(info);
        if r.prediction.is_some() {
            r.reason = format!(
                "not verified: {why}; predicted from the image: {}",
                r.reason
            );
            r.fallback = Some("prediction".into());
        } else {
            r.reason = format!("{why}; {}", r.reason);
        }
        r
    }

    /// The prediction from the image's profile, with its hints, libc and OS.
    async fn predict(&self, base: &Base, info: &ImageInfo) -> anyhow::Result<Predicted> {
        let mut bp =
            crate::image::export::profile(self.engine, &base.image, &info.id, self.run_id).await?;
        bp.machine = crate::probe::jobs::machine_of_docker_arch(&info.arch).map(String::from);
        let prediction = self.program.predict(self.plan, &bp, &info.start.user);
        Ok(Predicted {
            cpu: crate::cpu::facts(self.profile, &self.plan.binary_name, &prediction, &bp),
            prediction,
            libc: bp.describe_libc(),
            os: bp.os.clone(),
            host_scope: self
                .program
                .host_on(&bp)
                .map(|h| h.needed.clone())
                .unwrap_or_default(),
            host_note: self
                .program
                .module
                .and_then(|m| host_note(m, self.program.host_on(&bp), bp.catalog)),
        })
    }
}

/// The architecture of a base's image (an image that names none is amd64, as Docker assumes):
/// with `--platform`, it must be that platform's (32-bit x86 programs also run on amd64 images).
fn image_arch(
    info: &ImageInfo,
    platform: Option<&'static elf::arch::Arch>,
) -> Result<&'static elf::arch::Arch, String> {
    let named = if info.arch.is_empty() {
        "amd64"
    } else {
        info.arch.as_str()
    };
    let Some(arch) = elf::arch::of_docker(named) else {
        return Err(format!(
            "an image for {}/{named}; libccheck checks linux/amd64, linux/arm64 and linux/386 images",
            if info.os.is_empty() {
                "linux"
            } else {
                info.os.as_str()
            },
        ));
    };
    match platform {
        Some(want) if want.docker != arch.docker => Err(format!(
            "the image is for {}, not {}: name an image for {} (give each platform's image its own tag: a daemon keeps one image per tag)",
            arch.platform(),
            want.platform(),
            want.platform(),
        )),
        _ => Ok(arch),
    }
}

/// Where a program of another architecture than the image's would still start on this daemon's
/// host, what to say: its machine is the host's, or the host emulates it (qemu-user in
/// binfmt_misc). Read on the host libccheck runs on, which is the daemon's for a local socket.
fn starts_here_anyway(profile: &BinaryProfile, image: &elf::arch::Arch) -> Option<String> {
    let native = probe::NATIVE_MACHINE;
    if profile.machine == native || (native == "x86-64" && profile.machine == "i386") {
        return Some(format!(
            "; it still starts on this {} host, but not on a {} host",
            elf::arch::default_for(native).docker,
            image.platform()
        ));
    }
    let qemu = match profile.machine.as_str() {
        "aarch64" => "qemu-aarch64",
        "x86-64" => "qemu-x86_64",
        "i386" => "qemu-i386",
        _ => return None,
    };
    std::fs::read_to_string(format!("/proc/sys/fs/binfmt_misc/{qemu}"))
        .is_ok_and(|t| t.starts_with("enabled"))
        .then(|| {
            format!(
                "; it runs here only through emulation ({qemu} in this host's binfmt_misc), not on a {} host",
                image.platform()
            )
        })
}

/// When a probe container failed because the daemon's host cannot execute the image's
/// platform: why, and how to enable it. The probe's own start is the check (no extra container):
/// without emulation the container's init cannot exec the probe, though it was uploaded: ENOEXEC,
/// or ENOENT where execvp's fallback to `/bin/sh` finds no shell (distroless). Measured with
/// qemu-aarch64 disabled: `[FATAL tini (7)] exec /libccheck/probe failed: Exec format error`.
fn cannot_run_platform(reason: &str, arch: &elf::arch::Arch) -> Option<String> {
    let native = elf::arch::default_for(probe::NATIVE_MACHINE);
    let probe_not_started = reason.contains(&format!("exec {WORK_DIR}/probe failed"))
        || reason.to_ascii_lowercase().contains("exec format error");
    if arch.docker == native.docker || !probe_not_started {
        return None;
    }
    Some(format!(
        "the Docker daemon cannot run {} containers (its host has no emulation for them); enable it there: apt-get install qemu-user-static binfmt-support (Debian), or docker run --privileged --rm tonistiigi/binfmt --install {}",
        arch.platform(),
        arch.docker
    ))
}

/// A base's prediction and the facts of its image the report shows.
struct Predicted {
    prediction: Prediction,
    libc: String,
    os: Option<String>,
    /// The libraries of the host program that would load the module, when the base has one.
    host_scope: Vec<String>,
    /// Which host program loads the module here, or that none does.
    host_note: Option<String>,
    /// What the CPU decides here: the ISA level the program asks for, glibc-hwcaps copies.
    cpu: crate::cpu::Facts,
}

/// The result of a base that is only predicted (`--no-run`).
fn predicted_only(base: &Base, predicted: anyhow::Result<Predicted>) -> BaseResult {
    let mut r = BaseResult::error(base, false, String::new());
    match predicted {
        Ok(Predicted {
            prediction: p,
            libc,
            os,
            ..
        }) => {
            r.verdict = p.verdict;
            r.reason = p.reason.clone();
            r.libc = Some(libc);
            r.os = os;
            r.prediction = Some(p);
        }
        Err(e) => r.reason = format!("cannot read the image: {e:#}"),
    }
    r
}

/// Why a run cannot verify predictions on `image`: no engine answers, or the image is read
/// from its files (a registry, an archive, a layout) rather than run in the engine.
pub fn why_unverifiable<E: Engine>(engine: &E, image: &str) -> Option<String> {
    if let Some(why) = engine.absent() {
        return Some(format!("verification needs a container engine ({why})"));
    }
    crate::image::source::is_daemonless(image).then(|| {
        format!(
            "{} images are read from their files; verification runs the image in a container engine (docker load or pull it and name it plainly, or pass --no-run)",
            crate::image::source::kind_of(image)
        )
    })
}

/// A base read without a container engine, in a run: its prediction, marked unverified (the
/// way a catalog fallback is) with the reason a run could not verify it.
fn unverified(base: &Base, predicted: anyhow::Result<Predicted>, why: String) -> BaseResult {
    let mut r = predicted_only(base, predicted);
    if r.prediction.is_some() {
        r.unavailable = Some(why);
        r.reason = format!(
            "not verified: predicted from the image's files; {}",
            r.reason
        );
        r.fallback = Some("prediction".into());
    }
    r
}

/// Put the prediction beside the run and say whether the run proved it.
fn attach_prediction(r: &mut BaseResult, p: Prediction) {
    let (actual, problems, cut) = match &r.load {
        Some(l) => (
            l.verdict,
            l.problems.clone(),
            l.stdout_truncated || l.stderr_truncated,
        ),
        // Nothing to load (static), and the program started: loading was fine.
        None if r.exec.is_some() => (Verdict::Ok, vec![], false),
        None if r.verdict == Verdict::Error || r.verdict == Verdict::Timeout => {
            (r.verdict, vec![], false)
        }
        None => (Verdict::Ok, vec![], false),
    };
    let load = compare(&agreement::at_load(&p), actual, &problems, cut);
    let exec = r.exec.as_ref().map(|e| (e.verdict, e.problems.as_slice()));
    let c = agreement::combine(load, agreement::compare_dlopen(&p, exec));
    let c = agreement::combine(c, agreement::compare_cpu(&p, exec));
    (r.agree, r.differs) = (c.agree, c.differs);
    // glibc's trace mode (the load probe) does not check the ISA level: without the exec probe
    // the CPU's flags and the loader's rule decide.
    if r.exec.is_none() && r.verdict == Verdict::Ok && p.verdict == Verdict::CpuUnsupported {
        r.verdict = p.verdict;
        r.reason = format!(
            "{} (from this CPU's /proc/cpuinfo flags: the loader's trace mode does not check the level; start the program with -- ARGS to see it refused)",
            p.reason
        );
    }
    // The load probe cannot see what the program `dlopen`s once running: without the exec probe
    // the prediction says it.
    if r.exec.is_none()
        && r.verdict == Verdict::Ok
        && p.problems.iter().any(classify::is_via_dlopen)
    {
        r.verdict = p.verdict;
        r.reason = format!(
            "{} (predicted: the loader's probe cannot see dlopen; start the program with -- ARGS to verify)",
            p.reason
        );
    }
    if let (Some(c), Some(o)) = (&p.musl_compat, &r.musl_compat_run)
        && r.agree == Some(true)
        && o.verdict != Verdict::Error
    {
        r.agree = Some(c.runs == (o.verdict == Verdict::Ok));
    }
    r.prediction = Some(p);
}

/// The longest a probe container may legitimately take: every job its full time limit, and
/// some grace for starting and for the probe's own report.
fn container_limit(plan: &Plan, timeout: Duration) -> Duration {
    let running = plan.jobs.iter().filter(|j| j.argv[0] != "@read").count() as u32;
    timeout * running + Duration::from_secs(15)
}

/// What a probe container sees at [`WORK_DIR`]: the probe for the plan's platform and the
/// plan's files.
fn container_files(plan: &Plan) -> Vec<upload::Entry> {
    let probe = probe::probe_for(plan.platform.machine).unwrap_or(probe::PROBE_BINARY);
    let mut entries = vec![upload::Entry::bytes("probe", 0o755, probe)];
    entries.extend(plan.files.iter().cloned());
    entries
}

/// What goes into a probe container's upload volume: its files and this container's report key
/// (readable by root only; the probe deletes it).
fn upload_entries(plan: &Plan, key: &str) -> Vec<upload::Entry> {
    let mut entries = container_files(plan);
    entries.insert(
        1,
        upload::Entry::bytes(probe::KEY_FILE, 0o400, key.as_bytes()),
    );
    entries
}

/// Why a container outlived its limit: the probe ends every job on time, so it is the daemon.
pub fn stalled_message(limit: Duration) -> String {
    format!(
        "the Docker daemon ({}) did not report the container's end within {} s, though every probe job is limited; the container was killed",
        crate::docker::docker_host(),
        limit.as_secs()
    )
}

/// A job killed at the memory limit: say which limit, and how to raise it.
fn name_the_memory_limit(r: &mut BaseResult, memory_bytes: i64) {
    let why = format!(
        "{} (the sandbox's limit of {} MiB; --memory raises it)",
        verdict::OUT_OF_MEMORY,
        memory_bytes >> 20
    );
    for reason in r
        .exec
        .iter_mut()
        .map(|o| &mut o.reason)
        .chain(std::iter::once(&mut r.reason))
    {
        if reason == verdict::OUT_OF_MEMORY {
            *reason = why.clone();
        }
    }
}

/// The probe container of one base: the probe as root (dropping to the sandbox user for every
/// job), this container's report key, the plan's jobs; its files mounted from `mount` or uploaded.
fn probe_container(
    plan: &Plan,
    cfg: &RunConfig,
    base: &Base,
    run_id: &str,
    limit: Duration,
    (key, mount): (&str, Option<PathBuf>),
) -> ContainerSpec {
    let key_file = format!("{WORK_DIR}/{}", probe::KEY_FILE);
    let (key_from, env) = match mount {
        Some(_) => (
            probe::KeyFrom::Env,
            vec![format!("{}={key}", probe::KEY_ENV)],
        ),
        None => (probe::KeyFrom::File(&key_file), vec![]),
    };
    let launch = probe::launch(&cfg.sandbox.user, key_from);
    let mut labels = crate::docker::owner::labels(run_id, limit + Duration::from_secs(120));
    labels.insert("org.libccheck.base".to_string(), base.name.clone());
    ContainerSpec {
        image: base.image.clone(),
        entrypoint: vec![format!("{WORK_DIR}/probe")],
        cmd: probe::command_line(
            cfg.timeout.as_millis() as u64,
            cfg.output_cap,
            &launch.options,
            &plan.jobs,
        ),
        env,
        labels,
        sandbox: cfg.sandbox.clone(),
        user: launch.user,
        cap_add: launch.cap_add,
        work_dir: WORK_DIR.into(),
        scratch_tmp: true,
        mount,
    }
}

/// What a probe container left: its exit code and logs, or `None` when it outlived its limit.
type Ended = Option<(i64, Vec<u8>, Vec<u8>)>;

async fn run_base<E: Engine>(
    engine: &E,
    plan: &Plan,
    delivery: &Delivery,
    profile: &BinaryProfile,
    cfg: &RunConfig,
    base: &Base,
    run_id: &str,
) -> BaseResult {
    let started = Instant::now();
    let limit = container_limit(plan, cfg.timeout);
    let key = match probe::new_key() {
        Ok(k) => k,
        Err(e) => return BaseResult::error(base, false, format!("no report key: {e}")),
    };
    let run = async |mount: Option<PathBuf>| {
        let uploads = mount.is_none();
        let spec = probe_container(plan, cfg, base, run_id, limit, (&key, mount));
        crate::docker::with_container(engine, &spec, async |id: &str| {
            if uploads {
                let entries = upload_entries(plan, &key);
                let size = upload::total_size(&entries).unwrap_or(0);
                engine
                    .upload_stream(id, WORK_DIR, upload::tar_stream(entries), size)
                    .await?;
            }
            let Some(code) = crate::docker::start_and_wait(engine, id, limit).await? else {
                return Ok(None);
            };
            let (out, err) = engine.logs(id).await?;
            Ok::<Ended, DockerError>(Some((code, out, err)))
        })
        .await
        .and_then(|r| r)
    };
    let mut ended = match delivery.files_for(plan).await {
        Some(files) => run(Some(files.path().to_path_buf())).await,
        None => run(None).await,
    };
    let mount_failed = match &ended {
        Err(e) => delivery.fall_back_after(e),
        Ok(Some((code, out, err))) => delivery.fall_back_after_exit(*code, out, err),
        Ok(None) => false,
    };
    if mount_failed {
        ended = run(None).await;
    }
    let mut r = BaseResult::error(base, false, String::new());
    r.ms = started.elapsed().as_millis() as u64;
    match ended {
        Err(e) => r.reason = e.to_string(),
        Ok(None) => r.reason = stalled_message(limit),
        Ok(Some(logs)) => read_report(&mut r, profile, cfg, plan, &key, logs),
    }
    r
}

/// Fill `r` from the probe's report: its verdicts when the report is whole and keyed, else why not.
fn read_report(
    r: &mut BaseResult,
    profile: &BinaryProfile,
    cfg: &RunConfig,
    plan: &Plan,
    key: &str,
    (code, out, err): (i64, Vec<u8>, Vec<u8>),
) {
    match probe::parse_report(&out, key, &plan.jobs) {
        Ok(results) if code == 0 => {
            let (libc, os) = image_facts(&results);
            let (load, exec, verdict, reason) = base_verdict(profile, &results);
            r.cpu_level = crate::probe::jobs::cpu_level(&results).map(str::to_string);
            r.musl_compat_run = results
                .iter()
                .find(|j| j.name == "musl-compat" && j.exec_errno != 2)
                .map(|j| classify::classify(j, ProbeKind::Load, None, APP_DIR));
            r.libc = libc;
            r.os = os;
            r.load = load;
            r.exec = exec;
            r.verdict = verdict;
            r.reason = reason;
            r.verified = r.verdict != Verdict::Error;
            name_the_memory_limit(r, cfg.sandbox.memory_bytes);
        }
        Err(why) if code == 0 => r.reason = format!("the probe's report was refused: {why}"),
        Ok(_) | Err(_) => {
            let msg = String::from_utf8_lossy(&err);
            r.reason = format!(
                "the probe failed (exit {code}): {}",
                msg.lines().last().unwrap_or("no message")
            );
        }
    }
}

/// What `libccheck clean` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Cleaned {
    pub removed: usize,
    /// Containers of runs that are still going on this host.
    pub live: usize,
}

/// Remove every container of this run. Repeats until the daemon has listed none for two seconds
/// (at most about ten), since a create that was in flight when we were interrupted lands late: a
/// busy daemon (profiles being exported, many containers starting) took over 300 ms.
pub async fn cleanup_run<E: Engine>(engine: &E, run_id: &str) -> Result<usize, DockerError> {
    const ROUND: Duration = Duration::from_millis(150);
    const QUIET_ROUNDS: usize = 14;
    let label = format!("{RUN_LABEL}={run_id}");
    let mut removed = 0;
    let mut quiet_rounds = 0;
    for _ in 0..QUIET_ROUNDS * 5 {
        let found = engine.list_labelled(&label).await?;
        if found.is_empty() {
            quiet_rounds += 1;
            if quiet_rounds >= QUIET_ROUNDS {
                break;
            }
        } else {
            quiet_rounds = 0;
        }
        for (id, _) in found {
            engine.remove(&id).await?;
            removed += 1;
        }
        tokio::time::sleep(ROUND).await;
    }
    Ok(removed)
}

/// Remove containers left by libccheck runs that are over (killed, crashed); with `all`, every one.
pub async fn cleanup_leftovers<E: Engine>(engine: &E, all: bool) -> Result<Cleaned, DockerError> {
    let mut c = Cleaned::default();
    for (id, labels) in engine.list_labelled(RUN_LABEL).await? {
        if !all && crate::docker::owner::is_live_now(&labels) {
            c.live += 1;
            continue;
        }
        engine.remove(&id).await?;
        c.removed += 1;
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_file_specs() {
        assert_eq!(
            ExtraFile::parse("/x/libfoo.so.1").unwrap(),
            ExtraFile {
                host: "/x/libfoo.so.1".into(),
                dest: "libfoo.so.1".into()
            }
        );
        assert_eq!(ExtraFile::parse("a.so:lib/a.so").unwrap().dest, "lib/a.so");
        assert!(ExtraFile::parse("a.so:/etc/x").is_err());
        assert!(ExtraFile::parse("a.so:../x").is_err());
        assert_eq!(
            ExtraFile::parse("a.so:./lib//a.so").unwrap().dest,
            "lib/a.so"
        );
        assert!(ExtraFile::parse("a.so:./").is_err());
    }

    #[test]
    fn container_paths_stay_in_the_volume() {
        assert_eq!(container_rel("app", "./lib").as_deref(), Some("app/lib"));
        assert_eq!(container_rel("app", "./../lib").as_deref(), Some("lib"));
        assert_eq!(container_rel("app/lib", "./../x").as_deref(), Some("app/x"));
        assert_eq!(container_rel("app", "./../../x"), None);
    }
}

#[cfg(test)]
mod engine_tests {
    //! The orchestration against a fake [`Engine`]: every container is removed on every path.
    use std::sync::Mutex;

    use super::*;
    use crate::docker::ImageInfo;

    #[derive(Default)]
    struct Fake {
        calls: Mutex<Vec<String>>,
        fail_upload: bool,
        /// The daemon cannot mount host directories (a daemon in a VM).
        refuse_mounts: bool,
        hang_wait: bool,
        report: Vec<u8>,
        spec: Mutex<Option<ContainerSpec>>,
        /// The names in the mounted tree when the container was created.
        mounted: Mutex<Vec<String>>,
        /// Containers the daemon lists for a label, consumed one listing at a time.
        listings: Mutex<Vec<Vec<String>>>,
    }

    impl Fake {
        fn log(&self, s: String) {
            self.calls.lock().unwrap().push(s);
        }
        fn calls(&self) -> Vec<String> {
            self.calls.lock().unwrap().clone()
        }
    }

    impl Engine for Fake {
        async fn image_info(&self, image: &str) -> Result<Option<ImageInfo>, DockerError> {
            Ok(Some(ImageInfo {
                id: format!("sha256:{image}"),
                os: "linux".into(),
                arch: "amd64".into(),
                start: Default::default(),
                size: None,
            }))
        }
        async fn pull(
            &self,
            _: &str,
            _: Option<&str>,
            _: &(dyn Fn(&PullProgress) + Send + Sync),
        ) -> Result<(), DockerError> {
            Ok(())
        }
        async fn tag(&self, _: &str, _: &str) -> Result<(), DockerError> {
            Ok(())
        }
        async fn create(&self, spec: &ContainerSpec) -> Result<String, DockerError> {
            self.log(format!("create {}", spec.image));
            if self.refuse_mounts && spec.mount.is_some() {
                return Err(DockerError::Api {
                    op: "container create",
                    message:
                        "invalid mount config for type \"bind\": bind source path does not exist"
                            .into(),
                });
            }
            if let Some(dir) = &spec.mount {
                *self.mounted.lock().unwrap() = std::fs::read_dir(dir)
                    .unwrap()
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect();
            }
            *self.spec.lock().unwrap() = Some(spec.clone());
            Ok("c1".into())
        }
        async fn upload_stream(
            &self,
            id: &str,
            dir: &str,
            _: futures_util::stream::BoxStream<'static, Result<bytes::Bytes, std::io::Error>>,
            _: u64,
        ) -> Result<(), DockerError> {
            self.log(format!("upload {id} {dir}"));
            if self.fail_upload {
                return Err(DockerError::Api {
                    op: "upload",
                    message: "disk full".into(),
                });
            }
            Ok(())
        }
        async fn start(&self, id: &str) -> Result<(), DockerError> {
            self.log(format!("start {id}"));
            Ok(())
        }
        async fn wait(&self, id: &str) -> Result<i64, DockerError> {
            self.log(format!("wait {id}"));
            if self.hang_wait {
                std::future::pending::<()>().await;
            }
            Ok(0)
        }
        async fn logs(&self, _: &str) -> Result<(Vec<u8>, Vec<u8>), DockerError> {
            Ok((self.report.clone(), vec![]))
        }
        async fn kill(&self, id: &str) -> Result<(), DockerError> {
            self.log(format!("kill {id}"));
            Ok(())
        }
        async fn remove(&self, id: &str) -> Result<(), DockerError> {
            self.log(format!("remove {id}"));
            Ok(())
        }
        fn export(
            &self,
            _: &str,
        ) -> futures_util::stream::BoxStream<'static, Result<bytes::Bytes, DockerError>> {
            use futures_util::StreamExt;
            futures_util::stream::empty().boxed()
        }
        async fn list_labelled(
            &self,
            _: &str,
        ) -> Result<Vec<(String, HashMap<String, String>)>, DockerError> {
            let mut l = self.listings.lock().unwrap();
            let next = if l.is_empty() { vec![] } else { l.remove(0) };
            Ok(next.into_iter().map(|id| (id, HashMap::new())).collect())
        }
    }

    #[test]
    fn a_probe_the_host_cannot_exec_means_no_emulation_for_that_platform() {
        let arm64 = elf::arch::of_docker("arm64").unwrap();
        let amd64 = elf::arch::of_docker("amd64").unwrap();
        // Measured with qemu-aarch64 disabled in binfmt_misc (a shell in the image, and none).
        for reason in [
            "the probe failed (exit 1): [FATAL tini (7)] exec /libccheck/probe failed: Exec format error",
            "the probe failed (exit 127): [FATAL tini (8)] exec /libccheck/probe failed: No such file or directory",
        ] {
            let why = cannot_run_platform(reason, arm64).unwrap();
            assert!(
                why.starts_with("the Docker daemon cannot run linux/arm64 containers"),
                "{why}"
            );
            assert!(
                why.contains("apt-get install qemu-user-static binfmt-support"),
                "{why}"
            );
            assert!(why.contains("tonistiigi/binfmt --install arm64"), "{why}");
            // On the host's own platform the same failure is something else.
            assert_eq!(cannot_run_platform(reason, amd64), None);
        }
        assert_eq!(
            cannot_run_platform("pulling failed: no such host", arm64),
            None
        );
    }

    #[test]
    fn an_image_must_be_for_the_platform_asked_for() {
        let info = |arch: &str| ImageInfo {
            id: "sha256:x".into(),
            os: "linux".into(),
            arch: arch.into(),
            start: Default::default(),
            size: None,
        };
        let arm64 = elf::arch::of_docker("arm64");
        assert_eq!(image_arch(&info("arm64"), None).unwrap().machine, "aarch64");
        assert_eq!(image_arch(&info(""), None).unwrap().machine, "x86-64");
        assert_eq!(image_arch(&info("arm64"), arm64).unwrap().docker, "arm64");
        assert_eq!(
            image_arch(&info("amd64"), arm64).unwrap_err(),
            "the image is for linux/amd64, not linux/arm64: name an image for linux/arm64 (give each platform's image its own tag: a daemon keeps one image per tag)"
        );
        assert!(
            image_arch(&info("riscv64"), None)
                .unwrap_err()
                .starts_with("an image for linux/riscv64; libccheck checks")
        );
    }

    fn setup() -> (BinaryProfile, Plan, RunConfig, Base) {
        let profile = crate::elf::parse(&std::fs::read("/proc/self/exe").unwrap()).unwrap();
        let base = Base {
            name: "b".into(),
            image: "img".into(),
        };
        let cfg = RunConfig {
            bases: vec![base.clone()],
            required: vec!["b".into()],
            pull: PullPolicy::Never,
            timeout: Duration::from_secs(5),
            jobs: 1,
            exec_args: None,
            extra_files: vec![],
            sandbox: Sandbox::default(),
            output_cap: 1024,
            progress: false,
            no_run: false,
            platform: None,
        };
        let plan = Plan {
            binary_name: "x".into(),
            files: vec![],
            jobs: jobs_for(&profile, "x", None, "x86-64"),
            sidecars: BTreeMap::new(),
            platform: &elf::arch::ARCHES[0],
        };
        (profile, plan, cfg, base)
    }

    /// One base run on `fake`, its files uploaded.
    async fn uploaded(fake: &Fake) -> BaseResult {
        let (profile, plan, cfg, base) = setup();
        run_base(fake, &plan, &Delivery::Upload, &profile, &cfg, &base, "run").await
    }

    #[tokio::test]
    async fn a_failed_upload_still_removes_the_container() {
        let fake = Fake {
            fail_upload: true,
            ..Default::default()
        };
        let r = uploaded(&fake).await;
        assert_eq!(r.verdict, Verdict::Error);
        assert_eq!(r.reason, "Docker upload failed: disk full");
        assert_eq!(
            fake.calls(),
            ["create img", "upload c1 /libccheck", "remove c1"]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_container_that_never_ends_is_killed_and_removed() {
        let fake = Fake {
            hang_wait: true,
            ..Default::default()
        };
        let r = uploaded(&fake).await;
        // The probe ends every job on time: a wait that never answers is the daemon's fault,
        // not a verdict about the binary.
        assert_eq!(r.verdict, Verdict::Error);
        assert!(r.reason.starts_with("the Docker daemon ("), "{}", r.reason);
        assert_eq!(
            fake.calls(),
            [
                "create img",
                "upload c1 /libccheck",
                "start c1",
                "wait c1",
                "kill c1",
                "remove c1"
            ]
        );
    }

    #[tokio::test]
    async fn a_damaged_probe_report_is_an_error_not_a_verdict() {
        let fake = Fake {
            report: b"garbage\n".to_vec(),
            ..Default::default()
        };
        let r = uploaded(&fake).await;
        assert_eq!(r.verdict, Verdict::Error);
        assert!(
            r.reason.starts_with("the probe's report was refused"),
            "{}",
            r.reason
        );
        assert_eq!(fake.calls().last().unwrap(), "remove c1");
    }

    #[tokio::test]
    async fn the_program_runs_under_another_user_than_the_probe() {
        let (profile, plan, cfg, base) = setup();
        let fake = Fake::default();
        run_base(
            &fake,
            &plan,
            &Delivery::Upload,
            &profile,
            &cfg,
            &base,
            "run",
        )
        .await;
        let spec = fake.spec.lock().unwrap().clone().unwrap();
        assert_eq!(spec.user, "0:0");
        assert_eq!(spec.cap_add, ["SETUID", "SETGID", "KILL"]);
        assert!(spec.sandbox.drop_capabilities);
        // TIMEOUT CAP, then the options before the first job.
        assert_eq!(spec.cmd[2..4], ["-k/libccheck/key", "-u65532:65532"]);
        assert_eq!(spec.cmd[4], plan.jobs[0].name);
    }

    #[tokio::test]
    async fn mounted_files_need_no_upload_and_carry_the_key_in_the_environment() {
        let (profile, plan, cfg, base) = setup();
        let delivery = Delivery::for_run(&cfg.sandbox.user, "unix:///x.sock");
        let fake = Fake::default();
        run_base(&fake, &plan, &delivery, &profile, &cfg, &base, "run").await;
        assert_eq!(
            fake.calls(),
            ["create img", "start c1", "wait c1", "remove c1"]
        );
        let spec = fake.spec.lock().unwrap().clone().unwrap();
        assert_eq!(spec.cmd[2..4], ["-e", "-u65532:65532"]);
        let key = spec.env[0].strip_prefix("LIBCCHECK_PROBE_KEY=").unwrap();
        assert_eq!(key.len(), 32);
        // The key is in no file of the mounted tree, which goes with its container.
        assert_eq!(*fake.mounted.lock().unwrap(), ["probe"]);
        assert!(!spec.mount.unwrap().exists());
    }

    #[tokio::test]
    async fn a_daemon_that_cannot_mount_gets_an_upload() {
        let (profile, plan, cfg, base) = setup();
        let delivery = Delivery::for_run(&cfg.sandbox.user, "unix:///x.sock");
        let fake = Fake {
            refuse_mounts: true,
            ..Default::default()
        };
        run_base(&fake, &plan, &delivery, &profile, &cfg, &base, "run").await;
        assert_eq!(
            fake.calls(),
            [
                "create img",
                "create img",
                "upload c1 /libccheck",
                "start c1",
                "wait c1",
                "remove c1"
            ]
        );
        let spec = fake.spec.lock().unwrap().clone().unwrap();
        assert_eq!(spec.cmd[2], "-k/libccheck/key");
        assert!(spec.env.is_empty());
        // Later bases upload straight away.
        assert!(delivery.files_for(&plan).await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn cleanup_waits_for_late_containers() {
        // Interrupted mid-create: the first listing is empty, the container lands later.
        let fake = Fake {
            listings: Mutex::new(vec![vec![], vec!["late".into()], vec![], vec![]]),
            ..Default::default()
        };
        let n = cleanup_run(&fake, "run").await.unwrap();
        assert_eq!(n, 1);
        assert_eq!(fake.calls(), ["remove late"]);
    }
}
