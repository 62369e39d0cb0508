//! `libccheck merge`: per-base JSON reports into one report.

use std::process::ExitCode;

use super::*;

pub(super) fn merge(a: MergeArgs) -> anyhow::Result<ExitCode> {
    let outputs = super::check::Outputs {
        step_summary: !a.no_step_summary,
        reports: super::check::report_files(&a.report_files, &Default::default())?,
    };
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
    // A part run with --require-run keeps its unavailable images errors in the merged report.
    let require_run_in_a_part = parts.iter().any(|r| r.summary.require_run);
    let mode = if parts.iter().all(|r| r.mode == first.mode) {
        first.mode.clone()
    } else {
        "run".to_string()
    };
    let mut bases: Vec<crate::report::run::BaseResult> = Vec::new();
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
    // Each part named causes seeing only its own bases; across all of them some are ruled out.
    crate::check::explain::likely_causes(&mut bases);
    let mut merged = report::run::Report::from_parts(
        "merged",
        &mode,
        first.binary,
        first.exec_args,
        bases,
        report::run::Gate {
            allow_mismatch: a.allow_mismatch,
            fail_on_risk: a.fail_on_risk,
            require_run: require_run_in_a_part,
        },
    );
    merged.settings = first.settings;
    if a.suggest {
        merged = merged.with_ranking();
    }
    super::check::emit(&merged, a.format, &outputs)?;
    Ok(ExitCode::from(merged.exit_code))
}
