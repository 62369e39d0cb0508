//! The command line: dispatch to one file per subcommand (the arguments are in `args`), the
//! async runtime, Ctrl-C handling and logging.

mod args;
mod audit;
mod bases;
mod check;
mod clean;
pub mod config;
mod fleet;
mod image;
mod inspect;
mod merge;
mod package;

pub use args::*;
pub use check::check_config;

use std::io::Write;
use std::process::ExitCode;

use crate::check::{ExtraFile, RunConfig};
use crate::docker::absent::AnyEngine;
use crate::docker::{BollardEngine, Sandbox};
use crate::image::aliases;
use crate::report::{self, Format};

/// The time the Docker daemon has to answer one request (uploads get more, by size).
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// `--version`: the package version and the commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("LIBCCHECK_COMMIT"),
    ")"
);

/// `--version` in full: also the probe that is injected into containers.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "\ncommit: ",
    env!("LIBCCHECK_COMMIT"),
    "\nprobe: ",
    env!("LIBCCHECK_PROBE_VERSION")
);

/// The process's terminal conventions (colour, quiet) and its log: warnings by default, info
/// with -v, debug with -vv; RUST_LOG overrides.
pub fn init_output(cli: &Cli) {
    crate::term::init(cli.color, cli.quiet);
    init_tracing(cli.verbose);
}

pub fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "libccheck=info",
        _ => "libccheck=debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = crate::term::color_stderr();
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

/// Append the Markdown report to the file $GITHUB_STEP_SUMMARY names, when it is set (rendered
/// only then).
fn append_step_summary(markdown: impl FnOnce() -> String) -> anyhow::Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    f.write_all(markdown().as_bytes())?;
    Ok(())
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // The file's broken keys are the check's to report; here only its insecure registries count.
    let mut insecure = cli.insecure_registries.clone();
    if let Ok((_, file)) = config::load(None) {
        insecure.extend(file.insecure_registries.unwrap_or_default());
    }
    crate::image::registry::set_insecure(insecure);
    match cli.command {
        Some(Command::Inspect(a)) => inspect::inspect(a),
        Some(Command::Bases(a)) => bases::list_bases(a),
        Some(Command::Audit(a)) if a.images_from.is_some() => fleet::fleet(a),
        Some(Command::Audit(a)) => audit::audit(a),
        Some(Command::Image(a)) => image::image(a),
        Some(Command::Merge(a)) => merge::merge(a),
        Some(Command::Clean(a)) => clean::clean(a),
        Some(Command::CatalogEntry(a)) => inspect::catalog_entry(a),
        Some(Command::Completions(a)) => completions(a.shell),
        Some(Command::Man) => man_page(),
        None => match cli.check.binary.as_deref().and_then(package::package_kind) {
            Some(kind) => package::check_package(&cli.check, kind),
            None => check::check(cli.check),
        },
    }
}

/// `libccheck completions SHELL`: the script, generated from the same definitions as the parser.
fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    use clap::CommandFactory;
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "libccheck", &mut out);
    write_stdout(&String::from_utf8_lossy(&out))?;
    Ok(ExitCode::SUCCESS)
}

/// `libccheck man`: the man page, rendered by clap_mangen from the same definitions as the
/// parser (so it cannot drift from `--help`).
fn man_page() -> anyhow::Result<ExitCode> {
    use clap::CommandFactory;
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    write_stdout(&String::from_utf8_lossy(&out))?;
    Ok(ExitCode::SUCCESS)
}

/// One image resolved and made present (pulled as `pull` allows), with what the daemon says
/// of it. The image under audit or check: no catalog stands in for it.
async fn present_image(
    engine: &AnyEngine,
    image: &str,
    pull: crate::check::PullPolicy,
    progress: &crate::check::Progress,
) -> anyhow::Result<(aliases::Base, crate::docker::ImageInfo)> {
    let base = aliases::resolve(image).map_err(anyhow::Error::msg)?;
    let mut infos =
        crate::check::ensure_images_online(engine, std::slice::from_ref(&base), pull, progress)
            .await;
    let info = infos
        .remove(&base.image)
        .unwrap_or_else(|| Err("image was not resolved".into()))
        .map_err(anyhow::Error::msg)?;
    Ok((base, info))
}

/// The Docker daemon; or, when it does not answer and every image named is read without one
/// (`registry:`, `docker-archive:`, `oci:`, …), no engine: predictions go on, runs cannot.
async fn connect_for(images: &[&str]) -> anyhow::Result<AnyEngine> {
    match BollardEngine::connect(REQUEST_TIMEOUT).await {
        Ok(e) => Ok(AnyEngine::Docker(e)),
        Err(e)
            if images
                .iter()
                .all(|i| crate::image::source::is_daemonless(i)) =>
        {
            tracing::info!("no container engine ({e:#}); reading every image from its files");
            Ok(AnyEngine::None(crate::docker::absent::NoEngine::new(&e)))
        }
        Err(e) => Err(e.into()),
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
                Ok(engine) => crate::check::cleanup_run(&engine, run_id).await.unwrap_or(0),
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
