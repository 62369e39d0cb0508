//! The report of a check (`libccheck/report/v1`): its model, and one renderer per format behind
//! [`Renderer`] — human table, JSON, JUnit XML, Markdown, SARIF — each in its own file.

mod human;
mod junit;
mod markdown;
mod sarif;

pub use human::human;
pub use junit::junit;
pub use markdown::markdown;
pub use sarif::sarif;

use serde::{Deserialize, Serialize};

use crate::elf::BinaryProfile;
use crate::verdict::Verdict;

use crate::image::aliases::Base;
use crate::loader::Prediction;
use crate::probe::agreement::Differs;
use crate::suggest::{self, Candidate, Ranked};
use crate::verdict::{LikelyCause, Outcome, Risk, Severity};

/// What happened on one base.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct BaseResult {
    pub base: String,
    pub image: String,
    pub image_id: Option<String>,
    /// libc found in the image: `glibc 2.36`, `musl 1.2.5`, `none`.
    pub libc: Option<String>,
    /// PRETTY_NAME from the image's os-release, when it has one.
    pub os: Option<String>,
    /// The image's size: the local image's, or the catalog's figure offline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<suggest::Size>,
    pub required: bool,
    pub verdict: Verdict,
    pub reason: String,
    pub load: Option<Outcome>,
    pub exec: Option<Outcome>,
    /// What the loader simulation said before the run.
    pub prediction: Option<Prediction>,
    /// Did the run prove the prediction? `None` when there was no run or it could not decide.
    pub agree: Option<bool>,
    /// When they disagree: the details only one side named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub differs: Option<Differs>,
    /// For a glibc program on a musl base: musl's loader run on it explicitly (what gcompat would do).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub musl_compat_run: Option<Outcome>,
    /// When the run failed and a run-time risk of this base explains it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub likely_cause: Option<LikelyCause>,
    pub ms: u64,
    /// The highest x86-64 ISA level of the CPU the run's container had (`x86-64-v3`), read
    /// from `/proc/cpuinfo` when the program's note asks for more than the baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_level: Option<String>,
    /// A run in a container decided the verdict (false for predictions: `--no-run`,
    /// `--offline`, a catalog fallback, and for errors).
    #[serde(default)]
    pub verified: bool,
    /// `catalog` when the image was unavailable and the verdict is the offline catalog's
    /// prediction for the base; `prediction` when the image is here but could not be run (no
    /// probe for its platform, or the daemon cannot run that platform) and the verdict is its
    /// prediction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// Why the image could not be had (`pulling failed: …`, `not present locally …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

impl BaseResult {
    /// A base that could not be decided: `reason` says why (the verdict is `error`).
    pub fn error(base: &Base, required: bool, reason: String) -> BaseResult {
        BaseResult {
            base: base.name.clone(),
            image: base.image.clone(),
            image_id: None,
            libc: None,
            os: None,
            size: None,
            required,
            verdict: Verdict::Error,
            reason,
            load: None,
            exec: None,
            prediction: None,
            agree: None,
            differs: None,
            musl_compat_run: None,
            likely_cause: None,
            cpu_level: None,
            ms: 0,
            verified: false,
            fallback: None,
            unavailable: None,
        }
    }
}

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
    /// Required bases with a run-time risk of severity `warning`.
    #[serde(default)]
    pub at_risk: Vec<String>,
    /// Those risks fail the check (`--fail-on-risk`): every format shows them as failures.
    #[serde(default)]
    pub risks_fail: bool,
    /// The smallest checked base where the program works, when one does and the size of every
    /// base where it works is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smallest: Option<Ranked>,
    /// Every checked base by image size, smallest first (`--suggest`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranking: Vec<Ranked>,
    /// Bases whose image was unavailable, their verdict predicted from the offline catalog.
    #[serde(default)]
    pub unverified: Vec<String>,
    /// Those predictions do not decide the exit code (`--require-run`): it is 2.
    #[serde(default)]
    pub require_run: bool,
}

impl Summary {
    /// Does a run-time risk fail this base (required, at risk, and the gate is on)?
    pub fn risk_fails(&self, base: &str) -> bool {
        self.risks_fail && self.at_risk.iter().any(|b| b == base)
    }
}

/// What decides the exit code besides the verdicts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gate {
    /// A prediction the run refuted does not make the exit code 2.
    pub allow_mismatch: bool,
    /// A run-time risk of severity `warning` on a required base fails the check (exit 1).
    pub fail_on_risk: bool,
    /// A required base predicted from the catalog because its image was unavailable is an
    /// error (exit 2).
    pub require_run: bool,
}

impl BaseResult {
    /// The run-time risks predicted for this base.
    pub fn risks(&self) -> &[Risk] {
        self.prediction
            .as_ref()
            .map(|p| p.risks.as_slice())
            .unwrap_or_default()
    }

    /// This base as a candidate for the ranking by size.
    fn candidate(&self) -> Candidate {
        Candidate {
            base: self.base.clone(),
            image: self.image.clone(),
            size: self.size,
            verdict: self.verdict,
            at_risk: self.risks().iter().any(|r| r.counts_against_base()),
        }
    }
}

/// The checked bases ranked by image size, smallest first.
fn ranking(bases: &[BaseResult]) -> Vec<Ranked> {
    let candidates: Vec<Candidate> = bases.iter().map(BaseResult::candidate).collect();
    suggest::rank(&candidates)
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
    /// Reports from before the field read as this build's.
    #[serde(default = "crate::text::Tool::current")]
    pub tool: crate::text::Tool,
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
        gate: Gate,
    ) -> Report {
        let binary = BinarySummary {
            path: path.to_string(),
            headline: super::inspect::headline(profile),
            interpreter: profile.interpreter.clone(),
            libc: profile.libc.flavour.to_string(),
            glibc_min: profile.glibc_min().map(String::from),
        };
        Report::from_parts(run_id, mode, binary, exec_args, bases, gate)
    }

    /// A report from its parts (also how `libccheck merge` rebuilds one): the summary and the
    /// exit code are computed here.
    pub fn from_parts(
        run_id: &str,
        mode: &str,
        binary: BinarySummary,
        exec_args: Option<Vec<String>>,
        bases: Vec<BaseResult>,
        gate: Gate,
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
        let at_risk: Vec<String> = bases
            .iter()
            .filter(|b| b.required && b.risks().iter().any(|r| r.severity == Severity::Warning))
            .map(|b| b.base.clone())
            .collect();
        let unverified: Vec<String> = bases
            .iter()
            .filter(|b| b.fallback.is_some())
            .map(|b| b.base.clone())
            .collect();
        let undecided = |b: &BaseResult| {
            b.verdict == Verdict::Error || (gate.require_run && b.fallback.is_some())
        };
        let exit_code = if bases.iter().any(|b| b.required && undecided(b))
            || (!gate.allow_mismatch && !mismatches.is_empty())
        {
            2
        } else if required_failing.is_empty() && (!gate.fail_on_risk || at_risk.is_empty()) {
            0
        } else {
            1
        };
        Report {
            schema: SCHEMA.to_string(),
            tool: crate::text::Tool::current(),
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
                at_risk,
                risks_fail: gate.fail_on_risk,
                smallest: suggest::smallest(&ranking(&bases)).cloned(),
                ranking: vec![],
                unverified,
                require_run: gate.require_run,
            },
            bases,
            exit_code,
        }
    }

    /// This report with every checked base ranked by image size (`--suggest`).
    pub fn with_ranking(mut self) -> Report {
        self.summary.ranking = ranking(&self.bases);
        self
    }

    /// `works`, `no_interpreter`, `ok, at risk (ca_bundle)`: how the program fares on a ranked
    /// base, with the warnings that keep it from being recommended.
    pub fn ranked_result(&self, ranked: &Ranked) -> String {
        let mut result = ranked.result();
        if ranked.at_risk {
            let kinds: Vec<String> = self
                .bases
                .iter()
                .filter(|b| b.base == ranked.base)
                .flat_map(|b| b.risks())
                .filter(|risk| risk.counts_against_base())
                .map(|risk| risk.kind.to_string())
                .collect();
            result.push_str(&format!(" ({})", kinds.join(", ")));
        }
        result
    }
}

/// A ranked base's size (`15 MB`, `-` when unknown) and where the figure comes from.
fn size_cells(ranked: &Ranked) -> (String, &'static str) {
    match ranked.size {
        Some(s) => (
            suggest::size_text(s.bytes),
            match s.from {
                suggest::SizeFrom::Local => "local",
                suggest::SizeFrom::Catalog => "catalog",
            },
        ),
        None => ("-".into(), "unknown"),
    }
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

pub fn json(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(r).expect("report serialises");
    s.push('\n');
    s
}

/// A check's report in one output format.
pub trait Renderer {
    fn render(&self, report: &Report) -> String;
}

struct Human {
    color: bool,
    width: Option<u16>,
}
struct Json;
struct Junit;
struct Markdown;
struct Sarif;

impl Renderer for Human {
    fn render(&self, r: &Report) -> String {
        human(&r.printable(), self.color, self.width)
    }
}
impl Renderer for Json {
    fn render(&self, r: &Report) -> String {
        json(r)
    }
}
impl Renderer for Junit {
    fn render(&self, r: &Report) -> String {
        junit(r)
    }
}
impl Renderer for Markdown {
    fn render(&self, r: &Report) -> String {
        markdown(&r.printable())
    }
}
impl Renderer for Sarif {
    fn render(&self, r: &Report) -> String {
        sarif(r)
    }
}

/// The renderer of `format`; `color` paints the human table's verdicts, `width` is the
/// terminal's (the human table fits it; `None`: no limit). Text formats show ELF strings with
/// control characters escaped.
pub fn renderer(format: super::Format, color: bool, width: Option<u16>) -> Box<dyn Renderer> {
    use super::Format as F;
    match format {
        F::Human => Box::new(Human { color, width }),
        F::Json => Box::new(Json),
        F::Junit => Box::new(Junit),
        F::Markdown => Box::new(Markdown),
        F::Sarif => Box::new(Sarif),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &str, verdict: Verdict, bytes: Option<u64>) -> BaseResult {
        let base = Base {
            name: name.into(),
            image: format!("{name}:latest"),
        };
        let mut r = BaseResult::error(&base, true, "reason".into());
        r.verdict = verdict;
        r.size = bytes.map(|bytes| suggest::Size {
            bytes,
            from: suggest::SizeFrom::Local,
        });
        r
    }

    fn report(bases: Vec<BaseResult>) -> Report {
        let binary = BinarySummary {
            path: "app".into(),
            headline: "needs glibc".into(),
            interpreter: None,
            libc: "glibc".into(),
            glibc_min: None,
        };
        Report::from_parts("r", "no_run", binary, None, bases, Gate::default())
    }

    /// A report whose bases carry no size (one merged from older JSON) reads as it always did.
    #[test]
    fn without_sizes_nothing_is_claimed() {
        let r = report(vec![
            result("slim", Verdict::Ok, None),
            result("cc", Verdict::Ok, None),
        ]);
        assert_eq!(r.summary.smallest, None);
        let text = human(&r, false, None);
        assert!(
            text.ends_with("\npredicted to work on 2 of 2 bases\n"),
            "{text}"
        );
        assert!(!json(&r).contains("smallest"));
    }

    /// Bases that could not be checked are errors, not failures: the summary says which.
    #[test]
    fn errors_are_not_failures() {
        let mut r = report(vec![
            result("a", Verdict::Error, None),
            result("b", Verdict::Error, None),
        ]);
        r.mode = "run".into();
        assert_eq!(r.exit_code, 2);
        let text = human(&r, false, None);
        assert!(
            text.ends_with("\nworks on 0 of 2 bases; errors (no verdict): a, b\n"),
            "{text}"
        );
    }

    /// A base predicted from the catalog in a run decides the exit code by its prediction,
    /// unless the gate requires a run.
    #[test]
    fn catalog_fallbacks_decide_unless_a_run_is_required() {
        let fallback = |name: &str, verdict: Verdict| {
            let mut b = result(name, verdict, None);
            b.fallback = Some("catalog".into());
            b.unavailable = Some("pulling failed: no such host".into());
            b
        };
        let binary = report(vec![]).binary;
        let bases = vec![
            result("local", Verdict::Ok, None),
            fallback("x", Verdict::Ok),
            fallback("y", Verdict::NoInterpreter),
        ];
        let r = Report::from_parts(
            "r",
            "run",
            binary.clone(),
            None,
            bases.clone(),
            Gate::default(),
        );
        assert_eq!(r.exit_code, 1);
        assert_eq!(r.summary.unverified, ["x", "y"]);
        let text = human(&r, false, None);
        assert!(
            text.ends_with("\nworks on 1 of 3 bases; 2 not verified (image unavailable), predicted to work on 1 of them; required but failing: y\n"),
            "{text}"
        );
        assert_eq!(text.matches("no such host").count(), 1, "{text}");
        assert!(
            markdown(&r).contains(
                "\n⚠️ Not verified on x, y: image unavailable, predicted from the offline catalog.\n"
            ),
            "{}",
            markdown(&r)
        );
        let gate = Gate {
            require_run: true,
            ..Gate::default()
        };
        let r = Report::from_parts("r", "run", binary, None, bases, gate);
        assert_eq!(r.exit_code, 2);
    }

    #[test]
    fn with_sizes_the_smallest_that_works_closes_the_report() {
        let r = report(vec![
            result("slim", Verdict::Ok, Some(73_000_000)),
            result("static", Verdict::NoInterpreter, Some(2_000_000)),
            result("cc", Verdict::Ok, Some(15_000_000)),
        ])
        .with_ranking();
        let text = human(&r, false, None);
        assert!(
            text.ends_with("\nsmallest base that works: cc (15 MB)\n"),
            "{text}"
        );
        assert!(
            text.contains("\n  2.0 MB  local  static  no_interpreter\n"),
            "{text}"
        );
        let md = markdown(&r);
        assert!(
            md.contains("\nSmallest base that works: cc (15 MB).\n"),
            "{md}"
        );
        assert!(md.contains("| 15 MB (local) | cc | ✅ works |"), "{md}");
    }

    fn hinted(name: &str, verdict: Verdict, hint: &str) -> BaseResult {
        let mut r = result(name, verdict, None);
        r.prediction = Some(Prediction {
            hints: vec![hint.into()],
            ..Prediction::new(verdict, "reason")
        });
        r
    }

    /// Where nothing ran (offline, --no-run) the Markdown says the result is predicted.
    #[test]
    fn markdown_says_predicted_where_nothing_ran_and_ok_where_it_did() {
        let bases = || vec![result("slim", Verdict::Ok, None)];
        let md = markdown(&report(bases()));
        assert!(md.contains("| ✅ predicted ok |"), "{md}");
        assert!(
            md.contains("\nPredicted to work on **1 of 1** bases.\n"),
            "{md}"
        );
        let mut ran = report(bases());
        ran.mode = "run".into();
        let md = markdown(&ran);
        assert!(
            md.contains("| ✅ ok |") && !md.contains("predicted"),
            "{md}"
        );
        assert!(md.contains("\nWorks on **1 of 1** bases.\n"), "{md}");
    }

    #[test]
    fn markdown_carries_the_hints() {
        let r = report(vec![
            hinted(
                "bullseye",
                Verdict::MissingVersion,
                "needs glibc ≥ 2.34 | or not",
            ),
            result("slim", Verdict::Ok, None),
        ]);
        let md = markdown(&r);
        assert!(
            md.contains("\n#### How to fix\n\n- **bullseye**: needs glibc ≥ 2.34 \\| or not\n"),
            "{md}"
        );
        assert!(!markdown(&report(vec![result("slim", Verdict::Ok, None)])).contains("How to fix"));
    }

    #[test]
    fn exec_output_shows_the_first_lines_of_a_failed_run() {
        let mut b = result("slim", Verdict::Crash, None);
        let mut e = Outcome::new(Verdict::Crash, "killed by SIGSEGV");
        e.stderr = Some("one\ntwo\n\nthree\nfour\nfive\n".into());
        b.exec = Some(e);
        let mut ok = result("cc", Verdict::Ok, None);
        ok.exec = Some(Outcome::new(Verdict::Ok, "exited 0"));
        let text = human(&report(vec![b, ok]).printable(), false, None);
        assert!(
            text.contains("\nexec probe output (first lines):\n  slim (stderr):\n    one\n    two\n    three\n    … 2 more lines (--format json)\n\n"),
            "{text}"
        );
        assert!(!text.contains("  cc ("), "{text}");
    }
}
