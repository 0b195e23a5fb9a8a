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
    /// The fleet's halt, when every promotion is halted.
    halt: Option<HaltJson>,
    /// Approval requests no one has approved yet, oldest first.
    pending_requests: Vec<RequestJson>,
    /// What in the release policy does nothing (a freeze naming a tier the fleet lacks).
    warnings: Vec<String>,
    /// Why halts, failed releases and approvals cannot be read now, when they cannot (the
    /// gates that need them fail).
    controls_unknown: Option<String>,
}

#[derive(Serialize)]
struct HaltJson {
    reason: String,
    by: String,
    at: String,
}

#[derive(Serialize)]
struct FrozenJson {
    /// When promotions into the tier reopen (RFC 3339).
    until: String,
    reason: String,
    /// The window as configured.
    window: String,
}

#[derive(Serialize)]
struct FailedJson {
    revision: String,
    revision_tag: Option<String>,
    reason: String,
    by: String,
    at: String,
}

#[derive(Serialize)]
struct RequestJson {
    name: String,
    tier: String,
    from: Option<String>,
    to: String,
    to_tag: Option<String>,
    requested_by: String,
    requested_at: String,
    approved_by: Option<String>,
    approved_at: Option<String>,
}

#[derive(Serialize)]
struct ApprovalJson {
    /// `none` or `second-person`.
    required: &'static str,
    /// The request for the change a step into the tier would make now, if any.
    request: Option<RequestJson>,
}

#[derive(Serialize)]
struct VerificationJson {
    /// The revision the tier ran when measured, and when.
    revision: Option<String>,
    measured_at: String,
    checks: Vec<crate::domain::release::verify::Measured>,
}

fn request_json(r: &crate::domain::release::ApprovalRequest) -> RequestJson {
    RequestJson {
        name: r.name.clone(),
        tier: r.tier.clone(),
        from: r.from.clone(),
        to: r.to.id.clone(),
        to_tag: r.to.tag.clone(),
        requested_by: r.requested_by.clone(),
        requested_at: r.requested_at.rfc3339(),
        approved_by: r.approved_by.clone(),
        approved_at: r.approved_at.map(|t| t.rfc3339()),
    }
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
    /// The halt of this tier (or of the fleet), if promotions into it are halted.
    halted: Option<HaltJson>,
    /// The freeze window holding the tier now, if one does.
    frozen: Option<FrozenJson>,
    /// The release marked failed on this tier (it was rolled back), if any.
    failed_release: Option<FailedJson>,
    approval: ApprovalJson,
    /// `shopctl release watch` rolls the tier back when its soak goes bad.
    auto_rollback: bool,
    /// The tier's own verification by metrics, for the revision it runs; null when nothing is
    /// verified or it has not been measured.
    verification: Option<VerificationJson>,
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
    /// The tier below's verifications, each with its query, value and threshold.
    verifications: Vec<crate::domain::release::verify::Measured>,
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
        verifications: g.measured.clone(),
    }
}

/// Freezes naming a tier the fleet does not have: they freeze nothing, said rather than ignored.
fn policy_warnings(fleet: &Fleet, policy: &GatePolicy) -> Vec<String> {
    let mut out = Vec::new();
    for f in &policy.freezes {
        for t in f.tiers.iter().filter(|t| fleet.tier(t).is_none()) {
            out.push(format!(
                "the freeze '{}' names tier '{t}', which the fleet does not have: it freezes nothing there",
                f.reason
            ));
        }
    }
    out
}

/// `release status`: every tier, its revision and the gate for promoting into it.
pub fn status(fleet: &Fleet, now: Ts, json: bool, me: &str, policy: &GatePolicy) -> String {
    let gates: Vec<Option<Gate>> = fleet
        .tiers
        .iter()
        .map(|t| rules::gate(fleet, &t.name, now, policy, fleet.lock.as_ref(), me))
        .collect();
    if json {
        let halt_json = |h: &crate::domain::release::Halt| HaltJson {
            reason: h.reason.clone(),
            by: h.by.clone(),
            at: h.at.rfc3339(),
        };
        let c = &fleet.controls;
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
                    halted: c.halt_of(&t.name).map(halt_json),
                    frozen: rules::frozen(&policy.freezes, &t.name, now).map(|f| FrozenJson {
                        until: f.until.rfc3339(),
                        reason: f.freeze.reason.clone(),
                        window: f.freeze.window_label(),
                    }),
                    failed_release: c.failed.iter().find(|f| f.tier == t.name).map(|f| {
                        FailedJson {
                            revision: f.revision.id.clone(),
                            revision_tag: f.revision.tag.clone(),
                            reason: f.reason.clone(),
                            by: f.by.clone(),
                            at: f.at.rfc3339(),
                        }
                    }),
                    approval: ApprovalJson {
                        required: t.approval.as_str(),
                        request: g
                            .as_ref()
                            .and_then(|g| g.target.as_ref())
                            .and_then(|to| c.request_for(t, &to.id))
                            .map(request_json),
                    },
                    auto_rollback: t.auto_rollback,
                    verification: fleet
                        .verification
                        .get(&t.name)
                        .filter(|_| !policy.verifications.is_empty())
                        .filter(|v| {
                            v.revision.as_deref() == t.revision.as_ref().map(|r| r.id.as_str())
                        })
                        .map(|v| VerificationJson {
                            revision: v.revision.clone(),
                            measured_at: v.at.rfc3339(),
                            checks: v.checks.clone(),
                        }),
                })
                .collect(),
            halt: c.fleet_halt().map(halt_json),
            pending_requests: c.pending().map(request_json).collect(),
            warnings: policy_warnings(fleet, policy),
            controls_unknown: fleet.controls_unknown.clone(),
        };
        return serde_json::to_string_pretty(&out)
            .map(|s| s + "\n")
            .unwrap_or_default();
    }
    let mut s = String::new();
    for w in policy_warnings(fleet, policy) {
        let _ = writeln!(s, "▲ {w}");
    }
    if let Some(why) = &fleet.controls_unknown {
        let _ = writeln!(
            s,
            "✗ halts, failed releases and approvals cannot be read: {why}"
        );
    }
    if let Some(h) = fleet.controls.fleet_halt() {
        let _ = writeln!(s, "✗ {}", h.describe());
    }
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
    for r in fleet.controls.pending() {
        let _ = writeln!(
            s,
            "approval asked: '{}' → {} by {} at {} ({})",
            r.tier,
            r.to.label(),
            r.requested_by,
            r.requested_at.hhmmss(),
            r.name
        );
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
            // Measured as the executor measures at execution, whatever the source brought.
            Ok(f) => executor.verified(f, now).await,
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
        | Refusal::LastWasRollback { .. }
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

/// What `release halt | resume | clear | request | approve` asks for.
pub enum Decision<'a> {
    Halt {
        tier: Option<&'a str>,
        reason: &'a str,
    },
    Resume {
        tier: Option<&'a str>,
        reason: &'a str,
    },
    Clear {
        tier: &'a str,
        reason: &'a str,
    },
    Request {
        tier: &'a str,
    },
    Approve {
        tier: &'a str,
    },
}

/// `release halt | resume | clear | request | approve`: one decision about releases, confirmed
/// and written through the executor (no operator lock: a halt must work while a step holds it,
/// and an approval comes from a second person).
pub async fn decide(
    source: &mut dyn FleetSource,
    ops: Option<&Arc<Operations>>,
    decision: Decision<'_>,
    how: Confirm,
) -> Exit {
    let Some(ops) = ops else {
        eprintln!("shopctl: read-only: release decisions are refused (started with --readonly)");
        return Exit::ReadOnly;
    };
    let reason = match &decision {
        Decision::Halt { reason, .. }
        | Decision::Resume { reason, .. }
        | Decision::Clear { reason, .. } => match crate::domain::reason(reason) {
            Ok(r) => Some(r),
            Err(why) => {
                eprintln!(
                    "shopctl: {why}: say why with --reason TEXT (it is shown to everyone and audited)"
                );
                return Exit::Refused;
            }
        },
        Decision::Request { .. } | Decision::Approve { .. } => None,
    };
    let m = match decision {
        Decision::Halt { tier, .. } => Mutation::Halt {
            tier: tier.map(str::to_string),
            reason: reason.unwrap_or_default(),
        },
        // Whatever halt there is when it runs: the command asks for no earlier view.
        Decision::Resume { tier, .. } => Mutation::Resume {
            tier: tier.map(str::to_string),
            reason: reason.unwrap_or_default(),
            halted_at: None,
        },
        other => {
            let now = ops.now();
            let fleet = match snapshot(source, now).await {
                Ok(f) => f,
                Err(e) => return e,
            };
            match about_tier(&fleet, other) {
                Ok(m) => m,
                Err(code) => return code,
            }
        }
    };
    if let Some(t) = match &m {
        Mutation::Halt { tier, .. } | Mutation::Resume { tier, .. } => tier.as_deref(),
        _ => None,
    } {
        let now = ops.now();
        match snapshot(source, now).await {
            Ok(f) if f.tier(t).is_none() => return unknown_tier(&f, t),
            Ok(_) => {}
            Err(e) => return e,
        }
    }
    if let Err(e) = ops.executor().permitted(&m) {
        return ops_exit(e);
    }
    match confirm(&format!("{}.", capitalise(&m.summary())), &how) {
        Ok(true) => {}
        Ok(false) => {
            eprintln!("shopctl: not confirmed; nothing changed");
            return Exit::Refused;
        }
        Err(code) => return code,
    }
    match crate::ops::service::execute(ops, m.clone(), |s| eprintln!("shopctl: {s}")).await {
        Ok(done) => {
            crate::outln!("{}: done", capitalise(&done.summary));
            Exit::Done
        }
        Err(e) => ops_exit(e),
    }
}

/// Says that `name` is no tier of `fleet`, naming those that are.
fn unknown_tier(fleet: &Fleet, name: &str) -> Exit {
    eprintln!(
        "shopctl: unknown tier '{name}' (tiers: {})",
        fleet
            .tiers
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Exit::Error
}

/// The decision about one tier's release, built on the fleet as it is: what a clear, a request
/// or an approval is about.
fn about_tier(fleet: &Fleet, decision: Decision<'_>) -> Result<Mutation, Exit> {
    let name = match &decision {
        Decision::Clear { tier, .. } | Decision::Request { tier } | Decision::Approve { tier } => {
            *tier
        }
        Decision::Halt { .. } | Decision::Resume { .. } => return Err(Exit::Error),
    };
    if fleet.tier(name).is_none() {
        return Err(unknown_tier(fleet, name));
    }
    if let Some(why) = &fleet.controls_unknown {
        eprintln!("shopctl: halts, failed releases and approvals cannot be read: {why}");
        return Err(Exit::Error);
    }
    let refuse = |why: String| {
        eprintln!("shopctl: {why}");
        Err(Exit::Refused)
    };
    match decision {
        Decision::Clear { tier, reason } => {
            let Some(f) = fleet.controls.failed.iter().find(|f| f.tier == tier) else {
                return refuse(format!("no release is marked failed on '{tier}'"));
            };
            Ok(Mutation::ClearFailed {
                tier: tier.into(),
                revision: f.revision.clone(),
                reason: crate::domain::printable(reason).trim().to_string(),
            })
        }
        Decision::Request { tier } | Decision::Approve { tier } => {
            let (from, to) = match crate::domain::release::controls::approval_change(fleet, tier) {
                Ok(change) => change,
                Err(why) => return refuse(why),
            };
            if matches!(decision, Decision::Request { .. }) {
                return Ok(Mutation::RequestApproval {
                    tier: tier.into(),
                    from,
                    to,
                });
            }
            let request = fleet
                .tier(tier)
                .and_then(|t| fleet.controls.request_for(t, &to.id));
            match request {
                Some(r) => Ok(Mutation::Approve {
                    tier: tier.into(),
                    request: r.name.clone(),
                    from,
                    to,
                }),
                None => {
                    let other = fleet.controls.pending().find(|r| r.tier == tier);
                    refuse(match other {
                        Some(r) => format!(
                            "the pending request for '{tier}' asks for {} → {}, but a step would now bring {}: a new request is needed",
                            r.from
                                .as_deref()
                                .map_or("nothing", |f| f.get(..7).unwrap_or(f)),
                            r.to.label(),
                            to.label()
                        ),
                        None => format!(
                            "no one asked to approve '{tier}' → {}; ask with 'shopctl release request --tier {tier}'",
                            to.label()
                        ),
                    })
                }
            }
        }
        Decision::Halt { .. } | Decision::Resume { .. } => Err(Exit::Error),
    }
}
