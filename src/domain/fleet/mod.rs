//! The fleet snapshot the console shows, and the updates sources send to it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

mod update;

pub use self::update::FleetUpdate;
use super::invariants::{self, Violation};
use super::model::*;
use super::time::Ts;

/// Everything known about the fleet at one moment, with the indexes and derived facts views need.
#[derive(Debug, Clone, Default)]
pub struct Fleet {
    pub name: String,
    pub clusters: Vec<Cluster>,
    /// Sorted by level, lowest first.
    pub tiers: Vec<Tier>,
    pub shopsets: Vec<ShopSet>,
    pub shops: Arc<Vec<Shop>>,
    pub apps: Vec<AppStatus>,
    pub alerts: Vec<Alert>,
    /// Alertmanager's silences, active and pending first, newest first within each.
    pub silences: Vec<crate::domain::Silence>,
    pub scope_labels: AlertScopeLabels,
    /// The operator lock as last read (it may have expired since).
    pub lock: Option<ReleaseLock>,
    /// Why the lock could not be read, when it could not.
    pub lock_problem: Option<String>,
    /// Why the alerts cannot be known (Alertmanager unreachable), when they cannot: the last
    /// alerts stay shown, and no gate takes their absence for a pass.
    pub alerts_unknown: Option<String>,
    /// The sources a one-shot read could not read, each message naming its source (`status` in
    /// live mode reports them rather than fail whole).
    pub unread: Vec<String>,
    /// Cluster status parts that arrived before their cluster's spec.
    pending_status: HashMap<String, ClusterStatus>,
    /// Per tier, recent commits of its branch and the app commit each pins.
    pins_by_tier: HashMap<String, Vec<(String, String)>>,
    /// The same, by system-repository commit.
    pins: HashMap<String, String>,
    /// What tier branches pin, read before the tier's spec arrived.
    pending_branches: HashMap<String, TierBranch>,
    /// The app repository's revisions, oldest first (for "what a promotion brings").
    pub releases: Vec<Revision>,
    /// Halts, failed releases and approval requests, as last read.
    pub controls: crate::domain::release::ReleaseControls,
    /// Why they cannot be read now, when they cannot: no gate takes what was last read (or
    /// nothing) for "not halted".
    pub controls_unknown: Option<String>,
    /// The latest verification by metrics of each tier, by tier name.
    pub verification: BTreeMap<String, crate::domain::release::TierVerification>,
    shopset_index: HashMap<String, usize>,
    shop_index: HashMap<String, usize>,
    app_index: HashMap<String, usize>,
    app_by_shopset: HashMap<String, usize>,
    cluster_index: HashMap<String, usize>,
    shop_counts: Vec<u32>,
    /// ShopSet indices by tier level, then name (`C-2` before `C-10`).
    shopset_order: Vec<usize>,
    /// Shops down and dual shops on one leg because their clusters are unreachable.
    outage: (usize, usize),
    /// Application indices in ShopSet order, then those whose ShopSet is unknown.
    app_order: Vec<usize>,
    app_order_stale: bool,
    /// ShopSet indices by tier and by cluster, in `shopsets` order.
    by_tier: HashMap<String, Vec<usize>>,
    by_cluster: HashMap<String, Vec<usize>>,
    violations: Vec<Violation>,
    /// Violations of individual shops, by shop name, kept up to date shop by shop.
    shop_violations: BTreeMap<String, Vec<Violation>>,
    /// Shop names used more than once (a single shop's update never changes which).
    duplicate_shops: Vec<Violation>,
    /// Counts and violations must be recomputed from scratch.
    derived_stale: bool,
    /// Only the violation list (and topology rules) must be rebuilt.
    violations_stale: bool,
    shops_generation: u64,
}

impl Fleet {
    pub fn new(name: impl Into<String>) -> Fleet {
        Fleet {
            name: name.into(),
            ..Fleet::default()
        }
    }

    /// Applications in ShopSet order (as of the last [`Fleet::refresh`]).
    pub fn apps_in_order(&self) -> impl Iterator<Item = &AppStatus> + '_ {
        self.app_order.iter().filter_map(|&i| self.apps.get(i))
    }

    /// ShopSets by tier level, then name.
    pub fn shopsets_in_order(&self) -> impl Iterator<Item = &ShopSet> + '_ {
        self.shopset_order.iter().map(|&i| &self.shopsets[i])
    }

    /// Number of ShopSets on a cluster.
    pub fn shopset_count_on(&self, cluster: &str) -> usize {
        self.by_cluster.get(cluster).map_or(0, Vec::len)
    }

    /// The updates that rebuild this snapshot from an empty fleet (for replays and tests).
    pub fn as_updates(&self) -> Vec<FleetUpdate> {
        let mut all = vec![
            FleetUpdate::Name(self.name.clone()),
            FleetUpdate::Clusters(self.clusters.clone()),
            FleetUpdate::Tiers(self.tiers.clone()),
            FleetUpdate::ShopSets(self.shopsets.clone()),
            FleetUpdate::Shops(Arc::clone(&self.shops)),
            FleetUpdate::Apps(self.apps.clone()),
            FleetUpdate::Alerts(self.alerts.clone()),
            FleetUpdate::Silences(self.silences.clone()),
            match &self.lock_problem {
                Some(why) => FleetUpdate::LockUnreadable(why.clone()),
                None => FleetUpdate::Lock(self.lock.clone()),
            },
            FleetUpdate::Releases(self.releases.clone()),
            FleetUpdate::Controls(self.controls.clone()),
        ];
        if let Some(why) = &self.controls_unknown {
            all.push(FleetUpdate::ControlsUnknown(why.clone()));
        }
        all.extend(
            self.verification
                .values()
                .cloned()
                .map(FleetUpdate::Verified),
        );
        if let Some(why) = &self.alerts_unknown {
            all.push(FleetUpdate::AlertsUnknown(why.clone()));
        }
        all
    }

    /// App revisions after `from` up to and including `to` (by history order), oldest first.
    pub fn releases_between(&self, from: Option<&Revision>, to: &Revision) -> Vec<&Revision> {
        let (lo, hi) = match from {
            Some(f) if f.seq <= to.seq => (f.seq, to.seq),
            Some(f) => (to.seq, f.seq),
            None => (0, to.seq),
        };
        self.releases
            .iter()
            .filter(|r| r.seq > lo && r.seq <= hi)
            .collect()
    }

    /// The lock holder, if the lock is held at `now`.
    pub fn lock_holder(&self, now: Ts) -> Option<&ReleaseLock> {
        self.lock.as_ref().filter(|l| l.is_held(now))
    }

    /// Changes whenever placement or topology changes; views cache per generation.
    pub fn generation(&self) -> u64 {
        self.shops_generation
    }

    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    pub fn cluster(&self, name: &str) -> Option<&Cluster> {
        self.cluster_index
            .get(name)
            .and_then(|&i| self.clusters.get(i))
    }

    pub fn tier(&self, name: &str) -> Option<&Tier> {
        self.tiers.iter().find(|t| t.name == name)
    }

    pub fn shopset(&self, name: &str) -> Option<&ShopSet> {
        self.shopset_index.get(name).map(|&i| &self.shopsets[i])
    }

    /// Number of shops placed on the ShopSet (as of the last [`Fleet::refresh`]).
    pub fn shop_count(&self, shopset: &str) -> u32 {
        self.shopset_index
            .get(shopset)
            .and_then(|&i| self.shop_counts.get(i).copied())
            .unwrap_or(0)
    }

    pub fn failure_domain_of(&self, shopset: &str) -> Option<&str> {
        let ss = self.shopset(shopset)?;
        self.cluster(&ss.cluster).map(|c| c.failure_domain.as_str())
    }

    pub fn app_for(&self, shopset: &str) -> Option<&AppStatus> {
        self.app_by_shopset
            .get(shopset)
            .and_then(|&i| self.apps.get(i))
    }

    /// The ShopSet's serving stack: as its Argo CD Application's resources say when they say
    /// (live mode), else as the ShopSet itself says (the demo simulates it there).
    pub fn stack(&self, ss: &ShopSet) -> Components {
        self.app_for(&ss.name)
            .and_then(|a| a.argo.components)
            .unwrap_or(ss.components)
    }

    pub fn shopsets_of_tier<'a>(&'a self, tier: &'a str) -> impl Iterator<Item = &'a ShopSet> + 'a {
        let idx = self.by_tier.get(tier).map(Vec::as_slice).unwrap_or(&[]);
        idx.iter().map(|&i| &self.shopsets[i])
    }

    pub fn shopsets_of_cluster<'a>(
        &'a self,
        cluster: &'a str,
    ) -> impl Iterator<Item = &'a ShopSet> + 'a {
        let idx = self
            .by_cluster
            .get(cluster)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        idx.iter().map(|&i| &self.shopsets[i])
    }

    /// Does the alert concern this ShopSet (directly, or through its tier or cluster)?
    pub fn alert_touches_shopset(&self, alert: &Alert, ss: &ShopSet) -> bool {
        let l = &self.scope_labels;
        match alert.label(&l.shopset) {
            Some(v) => v == ss.name,
            None => {
                alert.label(&l.cluster).is_some_and(|c| c == ss.cluster)
                    || (alert.label(&l.cluster).is_none()
                        && alert.label(&l.tier).is_some_and(|t| t == ss.tier))
            }
        }
    }

    /// Does the alert concern the tier: scoped to it, or to one of its ShopSets?
    pub fn alert_touches_tier(&self, alert: &Alert, tier: &str) -> bool {
        let l = &self.scope_labels;
        if alert.label(&l.tier).is_some_and(|t| t == tier) {
            return true;
        }
        alert
            .label(&l.shopset)
            .and_then(|s| self.shopset(s))
            .is_some_and(|ss| ss.tier == tier)
    }

    pub fn alert_touches_cluster(&self, alert: &Alert, cluster: &str) -> bool {
        let l = &self.scope_labels;
        if alert.label(&l.cluster).is_some_and(|c| c == cluster) {
            return true;
        }
        alert
            .label(&l.shopset)
            .and_then(|s| self.shopset(s))
            .is_some_and(|ss| ss.cluster == cluster)
    }

    /// Active alerts touching the ShopSet, worst first.
    pub fn active_alerts_for_shopset<'a>(
        &'a self,
        ss: &'a ShopSet,
    ) -> impl Iterator<Item = &'a Alert> + 'a {
        self.alerts
            .iter()
            .filter(move |a| a.state == AlertState::Active && self.alert_touches_shopset(a, ss))
    }

    /// The tier directly below `tier` (by level), if any.
    pub fn tier_below(&self, tier: &str) -> Option<&Tier> {
        let t = self.tier(tier)?;
        self.tiers
            .iter()
            .filter(|o| o.level < t.level)
            .max_by_key(|o| o.level)
    }

    /// How many of the shop's ShopSets are on reachable clusters (still serving it).
    pub fn reachable_legs(&self, shop: &Shop) -> usize {
        shop.shopsets
            .iter()
            .filter(|s| {
                self.shopset(s)
                    .and_then(|ss| self.cluster(&ss.cluster))
                    .is_some_and(|c| c.is_reachable())
            })
            .count()
    }

    /// Shops that have lost all serving ShopSets (their clusters are unreachable), and dual shops
    /// down to one leg (as of the last [`Fleet::refresh`]).
    pub fn shops_affected_by_outage(&self) -> (usize, usize) {
        self.outage
    }
}

impl invariants::Topology for Fleet {
    fn shopset(&self, name: &str) -> Option<&ShopSet> {
        Fleet::shopset(self, name)
    }

    fn failure_domain_of(&self, shopset: &str) -> Option<&str> {
        Fleet::failure_domain_of(self, shopset)
    }

    fn shop_count(&self, shopset: &str) -> u32 {
        Fleet::shop_count(self, shopset)
    }

    fn all_shopsets(&self) -> &[ShopSet] {
        &self.shopsets
    }

    fn all_tiers(&self) -> &[Tier] {
        &self.tiers
    }
}

#[cfg(test)]
mod tests;
