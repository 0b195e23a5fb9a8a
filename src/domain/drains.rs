//! Drains (or restores) that were started and not finished: a cluster cordoned for a drain that
//! still has shops on its ShopSets (interrupted, cancelled, or stopped by a changed plan).

use serde::Serialize;

use super::fleet::Fleet;

/// A drain to continue (or undo with a restore).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnfinishedDrain {
    pub cluster: String,
    pub drain: String,
    /// Shops still on the cluster's ShopSets.
    pub shops_left: usize,
    /// Shops the drain moved off the cluster that are not back.
    pub shops_away: usize,
}

impl UnfinishedDrain {
    /// What to tell the operator, with how to continue.
    pub fn advice(&self) -> String {
        format!(
            "cluster '{c}' has an unfinished drain or restore: {} shops are still on it, {} away from it; continue with 'shopctl drain {c}', or bring them back with 'shopctl restore {c}'",
            self.shops_left,
            self.shops_away,
            c = self.cluster
        )
    }
}

/// Every cordoned cluster with a drain id and shops left on it.
pub fn unfinished_drains(fleet: &Fleet) -> Vec<UnfinishedDrain> {
    let cordoned: Vec<&str> = fleet
        .clusters
        .iter()
        .filter(|c| c.cordoned)
        .filter_map(|c| c.drain.as_deref())
        .collect();
    if cordoned.is_empty() {
        return Vec::new();
    }
    let mut away: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for shop in fleet.shops.iter() {
        if let Some(p) = &shop.previous
            && cordoned.contains(&p.drain.as_str())
        {
            *away.entry(p.drain.as_str()).or_default() += 1;
        }
    }
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
            let shops_away = away.get(drain.as_str()).copied().unwrap_or(0);
            (shops_left > 0).then(|| UnfinishedDrain {
                cluster: c.name.clone(),
                drain,
                shops_left,
                shops_away,
            })
        })
        .collect()
}
