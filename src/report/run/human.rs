//! The human table of a check: one row per base, the fix hints, any prediction mismatch, and
//! the summary line.

use std::fmt::Write as _;

use super::BaseResult;
use super::Report;
use crate::verdict::{LikelyCause, Risk, Severity, Verdict};

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

/// The predicted verdict; a base where the program loads but a warning-level risk stands is
/// `ok, at risk`, so that a run failing there does not read as a contradiction.
fn predicted_cell(b: &BaseResult) -> String {
    let Some(p) = &b.prediction else {
        return "-".into();
    };
    let at_risk = p.risks.iter().any(|r| r.severity == Severity::Warning);
    match (p.verdict, at_risk) {
        (Verdict::Ok, true) => "ok, at risk".into(),
        (v, _) => v.to_string(),
    }
}

/// The report as text; `width`: the terminal's columns the table must fit, `None` for no limit.
pub fn human(r: &Report, color: bool, width: Option<u16>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", r.binary.path, r.binary.headline);
    if let Some(a) = &r.exec_args {
        let _ = writeln!(out, "exec probe: {} {}", r.binary.path, a.join(" "));
    }
    out.push('\n');
    let said = unavailable_images(&mut out, r);
    let r = &said;
    table(&mut out, r, color, width);
    exec_output(&mut out, r);
    fixes(&mut out, r, width);
    likely_causes(&mut out, r);
    risks(&mut out, r);
    mismatches(&mut out, r);
    ranking(&mut out, r);
    out.push('\n');
    summary_line(&mut out, r);
    smallest_line(&mut out, r);
    out
}

/// One row per base: name, image, libc, (predicted,) verdict, reason.
fn row(b: &BaseResult, any_run: bool) -> Vec<String> {
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
    let mut reason = b.reason.clone();
    if let Some(c) = &b.likely_cause {
        let _ = write!(reason, "; likely cause: {}", cause_label(c));
    }
    let libc = b.libc.clone().unwrap_or_else(|| "?".into());
    if any_run {
        vec![name, image, libc, predicted_cell(b), verdict, reason]
    } else {
        vec![name, image, libc, verdict, reason]
    }
}

/// The narrowest the reason column gets in a narrow terminal.
const REASON_MIN: usize = 24;
/// Spaces between two columns.
const GAP: usize = 2;
/// The image column (the image is in the JSON report and in `libccheck bases`).
const IMAGE: usize = 1;

/// The table, its columns as wide as their widest cell, the verdict column painted. Within
/// `width` columns (a terminal's) only the reason wraps; where even that leaves the reason too
/// little room, the image column goes. Without `width` every row is one line.
fn table(out: &mut String, r: &Report, color: bool, width: Option<u16>) {
    use comfy_table::{ColumnConstraint, ContentArrangement, Table, Width, presets};
    let any_run = r.mode == "run";
    let mut head: Vec<String> = if any_run {
        vec!["BASE", "IMAGE", "LIBC", "PREDICTED", "VERDICT", "REASON"]
    } else {
        vec!["BASE", "IMAGE", "LIBC", "PREDICTED", "REASON"]
    }
    .into_iter()
    .map(String::from)
    .collect();
    let mut rows: Vec<Vec<String>> = r.bases.iter().map(|b| row(b, any_run)).collect();
    if let Some(w) = width
        && !image_fits(&head, &rows, w as usize)
    {
        head.remove(IMAGE);
        rows.iter_mut().for_each(|row| {
            row.remove(IMAGE);
        });
    }
    let n = head.len();
    let mut t = Table::new();
    t.load_style(presets::NOTHING).set_header(head);
    for (mut cells, b) in rows.into_iter().zip(&r.bases) {
        cells[n - 2] = paint(&cells[n - 2], b.verdict, color);
        t.add_row(cells);
    }
    match width {
        Some(w) => t
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(w),
        None => t.set_content_arrangement(ContentArrangement::Disabled),
    };
    for (i, col) in t.column_iter_mut().enumerate() {
        let last = i == n - 1;
        col.set_padding((0, if last { 0 } else { GAP as u16 }));
        col.set_constraint(if last {
            ColumnConstraint::LowerBoundary(Width::Fixed(REASON_MIN as u16))
        } else {
            ColumnConstraint::ContentWidth
        });
    }
    for line in t.lines() {
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// Do all the columns but the reason, and the reason's least, fit in `width`?
fn image_fits(head: &[String], rows: &[Vec<String>], width: usize) -> bool {
    let n = head.len();
    let widest = |i: usize| {
        std::iter::once(&head[i])
            .chain(rows.iter().map(|r| &r[i]))
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(0)
    };
    let fixed: usize = (0..n - 1).map(|i| widest(i) + GAP).sum();
    fixed + REASON_MIN <= width
}

/// At most this many lines of what a failing program printed are shown; the JSON has it all.
const EXEC_LINES: usize = 3;

/// "exec probe output": for each base where the program was run and failed, the first lines
/// it wrote to stderr (or, when it wrote none, to stdout); a program that printed nothing has
/// no entry.
fn exec_output(out: &mut String, r: &Report) {
    let printed = |e: &&crate::verdict::Outcome| {
        [&e.stderr, &e.stdout]
            .iter()
            .any(|s| s.as_deref().is_some_and(|s| !s.trim().is_empty()))
    };
    let failed: Vec<(&str, &crate::verdict::Outcome)> = r
        .bases
        .iter()
        .filter_map(|b| Some((b.base.as_str(), b.exec.as_ref()?)))
        .filter(|(_, e)| e.verdict != Verdict::Ok)
        .filter(|(_, e)| printed(e))
        .collect();
    if failed.is_empty() {
        return;
    }
    out.push_str("\nexec probe output (first lines):\n");
    for (base, e) in failed {
        let (stream, text) = match (e.stderr.as_deref(), e.stdout.as_deref()) {
            (Some(err), _) if !err.trim().is_empty() => ("stderr", err),
            (_, Some(o)) if !o.trim().is_empty() => ("stdout", o),
            _ => continue,
        };
        // The text formats see ELF and program strings made printable: newlines as `\x0a`.
        let lines: Vec<&str> = text
            .split(['\n'])
            .flat_map(|l| l.split("\\x0a"))
            .filter(|l| !l.trim().is_empty())
            .collect();
        let _ = writeln!(out, "  {base} ({stream}):");
        for l in lines.iter().take(EXEC_LINES) {
            let _ = writeln!(out, "    {l}");
        }
        if lines.len() > EXEC_LINES {
            let _ = writeln!(
                out,
                "    … {} more lines (--format json)",
                lines.len() - EXEC_LINES
            );
        }
    }
}

/// "how to fix": every base's hints.
fn fixes(out: &mut String, r: &Report, width: Option<u16>) {
    let hinted: Vec<&BaseResult> = r
        .bases
        .iter()
        .filter(|b| b.prediction.as_ref().is_some_and(|p| !p.hints.is_empty()))
        .collect();
    if hinted.is_empty() {
        return;
    }
    out.push_str("\nhow to fix:\n");
    for b in hinted {
        for h in &b.prediction.as_ref().unwrap().hints {
            for line in wrapped(&format!("{}: {h}", b.base), width, "  ", "    ") {
                let _ = writeln!(out, "{line}");
            }
        }
    }
}

/// `text` after `lead`, broken at spaces into lines of at most `width` columns (a word longer
/// than that stands alone), the lines after the first indented by `indent`; one line without
/// `width`.
fn wrapped(text: &str, width: Option<u16>, lead: &str, indent: &str) -> Vec<String> {
    let Some(width) = width.map(usize::from) else {
        return vec![format!("{lead}{text}")];
    };
    let mut lines: Vec<String> = Vec::new();
    let mut line = lead.to_string();
    let mut start = line.chars().count();
    for word in text.split(' ') {
        let len = line.chars().count();
        if len > start && len + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(&mut line, indent.to_string()));
            start = indent.chars().count();
        } else if len > start {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

/// `thread_stack (confirmed)`, `ca_bundle`.
fn cause_label(c: &LikelyCause) -> String {
    match c.confirmed {
        Some(true) => format!("{} (confirmed)", c.kind),
        Some(false) => format!("{} (not confirmed)", c.kind),
        None => c.kind.to_string(),
    }
}

/// "likely cause": for each failed run a risk explains, what it is and what a second run showed.
fn likely_causes(out: &mut String, r: &Report) {
    let explained: Vec<(&str, &LikelyCause)> = r
        .bases
        .iter()
        .filter_map(|b| Some((b.base.as_str(), b.likely_cause.as_ref()?)))
        .collect();
    if explained.is_empty() {
        return;
    }
    out.push_str("\nlikely cause:\n");
    for (base, c) in explained {
        let _ = writeln!(out, "  {base}: {}", c.detail);
    }
}

/// "run-time risks": each risk once, with every base it applies to.
fn risks(out: &mut String, r: &Report) {
    let mut grouped: Vec<(&Risk, Vec<&str>)> = Vec::new();
    for b in &r.bases {
        for risk in b.risks() {
            match grouped.iter_mut().find(|(g, _)| *g == risk) {
                Some((_, bases)) => bases.push(&b.base),
                None => grouped.push((risk, vec![&b.base])),
            }
        }
    }
    if grouped.is_empty() {
        return;
    }
    out.push_str(
        "\nrun-time risks (the program loads there, then may fail or behave differently):\n",
    );
    for (risk, bases) in grouped {
        let _ = writeln!(
            out,
            "  {} ({}) on {}: {}\n    base: {}\n    fix:  {}",
            risk.kind,
            risk.severity,
            bases.join(", "),
            risk.evidence,
            risk.base_fact,
            risk.fix
        );
    }
}

/// A loud paragraph for every base where the run refuted the prediction.
fn mismatches(out: &mut String, r: &Report) {
    for b in r.bases.iter().filter(|b| b.agree == Some(false)) {
        let p = b.prediction.as_ref().unwrap();
        let _ = writeln!(
            out,
            "\nPREDICTION MISMATCH on {}: libccheck predicted {} ({}), the run showed {} ({}){}. libccheck's loader simulation is wrong here; please report it.",
            b.base,
            p.verdict,
            p.reason,
            run_side(b).0,
            run_side(b).1,
            crate::report::audit::differs_text(b.differs.as_ref())
        );
    }
}

/// What the run showed that the prediction is compared with: the loader's probe, or what the
/// program itself failed to `dlopen` once running (which no loader probe sees).
fn run_side(b: &BaseResult) -> (Verdict, &str) {
    let dlopen =
        |ps: &[crate::verdict::Problem]| ps.iter().any(crate::probe::classify::is_via_dlopen);
    let exec_dlopen = b.exec.as_ref().is_some_and(|e| dlopen(&e.problems));
    let predicted_dlopen = b.prediction.as_ref().is_some_and(|p| dlopen(&p.problems));
    match &b.load {
        Some(l) if !exec_dlopen && !predicted_dlopen => (l.verdict, &l.reason),
        _ => (b.verdict, &b.reason),
    }
}

/// Above the table, once: which images were unavailable, why (one line per cause, however many
/// bases share it) and what to do; the rows then only refer to it. Returns the report with
/// those rows' reasons shortened.
fn unavailable_images(out: &mut String, r: &Report) -> Report {
    let mut causes: Vec<(&str, Vec<&str>)> = Vec::new();
    for b in &r.bases {
        let Some(cause) = b.unavailable.as_deref() else {
            continue;
        };
        match causes.iter_mut().find(|(c, _)| *c == cause) {
            Some((_, images)) if images.contains(&b.image.as_str()) => {}
            Some((_, images)) => images.push(&b.image),
            None => causes.push((cause, vec![&b.image])),
        }
    }
    if causes.is_empty() {
        return r.clone();
    }
    let fallbacks = r.bases.iter().filter(|b| b.fallback.is_some()).count();
    if r.bases
        .iter()
        .filter(|b| b.unavailable.is_some())
        .all(|b| b.fallback.as_deref() == Some("prediction"))
    {
        // Images read from their files (a registry, an archive): nothing to make local.
        let _ = writeln!(
            out,
            "images not run (predicted from their files, not verified):"
        );
        for (cause, images) in &causes {
            let _ = writeln!(out, "  {}: {cause}", images.join(", "));
        }
        out.push('\n');
        return r.clone();
    }
    let _ = writeln!(
        out,
        "{}:",
        match fallbacks {
            0 => "images unavailable",
            _ if r.summary.require_run =>
                "images unavailable (predicted from the offline catalog, not verified; --require-run makes that an error)",
            _ => "images unavailable (predicted from the offline catalog instead, not verified)",
        }
    );
    for (cause, images) in &causes {
        let _ = writeln!(out, "  {}: {cause}", images.join(", "));
    }
    let images: usize = causes.iter().map(|(_, images)| images.len()).sum();
    let _ = writeln!(
        out,
        "  hint: make {} local (docker pull where a registry answers, docker load), or map an alias to a mirror or local image in libccheck.toml ([aliases] alpine = \"mirror/alpine:3.22\"){}\n",
        if images == 1 { "it" } else { "them" },
        if fallbacks > 0 && !r.summary.require_run {
            "; --require-run fails instead of predicting"
        } else {
            ""
        }
    );
    let mut shortened = r.clone();
    for b in shortened.bases.iter_mut() {
        if b.unavailable.is_some() && b.fallback.is_none() {
            b.reason = "image unavailable (see above); not in the offline catalog".into();
        }
    }
    shortened
}

/// Why bases of a run were not verified.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unverified {
    /// Predicted from the catalog: the image could not be had.
    ImageUnavailable,
    /// Read from a registry or an archive, with no engine to run it.
    WithoutEngine,
}

impl Unverified {
    fn of(b: &BaseResult) -> Option<Unverified> {
        match (b.fallback.as_deref(), b.unavailable.is_some()) {
            (Some("catalog"), _) => Some(Unverified::ImageUnavailable),
            (Some("prediction"), true) => Some(Unverified::WithoutEngine),
            _ => None,
        }
    }

    /// The cause these bases share, if they share one.
    fn shared(bases: &[&BaseResult]) -> Option<Unverified> {
        let first = Unverified::of(bases.first()?)?;
        bases
            .iter()
            .all(|b| Unverified::of(b) == Some(first))
            .then_some(first)
    }

    /// Said of some bases: "(image unavailable)".
    fn some(self) -> &'static str {
        match self {
            Unverified::ImageUnavailable => "image unavailable",
            Unverified::WithoutEngine => "read without an engine",
        }
    }

    /// Said of every base: "(none verified: every image unavailable)".
    fn every(self) -> &'static str {
        match self {
            Unverified::ImageUnavailable => "every image unavailable",
            Unverified::WithoutEngine => "every image read without an engine",
        }
    }
}

/// "works on N of M bases; required but failing: …; errors: …"; bases predicted from the
/// catalog in a run are counted apart, as predictions.
fn summary_line(out: &mut String, r: &Report) {
    let s = &r.summary;
    let is_unverified = |b: &&BaseResult| r.mode == "run" && b.fallback.is_some();
    let unverified: Vec<&BaseResult> = r.bases.iter().filter(is_unverified).collect();
    let predicted_ok = unverified
        .iter()
        .filter(|b| b.verdict == Verdict::Ok)
        .count();
    if r.mode != "run" {
        let _ = write!(out, "predicted to work on {} of {} bases", s.ok, s.bases);
    } else if unverified.len() == s.bases {
        let why = Unverified::shared(&unverified)
            .map(|cause| format!(": {}", cause.every()))
            .unwrap_or_default();
        let _ = write!(
            out,
            "predicted to work on {} of {} bases (none verified{why})",
            s.ok, s.bases
        );
    } else {
        let _ = write!(out, "works on {} of {} bases", s.ok - predicted_ok, s.bases);
        if !unverified.is_empty() {
            let _ = write!(
                out,
                "; {} not verified ({}), predicted to work on {} of them",
                unverified.len(),
                Unverified::shared(&unverified).map_or("see the reasons", Unverified::some),
                predicted_ok
            );
        }
    }
    let failing: Vec<&str> = r
        .bases
        .iter()
        .filter(|b| b.required && !matches!(b.verdict, Verdict::Ok | Verdict::Error))
        .map(|b| b.base.as_str())
        .collect();
    if !failing.is_empty() {
        let _ = write!(out, "; required but failing: {}", failing.join(", "));
    }
    let errors: Vec<&str> = r
        .bases
        .iter()
        .filter(|b| b.verdict == Verdict::Error)
        .map(|b| b.base.as_str())
        .collect();
    if !errors.is_empty() {
        let _ = write!(out, "; errors (no verdict): {}", errors.join(", "));
    }
    if !s.at_risk.is_empty() {
        let gate = if s.risks_fail {
            " (failing: --fail-on-risk)"
        } else {
            ""
        };
        let _ = write!(out, "; run-time risks on {}{gate}", s.at_risk.join(", "));
    }
    out.push('\n');
}

/// "smallest base that works: …", when there was a choice of bases and sizes decide it.
fn smallest_line(out: &mut String, r: &Report) {
    if let Some(best) = r.summary.smallest.as_ref().filter(|_| r.bases.len() > 1) {
        let _ = writeln!(out, "smallest base that works: {}", best.with_size());
    }
}

/// "bases by image size" (`--suggest`): every checked base, smallest first, and whether the
/// program works there.
fn ranking(out: &mut String, r: &Report) {
    if r.summary.ranking.is_empty() {
        return;
    }
    let mut rows: Vec<[String; 4]> =
        vec![["SIZE".into(), "FROM".into(), "BASE".into(), "RESULT".into()]];
    for ranked in &r.summary.ranking {
        let (size, from) = super::size_cells(ranked);
        rows.push([
            size,
            from.into(),
            ranked.base.clone(),
            r.ranked_result(ranked),
        ]);
    }
    let width = |i: usize| {
        rows.iter()
            .map(|row| row[i].chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths = [width(0), width(1), width(2)];
    out.push_str("\nbases by image size, smallest first:\n");
    for row in &rows {
        let mut line = String::from("  ");
        for (cell, w) in row.iter().zip(widths) {
            let _ = write!(line, "{cell}{}  ", " ".repeat(w - cell.chars().count()));
        }
        line.push_str(&row[3]);
        let _ = writeln!(out, "{line}");
    }
}
