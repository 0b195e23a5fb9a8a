//! Verification by metrics as the operations core runs it: a backend's source of samples, and
//! one measurement of every tier through it.

use crate::domain::release::verify::{Series, Window, judge, windows};
use crate::domain::release::{TierVerification, Verification};
use crate::domain::{Fleet, Ts};

/// Where samples come from: Prometheus's HTTP API in live mode, the demo's simulated series.
#[async_trait::async_trait]
pub trait MetricsSource: Send + Sync {
    /// The samples of `v`'s query for `w`'s tier from `w.from` to `w.to`, or why there are none
    /// to be had (the source is down, the query is wrong).
    async fn samples(&self, v: &Verification, w: &Window) -> Result<Vec<Series>, String>;
}

/// Measures every tier that runs a release, each verification of each tier side by side.
pub async fn measure(
    source: &dyn MetricsSource,
    fleet: &Fleet,
    now: Ts,
    verifications: &[Verification],
) -> Vec<TierVerification> {
    measure_windows(
        source,
        &windows(fleet, now, verifications),
        now,
        verifications,
    )
    .await
}

/// Measures each window, each verification side by side.
pub async fn measure_windows(
    source: &dyn MetricsSource,
    ws: &[Window],
    now: Ts,
    verifications: &[Verification],
) -> Vec<TierVerification> {
    let per_tier = ws.iter().map(|w| async move {
        let checks = futures::future::join_all(
            verifications
                .iter()
                .map(|v| async move { judge(v, w, source.samples(v, w).await) }),
        )
        .await;
        TierVerification {
            tier: w.tier.clone(),
            revision: w.revision.clone(),
            at: now,
            checks,
        }
    });
    futures::future::join_all(per_tier).await
}

/// Measures `fleet` and applies the results to it: what a re-check and a headless command do
/// before they judge a gate.
pub async fn measured(
    source: Option<&dyn MetricsSource>,
    mut fleet: Fleet,
    now: Ts,
    verifications: &[Verification],
) -> Fleet {
    if let Some(source) = source {
        for v in measure(source, &fleet, now, verifications).await {
            fleet.apply(crate::domain::FleetUpdate::Verified(v));
        }
    }
    fleet
}
