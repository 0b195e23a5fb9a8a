//! Placement writes in live mode: `Shop.spec.shopSets` merge-patched with the resourceVersion it
//! was read at as a precondition — the version the executor's re-check read (no GET per move),
//! or, for a shop it did not read or that changed since (a `409 Conflict`), the version read
//! again just before the write, judged again. Moves go out side by side, a bounded number at a
//! time; a `429` (API Priority and Fairness) or `503` is retried by the client after the
//! server's `Retry-After`. A drain records on the Shop itself (annotations `shopset.dev/drain`
//! and `shopset.dev/previous-shopsets`), so a drain killed midway resumes from any machine.
//! Cordon is `FleetCluster.spec.unschedulable`. Capacity is checked by the executor on its fresh
//! read, under the operator Lease that serialises shopctl's writers.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;

use super::calls::{bounded, is_conflict};
use super::crds;
use super::objects::{self, DRAIN_ANNOTATION, PREVIOUS_ANNOTATION};
use super::view::PlacementView;
use crate::domain::placement::Move;
use crate::domain::{Shop, same_shopsets};
use crate::ops::OpsError;
use crate::ops::placement::{self, BatchOutcome, Capacities, PlacementStore, Record};

pub use super::objects::FIELD_MANAGER;

/// How many shops are written at the same time.
pub const MOVES_AT_ONCE: usize = 32;

/// How many times a shop that keeps changing is read and judged again before it is left alone.
const ATTEMPTS: usize = 3;

/// How long one move may take, waits for a throttling API server included.
const MOVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// How long to wait after a `429` the client's own retries did not get past, when the server
/// does not say (API Priority and Fairness says `Retry-After: 1`).
const THROTTLED_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// A `429 Too Many Requests` and how long the server asks to wait.
fn throttled(e: &kube::Error) -> Option<std::time::Duration> {
    match e {
        kube::Error::Api(s) if s.code == 429 => Some(
            s.details
                .as_ref()
                .map(|d| d.retry_after_seconds)
                .filter(|&secs| secs > 0)
                .map_or(THROTTLED_WAIT, |secs| {
                    std::time::Duration::from_secs(u64::from(secs))
                }),
        ),
        _ => None,
    }
}

/// Shops and FleetClusters of the control plane.
pub struct ShopPatcher {
    shops: Api<crds::ShopRead>,
    clusters: Api<crds::FleetCluster>,
    /// Where what is written goes at once, for the next re-check.
    view: Option<Arc<PlacementView>>,
}

fn store_error(e: kube::Error) -> OpsError {
    OpsError::Api(super::errors::failure(&e))
}

/// What became of one move.
enum Moved {
    /// Written: the shop as the API server returned it.
    Done(Shop),
    /// Already where the move wanted it.
    Already,
    /// Left alone, with why.
    Left(String),
}

impl ShopPatcher {
    /// The store through `client`, the control plane's.
    pub fn new(client: kube::Client) -> ShopPatcher {
        ShopPatcher {
            shops: Api::all(client.clone()),
            clusters: Api::all(client),
            view: None,
        }
    }

    /// Every shop written also goes into `view`.
    pub fn writing_to(mut self, view: Arc<PlacementView>) -> ShopPatcher {
        self.view = Some(view);
        self
    }
}

/// Moves one shop if it is still where the move found it: over the version `seen` carries
/// first, then over the version read just before the write.
async fn move_one(
    api: &Api<crds::ShopRead>,
    m: &Move,
    record: &Record,
    seen: Option<Shop>,
) -> Result<Moved, kube::Error> {
    let mut known = seen.filter(|s| s.version.is_some());
    let mut attempts = 0;
    while attempts < ATTEMPTS {
        let (shop, from_view) = match known.take() {
            Some(shop) => (shop, true),
            None => match api.get_opt(&m.shop).await {
                Ok(Some(obj)) => (objects::shop(&obj), false),
                Ok(None) => return Ok(Moved::Left("the shop no longer exists".into())),
                Err(e) => match throttled(&e) {
                    // Still throttled after the client's own retries: wait as asked, again.
                    Some(wait) => {
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    None => return Err(e),
                },
            },
        };
        let now_on = &shop.shopsets;
        // Nothing is left alone on the view's word: where it is now is read first.
        if from_view && !same_shopsets(now_on, &m.from) {
            continue;
        }
        if same_shopsets(now_on, &m.to) {
            return Ok(Moved::Already);
        }
        if !same_shopsets(now_on, &m.from) {
            return Ok(Moved::Left(format!(
                "moved meanwhile: now on {}, not {}",
                now_on.join(","),
                m.from.join(",")
            )));
        }
        let annotations = match record {
            Record::Nothing => json!({}),
            // A record of this drain or of an earlier one stays: the shop goes home when that
            // drain is restored.
            Record::Drain(_) if shop.previous.is_some() => json!({}),
            Record::Drain(id) => {
                json!({ DRAIN_ANNOTATION: id, PREVIOUS_ANNOTATION: now_on.join(",") })
            }
            Record::Clear => json!({ DRAIN_ANNOTATION: null, PREVIOUS_ANNOTATION: null }),
        };
        let patch = json!({
            "metadata": {
                "resourceVersion": shop.version,
                "annotations": annotations,
            },
            "spec": { "shopSets": m.to },
        });
        let pp = PatchParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..PatchParams::default()
        };
        match api.patch(&m.shop, &pp, &Patch::Merge(&patch)).await {
            Ok(obj) => return Ok(Moved::Done(objects::shop(&obj))),
            // Written meanwhile: read it again and judge again.
            Err(e) if is_conflict(&e) => attempts += 1,
            Err(kube::Error::Api(s)) if s.code == 404 => {
                return Ok(Moved::Left("the shop no longer exists".into()));
            }
            Err(e) => match throttled(&e) {
                // Still throttled after the client's own retries: wait as asked, and write
                // over the same version again.
                Some(wait) => {
                    tokio::time::sleep(wait).await;
                    known = Some(shop);
                }
                None => return Err(e),
            },
        }
    }
    Ok(Moved::Left(
        "kept changing while it was moved; left alone".into(),
    ))
}

/// Runs one move unless an earlier one failed; a move that fails (or takes longer than
/// [`MOVE_TIMEOUT`]) says so to `failed`.
async fn unless_failed<'m>(
    failed: &AtomicBool,
    m: &'m Move,
    moving: impl std::future::Future<Output = Result<Moved, kube::Error>>,
) -> Option<(&'m Move, Result<Moved, kube::Error>)> {
    if failed.load(Ordering::SeqCst) {
        return None;
    }
    let r = tokio::time::timeout(MOVE_TIMEOUT, moving)
        .await
        .unwrap_or_else(|_| {
            Err(kube::Error::Service(
                format!("no answer within {} s", MOVE_TIMEOUT.as_secs()).into(),
            ))
        });
    if r.is_err() {
        failed.store(true, Ordering::SeqCst);
    }
    Some((m, r))
}

#[async_trait::async_trait]
impl PlacementStore for ShopPatcher {
    async fn apply(
        &self,
        moves: &[Move],
        record: &Record,
        _capacity: &Capacities,
        seen: &[Shop],
        told: placement::Moved<'_>,
    ) -> Result<BatchOutcome, OpsError> {
        let seen: HashMap<&str, &Shop> = seen.iter().map(|s| (s.name.as_str(), s)).collect();
        // After the first failure nothing more is started; what is under way finishes.
        let failed = AtomicBool::new(false);
        let mut out = BatchOutcome::default();
        let mut error = None;
        // A group of moves at a time, side by side; the group's moved shops are said (and
        // audited) before the next group starts, so a process killed mid-batch leaves every
        // shop it moved named — but for the group under way.
        for group in moves.chunks(MOVES_AT_ONCE) {
            if failed.load(Ordering::SeqCst) {
                break;
            }
            let moving: Vec<_> = group
                .iter()
                .map(|m| {
                    let known = seen.get(m.shop.as_str()).map(|s| (*s).clone());
                    unless_failed(&failed, m, move_one(&self.shops, m, record, known))
                })
                .collect();
            let results: Vec<_> = futures::future::join_all(moving).await;
            let mut moved = Vec::new();
            for (m, r) in results.into_iter().flatten() {
                match r {
                    Ok(Moved::Done(shop)) => {
                        out.applied += 1;
                        moved.push(shop.name.clone());
                        if let Some(view) = &self.view {
                            view.wrote(shop);
                        }
                    }
                    Ok(Moved::Already) => out.already += 1,
                    Ok(Moved::Left(why)) => out.skipped.push((m.shop.clone(), why)),
                    Err(e) => error = error.or(Some(e)),
                }
            }
            if !moved.is_empty() {
                told(moved).await;
            }
        }
        // Moves finish in any order; what is reported follows the plan's.
        let order: HashMap<&str, usize> = moves
            .iter()
            .enumerate()
            .map(|(i, m)| (m.shop.as_str(), i))
            .collect();
        out.skipped
            .sort_by_key(|(shop, _)| order.get(shop.as_str()).copied());
        match error {
            // What went through is said with the failure (the audit keeps it): those shops
            // stay moved, recorded on themselves, and a drain run again goes on from there.
            Some(e) if out.applied > 0 => {
                let mut failure = super::errors::failure(&e);
                failure.message = format!(
                    "{} — {} of the batch's {} shops were moved before that and stay moved",
                    failure.message,
                    out.applied,
                    moves.len()
                );
                Err(OpsError::Api(failure))
            }
            Some(e) => Err(store_error(e)),
            None => Ok(out),
        }
    }

    async fn set_cordon(
        &self,
        cluster: &str,
        cordoned: bool,
        drain: Option<&str>,
    ) -> Result<(), OpsError> {
        let patch = json!({
            "metadata": { "annotations": { DRAIN_ANNOTATION: drain } },
            "spec": { "unschedulable": cordoned },
        });
        let pp = PatchParams {
            field_manager: Some(FIELD_MANAGER.into()),
            ..PatchParams::default()
        };
        let written = bounded(self.clusters.patch(cluster, &pp, &Patch::Merge(&patch)))
            .await
            .map_err(store_error)?;
        if let Some(view) = &self.view {
            view.wrote_cluster(objects::cluster(&written));
        }
        Ok(())
    }
}
