//! How a pushed step or rollback is rolling out, judged against the tier's actual branch head:
//! if the head moves on from the commit that was pushed, the followed change is over.

use super::settled::rollout;
use crate::domain::fleet::Fleet;
use crate::domain::model::HealthStatus;
use crate::domain::time::Ts;

/// A step or rollback that was pushed, followed until its ShopSets settle or degrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub tier: String,
    /// The system-repository commit that was pushed.
    pub commit: String,
    /// The tier's branch head before the push, while the push is not yet seen.
    pub before: Option<String>,
    pub since: Ts,
    pub rollback: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgressState {
    /// The push is not yet seen on the tier's branch.
    Waiting,
    Syncing {
        settled: usize,
        total: usize,
    },
    Done,
    Failed(String),
    /// The tier's branch head moved on to another commit (another operator's rollback or
    /// step): the followed change is over.
    Superseded {
        head: Option<String>,
    },
}

impl Progress {
    pub fn state(&self, fleet: &Fleet) -> ProgressState {
        let Some(t) = fleet.tier(&self.tier) else {
            return ProgressState::Failed(format!("tier '{}' disappeared", self.tier));
        };
        if t.head.as_deref() != Some(self.commit.as_str()) {
            return if t.head == self.before {
                ProgressState::Waiting
            } else {
                ProgressState::Superseded {
                    head: t.head.clone(),
                }
            };
        }
        // A ShopSet that degraded running the pushed commit fails the change.
        for ss in fleet.shopsets_of_tier(&self.tier) {
            if let Some(app) = fleet.app_for(&ss.name)
                && app.runs(&self.commit)
                && app.health == HealthStatus::Degraded
            {
                return ProgressState::Failed(format!("{} is Degraded", ss.name));
            }
        }
        let r = rollout(fleet, t);
        if r.is_settled() {
            ProgressState::Done
        } else {
            ProgressState::Syncing {
                settled: r.settled,
                total: r.total,
            }
        }
    }

    /// The state is final: the change settled, failed or was superseded.
    pub fn is_over(state: &ProgressState) -> bool {
        matches!(
            state,
            ProgressState::Done | ProgressState::Failed(_) | ProgressState::Superseded { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{NOW, fleet};
    use super::*;
    use crate::domain::*;

    fn pushed(f: &Fleet) -> Progress {
        Progress {
            tier: "prod".into(),
            commit: "pushed".into(),
            before: f.tier("prod").and_then(|t| t.head.clone()),
            since: NOW,
            rollback: false,
        }
    }

    fn set_head(f: &mut Fleet, head: &str) {
        let mut tiers = f.tiers.clone();
        tiers[1].head = Some(head.into());
        f.apply(FleetUpdate::Tiers(tiers));
    }

    fn set_app(f: &mut Fleet, revision: &str, sync: SyncStatus, health: HealthStatus) {
        let mut app = f.app_for("P-1").cloned().expect("app");
        app.revision = Some(revision.into());
        app.sync = sync;
        app.health = health;
        f.apply(FleetUpdate::AppUpserted(app));
    }

    #[test]
    fn waits_until_the_push_is_seen_then_follows_the_applications() {
        let mut f = fleet();
        let p = pushed(&f);
        assert_eq!(p.state(&f), ProgressState::Waiting);
        set_head(&mut f, "pushed");
        assert_eq!(
            p.state(&f),
            ProgressState::Syncing {
                settled: 0,
                total: 1
            },
            "the application still runs the old head"
        );
        set_app(
            &mut f,
            "pushed",
            SyncStatus::Synced,
            HealthStatus::Progressing,
        );
        assert!(matches!(p.state(&f), ProgressState::Syncing { .. }));
        set_app(&mut f, "pushed", SyncStatus::Synced, HealthStatus::Healthy);
        assert_eq!(p.state(&f), ProgressState::Done);
    }

    #[test]
    fn a_degraded_application_at_the_pushed_commit_fails_it() {
        let mut f = fleet();
        let p = pushed(&f);
        set_head(&mut f, "pushed");
        set_app(&mut f, "pushed", SyncStatus::Synced, HealthStatus::Degraded);
        assert_eq!(p.state(&f), ProgressState::Failed("P-1 is Degraded".into()));
    }

    #[test]
    fn a_head_that_moved_on_supersedes_the_followed_change() {
        let mut f = fleet();
        let p = pushed(&f);
        set_head(&mut f, "pushed");
        set_head(&mut f, "someone-elses-rollback");
        let state = p.state(&f);
        assert_eq!(
            state,
            ProgressState::Superseded {
                head: Some("someone-elses-rollback".into())
            }
        );
        assert!(Progress::is_over(&state));
        // Moved on before this console even saw its push.
        let mut f = fleet();
        let p = pushed(&f);
        set_head(&mut f, "another");
        assert!(matches!(p.state(&f), ProgressState::Superseded { .. }));
    }
}
