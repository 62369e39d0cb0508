//! SARIF 2.1.0 of a check, for GitHub code scanning.

use super::Report;
use crate::verdict::{RiskKind, Severity, Verdict};

fn risk_rule(k: RiskKind) -> String {
    format!("risk/{k}")
}

/// One result per base and run-time risk: `warning` or `note`; `error` where `--fail-on-risk`
/// makes a warning fail the check.
fn risk_results(r: &Report, uri: &str) -> Vec<serde_json::Value> {
    use serde_json::json;
    let mut out = Vec::new();
    for b in &r.bases {
        for risk in b.risks() {
            let index = RULES_LEN
                + RiskKind::ALL
                    .iter()
                    .position(|k| *k == risk.kind)
                    .unwrap_or(0);
            out.push(json!({
                "ruleId": risk_rule(risk.kind),
                "ruleIndex": index,
                "level": match risk.severity {
                    Severity::Warning if r.summary.risk_fails(&b.base) => "error",
                    Severity::Warning => "warning",
                    Severity::Note => "note",
                },
                "message": { "text": format!(
                    "{} on {} ({}): {}; {}. Fix: {}",
                    risk.kind, b.base, b.image, risk.evidence, risk.base_fact, risk.fix
                )},
                "locations": [{ "physicalLocation": { "artifactLocation": { "uri": uri } } }],
                "partialFingerprints": { "libccheckBase/v1": format!("{}:risk/{}", b.base, risk.kind) },
                "properties": { "base": b.base, "image": b.image, "fix": risk.fix },
            }));
        }
    }
    out
}

/// How many verdict rules come before the risk rules.
const RULES_LEN: usize = 9;

/// SARIF 2.1.0: one result per base where the binary does not work, for GitHub code scanning.
pub fn sarif(r: &Report) -> String {
    use serde_json::json;
    const RULES: [(Verdict, &str, &str); RULES_LEN] = [
        (
            Verdict::NoInterpreter,
            "NoInterpreter",
            "The binary's interpreter (PT_INTERP) is not in the base image",
        ),
        (
            Verdict::MissingLibrary,
            "MissingLibrary",
            "A needed shared library is not in the base image",
        ),
        (
            Verdict::MissingVersion,
            "MissingVersion",
            "A library in the base image is older than a symbol version the binary needs",
        ),
        (
            Verdict::MissingSymbol,
            "MissingSymbol",
            "A symbol the binary needs is defined by no library in the base image",
        ),
        (
            Verdict::CpuUnsupported,
            "CpuUnsupported",
            "The CPU lacks the x86-64 ISA level the binary's GNU property note asks for",
        ),
        (Verdict::Crash, "Crash", "The binary was killed by a signal"),
        (
            Verdict::Timeout,
            "Timeout",
            "The binary did not finish within the time limit",
        ),
        (
            Verdict::ExitNonzero,
            "ExitNonzero",
            "The binary exited with a non-zero status",
        ),
        (
            Verdict::Error,
            "Error",
            "libccheck could not decide (the message says why)",
        ),
    ];
    let mut rules: Vec<serde_json::Value> = RULES
        .iter()
        .map(|(v, name, text)| {
            json!({
                "id": v.as_str(),
                "name": name,
                "shortDescription": { "text": text },
                "defaultConfiguration": { "level": "error" },
            })
        })
        .collect();
    rules.extend(RiskKind::ALL.iter().map(|k| {
        json!({
            "id": risk_rule(*k),
            "name": format!("Risk/{k}"),
            "shortDescription": { "text": k.summary() },
            "defaultConfiguration": { "level": "warning" },
        })
    }));
    let uri = {
        let p = r.binary.path.trim_start_matches("./");
        if p.starts_with('/') {
            format!("file://{p}")
        } else {
            p.to_string()
        }
    };
    let mut results: Vec<serde_json::Value> = r
        .bases
        .iter()
        .filter(|b| b.verdict != Verdict::Ok)
        .map(|b| {
            let idx = RULES
                .iter()
                .position(|(v, _, _)| *v == b.verdict)
                .unwrap_or(RULES.len() - 1);
            let mut text = format!("{}: {} on {} ({})", b.verdict, b.reason, b.base, b.image);
            if let Some(p) = &b.prediction
                && let Some(h) = p.hints.first()
            {
                text.push_str(&format!(". Fix: {h}"));
            }
            json!({
                "ruleId": b.verdict.as_str(),
                "ruleIndex": idx,
                "level": if b.required { "error" } else { "warning" },
                "message": { "text": text },
                "locations": [{ "physicalLocation": { "artifactLocation": { "uri": uri } } }],
                "partialFingerprints": { "libccheckBase/v1": format!("{}:{}", b.base, b.verdict) },
                "properties": {
                    "base": b.base,
                    "image": b.image,
                    "libc": b.libc,
                    "hints": b.prediction.as_ref().map(|p| p.hints.clone()).unwrap_or_default(),
                },
            })
        })
        .collect();
    results.extend(risk_results(r, &uri));
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "libccheck",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).expect("SARIF serialises") + "\n"
}
