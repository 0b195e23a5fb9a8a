//! Drain and restore as sequences of mutations under one lock guard: cordon, then a plan made
//! from the fleet as it is *then*, then batches of moves, each re-validated against the current
//! fleet, atomic and audited. Resumable: running a drain again plans from the current placement,
//! so it continues where it stopped. A plan that changed materially since the operator confirmed
//! it stops and says why.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU8, Ordering};

use super::OpsError;
use super::executor::Executor;
use super::lock::LockGuard;
use super::mutation::{Capability, Mutation};
use crate::domain::Ts;
use crate::domain::placement::{DrainPlan, plan_drain, plan_restore};

/// Shops per batch: one atomic write each.
pub const BATCH: usize = 250;

/// Drain a cluster, or move a drained cluster's shops back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PlanKind {
    Drain,
    Restore,
}

impl PlanRequest {
    /// What the lock is held for: `draining 'c'`.
    pub fn purpose(&self) -> String {
        match self.kind {
            PlanKind::Drain => format!("draining '{}'", self.cluster),
            PlanKind::Restore => format!("restoring '{}'", self.cluster),
        }
    }
}

/// A confirmed drain or restore: what the operator saw and accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanRequest {
    pub kind: PlanKind,
    pub cluster: String,
    /// The drain id the moves are recorded under (drain) or undo (restore).
    pub drain: String,
    /// The dual shops accepted to run on one ShopSet.
    pub accepted: HashSet<String>,
    /// The plan as confirmed.
    pub confirmed: DrainPlan,
}

/// Asks a running drain to stop after its current batch.
#[derive(Debug, Default)]
pub struct StopFlag(AtomicU8);

/// Why a drain stops early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StopReason {
    /// The operator cancelled it (`x`).
    Cancelled,
    /// The session is ending: `q`, SIGTERM, SIGHUP.
    Interrupted,
}

impl StopFlag {
    pub fn stop(&self, why: StopReason) {
        let v = match why {
            StopReason::Cancelled => 1,
            StopReason::Interrupted => 2,
        };
        // An interruption wins over a cancel.
        self.0.fetch_max(v, Ordering::SeqCst);
    }

    pub fn reason(&self) -> Option<StopReason> {
        match self.0.load(Ordering::SeqCst) {
            1 => Some(StopReason::Cancelled),
            2 => Some(StopReason::Interrupted),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DrainReport {
    pub drain: String,
    pub moved: usize,
    pub already: usize,
    pub skipped: Vec<(String, String)>,
    /// Stopped before the end, and why.
    pub stopped: Option<StopReason>,
    pub total: usize,
    /// How long the batches took, from the first to the last (milliseconds).
    #[serde(default)]
    pub moving_ms: u64,
}

impl DrainReport {
    /// Cancelled or interrupted before the end.
    pub fn stopped_early(&self) -> bool {
        self.stopped.is_some()
    }
}

/// The audit action of a whole drain or restore.
fn action_of(kind: PlanKind) -> &'static str {
    match kind {
        PlanKind::Drain => "drain",
        PlanKind::Restore => "restore",
    }
}

/// A new drain id for `cluster`, unless the cluster is already being drained.
pub fn drain_id(cluster: &str, existing: Option<&str>, now: Ts) -> String {
    existing
        .map(str::to_string)
        .unwrap_or_else(|| format!("drain-{cluster}-{}", now.secs()))
}

/// What a drain or restore writes: the cluster's cordon and the shops' placements.
pub const PLAN_NEEDS: &[Capability] =
    &[Capability::Lock, Capability::Cordon, Capability::Placement];

/// Runs a confirmed drain or restore holding `guard`. `progress(done, total)` is called after
/// every batch; `stop` ends it after the current batch.
pub async fn run_plan(
    ex: &Executor,
    guard: &LockGuard,
    req: &PlanRequest,
    now: &(dyn Fn() -> Ts + Sync),
    progress: &mut (dyn FnMut(usize, usize) + Send),
    stop: &StopFlag,
) -> Result<DrainReport, OpsError> {
    // Every write the plan needs, before the first: never a cordon without the moves.
    ex.permits(PLAN_NEEDS)?;
    let cluster = &req.cluster;
    let before = ex.read_placement(now()).await?;
    // A drain confirmed while another drain of the same cluster ran (a dialog confirmed late)
    // continues that drain under its id: its shops keep one record, and one restore sends them
    // all home.
    let adopted;
    let req = match before.cluster(cluster).and_then(|c| c.drain.clone()) {
        Some(existing) if req.kind == PlanKind::Drain && existing != req.drain => {
            adopted = PlanRequest {
                drain: existing,
                ..req.clone()
            };
            &adopted
        }
        _ => req,
    };
    let cordoned = before
        .cluster(cluster)
        .is_some_and(|c| c.cordoned && c.drain.as_deref() == Some(req.drain.as_str()));
    // A resumed drain finds its cluster cordoned already: nothing to write, nothing to audit.
    if req.kind == PlanKind::Drain && !cordoned {
        ex.execute(
            Some(guard),
            &Mutation::Cordon {
                cluster: cluster.clone(),
                drain: req.drain.clone(),
            },
            now(),
            None,
        )
        .await?;
    }
    // The plan that runs is made now, from the fleet as it is (cordoned).
    let fresh = if req.kind == PlanKind::Drain && !cordoned {
        ex.read_placement(now()).await?
    } else {
        before
    };
    let plan = match req.kind {
        PlanKind::Drain => plan_drain(&fresh, cluster, &req.accepted),
        PlanKind::Restore => plan_restore(&fresh, cluster, &req.drain),
    };
    if let Err(e) = material_change(req.kind, &req.confirmed, &plan) {
        ex.audit_rejected(now(), action_of(req.kind), cluster, &e)
            .await;
        return Err(e);
    }
    let mut report = DrainReport {
        drain: req.drain.clone(),
        total: plan.moves.len(),
        ..DrainReport::default()
    };
    progress(0, report.total);
    let started = std::time::Instant::now();
    for (i, batch) in plan.moves.chunks(BATCH).enumerate() {
        report.moving_ms = started.elapsed().as_millis() as u64;
        if let Some(why) = stop.reason() {
            report.stopped = Some(why);
            let (action, result) = match why {
                StopReason::Cancelled => ("cancel", "cancelled"),
                StopReason::Interrupted => ("interrupted", "interrupted"),
            };
            ex.audit_event(
                now(),
                action,
                cluster,
                result,
                Some(format!(
                    "after {} of {} shops",
                    report.moved + report.already,
                    report.total
                )),
            )
            .await;
            return Ok(report);
        }
        let m = match req.kind {
            PlanKind::Drain => Mutation::DrainBatch {
                cluster: cluster.clone(),
                drain: req.drain.clone(),
                batch: i + 1,
                moves: batch.to_vec(),
            },
            PlanKind::Restore => Mutation::RestoreBatch {
                cluster: cluster.clone(),
                drain: req.drain.clone(),
                batch: i + 1,
                moves: batch.to_vec(),
            },
        };
        let done = ex
            .execute(Some(guard), &m, now(), None)
            .await
            .map_err(|e| match report.moved {
                0 => e,
                moved => OpsError::Partly {
                    error: Box::new(e),
                    moved,
                    total: report.total,
                },
            })?;
        let out = done.batch.unwrap_or_default();
        report.moved += out.applied;
        report.already += out.already;
        report.skipped.extend(out.skipped);
        if let Some((shop, why)) = out.full.first() {
            return Err(OpsError::PlanChanged(format!(
                "the fleet changed since the plan: shop '{shop}' was not moved, {why}; the shops moved so far stay moved: run it again to continue with a new plan"
            )));
        }
        report.moving_ms = started.elapsed().as_millis() as u64;
        progress(
            report.moved + report.already + report.skipped.len(),
            report.total,
        );
    }
    if req.kind == PlanKind::Restore {
        let keep =
            (!plan.blockers.is_empty() || !report.skipped.is_empty()).then(|| req.drain.clone());
        ex.execute(
            Some(guard),
            &Mutation::Uncordon {
                cluster: cluster.clone(),
                keep_drain: keep,
            },
            now(),
            None,
        )
        .await?;
        ex.audit_event(
            now(),
            "restore",
            cluster,
            "done",
            Some(format!(
                "{} shops moved back, {} already in place, {} skipped",
                report.moved,
                report.already,
                report.skipped.len()
            )),
        )
        .await;
    }
    Ok(report)
}

/// A plan made at execution time differs materially from the confirmed one when shops the
/// operator did not see as blockers cannot be placed now, or when shops would go to other
/// ShopSets than the operator saw (the flows source → target changed).
fn material_change(kind: PlanKind, confirmed: &DrainPlan, now: &DrainPlan) -> Result<(), OpsError> {
    let seen: HashSet<&str> = confirmed.blockers.iter().map(|b| b.shop.as_str()).collect();
    let new: Vec<String> = now
        .blockers
        .iter()
        .filter(|b| !seen.contains(b.shop.as_str()))
        .map(|b| format!("{}: {}", b.shop, b.reason))
        .collect();
    let why = if !new.is_empty() {
        format!(
            "{} shops that could be placed when the plan was confirmed cannot be now ({}{})",
            new.len(),
            new.iter().take(3).cloned().collect::<Vec<_>>().join("; "),
            if new.len() > 3 { "; …" } else { "" }
        )
    } else if kind == PlanKind::Drain && !now.blockers.is_empty() {
        format!("{} shops cannot be placed", now.blockers.len())
    } else if now.flows() != confirmed.flows() {
        let (was, is) = (confirmed.moves.len(), now.moves.len());
        if was == is {
            "the plan changed since it was confirmed: some shops would go to other ShopSets"
                .to_string()
        } else {
            format!("the plan changed since it was confirmed: {was} moves then, {is} now")
        }
    } else {
        return Ok(());
    };
    let next = match kind {
        PlanKind::Drain => {
            "; the cluster stays cordoned: look at the new plan and run the drain again"
        }
        PlanKind::Restore => "; look at the new plan and run the restore again",
    };
    Err(OpsError::PlanChanged(why + next))
}
