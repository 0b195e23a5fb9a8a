//! `shopctl release watch`: the headless release watcher. It looks at the fleet every little
//! while; a tier in its soak whose verification fails or on which a gating alert fires is
//! rolled back — when the tier asks for it (`auto_rollback`) — under the operator lock, with
//! the cause in the commit message and the audit log, and the tier is then halted until a
//! person resumes it. Without `auto_rollback` it only says so. Two watchers never both act:
//! the rollback takes the operator lock, and the second finds, on fresh data, that the tier no
//! longer runs what it would roll back.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use super::{Exit, snapshot};
use crate::backends::FleetSource;
use crate::domain::release::soak::{GoneBad, gone_bad};
use crate::ops::release::rollback;
use crate::ops::{Mutation, Operations, OpsError};

/// Runs the watcher until SIGINT or SIGTERM (or after one look, with `once`).
pub async fn watch(
    source: &mut dyn FleetSource,
    ops: Option<&Arc<Operations>>,
    once: bool,
    every: Duration,
) -> Exit {
    let Some(ops) = ops else {
        eprintln!(
            "shopctl: read-only: 'release watch' rolls back and is refused (started with --readonly)"
        );
        return Exit::ReadOnly;
    };
    let mut said: HashSet<(String, String)> = HashSet::new();
    // Releases seen going bad during their soak, by tier: acted on (again, if the lock was
    // busy) for as long as the tier still runs them, soak or not.
    let mut gone: HashMap<String, GoneBad> = HashMap::new();
    // What follows a rollback — the release marked failed, the tier halted — written again at
    // every look until it is (a store that could not be written then may be now).
    let mut follow: Vec<Mutation> = Vec::new();
    let mut stop = Box::pin(stopped());
    if !once {
        crate::outln!(
            "watching every {} s as {}",
            every.as_secs(),
            ops.executor().operator()
        );
    }
    loop {
        let now = ops.now();
        match snapshot(source, now).await {
            Ok(fleet) => {
                let fleet = ops.executor().verified(fleet, now).await;
                for bad in gone_bad(&fleet, now, ops.executor().policy()) {
                    gone.entry(bad.tier.clone()).or_insert(bad);
                }
                gone.retain(|tier, bad| {
                    fleet
                        .tier(tier)
                        .and_then(|t| t.revision.as_ref())
                        .is_some_and(|r| r.id == bad.revision.id)
                });
                for bad in gone.values() {
                    follow.extend(look(ops, &fleet, bad, &mut said).await);
                }
                let mut left = Vec::new();
                for m in follow.drain(..) {
                    if !follow_up(ops, &m).await {
                        left.push(m);
                    }
                }
                follow = left;
            }
            // Said by `snapshot`; the next look tries again.
            Err(code) if once => return code,
            Err(_) => {}
        }
        if once {
            return Exit::Done;
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = &mut stop => {
                crate::outln!("stopped");
                return Exit::Done;
            }
        }
    }
}

/// What the watcher does about one tier gone bad: roll it back and halt it, or say so once.
async fn look(
    ops: &Arc<Operations>,
    fleet: &crate::domain::Fleet,
    bad: &GoneBad,
    said: &mut HashSet<(String, String)>,
) -> Vec<Mutation> {
    let key = (bad.tier.clone(), bad.revision.id.clone());
    if !bad.auto_rollback {
        if said.insert(key) {
            crate::outln!(
                "'{}' at {}: {} — not rolled back: the tier does not ask for auto_rollback",
                bad.tier,
                bad.revision.label(),
                bad.cause
            );
        }
        return Vec::new();
    }
    let now = ops.now();
    let m = match rollback(fleet, &bad.tier, now, &ops.executor().holder().session) {
        Ok(Mutation::Rollback {
            tier,
            branch,
            current,
            target,
            ..
        }) => Mutation::Rollback {
            tier,
            branch,
            current,
            target,
            cause: Some(bad.cause.clone()),
        },
        Ok(other) => other,
        Err(refusal) => {
            if said.insert(key) {
                eprintln!(
                    "shopctl: '{}' at {}: {} — cannot roll back: {refusal}",
                    bad.tier,
                    bad.revision.label(),
                    bad.cause
                );
            }
            return Vec::new();
        }
    };
    // Never back to a release that failed on the tier before.
    if let Mutation::Rollback { target, .. } = &m
        && fleet.controls.failed_on(&bad.tier, &target.id).is_some()
    {
        if said.insert(key) {
            eprintln!(
                "shopctl: '{}' at {}: {} — not rolled back: it would bring back {}, which failed there",
                bad.tier,
                bad.revision.label(),
                bad.cause,
                target.label()
            );
        }
        return Vec::new();
    }
    match crate::ops::service::execute(ops, m.clone(), |s| eprintln!("shopctl: {s}")).await {
        Ok(done) => {
            let commit = done.commit.unwrap_or_default();
            crate::outln!(
                "rolled back '{}': {} — pushed {}; cause: {}",
                bad.tier,
                done.summary,
                commit.get(..12).unwrap_or(&commit),
                bad.cause
            );
            for w in &done.warnings {
                eprintln!("shopctl: warning: {w}");
            }
        }
        // Another watcher (or a person) got there first: the tier changed under us.
        Err(e) if e.is_race() || matches!(e, OpsError::Locked(_)) => {
            eprintln!(
                "shopctl: '{}' not rolled back now: {e}; looking again next time",
                bad.tier
            );
            return Vec::new();
        }
        Err(e) => {
            eprintln!("shopctl: rolling back '{}' failed: {e}", bad.tier);
            return Vec::new();
        }
    }
    // The release failed here (the rollback marked it, unless its store could not be
    // written), and the tier waits for a person.
    vec![
        Mutation::MarkFailed {
            tier: bad.tier.clone(),
            revision: bad.revision.clone(),
            reason: bad.cause.clone(),
        },
        Mutation::Halt {
            tier: Some(bad.tier.clone()),
            reason: format!(
                "rolled back {} automatically: {}",
                bad.revision.label(),
                bad.cause
            ),
        },
    ]
}

/// Writes one follow-up of a rollback; true when it is written (or was already).
async fn follow_up(ops: &Arc<Operations>, m: &Mutation) -> bool {
    match crate::ops::service::execute(ops, m.clone(), |_| {}).await {
        Ok(_) => {
            if let Mutation::Halt {
                tier: Some(tier), ..
            } = m
            {
                crate::outln!(
                    "halted '{tier}' until a person resumes it (shopctl release resume --tier {tier} --reason …)"
                );
            }
            true
        }
        Err(OpsError::AlreadyDone(_)) => true,
        Err(e) => {
            eprintln!(
                "shopctl: {} failed: {e}; trying again next look",
                m.summary()
            );
            false
        }
    }
}

/// Resolves on SIGINT, SIGTERM or SIGHUP.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            (Ok(mut term), Ok(mut hup)) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                    _ = hup.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}
