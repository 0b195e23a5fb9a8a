//! When a tier has settled: every ShopSet's application Synced **at the tier's branch head** and
//! Healthy. The Tiers pane, the gate, the rollout progress and the guide all ask this rule.

use crate::domain::fleet::Fleet;
use crate::domain::model::{AppStatus, HealthStatus, SyncStatus, Tier};
use crate::domain::time::Ts;

/// The application runs what its tier pins now: Synced at the branch head and Healthy.
pub fn app_settled(app: &AppStatus, tier: &Tier) -> bool {
    app.is_settled() && app.revision.is_some() && app.revision == tier.head
}

/// How far a tier's ShopSets are with the tier's branch head.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rollout {
    /// ShopSets whose application is settled at the branch head.
    pub settled: usize,
    pub total: usize,
    /// The first ShopSet whose application is Degraded, at whatever revision.
    pub degraded: Option<String>,
    /// Some application's sync state is Unknown.
    pub unknown: bool,
}

impl Rollout {
    /// Every ShopSet of the tier settled at the head (and the tier has ShopSets).
    pub fn is_settled(&self) -> bool {
        self.total > 0 && self.settled == self.total
    }
}

/// The tier's rollout, in one pass over its applications.
pub fn rollout(fleet: &Fleet, tier: &Tier) -> Rollout {
    let mut r = Rollout::default();
    for ss in fleet.shopsets_of_tier(&tier.name) {
        r.total += 1;
        let Some(app) = fleet.app_for(&ss.name) else {
            continue;
        };
        r.settled += usize::from(app_settled(app, tier));
        if app.health == HealthStatus::Degraded && r.degraded.is_none() {
            r.degraded = Some(ss.name.clone());
        }
        r.unknown |= app.sync == SyncStatus::Unknown;
    }
    r
}

/// When the tier finished its last rollout: all its applications settled at the head, the last
/// of them at this time. `None` while any is not.
pub fn settled_at(fleet: &Fleet, tier: &Tier) -> Option<Ts> {
    let mut last = None;
    for ss in fleet.shopsets_of_tier(&tier.name) {
        let app = fleet.app_for(&ss.name)?;
        if !app_settled(app, tier) {
            return None;
        }
        last = last.max(app.last_sync_finished);
    }
    last.or(tier.updated_at)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{NOW, fleet};
    use super::*;
    use crate::domain::FleetUpdate;

    #[test]
    fn a_tier_whose_head_moved_is_not_settled_until_its_apps_follow() {
        let mut f = fleet();
        let dev = f.tier("dev").cloned().expect("dev");
        assert!(rollout(&f, &dev).is_settled());
        assert_eq!(settled_at(&f, &dev), Some(NOW.plus_secs(-300)));
        let mut tiers = f.tiers.clone();
        tiers[0].head = Some("pushed-but-not-synced".into());
        f.apply(FleetUpdate::Tiers(tiers));
        let dev = f.tier("dev").cloned().expect("dev");
        let r = rollout(&f, &dev);
        assert_eq!(
            (r.settled, r.total),
            (0, 2),
            "Synced and Healthy, but at the old head"
        );
        assert!(!r.is_settled());
        assert_eq!(settled_at(&f, &dev), None);
    }
}
