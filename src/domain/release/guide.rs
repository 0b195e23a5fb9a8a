//! The release as a checklist, lowest tier first, and the one thing to do next. Every console,
//! read-only ones included, computes the same guide from the same data.

use super::gate::{GatePolicy, gate};
use super::settled::rollout;
use crate::domain::fleet::Fleet;
use crate::domain::time::Ts;

/// Where one tier stands in the release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuideState {
    /// Runs the release, every ShopSet settled at the branch head.
    Done,
    Syncing {
        settled: usize,
        total: usize,
    },
    /// A ShopSet of the tier is Degraded: the tier should be rolled back.
    Failed {
        shopset: String,
    },
    Soaking {
        left: i64,
    },
    /// The gate into the tier passes: promote it.
    Next,
    /// The gate into the tier fails for this reason.
    Blocked(String),
    /// The tier below has not finished.
    Waiting,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuideRow {
    pub tier: String,
    pub revision: String,
    pub state: GuideState,
    /// The tier's checklist beyond its state: halt, freeze, approval and verification, each
    /// passing or not.
    pub notes: Vec<Note>,
}

/// One line of a tier's checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub ok: bool,
    /// Not failing, not passed yet either: time will tell (a verification holding).
    pub waiting: bool,
    pub text: String,
}

/// The halt, freeze, approval and verification state of `tier`, as the checklist shows it.
fn notes(
    fleet: &Fleet,
    tier: &crate::domain::model::Tier,
    gate: Option<&super::gate::Gate>,
    now: Ts,
    policy: &GatePolicy,
    // The tier's release is on its way through it: its verification is worth a line.
    measuring: bool,
) -> Vec<Note> {
    use super::gate::Condition;
    let mut out = Vec::new();
    // The fleet's halt is said once, above the checklist; a tier's own halt in its row.
    if let Some(h) = fleet
        .controls
        .halts
        .iter()
        .find(|h| h.tier.as_deref() == Some(tier.name.as_str()))
    {
        out.push(Note {
            ok: false,
            waiting: false,
            text: h.describe(),
        });
    }
    if let Some(f) = super::freeze::frozen(&policy.freezes, &tier.name, now) {
        out.push(Note {
            ok: false,
            waiting: false,
            text: f.describe(),
        });
    }
    if let Some(g) = gate.filter(|_| tier.approval == crate::domain::model::Approval::SecondPerson)
        && let Some(c) = g.checks.iter().find(|c| c.condition == Condition::Approved)
    {
        out.push(Note {
            ok: c.passed,
            waiting: false,
            text: format!("approval: {}", c.detail),
        });
    }
    if !policy.verifications.is_empty()
        && measuring
        && let Some(v) = fleet.verification.get(&tier.name)
        && v.revision.as_deref() == tier.revision.as_ref().map(|r| r.id.as_str())
    {
        use super::verify::{Status, value_label};
        let parts: Vec<String> = v
            .checks
            .iter()
            .map(|m| {
                let value = m.value.map(value_label).unwrap_or_else(|| "?".into());
                let word = match m.status {
                    Status::Passed => "passed",
                    Status::Holding => "holding",
                    Status::Failed => "failed",
                    Status::Unknown => "unknown",
                };
                format!(
                    "{} {value} (must be {} {}): {word}",
                    m.name,
                    m.compare.symbol(),
                    value_label(m.threshold)
                )
            })
            .collect();
        let ok = v
            .checks
            .iter()
            .all(|m| matches!(m.status, Status::Passed | Status::Holding));
        out.push(Note {
            ok,
            waiting: ok && v.checks.iter().any(|m| m.status == Status::Holding),
            text: format!("verify: {}", parts.join("; ")),
        });
    }
    out
}

/// The tiers as a checklist, lowest first.
pub fn guide(fleet: &Fleet, now: Ts, policy: &GatePolicy, me: &str) -> Vec<GuideRow> {
    let mut rows: Vec<GuideRow> = Vec::new();
    // The release on its way up: what the lowest tier runs.
    let release = fleet
        .tiers
        .first()
        .and_then(|t| t.revision.as_ref())
        .map(|r| r.id.clone());
    // A tier whose last change went back to an older release and has not settled there: until
    // it has, no step is the next thing to do.
    let rolling_back = fleet
        .tiers
        .iter()
        .find(|t| {
            matches!((&t.revision, &t.previous), (Some(r), Some(p)) if r.seq < p.seq)
                && !rollout(fleet, t).is_settled()
        })
        .map(|t| t.name.clone());
    for (i, t) in fleet.tiers.iter().enumerate() {
        let revision = t
            .revision
            .as_ref()
            .map(|r| r.label())
            .unwrap_or_else(|| "?".into());
        let below_done = i == 0 || rows.last().is_some_and(|r| r.state == GuideState::Done);
        let same_as_below = i == 0
            || fleet
                .tier_below(&t.name)
                .and_then(|b| b.revision.as_ref())
                .map(|r| &r.id)
                == t.revision.as_ref().map(|r| &r.id);
        let has_release = t.revision.as_ref().map(|r| &r.id) == release.as_ref();
        let g = gate(fleet, &t.name, now, policy, fleet.lock.as_ref(), me);
        let state = if same_as_below && !has_release {
            GuideState::Waiting
        } else if same_as_below {
            let r = rollout(fleet, t);
            match r.degraded {
                Some(shopset) => GuideState::Failed { shopset },
                None if r.is_settled() => GuideState::Done,
                None => GuideState::Syncing {
                    settled: r.settled,
                    total: r.total,
                },
            }
        } else if !below_done {
            GuideState::Waiting
        } else {
            match &g {
                Some(g) if g.passed() => match &rolling_back {
                    Some(back) => GuideState::Blocked(format!("'{back}' is still rolling back")),
                    None => GuideState::Next,
                },
                Some(g) if g.only_soaking() => GuideState::Soaking {
                    left: g.soak_left.unwrap_or_default().max(0),
                },
                Some(g) => {
                    GuideState::Blocked(g.headline().map(|c| c.detail.clone()).unwrap_or_default())
                }
                None => GuideState::Waiting,
            }
        };
        let notes = notes(
            fleet,
            t,
            g.as_ref().filter(|_| !same_as_below),
            now,
            policy,
            matches!(
                state,
                GuideState::Syncing { .. } | GuideState::Failed { .. }
            ) || (same_as_below && crate::domain::release::soak::in_soak(fleet, &t.name, now)),
        );
        rows.push(GuideRow {
            tier: t.name.clone(),
            revision,
            state,
            notes,
        });
    }
    rows
}

/// The first tier not done: where the release needs attention. `None` when every tier runs it.
pub fn next_action(rows: &[GuideRow]) -> Option<&GuideRow> {
    rows.iter().find(|r| r.state != GuideState::Done)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{NOW, fleet};
    use super::*;
    use crate::domain::*;

    fn states(f: &Fleet, now: Ts) -> Vec<GuideState> {
        guide(f, now, &GatePolicy::default(), "me")
            .into_iter()
            .map(|r| r.state)
            .collect()
    }

    #[test]
    fn a_settled_lowest_tier_makes_the_next_tier_the_next_action() {
        let f = fleet();
        assert_eq!(states(&f, NOW), [GuideState::Done, GuideState::Next]);
        let rows = guide(&f, NOW, &GatePolicy::default(), "me");
        assert_eq!(next_action(&rows).map(|r| r.tier.as_str()), Some("prod"));
    }

    #[test]
    fn a_tier_not_yet_at_its_branch_head_is_syncing_not_done() {
        let mut f = fleet();
        let mut tiers = f.tiers.clone();
        tiers[0].head = Some("a-newer-head".into());
        f.apply(FleetUpdate::Tiers(tiers));
        assert_eq!(
            states(&f, NOW),
            [
                GuideState::Syncing {
                    settled: 0,
                    total: 2
                },
                GuideState::Waiting
            ]
        );
    }

    #[test]
    fn a_degraded_shopset_fails_its_tier_and_a_short_soak_waits() {
        let mut f = fleet();
        let mut app = f.app_for("D-2").cloned().expect("app");
        app.health = HealthStatus::Degraded;
        f.apply(FleetUpdate::AppUpserted(app));
        assert_eq!(
            states(&f, NOW)[0],
            GuideState::Failed {
                shopset: "D-2".into()
            }
        );
        let f = fleet();
        // dev synced 300 s before NOW and soaks 120 s: 60 s after its sync it still soaks.
        assert_eq!(
            states(&f, NOW.plus_secs(-240))[1],
            GuideState::Soaking { left: 60 }
        );
    }

    #[test]
    fn after_a_rollback_nothing_is_next_until_it_settles_and_the_failed_release_is_not_offered() {
        let mut f = fleet();
        // prod went back from 5 to 4, and its ShopSet still syncs to the rollback.
        let mut tiers = f.tiers.clone();
        tiers[1].previous = Some(super::super::testing::rev(5));
        tiers[1].head = Some("head-rollback".into());
        f.apply(FleetUpdate::Tiers(tiers));
        match &states(&f, NOW)[1] {
            GuideState::Blocked(why) => assert!(why.contains("still rolling back"), "{why}"),
            other => panic!("{other:?}"),
        }
        // Settled at the rollback, and 5 marked failed on prod: not offered again.
        let mut app = f.app_for("P-1").cloned().expect("app");
        app.revision = Some("head-rollback".into());
        f.apply(FleetUpdate::AppUpserted(app));
        f.apply(FleetUpdate::Controls(
            crate::domain::release::ReleaseControls {
                failed: vec![crate::domain::release::FailedRelease {
                    tier: "prod".into(),
                    revision: super::super::testing::rev(5),
                    reason: "rolled back by alice".into(),
                    by: "alice".into(),
                    at: NOW,
                }],
                ..Default::default()
            },
        ));
        match &states(&f, NOW)[1] {
            GuideState::Blocked(why) => assert!(why.contains("failed on 'prod'"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
