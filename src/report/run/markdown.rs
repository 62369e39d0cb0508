//! Markdown of a check (a GitHub step summary): one table row per base.

use std::fmt::Write as _;

use super::Report;
use crate::verdict::Verdict;

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
