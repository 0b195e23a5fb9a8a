//! The demo's metrics: per-ShopSet series (checkout error ratio, p99 latency) that the
//! simulation derives from what each ShopSet ran when, and the demo's own verifications over
//! them. A query names a series; this is the demo's, not a PromQL engine.

use std::sync::{Arc, Mutex};

use super::DemoFleet;
use super::sim::Metric;
use crate::domain::Ts;
use crate::domain::release::Verification;
use crate::domain::release::verify::{Compare, Series, Window};
use crate::ops::verify::MetricsSource;

/// Seconds between two simulated samples.
const STEP_SECS: i64 = 10;

/// The verifications of the demo fleet: its simulated series against fixed thresholds, held
/// for each tier's soak time.
pub fn verifications() -> Vec<Verification> {
    vec![
        Verification {
            name: "checkout-errors".into(),
            query: "checkout_error_ratio".into(),
            compare: Compare::Below,
            threshold: 0.01,
            hold_secs: None,
        },
        Verification {
            name: "latency-p99".into(),
            query: "latency_p99_seconds".into(),
            compare: Compare::Below,
            threshold: 0.8,
            hold_secs: None,
        },
    ]
}

/// The simulated series of one demo directory.
pub struct DemoMetrics {
    /// The fleet, and its tier branches as read for the measurement at a moment: the windows of
    /// one measurement share their end, and read the branches once.
    fleet: Arc<Mutex<(DemoFleet, Option<Read>)>>,
}

/// The tier branches as read for the measurement ending at a moment.
type Read = (Ts, Vec<Option<crate::git::read::BranchState>>);

impl DemoMetrics {
    /// Reads the demo directory at `dir` (which must hold a fleet).
    pub fn open(dir: &std::path::Path) -> Result<DemoMetrics, super::store::DemoError> {
        let fleet = DemoFleet::reopen(dir)?;
        Ok(DemoMetrics {
            fleet: Arc::new(Mutex::new((fleet, None))),
        })
    }
}

#[async_trait::async_trait]
impl MetricsSource for DemoMetrics {
    async fn samples(&self, v: &Verification, w: &Window) -> Result<Vec<Series>, String> {
        let metric = Metric::named(&v.query).ok_or_else(|| {
            let names: Vec<&str> = Metric::ALL.iter().map(|(n, _)| *n).collect();
            format!(
                "the demo has no series '{}' (it simulates {})",
                v.query,
                names.join(" and ")
            )
        })?;
        let fleet = Arc::clone(&self.fleet);
        let w = w.clone();
        crate::ops::offload(move || {
            let mut held = fleet
                .lock()
                .map_err(|_| "the demo's metrics failed earlier".to_string())?;
            let (fleet, cached) = &mut *held;
            let branches = match cached.take() {
                Some((at, b)) if at == w.to => b,
                _ => fleet.branches().map_err(|e| e.to_string())?,
            };
            let out = fleet.series(&branches, metric, &w.shopsets, w.from, w.to, STEP_SECS);
            *cached = Some((w.to, branches));
            Ok(out)
        })
        .await
        .map_err(|e: String| e)
    }
}

impl From<crate::ops::Stopped> for String {
    fn from(e: crate::ops::Stopped) -> String {
        e.to_string()
    }
}
