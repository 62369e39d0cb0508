//! The command-line arguments (clap), shared exit codes and argument limits.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::check::PullPolicy;
use crate::report::Format;
use crate::term::ColorChoice;

/// What `--output-limit` accepts: the probe's own facts (os-release, the libc's version banner)
/// need about a kilobyte, and the probe holds two buffers of this size per job in the container's
/// memory.
pub(crate) const OUTPUT_LIMITS: std::ops::RangeInclusive<u64> = 1024..=(16 << 20);

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
    about = "On which base images will this Linux binary run — and if not, why?",
    long_about = "libccheck reads a binary's ELF facts (interpreter, needed libraries, symbol versions), \
predicts from each base image's own files what its dynamic loader will do, then runs it inside each \
base through the Docker Engine API (Docker, or Podman's service: DOCKER_HOST, else Docker's socket, \
else /run/podman/podman.sock or $XDG_RUNTIME_DIR/podman/podman.sock), sandboxed, and tells you per base: ok, no_interpreter, \
missing_library, missing_version, missing_symbol, wrong_arch, cpu_unsupported, crash, timeout, \
exit_nonzero — with the evidence \
and a fix hint. A run that refutes the prediction is flagged as a prediction mismatch.\n\n\
Given a package — a Python wheel, a jar/war/ear or a directory — it checks every ELF file inside, \
placed as pip or the JVM would place it, and a wheel's platform tag.\n\n\
Settings can live in ./libccheck.toml (see README); flags override it.\n\n\
Exit codes: 0 every required base works; 1 some required base fails; 2 usage, input, Docker or \
internal error, or a prediction mismatch (unless --allow-mismatch); 130/143 after Ctrl-C/SIGTERM.",
    version = crate::cli::VERSION,
    long_version = crate::cli::LONG_VERSION,
    subcommand_precedence_over_arg = true,
    subcommand_negates_reqs = true,
    override_usage = "libccheck [OPTIONS] <BINARY> [-- <ARGS>...]\n       libccheck [OPTIONS] <COMMAND>",
    after_help = "Examples:\n  libccheck ./myapp                        load-check ./myapp on the default bases\n  libccheck ./dist/mypkg-1.0-cp311-cp311-manylinux_2_17_x86_64.whl   every module of a wheel, and its tag\n  libccheck -b alpine,debian12-slim ./myapp -- --version   also run it with --version\n  libccheck inspect ./myapp                what it needs, without Docker\n  libccheck bases                          the aliases"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub check: CheckArgs,

    /// More log output on stderr (-v info: which image, which step, how long; -vv debug);
    /// RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// No progress display and no informational lines on stderr (errors and warnings remain).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// When to paint output: auto paints on a terminal unless NO_COLOR is set (CLICOLOR_FORCE=1
    /// paints into a pipe too).
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,

    /// A registry (HOST[:PORT]) that `registry:`/`docker://` images are read from over plain
    /// HTTP instead of HTTPS; repeatable (libccheck.toml: insecure_registries = [...]).
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]", global = true)]
    pub insecure_registries: Vec<String>,
}

impl Cli {
    /// Parse the process's arguments, or exit with clap's usage error. A check's binary or
    /// options given along with a subcommand (`libccheck hello inspect`) are an error, not
    /// silently dropped.
    pub fn parse_checked() -> Cli {
        use clap::{CommandFactory, FromArgMatches};
        let mut cmd = Cli::command();
        let matches = cmd.get_matches_mut();
        if let Some(why) = check_args_beside_a_subcommand(&cmd, &matches) {
            cmd.error(clap::error::ErrorKind::ArgumentConflict, why)
                .exit();
        }
        Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

/// Why the command line mixes the check's own arguments (a binary, `-b`, ...) with a
/// subcommand, which would otherwise ignore them; `None` when it does not.
fn check_args_beside_a_subcommand(cmd: &clap::Command, m: &clap::ArgMatches) -> Option<String> {
    let sub = m.subcommand_name()?;
    let given = cmd.get_arguments().find(|a| {
        !a.is_global_set()
            && m.value_source(a.get_id().as_str()) == Some(clap::parser::ValueSource::CommandLine)
    })?;
    Some(match given.get_long() {
        Some(long) => format!(
            "--{long} before the subcommand `{sub}` is an option of the check (libccheck [OPTIONS] <BINARY>); a subcommand's options come after it (libccheck {sub} [OPTIONS])"
        ),
        None => {
            let value = m
                .get_raw(given.get_id().as_str())
                .and_then(|mut v| v.next())
                .map(|v| v.to_string_lossy().into_owned())
                .unwrap_or_default();
            format!(
                "'{value}' comes before the subcommand `{sub}`: check a binary (libccheck [OPTIONS] <BINARY>) or run a subcommand (libccheck {sub} ...), not both"
            )
        }
    })
}

/// `libccheck [OPTIONS] <BINARY> [-- <ARGS>...]`: check one binary (or a package) across bases.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The binary (or shared object) to check. It is uploaded into each base; never run on the host.
    /// Or a package: a Python wheel (.whl), a jar/war/ear, or a directory (e.g. a virtualenv's
    /// site-packages): every ELF file inside is checked, with its bundled libraries placed as pip
    /// or the JVM would place them; one line per base, detail per file; a wheel's platform tag is
    /// checked against what its files need and against each base.
    #[arg(value_name = "BINARY", required = true)]
    pub binary: Option<PathBuf>,

    /// Arguments for the exec probe: when given, the binary is also run with them in each base.
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,

    /// Base alias (see `libccheck bases`) or image: a reference (the Docker daemon's), or
    /// registry:REF (docker://REF), docker-archive:PATH, oci:PATH, oci-archive:PATH (read without
    /// a daemon); repeat or comma-separate.
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

    /// Also write the report in FORMAT to PATH, from the same run (repeatable:
    /// `--report junit=out.xml --report sarif=out.sarif --report json=report.json`); --format
    /// still sets standard output's. FORMAT is one of --format's.
    #[arg(long = "report", value_name = "FORMAT=PATH")]
    pub reports: Vec<crate::report::ReportSpec>,

    /// The platform to check on: linux/amd64, linux/arm64 or linux/386 [default: the binary's
    /// own]. Each base's image must be for that platform (arm64 images run under qemu-user on
    /// amd64 hosts; libccheck says how to enable it when the daemon cannot).
    #[arg(long, value_name = "PLATFORM", value_parser = parse_platform)]
    pub platform: Option<&'static crate::elf::arch::Arch>,

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

    /// Fail (exit 1) when a required base carries a run-time risk of severity warning (no CA
    /// bundle, no tzdata, musl's small thread stacks, ...); by default risks are only reported.
    #[arg(long)]
    pub fail_on_risk: bool,

    /// Fail (exit 2) when a base's image cannot be had (pull failed, or absent with --pull
    /// never), instead of exiting on the offline catalog's prediction for it.
    #[arg(long, conflicts_with = "offline")]
    pub require_run: bool,

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

    /// List every checked base by image size, smallest first, and whether the program works
    /// there (verdict ok and no run-time risk of severity warning). Sizes are uncompressed: the
    /// local images' as Docker reports them, or with --offline the catalog's (their sources:
    /// `libccheck bases --format json`). Without it the report still names the smallest base
    /// that works.
    #[arg(long)]
    pub suggest: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the ELF facts of files: interpreter, needed libraries, symbol versions and the symbols
    /// that force them, libc flavour. Directories are walked. Nothing is executed.
    Inspect(InspectArgs),
    /// Audit every ELF file of an image or a root directory against the bases you want to move
    /// to: which break, why, grouped by cause, predicted and then verified in one container per target.
    Audit(AuditArgs),
    /// Will this built image start? Reads the image's configuration (Entrypoint, Cmd, PATH, User,
    /// WorkingDir) and files, never starting it first: resolves what its container runs (PATH,
    /// symlinks, shell form, shebang interpreters), checks that program and every application ELF
    /// file against the image itself, and verifies them in one container. Exit 0: it starts;
    /// 1: it will not; 2: errors or nothing to start.
    Image(ImageArgs),
    /// List the base aliases and the offline catalog; with --matrix, the configured bases as JSON
    /// for a GitHub Actions strategy.matrix.
    Bases(BasesArgs),
    /// Merge JSON reports (e.g. one per base from a CI matrix) into one report, in any format.
    Merge(MergeArgs),
    /// (For scripts/gen-catalog.sh) print the catalog entry of an image or a root directory.
    #[command(hide = true)]
    CatalogEntry(CatalogEntryArgs),
    /// Remove containers left behind by libccheck runs that were killed (label org.libccheck.run),
    /// and the temporary directories of files they mounted. Containers of runs still going on
    /// this host are spared unless --all.
    Clean(CleanArgs),
    /// Print a shell completion script (e.g. `libccheck completions bash >
    /// /etc/bash_completion.d/libccheck`, or `source <(libccheck completions zsh)`).
    Completions(CompletionsArgs),
    /// Print the man page (roff), e.g. `libccheck man > /usr/local/share/man/man1/libccheck.1`.
    #[command(hide = true)]
    Man,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["dir", "image", "images_from"])))]
pub struct AuditArgs {
    /// A root directory to audit (an unpacked image, a build output).
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// An image to audit (never started): a reference (read through the Engine API), or
    /// registry:REF, docker-archive:PATH, oci:PATH, oci-archive:PATH (read without a daemon).
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    /// A fleet: audit every image this file names (one per line; `#` comments), two at a time,
    /// each report written to --out DIR as JSON; images whose report exists are skipped (so an
    /// interrupted or sharded run resumes). Needs --no-run.
    #[arg(long, value_name = "FILE", requires = "out")]
    pub images_from: Option<PathBuf>,
    /// The directory of a fleet audit's reports (one JSON document per image).
    #[arg(long, value_name = "DIR", requires = "images_from")]
    pub out: Option<PathBuf>,
    /// Target base(s): alias or image (a reference, registry:REF, docker-archive:PATH, oci:PATH,
    /// oci-archive:PATH); repeat or comma-separate.
    #[arg(long = "to", value_name = "BASE", required = true)]
    pub to: Vec<String>,
    /// Audit every ELF file, not only the application's own (those no package manager installed).
    /// Packaged files are checked against the target's libraries, never their source's.
    #[arg(long)]
    pub all: bool,
    /// Name every broken file of a group in the human and Markdown reports (by default at most
    /// 10 per group; the JSON always has them all).
    #[arg(long)]
    pub all_files: bool,
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

#[derive(Debug, Args)]
pub struct ImageArgs {
    /// The image: a reference (the daemon's, pulled per --pull), or registry:REF,
    /// docker-archive:PATH, oci:PATH, oci-archive:PATH (read without a daemon; not verified).
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// Also start the entrypoint itself (sandboxed as usual: no network, no capabilities, not
    /// root, limited); the arguments after `--` replace the image's Cmd (e.g. `-- --version`).
    #[arg(long)]
    pub exec: bool,
    /// Arguments for --exec, after `--`.
    #[arg(last = true, value_name = "ARGS", requires = "exec")]
    pub args: Vec<String>,
    /// Predict only; start no verifying container.
    #[arg(long)]
    pub no_run: bool,
    /// More bases to weigh as smaller alternatives (alias or image reference; repeat or
    /// comma-separate), beside the offline catalog's.
    #[arg(long = "to", value_name = "BASE", value_delimiter = ',')]
    pub to: Vec<String>,
    /// List every alternative base by image size, with whether the application would run there.
    #[arg(long)]
    pub suggest: bool,
    /// Do not fail (exit 2) when verification disagrees with a prediction.
    #[arg(long)]
    pub allow_mismatch: bool,
    /// Seconds per file for the loader check (and for --exec).
    #[arg(long, default_value_t = 20, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
    /// When to pull the image.
    #[arg(long, value_enum, default_value_t = PullPolicy::Missing)]
    pub pull: PullPolicy,
    /// Output format (JSON: `libccheck/image/v1`).
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
    /// The image to describe (read through the Engine API).
    #[arg(long, conflicts_with = "dir", required_unless_present = "dir")]
    pub image: Option<String>,
    /// A root directory to describe instead.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// The entry's name (its alias).
    #[arg(long)]
    pub name: String,
    /// The public image the entry describes.
    #[arg(long)]
    pub public: String,
    /// Where the entry's facts come from (how the image was obtained).
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
    /// Output format (JSON: `libccheck/bases/v1`, every alias and catalog entry with its facts).
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
    /// Output format of the merged report.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Also write the report in FORMAT to PATH, from the same run (repeatable:
    /// `--report junit=out.xml --report sarif=out.sarif --report json=report.json`); --format
    /// still sets standard output's. FORMAT is one of --format's.
    #[arg(long = "report", value_name = "FORMAT=PATH")]
    pub report_files: Vec<crate::report::ReportSpec>,
    /// Do not fail (exit 2) on a prediction mismatch in the merged reports.
    #[arg(long)]
    pub allow_mismatch: bool,
    /// Fail (exit 1) when a required base carries a run-time risk of severity warning.
    #[arg(long)]
    pub fail_on_risk: bool,
    /// Do not append the Markdown report to $GITHUB_STEP_SUMMARY.
    #[arg(long)]
    pub no_step_summary: bool,
    /// List every base of the merged reports by image size, smallest first.
    #[arg(long)]
    pub suggest: bool,
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

/// `--platform`: one libccheck has a probe and loader names for.
fn parse_platform(s: &str) -> Result<&'static crate::elf::arch::Arch, String> {
    crate::elf::arch::of_platform(s).ok_or_else(|| {
        format!("unknown platform {s:?}: one of linux/amd64, linux/arm64, linux/386")
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    /// Every option and positional of every subcommand, hidden ones too, says what it is for.
    #[test]
    fn every_argument_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                if arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{path} {}", arg.get_id()));
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "libccheck", &mut missing);
        assert_eq!(missing, Vec::<String>::new());
    }

    fn mixed(args: &[&str]) -> Option<String> {
        let cmd = Cli::command();
        let m = cmd.clone().try_get_matches_from(args).unwrap();
        check_args_beside_a_subcommand(&cmd, &m)
    }

    #[test]
    fn a_check_argument_beside_a_subcommand_is_named() {
        assert_eq!(
            mixed(&["libccheck", "hello", "inspect", "x"]).unwrap(),
            "'hello' comes before the subcommand `inspect`: check a binary (libccheck [OPTIONS] <BINARY>) or run a subcommand (libccheck inspect ...), not both"
        );
        assert!(
            mixed(&["libccheck", "-b", "alpine", "bases"])
                .unwrap()
                .starts_with("--base before the subcommand `bases` is an option of the check")
        );
        assert_eq!(
            mixed(&["libccheck", "-v", "--color", "never", "inspect", "x"]),
            None
        );
        assert_eq!(mixed(&["libccheck", "-q", "inspect", "-q", "x"]), None);
        assert_eq!(mixed(&["libccheck", "-b", "alpine", "hello"]), None);
    }

    #[test]
    fn the_definitions_are_consistent() {
        Cli::command().debug_assert();
    }
}
