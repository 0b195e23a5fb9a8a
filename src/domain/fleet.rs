//! The fleet snapshot the console shows, and the updates sources send to it.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::invariants::{self, Violation};
use super::model::*;
use super::time::Ts;

/// One change reported by a source. Collections that sources read as a whole replace the old
/// value; per-object variants serve watch streams and cost O(1).
#[derive(Debug, Clone)]
pub enum FleetUpdate {
    Name(String),
    Clusters(Vec<Cluster>),
    Tiers(Vec<Tier>),
    ShopSets(Vec<ShopSet>),
    Shops(Arc<Vec<Shop>>),
    ShopUpserted(Shop),
    Apps(Vec<AppStatus>),
    AppUpserted(AppStatus),
    AppRemoved(String),
    Alerts(Vec<Alert>),
    Lock(Option<ReleaseLock>),
    /// The lock exists but cannot be read (named, with why): shown, never a reason to stop.
    LockUnreadable(String),
    /// The control plane's part of a cluster (added or changed); its status part is kept.
    ClusterSpec(ClusterSpec),
    /// The cluster's own part, read through its context.
    ClusterStatus(ClusterStatus),
    ClusterRemoved(String),
    /// The control plane's part of a tier; what its branch pins is kept.
    TierSpec(TierSpec),
    /// The system repository's part of a tier.
    TierBranch(TierBranch),
    TierRemoved(String),
    ShopSetUpserted(ShopSet),
    ShopSetRemoved(String),
    ShopRemoved(String),
    /// The app repository's release history, oldest first.
    Releases(Vec<Revision>),
}

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
    pub scope_labels: AlertScopeLabels,
    /// The operator lock as last read (it may have expired since).
    pub lock: Option<ReleaseLock>,
    /// Why the lock could not be read, when it could not.
    pub lock_problem: Option<String>,
    /// Cluster status parts that arrived before their cluster's spec.
    pending_status: HashMap<String, ClusterStatus>,
    /// The app repository's revisions, oldest first (for "what a promotion brings").
    pub releases: Vec<Revision>,
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

    /// Applies one update. Derived facts (counts, violations) are refreshed by [`Fleet::refresh`],
    /// once per batch of updates.
    pub fn apply(&mut self, update: FleetUpdate) {
        // Counts and violations depend on placement, ShopSets, clusters and tiers only; a single
        // shop's change is applied incrementally.
        let affects_derived = matches!(
            update,
            FleetUpdate::Clusters(_)
                | FleetUpdate::Tiers(_)
                | FleetUpdate::ShopSets(_)
                | FleetUpdate::Shops(_)
                | FleetUpdate::ClusterSpec(_)
                | FleetUpdate::ClusterStatus(_)
                | FleetUpdate::ClusterRemoved(_)
                | FleetUpdate::TierSpec(_)
                | FleetUpdate::TierRemoved(_)
                | FleetUpdate::ShopSetUpserted(_)
                | FleetUpdate::ShopSetRemoved(_)
                | FleetUpdate::ShopRemoved(_)
        );
        let placement_changed = affects_derived || matches!(update, FleetUpdate::ShopUpserted(_));
        match update {
            FleetUpdate::Name(name) => self.name = name,
            FleetUpdate::Clusters(c) => {
                self.clusters = c;
                self.reindex_clusters();
            }
            FleetUpdate::ClusterSpec(spec) => self.apply_cluster_spec(spec),
            FleetUpdate::ClusterStatus(status) => match self.cluster_index.get(&status.name) {
                Some(&i) => status.apply_to(&mut self.clusters[i]),
                None => {
                    self.pending_status.insert(status.name.clone(), status);
                }
            },
            FleetUpdate::ClusterRemoved(name) => {
                self.clusters.retain(|c| c.name != name);
                self.pending_status.remove(&name);
                self.reindex_clusters();
            }
            FleetUpdate::TierSpec(spec) => {
                match self.tiers.iter_mut().find(|t| t.name == spec.name) {
                    Some(t) => spec.apply_to(t),
                    None => self.tiers.push(spec.into_tier()),
                }
                self.tiers.sort_by_key(|t| t.level);
            }
            FleetUpdate::TierBranch(b) => {
                if let Some(t) = self.tiers.iter_mut().find(|t| t.name == b.name) {
                    b.apply_to(t);
                }
            }
            FleetUpdate::TierRemoved(name) => self.tiers.retain(|t| t.name != name),
            FleetUpdate::ShopSetUpserted(ss) => {
                let mut all = std::mem::take(&mut self.shopsets);
                match all.iter_mut().find(|s| s.name == ss.name) {
                    Some(s) => *s = ss,
                    None => all.push(ss),
                }
                self.apply(FleetUpdate::ShopSets(all));
            }
            FleetUpdate::ShopSetRemoved(name) => {
                let mut all = std::mem::take(&mut self.shopsets);
                all.retain(|s| s.name != name);
                self.apply(FleetUpdate::ShopSets(all));
            }
            FleetUpdate::ShopRemoved(name) => {
                self.ensure_shop_index();
                if let Some(i) = self.shop_index.remove(&name) {
                    let shops = Arc::make_mut(&mut self.shops);
                    shops.swap_remove(i);
                    if let Some(moved) = shops.get(i) {
                        self.shop_index.insert(moved.name.clone(), i);
                    }
                }
            }
            FleetUpdate::LockUnreadable(why) => {
                self.lock = None;
                self.lock_problem = Some(why);
            }
            FleetUpdate::Tiers(mut t) => {
                t.sort_by_key(|t| t.level);
                self.tiers = t;
            }
            FleetUpdate::ShopSets(s) => {
                self.shopsets = s;
                self.shopset_index = self
                    .shopsets
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.name.clone(), i))
                    .collect();
                self.by_tier.clear();
                self.by_cluster.clear();
                for (i, s) in self.shopsets.iter().enumerate() {
                    self.by_tier.entry(s.tier.clone()).or_default().push(i);
                    self.by_cluster
                        .entry(s.cluster.clone())
                        .or_default()
                        .push(i);
                }
            }
            FleetUpdate::Shops(s) => {
                self.shops = s;
                self.shop_index.clear();
            }
            FleetUpdate::ShopUpserted(shop) => self.upsert_shop(shop),
            FleetUpdate::Apps(a) => {
                self.apps = a;
                self.reindex_apps();
            }
            FleetUpdate::AppUpserted(app) => match self.app_index.get(&app.name) {
                Some(&i) if self.apps[i].shopset == app.shopset => self.apps[i] = app,
                Some(&i) => {
                    self.apps[i] = app;
                    self.reindex_apps();
                }
                None => {
                    self.app_order_stale = true;
                    self.app_index.insert(app.name.clone(), self.apps.len());
                    self.app_by_shopset
                        .insert(app.shopset.clone(), self.apps.len());
                    self.apps.push(app);
                }
            },
            FleetUpdate::AppRemoved(name) => {
                if let Some(i) = self.app_index.remove(&name) {
                    self.apps.remove(i);
                    self.reindex_apps();
                }
            }
            FleetUpdate::Alerts(a) => self.alerts = a,
            FleetUpdate::Lock(l) => {
                self.lock = l;
                self.lock_problem = None;
            }
            FleetUpdate::Releases(r) => self.releases = r,
        }
        self.derived_stale |= affects_derived;
        if placement_changed {
            self.shops_generation += 1;
        }
    }

    fn reindex_clusters(&mut self) {
        self.cluster_index = self
            .clusters
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
    }

    fn apply_cluster_spec(&mut self, spec: ClusterSpec) {
        match self.cluster_index.get(&spec.name) {
            Some(&i) => spec.apply_to(&mut self.clusters[i]),
            None => {
                let mut c = spec.into_cluster();
                if let Some(status) = self.pending_status.remove(&c.name) {
                    status.apply_to(&mut c);
                }
                self.clusters.push(c);
                self.reindex_clusters();
            }
        }
    }

    fn upsert_shop(&mut self, shop: Shop) {
        self.ensure_shop_index();
        let incremental = !self.derived_stale && self.shop_counts.len() == self.shopsets.len();
        let old = self.shop_index.get(&shop.name).copied();
        if incremental {
            let old_legs = old
                .map(|i| self.shops[i].shopsets.as_slice())
                .unwrap_or(&[]);
            for name in old_legs {
                if let Some(&i) = self.shopset_index.get(name) {
                    self.shop_counts[i] = self.shop_counts[i].saturating_sub(1);
                }
            }
            for name in &shop.shopsets {
                if let Some(&i) = self.shopset_index.get(name) {
                    self.shop_counts[i] += 1;
                }
            }
            let found = invariants::check_shop(self, &shop);
            if found.is_empty() {
                self.shop_violations.remove(&shop.name);
            } else {
                self.shop_violations.insert(shop.name.clone(), found);
            }
            self.violations_stale = true;
        }
        let shops = Arc::make_mut(&mut self.shops);
        match self.shop_index.get(&shop.name) {
            Some(&i) => shops[i] = shop,
            None => {
                self.shop_index.insert(shop.name.clone(), shops.len());
                shops.push(shop);
            }
        }
    }

    /// Recomputes shop counts and invariant violations if anything changed since the last call.
    pub fn refresh(&mut self) {
        let reorder = self.app_order_stale || self.derived_stale;
        self.refresh_derived();
        if reorder {
            self.app_order_stale = false;
            self.order_apps();
        }
    }

    fn refresh_derived(&mut self) {
        if !self.derived_stale {
            if self.violations_stale {
                self.violations_stale = false;
                self.collect_violations();
            }
            return;
        }
        self.derived_stale = false;
        self.violations_stale = false;
        let mut counts = vec![0u32; self.shopsets.len()];
        for shop in self.shops.iter() {
            for ss in &shop.shopsets {
                if let Some(&i) = self.shopset_index.get(ss) {
                    counts[i] += 1;
                }
            }
        }
        self.shop_counts = counts;
        let level: HashMap<&str, u8> = self
            .tiers
            .iter()
            .map(|t| (t.name.as_str(), t.level))
            .collect();
        let mut order: Vec<usize> = (0..self.shopsets.len()).collect();
        order.sort_by(|&a, &b| {
            let (a, b) = (&self.shopsets[a], &self.shopsets[b]);
            let la = level.get(a.tier.as_str()).copied().unwrap_or(u8::MAX);
            let lb = level.get(b.tier.as_str()).copied().unwrap_or(u8::MAX);
            la.cmp(&lb).then_with(|| natural_cmp(&a.name, &b.name))
        });
        self.shopset_order = order;
        let mut by_shop = BTreeMap::new();
        // Until ShopSets are known every shop would look misplaced: judge placement only then.
        let shops: &[Shop] = if self.shopsets.is_empty() {
            &[]
        } else {
            &self.shops
        };
        for shop in shops {
            let found = invariants::check_shop(self, shop);
            if !found.is_empty() {
                by_shop
                    .entry(shop.name.clone())
                    .or_insert_with(Vec::new)
                    .extend(found);
            }
        }
        self.shop_violations = by_shop;
        self.duplicate_shops = invariants::duplicate_shops(shops);
        self.collect_violations();
    }

    fn order_apps(&mut self) {
        let mut order: Vec<usize> = Vec::with_capacity(self.apps.len());
        let mut placed = vec![false; self.apps.len()];
        for &i in &self.shopset_order {
            if let Some(&a) = self.app_by_shopset.get(&self.shopsets[i].name) {
                order.push(a);
                placed[a] = true;
            }
        }
        order.extend((0..self.apps.len()).filter(|&a| !placed[a]));
        self.app_order = order;
    }

    fn collect_violations(&mut self) {
        self.outage = self.count_outage();
        let mut all: Vec<Violation> = self.duplicate_shops.clone();
        all.extend(self.shop_violations.values().flatten().cloned());
        all.extend(invariants::check_topology(self));
        self.violations = all;
    }

    fn ensure_shop_index(&mut self) {
        if self.shop_index.len() != self.shops.len() {
            self.shop_index = self
                .shops
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.clone(), i))
                .collect();
        }
    }

    /// Applications in ShopSet order (as of the last [`Fleet::refresh`]).
    pub fn apps_in_order(&self) -> impl Iterator<Item = &AppStatus> + '_ {
        self.app_order.iter().filter_map(|&i| self.apps.get(i))
    }

    fn reindex_apps(&mut self) {
        self.app_order_stale = true;
        self.app_index = self
            .apps
            .iter()
            .enumerate()
            .map(|(i, a)| (a.name.clone(), i))
            .collect();
        self.app_by_shopset = self
            .apps
            .iter()
            .enumerate()
            .map(|(i, a)| (a.shopset.clone(), i))
            .collect();
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
        vec![
            FleetUpdate::Name(self.name.clone()),
            FleetUpdate::Clusters(self.clusters.clone()),
            FleetUpdate::Tiers(self.tiers.clone()),
            FleetUpdate::ShopSets(self.shopsets.clone()),
            FleetUpdate::Shops(Arc::clone(&self.shops)),
            FleetUpdate::Apps(self.apps.clone()),
            FleetUpdate::Alerts(self.alerts.clone()),
            match &self.lock_problem {
                Some(why) => FleetUpdate::LockUnreadable(why.clone()),
                None => FleetUpdate::Lock(self.lock.clone()),
            },
            FleetUpdate::Releases(self.releases.clone()),
        ]
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

    /// Shops that have lost all serving ShopSets (their clusters are unreachable), and dual shops
    /// down to one leg (as of the last [`Fleet::refresh`]).
    pub fn shops_affected_by_outage(&self) -> (usize, usize) {
        self.outage
    }

    fn count_outage(&self) -> (usize, usize) {
        let down_sets: std::collections::HashSet<&str> = self
            .shopsets
            .iter()
            .filter(|s| self.cluster(&s.cluster).is_some_and(|c| !c.is_reachable()))
            .map(|s| s.name.as_str())
            .collect();
        if down_sets.is_empty() {
            return (0, 0);
        }
        let (mut down, mut one_leg) = (0, 0);
        for shop in self.shops.iter() {
            let lost = shop
                .shopsets
                .iter()
                .filter(|s| down_sets.contains(s.as_str()))
                .count();
            if lost == 0 {
                continue;
            }
            if lost == shop.shopsets.len() {
                down += 1;
            } else {
                one_leg += 1;
            }
        }
        (down, one_leg)
    }
}
