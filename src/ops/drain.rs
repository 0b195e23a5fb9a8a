//! Drain and restore as sequences of confirmed steps: cordon, then batches of moves with
//! progress, each batch atomic and audited. Resumable: running a drain again plans from the
//! current placement, so it continues where it stopped.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::domain::Ts;
use crate::domain::placement::DrainPlan;

use super::placement::Record;
use super::{Executor, OpsError};

/// Shops per batch: one atomic write each.
pub const BATCH: usize = 250;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DrainReport {
    pub drain: String,
    pub moved: usize,
    pub already: usize,
    pub skipped: Vec<(String, String)>,
    pub cancelled: bool,
}

/// A new drain id for `cluster`, unless the cluster is already being drained.
pub fn drain_id(cluster: &str, existing: Option<&str>, now: Ts) -> String {
    existing
        .map(str::to_string)
        .unwrap_or_else(|| format!("drain-{cluster}-{}", now.secs()))
}

/// Executes a drain plan: cordon (recording the drain id), then the moves in batches.
/// `progress(done, total)` is called after every batch; `cancel` stops after the current batch.
pub fn execute_drain(
    ex: &Executor,
    plan: &DrainPlan,
    drain: &str,
    now: &dyn Fn() -> Ts,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<DrainReport, OpsError> {
    holding_lock(ex, drain, now, || {
        ex.store.set_cordon(&plan.cluster, true, Some(drain))?;
        ex.audit_event(now(), "cordon", &plan.cluster, "done", None);
        run_batches(
            ex,
            plan,
            Record::Drain(drain.to_string()),
            "drain batch",
            now,
            progress,
            cancel,
        )
    })
}

/// Executes a restore plan: moves back in batches, then uncordons. The drain id is kept while
/// shops remain that could not be restored, so that a later restore can retry them.
pub fn execute_restore(
    ex: &Executor,
    plan: &DrainPlan,
    drain: &str,
    now: &dyn Fn() -> Ts,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<DrainReport, OpsError> {
    holding_lock(ex, drain, now, || {
        let r = run_batches(
            ex,
            plan,
            Record::Clear,
            "restore batch",
            now,
            progress,
            cancel,
        )?;
        if !r.cancelled {
            let keep = (!plan.blockers.is_empty() || !r.skipped.is_empty()).then_some(drain);
            ex.store.set_cordon(&plan.cluster, false, keep)?;
            ex.audit_event(now(), "restore", &plan.cluster, "done", None);
        }
        Ok(r)
    })
}

/// Runs `f` holding the operator lock, and gives the lock back whatever `f` returns.
fn holding_lock(
    ex: &Executor,
    drain: &str,
    now: &dyn Fn() -> Ts,
    f: impl FnOnce() -> Result<DrainReport, OpsError>,
) -> Result<DrainReport, OpsError> {
    ex.lock(now())?;
    let result = f();
    let _ = ex.unlock();
    result.map(|r| DrainReport {
        drain: drain.to_string(),
        ..r
    })
}

fn run_batches(
    ex: &Executor,
    plan: &DrainPlan,
    record: Record,
    action: &str,
    now: &dyn Fn() -> Ts,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<DrainReport, OpsError> {
    let mut report = DrainReport::default();
    let total = plan.moves.len();
    progress(0, total);
    for (i, batch) in plan.moves.chunks(BATCH).enumerate() {
        if cancel.load(Ordering::SeqCst) {
            report.cancelled = true;
            ex.audit_event(
                now(),
                "cancel",
                &plan.cluster,
                "cancelled",
                Some(format!(
                    "after {} of {total} shops",
                    report.moved + report.already
                )),
            );
            break;
        }
        ex.lock(now())?; // renew
        let out = ex.store.apply(batch, &record)?;
        ex.audit_event(
            now(),
            action,
            &plan.cluster,
            "done",
            Some(format!(
                "batch {}: {} moved, {} already in place, {} skipped",
                i + 1,
                out.applied,
                out.already,
                out.skipped.len()
            )),
        );
        report.moved += out.applied;
        report.already += out.already;
        report.skipped.extend(out.skipped);
        progress(report.moved + report.already + report.skipped.len(), total);
    }
    Ok(report)
}
