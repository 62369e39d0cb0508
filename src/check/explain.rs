//! After a run: name the run-time risk a failed run most likely comes from, and prove the thread
//! stack one by running, on that base, a copy of the binary whose `PT_GNU_STACK` asks for 8 MiB
//! (musl gives new threads that much then).

use futures_util::future::join_all;

use super::{Plan, Program, RunConfig, run_base};
use crate::docker::{Engine, upload};
use crate::report::run::BaseResult;
use crate::risks::{self, MUSL_THREAD_STACK_MAX, STACK_FLAG};
use crate::verdict::{LikelyCause, Risk, RiskKind, Verdict};

/// Name the likely cause of every failed run that a risk of its base explains, unless the same
/// risk was present where the run passed.
pub fn likely_causes(results: &mut [BaseResult]) {
    let passed_with: Vec<RiskKind> = results
        .iter()
        .filter(|r| r.verdict == Verdict::Ok)
        .flat_map(|r| r.risks().iter().map(|x| x.kind))
        .collect();
    for r in results.iter_mut() {
        let cause = risks::likely_cause(r.verdict, r.risks(), &passed_with)
            .and_then(|kind| r.risks().iter().find(|x| x.kind == kind))
            .map(suspected);
        r.likely_cause = cause;
    }
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
    program: Program<'_>,
    cfg: &RunConfig,
    run_id: &str,
    results: &mut [BaseResult],
) {
    let Some(patched) = stack_patched(plan, program) else {
        return;
    };
    let reruns = results.iter_mut().filter_map(|r| {
        let c = r.likely_cause.as_ref()?;
        let base = cfg.bases.iter().find(|b| b.name == r.base)?;
        (c.kind == RiskKind::ThreadStack).then_some((r, base))
    });
    let patched = &patched;
    join_all(reruns.map(|(r, base)| async move {
        let again = run_base(engine, patched, program.profile, cfg, base, run_id).await;
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
/// is uploaded); `None` when the binary has no `PT_GNU_STACK` to patch.
fn stack_patched(plan: &Plan, program: Program<'_>) -> Option<Plan> {
    let (at, bytes) = program.stack_patch.clone()?;
    let dest = format!("app/{}", plan.binary_name);
    let mut patched = plan.clone();
    let entry = patched.files.iter_mut().find(|e| e.dest == dest)?;
    let upload::Content::Host(path) = &entry.content else {
        return None;
    };
    entry.content = upload::Content::Patched {
        path: path.clone(),
        at,
        bytes: bytes.into(),
    };
    Some(patched)
}

/// The size the copy's `PT_GNU_STACK` asks for.
pub const CONFIRM_STACK: u64 = MUSL_THREAD_STACK_MAX;
