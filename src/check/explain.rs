//! After a run: name the run-time risk a failed run most likely comes from, and prove the thread
//! stack one by running, on that base, a copy of the binary whose `PT_GNU_STACK` asks for 8 MiB
//! (musl gives new threads that much then).

use futures_util::future::join_all;

use super::{Plan, Program, RunConfig, run_base};
use crate::docker::{Engine, upload};
use crate::report::run::BaseResult;
use crate::risks::{self, MUSL_THREAD_STACK_MAX, STACK_FLAG};
use crate::verdict::{LikelyCause, Risk, RiskKind, Severity, Verdict};

/// Name the likely cause of every failed run that a risk of its base explains. A kind is ruled
/// out where the run passed with the same risk, or where another base without it failed the
/// same way (same verdict, exit status and signal). A cause a second run already proved or
/// refuted stays (`merge` calls this again).
pub fn likely_causes(results: &mut [BaseResult]) {
    // Only warnings can be a likely cause, so only a warning where the run passed rules one out.
    let passed_with: Vec<RiskKind> = results
        .iter()
        .filter(|r| r.verdict == Verdict::Ok)
        .flat_map(|r| r.risks().iter())
        .filter(|x| x.severity == Severity::Warning)
        .map(|x| x.kind)
        .collect();
    let causes: Vec<Option<LikelyCause>> = results
        .iter()
        .map(|r| {
            if r.likely_cause
                .as_ref()
                .is_some_and(|c| c.confirmed.is_some())
            {
                return r.likely_cause.clone();
            }
            let mut ruled_out = passed_with.clone();
            ruled_out.extend(failed_alike_without(results, r));
            let signal = r.exec.as_ref().and_then(|e| e.signal.as_deref());
            risks::likely_cause(r.verdict, signal, r.risks(), &ruled_out)
                .and_then(|kind| r.risks().iter().find(|x| x.kind == kind))
                .map(suspected)
        })
        .collect();
    for (r, c) in results.iter_mut().zip(causes) {
        r.likely_cause = c;
    }
}

/// The risk kinds of `r` that another base lacked while its run failed just like `r`'s.
fn failed_alike_without(results: &[BaseResult], r: &BaseResult) -> Vec<RiskKind> {
    let how = |b: &BaseResult| {
        let e = b.exec.as_ref();
        (
            b.verdict,
            e.and_then(|e| e.exit_code),
            e.and_then(|e| e.signal.clone()),
        )
    };
    results
        .iter()
        .filter(|o| !std::ptr::eq(*o, r) && o.exec.is_some() && how(o) == how(r))
        .flat_map(|o| {
            r.risks()
                .iter()
                .map(|x| x.kind)
                .filter(|k| !o.risks().iter().any(|x| x.kind == *k))
        })
        .collect()
}

fn suspected(risk: &Risk) -> LikelyCause {
    LikelyCause {
        kind: risk.kind,
        confirmed: None,
        detail: format!("suspected: {}; {}", risk.base_fact, risk.evidence),
    }
}

/// Re-run each base whose likely cause is the thread stack with the stack-patched copy, and say
/// whether that copy passed.
pub async fn confirm_thread_stacks<E: Engine>(
    engine: &E,
    plan: &Plan,
    delivery: &super::Delivery,
    program: Program<'_>,
    cfg: &RunConfig,
    run_id: &str,
    results: &mut [BaseResult],
) {
    let Some(patched) = stack_patched(plan) else {
        return;
    };
    let reruns = results.iter_mut().filter_map(|r| {
        let c = r.likely_cause.as_ref()?;
        let base = cfg.bases.iter().find(|b| b.name == r.base)?;
        (c.kind == RiskKind::ThreadStack).then_some((r, base))
    });
    let patched = &patched;
    // The second run executes the program again (its side effects too), as many at once as --jobs.
    let sem = tokio::sync::Semaphore::new(cfg.jobs.max(1));
    let sem = &sem;
    join_all(reruns.map(|(r, base)| async move {
        let _permit = sem.acquire().await.expect("semaphore open");
        let again = run_base(
            engine,
            patched,
            delivery,
            program.profile,
            cfg,
            base,
            run_id,
        )
        .await;
        if let Some(c) = r.likely_cause.as_mut() {
            *c = proven(c, &again);
        }
    }))
    .await;
}

/// What the re-run with 8 MiB thread stacks showed.
fn proven(cause: &LikelyCause, again: &BaseResult) -> LikelyCause {
    let (confirmed, detail) = match again.verdict {
        Verdict::Ok => (
            Some(true),
            format!(
                "confirmed: thread stack overflow. The same binary with an 8 MiB PT_GNU_STACK runs here; link with {STACK_FLAG} (or set the stack size per thread with pthread_attr_setstacksize)"
            ),
        ),
        Verdict::Error => (
            None,
            format!(
                "{} (could not re-run to confirm: {})",
                cause.detail, again.reason
            ),
        ),
        v => (
            Some(false),
            format!(
                "not confirmed: the copy with an 8 MiB PT_GNU_STACK fails too ({v}: {}); the failure has another cause",
                again.reason
            ),
        ),
    };
    LikelyCause {
        kind: cause.kind,
        confirmed,
        detail,
    }
}

/// The plan with the binary replaced by a copy whose `PT_GNU_STACK` size is 8 MiB (patched as it
/// is uploaded); `None` when the binary has no `PT_GNU_STACK` to patch. The patch is read from the
/// file only here, when a run needs it, not by every check.
fn stack_patched(plan: &Plan) -> Option<Plan> {
    let dest = format!("app/{}", plan.binary_name);
    let mut patched = plan.clone();
    let entry = patched.files.iter_mut().find(|e| e.dest == dest)?;
    let upload::Content::Host(path) = &entry.content else {
        return None;
    };
    let file = std::fs::File::open(path).ok()?;
    let map = crate::files::map(&file).ok()?;
    let (at, bytes) = crate::elf::needs::with_stack_size(&map, MUSL_THREAD_STACK_MAX)?;
    entry.content = upload::Content::Patched {
        path: path.clone(),
        at,
        bytes: bytes.into(),
    };
    Some(patched)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::aliases::Base;
    use crate::loader::Prediction;
    use crate::verdict::Outcome;

    /// A base whose run ended in `verdict` with `exit`, and whose prediction carried `kinds`.
    fn result(name: &str, verdict: Verdict, exit: i32, kinds: &[RiskKind]) -> BaseResult {
        let base = Base {
            name: name.into(),
            image: name.into(),
        };
        let mut r = BaseResult::error(&base, true, String::new());
        r.verdict = verdict;
        let mut exec = Outcome::new(verdict, "");
        exec.exit_code = Some(exit);
        r.exec = Some(exec);
        let risks = kinds
            .iter()
            .map(|k| Risk {
                kind: *k,
                severity: Severity::Warning,
                evidence: "e".into(),
                base_fact: "f".into(),
                fix: "x".into(),
            })
            .collect();
        r.prediction = Some(Prediction {
            risks,
            ..Prediction::new(Verdict::Ok, "")
        });
        r
    }

    fn causes(results: &mut [BaseResult]) -> Vec<Option<RiskKind>> {
        likely_causes(results);
        results
            .iter()
            .map(|r| r.likely_cause.as_ref().map(|c| c.kind))
            .collect()
    }

    #[test]
    fn a_risk_is_no_cause_where_a_base_without_it_failed_the_same_way() {
        let ca = [RiskKind::CaBundle];
        // A usage error fails everywhere alike, CA bundle or not.
        let mut usage = [
            result("musl", Verdict::ExitNonzero, 1, &ca),
            result("distroless", Verdict::ExitNonzero, 1, &[]),
        ];
        assert_eq!(causes(&mut usage), [None, None]);
        // Where the base with the bundle passes, the missing bundle is the likely cause.
        let mut certs = [
            result("musl", Verdict::ExitNonzero, 1, &ca),
            result("distroless", Verdict::Ok, 0, &[]),
        ];
        assert_eq!(causes(&mut certs), [Some(RiskKind::CaBundle), None]);
        // Another exit status is another failure.
        let mut other = [
            result("musl", Verdict::ExitNonzero, 1, &ca),
            result("distroless", Verdict::ExitNonzero, 2, &[]),
        ];
        assert_eq!(causes(&mut other), [Some(RiskKind::CaBundle), None]);
    }

    #[test]
    fn a_proven_or_refuted_cause_survives_a_second_pass() {
        let mut r = [result("musl", Verdict::Crash, 0, &[RiskKind::ThreadStack])];
        r[0].likely_cause = Some(LikelyCause {
            kind: RiskKind::ThreadStack,
            confirmed: Some(true),
            detail: "confirmed".into(),
        });
        likely_causes(&mut r);
        assert_eq!(r[0].likely_cause.as_ref().unwrap().confirmed, Some(true));
    }
}
