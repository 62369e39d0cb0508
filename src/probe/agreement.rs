//! Did the run prove the prediction? The comparison of a predicted verdict and its problems with
//! what the loader reported in the container, and the details only one side named. Pure.

use serde::Serialize;

use crate::loader::Prediction;
use crate::verdict::{self, Verdict};

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
            verdict: Verdict::MissingSymbol,
            reason: String::new(),
            problems: missing(&["__memcpy_chk", "__sprintf_chk"]),
            hints: vec![],
            loader: Some("musl".into()),
            loaded: vec![],
            musl_compat: None,
            risks: vec![],
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
}
