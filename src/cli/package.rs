//! `libccheck [OPTIONS] <PACKAGE>`: a wheel, a jar (war, ear) or a directory checked across the
//! bases of a check: every ELF file inside, placed as an installer would place it, predicted from
//! each base's files and verified in one container per base (the audit's machinery).

use std::process::ExitCode;

use super::*;
use crate::audit::verify::{AuditConfig, Prepared};
use crate::package::read::Package;
use crate::package::{BaseResult, PackageKind};

/// The package kind of a check's subject, if it is one: a directory, or a file named `.whl`,
/// `.jar`, `.war` or `.ear` (whose zip magic [`read`](crate::package::read::read) then checks).
pub fn package_kind(subject: &std::path::Path) -> Option<PackageKind> {
    if subject.is_dir() {
        return Some(PackageKind::Directory);
    }
    PackageKind::of_extension(subject)
}

/// Options of a binary's check that mean nothing for a package, refused before any I/O.
fn refuse_binary_options(a: &CheckArgs) -> anyhow::Result<()> {
    if a.exec || !a.args.is_empty() {
        anyhow::bail!("a package is not run: drop --exec and the exec-probe arguments");
    }
    if !a.with.is_empty() {
        anyhow::bail!(
            "--with does not apply to a package: its files are placed as an installer would place them"
        );
    }
    if !a.reports.is_empty() {
        anyhow::bail!(
            "--report writes a binary's check report; a package's report goes to standard output only (yet)"
        );
    }
    if a.suggest {
        anyhow::bail!(
            "--suggest ranks the bases of a binary's check; a package's report does not rank them (yet)"
        );
    }
    if matches!(a.format, Format::Junit | Format::Sarif) {
        anyhow::bail!(
            "--format {}: a package's report is human, json or markdown",
            if a.format == Format::Junit {
                "junit"
            } else {
                "sarif"
            }
        );
    }
    Ok(())
}

pub(super) fn check_package(a: &CheckArgs, kind: PackageKind) -> anyhow::Result<ExitCode> {
    refuse_binary_options(a)?;
    let subject = a.binary.clone().expect("clap requires the subject");
    let (_, file) = crate::cli::config::load(a.config.as_deref()).map_err(anyhow::Error::msg)?;
    let cfg = check_config(a, &file)?;
    let gate = crate::package::Gate {
        allow_mismatch: a.allow_mismatch || file.allow_mismatch.unwrap_or(false),
        fail_on_risk: a.fail_on_risk || file.fail_on_risk.unwrap_or(false),
    };
    let step_summary = !a.no_step_summary && file.step_summary.unwrap_or(true);
    let package = crate::package::read::read(&subject, kind)?;
    let audit_cfg = AuditConfig {
        targets: cfg.bases.clone(),
        all: true,
        no_run: cfg.no_run || a.offline,
        timeout: cfg.timeout,
        sandbox: cfg.sandbox.clone(),
        pull: cfg.pull,
    };
    let (mode, bases) = if a.offline {
        ("offline", offline_bases(&package, &cfg))
    } else {
        let run_id = new_run_id();
        let bases = match across_bases(&package, &audit_cfg, &cfg, &run_id)? {
            Ok(b) => b,
            Err(code) => return Ok(ExitCode::from(code)),
        };
        (if cfg.no_run { "no_run" } else { "run" }, bases)
    };
    let report = report::package::PackageReport::new(
        mode,
        report::package::PackageSummary::new(&package),
        bases,
        gate,
    );
    emit(&report, a.format, step_summary)?;
    Ok(ExitCode::from(report.exit_code))
}

/// The package on each base through the Docker daemon: each base's profile, the predictions,
/// and unless `--no-run` one verifying container per base; until done or interrupted.
fn across_bases(
    package: &Package,
    audit_cfg: &AuditConfig,
    cfg: &RunConfig,
    run_id: &str,
) -> anyhow::Result<Result<Vec<BaseResult>, u8>> {
    let rt = runtime()?;
    rt.block_on(until_interrupted(run_id, async {
        let engine = BollardEngine::connect(REQUEST_TIMEOUT).await?;
        let prepared = crate::audit::verify::prepare_targets(&engine, audit_cfg, run_id).await;
        let targets = crate::audit::verify::audit_targets(
            &engine,
            &package.source,
            &package.origin,
            audit_cfg,
            &prepared,
            run_id,
        )
        .await;
        Ok(judged(package, cfg, &prepared, targets))
    }))
}

/// The package on each base of the offline catalog: predictions only, no Docker.
fn offline_bases(package: &Package, cfg: &RunConfig) -> Vec<BaseResult> {
    let prepared: Vec<Prepared> = cfg
        .bases
        .iter()
        .map(|b| Prepared {
            base: b.clone(),
            profile: crate::catalog::find(&b.name)
                .map(|e| e.to_profile())
                .ok_or_else(|| {
                    format!(
                        "{}: not in the offline catalog (see `libccheck bases`)",
                        b.name
                    )
                }),
        })
        .collect();
    let targets = prepared
        .iter()
        .map(|p| {
            let profile = p.profile.as_ref().map_err(String::as_str);
            crate::audit::target_result(&package.source, true, &p.base, profile, None)
        })
        .collect();
    judged(package, cfg, &prepared, targets)
}

/// Each base's audit judged for the package: required or not, and whether pip installs a wheel.
fn judged(
    package: &Package,
    cfg: &RunConfig,
    prepared: &[Prepared],
    targets: Vec<crate::audit::TargetResult>,
) -> Vec<BaseResult> {
    prepared
        .iter()
        .zip(targets)
        .map(|(p, t)| {
            let pip = package
                .wheel
                .as_ref()
                .zip(p.profile.as_ref().ok())
                .map(|(w, bp)| w.pip_on(bp));
            BaseResult::new(t, cfg.required.contains(&p.base.name), pip)
        })
        .collect()
}

/// Print the report in `format`; also append it as Markdown to $GITHUB_STEP_SUMMARY when set.
fn emit(
    report: &report::package::PackageReport,
    format: Format,
    step_summary: bool,
) -> anyhow::Result<()> {
    use report::package::{human, json, markdown};
    let text = match format {
        Format::Json => json(report),
        Format::Markdown => crate::text::printable(&markdown(report)).into_owned(),
        _ => crate::text::printable(&human(report)).into_owned(),
    };
    write_stdout(&text)?;
    if step_summary {
        append_step_summary(|| crate::text::printable(&markdown(report)).into_owned())?;
    }
    Ok(())
}
