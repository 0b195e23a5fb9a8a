//! `shopctl release status | step | rollback`.

use std::fmt::Write as _;

use serde::Serialize;

use super::{Exit, ask, ops_exit, snapshot};
use crate::backends::FleetSource;
use crate::domain::release::{self as rules, Gate, GatePolicy};
use crate::domain::{Fleet, Ts};
use crate::ops::release::{self, Refusal, promotion};
use std::sync::Arc;

use crate::ops::{Mutation, Operations, OpsError};

#[derive(Serialize)]
struct StatusJson {
    tiers: Vec<TierJson>,
}

#[derive(Serialize)]
struct TierJson {
    name: String,
    level: u8,
    branch: String,
    revision: Option<String>,
    revision_tag: Option<String>,
    /// The revision a rollback returns to.
    previous_revision: Option<String>,
    /// The gate for promoting into this tier; null for the lowest tier.
    gate: Option<GateJson>,
}

#[derive(Serialize)]
struct GateJson {
    passed: bool,
    /// True when only overridable conditions (alerts, soak) fail.
    passes_with_override: bool,
    from_tier: String,
    target: Option<String>,
    soak_left_secs: Option<i64>,
    conditions: Vec<ConditionJson>,
}

#[derive(Serialize)]
struct ConditionJson {
    name: &'static str,
    passed: bool,
    overridable: bool,
    detail: String,
}

fn gate_json(g: &Gate) -> GateJson {
    GateJson {
        passed: g.passed(),
        passes_with_override: g.passes_with_override(),
        from_tier: g.from_tier.clone(),
        target: g.target.as_ref().map(|r| r.id.clone()),
        soak_left_secs: g.soak_left,
        conditions: g
            .checks
            .iter()
            .map(|c| ConditionJson {
                name: c.condition.name(),
                passed: c.passed,
                overridable: c.condition.overridable(),
                detail: c.detail.clone(),
            })
            .collect(),
    }
}

/// `release status`: every tier, its revision and the gate for promoting into it.
pub fn status(fleet: &Fleet, now: Ts, json: bool, me: &str, policy: &GatePolicy) -> String {
    let gates: Vec<Option<Gate>> = fleet
        .tiers
        .iter()
        .map(|t| rules::gate(fleet, &t.name, now, policy, fleet.lock.as_ref(), me))
        .collect();
    if json {
        let out = StatusJson {
            tiers: fleet
                .tiers
                .iter()
                .zip(&gates)
                .map(|(t, g)| TierJson {
                    name: t.name.clone(),
                    level: t.level,
                    branch: t.branch.clone(),
                    revision: t.revision.as_ref().map(|r| r.id.clone()),
                    revision_tag: t.revision.as_ref().and_then(|r| r.tag.clone()),
                    previous_revision: t.previous.as_ref().map(|r| r.id.clone()),
                    gate: g.as_ref().map(gate_json),
                })
                .collect(),
        };
        return serde_json::to_string_pretty(&out)
            .map(|s| s + "\n")
            .unwrap_or_default();
    }
    let mut s = String::new();
    for (t, g) in fleet.tiers.iter().zip(&gates) {
        let rev = t
            .revision
            .as_ref()
            .map(|r| format!("{}  {}", r.label(), r.subject))
            .unwrap_or_else(|| "?".into());
        let _ = writeln!(s, "{:<10} {:<7} {rev}", t.name, t.branch);
        if let Some(g) = g {
            s.push_str(&verdict(g));
        }
    }
    s
}

/// The gate, condition by condition, as operators read it.
pub fn verdict(g: &Gate) -> String {
    let mut s = String::new();
    let head = if g.passed() {
        "gate passes"
    } else if g.passes_with_override() {
        "gate fails (may be overridden with a reason)"
    } else {
        "gate fails"
    };
    let _ = writeln!(s, "  promote {} → {}: {head}", g.from_tier, g.tier);
    for c in &g.checks {
        let mark = if c.passed {
            "✓"
        } else if c.condition.overridable() {
            "▲"
        } else {
            "✗"
        };
        let _ = writeln!(s, "    {mark} {:<18} {}", c.condition.name(), c.detail);
    }
    s
}

/// How a headless mutation asks for confirmation.
pub enum Confirm {
    /// `--yes`
    Yes,
    /// Ask on the terminal.
    Ask,
}

fn confirm(question: &str, how: &Confirm) -> Result<bool, Exit> {
    match how {
        Confirm::Yes => Ok(true),
        Confirm::Ask => ask(&format!("{question} Type 'yes' to go ahead:"), "yes"),
    }
}

/// `release step --tier T`: promote into T the revision the tier below runs.
pub async fn step(
    source: &mut dyn FleetSource,
    ops: Option<&Arc<Operations>>,
    tier: &str,
    override_reason: Option<&str>,
    how: Confirm,
) -> Exit {
    let Some(ops) = ops else {
        eprintln!("shopctl: read-only: 'release step' is refused (started with --readonly)");
        return Exit::ReadOnly;
    };
    let executor = ops.executor();
    for _attempt in 0..3 {
        let now = ops.now();
        let fleet = match snapshot(source, now).await {
            Ok(f) => f,
            Err(e) => return e,
        };
        let m = match promotion(
            &fleet,
            tier,
            now,
            executor.policy(),
            &executor.holder().session,
            override_reason,
        ) {
            Ok((g, m)) => {
                eprint!("{}", verdict(&g));
                m
            }
            Err(refusal) => return refused_step(&refusal),
        };
        match run(ops, &m, &how).await {
            Ok(code) => return code,
            Err(e) if e.is_race() => {
                eprintln!("shopctl: {e}; re-evaluating the gate");
                continue;
            }
            Err(OpsError::Locked(l)) => {
                eprintln!("shopctl: locked by {}", l.who());
                return Exit::Locked;
            }
            Err(e) => return ops_exit(e),
        }
    }
    eprintln!("shopctl: '{tier}' kept moving under us; gave up after three attempts");
    Exit::Error
}

/// `release rollback --tier T`: restore the revision T ran before its last change.
pub async fn rollback(
    source: &mut dyn FleetSource,
    ops: Option<&Arc<Operations>>,
    tier: &str,
    how: Confirm,
) -> Exit {
    let Some(ops) = ops else {
        eprintln!("shopctl: read-only: 'release rollback' is refused (started with --readonly)");
        return Exit::ReadOnly;
    };
    let executor = ops.executor();
    let now = ops.now();
    let fleet = match snapshot(source, now).await {
        Ok(f) => f,
        Err(e) => return e,
    };
    let m = match release::rollback(&fleet, tier, now, &executor.holder().session) {
        Ok(m) => m,
        Err(refusal) => {
            eprintln!("shopctl: {refusal}");
            return refusal_exit(&refusal);
        }
    };
    run(ops, &m, &how).await.unwrap_or_else(ops_exit)
}

/// Prints why a step is refused (the gate, when one was evaluated) and gives its exit status.
fn refused_step(refusal: &Refusal) -> Exit {
    if let Some(g) = refusal.gate() {
        eprint!("{}", verdict(g));
    }
    match refusal {
        Refusal::Locked { .. } | Refusal::Blocked { .. } => {}
        Refusal::NeedsReason { overridden, .. } => eprintln!(
            "shopctl: the gate fails on {}; pass --override-reason TEXT to override it",
            overridden.join(", ")
        ),
        other => eprintln!("shopctl: {other}"),
    }
    refusal_exit(refusal)
}

/// The exit status of a refused step or rollback.
fn refusal_exit(refusal: &Refusal) -> Exit {
    match refusal {
        Refusal::UnknownTier { .. } | Refusal::NoRevision { .. } | Refusal::LockUnreadable(_) => {
            Exit::Error
        }
        Refusal::Locked { .. } => Exit::Locked,
        Refusal::LowestTier { .. }
        | Refusal::Blocked { .. }
        | Refusal::NeedsReason { .. }
        | Refusal::NoEarlier { .. }
        | Refusal::NothingToRollBack { .. }
        | Refusal::TierAbove { .. } => Exit::Refused,
    }
}

/// Asks, then executes holding the lock. The lock is taken and the gate re-checked after the
/// answer: a slow answer neither shortens the lock nor judges the gate on old data.
async fn run(ops: &Arc<Operations>, m: &Mutation, how: &Confirm) -> Result<Exit, OpsError> {
    // Never ask to confirm what these credentials may not write.
    ops.executor().permitted(m)?;
    match confirm(&format!("{}.", capitalise(&m.summary())), how) {
        Ok(true) => {}
        Ok(false) => {
            eprintln!("shopctl: not confirmed; nothing changed");
            return Ok(Exit::Refused);
        }
        Err(code) => return Ok(code),
    }
    let done = crate::ops::service::execute(ops, m.clone(), |s| eprintln!("shopctl: {s}")).await?;
    for w in &done.warnings {
        eprintln!("shopctl: warning: {w}");
    }
    let commit = done.commit.unwrap_or_default();
    crate::outln!(
        "{}: pushed {}",
        capitalise(&done.summary),
        commit.get(..12).unwrap_or(&commit)
    );
    Ok(Exit::Done)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}
