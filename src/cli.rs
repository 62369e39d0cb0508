//! The command line: argument definitions, validation, and dispatch to the subcommands.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::report::{self, Format};

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
runs it inside each base image through the Docker Engine API, sandboxed, and tells you per base: \
ok, no_interpreter, missing_library, missing_version, missing_symbol, crash, timeout.\n\n\
Exit codes: 0 every required base works; 1 some required base fails; 2 usage, input, Docker or internal error.",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// More log output on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the ELF facts of files: interpreter, needed libraries, symbol versions and the symbols
    /// that force them, libc flavour. Directories are walked. Nothing is executed.
    Inspect(InspectArgs),
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
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).without_time().try_init();
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
        None => anyhow::bail!("no command given; try `libccheck --help`"),
    }
}

fn inspect(a: InspectArgs) -> anyhow::Result<ExitCode> {
    let run = crate::inspect::inspect_paths(&a.paths);
    for e in &run.errors {
        eprintln!("libccheck: {}: {}", e.path, e.error);
    }
    let text = match a.format {
        InspectFormat::Human => report::inspect::human(&run),
        InspectFormat::Json => report::inspect::json(&run),
    };
    write_stdout(&text)?;
    let _ = Format::Human;
    Ok(ExitCode::from(if run.errors.is_empty() { exit::OK } else { exit::ERROR }))
}
