//! Formats for a package check (a wheel, a jar, a directory): the package and its tag findings,
//! one line per base, then per base the files that break, grouped by cause.

use std::fmt::Write as _;

use serde::Serialize;

use super::audit::plural;
use crate::audit::TargetResult;
use crate::package::read::Package;
use crate::package::tags::{Finding, Severity};
use crate::package::{BaseResult, PackageKind, PackageVerdict, Wheel};

pub const SCHEMA: &str = "libccheck/package/v1";

#[derive(Debug, Clone, Serialize)]
pub struct PackageSummary {
    pub kind: PackageKind,
    pub name: String,
    pub path: String,
    /// Where its files were placed in each base.
    pub install_dir: String,
    pub elf_files: usize,
    pub other_files: usize,
    pub unreadable: Vec<(String, String)>,
    /// Wheels only: the name's parts, the platform tags and what is wrong with them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wheel: Option<Wheel>,
}

impl PackageSummary {
    pub fn new(p: &Package) -> PackageSummary {
        PackageSummary {
            kind: p.kind,
            name: p.name.clone(),
            path: p.path.display().to_string(),
            install_dir: p.kind.install_dir().to_string(),
            elf_files: p.source.files.len(),
            other_files: p.source.non_elf,
            unreadable: p
                .source
                .unreadable
                .iter()
                .map(|(f, e)| (crate::package::shown(f).to_string(), e.clone()))
                .collect(),
            wheel: p.wheel.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub bases: usize,
    pub works: usize,
    pub fails: usize,
    pub errors: usize,
    pub required_failing: Vec<String>,
    /// Required bases with a run-time risk of severity warning.
    pub at_risk: Vec<String>,
    /// Whether `--fail-on-risk` made those fail.
    pub risks_fail: bool,
    pub mismatches: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct PackageReport {
    pub schema: &'static str,
    pub tool: crate::text::Tool,
    /// `run`, `no_run` or `offline`.
    pub mode: &'static str,
    pub package: PackageSummary,
    pub bases: Vec<BaseResult>,
    pub summary: Summary,
    pub exit_code: u8,
}

impl PackageReport {
    pub fn new(
        mode: &'static str,
        package: PackageSummary,
        bases: Vec<BaseResult>,
        gate: crate::package::Gate,
    ) -> PackageReport {
        let count = |v| bases.iter().filter(|b| b.verdict == v).count();
        let summary = Summary {
            bases: bases.len(),
            works: count(PackageVerdict::Works),
            fails: count(PackageVerdict::Fails),
            errors: count(PackageVerdict::Error),
            required_failing: bases
                .iter()
                .filter(|b| b.required && b.verdict != PackageVerdict::Works)
                .map(|b| b.target.base.clone())
                .collect(),
            at_risk: bases
                .iter()
                .filter(|b| b.required && crate::package::at_risk(b))
                .map(|b| b.target.base.clone())
                .collect(),
            risks_fail: gate.fail_on_risk,
            mismatches: bases.iter().map(|b| b.target.mismatches).sum(),
        };
        let exit_code = crate::package::exit_code(&bases, package.unreadable.len(), gate);
        PackageReport {
            schema: SCHEMA,
            tool: crate::text::Tool::current(),
            mode,
            package,
            bases,
            summary,
            exit_code,
        }
    }
}

pub fn json(r: &PackageReport) -> String {
    serde_json::to_string_pretty(r).expect("package report serialises") + "\n"
}

/// A string from the package (a member's name is the archive's to choose) that must stay on its
/// line of the report.
fn field(s: &str) -> std::borrow::Cow<'_, str> {
    crate::text::printable_field(s)
}

/// `wheel pkgdemo 1.0 (cp311-cp311-manylinux_2_17_x86_64)`, `Java archive`, `directory`.
fn what(p: &PackageSummary) -> String {
    match &p.wheel {
        Some(w) => format!(
            "wheel {} {} ({})",
            w.name.distribution,
            w.name.version,
            w.name.tag()
        ),
        None => p.kind.describe().to_string(),
    }
}

fn finding_line(f: &Finding) -> String {
    let severity = match f.severity {
        Severity::Wrong => "wrong",
        Severity::Note => "note",
    };
    format!("platform tag ({severity}): {}", field(&f.message))
}

pub fn human(r: &PackageReport) -> String {
    let p = &r.package;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}: {}; {}, {}",
        p.name,
        what(p),
        plural(p.elf_files, "ELF file"),
        plural(p.other_files, "other file")
    );
    for (f, e) in &p.unreadable {
        let _ = writeln!(o, "  could not read {f}: {e}");
    }
    for f in p.wheel.iter().flat_map(|w| &w.tag_findings) {
        let _ = writeln!(o, "{}", finding_line(f));
    }
    o.push('\n');
    table(&mut o, r);
    for b in r.bases.iter().filter(|b| !b.target.groups.is_empty()) {
        detail(&mut o, b);
    }
    risks(&mut o, r);
    let targets: Vec<&TargetResult> = r.bases.iter().map(|b| &b.target).collect();
    let name = |p: &str| field(p).into_owned();
    super::audit::file_notes(&mut o, &targets, name);
    super::audit::file_mismatches(&mut o, &targets, name);
    let s = &r.summary;
    let _ = write!(o, "\nworks on {} of {} bases", s.works, s.bases);
    if !s.required_failing.is_empty() {
        let _ = write!(
            o,
            "; required but failing: {}",
            s.required_failing.join(", ")
        );
    }
    if !s.at_risk.is_empty() {
        let fail = if s.risks_fail {
            " (--fail-on-risk)"
        } else {
            ""
        };
        let _ = write!(o, "; run-time risks on {}{fail}", s.at_risk.join(", "));
    }
    o.push('\n');
    o
}

/// One line per base: its libc, whether pip installs the wheel there, the verdict and why.
fn table(o: &mut String, r: &PackageReport) {
    let w = r
        .bases
        .iter()
        .map(|b| b.target.base.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let wheel = r.package.wheel.is_some();
    let pip = |b: &BaseResult| match &b.pip {
        Some(p) if p.installs => "installs",
        Some(_) => "refuses",
        None => "-",
    };
    let pip_header = if wheel {
        format!("{:9} ", "PIP")
    } else {
        String::new()
    };
    let _ = writeln!(o, "{:w$}  {:12}  {pip_header}RESULT", "BASE", "LIBC");
    for b in &r.bases {
        let pip_cell = if wheel {
            format!("{:9} ", pip(b))
        } else {
            String::new()
        };
        let _ = writeln!(
            o,
            "{:w$}  {:12}  {pip_cell}{:5}  {}",
            b.target.base,
            b.target.libc.as_deref().unwrap_or("?"),
            b.verdict.to_string(),
            field(&b.summary)
        );
    }
}

/// The files that break on one base, grouped by cause, each with its reason.
fn detail(o: &mut String, b: &BaseResult) {
    let t = &b.target;
    let _ = writeln!(
        o,
        "\n{} ({}): {} of {} break",
        t.base,
        t.libc.as_deref().unwrap_or("?"),
        plural(t.broken, "file"),
        t.audited
    );
    if let Some(p) = b.pip.as_ref().filter(|p| !p.installs) {
        let _ = writeln!(o, "  pip refuses the wheel: {}", p.reason);
    }
    for g in &t.groups {
        let _ = writeln!(o, "  {}", super::audit::group_heading(g));
        for f in &g.files {
            let reason = t
                .files
                .iter()
                .find(|r| &r.path == f)
                .map(|r| format!(": {}", field(&r.reason)))
                .unwrap_or_default();
            let _ = writeln!(o, "    {}{reason}", field(f));
        }
    }
}

fn risks(o: &mut String, r: &PackageReport) {
    for b in &r.bases {
        crate::report::audit::target_risks_human(o, &b.target, |s| field(s).into_owned());
    }
}

pub fn markdown(r: &PackageReport) -> String {
    let p = &r.package;
    let mut o = String::new();
    let _ = writeln!(o, "### libccheck: `{}` ({})\n", p.name, what(p));
    let _ = writeln!(
        o,
        "{} checked, {}.\n",
        plural(p.elf_files, "ELF file"),
        plural(p.other_files, "other file")
    );
    for f in p.wheel.iter().flat_map(|w| &w.tag_findings) {
        let _ = writeln!(o, "- **{}**\n", finding_line(f).replace('|', "\\|"));
    }
    let wheel = p.wheel.is_some();
    let _ = writeln!(
        o,
        "| Base | libc |{} Result |\n|---|---|{}---|",
        if wheel { " pip |" } else { "" },
        if wheel { "---|" } else { "" }
    );
    for b in &r.bases {
        let mark = match b.verdict {
            PackageVerdict::Works => "✅",
            PackageVerdict::Fails => "❌",
            PackageVerdict::Error => "⚠️",
        };
        let pip = match (&b.pip, wheel) {
            (Some(p), _) if p.installs => " installs |",
            (Some(_), _) => " refuses |",
            (None, true) => " - |",
            (None, false) => "",
        };
        let _ = writeln!(
            o,
            "| {} | {} |{pip} {mark} {} |",
            b.target.base,
            b.target.libc.as_deref().unwrap_or("?"),
            field(&b.summary).replace('|', "\\|")
        );
    }
    for b in &r.bases {
        super::audit::groups_markdown(&mut o, &b.target, None, |f| field(f).into_owned());
    }
    o
}
