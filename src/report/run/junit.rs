//! JUnit XML of a check: one test case per base.

use std::fmt::Write as _;

use super::BaseResult;
use super::Report;
use crate::verdict::Verdict;

fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => o.push(c),
        }
    }
    o
}

pub fn junit(r: &Report) -> String {
    let mismatch = |b: &&BaseResult| b.agree == Some(false);
    let failures = r
        .bases
        .iter()
        .filter(|b| {
            !mismatch(b)
                && (!matches!(b.verdict, Verdict::Ok | Verdict::Error)
                    || (b.verdict == Verdict::Ok && r.summary.risk_fails(&b.base)))
        })
        .count();
    let errors = r
        .bases
        .iter()
        .filter(|b| mismatch(b) || b.verdict == Verdict::Error)
        .count();
    let time: f64 = r.bases.iter().map(|b| b.ms as f64 / 1000.0).sum();
    let name = std::path::Path::new(&r.binary.path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        o,
        "<testsuites name=\"libccheck\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{time:.3}\">",
        r.bases.len()
    );
    let _ = writeln!(
        o,
        "  <testsuite name=\"libccheck: {}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\" time=\"{time:.3}\">",
        xml(&name),
        r.bases.len()
    );
    for b in &r.bases {
        let _ = write!(
            o,
            "    <testcase classname=\"libccheck.{}\" name=\"{}\" time=\"{:.3}\"",
            xml(&name),
            xml(&b.base),
            b.ms as f64 / 1000.0
        );
        let mut evidence = b
            .load
            .iter()
            .chain(&b.exec)
            .filter_map(|x| x.evidence.clone())
            .collect::<Vec<_>>()
            .join("\n");
        if let Some(p) = &b.prediction {
            evidence.push_str(&format!("\npredicted: {} ({})", p.verdict, p.reason));
            for h in &p.hints {
                evidence.push_str(&format!("\nhint: {h}"));
            }
            if b.agree == Some(false) {
                evidence.push_str("\nPREDICTION MISMATCH");
            }
        }
        if let Some(c) = &b.likely_cause {
            evidence.push_str(&format!("\nlikely cause: {}", c.detail));
        }
        let risks = risk_lines(b);
        evidence.push_str(&risks);
        let body = format!(
            "image: {}\nlibc: {}\n{}",
            b.image,
            b.libc.as_deref().unwrap_or("?"),
            evidence
        );
        if b.agree == Some(false) {
            let p = b.prediction.as_ref().expect("a mismatch has a prediction");
            let msg = format!(
                "prediction mismatch: libccheck predicted {} ({}), the run showed {} ({})",
                p.verdict, p.reason, b.verdict, b.reason
            );
            let _ = write!(
                o,
                ">\n      <error message=\"{}\" type=\"prediction_mismatch\">{}</error>\n    </testcase>\n",
                xml(&msg),
                xml(&body)
            );
            continue;
        }
        match b.verdict {
            Verdict::Ok if r.summary.risk_fails(&b.base) => {
                let _ = write!(
                    o,
                    ">\n      <failure message=\"run-time risks (--fail-on-risk)\" type=\"run_time_risk\">{}</failure>\n    </testcase>\n",
                    xml(&body)
                );
            }
            Verdict::Ok if risks.is_empty() => o.push_str("/>\n"),
            // A base that works but carries run-time risks says so where CI shows a test's output.
            Verdict::Ok => {
                let _ = write!(
                    o,
                    ">\n      <system-out>{}</system-out>\n    </testcase>\n",
                    xml(risks.trim_start())
                );
            }
            Verdict::Error => {
                let _ = write!(
                    o,
                    ">\n      <error message=\"{}\" type=\"error\">{}</error>\n    </testcase>\n",
                    xml(&b.reason),
                    xml(&body)
                );
            }
            v => {
                let _ = write!(
                    o,
                    ">\n      <failure message=\"{}\" type=\"{v}\">{}</failure>\n    </testcase>\n",
                    xml(&b.reason),
                    xml(&body)
                );
            }
        }
    }
    o.push_str("  </testsuite>\n</testsuites>\n");
    o
}

/// One `risk:` line per run-time risk of the base, each after a line break.
fn risk_lines(b: &super::BaseResult) -> String {
    b.risks()
        .iter()
        .map(|r| {
            format!(
                "\nrisk: {} ({}): {}; {}. Fix: {}",
                r.kind, r.severity, r.evidence, r.base_fact, r.fix
            )
        })
        .collect()
}
