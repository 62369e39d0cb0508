//! `libccheck [OPTIONS] <BINARY>`: the arguments checked into a run configuration, the run or
//! prediction across bases, and its report.

use std::process::ExitCode;

use super::*;

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
    // Catalog names stand for their public images here too (and `--offline` finds their entries).
    let names = file.names();
    let bases = aliases::resolve_all_in(&base_args, &names).map_err(anyhow::Error::msg)?;
    let require: Vec<String> = if !a.require.is_empty() {
        a.require.clone()
    } else {
        file.require.clone().unwrap_or_default()
    };
    let required = if require.is_empty() {
        bases.iter().map(|b| b.name.clone()).collect()
    } else {
        let req = aliases::resolve_all_in(&require, &names).map_err(anyhow::Error::msg)?;
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
        platform: a.platform,
    })
}

pub(super) fn check(a: CheckArgs) -> anyhow::Result<ExitCode> {
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
    let gate = report::run::Gate {
        allow_mismatch: a.allow_mismatch || file.allow_mismatch.unwrap_or(false),
        fail_on_risk: a.fail_on_risk || file.fail_on_risk.unwrap_or(false),
        require_run: a.require_run || file.require_run.unwrap_or(false),
    };
    let step_summary = !a.no_step_summary && file.step_summary.unwrap_or(true);
    let reports = report_files(&a.reports, &file)?;
    let (profile, exports, needs) = read_binary(&binary)?;
    let program = crate::check::Program::new(&profile, &exports, &needs);
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
    let plan = crate::check::plan(&binary, &profile, &cfg)?;
    if a.offline && crate::catalog::entries_on(plan.platform.docker).is_empty() {
        anyhow::bail!(
            "--offline --platform {}: the offline catalog has no {} entries (it describes linux/amd64 and linux/arm64 images); check them through Docker (drop --offline)",
            plan.platform.platform(),
            plan.platform.platform()
        );
    }
    let (run_id, mode, results) = if a.offline {
        let results = crate::check::predict_offline(&plan, program, &cfg);
        ("offline".to_string(), "offline", results)
    } else {
        let run_id = new_run_id();
        let results = match run_across_bases(&plan, program, &cfg, &run_id)? {
            Ok(r) => r,
            Err(code) => return Ok(ExitCode::from(code)),
        };
        let mode = if cfg.no_run { "no_run" } else { "run" };
        (run_id, mode, results)
    };
    finish_report(
        &run_id,
        mode,
        &binary,
        &profile,
        &cfg,
        results,
        &a,
        gate,
        Outputs {
            step_summary,
            reports,
        },
        settings,
    )
}

/// The run matrix (or the predictions of `--no-run`) through the Docker daemon, until done or
/// interrupted (then the exit code a shell expects).
fn run_across_bases(
    plan: &crate::check::Plan,
    program: crate::check::Program<'_>,
    cfg: &RunConfig,
    run_id: &str,
) -> anyhow::Result<Result<Vec<crate::report::run::BaseResult>, u8>> {
    let rt = runtime()?;
    rt.block_on(async {
        let progress = crate::check::Progress::new(cfg.progress, cfg.bases.len());
        progress.line(&format!(
            "connecting to the Docker daemon at {}",
            crate::docker::docker_host()
        ));
        let images: Vec<&str> = cfg.bases.iter().map(|b| b.image.as_str()).collect();
        let engine = connect_for(&images).await?;
        let outcome = until_interrupted(run_id, async {
            Ok(crate::check::run_matrix(&engine, plan, program, cfg, run_id, &progress).await)
        })
        .await;
        progress.finish();
        outcome
    })
}

/// What a check needs of its binary (see [`read_binary`]).
type BinaryFacts = (
    crate::elf::BinaryProfile,
    crate::elf::ExportTable,
    crate::elf::needs::RuntimeNeeds,
);

/// The loader profile of the binary to check and its run-time needs. It is mapped, not read: a
/// large binary costs only the pages the parser and the bounded string scan touch.
fn read_binary(binary: &std::path::Path) -> anyhow::Result<BinaryFacts> {
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
    let map = crate::files::map(&f).map_err(unreadable)?;
    let (profile, exports) = crate::elf::parse_for_loader(&map)
        .map_err(|e| anyhow::anyhow!("{}: {e}", binary.display()))?;
    let needs = crate::elf::needs::runtime_needs(&map, &profile);
    Ok((profile, exports, needs))
}

#[allow(clippy::too_many_arguments)]
fn finish_report(
    run_id: &str,
    mode: &'static str,
    binary: &std::path::Path,
    profile: &crate::elf::BinaryProfile,
    cfg: &RunConfig,
    results: Vec<crate::report::run::BaseResult>,
    a: &CheckArgs,
    gate: report::run::Gate,
    outputs: Outputs,
    settings: report::run::Settings,
) -> anyhow::Result<ExitCode> {
    let mut report = report::run::Report::new(
        run_id,
        mode,
        &binary.display().to_string(),
        profile,
        cfg.exec_args.clone(),
        results,
        gate,
    );
    report.settings = Some(settings);
    if a.suggest {
        report = report.with_ranking();
    }
    emit(&report, a.format, &outputs)?;
    Ok(ExitCode::from(report.exit_code))
}

/// Where a report goes besides standard output.
pub(super) struct Outputs {
    /// Append the Markdown report to $GITHUB_STEP_SUMMARY (when set).
    pub step_summary: bool,
    /// `--report FORMAT=PATH` (else libccheck.toml's `[reports]`), checked writable.
    pub reports: Vec<report::ReportSpec>,
}

/// The report files of a run (the command line's, else the settings file's), checked before the
/// run: a run of minutes should not end on a directory that does not exist.
pub(super) fn report_files(
    flags: &[report::ReportSpec],
    file: &crate::cli::config::Config,
) -> anyhow::Result<Vec<report::ReportSpec>> {
    let specs = if flags.is_empty() {
        file.report_specs().map_err(anyhow::Error::msg)?
    } else {
        flags.to_vec()
    };
    report::check_distinct(&specs).map_err(anyhow::Error::msg)?;
    for s in &specs {
        let dir = match s.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => std::path::Path::new("."),
        };
        if s.path.is_dir() {
            anyhow::bail!("--report {}: is a directory", s.path.display());
        }
        if !dir.is_dir() {
            anyhow::bail!(
                "--report {}: no directory {}",
                s.path.display(),
                dir.display()
            );
        }
    }
    Ok(specs)
}

/// Write each `--report` file (never painted).
fn write_reports(report: &report::run::Report, specs: &[report::ReportSpec]) -> anyhow::Result<()> {
    for s in specs {
        let text = report::run::renderer(s.format, false, None).render(report);
        std::fs::write(&s.path, text).map_err(|e| {
            anyhow::anyhow!(
                "--report {}: cannot write it: {}",
                s.path.display(),
                crate::text::io_message(&e).to_lowercase()
            )
        })?;
    }
    Ok(())
}

/// Print the report in `format`; also append it as Markdown to $GITHUB_STEP_SUMMARY when set.
pub(super) fn emit(
    report: &report::run::Report,
    format: Format,
    outputs: &Outputs,
) -> anyhow::Result<()> {
    write_reports(report, &outputs.reports)?;
    let color = crate::term::color_stdout();
    let text = report::run::renderer(format, color, table_width()).render(report);
    write_stdout(&text)?;
    if outputs.step_summary {
        append_step_summary(|| {
            report::run::renderer(Format::Markdown, false, None).render(report)
        })?;
    }
    Ok(())
}

/// The columns the human table must fit: `COLUMNS` when set, else the terminal's; piped output
/// keeps every row on one line (for grep and diff).
fn table_width() -> Option<u16> {
    if let Some(w) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<u16>().ok())
        .filter(|w| *w >= 20)
    {
        return Some(w);
    }
    let stdout = std::io::stdout();
    if !std::io::IsTerminal::is_terminal(&stdout) {
        return None;
    }
    terminal_size::terminal_size_of(&stdout).map(|(w, _)| w.0)
}
