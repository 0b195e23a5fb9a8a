//! The one builder of release mutations, shared by the console and the headless commands: a
//! promotion that only a passing (or properly overridden) gate allows, and a rollback that never
//! leaves a tier running ahead of the tier below.

use thiserror::Error;

use super::Mutation;
use crate::domain::release::{Condition, Gate, GatePolicy, gate};
use crate::domain::{Fleet, Ts};

/// Why a step or rollback cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    #[error("unknown tier '{tier}' (tiers: {tiers})")]
    UnknownTier { tier: String, tiers: String },
    #[error("'{tier}' is the lowest tier; releases enter it by merging into '{branch}'")]
    LowestTier { tier: String, branch: String },
    /// Another operator holds the release lock; for a step, the gate that says so.
    #[error("locked by {holder} until {until}")]
    Locked {
        holder: String,
        until: String,
        gate: Option<Box<Gate>>,
    },
    /// The gate fails on conditions no reason can override.
    #[error("refused: {} cannot be overridden", .conditions.join(", "))]
    Blocked {
        gate: Box<Gate>,
        conditions: Vec<&'static str>,
    },
    /// The gate fails only on overridable conditions, and no reason was given. `mutation` is the
    /// promotion a reason would allow.
    #[error("type a reason to override {}", .overridden.join(", "))]
    NeedsReason {
        gate: Box<Gate>,
        overridden: Vec<String>,
        mutation: Box<Mutation>,
    },
    #[error("'{tier}' pins no known revision")]
    NoRevision { tier: String },
    #[error("'{tier}' has no earlier revision to roll back to")]
    NoEarlier { tier: String },
    #[error("'{tier}' ran {revision} before its last change too; nothing to roll back")]
    NothingToRollBack { tier: String, revision: String },
    #[error(
        "tier '{above}' above runs {runs}, newer than {target}; roll back '{above}' first so no tier runs ahead of the tier below"
    )]
    TierAbove {
        above: String,
        runs: String,
        target: String,
    },
}

impl Refusal {
    /// The gate behind the refusal, when a gate was evaluated.
    pub fn gate(&self) -> Option<&Gate> {
        match self {
            Refusal::Blocked { gate, .. } | Refusal::NeedsReason { gate, .. } => Some(gate),
            Refusal::Locked { gate, .. } => gate.as_deref(),
            _ => None,
        }
    }
}

/// The promotion into `tier` of exactly what the tier below runs, if its gate allows it. A
/// failing alert or soak condition is overridden only with a non-empty `override_reason`.
pub fn promotion(
    fleet: &Fleet,
    tier: &str,
    now: Ts,
    policy: &GatePolicy,
    me: &str,
    override_reason: Option<&str>,
) -> Result<(Gate, Mutation), Refusal> {
    let t = fleet.tier(tier).ok_or_else(|| unknown(fleet, tier))?;
    let g = gate(fleet, tier, now, policy, fleet.lock.as_ref(), me).ok_or_else(|| {
        Refusal::LowestTier {
            tier: tier.into(),
            branch: t.branch.clone(),
        }
    })?;
    if g.failed().any(|c| c.condition == Condition::LockFree) {
        let (holder, until) = fleet
            .lock_holder(now)
            .map(|l| (l.holder.clone(), l.expires_at.hhmmss()))
            .unwrap_or_default();
        return Err(Refusal::Locked {
            holder,
            until,
            gate: Some(Box::new(g)),
        });
    }
    let conditions: Vec<&'static str> = g.blocking().map(|c| c.condition.name()).collect();
    let target = match (&g.target, conditions.is_empty()) {
        (Some(target), true) => target.clone(),
        _ => {
            return Err(Refusal::Blocked {
                gate: Box::new(g),
                conditions,
            });
        }
    };
    let overridden: Vec<String> = g.failed().map(|c| c.condition.name().to_string()).collect();
    let reason = override_reason.map(str::trim).filter(|r| !r.is_empty());
    let mutation = Mutation::Promote {
        tier: tier.into(),
        branch: t.branch.clone(),
        from_tier: g.from_tier.clone(),
        current: g.current.clone(),
        target,
        override_reason: reason
            .filter(|_| !overridden.is_empty())
            .map(str::to_string),
        overridden: overridden.clone(),
    };
    if !overridden.is_empty() && reason.is_none() {
        return Err(Refusal::NeedsReason {
            gate: Box::new(g),
            overridden,
            mutation: Box::new(mutation),
        });
    }
    Ok((g, mutation))
}

/// The rollback of `tier` to the revision it ran before its last change, as a new commit.
pub fn rollback(fleet: &Fleet, tier: &str, now: Ts, me: &str) -> Result<Mutation, Refusal> {
    let t = fleet.tier(tier).ok_or_else(|| unknown(fleet, tier))?;
    if let Some(l) = fleet.lock_holder(now).filter(|l| l.holder != me) {
        return Err(Refusal::Locked {
            holder: l.holder.clone(),
            until: l.expires_at.hhmmss(),
            gate: None,
        });
    }
    let current = t
        .revision
        .clone()
        .ok_or_else(|| Refusal::NoRevision { tier: tier.into() })?;
    let target = t
        .previous
        .clone()
        .ok_or_else(|| Refusal::NoEarlier { tier: tier.into() })?;
    if target.id == current.id {
        return Err(Refusal::NothingToRollBack {
            tier: tier.into(),
            revision: current.label(),
        });
    }
    if let Some(above) = fleet
        .tiers
        .iter()
        .find(|o| o.level > t.level && o.revision.as_ref().is_some_and(|r| r.seq > target.seq))
    {
        return Err(Refusal::TierAbove {
            above: above.name.clone(),
            runs: above
                .revision
                .as_ref()
                .map(|r| r.label())
                .unwrap_or_default(),
            target: target.label(),
        });
    }
    Ok(Mutation::Rollback {
        tier: tier.into(),
        branch: t.branch.clone(),
        current,
        target,
    })
}

fn unknown(fleet: &Fleet, tier: &str) -> Refusal {
    Refusal::UnknownTier {
        tier: tier.into(),
        tiers: fleet
            .tiers
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}
