//! The one builder of release mutations, shared by the console and the headless commands: a
//! promotion that only a passing (or properly overridden) gate allows, and a rollback that never
//! leaves a tier running ahead of the tier below.

use thiserror::Error;

use super::Mutation;
use crate::domain::release::{Condition, Gate, GatePolicy, gate};
use crate::domain::{Fleet, Ts};

/// Why a step or rollback cannot be built.
#[derive(Debug, Clone, PartialEq, Error)]
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
    /// The lock file cannot be read, so no one may take it.
    #[error("the operator lock cannot be read: {0}")]
    LockUnreadable(String),
    #[error("'{tier}' pins no known revision")]
    NoRevision { tier: String },
    #[error("'{tier}' has no earlier revision to roll back to")]
    NoEarlier { tier: String },
    #[error("'{tier}' ran {revision} before its last change too; nothing to roll back")]
    NothingToRollBack { tier: String, revision: String },
    /// The tier's last change was itself a rollback: "rolling it back" would bring the newer
    /// release back, which only a step (through the gate) may do.
    #[error(
        "'{tier}' was last rolled back (from {newer} to {runs}); rolling that back would bring {newer} back — step it through the gate instead"
    )]
    LastWasRollback {
        tier: String,
        runs: String,
        newer: String,
    },
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
    if let Some(why) = &fleet.lock_problem {
        return Err(Refusal::LockUnreadable(why.clone()));
    }
    if g.failed().any(|c| c.condition == Condition::LockFree) {
        let (holder, until) = fleet
            .lock_holder(now)
            .map(|l| (l.who(), l.expires_at.hhmmss()))
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
    // A reason that says nothing visible is no reason.
    let reason = override_reason.and_then(|r| crate::domain::reason(r).ok());
    let reason = reason.as_deref();
    // The approval the gate found (where the tier asks for one): named in the commit.
    let approved_by = (t.approval == crate::domain::Approval::SecondPerson)
        .then(|| fleet.controls.request_for(t, &target.id))
        .flatten()
        .filter(|r| r.approved())
        .and_then(|r| r.approved_by.clone());
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
        approved_by,
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
    if let Some(why) = &fleet.lock_problem {
        return Err(Refusal::LockUnreadable(why.clone()));
    }
    if let Some(l) = fleet
        .lock_holder(now)
        .filter(|l| l.session.is_empty() || l.session != me)
    {
        return Err(Refusal::Locked {
            holder: l.who(),
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
    if target.seq > current.seq {
        return Err(Refusal::LastWasRollback {
            tier: tier.into(),
            runs: current.label(),
            newer: target.label(),
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
        cause: None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::release::testing::{NOW, alert, fleet, rev};
    use crate::domain::{FleetUpdate, ReleaseLock, Severity};

    fn promote(f: &Fleet, reason: Option<&str>) -> Result<(Gate, Mutation), Refusal> {
        promotion(f, "prod", NOW, &GatePolicy::default(), "me", reason)
    }

    /// What a commit says is what the release history reads back: operator, gate, override,
    /// reason, approval; and a rollback's cause.
    #[test]
    fn commit_messages_are_read_back_by_the_history() {
        use crate::domain::release::history::{Action, TierChange, events};
        let promote = Mutation::Promote {
            tier: "prod".into(),
            branch: "tier-3".into(),
            from_tier: "prod-beta".into(),
            current: Some(rev(1)),
            target: rev(2),
            override_reason: Some("hotfix for\nthe checkout outage".into()),
            overridden: vec!["no_alerts".into(), "soaked".into()],
            approved_by: Some("bob@ops".into()),
        };
        let back = Mutation::Rollback {
            tier: "prod".into(),
            branch: "tier-3".into(),
            current: rev(2),
            target: rev(1),
            cause: Some("alert X fires on prod".into()),
        };
        let change = |m: &Mutation, at: i64, from: u32, to: u32| TierChange {
            commit: format!("c{at}"),
            at: NOW.plus_secs(at),
            author: "shopctl <shopctl@localhost>".into(),
            message: m.commit_message("alice@ops"),
            from: Some(rev(from).id),
            to: Some(rev(to).id),
        };
        let changes = vec![(
            "prod".to_string(),
            vec![change(&back, 60, 2, 1), change(&promote, 0, 1, 2)],
        )];
        let e = events(&fleet(), &changes, &|_| None);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].action, Action::Promote);
        assert_eq!(e[0].by, "alice@ops");
        assert_eq!(e[0].from_tier.as_deref(), Some("prod-beta"));
        assert_eq!(e[0].gate.as_deref(), Some("overridden"));
        assert_eq!(e[0].overridden, ["no_alerts", "soaked"]);
        assert_eq!(
            e[0].reason.as_deref(),
            Some("hotfix for the checkout outage")
        );
        assert_eq!(e[0].approved_by.as_deref(), Some("bob@ops"));
        assert_eq!(e[0].outcome.name(), "rolled back");
        assert_eq!(e[1].action, Action::Rollback);
        assert_eq!(e[1].cause.as_deref(), Some("alert X fires on prod"));
    }

    #[test]
    fn a_passing_gate_promotes_exactly_what_the_tier_below_runs() {
        let (g, m) = promote(&fleet(), None).expect("promotion");
        assert!(g.passed());
        match m {
            Mutation::Promote {
                target,
                from_tier,
                override_reason: None,
                overridden,
                ..
            } => {
                assert_eq!((target, from_tier.as_str()), (rev(5), "dev"));
                assert!(overridden.is_empty());
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            promotion(&fleet(), "dev", NOW, &GatePolicy::default(), "me", None),
            Err(Refusal::LowestTier { .. })
        ));
        assert!(matches!(
            promote_unknown(&fleet()),
            Err(Refusal::UnknownTier { .. })
        ));
    }

    fn promote_unknown(f: &Fleet) -> Result<(Gate, Mutation), Refusal> {
        promotion(f, "nope", NOW, &GatePolicy::default(), "me", None)
    }

    #[test]
    fn an_alert_needs_a_reason_and_the_reason_is_carried() {
        let mut f = fleet();
        f.apply(FleetUpdate::Alerts(vec![alert(
            "CheckoutErrorRateHigh",
            Severity::Critical,
            &[("tier", "dev")],
        )]));
        match promote(&f, Some("  ")) {
            Err(Refusal::NeedsReason { overridden, .. }) => assert_eq!(overridden, ["no_alerts"]),
            other => panic!("{other:?}"),
        }
        // A reason reaches commits and terminals without control characters.
        match promote(&f, Some("ok\n\u{1b}[31mred\u{7}")) {
            Ok((
                _,
                Mutation::Promote {
                    override_reason: Some(r),
                    ..
                },
            )) => assert_eq!(r, "ok  [31mred"),
            other => panic!("{other:?}"),
        }
        match promote(&f, Some("hotfix")) {
            Ok((
                _,
                Mutation::Promote {
                    override_reason,
                    overridden,
                    ..
                },
            )) => {
                assert_eq!(override_reason.as_deref(), Some("hotfix"));
                assert_eq!(overridden, ["no_alerts"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn another_operators_lock_refuses_step_and_rollback() {
        let mut f = fleet();
        f.lock = Some(ReleaseLock {
            holder: "alice@ops".into(),
            session: "1".into(),
            acquired_at: NOW,
            expires_at: NOW.plus_secs(60),
            operation: None,
        });
        let refusal = promote(&f, None).expect_err("locked");
        assert!(
            matches!(&refusal, Refusal::Locked { holder, gate: Some(_), .. } if holder == "alice@ops"),
            "{refusal:?}"
        );
        assert!(matches!(
            rollback(&f, "prod", NOW, "me"),
            Err(Refusal::Locked { gate: None, .. })
        ));
    }

    #[test]
    fn a_rollback_returns_to_the_previous_revision_unless_a_tier_above_is_newer() {
        let mut f = fleet();
        assert!(matches!(
            rollback(&f, "prod", NOW, "me"),
            Err(Refusal::NoEarlier { .. })
        ));
        let mut tiers = f.tiers.clone();
        tiers[0].previous = Some(rev(4));
        tiers[1].previous = Some(rev(3));
        f.apply(FleetUpdate::Tiers(tiers));
        match rollback(&f, "prod", NOW, "me") {
            Ok(Mutation::Rollback {
                current, target, ..
            }) => assert_eq!((current, target), (rev(4), rev(3))),
            other => panic!("{other:?}"),
        }
        // dev back to 4 is fine (prod runs 4); to 3 would leave prod ahead of dev.
        assert!(rollback(&f, "dev", NOW, "me").is_ok());
        let mut tiers = f.tiers.clone();
        tiers[0].previous = Some(rev(3));
        f.apply(FleetUpdate::Tiers(tiers));
        assert!(matches!(
            rollback(&f, "dev", NOW, "me"),
            Err(Refusal::TierAbove { above, .. }) if above == "prod"
        ));
    }
}
