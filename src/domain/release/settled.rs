//! When a tier has settled: every ShopSet's application Synced **at the tier's branch head** and
//! Healthy. The Tiers pane, the gate, the rollout progress and the guide all ask this rule.

use crate::domain::fleet::Fleet;
use crate::domain::model::{AppStatus, HealthStatus, SyncStatus, Tier};
use crate::domain::time::Ts;

/// The application runs what its tier pins now: Synced at the branch head and Healthy, no
/// operation asked for or running, and its last operation's result (when there is one) at the
/// head too — a Synced status left from before is not the pushed revision deployed.
pub fn app_settled(app: &AppStatus, tier: &Tier) -> bool {
    let Some(head) = tier.head.as_deref() else {
        return false;
    };
    app.is_settled() && app.runs(head) && !app.operation_in_flight() && app.last_operation_at(head)
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
    /// The first ShopSet no Argo CD Application maps to.
    pub missing: Option<String>,
}

impl Rollout {
    /// Every ShopSet of the tier settled at the head (and the tier has ShopSets).
    pub fn is_settled(&self) -> bool {
        self.total > 0 && self.settled == self.total
    }

    /// Why the tier is not settled, in the words a gate and the guide use.
    pub fn why_not(&self, tier: &str) -> String {
        match (&self.degraded, &self.missing) {
            (Some(ss), _) => format!("'{tier}' is not settled: {ss} is Degraded"),
            (None, Some(ss)) => {
                format!("'{tier}' is not settled: no Argo CD application deploys {ss}")
            }
            (None, None) if self.unknown => format!(
                "'{tier}' is not settled: Argo CD's sync state is unknown ({}/{} settled)",
                self.settled, self.total
            ),
            (None, None) => format!(
                "'{tier}' has not finished syncing ({}/{} settled)",
                self.settled, self.total
            ),
        }
    }
}

/// The tier's rollout, in one pass over its applications.
pub fn rollout(fleet: &Fleet, tier: &Tier) -> Rollout {
    let mut r = Rollout::default();
    for ss in fleet.shopsets_of_tier(&tier.name) {
        r.total += 1;
        let Some(app) = fleet.app_for(&ss.name) else {
            r.missing.get_or_insert_with(|| ss.name.clone());
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

/// When every application of the tier had finished syncing to the branch head, healthy or
/// not: from then on what the tier serves is its release. `None` while any has not.
pub fn synced_at(fleet: &Fleet, tier: &Tier) -> Option<Ts> {
    let head = tier.head.as_deref()?;
    let mut last = None;
    for ss in fleet.shopsets_of_tier(&tier.name) {
        let app = fleet.app_for(&ss.name)?;
        if !app.runs(head) || app.operation_in_flight() || !app.last_operation_at(head) {
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

    #[test]
    fn an_operation_asked_for_running_or_at_another_revision_is_not_settled() {
        let f = fleet();
        let dev = f.tier("dev").cloned().expect("dev");
        let head = dev.head.clone().expect("head");
        let mut app = f.app_for("D-1").cloned().expect("app");
        assert!(app_settled(&app, &dev));
        app.argo.operation_pending = true;
        assert!(!app_settled(&app, &dev), "asked for, not yet taken up");
        app.argo.operation_pending = false;
        app.operation = Some(crate::domain::OperationPhase::Running);
        assert!(!app_settled(&app, &dev), "running");
        app.operation = Some(crate::domain::OperationPhase::Succeeded);
        app.argo.synced_revisions = vec!["older".into()];
        assert!(
            !app_settled(&app, &dev),
            "Synced at the head, but the last sync was of an older revision"
        );
        app.argo.synced_revisions = vec![head.clone()];
        assert!(app_settled(&app, &dev));
        // A multi-source Application runs the head when one of its revisions is the head.
        app.revision = None;
        app.argo.revisions = vec!["1.4.2".into(), head];
        assert!(app_settled(&app, &dev));
    }

    #[test]
    fn a_shopset_no_application_deploys_is_named_not_syncing() {
        let mut f = fleet();
        let dev = f.tier("dev").cloned().expect("dev");
        let name = f.app_for("D-1").expect("app").name.clone();
        f.apply(FleetUpdate::AppRemoved(name));
        let r = rollout(&f, &dev);
        assert_eq!(r.missing.as_deref(), Some("D-1"));
        assert!(!r.is_settled());
        assert_eq!(
            r.why_not("dev"),
            "'dev' is not settled: no Argo CD application deploys D-1"
        );
        assert_eq!(settled_at(&f, &dev), None);
    }
}
