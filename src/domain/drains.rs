//! Drains that were started and not finished: a cluster cordoned for a drain that still has
//! shops on its ShopSets (the drain was interrupted, cancelled or stopped by a changed plan).

use serde::Serialize;

use super::fleet::Fleet;

/// A drain to continue (or undo with a restore).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnfinishedDrain {
    pub cluster: String,
    pub drain: String,
    /// Shops still on the cluster's ShopSets.
    pub shops_left: usize,
}

impl UnfinishedDrain {
    /// What to tell the operator, with how to continue.
    pub fn advice(&self) -> String {
        format!(
            "the drain of cluster '{}' is unfinished: {} shops are still on it; run 'shopctl drain {}' (or press d on it) to continue, or restore it",
            self.cluster, self.shops_left, self.cluster
        )
    }
}

/// Every cordoned cluster with a drain id and shops left on it.
pub fn unfinished_drains(fleet: &Fleet) -> Vec<UnfinishedDrain> {
    fleet
        .clusters
        .iter()
        .filter(|c| c.cordoned)
        .filter_map(|c| {
            let drain = c.drain.clone()?;
            let shops_left: usize = fleet
                .shopsets_of_cluster(&c.name)
                .map(|ss| fleet.shop_count(&ss.name) as usize)
                .sum();
            (shops_left > 0).then(|| UnfinishedDrain {
                cluster: c.name.clone(),
                drain,
                shops_left,
            })
        })
        .collect()
}
