//! Where a release stands: the progress of a step this console pushed, and the release guide's
//! checklist. Computed from the fleet, so every console on the fleet — read-only ones too — shows
//! the same.

use crate::domain::release::{self, GatePolicy};
use crate::domain::time::countdown;
use crate::domain::{Fleet, HealthStatus, Ts};

/// A step this console pushed, followed until its ShopSets settle or degrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub tier: String,
    pub commit: String,
    pub since: Ts,
    pub rollback: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgressState {
    /// The push is not yet seen by Argo CD.
    Waiting,
    Syncing {
        settled: usize,
        total: usize,
    },
    Done,
    Failed(String),
}

impl Progress {
    pub fn state(&self, fleet: &Fleet) -> ProgressState {
        let Some(t) = fleet.tier(&self.tier) else {
            return ProgressState::Failed(format!("tier '{}' disappeared", self.tier));
        };
        if t.head.as_deref() != Some(self.commit.as_str()) {
            return ProgressState::Waiting;
        }
        let sets: Vec<_> = fleet.shopsets_of_tier(&self.tier).collect();
        let mut settled = 0;
        for ss in &sets {
            let Some(app) = fleet.app_for(&ss.name) else {
                continue;
            };
            let at_head = app.revision.as_deref() == Some(self.commit.as_str());
            if at_head && app.health == HealthStatus::Degraded {
                return ProgressState::Failed(format!("{} is Degraded", ss.name));
            }
            if at_head && app.is_settled() {
                settled += 1;
            }
        }
        if settled == sets.len() {
            ProgressState::Done
        } else {
            ProgressState::Syncing {
                settled,
                total: sets.len(),
            }
        }
    }
}

/// Where one tier stands in the release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuideState {
    Done,
    Syncing { settled: usize, total: usize },
    Failed(String),
    Soaking { left: i64 },
    Next,
    Blocked(String),
    Waiting,
}

pub struct GuideRow {
    pub tier: String,
    pub revision: String,
    pub state: GuideState,
}

/// The tiers as a checklist, lowest first.
pub fn guide(fleet: &Fleet, now: Ts, me: &str) -> Vec<GuideRow> {
    let policy = GatePolicy::default();
    let mut rows: Vec<GuideRow> = Vec::new();
    // The release on its way up: what the lowest tier runs.
    let release = fleet
        .tiers
        .first()
        .and_then(|t| t.revision.as_ref())
        .map(|r| r.id.clone());
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
        let state = if same_as_below && !has_release {
            GuideState::Waiting
        } else if same_as_below {
            let sets: Vec<_> = fleet.shopsets_of_tier(&t.name).collect();
            let settled = sets
                .iter()
                .filter(|s| {
                    fleet
                        .app_for(&s.name)
                        .is_some_and(|a| a.is_settled() && a.revision == t.head)
                })
                .count();
            let degraded = sets.iter().find(|s| {
                fleet
                    .app_for(&s.name)
                    .is_some_and(|a| a.health == HealthStatus::Degraded)
            });
            match degraded {
                Some(s) => GuideState::Failed(format!("{} Degraded — b rolls it back", s.name)),
                None if settled == sets.len() => GuideState::Done,
                None => GuideState::Syncing {
                    settled,
                    total: sets.len(),
                },
            }
        } else if !below_done {
            GuideState::Waiting
        } else {
            match release::gate(fleet, &t.name, now, &policy, fleet.lock.as_ref(), me) {
                Some(g) if g.passed() => GuideState::Next,
                Some(g) => match (g.soak_left, g.failed().count()) {
                    (Some(left), 1) => GuideState::Soaking { left },
                    _ => GuideState::Blocked(
                        g.failed()
                            .map(|c| c.detail.clone())
                            .next()
                            .unwrap_or_default(),
                    ),
                },
                None => GuideState::Waiting,
            }
        };
        rows.push(GuideRow {
            tier: t.name.clone(),
            revision,
            state,
        });
    }
    rows
}

/// The one thing to do next, and for which tier.
pub fn next_action(rows: &[GuideRow]) -> (Option<&str>, String) {
    let Some(row) = rows.iter().find(|r| r.state != GuideState::Done) else {
        return (
            None,
            "✓ every tier runs the release: nothing left to do".into(),
        );
    };
    let t = row.tier.as_str();
    let text = match &row.state {
        GuideState::Next => format!("▶ promote '{t}' — press s"),
        GuideState::Syncing { settled, total } => {
            format!("◐ wait: '{t}' is syncing ({settled}/{total})")
        }
        GuideState::Soaking { left } => format!(
            "◷ wait: soaking {} before '{t}' (s overrides with a reason)",
            countdown(*left)
        ),
        GuideState::Failed(why) => format!("✗ '{t}': {why}"),
        GuideState::Blocked(why) => format!("✗ '{t}' is blocked: {why}"),
        GuideState::Waiting | GuideState::Done => format!("· '{t}' waits for the tier below"),
    };
    (Some(t), text)
}
