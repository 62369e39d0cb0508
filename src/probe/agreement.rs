//! Did the run prove the prediction? The comparison of a predicted verdict and its problems with
//! what the loader reported in the container, and the details only one side named. Pure.

use serde::Serialize;

use crate::loader::Prediction;
use crate::probe::classify::is_via_dlopen;
use crate::verdict::{self, Problem, Verdict};

/// The details (library, version, symbol, refused feature) only one side named, when prediction
/// and run disagree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Differs {
    pub predicted_only: Vec<String>,
    pub run_only: Vec<String>,
}

impl Differs {
    /// `predicted only: a, b; the run only: c`
    pub fn describe(&self) -> String {
        let side =
            |what: &str, v: &[String]| (!v.is_empty()).then(|| format!("{what}: {}", v.join(", ")));
        [
            side("predicted only", &self.predicted_only),
            side("the run only", &self.run_only),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("; ")
    }
}

/// Does the run prove the prediction (`None`: it cannot tell), and which details differ when not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    pub agree: Option<bool>,
    pub differs: Option<Differs>,
}

/// The key a loader's report names a problem by, for the problems of one verdict, sorted.
fn problem_keys(ps: &[verdict::Problem], verdict: Verdict) -> Vec<String> {
    let mut k: Vec<String> = ps
        .iter()
        .filter(|p| p.verdict() == verdict)
        .filter_map(|p| match p {
            // A loader that crashes names nothing: the signal is the run's whole report.
            verdict::Problem::LoaderCrash { .. } => None,
            p => Some(problem_key(p)),
        })
        .collect();
    k.sort();
    k.dedup();
    k
}

fn problem_key(p: &verdict::Problem) -> String {
    match p {
        verdict::Problem::LoaderCrash { what, .. } => what.clone(),
        verdict::Problem::NoInterpreter { .. } => String::new(),
        // glibc's message names no level: the verdict says it all.
        verdict::Problem::CpuUnsupported { .. } => String::new(),
        verdict::Problem::WrongArch { machine, .. } => machine.clone(),
        verdict::Problem::MissingLibrary { library, .. } => library.clone(),
        verdict::Problem::MissingVersion { version, .. } => version.clone(),
        verdict::Problem::MissingSymbol { symbol, .. } => symbol.clone(),
        verdict::Problem::Unsupported { what, .. } => what.clone(),
    }
}

fn without_empty(mut keys: Vec<String>) -> Vec<String> {
    keys.retain(|k| !k.is_empty());
    keys
}

/// Compare a prediction with the run's verdict and problems. `cut`: the loader's report was cut at
/// the capture limit, so it lists its first errors only (musl prints one line per failing
/// relocation: a Perl module's hundred host symbols fill kilobytes). Then a predicted problem the
/// run does not show may be in the part cut off; one the run shows must still be predicted.
pub fn compare(
    pred: &Prediction,
    actual: Verdict,
    actual_problems: &[verdict::Problem],
    cut: bool,
) -> Comparison {
    let unsupported = |ps: &[verdict::Problem]| {
        ps.iter()
            .any(|p| matches!(p, verdict::Problem::Unsupported { .. }))
    };
    let only = |agree| Comparison {
        agree,
        differs: None,
    };
    if actual == Verdict::Error && unsupported(actual_problems) {
        return only(Some(
            pred.verdict == Verdict::Error && unsupported(&pred.problems),
        ));
    }
    if matches!(actual, Verdict::Error | Verdict::Timeout) {
        return only(None);
    }
    let (p, r) = (
        problem_keys(&pred.problems, pred.verdict),
        problem_keys(actual_problems, actual),
    );
    let one_side = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter().filter(|k| !b.contains(k)).cloned().collect()
    };
    let differs = Differs {
        predicted_only: one_side(&p, &r),
        run_only: one_side(&r, &p),
    };
    let agree = match (cut, pred.verdict == actual) {
        (false, same) => Some(same && differs == Differs::default()),
        (true, _) if !differs.run_only.is_empty() => Some(false),
        (true, true) => Some(true),
        // The run's verdict comes from what it showed; the rest of its report may hold the
        // predicted problems.
        (true, false) => None,
    };
    // A missing interpreter has no name to list (the verdicts say it).
    let differs = Differs {
        predicted_only: without_empty(differs.predicted_only),
        run_only: without_empty(differs.run_only),
    };
    Comparison {
        agree,
        differs: (agree != Some(true) && differs != Differs::default()).then_some(differs),
    }
}

/// The prediction of the load alone: without the libraries the program would `dlopen` once
/// running, which no load probe sees.
pub fn at_load(pred: &Prediction) -> Prediction {
    let mut p = pred.clone();
    // Nor does glibc's trace mode check the CPU's ISA level (measured, glibc 2.36).
    let unseen = |q: &verdict::Problem| {
        is_via_dlopen(q) || matches!(q, verdict::Problem::CpuUnsupported { .. })
    };
    if p.problems.iter().any(unseen) {
        p.problems.retain(|q| !unseen(q));
        if p.problems.is_empty() {
            p.verdict = Verdict::Ok;
        }
    }
    p
}

/// Did the program's own run prove what the prediction said of the libraries it `dlopen`s?
/// `exec`: the run's verdict and problems. A predicted missing library the run failed to open,
/// or a failure the prediction foresaw (as a problem or a `dlopen` risk), proves it. What the
/// program prints is its own: it may confirm a prediction but never refute one (a run that does
/// not reach its `dlopen`, or prints a forged line, leaves it undecided). `None` when neither
/// side names a library.
pub fn compare_dlopen(
    pred: &Prediction,
    exec: Option<(Verdict, &[Problem])>,
) -> Option<Comparison> {
    let predicted: Vec<&str> = pred
        .problems
        .iter()
        .filter(|p| is_via_dlopen(p))
        .filter_map(Problem::missing_library)
        .flat_map(|alternatives| alternatives.split(" | "))
        .collect();
    let (verdict, problems) = exec?;
    if matches!(verdict, Verdict::Error | Verdict::Timeout) {
        return (!predicted.is_empty()).then_some(Comparison {
            agree: None,
            differs: None,
        });
    }
    let shown: Vec<&str> = problems
        .iter()
        .filter(|p| is_via_dlopen(p))
        .filter_map(Problem::missing_library)
        .collect();
    if predicted.is_empty() && shown.is_empty() {
        return None;
    }
    // A risk names the library in its evidence ("dlopen: libssl.so.3 (recommended, string)"),
    // or the library that one needs in the base's fact: as a whole word.
    let names = |text: &str, lib: &str| {
        text.split(|c: char| c.is_whitespace() || ",;()|".contains(c))
            .any(|w| w == lib)
    };
    let foreseen = |lib: &str| {
        predicted.contains(&lib)
            || pred.risks.iter().any(|r| {
                r.kind == crate::verdict::RiskKind::Dlopen
                    && (names(&r.evidence, lib) || names(&r.base_fact, lib))
            })
    };
    let differs = Differs {
        predicted_only: match shown.iter().any(|s| predicted.contains(s)) {
            true => vec![],
            false => predicted.iter().map(|s| s.to_string()).collect(),
        },
        run_only: shown
            .iter()
            .filter(|s| !foreseen(s))
            .map(|s| s.to_string())
            .collect(),
    };
    let proven = differs == Differs::default();
    Some(Comparison {
        agree: proven.then_some(true),
        differs: (!proven).then_some(differs),
    })
}

/// Did the program's start prove what the prediction said of the CPU's ISA level? `None` when
/// there was no start or neither side names the level.
pub fn compare_cpu(pred: &Prediction, exec: Option<(Verdict, &[Problem])>) -> Option<Comparison> {
    let (verdict, _) = exec?;
    let predicted = pred.verdict == Verdict::CpuUnsupported;
    let shown = verdict == Verdict::CpuUnsupported;
    if !predicted && !shown {
        return None;
    }
    let agree = match verdict {
        Verdict::Error | Verdict::Timeout => None,
        _ => Some(predicted == shown),
    };
    let differs = (agree == Some(false)).then(|| {
        let side = |b: bool| {
            if b {
                vec!["cpu_unsupported".to_string()]
            } else {
                vec![]
            }
        };
        Differs {
            predicted_only: side(predicted),
            run_only: side(shown),
        }
    });
    Some(Comparison { agree, differs })
}

/// The load's comparison and the `dlopen` one together: both must agree.
pub fn combine(load: Comparison, dlopen: Option<Comparison>) -> Comparison {
    let Some(d) = dlopen else {
        return load;
    };
    let agree = match (load.agree, d.agree) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    };
    let differs = match (load.differs, d.differs) {
        (Some(mut a), Some(b)) => {
            a.predicted_only.extend(b.predicted_only);
            a.run_only.extend(b.run_only);
            Some(a)
        }
        (a, b) => a.or(b),
    };
    Comparison { agree, differs }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn missing(symbols: &[&str]) -> Vec<verdict::Problem> {
        symbols
            .iter()
            .map(|s| verdict::Problem::MissingSymbol {
                symbol: s.to_string(),
                version: None,
                needed_by: None,
            })
            .collect()
    }

    /// A whole report must name what was predicted; a cut one only nothing unpredicted. Either
    /// way a disagreement says which details differ.
    #[test]
    fn comparison_of_whole_and_cut_reports() {
        let pred = Prediction {
            problems: missing(&["__memcpy_chk", "__sprintf_chk"]),
            loader: Some("musl".into()),
            ..Prediction::new(Verdict::MissingSymbol, "")
        };
        let ms = Verdict::MissingSymbol;
        let whole = compare(
            &pred,
            ms,
            &missing(&["__sprintf_chk", "__memcpy_chk"]),
            false,
        );
        assert_eq!((whole.agree, whole.differs), (Some(true), None));
        let shown = missing(&["__memcpy_chk"]);
        let c = compare(&pred, ms, &shown, false);
        assert_eq!(c.agree, Some(false));
        let d = c.differs.unwrap();
        assert_eq!(
            (d.predicted_only, d.run_only),
            (vec!["__sprintf_chk".to_string()], vec![])
        );
        assert_eq!(
            compare(&pred, ms, &shown, true).agree,
            Some(true),
            "the rest was cut off"
        );
        let c = compare(&pred, ms, &missing(&["__memcpy_chk", "strlcpy"]), true);
        assert_eq!(c.agree, Some(false), "a shown symbol must be predicted");
        assert_eq!(
            c.differs.unwrap().describe(),
            "predicted only: __sprintf_chk; the run only: strlcpy"
        );
        let c = compare(&pred, Verdict::Ok, &[], true);
        assert_eq!(
            c.agree, None,
            "a cut report that shows nothing cannot refute the prediction"
        );
    }

    fn via_dlopen(library: &str) -> verdict::Problem {
        verdict::Problem::MissingLibrary {
            library: library.into(),
            needed_by: None,
            via: Some("dlopen".into()),
        }
    }

    /// The run's failed dlopen must be what was predicted, as a problem or as a dlopen risk.
    #[test]
    fn dlopen_comparison() {
        let mut pred = Prediction {
            problems: vec![via_dlopen("libz.so.1 | libz.so")],
            loader: Some("glibc".into()),
            ..Prediction::new(Verdict::MissingLibrary, "")
        };
        assert_eq!(at_load(&pred).verdict, Verdict::Ok);
        let failed = [via_dlopen("libz.so")];
        let agrees = compare_dlopen(&pred, Some((Verdict::MissingLibrary, &failed))).unwrap();
        assert_eq!(agrees.agree, Some(true));
        let ran = compare_dlopen(&pred, Some((Verdict::Ok, &[]))).unwrap();
        assert_eq!(
            ran.agree, None,
            "a run that did not show it cannot refute it"
        );
        assert_eq!(
            ran.differs.unwrap().predicted_only,
            ["libz.so.1", "libz.so"]
        );
        assert_eq!(compare_dlopen(&pred, None), None, "no run of the program");
        // Predicted to load, with a risk naming the library: the failure was foreseen.
        pred.problems.clear();
        pred.verdict = Verdict::Ok;
        let ssl = [via_dlopen("libssl.so.3")];
        let c = compare_dlopen(&pred, Some((Verdict::MissingLibrary, &ssl))).unwrap();
        assert_eq!(c.differs.unwrap().run_only, ["libssl.so.3"]);
        pred.risks.push(crate::verdict::Risk {
            kind: crate::verdict::RiskKind::Dlopen,
            severity: crate::verdict::Severity::Warning,
            evidence: "dlopen: libssl.so.3 (recommended, string)".into(),
            base_fact: "no libssl.so.3 in the base".into(),
            fix: String::new(),
        });
        let c = compare_dlopen(&pred, Some((Verdict::MissingLibrary, &ssl))).unwrap();
        assert_eq!(c.agree, Some(true));
        assert_eq!(compare_dlopen(&pred, Some((Verdict::Ok, &[]))), None);
    }
}
