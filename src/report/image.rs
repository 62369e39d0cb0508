//! `libccheck image` reports: human, JSON (`libccheck/image/v1`) and Markdown. The entrypoint
//! first, then the other broken files grouped by cause.

use std::fmt::Write as _;

use crate::report::audit::{groups_human, plural};
use crate::start::{ImageReport, ProgramCheck};
use crate::verdict::Verdict;

pub fn json(r: &ImageReport) -> String {
    let mut s = serde_json::to_string_pretty(r).expect("image report serialises");
    s.push('\n');
    s
}

/// Predictions the run refuted: the programs' and the application files'.
pub fn mismatches(r: &ImageReport) -> usize {
    let programs = [&r.program, &r.shell_command]
        .into_iter()
        .flatten()
        .filter(|p| p.agree == Some(false))
        .count();
    programs + r.files.mismatches
}

/// `["/app/server","--port","80"]`
fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// What the container runs: the command, how it was configured, and each step to the program.
fn runs_lines(o: &mut String, r: &ImageReport) {
    let c = &r.config;
    let mut how = Vec::new();
    if !c.entrypoint.is_empty() {
        how.push(format!("Entrypoint {}", json_list(&c.entrypoint)));
    }
    if !c.cmd.is_empty() {
        how.push(format!("Cmd {}", json_list(&c.cmd)));
    }
    let _ = writeln!(
        o,
        "runs:    {}  ({})",
        r.start.argv.join(" "),
        how.join(", ")
    );
    let steps: Vec<String> = r
        .start
        .steps
        .iter()
        .chain(r.shell_start.iter().flat_map(|s| &s.steps))
        .map(|s| match s.named == s.path {
            true => format!("{} ({})", s.path, s.kind),
            false => format!("{} = {} ({})", s.named, s.path, s.kind),
        })
        .collect();
    if !steps.is_empty() {
        let _ = writeln!(o, "         {}", steps.join(" → "));
    }
    let user = if r.user.user.is_empty() {
        "root".to_string()
    } else {
        r.user.user.clone()
    };
    let _ = writeln!(o, "user:    {user}: {}", r.user.fact);
}

/// One program's verdict, predicted and run, with its fix hints.
fn program_lines(o: &mut String, what: &str, p: &ProgramCheck) {
    let packaged = if p.packaged {
        " (installed by the package manager)"
    } else {
        ""
    };
    let _ = writeln!(o, "{what}: {}{packaged}", p.path);
    let run = p
        .load
        .as_ref()
        .map(|l| format!(", the loader said {}", l.verdict))
        .unwrap_or_default();
    let _ = writeln!(
        o,
        "  {}: {} (predicted {}{run})",
        p.verdict, p.reason, p.prediction.verdict
    );
    if p.verdict != Verdict::Ok {
        for h in &p.prediction.hints {
            let _ = writeln!(o, "  fix: {h}");
        }
    }
    if p.agree == Some(false) {
        let _ = writeln!(
            o,
            "  PREDICTION MISMATCH: libccheck predicted {}, the loader said {}{}. Please report it.",
            p.prediction.verdict,
            p.load.as_ref().map(|l| l.verdict).unwrap_or(p.verdict),
            crate::report::audit::differs_text(p.differs.as_ref())
        );
    }
}

pub fn human(r: &ImageReport) -> String {
    let mut o = String::new();
    let os = r.os.as_deref().unwrap_or("unknown OS");
    let id = r.image_id.trim_start_matches("sha256:");
    let _ = writeln!(
        o,
        "{} ({}; {os}, {})",
        r.image,
        &id[..id.len().min(12)],
        r.libc
    );
    runs_lines(&mut o, r);
    o.push('\n');
    match &r.why_not {
        Some(why) => {
            let _ = writeln!(o, "WILL NOT START: {why}");
        }
        None if r.mode == "run" => {
            let _ = writeln!(o, "starts: verified in a container of the image");
        }
        None => match &r.unverified {
            Some(why) => {
                let _ = writeln!(o, "starts (predicted, not verified: {why})");
            }
            None => {
                let _ = writeln!(o, "starts (predicted; --no-run started no container)");
            }
        },
    }
    if let Some(p) = &r.program {
        program_lines(&mut o, "\nprogram", p);
    }
    if let Some(p) = &r.shell_command {
        program_lines(&mut o, "\nthe shell's command", p);
    }
    if let Some(e) = &r.exec {
        let _ = writeln!(o, "\n--exec: {}: {}", e.verdict, e.reason);
    }
    for risk in &r.risks {
        let _ = writeln!(
            o,
            "\nrun-time risk {} ({}): {}\n  base: {}\n  fix:  {}",
            risk.kind, risk.severity, risk.evidence, risk.base_fact, risk.fix
        );
    }
    smaller_lines(&mut o, r);
    let f = &r.files;
    let _ = writeln!(
        o,
        "\nother application files: {} checked against the image, {} broken",
        f.checked,
        plural(f.broken, "file")
    );
    groups_human(&mut o, &f.groups);
    for p in f.files.iter().filter(|x| x.agree == Some(false)) {
        let _ = writeln!(
            o,
            "  PREDICTION MISMATCH for {}: predicted {}, the loader said {}",
            p.path,
            p.predicted,
            p.verified.map(|v| v.to_string()).unwrap_or_default()
        );
    }
    o
}

/// "would also run on distroless-cc (15 MB instead of 73 MB)", and with --suggest every
/// alternative by size.
fn smaller_lines(o: &mut String, r: &ImageReport) {
    let Some(s) = &r.smaller else {
        return;
    };
    match (s.current, s.smaller.first()) {
        (Some(current), Some(best)) => {
            let others = s.smaller.len() - 1;
            let more = match (others, s.ranking.is_empty()) {
                (0, _) | (_, false) => String::new(),
                (n, true) => format!(" (and {n} more; --suggest lists them)"),
            };
            let _ = writeln!(
                o,
                "
would also run on {} (predicted){more}",
                best.instead_of(current)
            );
        }
        _ => {
            if let Some(why) = &s.why_none {
                let _ = writeln!(
                    o,
                    "
smaller bases: none suggested: {why}"
                );
            }
        }
    }
    if !s.ranking.is_empty() {
        let _ = writeln!(
            o,
            "
bases by image size, smallest first (predicted):"
        );
        let w = s.ranking.iter().map(|b| b.base.len()).max().unwrap_or(0);
        for b in &s.ranking {
            let size = b
                .size
                .map(|z| crate::suggest::size_text(z.bytes))
                .unwrap_or_else(|| "?".into());
            let _ = writeln!(o, "  {size:>8}  {:w$}  {}", b.base, b.result());
        }
    }
}

pub fn markdown(r: &ImageReport) -> String {
    let mut o = String::new();
    let verdict = match &r.why_not {
        None => "✅ starts".to_string(),
        Some(why) => format!("❌ will not start: {}", md_cell(why)),
    };
    let _ = writeln!(o, "### libccheck image `{}`\n\n{verdict}\n", r.image);
    let _ = writeln!(o, "| what | path | verdict | reason |\n|---|---|---|---|");
    for (what, p) in [
        ("program", &r.program),
        ("shell's command", &r.shell_command),
    ] {
        if let Some(p) = p {
            let _ = writeln!(
                o,
                "| {what} | `{}` | {} | {} |",
                p.path,
                p.verdict,
                md_cell(&p.reason)
            );
        }
    }
    for file in r.files.files.iter().filter(|f| f.verdict != Verdict::Ok) {
        let _ = writeln!(
            o,
            "| file | `{}` | {} | {} |",
            file.path,
            file.verdict,
            md_cell(&file.reason)
        );
    }
    o
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}
