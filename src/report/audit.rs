//! Formats for `libccheck audit`: summary first, then problems grouped by cause.

use std::fmt::Write as _;

use serde::Serialize;

use crate::audit::{Source, TargetResult};

pub const SCHEMA: &str = "libccheck/audit/v1";

#[derive(Debug, Clone, Serialize)]
pub struct SourceSummary {
    pub name: String,
    /// `image` or `directory`.
    pub kind: String,
    pub package_manager: Option<String>,
    pub packages: usize,
    pub elf_files: usize,
    pub audited: usize,
    pub non_elf_files: usize,
    pub unreadable: Vec<(String, String)>,
    /// Every ELF file (`--all`) rather than the application's own.
    pub all: bool,
}

impl SourceSummary {
    pub fn new(name: &str, kind: &str, s: &Source, all: bool) -> SourceSummary {
        SourceSummary {
            name: name.into(),
            kind: kind.into(),
            package_manager: s.package_manager.clone(),
            packages: s.packages,
            elf_files: s.files.len(),
            audited: s.selected(all).len(),
            non_elf_files: s.non_elf,
            unreadable: s.unreadable.clone(),
            all,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub schema: &'static str,
    pub tool: crate::text::Tool,
    pub source: SourceSummary,
    pub targets: Vec<TargetResult>,
    pub exit_code: u8,
    /// The text formats name at most this many files per group (`None`: all, `--all-files`);
    /// the JSON always has them all.
    #[serde(skip)]
    pub files_shown: Option<usize>,
}

/// Files named per group in the text formats unless `--all-files`.
pub const FILES_SHOWN: usize = 10;

impl AuditReport {
    pub fn new(
        source: SourceSummary,
        targets: Vec<TargetResult>,
        allow_mismatch: bool,
    ) -> AuditReport {
        // Files that could not be read were not audited: like `inspect`, that is an error.
        let exit_code = if !source.unreadable.is_empty()
            || targets
                .iter()
                .any(|t| t.error.is_some() || (!allow_mismatch && t.mismatches > 0))
        {
            2
        } else if targets.iter().any(|t| t.broken > 0) {
            1
        } else {
            0
        };
        AuditReport {
            schema: SCHEMA,
            tool: crate::text::Tool::current(),
            source,
            targets,
            exit_code,
            files_shown: Some(FILES_SHOWN),
        }
    }
}

pub fn json(r: &AuditReport) -> String {
    serde_json::to_string_pretty(r).expect("audit report serialises") + "\n"
}

pub fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

pub fn human(r: &AuditReport) -> String {
    let s = &r.source;
    let mut o = String::new();
    let pm = match &s.package_manager {
        Some(pm) => format!("{pm}, {} packages", s.packages),
        None => "no package database".into(),
    };
    let what = if s.all {
        "all of them audited".to_string()
    } else {
        format!(
            "{} the application's own (--all audits every one)",
            s.audited
        )
    };
    let _ = writeln!(
        o,
        "audit of {} ({}; {pm}): {}, {what}",
        s.name,
        s.kind,
        plural(s.elf_files, "ELF file")
    );
    for (p, e) in &s.unreadable {
        let _ = writeln!(o, "  could not read {p}: {e}");
    }
    o.push('\n');
    let w = r
        .targets
        .iter()
        .map(|t| t.base.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let _ = writeln!(o, "{:w$}  {:12}  BREAKS", "TARGET", "LIBC");
    for t in &r.targets {
        let status = match (&t.error, &t.unverified) {
            (Some(e), _) => format!("error: {e}"),
            (None, Some(why)) => format!(
                "{} of {} (predicted, not verified: {why})",
                t.broken, t.audited
            ),
            (None, None) => format!("{} of {}", t.broken, t.audited),
        };
        let _ = writeln!(
            o,
            "{:w$}  {:12}  {status}",
            t.base,
            t.libc.as_deref().unwrap_or("?")
        );
    }
    for t in r.targets.iter().filter(|t| !t.groups.is_empty()) {
        let _ = writeln!(
            o,
            "\n{} ({}): {} of {} break",
            t.base,
            t.libc.as_deref().unwrap_or("?"),
            plural(t.broken, "file"),
            t.audited
        );
        groups_capped(&mut o, &t.groups, r.files_shown);
    }
    risks_human(&mut o, r);
    let targets: Vec<&TargetResult> = r.targets.iter().collect();
    file_notes(&mut o, &targets, |p| p.to_string());
    file_mismatches(&mut o, &targets, |p| p.to_string());
    o
}

/// The notes about files (symbols left to the host program) across targets, each once (`name`
/// renders a path: a package escapes the names its archive gave).
pub fn file_notes(o: &mut String, targets: &[&TargetResult], name: impl Fn(&str) -> String) {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for f in targets.iter().flat_map(|t| &t.files) {
        if let Some(n) = &f.note
            && !seen.contains(&(f.path.as_str(), n.as_str()))
        {
            seen.push((&f.path, n));
        }
    }
    for (p, n) in seen {
        let _ = writeln!(o, "\nnote: {}: {n}", name(p));
    }
}

/// A loud paragraph for every file whose verification refuted its prediction.
pub fn file_mismatches(o: &mut String, targets: &[&TargetResult], name: impl Fn(&str) -> String) {
    for t in targets {
        for f in t.files.iter().filter(|f| f.agree == Some(false)) {
            let _ = writeln!(
                o,
                "\nPREDICTION MISMATCH on {} for {}: predicted {}, the loader said {}{}. libccheck's simulation is wrong here; please report it.",
                t.base,
                name(&f.path),
                f.predicted,
                f.verified.map(|v| v.to_string()).unwrap_or_default(),
                differs_text(f.differs.as_ref())
            );
        }
    }
}

/// At most this many files are named under a risk group; the JSON has them all.
const RISK_FILES_SHOWN: usize = 5;

/// "run-time risks" of each target: one line per group, with a few of its files.
/// The broken files of one target by cause, each cause with its hint and its files.
pub fn groups_human(o: &mut String, groups: &[crate::audit::Group]) {
    groups_capped(o, groups, None)
}

/// One target's broken files by cause in Markdown, at most `limit` files a cause (`name`
/// renders a path).
pub fn groups_markdown(
    o: &mut String,
    t: &TargetResult,
    limit: Option<usize>,
    name: impl Fn(&str) -> String,
) {
    if t.groups.is_empty() {
        return;
    }
    let _ = writeln!(o, "\n#### {}\n", t.base);
    for g in &t.groups {
        let hint = g
            .hint
            .as_ref()
            .map(|h| format!(" — {}", h.replace('|', "\\|")))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "- **{}**: {}{hint}",
            g.cause,
            plural(g.files.len(), "file")
        );
        let (files, left) = shown(&g.files, limit);
        for f in files {
            let _ = writeln!(o, "  - `{}`", name(f));
        }
        if let Some(m) = more(left) {
            let _ = writeln!(o, "  - {m}");
        }
    }
}

/// The files of a group to name (at most `limit`), and how many are left unnamed.
fn shown(files: &[String], limit: Option<usize>) -> (&[String], usize) {
    let n = limit.unwrap_or(usize::MAX).min(files.len());
    (&files[..n], files.len() - n)
}

/// "… and 37 more (--all-files lists them)", or nothing.
fn more(left: usize) -> Option<String> {
    (left > 0).then(|| format!("… and {left} more (--all-files lists them)"))
}

/// A group's line: its cause, how many files, and its hint.
pub fn group_heading(g: &crate::audit::Group) -> String {
    let hint = g
        .hint
        .as_ref()
        .map(|h| format!(" — {h}"))
        .unwrap_or_default();
    format!("{}: {}{hint}", g.cause, plural(g.files.len(), "file"))
}

/// [`groups_human`], naming at most `limit` files per group.
fn groups_capped(o: &mut String, groups: &[crate::audit::Group], limit: Option<usize>) {
    for g in groups {
        let _ = writeln!(o, "  {}", group_heading(g));
        let (files, left) = shown(&g.files, limit);
        for f in files {
            let _ = writeln!(o, "    {f}");
        }
        if let Some(m) = more(left) {
            let _ = writeln!(o, "    {m}");
        }
    }
}

fn risks_human(o: &mut String, r: &AuditReport) {
    for t in &r.targets {
        target_risks_human(o, t, |files| files.to_string());
    }
}

/// One target's run-time risks by cause, each with its fix and at most a few files (`names`
/// renders the file list: a package escapes the names its archive gave).
pub fn target_risks_human(
    o: &mut String,
    t: &crate::audit::TargetResult,
    names: impl Fn(&str) -> String,
) {
    if t.risks.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "\n{} ({}): run-time risks of the files that load",
        t.base,
        t.libc.as_deref().unwrap_or("?")
    );
    for g in &t.risks {
        let _ = writeln!(
            o,
            "  {} ({}), {}: {}\n    fix:   {}\n    files: {}",
            g.kind,
            g.severity,
            plural(g.files.len(), "file"),
            g.base_fact,
            g.fix,
            names(&crate::text::short_list(&g.files, RISK_FILES_SHOWN))
        );
    }
}

pub fn markdown(r: &AuditReport) -> String {
    let s = &r.source;
    let mut o = String::new();
    let _ = writeln!(o, "### libccheck audit: `{}`\n", s.name);
    let _ = writeln!(o, "{} audited of {} ELF files.\n", s.audited, s.elf_files);
    o.push_str("| Target | libc | Breaks |\n|---|---|---|\n");
    for t in &r.targets {
        let status = match &t.error {
            Some(e) => format!("⚠️ {}", e.replace('|', "\\|")),
            None if t.broken == 0 => format!("✅ 0 of {}", t.audited),
            None => format!("❌ {} of {}", t.broken, t.audited),
        };
        let _ = writeln!(
            o,
            "| {} | {} | {status} |",
            t.base,
            t.libc.as_deref().unwrap_or("?")
        );
    }
    for t in &r.targets {
        groups_markdown(&mut o, t, r.files_shown, |f| f.to_string());
    }
    for t in r.targets.iter().filter(|t| !t.risks.is_empty()) {
        let _ = writeln!(o, "\n#### Run-time risks on {}\n", t.base);
        for g in &t.risks {
            let _ = writeln!(
                o,
                "- **{}** ({}), {}: {}. Fix: {}",
                g.kind,
                g.severity,
                plural(g.files.len(), "file"),
                g.base_fact.replace('|', "\\|"),
                g.fix.replace('|', "\\|")
            );
        }
    }
    o
}

/// ` (predicted only: a; the run only: b)`, or nothing.
pub(crate) fn differs_text(d: Option<&crate::probe::agreement::Differs>) -> String {
    d.map(|d| d.describe())
        .filter(|t| !t.is_empty())
        .map(|t| format!(" ({t})"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Group;
    use crate::verdict::Verdict;

    fn report(files: usize) -> AuditReport {
        let source = SourceSummary {
            name: "app".into(),
            kind: "directory".into(),
            package_manager: None,
            packages: 0,
            elf_files: files,
            audited: files,
            non_elf_files: 0,
            unreadable: vec![],
            all: true,
        };
        let target = TargetResult {
            base: "bullseye".into(),
            image: "debian:11-slim".into(),
            libc: Some("glibc 2.31".into()),
            audited: files,
            broken: files,
            mismatches: 0,
            groups: vec![Group {
                cause: "GLIBC_2.34 needed".into(),
                verdict: Verdict::MissingVersion,
                hint: Some("needs glibc ≥ 2.34".into()),
                files: (0..files).map(|i| format!("/app/lib{i:02}.so")).collect(),
            }],
            risks: vec![],
            files: vec![],
            error: None,
            unverified: None,
        };
        AuditReport::new(source, vec![target], false)
    }

    #[test]
    fn a_group_names_at_most_ten_files_unless_all_files() {
        let mut r = report(FILES_SHOWN + 3);
        let text = human(&r);
        assert!(
            text.contains("    /app/lib09.so\n    … and 3 more (--all-files lists them)\n"),
            "{text}"
        );
        assert!(!text.contains("/app/lib10.so"), "{text}");
        let md = markdown(&r);
        assert!(
            md.contains("  - `/app/lib09.so`\n  - … and 3 more (--all-files lists them)\n"),
            "{md}"
        );
        r.files_shown = None;
        let text = human(&r);
        assert!(
            text.contains("    /app/lib12.so\n") && !text.contains("more (--all-files"),
            "{text}"
        );
        // The JSON always has every file.
        assert!(json(&report(FILES_SHOWN + 3)).contains("/app/lib12.so"));
    }

    #[test]
    fn a_group_of_exactly_ten_is_listed_whole() {
        let text = human(&report(FILES_SHOWN));
        assert!(
            text.contains("/app/lib09.so\n") && !text.contains("more (--all-files"),
            "{text}"
        );
    }
}
