//! The fleet snapshot the console shows, and the updates sources send to it.

use std::collections::HashMap;
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
    shopset_index: HashMap<String, usize>,
    shop_index: HashMap<String, usize>,
    app_index: HashMap<String, usize>,
    shop_counts: Vec<u32>,
    violations: Vec<Violation>,
    derived_stale: bool,
    shops_generation: u64,
}

impl Fleet {
    pub fn new(name: impl Into<String>) -> Fleet {
        Fleet { name: name.into(), ..Fleet::default() }
    }

    /// Applies one update. Derived facts (counts, violations) are refreshed by [`Fleet::refresh`],
    /// once per batch of updates.
    pub fn apply(&mut self, update: FleetUpdate) {
        // Counts and violations depend on placement, ShopSets, clusters and tiers only.
        let affects_derived = matches!(
            update,
            FleetUpdate::Clusters(_)
                | FleetUpdate::Tiers(_)
                | FleetUpdate::ShopSets(_)
                | FleetUpdate::Shops(_)
                | FleetUpdate::ShopUpserted(_)
        );
        match update {
            FleetUpdate::Name(name) => self.name = name,
            FleetUpdate::Clusters(c) => self.clusters = c,
            FleetUpdate::Tiers(mut t) => {
                t.sort_by_key(|t| t.level);
                self.tiers = t;
            }
            FleetUpdate::ShopSets(s) => {
                self.shopsets = s;
                self.shopset_index =
                    self.shopsets.iter().enumerate().map(|(i, s)| (s.name.clone(), i)).collect();
            }
            FleetUpdate::Shops(s) => {
                self.shops = s;
                self.shop_index.clear();
            }
            FleetUpdate::ShopUpserted(shop) => {
                self.ensure_shop_index();
                let shops = Arc::make_mut(&mut self.shops);
                match self.shop_index.get(&shop.name) {
                    Some(&i) => shops[i] = shop,
                    None => {
                        self.shop_index.insert(shop.name.clone(), shops.len());
                        shops.push(shop);
                    }
                }
            }
            FleetUpdate::Apps(a) => {
                self.apps = a;
                self.reindex_apps();
            }
            FleetUpdate::AppUpserted(app) => match self.app_index.get(&app.name) {
                Some(&i) => self.apps[i] = app,
                None => {
                    self.app_index.insert(app.name.clone(), self.apps.len());
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
            FleetUpdate::Lock(l) => self.lock = l,
        }
        self.derived_stale |= affects_derived;
        if affects_derived {
            self.shops_generation += 1;
        }
    }

    /// Recomputes shop counts and invariant violations if anything changed since the last call.
    pub fn refresh(&mut self) {
        if !self.derived_stale {
            return;
        }
        self.derived_stale = false;
        let mut counts = vec![0u32; self.shopsets.len()];
        for shop in self.shops.iter() {
            for ss in &shop.shopsets {
                if let Some(&i) = self.shopset_index.get(ss) {
                    counts[i] += 1;
                }
            }
        }
        self.shop_counts = counts;
        self.violations = invariants::check(self);
    }

    fn ensure_shop_index(&mut self) {
        if self.shop_index.len() != self.shops.len() {
            self.shop_index =
                self.shops.iter().enumerate().map(|(i, s)| (s.name.clone(), i)).collect();
        }
    }

    fn reindex_apps(&mut self) {
        self.app_index = self.apps.iter().enumerate().map(|(i, a)| (a.name.clone(), i)).collect();
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
            FleetUpdate::Lock(self.lock.clone()),
        ]
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
        self.clusters.iter().find(|c| c.name == name)
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
        self.apps.iter().find(|a| a.shopset == shopset)
    }

    pub fn shopsets_of_tier<'a>(&'a self, tier: &'a str) -> impl Iterator<Item = &'a ShopSet> + 'a {
        self.shopsets.iter().filter(move |s| s.tier == tier)
    }

    pub fn shopsets_of_cluster<'a>(&'a self, cluster: &'a str) -> impl Iterator<Item = &'a ShopSet> + 'a {
        self.shopsets.iter().filter(move |s| s.cluster == cluster)
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
    pub fn active_alerts_for_shopset<'a>(&'a self, ss: &'a ShopSet) -> impl Iterator<Item = &'a Alert> + 'a {
        self.alerts
            .iter()
            .filter(move |a| a.state == AlertState::Active && self.alert_touches_shopset(a, ss))
    }

    /// The tier directly below `tier` (by level), if any.
    pub fn tier_below(&self, tier: &str) -> Option<&Tier> {
        let t = self.tier(tier)?;
        self.tiers.iter().filter(|o| o.level < t.level).max_by_key(|o| o.level)
    }

    /// Shops that have lost all serving ShopSets (their clusters are unreachable), and dual shops
    /// down to one leg.
    pub fn shops_affected_by_outage(&self) -> (usize, usize) {
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
            let lost = shop.shopsets.iter().filter(|s| down_sets.contains(s.as_str())).count();
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
