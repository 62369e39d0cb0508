//! The command line: argument definitions, validation, and dispatch to the subcommands.

pub mod config;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::check::{self, ExtraFile, PullPolicy, RunConfig};
use crate::docker::{BollardEngine, Sandbox};
use crate::image::aliases;
use crate::report::{self, Format};

/// What `--output-limit` accepts: the probe's own facts (os-release, the libc's version banner)
/// need about a kilobyte, and the probe holds two buffers of this size per job in the container's
/// memory.
const OUTPUT_LIMITS: std::ops::RangeInclusive<u64> = 1024..=(16 << 20);

/// The time the Docker daemon has to answer one request (uploads get more, by size).
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Exit codes shared by every subcommand (see README).
pub mod exit {
    /// Every required base works / nothing broken.
    pub const OK: u8 = 0;
    /// Some required base fails, or an audit found breakage.
    pub const FAILED: u8 = 1;
    /// Usage, input, Docker or internal error.
    pub const ERROR: u8 = 2;
}

#[derive(Debug, Parser)]
#[command(
    name = "libccheck",
    version,
    about = "On which base images will this Linux binary run — and if not, why?",
    long_about = "libccheck reads a binary's ELF facts (interpreter, needed libraries, symbol versions), \
predicts from each base image's own files what its dynamic loader will do, then runs it inside each \
base through the Docker Engine API, sandboxed, and tells you per base: ok, no_interpreter, \
missing_library, missing_version, missing_symbol, crash, timeout, exit_nonzero — with the evidence \
and a fix hint. A run that refutes the prediction is flagged as a prediction mismatch.\n\n\
Settings can live in ./libccheck.toml (see README); flags override it.\n\n\
Exit codes: 0 every required base works; 1 some required base fails; 2 usage, input, Docker or \
internal error, or a prediction mismatch (unless --allow-mismatch); 130/143 after Ctrl-C/SIGTERM.",
    subcommand_precedence_over_arg = true,
    subcommand_negates_reqs = true,
    after_help = "Examples:\n  libccheck ./myapp                        load-check ./myapp on the default bases\n  libccheck -b alpine,debian12-slim ./myapp -- --version   also run it with --version\n  libccheck inspect ./myapp                what it needs, without Docker\n  libccheck bases                          the aliases"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub check: CheckArgs,

    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

/// `libccheck [OPTIONS] <BINARY> [-- <ARGS>...]`: check one binary across bases.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The binary (or shared object) to check. It is uploaded into each base; never run on the host.
    #[arg(value_name = "BINARY", required = true)]
    pub binary: Option<PathBuf>,

    /// Arguments for the exec probe: when given, the binary is also run with them in each base.
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,

    /// Base alias (see `libccheck bases`) or image reference; repeat or comma-separate.
    /// Default: alpine, debian-slim, distroless-static, distroless-base, distroless-cc.
    #[arg(short, long = "base", value_name = "BASE")]
    pub bases: Vec<String>,

    /// When to pull images from their registry [default: missing].
    #[arg(long, value_enum)]
    pub pull: Option<PullPolicy>,

    /// Bases that must work for exit 0 (default: all requested); others are reported only.
    #[arg(long, value_name = "BASE")]
    pub require: Vec<String>,

    /// Extra file to upload beside the binary (a library, a plugin it dlopens, an asset); DEST is
    /// relative to the binary's directory. The libraries the binary's RUNPATH/RPATH $ORIGIN
    /// entries resolve for its needed libraries are uploaded anyway; nothing else beside it is
    /// (-v lists what is).
    #[arg(long = "with", value_name = "PATH[:DEST]")]
    pub with: Vec<String>,

    /// Seconds each probe may run before it is killed [default: 30].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: Option<u64>,

    /// Containers at once (default: all bases at once).
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=64))]
    pub jobs: Option<u64>,

    /// Run the exec probe even without ARGS (runs the binary with no arguments).
    #[arg(long)]
    pub exec: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Predict only: read each image's filesystem and simulate its loader; start no container.
    #[arg(long, conflicts_with_all = ["exec", "args"])]
    pub no_run: bool,

    /// Predict from the built-in catalog of public bases (see `libccheck bases`); needs no Docker
    /// (exec-probe arguments are recorded, not run).
    #[arg(long, conflicts_with = "no_run")]
    pub offline: bool,

    /// Do not fail (exit 2) when a run disagrees with libccheck's prediction.
    #[arg(long)]
    pub allow_mismatch: bool,

    /// Sandbox: give the container a network (default: none).
    #[arg(long)]
    pub allow_network: bool,

    /// Sandbox: run as root instead of uid 65532 (capabilities stay dropped).
    #[arg(long)]
    pub as_root: bool,

    /// Sandbox: memory limit in MiB [default: 512].
    #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(16..=65536))]
    pub memory: Option<u64>,

    /// Sandbox: maximum number of processes in the container [default: 128].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(8..=100000))]
    pub pids_limit: Option<u64>,

    /// Bytes of stdout and of stderr kept per probe (1024 to 16777216); the rest is counted and
    /// dropped [default: 65536].
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u64).range(OUTPUT_LIMITS))]
    pub output_limit: Option<u64>,

    /// Settings file (default: ./libccheck.toml when present). Command-line flags override it.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Do not append the Markdown report to $GITHUB_STEP_SUMMARY (done by default when it is set).
    #[arg(long)]
    pub no_step_summary: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the ELF facts of files: interpreter, needed libraries, symbol versions and the symbols
    /// that force them, libc flavour. Directories are walked. Nothing is executed.
    Inspect(InspectArgs),
    /// Audit every ELF file of an image or a root directory against the bases you want to move
    /// to: which break, why, grouped by cause, predicted and then verified in one container per target.
    Audit(AuditArgs),
    /// List the base aliases and the offline catalog; with --matrix, the configured bases as JSON
    /// for a GitHub Actions strategy.matrix.
    Bases(BasesArgs),
    /// Merge JSON reports (e.g. one per base from a CI matrix) into one report, in any format.
    Merge(MergeArgs),
    /// (For scripts/gen-catalog.sh) print the catalog entry of an image or a root directory.
    #[command(hide = true)]
    CatalogEntry(CatalogEntryArgs),
    /// Remove containers left behind by libccheck runs that were killed (label org.libccheck.run).
    /// Containers of runs still going on this host are spared unless --all.
    Clean(CleanArgs),
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// A root directory to audit (an unpacked image, a build output).
    #[arg(
        value_name = "DIR",
        required_unless_present = "image",
        conflicts_with = "image"
    )]
    pub dir: Option<PathBuf>,
    /// An image to audit (read through the Engine API, never started).
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// Target base(s): alias or image reference; repeat or comma-separate.
    #[arg(long = "to", value_name = "BASE", required = true)]
    pub to: Vec<String>,
    /// Audit every ELF file, not only the application's own (those no package manager installed).
    /// Packaged files are checked against the target's libraries, never their source's.
    #[arg(long)]
    pub all: bool,
    /// Predict only; start no verifying container.
    #[arg(long)]
    pub no_run: bool,
    /// Do not fail (exit 2) when verification disagrees with a prediction.
    #[arg(long)]
    pub allow_mismatch: bool,
    /// Seconds per file for the loader check.
    #[arg(long, default_value_t = 20, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
    /// When to pull the source and target images.
    #[arg(long, value_enum, default_value_t = PullPolicy::Missing)]
    pub pull: PullPolicy,
    /// Output format (JSON: `libccheck/audit/v1`, per-file detail).
    #[arg(long, value_enum, default_value_t = AuditFormat::Human)]
    pub format: AuditFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditFormat {
    Human,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct CatalogEntryArgs {
    #[arg(long, conflicts_with = "dir", required_unless_present = "dir")]
    pub image: Option<String>,
    #[arg(long)]
    pub dir: Option<PathBuf>,
    #[arg(long)]
    pub name: String,
    /// The public image the entry describes.
    #[arg(long)]
    pub public: String,
    #[arg(long)]
    pub source: String,
}

#[derive(Debug, Args)]
pub struct CleanArgs {
    /// Also remove containers of runs that are still going (and of runs from other hosts).
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct BasesArgs {
    #[arg(long, value_enum, default_value_t = InspectFormat::Human)]
    pub format: InspectFormat,
    /// Print the configured bases (-b, else libccheck.toml, else the default matrix) as
    /// `{"base": [...]}` for `strategy.matrix: ${{ fromJSON(...) }}`.
    #[arg(long)]
    pub matrix: bool,
    /// Bases for --matrix.
    #[arg(short, long = "base", value_name = "BASE", requires = "matrix")]
    pub bases: Vec<String>,
    /// Settings file for --matrix (default: ./libccheck.toml when present).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON reports (`libccheck --format json`) of the same binary.
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Do not fail (exit 2) on a prediction mismatch in the merged reports.
    #[arg(long)]
    pub allow_mismatch: bool,
    /// Do not append the Markdown report to $GITHUB_STEP_SUMMARY.
    #[arg(long)]
    pub no_step_summary: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// ELF files or directories (walked recursively; symlinks are not followed).
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = InspectFormat::Human)]
    pub format: InspectFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InspectFormat {
    Human,
    Json,
}

pub fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "libccheck=info",
        _ => "libccheck=debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = std::env::var_os("NO_COLOR").is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .without_time()
        .try_init();
}

fn write_stdout(s: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        // A closed pipe (`| head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Some(Command::Inspect(a)) => inspect(a),
        Some(Command::Bases(a)) => list_bases(a),
        Some(Command::Audit(a)) => audit(a),
        Some(Command::Merge(a)) => merge(a),
        Some(Command::Clean(a)) => clean(a),
        Some(Command::CatalogEntry(a)) => catalog_entry(a),
        None => check(cli.check),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// A run id: the label value of this process's containers (`<pid>-<ms>`; `clean` and the tests
/// rely on the pid prefix).
fn new_run_id() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!("{}-{ms}", std::process::id())
}

/// Run `work` unless Ctrl-C or SIGTERM comes first; then remove this run's containers and give
/// the exit code to use.
async fn until_interrupted<T>(
    run_id: &str,
    work: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<Result<T, u8>> {
    tokio::select! {
        r = work => r.map(Ok),
        code = interrupted() => {
            // The work (and its connection) is dropped; a fresh connection removes what it made.
            let n = match BollardEngine::connect(REQUEST_TIMEOUT).await {
                Ok(engine) => check::cleanup_run(&engine, run_id).await.unwrap_or(0),
                Err(_) => 0,
            };
            eprintln!("libccheck: interrupted; removed {n} container(s)");
            Ok(Err(code))
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM, with the exit code a shell expects (130 / 143).
async fn interrupted() -> u8 {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = int.recv() => 130,
        _ = term.recv() => 143,
    }
}

/// Validate the check arguments, over the settings file, into a [`RunConfig`] before any
/// Docker I/O. Precedence: command line, then the file, then the defaults.
pub fn check_config(a: &CheckArgs, file: &crate::cli::config::Config) -> anyhow::Result<RunConfig> {
    let base_args: Vec<String> = if !a.bases.is_empty() {
        a.bases.clone()
    } else if let Some(b) = &file.bases {
        b.clone()
    } else {
        aliases::DEFAULT_MATRIX
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let bases = aliases::resolve_all(&base_args).map_err(anyhow::Error::msg)?;
    let require: Vec<String> = if !a.require.is_empty() {
        a.require.clone()
    } else {
        file.require.clone().unwrap_or_default()
    };
    let required = if require.is_empty() {
        bases.iter().map(|b| b.name.clone()).collect()
    } else {
        let req = aliases::resolve_all(&require).map_err(anyhow::Error::msg)?;
        for r in &req {
            if !bases.iter().any(|b| b.name == r.name) {
                anyhow::bail!("--require {}: not among the bases being checked", r.name);
            }
        }
        req.into_iter().map(|b| b.name).collect()
    };
    let with: Vec<String> = if !a.with.is_empty() {
        a.with.clone()
    } else {
        file.with.clone().unwrap_or_default()
    };
    let extra_files = with
        .iter()
        .map(|w| ExtraFile::parse(w))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    for x in &extra_files {
        if x.host.is_dir() {
            anyhow::bail!(
                "--with {}: is a directory; name each file to upload (e.g. --with {}/libfoo.so.1)",
                x.host.display(),
                x.host.display()
            );
        }
        if !x.host.is_file() {
            anyhow::bail!("--with {}: no such file", x.host.display());
        }
    }
    let sb = file.sandbox.clone().unwrap_or_default();
    let output_cap = a
        .output_limit
        .or(sb.output_limit.map(|n| n as u64))
        .unwrap_or(65536);
    if !OUTPUT_LIMITS.contains(&output_cap) {
        anyhow::bail!(
            "output_limit = {output_cap}: must be between {} and {} bytes",
            OUTPUT_LIMITS.start(),
            OUTPUT_LIMITS.end()
        );
    }
    let sandbox = Sandbox {
        network: a.allow_network || sb.network.unwrap_or(false),
        user: if a.as_root || sb.as_root.unwrap_or(false) {
            "0:0".into()
        } else {
            Sandbox::default().user
        },
        memory_bytes: (a.memory.or(sb.memory).unwrap_or(512) as i64) << 20,
        pids_limit: a.pids_limit.or(sb.pids_limit).unwrap_or(128) as i64,
        ..Sandbox::default()
    };
    let args: Vec<String> = if !a.args.is_empty() {
        a.args.clone()
    } else {
        file.args.clone().unwrap_or_default()
    };
    let exec = a.exec || file.exec.unwrap_or(false) || !args.is_empty();
    Ok(RunConfig {
        jobs: a
            .jobs
            .or(file.jobs)
            .map(|j| j as usize)
            .unwrap_or(bases.len()),
        bases,
        required,
        pull: a.pull.or(file.pull).unwrap_or_default(),
        timeout: std::time::Duration::from_secs(a.timeout.or(file.timeout).unwrap_or(30)),
        exec_args: exec.then_some(args),
        extra_files,
        sandbox,
        output_cap: output_cap as usize,
        progress: true,
        no_run: a.no_run,
    })
}

fn check(a: CheckArgs) -> anyhow::Result<ExitCode> {
    let binary = a.binary.clone().expect("clap requires BINARY");
    let (config_path, file) =
        crate::cli::config::load(a.config.as_deref()).map_err(anyhow::Error::msg)?;
    let cfg = check_config(&a, &file)?;
    let settings = report::run::Settings {
        config_file: config_path.map(|p| p.display().to_string()),
        timeout_secs: cfg.timeout.as_secs(),
        pull: serde_json::to_value(cfg.pull)?
            .as_str()
            .unwrap_or("")
            .to_string(),
        jobs: cfg.jobs,
        network: cfg.sandbox.network,
        user: cfg.sandbox.user.clone(),
        memory_mib: cfg.sandbox.memory_bytes >> 20,
        pids_limit: cfg.sandbox.pids_limit,
        output_limit: cfg.output_cap,
    };
    let allow_mismatch = a.allow_mismatch || file.allow_mismatch.unwrap_or(false);
    let step_summary = !a.no_step_summary && file.step_summary.unwrap_or(true);
    let (profile, exports) = read_binary(&binary)?;
    if !matches!(
        profile.kind,
        crate::elf::Kind::Executable
            | crate::elf::Kind::Pie
            | crate::elf::Kind::Static
            | crate::elf::Kind::StaticPie
            | crate::elf::Kind::SharedObject
    ) {
        anyhow::bail!(
            "{}: a {} cannot be loaded or run",
            binary.display(),
            profile.kind.describe()
        );
    }
    if cfg.exec_args.is_some() && !profile.kind.is_program() {
        anyhow::bail!(
            "{}: a shared object cannot be run; drop the exec arguments",
            binary.display()
        );
    }
    let plan = check::plan(&binary, &profile, &cfg).map_err(anyhow::Error::msg)?;
    if a.offline {
        let results = check::predict_offline(&plan, &profile, &exports, &cfg);
        return finish_report(
            "offline",
            "offline",
            &binary,
            &profile,
            &cfg,
            results,
            &a,
            allow_mismatch,
            step_summary,
            settings,
        );
    }
    let run_id = new_run_id();
    let rt = runtime()?;
    let results = rt.block_on(async {
        let progress = check::Progress::new(cfg.progress, cfg.bases.len());
        progress.line(&format!(
            "connecting to the Docker daemon at {}",
            crate::docker::docker_host()
        ));
        let engine = BollardEngine::connect(REQUEST_TIMEOUT).await?;
        let outcome = until_interrupted(&run_id, async {
            Ok(
                check::run_matrix(&engine, &plan, &profile, &exports, &cfg, &run_id, &progress)
                    .await,
            )
        })
        .await;
        progress.finish();
        outcome
    })?;
    let results = match results {
        Ok(r) => r,
        Err(code) => return Ok(ExitCode::from(code)),
    };
    let mode = if cfg.no_run { "no_run" } else { "run" };
    finish_report(
        &run_id,
        mode,
        &binary,
        &profile,
        &cfg,
        results,
        &a,
        allow_mismatch,
        step_summary,
        settings,
    )
}

/// The loader profile of the binary to check. It is mapped, not read: a large binary costs only
/// the pages the parser touches.
fn read_binary(
    binary: &std::path::Path,
) -> anyhow::Result<(crate::elf::BinaryProfile, crate::elf::ExportTable)> {
    let unreadable = |e: std::io::Error| {
        let run = crate::inspect::inspect_paths(&[binary.to_path_buf()]);
        run.errors
            .first()
            .map(|f| anyhow::anyhow!("{}: {}", f.path, f.error))
            .unwrap_or_else(|| anyhow::anyhow!("{}: {e}", binary.display()))
    };
    let f = std::fs::File::open(binary).map_err(unreadable)?;
    if f.metadata().map_err(unreadable)?.is_dir() {
        anyhow::bail!("{}: is a directory", binary.display());
    }
    // SAFETY: a read-only private map of a file we only read (see inspect).
    let map = unsafe { memmap2::Mmap::map(&f) }.map_err(unreadable)?;
    crate::elf::parse_for_loader(&map).map_err(|e| anyhow::anyhow!("{}: {e}", binary.display()))
}

#[allow(clippy::too_many_arguments)]
fn finish_report(
    run_id: &str,
    mode: &'static str,
    binary: &std::path::Path,
    profile: &crate::elf::BinaryProfile,
    cfg: &RunConfig,
    results: Vec<check::BaseResult>,
    a: &CheckArgs,
    allow_mismatch: bool,
    step_summary: bool,
    settings: report::run::Settings,
) -> anyhow::Result<ExitCode> {
    let mut report = report::run::Report::new(
        run_id,
        mode,
        &binary.display().to_string(),
        profile,
        cfg.exec_args.clone(),
        results,
        allow_mismatch,
    );
    report.settings = Some(settings);
    emit(&report, a.format, step_summary)?;
    Ok(ExitCode::from(report.exit_code))
}

/// Print the report in `format`; also append it as Markdown to $GITHUB_STEP_SUMMARY when set.
fn emit(report: &report::run::Report, format: Format, step_summary: bool) -> anyhow::Result<()> {
    let color = std::env::var_os("NO_COLOR").is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let text = match format {
        Format::Human => report::run::human(&report.printable(), color),
        Format::Json => report::run::json(report),
        Format::Junit => report::run::junit(report),
        Format::Markdown => report::run::markdown(&report.printable()),
        Format::Sarif => report::run::sarif(report),
    };
    write_stdout(&text)?;
    if step_summary
        && let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty())
    {
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        f.write_all(report::run::markdown(&report.printable()).as_bytes())?;
    }
    Ok(())
}

fn list_bases(a: BasesArgs) -> anyhow::Result<ExitCode> {
    if a.matrix {
        let (_, file) =
            crate::cli::config::load(a.config.as_deref()).map_err(anyhow::Error::msg)?;
        let names: Vec<String> = if !a.bases.is_empty() {
            a.bases.clone()
        } else {
            file.bases.clone().unwrap_or_else(|| {
                aliases::DEFAULT_MATRIX
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            })
        };
        let resolved = aliases::resolve_all(&names).map_err(anyhow::Error::msg)?;
        let list: Vec<String> = resolved.into_iter().map(|b| b.name).collect();
        write_stdout(&(serde_json::json!({ "base": list }).to_string() + "\n"))?;
        return Ok(ExitCode::from(exit::OK));
    }
    let catalog = crate::catalog::entries();
    let text = match a.format {
        InspectFormat::Json => {
            let entries: Vec<serde_json::Value> = catalog
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "name": e.name, "image": e.image, "os": e.os, "libc": e.libc, "libc_version": e.libc_version,
                        "loaders": e.loaders, "sonames": e.libraries.keys().collect::<Vec<_>>(), "source": e.source,
                    })
                })
                .collect();
            let v = serde_json::json!({
                "schema": "libccheck/bases/v1",
                "aliases": aliases::ALIASES,
                "default_matrix": aliases::DEFAULT_MATRIX,
                "catalog": entries,
            });
            serde_json::to_string_pretty(&v)? + "\n"
        }
        InspectFormat::Human => {
            let mut s = String::from(
                "ALIAS              IMAGE                                          CATALOG ENTRY (--offline)\n",
            );
            for al in aliases::ALIASES {
                let d = if aliases::DEFAULT_MATRIX.contains(&al.name) {
                    " (default)"
                } else {
                    ""
                };
                s.push_str(&format!(
                    "{:<18} {:<46} {}{d}\n",
                    al.name, al.image, al.catalog
                ));
            }
            s.push_str("\nAny other image reference works too: -b myregistry/myimage:tag\n\n");
            s.push_str("CATALOG (libccheck --offline -b NAME)\nNAME                        LIBC         SONAMES  IMAGE\n");
            for e in catalog {
                let libc = match (&e.libc_version, e.libc) {
                    (Some(v), l) => {
                        format!("{} {v}", serde_json::to_value(l)?.as_str().unwrap_or(""))
                    }
                    (None, _) => "none".into(),
                };
                s.push_str(&format!(
                    "{:<27} {:<12} {:>7}  {}\n",
                    e.name,
                    libc,
                    e.libraries.len(),
                    e.image
                ));
            }
            s.push_str("\nSources: `libccheck bases --format json` gives each entry's source.\n");
            s
        }
    };
    write_stdout(&text)?;
    Ok(ExitCode::from(exit::OK))
}

fn clean(a: CleanArgs) -> anyhow::Result<ExitCode> {
    let rt = runtime()?;
    let c = rt.block_on(async {
        let engine = BollardEngine::connect(REQUEST_TIMEOUT).await?;
        Ok::<_, anyhow::Error>(check::cleanup_leftovers(&engine, a.all).await?)
    })?;
    print!("removed {} container(s) left by libccheck runs", c.removed);
    if c.live > 0 {
        print!(
            "; {} belong to runs still going (--all removes them too)",
            c.live
        );
    }
    println!();
    Ok(ExitCode::from(exit::OK))
}

fn inspect(a: InspectArgs) -> anyhow::Result<ExitCode> {
    let run = crate::inspect::inspect_paths(&a.paths);
    for e in &run.errors {
        eprintln!("libccheck: {}: {}", e.path, e.error);
    }
    let text = match a.format {
        InspectFormat::Human => crate::text::printable(&report::inspect::human(&run)).into_owned(),
        InspectFormat::Json => report::inspect::json(&run),
    };
    write_stdout(&text)?;
    Ok(ExitCode::from(if run.errors.is_empty() {
        exit::OK
    } else {
        exit::ERROR
    }))
}

fn catalog_entry(a: CatalogEntryArgs) -> anyhow::Result<ExitCode> {
    let profile = match (&a.image, &a.dir) {
        (Some(image), _) => {
            let rt = runtime()?;
            rt.block_on(async {
                let engine = BollardEngine::connect(REQUEST_TIMEOUT).await?;
                let info = crate::docker::Engine::image_info(&engine, image)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("no local image {image}"))?;
                let run_id = format!("catalog-{}", std::process::id());
                crate::image::export::profile(&engine, image, &info.id, &run_id)
                    .await
                    .map_err(anyhow::Error::msg)
            })?
        }
        (None, Some(dir)) => {
            crate::image::read::profile_from_dir(dir, &format!("dir:{}", dir.display()))
        }
        (None, None) => anyhow::bail!("--image or --dir"),
    };
    let e = crate::catalog::Entry::from_profile(&a.name, &a.public, &profile, &a.source);
    write_stdout(&(serde_json::to_string(&e)? + "\n"))?;
    Ok(ExitCode::from(exit::OK))
}

fn audit(a: AuditArgs) -> anyhow::Result<ExitCode> {
    let targets = aliases::resolve_all(&a.to).map_err(anyhow::Error::msg)?;
    let cfg = crate::audit::verify::AuditConfig {
        targets,
        all: a.all,
        no_run: a.no_run,
        timeout: std::time::Duration::from_secs(a.timeout),
        sandbox: Sandbox::default(),
        pull: a.pull,
    };
    let run_id = new_run_id();
    if let Some(d) = &a.dir
        && !d.is_dir()
    {
        anyhow::bail!(
            "{}: not a directory (audit takes a root directory or --image)",
            d.display()
        );
    }
    // A directory is read while the runtime starts, Docker is reached and the targets are made
    // ready; its errors come first.
    let dir = a.dir.clone();
    let (sent, read_dir) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("read-source".into())
        .spawn(move || {
            let s = dir.map(|d| {
                let t = std::time::Instant::now();
                let s = crate::audit::source::source_from_dir(&d);
                tracing::debug!(
                    ms = t.elapsed().as_millis() as u64,
                    files = s.files.len(),
                    "read the source directory"
                );
                s
            });
            let _ = sent.send(s);
        })?;
    let rt = runtime()?;
    let outcome = rt.block_on(until_interrupted(&run_id, async {
        // The targets are made ready while the source is read (an image through the engine).
        let ready = async {
            let engine = BollardEngine::connect(REQUEST_TIMEOUT).await?;
            let image_source = async {
                match (&a.image, &a.dir) {
                    (Some(image), None) => {
                        Some(read_image_source(&engine, image, a.pull, &run_id).await)
                    }
                    _ => None,
                }
            };
            let (prepared, image_source) = tokio::join!(
                crate::audit::verify::prepare_targets(&engine, &cfg, &run_id),
                image_source
            );
            Ok::<_, anyhow::Error>((engine, prepared, image_source))
        };
        let (dir_source, ready) = tokio::join!(read_dir, ready);
        let dir_source =
            dir_source.map_err(|_| anyhow::anyhow!("reading the source directory failed"))?;
        if let (Some(s), Some(d)) = (&dir_source, &a.dir)
            && s.files.is_empty()
        {
            anyhow::bail!(
                "{}: no ELF files to audit ({} other files)",
                d.display(),
                s.non_elf
            );
        }
        let (engine, prepared, image_source) = ready?;
        let (source, origin, name, kind) = match (dir_source, image_source) {
            (Some(s), _) => {
                let d = a.dir.as_ref().unwrap();
                (
                    s,
                    crate::audit::verify::Origin::Dir(d.clone()),
                    d.display().to_string(),
                    "directory",
                )
            }
            (None, Some(read)) => {
                let (s, image) = read?;
                (
                    s,
                    crate::audit::verify::Origin::Image(image),
                    a.image.clone().unwrap_or_default(),
                    "image",
                )
            }
            (None, None) => anyhow::bail!("give a directory or --image"),
        };
        let targets = crate::audit::verify::audit_targets(
            &engine, &source, &origin, &cfg, &prepared, &run_id,
        )
        .await;
        let report = report::audit::AuditReport::new(
            report::audit::SourceSummary::new(&name, kind, &source, a.all),
            targets,
            a.allow_mismatch,
        );
        // The process ends after the report: freeing every file's and every target's profile
        // (hundreds of thousands of small strings) would cost more than the predictions did.
        std::mem::forget(source);
        std::mem::forget(prepared);
        Ok::<_, anyhow::Error>(report)
    }))?;
    let report = match outcome {
        Ok(r) => r,
        Err(code) => return Ok(ExitCode::from(code)),
    };
    let text = match a.format {
        AuditFormat::Human => crate::text::printable(&report::audit::human(&report)).into_owned(),
        AuditFormat::Json => report::audit::json(&report),
        AuditFormat::Markdown => {
            crate::text::printable(&report::audit::markdown(&report)).into_owned()
        }
    };
    write_stdout(&text)?;
    let code = report.exit_code;
    std::mem::forget(report); // as above: the process ends here
    Ok(ExitCode::from(code))
}

/// The source of an image audit: the image resolved (pulled if the policy says so), checked to
/// be amd64, and its filesystem read through the engine. Also the image reference used.
async fn read_image_source(
    engine: &BollardEngine,
    image: &str,
    pull: check::PullPolicy,
    run_id: &str,
) -> anyhow::Result<(crate::audit::Source, String)> {
    let progress = check::Progress::new(true, 1);
    let base = aliases::resolve(image).map_err(anyhow::Error::msg)?;
    let info = check::ensure_images(engine, std::slice::from_ref(&base), pull, &progress).await;
    progress.finish();
    let info = info
        .get(&base.image)
        .cloned()
        .unwrap_or_else(|| Err("image was not resolved".into()))
        .map_err(anyhow::Error::msg)?;
    if info.arch != "amd64" && !info.arch.is_empty() {
        anyhow::bail!(
            "{image} is an image for {}/{}; libccheck audits amd64 images",
            info.os,
            info.arch
        );
    }
    let s = crate::image::export::with_image_tar(
        engine,
        &base.image,
        run_id,
        crate::audit::source::source_from_tar,
    )
    .await
    .map_err(anyhow::Error::msg)?;
    if s.files.is_empty() {
        anyhow::bail!("{image}: no ELF files to audit");
    }
    Ok((s, base.image))
}

fn merge(a: MergeArgs) -> anyhow::Result<ExitCode> {
    let mut parts: Vec<report::run::Report> = Vec::new();
    for p in &a.reports {
        let text = std::fs::read_to_string(p)
            .map_err(|e| anyhow::anyhow!("{}: {}", p.display(), crate::text::io_message(&e)))?;
        let r: report::run::Report = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{}: not a libccheck JSON report ({e})", p.display()))?;
        if r.schema != report::run::SCHEMA {
            anyhow::bail!(
                "{}: schema {} is not {}",
                p.display(),
                r.schema,
                report::run::SCHEMA
            );
        }
        if let Some(first) = parts.first()
            && first.binary.path != r.binary.path
        {
            anyhow::bail!(
                "{}: a report about {}, not {}",
                p.display(),
                r.binary.path,
                first.binary.path
            );
        }
        parts.push(r);
    }
    let first = parts[0].clone();
    let mode = if parts.iter().all(|r| r.mode == first.mode) {
        first.mode.clone()
    } else {
        "run".to_string()
    };
    let mut bases: Vec<check::BaseResult> = Vec::new();
    for (r, p) in parts.into_iter().zip(&a.reports) {
        for b in r.bases {
            if bases.iter().any(|x| x.base == b.base) {
                anyhow::bail!(
                    "{}: base {} is already in an earlier report",
                    p.display(),
                    b.base
                );
            }
            bases.push(b);
        }
    }
    let mut merged = report::run::Report::from_parts(
        "merged",
        &mode,
        first.binary,
        first.exec_args,
        bases,
        a.allow_mismatch,
    );
    merged.settings = first.settings;
    emit(&merged, a.format, !a.no_step_summary)?;
    Ok(ExitCode::from(merged.exit_code))
}
