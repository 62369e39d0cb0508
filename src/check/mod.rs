//! The run matrix: one sandboxed container per base, the static probe as its entrypoint, the load
//! probe (the program's own interpreter in trace/list mode) and optionally the exec probe (the
//! program with the user's arguments). Docker is reached only through [`Engine`].

use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::docker::upload;
use crate::docker::{ContainerSpec, DockerError, Engine, PullProgress, RUN_LABEL, Sandbox};
use crate::elf::{self, BinaryProfile, Kind, LibcFlavour};
use crate::image::aliases::Base;
use crate::image::base::Library;
use crate::loader::{self, Prediction, Subject};
use crate::probe::classify::{self, ProbeKind};
use crate::probe::{self, Job, JobResult};
use crate::verdict::{self, Outcome, Verdict};

/// Where uploads land in the container (an anonymous volume, since the root is read-only).
pub const WORK_DIR: &str = "/libccheck";
/// The binary's directory inside the container: `$ORIGIN` for it.
pub const APP_DIR: &str = "/libccheck/app";

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
    /// Never pull; a missing image is an error for that base.
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
        Ok(ExtraFile { host, dest })
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
}

/// What happened on one base.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct BaseResult {
    pub base: String,
    pub image: String,
    pub image_id: Option<String>,
    /// libc found in the image: `glibc 2.36`, `musl 1.2.5`, `none`.
    pub libc: Option<String>,
    /// PRETTY_NAME from the image's os-release, when it has one.
    pub os: Option<String>,
    pub required: bool,
    pub verdict: Verdict,
    pub reason: String,
    pub load: Option<Outcome>,
    pub exec: Option<Outcome>,
    /// What the loader simulation said before the run.
    pub prediction: Option<Prediction>,
    /// Did the run prove the prediction? `None` when there was no run or it could not decide.
    pub agree: Option<bool>,
    /// When they disagree: the details only one side named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub differs: Option<Differs>,
    /// For a glibc program on a musl base: musl's loader run on it explicitly (what gcompat would do).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub musl_compat_run: Option<Outcome>,
    pub ms: u64,
}

impl BaseResult {
    fn error(base: &Base, required: bool, reason: String) -> BaseResult {
        BaseResult {
            base: base.name.clone(),
            image: base.image.clone(),
            image_id: None,
            libc: None,
            os: None,
            required,
            verdict: Verdict::Error,
            reason,
            load: None,
            exec: None,
            prediction: None,
            agree: None,
            differs: None,
            musl_compat_run: None,
            ms: 0,
        }
    }
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
}

struct ArchNames {
    docker: &'static str,
    musl: &'static str,
    triplet: &'static str,
}

fn arch_names(machine: &str) -> Option<ArchNames> {
    Some(match machine {
        "x86-64" => ArchNames {
            docker: "amd64",
            musl: "x86_64",
            triplet: "x86_64-linux-gnu",
        },
        "aarch64" => ArchNames {
            docker: "arm64",
            musl: "aarch64",
            triplet: "aarch64-linux-gnu",
        },
        "i386" => ArchNames {
            docker: "386",
            musl: "i386",
            triplet: "i386-linux-gnu",
        },
        _ => return None,
    })
}

/// `amd64` → `x86-64`: the ELF machine name of a Docker architecture.
fn machine_of_docker_arch(arch: &str) -> Option<&'static str> {
    ["x86-64", "aarch64", "i386"]
        .into_iter()
        .find(|m| arch_names(m).is_some_and(|n| n.docker == arch))
}

const GLIBC_TRACE: [&str; 3] = ["LD_TRACE_LOADED_OBJECTS=1", "LD_BIND_NOW=1", "LD_WARN=yes"];

/// The load-probe jobs for one file at `target` (a container path): `name` runs its own
/// interpreter (glibc in trace mode, musl's `--list`); a shared object, which has none, gets
/// `name-glibc` and `name-musl`, one per loader the image may have. A static file gets none.
pub fn load_jobs(profile: &BinaryProfile, target: &str, name: &str) -> Vec<Job> {
    match (&profile.interpreter, profile.kind) {
        (Some(interp), _) if elf::is_musl_loader(interp) => {
            vec![Job::new(name, &[], &[interp, "--list", target])]
        }
        (Some(interp), _) => vec![Job::new(name, &GLIBC_TRACE, &[interp, target])],
        (None, Kind::SharedObject) => match arch_names(&profile.machine) {
            Some(a) => {
                let glibc_ld = match profile.machine.as_str() {
                    "x86-64" => "/lib64/ld-linux-x86-64.so.2",
                    "aarch64" => "/lib/ld-linux-aarch64.so.1",
                    _ => "/lib/ld-linux.so.2",
                };
                vec![
                    Job::new(&format!("{name}-glibc"), &GLIBC_TRACE, &[glibc_ld, target]),
                    Job::new(
                        &format!("{name}-musl"),
                        &[],
                        &[&format!("/lib/ld-musl-{}.so.1", a.musl), "--list", target],
                    ),
                ]
            }
            None => vec![],
        },
        _ => vec![],
    }
}

/// Classify the jobs [`load_jobs`] made under `name`; `None` when there was nothing to load
/// (static). For a shared object, the first loader that loads it wins; ENOENT means that loader
/// is absent, and none present means no loader at all.
pub fn load_outcome<'r>(
    profile: &BinaryProfile,
    find: impl Fn(&str) -> Option<&'r JobResult>,
    name: &str,
    app_dir: &str,
) -> Option<Outcome> {
    if let Some(j) = find(name) {
        return Some(classify::classify(
            j,
            ProbeKind::Load,
            profile.interpreter.as_deref(),
            app_dir,
        ));
    }
    if profile.interpreter.is_some() || profile.kind != Kind::SharedObject {
        return None;
    }
    let tried: Vec<Outcome> = [format!("{name}-glibc"), format!("{name}-musl")]
        .iter()
        .filter_map(|n| find(n))
        .filter(|j| j.exec_errno != 2)
        .map(|j| classify::classify(j, ProbeKind::Load, None, app_dir))
        .collect();
    Some(
        match tried
            .iter()
            .find(|o| o.verdict == Verdict::Ok)
            .or(tried.first())
        {
            Some(o) => o.clone(),
            None => {
                let mut o = Outcome::new(
                    Verdict::NoInterpreter,
                    "the image has no dynamic loader to load this shared object",
                );
                o.problems = vec![verdict::Problem::NoInterpreter {
                    interpreter: "(any dynamic loader)".into(),
                }];
                o
            }
        },
    )
}

/// The probe jobs for this binary (pure).
pub fn jobs_for(
    profile: &BinaryProfile,
    binary_name: &str,
    exec_args: Option<&[String]>,
) -> Vec<Job> {
    let target = format!("{APP_DIR}/{binary_name}");
    let mut jobs = vec![
        Job::read("os-release", "/etc/os-release"),
        Job::read("os-release-usr", "/usr/lib/os-release"),
    ];
    // The image's libc, read with the image's names (a 32-bit program runs on an amd64 image).
    let names = arch_names(loader::BASE_MACHINE);
    if let Some(a) = &names {
        jobs.push(Job::new(
            "libc-glibc",
            &[],
            &[&format!("/lib/{}/libc.so.6", a.triplet)],
        ));
        jobs.push(Job::new("libc-glibc-lib64", &[], &["/lib64/libc.so.6"]));
        jobs.push(Job::new(
            "libc-musl",
            &[],
            &[&format!("/lib/ld-musl-{}.so.1", a.musl)],
        ));
    }
    jobs.extend(load_jobs(profile, &target, "load"));
    // A glibc program whose interpreter a musl base lacks: what would musl's loader do with it?
    if let (Some(interp), Some(a)) = (&profile.interpreter, &arch_names(&profile.machine))
        && elf::is_glibc_loader(interp)
    {
        jobs.push(Job::new(
            "musl-compat",
            &[],
            &[&format!("/lib/ld-musl-{}.so.1", a.musl), "--list", &target],
        ));
    }
    if let Some(args) = exec_args {
        let mut argv = vec![target.clone()];
        argv.extend(args.iter().cloned());
        jobs.push(Job {
            name: "exec".into(),
            env: vec![],
            argv,
        });
    }
    jobs
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
    // SAFETY: a read-only private map of a file we only read, for the duration of the parse.
    let map = unsafe { memmap2::Mmap::map(&f) }.ok()?;
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

/// What to upload: the binary, the libraries its `$ORIGIN` directories resolve, `--with` files.
/// Nothing is read here but their loader parts; the upload streams them from disk.
pub fn plan(binary: &Path, profile: &BinaryProfile, cfg: &RunConfig) -> Result<Plan, String> {
    let binary_name = binary
        .file_name()
        .ok_or("binary path has no file name")?
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
    let mut added = vec![bin_dest];
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
        if added.contains(&dest) {
            continue;
        }
        tracing::info!("uploading {} as {WORK_DIR}/{dest}", host.display());
        parent_dirs(&dest, &mut dirs, &mut files);
        files.push(upload::Entry::host(&dest, 0o755, host));
        if let Some(lib) = lib {
            sidecars.insert(format!("{WORK_DIR}/{dest}"), lib);
        }
        added.push(dest);
    }
    let size = upload::total_size(&files)
        .map_err(|e| format!("{}: {}", binary.display(), crate::text::io_message(&e)))?;
    if size > MAX_UPLOAD {
        return Err(format!(
            "{}: the upload would be {:.1} GiB (the binary and the files beside it); libccheck uploads at most {} GiB per container",
            binary.display(),
            size as f64 / (1u64 << 30) as f64,
            MAX_UPLOAD >> 30
        ));
    }
    Ok(Plan {
        jobs: jobs_for(profile, &binary_name, cfg.exec_args.as_deref()),
        binary_name,
        files,
        sidecars,
    })
}

/// What the facts jobs say about the image's libc and OS (pure).
pub fn image_facts(results: &[JobResult]) -> (Option<String>, Option<String>) {
    let get = |n: &str| {
        results
            .iter()
            .find(|r| r.name == n && r.exec_errno == 0 && !r.timed_out)
    };
    let glibc = ["libc-glibc", "libc-glibc-lib64"]
        .iter()
        .filter_map(|n| get(n))
        .find_map(|r| {
            let t = String::from_utf8_lossy(&r.stdout);
            let i = t.find("release version ")?;
            let v: String = t[i + 16..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            Some(format!("glibc {}", v.trim_end_matches('.')))
        });
    let musl = get("libc-musl").and_then(|r| {
        let t = String::from_utf8_lossy(&r.stderr);
        let v = t.lines().find_map(|l| l.strip_prefix("Version "))?;
        Some(format!("musl {}", v.trim()))
    });
    let libc = match (glibc, musl) {
        (Some(g), Some(m)) => Some(format!("{g} + {m}")),
        (g, m) => g.or(m),
    };
    let os = ["os-release", "os-release-usr"]
        .iter()
        .filter_map(|n| get(n))
        .find_map(|r| {
            String::from_utf8_lossy(&r.stdout).lines().find_map(|l| {
                l.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_string())
            })
        });
    let ran_facts = results.iter().any(|r| r.name.starts_with("libc-"));
    (libc.or_else(|| ran_facts.then(|| "none".to_string())), os)
}

/// Combine the probes of one base into its verdict (pure).
pub fn base_verdict(
    profile: &BinaryProfile,
    results: &[JobResult],
) -> (Option<Outcome>, Option<Outcome>, Verdict, String) {
    let find = |n: &str| results.iter().find(|r| r.name == n);
    let interpreter = profile.interpreter.as_deref();
    let load = load_outcome(profile, find, "load", APP_DIR);
    let exec = find("exec").map(|j| classify::classify(j, ProbeKind::Exec, interpreter, APP_DIR));
    let (verdict, reason) = match (&load, &exec) {
        (Some(l), _) if l.verdict != Verdict::Ok => (l.verdict, l.reason.clone()),
        (_, Some(e)) => (e.verdict, e.reason.clone()),
        (Some(l), None) => (l.verdict, l.reason.clone()),
        (None, None) => {
            let why = if profile.libc.flavour == LibcFlavour::Static {
                "static: no loader involved"
            } else {
                "nothing to load"
            };
            (Verdict::Ok, why.to_string())
        }
    };
    (load, exec, verdict, reason)
}

/// Progress on a terminal (one rewritten stderr line); silent otherwise.
pub struct Progress {
    enabled: bool,
    state: Mutex<(usize, usize)>,
}

impl Progress {
    pub fn new(enabled: bool, total: usize) -> Progress {
        Progress {
            enabled: enabled && std::io::stderr().is_terminal(),
            state: Mutex::new((0, total)),
        }
    }
    pub fn line(&self, msg: &str) {
        if self.enabled {
            eprint!("\r\x1b[2K{msg}");
        }
    }
    fn base_done(&self, name: &str) {
        let mut s = self.state.lock().unwrap();
        s.0 += 1;
        let (d, t) = *s;
        drop(s);
        self.line(&format!("checked {d}/{t} bases (last: {name})"));
    }
    pub fn finish(&self) {
        if self.enabled {
            eprint!("\r\x1b[2K");
        }
    }
}

/// Make sure each image is present, pulling as the policy says. Per image: its id/arch or an error.
pub async fn ensure_images<E: Engine>(
    engine: &E,
    bases: &[Base],
    pull: PullPolicy,
    progress: &Progress,
) -> HashMap<String, Result<crate::docker::ImageInfo, String>> {
    let mut images: Vec<&str> = bases.iter().map(|b| b.image.as_str()).collect();
    images.sort();
    images.dedup();
    let futs = images.into_iter().map(|image| async move {
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
                engine.pull(image, &show).await?;
                return engine
                    .image_info(image)
                    .await?
                    .ok_or_else(|| DockerError::Pull {
                        image: image.into(),
                        reason: "image absent after pull".into(),
                    });
            }
            Ok(present.unwrap())
        }
        .await;
        (image.to_string(), r.map_err(|e| e.to_string()))
    });
    join_all(futs).await.into_iter().collect()
}

/// The details (library, version, symbol, refused feature) only one side named, when prediction
/// and run disagree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Differs {
    pub predicted_only: Vec<String>,
    pub run_only: Vec<String>,
}

impl Differs {
    /// `predicted only: a, b; the run only: c`
    pub fn describe(&self) -> String {
        let side =
            |what: &str, v: &[String]| (!v.is_empty()).then(|| format!("{what}: {}", v.join(", ")));
        [
            side("predicted only", &self.predicted_only),
            side("the run only", &self.run_only),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("; ")
    }
}

/// Does the run prove the prediction (`None`: it cannot tell), and which details differ when not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub agree: Option<bool>,
    pub differs: Option<Differs>,
}

/// The key a loader's report names a problem by, for the problems of one verdict, sorted.
fn problem_keys(ps: &[verdict::Problem], verdict: Verdict) -> Vec<String> {
    let mut k: Vec<String> = ps
        .iter()
        .filter(|p| p.verdict() == verdict)
        .filter_map(|p| match p {
            // A loader that crashes names nothing: the signal is the run's whole report.
            verdict::Problem::LoaderCrash { .. } => None,
            p => Some(problem_key(p)),
        })
        .collect();
    k.sort();
    k.dedup();
    k
}

fn problem_key(p: &verdict::Problem) -> String {
    match p {
        verdict::Problem::LoaderCrash { what, .. } => what.clone(),
        verdict::Problem::NoInterpreter { .. } => String::new(),
        verdict::Problem::WrongArch { machine, .. } => machine.clone(),
        verdict::Problem::MissingLibrary { library, .. } => library.clone(),
        verdict::Problem::MissingVersion { version, .. } => version.clone(),
        verdict::Problem::MissingSymbol { symbol, .. } => symbol.clone(),
        verdict::Problem::Unsupported { what, .. } => what.clone(),
    }
}

fn without_empty(mut keys: Vec<String>) -> Vec<String> {
    keys.retain(|k| !k.is_empty());
    keys
}

/// Compare a prediction with the run's verdict and problems. `cut`: the loader's report was cut at
/// the capture limit, so it lists its first errors only (musl prints one line per failing
/// relocation: a Perl module's hundred host symbols fill kilobytes). Then a predicted problem the
/// run does not show may be in the part cut off; one the run shows must still be predicted.
pub fn compare(
    pred: &Prediction,
    actual: Verdict,
    actual_problems: &[verdict::Problem],
    cut: bool,
) -> Comparison {
    let unsupported = |ps: &[verdict::Problem]| {
        ps.iter()
            .any(|p| matches!(p, verdict::Problem::Unsupported { .. }))
    };
    let only = |agree| Comparison {
        agree,
        differs: None,
    };
    if actual == Verdict::Error && unsupported(actual_problems) {
        return only(Some(
            pred.verdict == Verdict::Error && unsupported(&pred.problems),
        ));
    }
    if matches!(actual, Verdict::Error | Verdict::Timeout) {
        return only(None);
    }
    let (p, r) = (
        problem_keys(&pred.problems, pred.verdict),
        problem_keys(actual_problems, actual),
    );
    let one_side = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter().filter(|k| !b.contains(k)).cloned().collect()
    };
    let differs = Differs {
        predicted_only: one_side(&p, &r),
        run_only: one_side(&r, &p),
    };
    let agree = match (cut, pred.verdict == actual) {
        (false, same) => Some(same && differs == Differs::default()),
        (true, _) if !differs.run_only.is_empty() => Some(false),
        (true, true) => Some(true),
        // The run's verdict comes from what it showed; the rest of its report may hold the
        // predicted problems.
        (true, false) => None,
    };
    // A missing interpreter has no name to list (the verdicts say it).
    let differs = Differs {
        predicted_only: without_empty(differs.predicted_only),
        run_only: without_empty(differs.run_only),
    };
    Comparison {
        agree,
        differs: (agree != Some(true) && differs != Differs::default()).then_some(differs),
    }
}

/// Predict from the built-in catalog only (`--offline`): no Docker at all.
pub fn predict_offline(
    plan: &Plan,
    profile: &BinaryProfile,
    exports: &crate::elf::ExportTable,
    cfg: &RunConfig,
) -> Vec<BaseResult> {
    let subject = Subject {
        profile,
        exports,
        path: format!("{APP_DIR}/{}", plan.binary_name),
        sidecars: &plan.sidecars,
    };
    cfg.bases
        .iter()
        .map(|base| {
            let required = cfg.required.contains(&base.name);
            let Some(entry) = crate::catalog::find(&base.name) else {
                let names: Vec<&str> = crate::catalog::entries()
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
            let p = crate::advice::with_hints(profile, &bp, loader::predict(&subject, &bp));
            let mut r = BaseResult::error(base, required, p.reason.clone());
            r.image = entry.image.clone();
            r.verdict = p.verdict;
            r.libc = Some(bp.describe_libc());
            r.os = Some(entry.os.clone());
            r.prediction = Some(p);
            r
        })
        .collect()
}

/// Run the plan on every base, `cfg.jobs` containers at a time, predicting each from its image's
/// filesystem at the same time.
pub async fn run_matrix<E: Engine>(
    engine: &E,
    plan: &Plan,
    profile: &BinaryProfile,
    exports: &crate::elf::ExportTable,
    cfg: &RunConfig,
    run_id: &str,
    progress: &Progress,
) -> Vec<BaseResult> {
    let images = ensure_images(engine, &cfg.bases, cfg.pull, progress).await;
    let sem = Semaphore::new(cfg.jobs.max(1));
    let subject = Subject {
        profile,
        exports,
        path: format!("{APP_DIR}/{}", plan.binary_name),
        sidecars: &plan.sidecars,
    };
    let futs = cfg.bases.iter().map(|base| {
        let sem = &sem;
        let images = &images;
        let subject = &subject;
        async move {
            let required = cfg.required.contains(&base.name);
            let r = match images.get(&base.image) {
                Some(Ok(info)) => {
                    if let Some(wrong) = machine_of_docker_arch(&info.arch)
                        .and_then(|m| loader::wrong_arch(profile, m))
                    {
                        // A fact of the ELF header: nothing to read of the image, nothing to run.
                        let mut r = BaseResult::error(base, required, wrong.reason.clone());
                        r.verdict = wrong.verdict;
                        r.image_id = Some(info.id.clone());
                        r.prediction = Some(wrong);
                        r
                    } else if info.arch != "amd64" && !info.arch.is_empty() {
                        BaseResult::error(
                            base,
                            required,
                            format!(
                                "libccheck's probe runs on amd64 images only; {} is {}",
                                base.image, info.arch
                            ),
                        )
                    } else {
                        let _permit = sem.acquire().await.expect("semaphore open");
                        let predicted = async {
                            let bp = crate::image::export::profile(
                                engine,
                                &base.image,
                                &info.id,
                                run_id,
                            )
                            .await?;
                            Ok::<_, String>((
                                crate::advice::with_hints(
                                    profile,
                                    &bp,
                                    loader::predict(subject, &bp),
                                ),
                                bp.describe_libc(),
                                bp.os.clone(),
                            ))
                        };
                        let mut r = if cfg.no_run {
                            let mut r = BaseResult::error(base, required, String::new());
                            match predicted.await {
                                Ok((p, libc, os)) => {
                                    r.verdict = p.verdict;
                                    r.reason = p.reason.clone();
                                    r.libc = Some(libc);
                                    r.os = os;
                                    r.prediction = Some(p);
                                }
                                Err(e) => r.reason = format!("cannot read the image: {e}"),
                            }
                            r
                        } else {
                            let (mut r, predicted) = tokio::join!(
                                run_base(engine, plan, profile, cfg, base, run_id),
                                predicted
                            );
                            match predicted {
                                Ok((p, _, _)) => {
                                    let (actual, problems, cut) = match &r.load {
                                        Some(l) => (
                                            l.verdict,
                                            l.problems.clone(),
                                            l.stdout_truncated || l.stderr_truncated,
                                        ),
                                        // Nothing to load (static), and the program started: loading was fine.
                                        None if r.exec.is_some() => (Verdict::Ok, vec![], false),
                                        None if r.verdict == Verdict::Error
                                            || r.verdict == Verdict::Timeout =>
                                        {
                                            (r.verdict, vec![], false)
                                        }
                                        None => (Verdict::Ok, vec![], false),
                                    };
                                    let c = compare(&p, actual, &problems, cut);
                                    (r.agree, r.differs) = (c.agree, c.differs);
                                    if let (Some(c), Some(o)) = (&p.musl_compat, &r.musl_compat_run)
                                        && r.agree == Some(true)
                                        && o.verdict != Verdict::Error
                                    {
                                        r.agree = Some(c.runs == (o.verdict == Verdict::Ok));
                                    }
                                    r.prediction = Some(p);
                                }
                                Err(e) => tracing::warn!("no prediction for {}: {e}", base.name),
                            }
                            r
                        };
                        r.required = required;
                        r.image_id = Some(info.id.clone());
                        r
                    }
                }
                Some(Err(e)) => BaseResult::error(base, required, e.clone()),
                None => BaseResult::error(base, required, "image was not resolved".into()),
            };
            progress.base_done(&base.name);
            r
        }
    });
    join_all(futs).await
}

/// The longest a probe container may legitimately take: every job its full time limit, and
/// some grace for starting and for the probe's own report.
fn container_limit(plan: &Plan, timeout: Duration) -> Duration {
    let running = plan.jobs.iter().filter(|j| j.argv[0] != "@read").count() as u32;
    timeout * running + Duration::from_secs(15)
}

/// What goes into a probe container's upload volume: the probe, this container's report key
/// (readable by root only; the probe deletes it) and the plan's files.
fn upload_entries(plan: &Plan, key: &str) -> Vec<upload::Entry> {
    let mut entries = vec![
        upload::Entry::bytes("probe", 0o755, probe::PROBE_BINARY),
        upload::Entry::bytes(probe::KEY_FILE, 0o400, key.as_bytes()),
    ];
    entries.extend(plan.files.iter().cloned());
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

async fn run_base<E: Engine>(
    engine: &E,
    plan: &Plan,
    profile: &BinaryProfile,
    cfg: &RunConfig,
    base: &Base,
    run_id: &str,
) -> BaseResult {
    let started = Instant::now();
    let timeout_ms = cfg.timeout.as_millis() as u64;
    let limit = container_limit(plan, cfg.timeout);
    let key = match probe::new_key() {
        Ok(k) => k,
        Err(e) => return BaseResult::error(base, false, format!("no report key: {e}")),
    };
    let launch = probe::launch(
        &cfg.sandbox.user,
        &format!("{WORK_DIR}/{}", probe::KEY_FILE),
    );
    let mut labels = crate::docker::owner::labels(run_id, limit + Duration::from_secs(120));
    labels.insert("org.libccheck.base".to_string(), base.name.clone());
    let spec = ContainerSpec {
        image: base.image.clone(),
        entrypoint: vec![format!("{WORK_DIR}/probe")],
        cmd: probe::command_line(timeout_ms, cfg.output_cap, &launch.options, &plan.jobs),
        env: vec![],
        labels,
        sandbox: cfg.sandbox.clone(),
        user: launch.user,
        cap_add: launch.cap_add,
        work_dir: WORK_DIR.into(),
    };
    let id = match engine.create(&spec).await {
        Ok(id) => id,
        Err(e) => return BaseResult::error(base, false, e.to_string()),
    };
    tracing::debug!(base = %base.name, container = %id, ms = started.elapsed().as_millis() as u64, "created");
    let body = async {
        let entries = upload_entries(plan, &key);
        let size = upload::total_size(&entries).unwrap_or(0);
        engine
            .upload_stream(&id, WORK_DIR, upload::tar_stream(entries), size)
            .await?;
        tracing::debug!(base = %base.name, ms = started.elapsed().as_millis() as u64, "uploaded");
        engine.start(&id).await?;
        tracing::debug!(base = %base.name, ms = started.elapsed().as_millis() as u64, "started");
        match tokio::time::timeout(limit, engine.wait(&id)).await {
            Ok(code) => {
                let code = code?;
                tracing::debug!(base = %base.name, ms = started.elapsed().as_millis() as u64, "exited");
                let (out, err) = engine.logs(&id).await?;
                Ok::<_, DockerError>(Some((code, out, err)))
            }
            Err(_) => {
                engine.kill(&id).await?;
                Ok(None)
            }
        }
    }
    .await;
    if let Err(e) = engine.remove(&id).await {
        tracing::warn!("could not remove container {id}: {e}");
    }
    tracing::debug!(base = %base.name, ms = started.elapsed().as_millis() as u64, "removed");
    let mut r = BaseResult::error(base, false, String::new());
    r.ms = started.elapsed().as_millis() as u64;
    match body {
        Err(e) => r.reason = e.to_string(),
        Ok(None) => r.reason = stalled_message(limit),
        Ok(Some((code, out, err))) => match probe::parse_report(&out, &key, &plan.jobs) {
            Ok(results) if code == 0 => {
                let (libc, os) = image_facts(&results);
                let (load, exec, verdict, reason) = base_verdict(profile, &results);
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
                name_the_memory_limit(&mut r, cfg.sandbox.memory_bytes);
            }
            Err(why) if code == 0 => r.reason = format!("the probe's report was refused: {why}"),
            Ok(_) | Err(_) => {
                let msg = String::from_utf8_lossy(&err);
                r.reason = format!(
                    "the probe failed (exit {code}): {}",
                    msg.lines().last().unwrap_or("no message")
                );
            }
        },
    }
    r
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
    }

    #[test]
    fn container_paths_stay_in_the_volume() {
        assert_eq!(container_rel("app", "./lib").as_deref(), Some("app/lib"));
        assert_eq!(container_rel("app", "./../lib").as_deref(), Some("lib"));
        assert_eq!(container_rel("app/lib", "./../x").as_deref(), Some("app/x"));
        assert_eq!(container_rel("app", "./../../x"), None);
    }

    #[test]
    fn facts_from_probe_output() {
        let r = |name: &str, errno: i32, out: &str, err: &str| JobResult {
            name: name.into(),
            exec_errno: errno,
            stdout: out.into(),
            stderr: err.into(),
            ..Default::default()
        };
        let (libc, os) = image_facts(&[
            r(
                "os-release",
                0,
                "NAME=x\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
                "",
            ),
            r(
                "libc-glibc",
                0,
                "GNU C Library (Debian GLIBC 2.36-9+deb12u14) stable release version 2.36.\n",
                "",
            ),
            r("libc-musl", 2, "", ""),
        ]);
        assert_eq!(libc.as_deref(), Some("glibc 2.36"));
        assert_eq!(os.as_deref(), Some("Debian GNU/Linux 12 (bookworm)"));
        let (libc, os) = image_facts(&[
            r("os-release", 2, "", ""),
            r("libc-glibc", 2, "", ""),
            r("libc-musl", 0, "", "musl libc (x86_64)\nVersion 1.2.5\n"),
        ]);
        assert_eq!((libc.as_deref(), os), (Some("musl 1.2.5"), None));
        let (libc, _) = image_facts(&[r("libc-glibc", 2, "", ""), r("libc-musl", 2, "", "")]);
        assert_eq!(libc.as_deref(), Some("none"));
    }

    fn missing(symbols: &[&str]) -> Vec<verdict::Problem> {
        symbols
            .iter()
            .map(|s| verdict::Problem::MissingSymbol {
                symbol: s.to_string(),
                version: None,
                needed_by: None,
            })
            .collect()
    }

    /// A whole report must name what was predicted; a cut one only nothing unpredicted. Either
    /// way a disagreement says which details differ.
    #[test]
    fn comparison_of_whole_and_cut_reports() {
        let pred = Prediction {
            verdict: Verdict::MissingSymbol,
            reason: String::new(),
            problems: missing(&["__memcpy_chk", "__sprintf_chk"]),
            hints: vec![],
            loader: Some("musl".into()),
            loaded: vec![],
            musl_compat: None,
        };
        let ms = Verdict::MissingSymbol;
        let whole = compare(
            &pred,
            ms,
            &missing(&["__sprintf_chk", "__memcpy_chk"]),
            false,
        );
        assert_eq!((whole.agree, whole.differs), (Some(true), None));
        let shown = missing(&["__memcpy_chk"]);
        let c = compare(&pred, ms, &shown, false);
        assert_eq!(c.agree, Some(false));
        let d = c.differs.unwrap();
        assert_eq!(
            (d.predicted_only, d.run_only),
            (vec!["__sprintf_chk".to_string()], vec![])
        );
        assert_eq!(
            compare(&pred, ms, &shown, true).agree,
            Some(true),
            "the rest was cut off"
        );
        let c = compare(&pred, ms, &missing(&["__memcpy_chk", "strlcpy"]), true);
        assert_eq!(c.agree, Some(false), "a shown symbol must be predicted");
        assert_eq!(
            c.differs.unwrap().describe(),
            "predicted only: __sprintf_chk; the run only: strlcpy"
        );
        let c = compare(&pred, Verdict::Ok, &[], true);
        assert_eq!(
            c.agree, None,
            "a cut report that shows nothing cannot refute the prediction"
        );
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
        hang_wait: bool,
        report: Vec<u8>,
        spec: Mutex<Option<ContainerSpec>>,
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
            }))
        }
        async fn pull(
            &self,
            _: &str,
            _: &(dyn Fn(&PullProgress) + Send + Sync),
        ) -> Result<(), DockerError> {
            Ok(())
        }
        async fn create(&self, spec: &ContainerSpec) -> Result<String, DockerError> {
            self.log(format!("create {}", spec.image));
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
        };
        let plan = Plan {
            binary_name: "x".into(),
            files: vec![],
            jobs: jobs_for(&profile, "x", None),
            sidecars: BTreeMap::new(),
        };
        (profile, plan, cfg, base)
    }

    #[tokio::test]
    async fn a_failed_upload_still_removes_the_container() {
        let (profile, plan, cfg, base) = setup();
        let fake = Fake {
            fail_upload: true,
            ..Default::default()
        };
        let r = run_base(&fake, &plan, &profile, &cfg, &base, "run").await;
        assert_eq!(r.verdict, Verdict::Error);
        assert_eq!(r.reason, "Docker upload failed: disk full");
        assert_eq!(
            fake.calls(),
            ["create img", "upload c1 /libccheck", "remove c1"]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_container_that_never_ends_is_killed_and_removed() {
        let (profile, plan, cfg, base) = setup();
        let fake = Fake {
            hang_wait: true,
            ..Default::default()
        };
        let r = run_base(&fake, &plan, &profile, &cfg, &base, "run").await;
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
        let (profile, plan, cfg, base) = setup();
        let fake = Fake {
            report: b"garbage\n".to_vec(),
            ..Default::default()
        };
        let r = run_base(&fake, &plan, &profile, &cfg, &base, "run").await;
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
        run_base(&fake, &plan, &profile, &cfg, &base, "run").await;
        let spec = fake.spec.lock().unwrap().clone().unwrap();
        assert_eq!(spec.user, "0:0");
        assert_eq!(spec.cap_add, ["SETUID", "SETGID", "KILL"]);
        assert!(spec.sandbox.drop_capabilities);
        // TIMEOUT CAP, then the options before the first job.
        assert_eq!(spec.cmd[2..4], ["-k/libccheck/key", "-u65532:65532"]);
        assert_eq!(spec.cmd[4], plan.jobs[0].name);
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
