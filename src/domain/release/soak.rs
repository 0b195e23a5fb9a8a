//! What the release watcher looks for: a tier in its soak — it received a release and has not
//! soaked its time since — whose verification failed or on which a gating alert fires. Pure
//! over a snapshot, so every watcher (and every test) judges alike.

use super::gate::GatePolicy;
use super::settled::settled_at;
use crate::domain::fleet::Fleet;
use crate::domain::model::{AlertState, Revision};
use crate::domain::time::Ts;

/// Why a tier's release went bad during its soak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoneBad {
    pub tier: String,
    /// The release it runs (the one to roll back).
    pub revision: Revision,
    /// What went bad, as the commit message and the audit say it.
    pub cause: String,
    /// The tier asks to be rolled back automatically.
    pub auto_rollback: bool,
}

/// How long after a release reached a tier it still counts as arriving when it has not settled:
/// beyond that, a tier that is not settled has something else wrong (a cluster down), not its
/// release.
pub const ARRIVING_SECS: i64 = 30 * 60;

/// Whether `tier` is in its soak: its last change brought a newer release, and it has not run
/// it settled for its soak time yet — settled for less than its soak time, or not settled and
/// the release arrived less than [`ARRIVING_SECS`] beyond its soak time ago.
pub fn in_soak(fleet: &Fleet, tier: &str, now: Ts) -> bool {
    let Some(t) = fleet.tier(tier) else {
        return false;
    };
    let forward = match (&t.revision, &t.previous) {
        (Some(r), Some(p)) => r.seq > p.seq,
        (Some(_), None) => true,
        _ => false,
    };
    if !forward {
        return false;
    }
    match settled_at(fleet, t) {
        Some(at) => at.secs_until(now) < i64::from(t.soak_secs),
        None => t.updated_at.is_some_and(|arrived| {
            arrived.secs_until(now) < i64::from(t.soak_secs) + ARRIVING_SECS
        }),
    }
}

/// Every tier in its soak whose release has gone bad, lowest first: a verification failed, or
/// an alert at or above the gate's severity fires on its ShopSets. A release already marked
/// failed there is not reported again.
pub fn gone_bad(fleet: &Fleet, now: Ts, policy: &GatePolicy) -> Vec<GoneBad> {
    let mut out = Vec::new();
    for t in &fleet.tiers {
        let Some(revision) = t.revision.clone() else {
            continue;
        };
        if !in_soak(fleet, &t.name, now)
            || fleet.controls.failed_on(&t.name, &revision.id).is_some()
        {
            continue;
        }
        let failed = fleet
            .verification
            .get(&t.name)
            .filter(|v| v.revision.as_deref() == Some(revision.id.as_str()))
            .and_then(|v| v.failed())
            .map(|m| format!("verification failed: {}", m.detail));
        let alert = || {
            fleet
                .alerts
                .iter()
                .filter(|a| a.state == AlertState::Active && a.severity <= policy.min_severity)
                // Only what started since the release reached the tier speaks of it: an alert
                // the release it replaced left firing does not.
                .filter(|a| t.updated_at.is_none_or(|changed| a.since >= changed))
                // The tier's own alerts (by tier or ShopSet): a cluster's alert is the cluster's,
                // not the release's.
                .find(|a| fleet.alert_touches_tier(a, &t.name))
                .map(|a| {
                    format!(
                        "alert {} ({}) fires on {}",
                        a.name,
                        a.severity.as_str(),
                        a.scope(&fleet.scope_labels)
                    )
                })
        };
        if let Some(cause) = failed.or_else(alert) {
            out.push(GoneBad {
                tier: t.name.clone(),
                revision,
                cause,
                auto_rollback: t.auto_rollback,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::{NOW, alert, fleet, rev};
    use super::*;
    use crate::domain::release::verify::{Compare, Measured, Status};
    use crate::domain::release::{FailedRelease, ReleaseControls, TierVerification};
    use crate::domain::*;

    /// prod just received revision 5 (from 4) and settled 30 s ago; it soaks 120 s.
    fn soaking() -> Fleet {
        let mut f = fleet();
        let mut tiers = f.tiers.clone();
        tiers[1].revision = Some(rev(5));
        tiers[1].previous = Some(rev(4));
        tiers[1].auto_rollback = true;
        f.apply(FleetUpdate::Tiers(tiers));
        let mut app = f.app_for("P-1").cloned().expect("app");
        app.last_sync_finished = Some(NOW.plus_secs(-30));
        f.apply(FleetUpdate::AppUpserted(app));
        f
    }

    fn measured(status: Status) -> TierVerification {
        TierVerification {
            tier: "prod".into(),
            revision: Some(rev(5).id),
            at: NOW,
            checks: vec![Measured {
                name: "errors".into(),
                query: "q".into(),
                compare: Compare::Below,
                threshold: 0.01,
                value: Some(0.08),
                status,
                detail: "errors on 'prod' was 0.08".into(),
            }],
        }
    }

    #[test]
    fn a_failed_verification_or_a_gating_alert_in_the_soak_is_gone_bad() {
        let mut f = soaking();
        assert!(in_soak(&f, "prod", NOW));
        assert!(gone_bad(&f, NOW, &GatePolicy::default()).is_empty());
        f.apply(FleetUpdate::Verified(measured(Status::Failed)));
        let bad = gone_bad(&f, NOW, &GatePolicy::default());
        assert_eq!(bad.len(), 1);
        assert!(bad[0].cause.contains("errors on 'prod'") && bad[0].auto_rollback);
        let mut f = soaking();
        f.apply(FleetUpdate::Alerts(vec![alert(
            "CheckoutErrorRateHigh",
            Severity::Critical,
            &[("shopset", "P-1")],
        )]));
        let bad = gone_bad(&f, NOW, &GatePolicy::default());
        assert!(bad[0].cause.contains("CheckoutErrorRateHigh"), "{bad:?}");
        // An alert firing since before the release reached prod is the old release's.
        let mut old = f.alerts.clone();
        old[0].since = NOW.plus_secs(-500);
        f.apply(FleetUpdate::Alerts(old));
        assert!(gone_bad(&f, NOW, &GatePolicy::default()).is_empty());
    }

    #[test]
    fn after_the_soak_after_a_rollback_or_once_marked_nothing_is_reported() {
        let mut f = soaking();
        f.apply(FleetUpdate::Verified(measured(Status::Failed)));
        assert!(gone_bad(&f, NOW.plus_secs(100), &GatePolicy::default()).is_empty());
        let mut marked = f.clone();
        marked.apply(FleetUpdate::Controls(ReleaseControls {
            failed: vec![FailedRelease {
                tier: "prod".into(),
                revision: rev(5),
                reason: "r".into(),
                by: "w".into(),
                at: NOW,
            }],
            ..Default::default()
        }));
        assert!(gone_bad(&marked, NOW, &GatePolicy::default()).is_empty());
        // Long after the release arrived, a tier that is not settled (a cluster down) is not
        // soaking it.
        let mut stuck = soaking();
        let mut app = stuck.app_for("P-1").cloned().expect("app");
        app.health = HealthStatus::Unknown;
        app.sync = SyncStatus::Unknown;
        stuck.apply(FleetUpdate::AppUpserted(app));
        assert!(in_soak(&stuck, "prod", NOW));
        assert!(!in_soak(&stuck, "prod", NOW.plus_secs(ARRIVING_SECS + 120)));
        let mut back = f.clone();
        let mut tiers = back.tiers.clone();
        tiers[1].revision = Some(rev(4));
        tiers[1].previous = Some(rev(5));
        back.apply(FleetUpdate::Tiers(tiers));
        assert!(!in_soak(&back, "prod", NOW));
    }
}
