//! Placement writes in live mode: `Shop.spec.shopSets` merge-patched with the resourceVersion it
//! was read at as a precondition; a `409 Conflict` re-reads that shop, re-checks where it is and
//! retries once or reports it. A drain records on the Shop itself (annotations
//! `shopset.dev/drain` and `shopset.dev/previous-shopsets`), so a drain killed midway resumes
//! from any machine. Cordon is `FleetCluster.spec.unschedulable`. Capacity is checked by the
//! executor on its fresh read, under the operator Lease that serialises shopctl's writers.

use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;

use super::blocking::{BlockingRuntime, is_conflict};
use super::crds;
use super::objects::{DRAIN_ANNOTATION, PREVIOUS_ANNOTATION};
use crate::domain::placement::Move;
use crate::domain::same_shopsets;
use crate::ops::OpsError;
use crate::ops::placement::{BatchOutcome, Capacities, PlacementStore, Record};

/// The field manager shopctl's writes carry.
pub const FIELD_MANAGER: &str = "shopctl";

/// Shops and FleetClusters of the control plane, written through its own small runtime (the
/// executor is synchronous).
pub struct ShopPatcher {
    shops: Api<crds::Shop>,
    clusters: Api<crds::FleetCluster>,
    runtime: BlockingRuntime,
}

fn store_error(e: kube::Error) -> OpsError {
    OpsError::Store(super::errors::say(&e))
}

impl ShopPatcher {
    /// The store on a runtime of its own, with a client made on it.
    pub fn new(config: kube::Config) -> Result<ShopPatcher, OpsError> {
        let runtime = BlockingRuntime::new().map_err(|e| OpsError::Store(e.to_string()))?;
        let client = runtime.client(config).map_err(OpsError::Store)?;
        Ok(ShopPatcher::on(runtime, client))
    }

    /// The store through an existing client (its requests run on a runtime of the store's own).
    pub fn with_client(client: kube::Client) -> Result<ShopPatcher, OpsError> {
        let runtime = BlockingRuntime::new().map_err(|e| OpsError::Store(e.to_string()))?;
        Ok(ShopPatcher::on(runtime, client))
    }

    /// The store on the session's stores' runtime, through a client made on it.
    pub fn on(runtime: BlockingRuntime, client: kube::Client) -> ShopPatcher {
        ShopPatcher {
            shops: Api::all(client.clone()),
            clusters: Api::all(client),
            runtime,
        }
    }

    fn block<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T, kube::Error>>,
    ) -> Result<T, kube::Error> {
        self.runtime.call(fut)
    }

    /// Moves one shop if it is still where the move found it. `Ok(true)`: moved; `Ok(false)`:
    /// already there; `Err(why)` for a shop left alone.
    fn move_one(&self, m: &Move, record: &Record) -> Result<bool, Result<String, OpsError>> {
        for _attempt in 0..2 {
            let Some(shop) = self
                .block(self.shops.get_opt(&m.shop))
                .map_err(|e| Err(store_error(e)))?
            else {
                return Err(Ok("the shop no longer exists".into()));
            };
            let now_on = &shop.spec.shop_sets;
            if same_shopsets(now_on, &m.to) {
                return Ok(false);
            }
            if !same_shopsets(now_on, &m.from) {
                return Err(Ok(format!(
                    "moved meanwhile: now on {}, not {}",
                    now_on.join(","),
                    m.from.join(",")
                )));
            }
            let annotations = match record {
                Record::Nothing => json!({}),
                Record::Drain(id) => {
                    // A record of this drain or of an earlier one stays: the shop goes home
                    // when that drain is restored.
                    let keep = shop
                        .metadata
                        .annotations
                        .as_ref()
                        .is_some_and(|a| a.contains_key(DRAIN_ANNOTATION));
                    if keep {
                        json!({})
                    } else {
                        json!({ DRAIN_ANNOTATION: id, PREVIOUS_ANNOTATION: now_on.join(",") })
                    }
                }
                Record::Clear => json!({ DRAIN_ANNOTATION: null, PREVIOUS_ANNOTATION: null }),
            };
            let patch = json!({
                "metadata": {
                    "resourceVersion": shop.metadata.resource_version,
                    "annotations": annotations,
                },
                "spec": { "shopSets": m.to },
            });
            let pp = PatchParams {
                field_manager: Some(FIELD_MANAGER.into()),
                ..PatchParams::default()
            };
            match self.block(self.shops.patch(&m.shop, &pp, &Patch::Merge(&patch))) {
                Ok(_) => return Ok(true),
                // Written meanwhile: read it again and judge again.
                Err(e) if is_conflict(&e) => continue,
                Err(e) => return Err(Err(store_error(e))),
            }
        }
        Err(Ok("kept changing while it was moved; left alone".into()))
    }
}

impl PlacementStore for ShopPatcher {
    fn apply(
        &self,
        moves: &[Move],
        record: &Record,
        _capacity: &Capacities,
    ) -> Result<BatchOutcome, OpsError> {
        let mut out = BatchOutcome::default();
        for m in moves {
            match self.move_one(m, record) {
                Ok(true) => out.applied += 1,
                Ok(false) => out.already += 1,
                Err(Ok(why)) => out.skipped.push((m.shop.clone(), why)),
                Err(Err(e)) => return Err(e),
            }
        }
        Ok(out)
    }

    fn set_cordon(
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
        self.block(self.clusters.patch(cluster, &pp, &Patch::Merge(&patch)))
            .map(|_| ())
            .map_err(store_error)
    }
}
