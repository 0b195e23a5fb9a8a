//! How source updates change the fleet snapshot, and the derived facts (counts, order,
//! violations) recomputed once per batch.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::Fleet;
use crate::domain::invariants::{self, Violation};
use crate::domain::model::*;

/// One change reported by a source. Collections that sources read as a whole replace the old
/// value; per-object variants serve watch streams and cost O(1).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
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
    /// Alertmanager's silences (all it holds, expired ones included).
    Silences(Vec<crate::domain::Silence>),
    /// The label names that scope alerts to the fleet (live mode's configuration).
    ScopeLabels(AlertScopeLabels),
    /// The alert state cannot be read now (with why).
    AlertsUnknown(String),
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
    /// Halts, failed releases and approval requests (all of them).
    Controls(crate::domain::release::ReleaseControls),
    /// They cannot be read now (with why).
    ControlsUnknown(String),
    /// One tier's verification by metrics.
    Verified(crate::domain::release::TierVerification),
}

impl Fleet {
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
                    None => {
                        let mut t = spec.into_tier();
                        if let Some(b) = self.pending_branches.remove(&t.name) {
                            b.apply_to(&mut t);
                        }
                        self.tiers.push(t);
                    }
                }
                self.tiers.sort_by_key(|t| t.level);
            }
            FleetUpdate::TierBranch(mut b) => {
                let pins = std::mem::take(&mut b.pins);
                if !pins.is_empty() || self.pins_by_tier.contains_key(&b.name) {
                    self.pins_by_tier.insert(b.name.clone(), pins);
                    self.rebuild_pins();
                    let pins = &self.pins;
                    for app in &mut self.apps {
                        fill_app_revision(pins, app);
                    }
                }
                match self.tiers.iter_mut().find(|t| t.name == b.name) {
                    Some(t) => b.apply_to(t),
                    None => {
                        self.pending_branches.insert(b.name.clone(), b);
                    }
                }
            }
            FleetUpdate::TierRemoved(name) => {
                if self.pins_by_tier.remove(&name).is_some() {
                    self.rebuild_pins();
                }
                self.tiers.retain(|t| t.name != name);
            }
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
            FleetUpdate::Apps(mut a) => {
                for app in &mut a {
                    fill_app_revision(&self.pins, app);
                }
                self.apps = a;
                self.reindex_apps();
            }
            FleetUpdate::AppUpserted(mut app) => {
                fill_app_revision(&self.pins, &mut app);
                match self.app_index.get(&app.name) {
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
                }
            }
            FleetUpdate::AppRemoved(name) => {
                if let Some(i) = self.app_index.remove(&name) {
                    self.apps.remove(i);
                    self.reindex_apps();
                }
            }
            FleetUpdate::Alerts(a) => {
                self.alerts = a;
                self.alerts_unknown = None;
            }
            FleetUpdate::AlertsUnknown(why) => self.alerts_unknown = Some(why),
            FleetUpdate::Silences(mut s) => {
                s.sort_by_key(|x| (!x.is_active(), x.state, std::cmp::Reverse(x.starts_at)));
                self.silences = s;
            }
            FleetUpdate::ScopeLabels(l) => self.scope_labels = l,
            FleetUpdate::Lock(l) => {
                self.lock = l;
                self.lock_problem = None;
            }
            FleetUpdate::Releases(r) => self.releases = r,
            FleetUpdate::Controls(c) => {
                self.controls = c;
                self.controls_unknown = None;
            }
            FleetUpdate::ControlsUnknown(why) => self.controls_unknown = Some(why),
            FleetUpdate::Verified(v) => {
                self.verification.insert(v.tier.clone(), v);
            }
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

    /// The shop named `name`, found through the index (built first if it is behind).
    pub fn find_shop(&mut self, name: &str) -> Option<&Shop> {
        self.ensure_shop_index();
        let i = *self.shop_index.get(name)?;
        self.shops.get(i)
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

/// An Application's app commit, when its source does not say and a tier branch's recent history
/// does: the `base` gitlink of the system commit it synced.
fn fill_app_revision(pins: &HashMap<String, String>, app: &mut AppStatus) {
    // A multi-source Application's system-repository revision is the one git knows.
    if app.revision.is_none() {
        app.revision = app
            .argo
            .revisions
            .iter()
            .find(|r| pins.contains_key(*r))
            .cloned();
    }
    if app.app_revision.is_none()
        && let Some(r) = &app.revision
        && let Some(pinned) = pins.get(r)
    {
        app.app_revision = Some(pinned.clone());
    }
}

impl Fleet {
    /// The system-commit → app-commit index, from every tier's recent history.
    fn rebuild_pins(&mut self) {
        self.pins = self
            .pins_by_tier
            .values()
            .flatten()
            .map(|(s, a)| (s.clone(), a.clone()))
            .collect();
    }
}
