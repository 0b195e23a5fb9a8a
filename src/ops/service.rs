//! The operations service: the one path by which anything writes to the fleet. It owns the
//! session's executor and the lock guard it holds, and runs an [`Operation`] — a confirmed
//! mutation, or a drain or restore plan — as a task whose progress arrives as a stream of
//! [`Progress`], ending with its outcome. The console and the headless commands both run their
//! operations here: one lock sequence (take, run, give back or keep), one place that knows which
//! operation keeps the lock afterwards (a release step that is followed until it settles).

use std::sync::Arc;

use tokio::sync::mpsc;

use super::OpsError;
use super::drain::{DrainReport, PlanRequest, StopFlag, run_plan};
use super::executor::{Done, Executor};
use super::lock::LockGuard;
use super::mutation::{Capability, Mutation};
use crate::domain::Ts;

/// What the service runs.
#[derive(Debug, Clone)]
pub enum Operation {
    /// One confirmed mutation; `notes` (from the release guide) go into its audit line.
    Mutation {
        mutation: Mutation,
        notes: Option<String>,
    },
    /// A confirmed drain or restore, batch by batch.
    Plan(PlanRequest),
}

/// What a running operation reports, in order; the last is `Executed` or `Planned`.
#[derive(Debug)]
pub enum Progress {
    /// What a write waits for while it waits (an Argo CD Application busy with another sync).
    Waiting(String),
    /// A drain's or restore's shops handled so far, of all.
    Moved { done: usize, total: usize },
    /// A mutation's outcome.
    Executed(Result<Done, OpsError>),
    /// A plan's outcome.
    Planned(Result<DrainReport, OpsError>),
}

impl Progress {
    /// The last message of an operation.
    pub fn is_last(&self) -> bool {
        matches!(self, Progress::Executed(_) | Progress::Planned(_))
    }
}

/// How many progress messages may wait for their reader; the operation waits beyond that.
const PROGRESS_QUEUE: usize = 64;

/// Runs operations for one read-write session. Shared (`Arc`) by whoever starts operations.
pub struct Operations {
    executor: Executor,
    /// What time it is for this session's operations (tests move it).
    clock: Arc<dyn Fn() -> Ts + Send + Sync>,
    /// The lock kept after a release step, while the console follows the rollout (never held
    /// across an await).
    kept: std::sync::Mutex<Option<LockGuard>>,
}

impl Operations {
    pub fn new(executor: Executor) -> Arc<Operations> {
        Operations::with_clock(executor, Arc::new(Ts::now))
    }

    /// Operations whose time is `clock`'s.
    pub fn with_clock(
        executor: Executor,
        clock: Arc<dyn Fn() -> Ts + Send + Sync>,
    ) -> Arc<Operations> {
        Arc::new(Operations {
            executor,
            clock,
            kept: std::sync::Mutex::new(None),
        })
    }

    /// Now, by this session's clock.
    pub fn now(&self) -> Ts {
        (self.clock)()
    }

    pub fn executor(&self) -> &Executor {
        &self.executor
    }

    /// Starts `op` on a task of its own. A plan stops after its current batch once `stop` is
    /// set. With `keep`, a release step that was pushed keeps the lock until [`unlock`].
    ///
    /// [`unlock`]: Operations::unlock
    pub fn start(
        self: &Arc<Self>,
        op: Operation,
        stop: Arc<StopFlag>,
        keep: bool,
    ) -> mpsc::Receiver<Progress> {
        let (tx, rx) = mpsc::channel(PROGRESS_QUEUE);
        let me = Arc::clone(self);
        let task = tokio::spawn(async move {
            let last = me.run(op, &stop, keep, &tx).await;
            let _ = tx.send(last).await;
        });
        // A panic in the operation is logged, not lost with its task.
        tokio::spawn(async move {
            if let Err(e) = task.await {
                tracing::error!("an operation stopped: {e}");
            }
        });
        rx
    }

    /// Runs `op` here, reporting its progress to `tx`; returns its outcome.
    pub async fn run(
        &self,
        op: Operation,
        stop: &StopFlag,
        keep: bool,
        tx: &mpsc::Sender<Progress>,
    ) -> Progress {
        let ex = &self.executor;
        match op {
            Operation::Mutation { mutation, notes } => {
                let result = self.mutate(&mutation, notes.as_deref(), keep, tx).await;
                tracing::info!(
                    action = mutation.action(),
                    subject = mutation.subject(),
                    ok = result.is_ok(),
                    "mutation"
                );
                Progress::Executed(result)
            }
            Operation::Plan(req) => {
                let result = match self.take(&req.purpose()).await {
                    Err(e) => Err(e),
                    Ok(guard) => {
                        let moved = tx.clone();
                        let mut progress = move |done: usize, total: usize| {
                            // Dropped when the reader is slow: the next batch says it again.
                            let _ = moved.try_send(Progress::Moved { done, total });
                        };
                        let now = || self.now();
                        let r = run_plan(ex, &guard, &req, &now, &mut progress, stop).await;
                        give_back(guard).await;
                        r
                    }
                };
                tracing::info!(cluster = %req.cluster, kind = ?req.kind, ok = result.is_ok(), "placement plan executed");
                Progress::Planned(result)
            }
        }
    }

    /// One mutation: under the lock when it needs it, which is given back afterwards — or kept,
    /// for a release step that was pushed when `keep` asks for it.
    async fn mutate(
        &self,
        m: &Mutation,
        notes: Option<&str>,
        keep: bool,
        tx: &mpsc::Sender<Progress>,
    ) -> Result<Done, OpsError> {
        let waiting = tx.clone();
        let report = move |text: String| {
            let _ = waiting.try_send(Progress::Waiting(text));
        };
        let ex = &self.executor;
        if !m.needs().contains(&Capability::Lock) {
            return ex
                .execute_reporting(None, m, self.now(), notes, &report)
                .await;
        }
        ex.permitted(m)?;
        let guard = self.take(&m.purpose()).await?;
        let result = ex
            .execute_reporting(Some(&guard), m, self.now(), notes, &report)
            .await;
        if keep && result.is_ok() && m.is_release() {
            *self.kept() = Some(guard);
        } else {
            give_back(guard).await;
        }
        result
    }

    /// Takes the lock for `what`; refused (busy) while this session keeps it for a release
    /// step it follows: one operation at a time.
    async fn take(&self, what: &str) -> Result<LockGuard, OpsError> {
        self.executor.lock_for(self.now(), what).await
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Option<LockGuard>> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Gives back the lock kept after a release step, if any.
    pub async fn unlock(&self) {
        let kept = self.kept().take();
        if let Some(guard) = kept {
            give_back(guard).await;
        }
    }

    /// Why the lock kept after a release step is no longer this session's, once it is not.
    pub fn kept_lock_lost(&self) -> Option<OpsError> {
        self.kept().as_ref().and_then(|g| g.fence().err())
    }

    /// Completes the audit of steps an earlier session made without writing their outcome.
    pub async fn reconcile(&self) -> Vec<String> {
        self.executor.reconcile(self.now()).await
    }
}

/// Gives `guard` back, saying so when that fails (the lock then lapses after its duration).
async fn give_back(guard: LockGuard) {
    if let Err(e) = guard.release().await {
        tracing::warn!("giving the operator lock back: {e}");
    }
}

/// Runs `op` to its end, handing every message before the last to `each`.
pub async fn run_to_end(
    ops: &Arc<Operations>,
    op: Operation,
    stop: Arc<StopFlag>,
    mut each: impl FnMut(Progress),
) -> Progress {
    let mut rx = ops.start(op, stop, false);
    while let Some(p) = rx.recv().await {
        if p.is_last() {
            return p;
        }
        each(p);
    }
    // The task ended without an outcome: it panicked.
    Progress::Executed(Err(unfinished()))
}

/// What an operation whose task ended without an outcome (it panicked) is reported as.
pub fn unfinished() -> OpsError {
    OpsError::Store("the operation stopped without saying how it ended (see the log)".into())
}

/// Runs one mutation to its end, telling `waiting` what it waits for meanwhile.
pub async fn execute(
    ops: &Arc<Operations>,
    mutation: Mutation,
    mut waiting: impl FnMut(String),
) -> Result<Done, OpsError> {
    let op = Operation::Mutation {
        mutation,
        notes: None,
    };
    let last = run_to_end(ops, op, Arc::default(), |p| {
        if let Progress::Waiting(text) = p {
            waiting(text)
        }
    })
    .await;
    match last {
        Progress::Executed(r) => r,
        _ => Err(unfinished()),
    }
}

/// Runs a drain or restore to its end, telling `moved` how far it got after every batch.
pub async fn run_plan_to_end(
    ops: &Arc<Operations>,
    req: PlanRequest,
    stop: Arc<StopFlag>,
    mut moved: impl FnMut(usize, usize),
) -> Result<DrainReport, OpsError> {
    let last = run_to_end(ops, Operation::Plan(req), stop, |p| {
        if let Progress::Moved { done, total } = p {
            moved(done, total)
        }
    })
    .await;
    match last {
        Progress::Planned(r) => r,
        Progress::Executed(Err(e)) => Err(e),
        _ => Err(unfinished()),
    }
}
