//! Verification by metrics for any backend: a source that passes another's events through and,
//! every little while, measures each tier's verifications and sends the results as updates of
//! its own — so the console, the wall, a recording and a replay all see them, whatever the
//! backend.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use super::{FleetSource, SourceError, SourceEvent, SourceId, SourceInfo};
use crate::domain::release::Verification;
use crate::domain::release::verify::{Status, windows};
use crate::domain::{Fleet, FleetUpdate, Ts};
use crate::ops::verify::{MetricsSource, measure_windows};

/// `inner`, with its tiers measured by `metrics` every `every`.
pub struct Verifying {
    inner: Box<dyn FleetSource>,
    metrics: Arc<dyn MetricsSource>,
    verifications: Vec<Verification>,
    every: Duration,
}

impl Verifying {
    /// `inner` as it is when there is nothing to verify.
    pub fn wrap(
        inner: Box<dyn FleetSource>,
        metrics: Option<Arc<dyn MetricsSource>>,
        verifications: &[Verification],
        every: Duration,
    ) -> Box<dyn FleetSource> {
        match metrics {
            Some(metrics) if !verifications.is_empty() => Box::new(Verifying {
                inner,
                metrics,
                verifications: verifications.to_vec(),
                every,
            }),
            _ => inner,
        }
    }
}

/// The updates a measurement needs: everything but the shops (a mirror without them stays
/// small at any fleet size).
fn mirrored(u: &FleetUpdate) -> bool {
    !matches!(
        u,
        FleetUpdate::Shops(_) | FleetUpdate::ShopUpserted(_) | FleetUpdate::ShopRemoved(_)
    )
}

impl FleetSource for Verifying {
    fn info(&self) -> SourceInfo {
        self.inner.info()
    }

    fn snapshot(&mut self, now: Ts) -> BoxFuture<'_, Result<Fleet, SourceError>> {
        Box::pin(async move {
            let fleet = self.inner.snapshot(now).await?;
            Ok(crate::ops::verify::measured(
                Some(self.metrics.as_ref()),
                fleet,
                now,
                &self.verifications,
            )
            .await)
        })
    }

    fn tier_changes(
        &mut self,
        tiers: Vec<(String, String)>,
        since: Option<Ts>,
    ) -> BoxFuture<'_, Result<super::TierChanges, SourceError>> {
        self.inner.tier_changes(tiers, since)
    }

    fn watch(self: Box<Self>, tx: mpsc::Sender<SourceEvent>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let Verifying {
                inner,
                metrics,
                verifications,
                every,
            } = *self;
            let (inner_tx, mut inner_rx) = mpsc::channel(256);
            let watching = tokio::spawn(inner.watch(inner_tx));
            let _stop = AbortOnDrop(watching);
            let mut mirror = Fleet::new("");
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // One measurement at a time; its results come back here.
            let (done_tx, mut done_rx) = mpsc::channel::<Vec<SourceEvent>>(1);
            let mut measuring = false;
            // Until the first measurement is in, one starts as soon as there is something to
            // measure, rather than a whole interval later: a gate is not left unmeasured.
            let mut measured_once = false;
            let start = |mirror: &mut Fleet, measuring: &mut bool| {
                let now = Ts::now();
                mirror.refresh();
                let ws = windows(mirror, now, &verifications);
                if ws.is_empty() {
                    return;
                }
                *measuring = true;
                let (metrics, verifications, done) =
                    (Arc::clone(&metrics), verifications.clone(), done_tx.clone());
                tokio::spawn(async move {
                    let results = measure_windows(metrics.as_ref(), &ws, now, &verifications).await;
                    let _ = done.send(events(results, now)).await;
                });
            };
            loop {
                tokio::select! {
                    ev = inner_rx.recv() => {
                        let Some(ev) = ev else { return };
                        if let SourceEvent::Update(u) = &ev && mirrored(u) {
                            mirror.apply(u.clone());
                        }
                        if tx.send(ev).await.is_err() {
                            return;
                        }
                        if !measured_once && !measuring && inner_rx.is_empty() {
                            start(&mut mirror, &mut measuring);
                        }
                    }
                    _ = tick.tick(), if !measuring => {
                        start(&mut mirror, &mut measuring);
                    }
                    Some(evs) = done_rx.recv() => {
                        measuring = false;
                        measured_once = true;
                        // Only what changed (the time of measuring aside) goes out.
                        let evs = evs.into_iter().filter(|ev| match ev {
                            SourceEvent::Update(FleetUpdate::Verified(v)) => {
                                mirror.verification.get(&v.tier).is_none_or(|old| {
                                    old.revision != v.revision || old.checks != v.checks
                                })
                            }
                            _ => true,
                        });
                        for ev in evs.collect::<Vec<_>>() {
                            if let SourceEvent::Update(u) = &ev {
                                mirror.apply(u.clone());
                            }
                            if tx.send(ev).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            }
        })
    }
}

/// The updates of one measurement, and the metrics source's freshness: a problem when the
/// source could not be reached (a query it refused is the verification's problem, not the
/// source's).
fn events(results: Vec<crate::domain::release::TierVerification>, now: Ts) -> Vec<SourceEvent> {
    let unreadable = results
        .iter()
        .flat_map(|t| &t.checks)
        .find(|m| {
            m.status == Status::Unknown
                && (m.detail.contains("cannot be reached") || m.detail.contains("did not answer"))
        })
        .map(|m| m.detail.clone());
    let mut out: Vec<SourceEvent> = results
        .into_iter()
        .map(|v| SourceEvent::Update(FleetUpdate::Verified(v)))
        .collect();
    out.push(match unreadable {
        Some(message) => SourceEvent::Problem {
            source: SourceId::Metrics,
            message,
        },
        None => SourceEvent::Heartbeat {
            source: SourceId::Metrics,
            at: now,
        },
    });
    out
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
