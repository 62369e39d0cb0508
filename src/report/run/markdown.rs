//! Markdown of a check (a GitHub step summary): one table row per base.

use std::fmt::Write as _;

use super::{BaseResult, Report};
use crate::verdict::{Risk, Severity, Verdict};

/// The run's reason, with the likely cause of a failure when a risk explains it.
fn reason(b: &BaseResult) -> String {
    match &b.likely_cause {
        Some(c) => format!("{}; likely cause: {}", b.reason, c.detail),
        None => b.reason.clone(),
    }
}

/// "How to fix": each base's hints, one item each.
fn hints(o: &mut String, r: &Report) {
    let hinted: Vec<(&str, &[String])> = r
        .bases
        .iter()
        .filter_map(|b| Some((b.base.as_str(), b.prediction.as_ref()?.hints.as_slice())))
        .filter(|(_, h)| !h.is_empty())
        .collect();
    if hinted.is_empty() {
        return;
    }
    o.push_str("\n#### How to fix\n\n");
    for (base, hs) in hinted {
        for h in hs {
            let _ = writeln!(o, "- **{}**: {}", md(base), md(h));
        }
    }
}

/// One row per base and run-time risk.
fn risks(o: &mut String, r: &Report) {
    let rows: Vec<(&BaseResult, &Risk)> = r
        .bases
        .iter()
        .flat_map(|b| b.risks().iter().map(move |risk| (b, risk)))
        .collect();
    if rows.is_empty() {
        return;
    }
    o.push_str(
        "\n#### Run-time risks\n\n| Base | Risk | Evidence | Base fact | Fix |\n|---|---|---|---|---|\n",
    );
    for (b, risk) in rows {
        let _ = writeln!(
            o,
            "| {} | {} {} | {} | {} | {} |",
            md(&b.base),
            if risk.severity == Severity::Warning {
                "⚠️"
            } else {
                "ℹ️"
            },
            risk.kind,
            md(&risk.evidence),
            md(&risk.base_fact),
            md(&risk.fix)
        );
    }
}

/// Every checked base by image size, smallest first (`--suggest`).
fn ranking(o: &mut String, r: &Report) {
    if r.summary.ranking.is_empty() {
        return;
    }
    o.push_str("\n#### Bases by image size\n\n| Size | Base | Result |\n|---|---|---|\n");
    for ranked in &r.summary.ranking {
        let (size, from) = super::size_cells(ranked);
        let mark = if ranked.works { "✅" } else { "❌" };
        let _ = writeln!(
            o,
            "| {size} ({from}) | {} | {mark} {} |",
            md(&ranked.base),
            md(&r.ranked_result(ranked))
        );
    }
}

fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn markdown(r: &Report) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "### libccheck: `{}`\n", md(&r.binary.path));
    let _ = writeln!(o, "{}\n", md(&r.binary.headline));
    o.push_str(
        "| Base | Image | libc | Predicted | Result | Reason |\n|---|---|---|---|---|---|\n",
    );
    // Nothing ran: the result is the prediction, and says so.
    let ran = r.mode == "run";
    for b in &r.bases {
        let mark = match b.verdict {
            Verdict::Ok if r.summary.risk_fails(&b.base) => "❌ ok, run-time risk".to_string(),
            Verdict::Ok if !ran => "✅ predicted ok".to_string(),
            Verdict::Ok => "✅ ok".to_string(),
            Verdict::Error => "⚠️ error".to_string(),
            v => format!("❌ {v}"),
        };
        let predicted = match (&b.prediction, b.agree) {
            (Some(p), Some(false)) => format!("{} ⚠️ mismatch", p.verdict),
            (Some(p), _) => p.verdict.to_string(),
            (None, _) => "-".into(),
        };
        let _ = writeln!(
            o,
            "| {}{} | `{}` | {} | {} | {} | {} |",
            md(&b.base),
            if b.required { "" } else { " (optional)" },
            md(&b.image),
            md(b.libc.as_deref().unwrap_or("?")),
            predicted,
            mark,
            md(&reason(b))
        );
    }
    hints(&mut o, r);
    risks(&mut o, r);
    ranking(&mut o, r);
    let _ = writeln!(
        o,
        "\n{} on **{} of {}** bases.",
        if ran { "Works" } else { "Predicted to work" },
        r.summary.ok,
        r.summary.bases
    );
    let not_run: Vec<&str> = r
        .bases
        .iter()
        .filter(|b| b.fallback.as_deref() == Some("prediction"))
        .map(|b| b.base.as_str())
        .collect();
    if !not_run.is_empty() {
        let _ = writeln!(
            o,
            "\n⚠️ Not verified on {}: not run here (see the reasons), predicted from the image.",
            md(&not_run.join(", "))
        );
    }
    let from_catalog: Vec<&str> = r
        .summary
        .unverified
        .iter()
        .map(String::as_str)
        .filter(|b| !not_run.contains(b))
        .collect();
    if !from_catalog.is_empty() {
        let _ = writeln!(
            o,
            "\n⚠️ Not verified on {}: image unavailable, predicted from the offline catalog{}.",
            md(&from_catalog.join(", ")),
            if r.summary.require_run {
                " (an error with `--require-run`)"
            } else {
                ""
            }
        );
    }
    if let Some(best) = r.summary.smallest.as_ref().filter(|_| r.bases.len() > 1) {
        let _ = writeln!(o, "\nSmallest base that works: {}.", md(&best.with_size()));
    }
    if r.summary.risks_fail && !r.summary.at_risk.is_empty() {
        let _ = writeln!(
            o,
            "\n❌ Run-time risks fail this check (`--fail-on-risk`) on: {}.",
            md(&r.summary.at_risk.join(", "))
        );
    }
    o
}
