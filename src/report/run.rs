//! Formats for the run matrix: human table, JSON (`libccheck/report/v1`), JUnit XML, Markdown.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::check::BaseResult;
use crate::elf::BinaryProfile;
use crate::verdict::Verdict;

pub const SCHEMA: &str = "libccheck/report/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinarySummary {
    pub path: String,
    pub headline: String,
    pub interpreter: Option<String>,
    pub libc: String,
    pub glibc_min: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub bases: usize,
    pub ok: usize,
    pub failed: usize,
    pub errors: usize,
    /// Required bases that do not work.
    pub required_failing: Vec<String>,
    /// Bases where the run disagreed with the prediction (libccheck itself is wrong there).
    pub mismatches: Vec<String>,
}

/// The settings a run used (after the command line, libccheck.toml and the defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub config_file: Option<String>,
    pub timeout_secs: u64,
    pub pull: String,
    pub jobs: usize,
    pub network: bool,
    pub user: String,
    pub memory_mib: i64,
    pub pids_limit: i64,
    pub output_limit: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub schema: String,
    /// Value of the org.libccheck.run label on this run's containers.
    pub run_id: String,
    /// `run` (predict and run), `no_run` (predict from the images), `offline` (from the catalog).
    pub mode: String,
    pub binary: BinarySummary,
    pub exec_args: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<Settings>,
    pub bases: Vec<BaseResult>,
    pub summary: Summary,
    pub exit_code: u8,
}

impl Report {
    pub fn new(
        run_id: &str,
        mode: &str,
        path: &str,
        profile: &BinaryProfile,
        exec_args: Option<Vec<String>>,
        bases: Vec<BaseResult>,
        allow_mismatch: bool,
    ) -> Report {
        let binary = BinarySummary {
            path: path.to_string(),
            headline: super::inspect::headline(profile),
            interpreter: profile.interpreter.clone(),
            libc: profile.libc.flavour.to_string(),
            glibc_min: profile.glibc_min().map(String::from),
        };
        Report::from_parts(run_id, mode, binary, exec_args, bases, allow_mismatch)
    }

    /// A report from its parts (also how `libccheck merge` rebuilds one): the summary and the
    /// exit code are computed here.
    pub fn from_parts(
        run_id: &str,
        mode: &str,
        binary: BinarySummary,
        exec_args: Option<Vec<String>>,
        bases: Vec<BaseResult>,
        allow_mismatch: bool,
    ) -> Report {
        let mismatches: Vec<String> = bases
            .iter()
            .filter(|b| b.agree == Some(false))
            .map(|b| b.base.clone())
            .collect();
        let ok = bases.iter().filter(|b| b.verdict == Verdict::Ok).count();
        let errors = bases.iter().filter(|b| b.verdict == Verdict::Error).count();
        let required_failing: Vec<String> = bases
            .iter()
            .filter(|b| b.required && b.verdict != Verdict::Ok)
            .map(|b| b.base.clone())
            .collect();
        let exit_code = if bases
            .iter()
            .any(|b| b.required && b.verdict == Verdict::Error)
            || (!allow_mismatch && !mismatches.is_empty())
        {
            2
        } else if required_failing.is_empty() {
            0
        } else {
            1
        };
        Report {
            schema: SCHEMA.to_string(),
            run_id: run_id.to_string(),
            mode: mode.to_string(),
            binary,
            exec_args,
            settings: None,
            summary: Summary {
                bases: bases.len(),
                ok,
                failed: bases.len() - ok - errors,
                errors,
                required_failing,
                mismatches,
            },
            bases,
            exit_code,
        }
    }
}

pub fn json(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(r).expect("report serialises");
    s.push('\n');
    s
}

fn paint(s: &str, verdict: Verdict, color: bool) -> String {
    if !color {
        return s.to_string();
    }
    let code = match verdict {
        Verdict::Ok => "32",
        Verdict::Error => "33",
        _ => "31",
    };
    format!("\x1b[{code}m{s}\x1b[0m")
}

fn probe_cell(b: &BaseResult) -> String {
    let mut v = b.verdict.to_string();
    if let Some(e) = &b.exec
        && b.load.as_ref().is_none_or(|l| l.verdict == Verdict::Ok)
        && (e.stdout_truncated || e.stderr_truncated)
    {
        v.push_str(" (output truncated)");
    }
    v
}

fn predicted_cell(b: &BaseResult) -> String {
    b.prediction
        .as_ref()
        .map(|p| p.verdict.to_string())
        .unwrap_or_else(|| "-".into())
}

impl Report {
    /// This report with every string [`printable`](crate::text::printable), for the text formats
    /// (the human table paints its verdicts with escape sequences of its own afterwards).
    pub fn printable(&self) -> Report {
        let mut v = serde_json::to_value(self).expect("report serialises");
        crate::text::printable_json(&mut v);
        serde_json::from_value(v).unwrap_or_else(|_| self.clone())
    }
}

pub fn human(r: &Report, color: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", r.binary.path, r.binary.headline);
    if let Some(a) = &r.exec_args {
        let _ = writeln!(out, "exec probe: {} {}", r.binary.path, a.join(" "));
    }
    out.push('\n');
    let any_run = r.mode == "run";
    let rows: Vec<Vec<String>> = r
        .bases
        .iter()
        .map(|b| {
            let name = if b.required {
                b.base.clone()
            } else {
                format!("{} (optional)", b.base)
            };
            // A base given as an image reference already names its image; show its id instead.
            let image = if b.base == b.image {
                b.image_id
                    .as_deref()
                    .map(|i| i.trim_start_matches("sha256:").chars().take(12).collect())
                    .unwrap_or_else(|| b.image.clone())
            } else {
                b.image.clone()
            };
            let mut verdict = probe_cell(b);
            if b.agree == Some(false) {
                verdict.push_str(" ≠ PREDICTED");
            }
            if any_run {
                vec![
                    name,
                    image,
                    b.libc.clone().unwrap_or_else(|| "?".into()),
                    predicted_cell(b),
                    verdict,
                    b.reason.clone(),
                ]
            } else {
                vec![
                    name,
                    image,
                    b.libc.clone().unwrap_or_else(|| "?".into()),
                    verdict,
                    b.reason.clone(),
                ]
            }
        })
        .collect();
    let head: Vec<&str> = if any_run {
        vec!["BASE", "IMAGE", "LIBC", "PREDICTED", "VERDICT", "REASON"]
    } else {
        vec!["BASE", "IMAGE", "LIBC", "PREDICTED", "REASON"]
    };
    let n = head.len();
    let mut w: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (i, c) in row.iter().enumerate().take(n - 1) {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |cells: &[String], verdict: Option<Verdict>| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == n - 1 {
                l.push_str(c);
            } else {
                let padded = format!("{c}{}", " ".repeat(w[i] - c.chars().count()));
                match verdict {
                    Some(v) if i == n - 2 => l.push_str(&paint(&padded, v, color)),
                    _ => l.push_str(&padded),
                }
                l.push_str("  ");
            }
        }
        l
    };
    let _ = writeln!(
        out,
        "{}",
        line(
            &head.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
            None
        )
    );
    for (row, b) in rows.iter().zip(&r.bases) {
        let _ = writeln!(out, "{}", line(row, Some(b.verdict)));
    }
    let hinted: Vec<&BaseResult> = r
        .bases
        .iter()
        .filter(|b| b.prediction.as_ref().is_some_and(|p| !p.hints.is_empty()))
        .collect();
    if !hinted.is_empty() {
        out.push_str("\nhow to fix:\n");
        for b in hinted {
            for h in &b.prediction.as_ref().unwrap().hints {
                let _ = writeln!(out, "  {}: {h}", b.base);
            }
        }
    }
    for b in r.bases.iter().filter(|b| b.agree == Some(false)) {
        let p = b.prediction.as_ref().unwrap();
        let _ = writeln!(
            out,
            "\nPREDICTION MISMATCH on {}: libccheck predicted {} ({}), the run showed {} ({}){}. libccheck's loader simulation is wrong here; please report it.",
            b.base,
            p.verdict,
            p.reason,
            b.load.as_ref().map(|l| l.verdict).unwrap_or(b.verdict),
            b.load
                .as_ref()
                .map(|l| l.reason.as_str())
                .unwrap_or(&b.reason),
            super::audit::differs_text(b.differs.as_ref())
        );
    }
    out.push('\n');
    let s = &r.summary;
    let verb = if any_run {
        "works"
    } else {
        "predicted to work"
    };
    let _ = write!(out, "{verb} on {} of {} bases", s.ok, s.bases);
    if !s.required_failing.is_empty() {
        let _ = write!(
            out,
            "; required but failing: {}",
            s.required_failing.join(", ")
        );
    }
    out.push('\n');
    out
}

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
        .filter(|b| !mismatch(b) && !matches!(b.verdict, Verdict::Ok | Verdict::Error))
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
            Verdict::Ok => o.push_str("/>\n"),
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
    for b in &r.bases {
        let mark = match b.verdict {
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
            md(&b.reason)
        );
    }
    let _ = writeln!(
        o,
        "\nWorks on **{} of {}** bases.",
        r.summary.ok, r.summary.bases
    );
    o
}

/// SARIF 2.1.0: one result per base where the binary does not work, for GitHub code scanning.
pub fn sarif(r: &Report) -> String {
    use serde_json::json;
    const RULES: [(Verdict, &str, &str); 8] = [
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
    let rules: Vec<serde_json::Value> = RULES
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
    let uri = {
        let p = r.binary.path.trim_start_matches("./");
        if p.starts_with('/') {
            format!("file://{p}")
        } else {
            p.to_string()
        }
    };
    let results: Vec<serde_json::Value> = r
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
