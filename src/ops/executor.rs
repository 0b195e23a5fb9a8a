//! The executor: the only thing that writes to the fleet. Every mutation is re-checked against a
//! fresh read of the fleet at the moment it runs, written through the backend's stores while the
//! session holds the operator lock, and audited.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::OpsError;
use super::audit::{AuditEntry, AuditSink};
use super::controls::{self, ControlStore};
use super::lock::{Holder, LockGuard, LockStore};
use super::mutation::{Capability, Mutation};
use super::placement::{BatchOutcome, Capacities, PlacementStore, Record};
use super::release::{self, Refusal};
use super::silence::{NewSilence, SilenceStore, covering};
use super::verify::MetricsSource;
use crate::domain::placement::{Move, check_move_with};
use crate::domain::release::{Gate, GatePolicy};
use crate::domain::{Fleet, Revision, Shop, Ts};

/// A fresh read of the fleet (not the console's possibly stale view), of what `scope` needs.
#[async_trait::async_trait]
pub trait FleetReader: Send + Sync {
    async fn read(&self, now: Ts, scope: Scope) -> Result<Fleet, OpsError>;
}

/// Told what a write waits for while it waits (shown in the footer, printed by a command).
pub type Report<'a> = &'a (dyn Fn(String) + Send + Sync);

/// What a re-check reads. A placement change (reassign, cordon, a drain's or a restore's batch)
/// needs the shopset.dev objects and the clusters' reachability and nothing else, so a cluster
/// can be drained while git, Argo CD or Alertmanager are down; a release needs everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Placement,
    Everything,
}

impl Scope {
    /// What re-checking `m` reads.
    pub fn of(m: &Mutation) -> Scope {
        match m {
            Mutation::Reassign { .. }
            | Mutation::Cordon { .. }
            | Mutation::Uncordon { .. }
            | Mutation::DrainBatch { .. }
            | Mutation::RestoreBatch { .. } => Scope::Placement,
            _ => Scope::Everything,
        }
    }
}

/// The system repository: tier branches and their `base` gitlinks.
#[async_trait::async_trait]
pub trait ReleaseStore: Send + Sync {
    /// Commits a new `base` gitlink on `branch` (which must still pin `expected`) and pushes it;
    /// never force-pushes. Returns the new commit id, and what went wrong after the push without
    /// undoing it (an Argo CD sync that could not be asked). `report` is told what it waits
    /// for meanwhile.
    #[allow(clippy::too_many_arguments)]
    async fn set_gitlink(
        &self,
        branch: &str,
        expected: Option<&str>,
        target: &str,
        message: &str,
        author: &str,
        now: Ts,
        report: Report<'_>,
    ) -> Result<Pushed, OpsError>;
}

/// A release commit on its branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    pub commit: String,
    /// What did not go through after the push; the push itself stands.
    pub warnings: Vec<String>,
}

/// What a backend hands the executor to write through.
pub struct Stores {
    pub fleet: Box<dyn FleetReader>,
    pub releases: Box<dyn ReleaseStore>,
    pub placement: Box<dyn PlacementStore>,
    pub locks: Arc<dyn LockStore>,
    pub audit: Box<dyn AuditSink>,
    pub silences: Box<dyn SilenceStore>,
    pub controls: Box<dyn ControlStore>,
    /// Where verification samples come from; none when no verification is configured (a gate
    /// that has verifications but no source fails them).
    pub metrics: Option<Arc<dyn MetricsSource>>,
}

/// What an executed mutation did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Done {
    /// The commit pushed, for a release mutation.
    pub commit: Option<String>,
    pub summary: String,
    /// What a placement batch did.
    pub batch: Option<BatchOutcome>,
    /// What did not go through after the write (it stands); shown to the operator and audited.
    pub warnings: Vec<String>,
    /// The silence created, for a silence.
    pub silence: Option<String>,
}

/// Executes confirmed mutations. Only ever built for a read-write session.
pub struct Executor {
    holder: Holder,
    stores: Stores,
    policy: GatePolicy,
    /// Set while this session holds the lock for an operation.
    busy: Arc<AtomicBool>,
    /// Writes the session's credentials may not perform, found at start.
    denied: Vec<Denial>,
    /// The file this session is recorded into: every audit line names it.
    recording: std::sync::Mutex<Option<String>>,
}

/// A write the session may not perform: `what` names the verb and resource; `blocks` is the
/// capability it takes away (none when only a side effect is lost, such as an Argo CD sync).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Denial {
    pub what: String,
    pub blocks: Option<Capability>,
}

/// Refused when one of `denied` takes away a capability in `needs`.
pub fn permits(denied: &[Denial], needs: &[Capability]) -> Result<(), OpsError> {
    match denied
        .iter()
        .find(|d| d.blocks.is_some_and(|c| needs.contains(&c)))
    {
        Some(d) => Err(OpsError::NotPermitted(d.what.clone())),
        None => Ok(()),
    }
}

impl Executor {
    pub fn new(holder: Holder, stores: Stores, policy: GatePolicy) -> Executor {
        Executor {
            holder,
            stores,
            policy,
            busy: Arc::new(AtomicBool::new(false)),
            denied: Vec::new(),
            recording: std::sync::Mutex::new(None),
        }
    }

    /// Names the recording of this session in every audit line from now on.
    pub fn name_recording(&self, path: String) {
        *self.recording.lock().unwrap_or_else(|p| p.into_inner()) = Some(path);
    }

    /// The recording has stopped (its disk filled up): audit lines no longer name it.
    pub fn unname_recording(&self) {
        *self.recording.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Records what the session's credentials may not do: mutations needing a blocked
    /// capability are refused before anything is written.
    pub fn with_denied(mut self, denied: Vec<Denial>) -> Executor {
        self.denied = denied;
        self
    }

    /// Everything the session may not do, for the operator.
    pub fn denied(&self) -> &[Denial] {
        &self.denied
    }

    /// Refused when the session may not perform a write that `m` needs.
    pub fn permitted(&self, m: &Mutation) -> Result<(), OpsError> {
        self.permits(m.needs())
    }

    /// Refused when the session may not perform one of `needs`.
    pub fn permits(&self, needs: &[Capability]) -> Result<(), OpsError> {
        permits(&self.denied, needs)
    }

    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    pub fn operator(&self) -> &str {
        &self.holder.operator
    }

    pub fn policy(&self) -> &GatePolicy {
        &self.policy
    }

    /// The person this session acts as, to approvals and halts (the API server's identity in
    /// live mode).
    pub async fn identity(&self) -> Result<String, OpsError> {
        self.stores.controls.identity().await
    }

    /// Halts, failed releases and approval requests, read now.
    pub async fn controls(&self) -> Result<crate::domain::release::ReleaseControls, OpsError> {
        self.stores.controls.read().await
    }

    /// Where verification samples come from, if anywhere.
    pub fn metrics(&self) -> Option<&dyn MetricsSource> {
        self.stores.metrics.as_deref()
    }

    /// `fleet` with every tier's verification measured now (unchanged when no verification is
    /// configured).
    pub async fn verified(&self, fleet: Fleet, now: Ts) -> Fleet {
        if self.policy.verifications.is_empty() {
            return fleet;
        }
        super::verify::measured(self.metrics(), fleet, now, &self.policy.verifications).await
    }

    /// Takes the operator lock for one operation. Refused while another session holds it, and
    /// while this session is already running one.
    pub async fn lock(&self, now: Ts) -> Result<LockGuard, OpsError> {
        self.lock_for(now, "").await
    }

    /// [`Executor::lock`], saying what for (shown to anyone else who wants the lock).
    pub async fn lock_for(&self, now: Ts, what: &str) -> Result<LockGuard, OpsError> {
        self.permits(&[Capability::Lock])?;
        LockGuard::take(
            Arc::clone(&self.stores.locks),
            self.holder.doing(what),
            Arc::clone(&self.busy),
            now,
        )
        .await
    }

    /// A fresh read of the whole fleet.
    pub async fn read(&self, now: Ts) -> Result<Fleet, OpsError> {
        self.stores.fleet.read(now, Scope::Everything).await
    }

    /// A fresh read of what placement changes need: the shopset.dev objects and the clusters'
    /// reachability.
    pub async fn read_placement(&self, now: Ts) -> Result<Fleet, OpsError> {
        self.stores.fleet.read(now, Scope::Placement).await
    }

    /// Appends an audit line for a step that is not itself a mutation (cancel, interrupt, the
    /// end of a restore).
    pub async fn audit_event(
        &self,
        now: Ts,
        action: &str,
        cluster: &str,
        result: &str,
        detail: Option<String>,
    ) {
        let entry = AuditEntry::event(self.operator(), now, action, cluster, result, detail);
        self.append(&entry).await;
    }

    /// Appends the audit line of a drain or restore refused on fresh data, with why in `error`.
    pub async fn audit_rejected(&self, now: Ts, action: &str, cluster: &str, e: &OpsError) {
        let mut entry = AuditEntry::event(self.operator(), now, action, cluster, "rejected", None);
        entry.error = Some(e.to_string());
        self.append(&entry).await;
    }

    async fn append(&self, entry: &AuditEntry) {
        if let Err(e) = self.try_append(entry).await {
            tracing::error!("audit log: {e}");
        }
    }

    /// Appends `entry`, naming this session's recording, or says why it could not.
    async fn try_append(&self, entry: &AuditEntry) -> std::io::Result<()> {
        let named;
        let recording = self
            .recording
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let entry = match (&entry.recording, recording.as_ref()) {
            (None, Some(path)) => {
                named = AuditEntry {
                    recording: Some(path.clone()),
                    ..entry.clone()
                };
                &named
            }
            _ => entry,
        };
        self.stores.audit.append(entry).await
    }

    /// Completes the audit of steps whose intent was written but not their outcome (the process
    /// that made them was killed, or could not write it), with what really happened as the
    /// fleet shows it now: a release step pushed or not (what its tier branch pins), a shop
    /// moved or not. Returns what it says of each, for the operator.
    pub async fn reconcile(&self, now: Ts) -> Vec<String> {
        let entries = match self.stores.audit.read().await {
            Ok(e) => e,
            Err(e) => return vec![format!("the audit log cannot be read: {e}")],
        };
        let open: Vec<AuditEntry> = super::audit::abandoned_intents(&entries)
            .into_iter()
            .cloned()
            .collect();
        if open.is_empty() {
            return Vec::new();
        }
        let fleet = match self.read(now).await {
            Ok(f) => f,
            Err(e) => {
                return vec![format!(
                    "{} step(s) of an earlier session have no outcome in the audit log, and the fleet cannot be read to tell what happened ({e}); they are looked at again next start",
                    open.len()
                )];
            }
        };
        let mut said = Vec::new();
        for intent in open {
            let (result, mut note) = reconciled(&fleet, &intent);
            // A rollback that was pushed by a session that stopped before marking its release
            // failed: marked now, so that the release is not offered to the tier again.
            if intent.action == "rollback"
                && result == "pushed"
                && let (Some(tier), Some(from)) = (&intent.tier, &intent.from)
                && let Some(revision) = fleet.releases.iter().find(|r| r.id == *from)
                && fleet.controls.failed_on(tier, from).is_none()
            {
                let mark = crate::domain::release::FailedRelease {
                    tier: tier.clone(),
                    revision: revision.clone(),
                    reason: intent
                        .reason
                        .clone()
                        .unwrap_or_else(|| "rolled back".to_string()),
                    by: self
                        .identity()
                        .await
                        .unwrap_or_else(|_| intent.operator.clone()),
                    at: now,
                };
                note = match self.stores.controls.mark_failed(&mark).await {
                    Ok(()) => format!("{note}; {} marked failed on '{tier}'", revision.label()),
                    Err(e) => format!(
                        "{note}; {} could not be marked failed on '{tier}': {e}",
                        revision.label()
                    ),
                };
            }
            let moved = moved_before(&entries, &intent);
            if moved > 0 {
                note =
                    format!("{moved} of its shops are audited as moved before it stopped; {note}");
            }
            // The outcome of the operator who made the step, said by this session.
            let mut outcome = AuditEntry {
                time: now.rfc3339(),
                result: result.to_string(),
                notes: Some(format!("{note} (reconciled by {})", self.operator())),
                recording: None,
                session: None,
                ..intent.clone()
            };
            if result == "pushed" {
                outcome.commit = None;
            }
            let what = format!(
                "{} by {} at {}",
                intent.action, intent.operator, intent.time
            );
            match self.try_append(&outcome).await {
                Ok(()) => said.push(format!("reconciled: {what}: {result} — {note}")),
                Err(e) => said.push(format!(
                    "{what} has no outcome in the audit log, and it cannot be written: {e}"
                )),
            }
        }
        said
    }

    /// Re-checks `m` on fresh data, writes it and audits the result either way. Every mutation
    /// but release notes needs the lock, held by this session through `guard`. `notes` (e.g.
    /// from the release guide) go into the audit line.
    pub async fn execute(
        &self,
        guard: Option<&LockGuard>,
        m: &Mutation,
        now: Ts,
        notes: Option<&str>,
    ) -> Result<Done, OpsError> {
        self.execute_reporting(guard, m, now, notes, &|s| tracing::info!("{s}"))
            .await
    }

    /// [`Executor::execute`], telling `report` what the write waits for while it waits (an
    /// Argo CD Application busy with another operation).
    pub async fn execute_reporting(
        &self,
        guard: Option<&LockGuard>,
        m: &Mutation,
        now: Ts,
        notes: Option<&str>,
        report: Report<'_>,
    ) -> Result<Done, OpsError> {
        // The id that links this step's intent to its outcome, once the intent is written.
        let mut step: Option<String> = None;
        let result = self
            .checked_write(guard, m, now, notes, report, &mut step)
            .await;
        let mut result = result;
        match &result {
            // Nothing happened and nothing is written down (but an intent is closed).
            Err(OpsError::AlreadyThere { .. } | OpsError::AlreadyDone(_)) if step.is_none() => {}
            // The intent could not be written: nothing was done, and there is nowhere to say so.
            Err(OpsError::Unaudited(_)) => {}
            Ok((m, done)) => {
                let mut entry = AuditEntry::for_mutation(
                    m,
                    self.operator(),
                    now,
                    &Ok(done.commit.clone()),
                    notes,
                );
                if let Some(id) = &done.silence {
                    entry.silence = Some(id.clone());
                }
                if let Some(b) = &done.batch
                    && matches!(
                        m,
                        Mutation::DrainBatch { .. } | Mutation::RestoreBatch { .. }
                    )
                {
                    entry.notes = Some(batch_note(m, b));
                }
                if !done.warnings.is_empty() {
                    let warnings = done.warnings.join("; ");
                    entry.notes = Some(match entry.notes.take() {
                        Some(n) => format!("{n}; {warnings}"),
                        None => warnings,
                    });
                }
                entry.id = step.clone();
                // Done, but not written down: the operator is told, and the command fails.
                if let Err(e) = self.try_append(&entry).await {
                    let summary = done.summary.clone();
                    result = Err(OpsError::NotAudited(format!(
                        "{summary} — done, but its outcome cannot be written to the audit log ({e}); the audit log shows it as an intent without an outcome until the next start reconciles it"
                    )));
                }
            }
            Err(e) => {
                let mut entry =
                    AuditEntry::for_mutation(m, self.operator(), now, &Err(e.clone()), notes);
                if matches!(e, OpsError::LockLost(_)) {
                    entry.action = "lock lost".into();
                    entry.result = "stopped".into();
                }
                entry.id = step.clone();
                self.append(&entry).await;
            }
        }
        result.map(|(_, done)| done)
    }

    /// Checks the lock and the session's rights, re-checks `m` on fresh data, writes its intent
    /// (naming it in `step`) and then `m` itself.
    async fn checked_write(
        &self,
        guard: Option<&LockGuard>,
        m: &Mutation,
        now: Ts,
        notes: Option<&str>,
        report: Report<'_>,
        step: &mut Option<String>,
    ) -> Result<(Mutation, Done), OpsError> {
        self.permitted(m)?;
        let locked = m.needs().contains(&Capability::Lock);
        match (guard, locked) {
            (_, false) => {}
            (None, true) => {
                return Err(OpsError::Lock("the operator lock is not held".into()));
            }
            (Some(g), true) if g.holder() != &self.holder => {
                return Err(OpsError::Lock("the lock guard is another session's".into()));
            }
            // Still this session's (renewed in the background within its duration), and
            // renewed now: a lock taken over stops the operation before this write.
            (Some(g), true) => {
                g.fence()?;
                g.renew(now).await?;
            }
        }
        let (m, fresh) = if matches!(m, Mutation::Notes { .. }) {
            (m.clone(), None)
        } else {
            self.recheck(m, now).await?
        };
        // The re-check may have taken a while: the lock is still this session's now.
        if let Some(g) = guard.filter(|_| locked) {
            g.fence()?;
        }
        // Write-ahead: the intent is written first, and without it nothing is.
        if !matches!(m, Mutation::Notes { .. }) {
            let id = format!("{}-{:08x}", now.secs(), fastrand::u32(..));
            let mut intent = AuditEntry::for_mutation(&m, self.operator(), now, &Ok(None), notes);
            intent.result = super::audit::INTENT.into();
            intent.id = Some(id.clone());
            intent.session = Some(self.holder.session.clone());
            self.try_append(&intent)
                .await
                .map_err(|e| OpsError::Unaudited(e.to_string()))?;
            *step = Some(id);
        }
        let done = self
            .write(&m, fresh.as_ref(), now, report, step.as_deref())
            .await?;
        Ok((m, done))
    }

    /// The mutation as it will be written, checked against the fleet as it is now, and that
    /// fleet (for what the write needs of it).
    async fn recheck(&self, m: &Mutation, now: Ts) -> Result<(Mutation, Option<Fleet>), OpsError> {
        match m {
            Mutation::Notes { .. } | Mutation::Uncordon { .. } => return Ok((m.clone(), None)),
            // Checked against Alertmanager's own list.
            Mutation::Silence { .. } | Mutation::ExpireSilence { .. } => {
                self.silence_needed(m, now).await?;
                return Ok((m.clone(), None));
            }
            // Checked against what is decided now (and an approval against the fleet too).
            Mutation::Halt { .. }
            | Mutation::Resume { .. }
            | Mutation::ClearFailed { .. }
            | Mutation::MarkFailed { .. } => {
                let decided = self.stores.controls.read().await?;
                controls::recheck(m, &decided, None, "")?;
                return Ok((m.clone(), None));
            }
            Mutation::RequestApproval { .. } | Mutation::Approve { .. } => {
                let decided = self.stores.controls.read().await?;
                let mut fresh = self.stores.fleet.read(now, Scope::Everything).await?;
                fresh.apply(crate::domain::FleetUpdate::Controls(decided.clone()));
                let me = self.identity().await?;
                controls::recheck(m, &decided, Some(&fresh), &me)?;
                return Ok((m.clone(), Some(fresh)));
            }
            _ => {}
        }
        let mut fresh = self.stores.fleet.read(now, Scope::of(m)).await?;
        if matches!(m, Mutation::Promote { .. }) {
            // Verification measured now (it may take a while), then halts, failed releases and
            // approvals as decided after it.
            fresh = self.verified(fresh, now).await;
            let decided = self.stores.controls.read().await?;
            fresh.apply(crate::domain::FleetUpdate::Controls(decided));
        }
        let me = &self.holder.session;
        let m = match m {
            Mutation::Promote { .. } => recheck_promote(&fresh, m, now, &self.policy, me)?,
            Mutation::Rollback { .. } => recheck_rollback(&fresh, m, now, me)?,
            Mutation::Reassign {
                shop,
                from,
                to,
                tier_change,
            } => recheck_reassign(&fresh, shop, from, to, *tier_change).map(|()| m.clone())?,
            Mutation::Cordon { cluster, .. } => match fresh.cluster(cluster) {
                Some(_) => m.clone(),
                None => {
                    return Err(OpsError::Changed(format!(
                        "cluster '{cluster}' no longer exists"
                    )));
                }
            },
            Mutation::DrainBatch { moves, .. } => {
                recheck_batch(&fresh, moves, None).map(|()| m.clone())?
            }
            Mutation::RestoreBatch { cluster, moves, .. } => {
                recheck_batch(&fresh, moves, Some(cluster)).map(|()| m.clone())?
            }
            Mutation::Notes { .. }
            | Mutation::Uncordon { .. }
            | Mutation::Silence { .. }
            | Mutation::ExpireSilence { .. }
            | Mutation::Halt { .. }
            | Mutation::Resume { .. }
            | Mutation::ClearFailed { .. }
            | Mutation::MarkFailed { .. }
            | Mutation::RequestApproval { .. }
            | Mutation::Approve { .. } => m.clone(),
        };
        Ok((m, Some(fresh)))
    }

    async fn write(
        &self,
        m: &Mutation,
        fresh: Option<&Fleet>,
        now: Ts,
        report: Report<'_>,
        step: Option<&str>,
    ) -> Result<Done, OpsError> {
        // A batch's shops are audited (and evented) a small group at a time as they move.
        let told = |names: Vec<String>| -> futures::future::BoxFuture<'_, ()> {
            Box::pin(self.audit_moved(m, step, now, names))
        };
        let summary = m.summary();
        let done = |commit, batch| Done {
            commit,
            summary: summary.clone(),
            batch,
            warnings: Vec::new(),
            silence: None,
        };
        let pushed = |p: Pushed| Done {
            warnings: p.warnings,
            ..done(Some(p.commit), None)
        };
        // A release step: one new gitlink on its tier's branch.
        let gitlink = match m {
            Mutation::Promote {
                branch,
                current,
                target,
                ..
            } => Some((branch, current.as_ref().map(|r| r.id.as_str()), &target.id)),
            Mutation::Rollback {
                branch,
                current,
                target,
                ..
            } => Some((branch, Some(current.id.as_str()), &target.id)),
            _ => None,
        };
        if let Some((branch, expected, target)) = gitlink {
            // A halt written since the re-check still stops a step: read just before the push.
            if let Mutation::Promote { tier, .. } = m
                && let Some(h) = self.stores.controls.read().await?.halt_of(tier)
            {
                return Err(OpsError::Refused(format!(
                    "{}; nothing was pushed",
                    h.describe()
                )));
            }
            let message = m.commit_message(self.operator());
            let mut done = self
                .stores
                .releases
                .set_gitlink(
                    branch,
                    expected,
                    target,
                    &message,
                    self.operator(),
                    now,
                    report,
                )
                .await
                .map(pushed)?;
            // The release rolled back failed on its tier: not offered there again until a
            // person clears it.
            if let Mutation::Rollback {
                tier,
                current,
                cause,
                ..
            } = m
            {
                // In the session's own name, as the API server knows it.
                let by = match self.identity().await {
                    Ok(who) => who,
                    Err(_) => self.operator().to_string(),
                };
                let mark = crate::domain::release::FailedRelease {
                    tier: tier.clone(),
                    revision: current.clone(),
                    reason: cause.clone().unwrap_or_else(|| "rolled back".to_string()),
                    by,
                    at: now,
                };
                if let Err(e) = self.stores.controls.mark_failed(&mark).await {
                    done.warnings.push(format!(
                        "{} could not be marked failed on '{tier}': {e}",
                        current.label()
                    ));
                }
            }
            return Ok(done);
        }
        match m {
            Mutation::Promote { .. } | Mutation::Rollback { .. } => Ok(done(None, None)),
            Mutation::Reassign { shop, from, to, .. } => {
                let mv = Move {
                    shop: shop.clone(),
                    from: from.clone(),
                    to: to.clone(),
                };
                let out = self
                    .stores
                    .placement
                    .apply(
                        std::slice::from_ref(&mv),
                        &Record::Nothing,
                        &capacities(fresh, std::slice::from_ref(&mv)),
                        &seen(fresh, std::slice::from_ref(&mv)),
                        &super::placement::unheard,
                    )
                    .await?;
                if let Some((_, why)) = out.full.into_iter().next() {
                    return Err(OpsError::Refused(why));
                }
                match out.skipped.into_iter().next() {
                    Some((shop, why)) => Err(OpsError::ShopMoved { shop, why }),
                    None => Ok(done(None, None)),
                }
            }
            Mutation::Cordon { cluster, drain } => self
                .stores
                .placement
                .set_cordon(cluster, true, Some(drain))
                .await
                .map(|()| done(None, None)),
            Mutation::Uncordon {
                cluster,
                keep_drain,
            } => self
                .stores
                .placement
                .set_cordon(cluster, false, keep_drain.as_deref())
                .await
                .map(|()| done(None, None)),
            Mutation::DrainBatch { drain, moves, .. } => self
                .stores
                .placement
                .apply(
                    moves,
                    &Record::Drain(drain.clone()),
                    &capacities(fresh, moves),
                    &seen(fresh, moves),
                    &told,
                )
                .await
                .map(|b| done(None, Some(b))),
            Mutation::RestoreBatch { moves, .. } => self
                .stores
                .placement
                .apply(
                    moves,
                    &Record::Clear,
                    &capacities(fresh, moves),
                    &seen(fresh, moves),
                    &told,
                )
                .await
                .map(|b| done(None, Some(b))),
            Mutation::Notes { .. } => Ok(done(None, None)),
            Mutation::Silence { .. } => {
                let Some(new) = self.new_silence(m, now) else {
                    return Ok(done(None, None));
                };
                let id = self.stores.silences.create(&new).await?;
                Ok(Done {
                    silence: Some(id),
                    ..done(None, None)
                })
            }
            Mutation::ExpireSilence { id, .. } => self
                .stores
                .silences
                .expire(id)
                .await
                .map(|()| done(None, None)),
            Mutation::Halt { tier, reason } => {
                let halt = crate::domain::release::Halt {
                    tier: tier.clone(),
                    reason: reason.clone(),
                    by: self.identity().await?,
                    at: now,
                };
                self.stores.controls.halt(&halt).await?;
                Ok(done(None, None))
            }
            Mutation::Resume {
                tier, halted_at, ..
            } => {
                self.stores
                    .controls
                    .resume(tier.as_deref(), *halted_at)
                    .await?;
                Ok(done(None, None))
            }
            Mutation::MarkFailed {
                tier,
                revision,
                reason,
            } => {
                let mark = crate::domain::release::FailedRelease {
                    tier: tier.clone(),
                    revision: revision.clone(),
                    reason: reason.clone(),
                    by: self.identity().await?,
                    at: now,
                };
                self.stores.controls.mark_failed(&mark).await?;
                Ok(done(None, None))
            }
            Mutation::ClearFailed { tier, .. } => {
                self.stores.controls.clear_failed(tier).await?;
                Ok(done(None, None))
            }
            Mutation::RequestApproval { tier, from, to } => {
                let request = crate::domain::release::ApprovalRequest {
                    name: controls::request_name(tier, now),
                    tier: tier.clone(),
                    from: from.as_ref().map(|r| r.id.clone()),
                    to: to.clone(),
                    requested_by: self.identity().await?,
                    requested_at: now,
                    head: fresh
                        .and_then(|f| f.tier(tier))
                        .and_then(|t| t.head.clone()),
                    approved_by: None,
                    approved_at: None,
                };
                self.stores.controls.request(&request).await?;
                Ok(done(None, None))
            }
            Mutation::Approve { request, .. } => {
                let me = self.identity().await?;
                self.stores.controls.approve(request, &me, now).await?;
                Ok(done(None, None))
            }
        }
    }

    /// Audits shops of the batch `m` (step `step`) that have just moved: one line, result
    /// `moving`, linked to the batch's intent. One that cannot be written is logged; the
    /// batch's outcome says the rest.
    async fn audit_moved(&self, m: &Mutation, step: Option<&str>, now: Ts, names: Vec<String>) {
        let (Mutation::DrainBatch { cluster, batch, .. }
        | Mutation::RestoreBatch { cluster, batch, .. }) = m
        else {
            return;
        };
        let mut entry = AuditEntry::event(
            self.operator(),
            now,
            m.action(),
            cluster,
            super::audit::MOVING,
            Some(format!(
                "batch {batch}: {} moved: {}",
                names.len(),
                names.join(", ")
            )),
        );
        entry.id = step.map(str::to_string);
        self.append(&entry).await;
    }

    /// The silence `m` creates, from `now`, by this session's operator.
    fn new_silence(&self, m: &Mutation, now: Ts) -> Option<NewSilence> {
        match m {
            Mutation::Silence {
                matchers,
                duration_secs,
                comment,
            } => Some(NewSilence {
                matchers: matchers.clone(),
                starts_at: now,
                ends_at: now.plus_secs(*duration_secs),
                created_by: self.operator().to_string(),
                comment: comment.clone(),
            }),
            _ => None,
        }
    }

    /// A silence that an active one already covers, or the expiry of one that Alertmanager no
    /// longer holds or that has expired: nothing to do (and nothing written down).
    async fn silence_needed(&self, m: &Mutation, now: Ts) -> Result<(), OpsError> {
        match m {
            Mutation::Silence { .. } => {
                let Some(new) = self.new_silence(m, now) else {
                    return Ok(());
                };
                let existing = self.stores.silences.silences().await?;
                match covering(&existing, &new) {
                    Some(s) => Err(OpsError::AlreadyDone(format!(
                        "silence {} already mutes these alerts until {}",
                        s.id,
                        s.ends_at.rfc3339()
                    ))),
                    None => Ok(()),
                }
            }
            Mutation::ExpireSilence { id, .. } => {
                let existing = self.stores.silences.silences().await?;
                match existing.iter().find(|s| s.id == *id) {
                    None => Err(OpsError::AlreadyDone(format!(
                        "Alertmanager no longer holds silence {id}"
                    ))),
                    Some(s) if s.state == crate::domain::SilenceState::Expired => Err(
                        OpsError::AlreadyDone(format!("silence {id} has already expired")),
                    ),
                    Some(_) => Ok(()),
                }
            }
            _ => Ok(()),
        }
    }
}

/// What an intent without an outcome became, as the fleet shows it now, and why that is known.
fn reconciled(fleet: &Fleet, intent: &AuditEntry) -> (&'static str, String) {
    let reason = "its outcome was not written by the session that made it";
    match intent.action.as_str() {
        "promote" | "rollback" => {
            let tier = intent.tier.as_deref().unwrap_or_default();
            let pinned = fleet
                .tiers
                .iter()
                .find(|t| t.name == tier)
                .and_then(|t| t.revision.as_ref())
                .map(|r| r.id.as_str());
            match (pinned, intent.to.as_deref()) {
                (Some(p), Some(to)) if p == to => (
                    "pushed",
                    format!("'{tier}' pins {} now; {reason}", short(to)),
                ),
                (Some(p), _) => (
                    "not pushed",
                    format!(
                        "'{tier}' pins {}, not the step's target; {reason}",
                        short(p)
                    ),
                ),
                (None, _) => (
                    "unknown",
                    format!("what '{tier}' pins cannot be read; {reason}"),
                ),
            }
        }
        "reassign" => {
            let shop = intent.shop.as_deref().unwrap_or_default();
            let on = fleet
                .shops
                .iter()
                .find(|s| s.name == shop)
                .map(|s| s.shopsets.join(","));
            match (on, intent.to.as_deref()) {
                (Some(on), Some(to))
                    if crate::domain::same_shopsets(
                        &on.split(',').map(str::to_string).collect::<Vec<_>>(),
                        &to.split(',').map(str::to_string).collect::<Vec<_>>(),
                    ) =>
                {
                    ("done", format!("'{shop}' is on {to}; {reason}"))
                }
                (Some(on), _) => ("not done", format!("'{shop}' is on {on}; {reason}")),
                (None, _) => ("unknown", format!("'{shop}' no longer exists; {reason}")),
            }
        }
        "drain batch" | "restore batch" => (
            "interrupted",
            format!(
                "some of the batch's shops may have moved; running the {} again continues where it stopped; {reason}",
                intent.action.trim_end_matches(" batch")
            ),
        ),
        _ => (
            "unknown",
            format!("what it did cannot be told from the fleet; {reason}"),
        ),
    }
}

/// How many shops the lines of `intent`'s batch say had moved while it ran.
fn moved_before(entries: &[AuditEntry], intent: &AuditEntry) -> usize {
    entries
        .iter()
        .filter(|e| e.result == super::audit::MOVING && e.id.is_some() && e.id == intent.id)
        .filter_map(|e| e.notes.as_deref())
        .filter_map(|n| {
            n.split_once(" moved: ")
                .map(|(_, names)| names.split(", ").count())
        })
        .sum()
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

fn batch_note(m: &Mutation, b: &BatchOutcome) -> String {
    let batch = match m {
        Mutation::DrainBatch { batch, .. } | Mutation::RestoreBatch { batch, .. } => *batch,
        _ => 0,
    };
    format!(
        "batch {batch}: {} moved, {} already in place, {} skipped{}",
        b.applied,
        b.already,
        b.skipped.len(),
        if b.full.is_empty() {
            String::new()
        } else {
            format!(", {} not moved: target full", b.full.len())
        }
    )
}

/// The capacity of every ShopSet the moves fill (as the re-check read the fleet).
fn capacities(fleet: Option<&Fleet>, moves: &[Move]) -> Capacities {
    let Some(fleet) = fleet else {
        return Capacities::new();
    };
    moves
        .iter()
        .flat_map(|m| m.to.iter())
        .filter_map(|t| fleet.shopset(t).map(|ss| (t.clone(), ss.capacity)))
        .collect()
}

/// The moved shops as the re-check read them.
fn seen(fleet: Option<&Fleet>, moves: &[Move]) -> Vec<Shop> {
    let Some(fleet) = fleet else {
        return Vec::new();
    };
    let names: HashSet<&str> = moves.iter().map(|m| m.shop.as_str()).collect();
    fleet
        .shops
        .iter()
        .filter(|s| names.contains(s.name.as_str()))
        .cloned()
        .collect()
}

/// The promotion as it will be pushed, built again by the shared builder on fresh data: the
/// revisions must be those the operator confirmed; conditions that pass now are no longer
/// overridden; ones that fail now without a reason refuse it.
fn recheck_promote(
    fresh: &Fleet,
    m: &Mutation,
    now: Ts,
    policy: &GatePolicy,
    me: &str,
) -> Result<Mutation, OpsError> {
    let Mutation::Promote {
        tier,
        current,
        target,
        override_reason,
        ..
    } = m
    else {
        return Ok(m.clone());
    };
    let same = |g: &Gate| -> Result<(), OpsError> {
        let now_target = g.target.as_ref().map(|r| r.id.as_str());
        if now_target != Some(target.id.as_str()) {
            return Err(OpsError::Changed(format!(
                "'{}' now runs {}, not {}",
                g.from_tier,
                label(g.target.as_ref()),
                target.label()
            )));
        }
        if g.current.as_ref().map(|r| &r.id) != current.as_ref().map(|r| &r.id) {
            return Err(OpsError::Changed(format!(
                "'{tier}' now runs {}",
                label(g.current.as_ref())
            )));
        }
        Ok(())
    };
    match release::promotion(fresh, tier, now, policy, me, override_reason.as_deref()) {
        Ok((g, rebuilt)) => same(&g).map(|()| rebuilt),
        Err(Refusal::NeedsReason {
            gate, overridden, ..
        }) => {
            same(&gate)?;
            Err(OpsError::NeedsOverride(overridden))
        }
        Err(Refusal::Blocked { gate, .. }) => {
            same(&gate)?;
            let failing: Vec<String> = gate
                .blocking()
                .map(|c| format!("{}: {}", c.condition.name(), c.detail))
                .collect();
            Err(OpsError::Refused(format!(
                "the gate now fails — {}",
                failing.join("; ")
            )))
        }
        Err(e) => Err(refusal(fresh, now, e)),
    }
}

/// The rollback as it will be pushed, built again on fresh data: the tier must still run what
/// the operator confirmed rolling back.
fn recheck_rollback(fresh: &Fleet, m: &Mutation, now: Ts, me: &str) -> Result<Mutation, OpsError> {
    let Mutation::Rollback {
        tier,
        current,
        target,
        ..
    } = m
    else {
        return Ok(m.clone());
    };
    match release::rollback(fresh, tier, now, me) {
        Ok(Mutation::Rollback {
            current: c,
            target: t,
            ..
        }) if c.id != current.id || t.id != target.id => Err(OpsError::Changed(format!(
            "'{tier}' now runs {} (rolling back would return it to {})",
            c.label(),
            t.label()
        ))),
        Ok(Mutation::Rollback {
            tier,
            branch,
            current,
            target,
            ..
        }) => Ok(Mutation::Rollback {
            tier,
            branch,
            current,
            target,
            cause: match m {
                Mutation::Rollback { cause, .. } => cause.clone(),
                _ => None,
            },
        }),
        Ok(rebuilt) => Ok(rebuilt),
        Err(
            Refusal::NothingToRollBack { .. }
            | Refusal::NoEarlier { .. }
            | Refusal::LastWasRollback { .. },
        ) => Err(OpsError::Changed(format!(
            "'{tier}' changed since the rollback was confirmed"
        ))),
        Err(e) => Err(refusal(fresh, now, e)),
    }
}

/// A builder's refusal on fresh data, as the executor reports it.
fn refusal(fresh: &Fleet, now: Ts, e: Refusal) -> OpsError {
    match e {
        Refusal::Locked { .. } => match fresh.lock_holder(now) {
            Some(l) => OpsError::Locked(l.clone()),
            None => OpsError::Lock(e.to_string()),
        },
        Refusal::LockUnreadable(why) => OpsError::Lock(why),
        Refusal::UnknownTier { .. } => OpsError::Changed(e.to_string()),
        other => OpsError::Refused(other.to_string()),
    }
}

fn label(r: Option<&Revision>) -> String {
    r.map(|r| r.label())
        .unwrap_or_else(|| "nothing known".into())
}

fn recheck_reassign(
    fresh: &Fleet,
    shop: &str,
    from: &[String],
    to: &[String],
    tier_change: bool,
) -> Result<(), OpsError> {
    let s: &Shop = fresh
        .shops
        .iter()
        .find(|s| s.name == shop)
        .ok_or_else(|| OpsError::Changed(format!("shop '{shop}' no longer exists")))?;
    if s.is_on(to) {
        return Err(OpsError::AlreadyThere {
            shop: shop.into(),
            on: to.to_vec(),
        });
    }
    if !s.is_on(from) {
        return Err(OpsError::ShopMoved {
            shop: shop.into(),
            why: format!(
                "moved meanwhile: now on {}, not {}",
                s.shopsets.join(","),
                from.join(",")
            ),
        });
    }
    let broken: Vec<String> = check_move_with(fresh, s, to, tier_change)
        .iter()
        .map(|b| b.to_string())
        .collect();
    if broken.is_empty() {
        Ok(())
    } else {
        Err(OpsError::Refused(broken.join("; ")))
    }
}

/// A batch as planned, against the fleet as it is now: every target still exists, is not
/// cordoned (except the restored cluster itself), is reachable and has room for the batch.
fn recheck_batch(fresh: &Fleet, moves: &[Move], restoring: Option<&str>) -> Result<(), OpsError> {
    let names: HashSet<&str> = moves.iter().map(|m| m.shop.as_str()).collect();
    let placed: HashMap<&str, &[String]> = fresh
        .shops
        .iter()
        .filter(|s| names.contains(s.name.as_str()))
        .map(|s| (s.name.as_str(), s.shopsets.as_slice()))
        .collect();
    let mut incoming: HashMap<&str, u32> = HashMap::new();
    for m in moves {
        if placed
            .get(m.shop.as_str())
            .is_some_and(|p| crate::domain::same_shopsets(p, &m.to))
        {
            continue;
        }
        for t in m.to.iter().filter(|t| !m.from.contains(t)) {
            *incoming.entry(t.as_str()).or_default() += 1;
        }
    }
    let mut problems = Vec::new();
    let seen: HashSet<&str> = incoming.keys().copied().collect();
    for t in seen {
        let Some(ss) = fresh.shopset(t) else {
            problems.push(format!("ShopSet '{t}' no longer exists"));
            continue;
        };
        if let Some(c) = fresh.cluster(&ss.cluster) {
            // The restored cluster itself is still cordoned until its shops are back.
            if c.cordoned && Some(c.name.as_str()) != restoring {
                problems.push(format!("'{t}' is on cluster '{}', now cordoned", c.name));
            } else if !c.is_reachable() {
                problems.push(format!("'{t}' is on cluster '{}', now unreachable", c.name));
            }
        }
        let n = fresh.shop_count(t);
        let add = incoming.get(t).copied().unwrap_or(0);
        if n + add > ss.capacity {
            problems.push(format!(
                "'{t}' would hold {}/{} (it holds {n} now)",
                n + add,
                ss.capacity
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        problems.sort();
        Err(OpsError::Changed(format!(
            "the fleet changed since the plan: {}",
            problems.join("; ")
        )))
    }
}
