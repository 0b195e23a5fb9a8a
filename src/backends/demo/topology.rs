//! The demo fleet's shape: the seed talk's clusters A–C plus D, five tiers, ShopSets sized to the
//! number of shops, and shops placed by the same rules operators follow.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::domain::{Redundancy, Shop};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterSpec {
    pub name: String,
    pub provider: String,
    pub failure_domain: String,
    pub server_version: String,
    pub nodes: u32,
    #[serde(default)]
    pub cordoned: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierSpec {
    pub name: String,
    pub level: u8,
    pub soak_secs: u32,
    /// A step into the tier needs a second person's approval (fleets made before this was
    /// kept have none).
    #[serde(default)]
    pub approval: crate::domain::Approval,
    /// `shopctl release watch` rolls the tier back when its soak goes bad.
    #[serde(default)]
    pub auto_rollback: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopSetSpec {
    pub name: String,
    pub tier: String,
    pub configuration: String,
    pub cluster: String,
    pub capacity: u32,
}

/// The static part of the demo fleet, persisted in the demo directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topology {
    pub clusters: Vec<ClusterSpec>,
    pub tiers: Vec<TierSpec>,
    pub shopsets: Vec<ShopSetSpec>,
}

struct TierPlan {
    name: &'static str,
    soak_secs: u32,
    approval: crate::domain::Approval,
    auto_rollback: bool,
    configuration: &'static str,
    /// Share of all shops served by this tier, in per cent.
    share: u32,
    /// Share of this tier's shops that are dual, in per cent.
    dual: u32,
    /// The seed talk's ShopSets of this tier, then the clusters extra ShopSets go to.
    base: &'static [&'static str],
    clusters: &'static [&'static str],
}

const TIERS: [TierPlan; 5] = [
    TierPlan {
        name: "dev",
        soak_secs: 30,
        approval: crate::domain::Approval::None,
        auto_rollback: false,
        configuration: "staging",
        share: 3,
        dual: 0,
        base: &["c-2", "d-1", "a-4"],
        clusters: &["c", "d", "a"],
    },
    TierPlan {
        name: "beta",
        soak_secs: 45,
        approval: crate::domain::Approval::None,
        auto_rollback: false,
        configuration: "staging",
        share: 7,
        dual: 20,
        base: &["c-1", "d-2", "b-3"],
        clusters: &["c", "d", "b"],
    },
    TierPlan {
        name: "prod-beta",
        soak_secs: 60,
        approval: crate::domain::Approval::None,
        auto_rollback: true,
        configuration: "production",
        share: 15,
        dual: 30,
        base: &["a-1", "b-2", "d-5"],
        clusters: &["a", "b", "d"],
    },
    TierPlan {
        name: "prod",
        soak_secs: 90,
        approval: crate::domain::Approval::None,
        auto_rollback: true,
        configuration: "production",
        share: 55,
        dual: 40,
        base: &["a-2", "b-1", "d-3", "c-4"],
        clusters: &["a", "b", "c", "d"],
    },
    TierPlan {
        name: "prod-ha",
        soak_secs: 120,
        approval: crate::domain::Approval::SecondPerson,
        auto_rollback: true,
        configuration: "production",
        share: 20,
        dual: 100,
        base: &["a-3", "c-3", "d-4", "b-4"],
        clusters: &["a", "b", "c", "d"],
    },
];

/// Shops a ShopSet is sized for; ShopSets are provisioned at about 55 % of capacity, so that
/// any one cluster can be drained onto the others.
const SHOPS_PER_SHOPSET: u32 = 500;

pub fn clusters() -> Vec<ClusterSpec> {
    let c = |name: &str, provider: &str, version: &str, nodes: u32| ClusterSpec {
        name: name.into(),
        provider: provider.into(),
        failure_domain: name.into(),
        server_version: version.into(),
        nodes,
        cordoned: false,
        drain: None,
    };
    vec![
        c("a", "on-prem", "v1.31.4", 24),
        c("b", "eks", "v1.32.2-eks-8f1a2c", 18),
        c("c", "on-prem", "v1.31.4", 16),
        c("d", "gke", "v1.33.1-gke.1100", 20),
    ]
}

/// Builds the topology and places `shops` shops, deterministically from `seed`.
pub fn generate(shops: u32, seed: u64) -> (Topology, Vec<Shop>) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut tiers = Vec::new();
    let mut shopsets = Vec::new();
    let mut per_tier_shops = Vec::new();
    let mut assigned = 0u32;
    // Extra ShopSets continue each cluster's numbering after the seed talk's ShopSets.
    let mut next: HashMap<&str, u32> = HashMap::new();
    for name in TIERS.iter().flat_map(|t| t.base.iter()) {
        if let Some((cluster, n)) = name.split_once('-') {
            let n: u32 = n.parse().unwrap_or(0);
            let e = next.entry(cluster).or_insert(0);
            *e = (*e).max(n);
        }
    }
    for (level, plan) in TIERS.iter().enumerate() {
        tiers.push(TierSpec {
            name: plan.name.into(),
            level: level as u8,
            soak_secs: plan.soak_secs,
            approval: plan.approval,
            auto_rollback: plan.auto_rollback,
        });
        let n = if level == TIERS.len() - 1 {
            shops - assigned
        } else {
            (u64::from(shops) * u64::from(plan.share) / 100) as u32
        };
        assigned += n;
        per_tier_shops.push(n);
        let legs = u64::from(n) * (100 + u64::from(plan.dual)) / 100;
        let count =
            (plan.base.len() as u64).max(legs.div_ceil(u64::from(SHOPS_PER_SHOPSET))) as usize;
        let capacity = (legs * 100 / 55 / count as u64).div_ceil(50).max(1) * 50;
        let mut names: Vec<String> = plan.base.iter().map(|s| s.to_string()).collect();
        let mut i = 0;
        while names.len() < count {
            let cluster = plan.clusters[i % plan.clusters.len()];
            i += 1;
            let n = next.entry(cluster).or_insert(0);
            *n += 1;
            names.push(format!("{cluster}-{n}"));
        }
        for name in names {
            let cluster = name.split('-').next().unwrap_or_default().to_string();
            shopsets.push(ShopSetSpec {
                name,
                tier: plan.name.into(),
                configuration: plan.configuration.into(),
                cluster,
                capacity: capacity as u32,
            });
        }
    }
    let topology = Topology {
        clusters: clusters(),
        tiers,
        shopsets,
    };
    let placed = place_shops(&topology, &per_tier_shops, &mut rng);
    (topology, placed)
}

fn place_shops(topology: &Topology, per_tier: &[u32], rng: &mut fastrand::Rng) -> Vec<Shop> {
    let mut names = ShopNames::new(rng);
    let mut out = Vec::with_capacity(per_tier.iter().sum::<u32>() as usize);
    for (plan, &n) in TIERS.iter().zip(per_tier) {
        let sets: Vec<&ShopSetSpec> = topology
            .shopsets
            .iter()
            .filter(|s| s.tier == plan.name)
            .collect();
        let mut load = vec![0u32; sets.len()];
        for _ in 0..n {
            let dual = rng.u32(0..100) < plan.dual;
            // Least-loaded first leg; ties broken at random so ShopSets fill evenly.
            let first = least_loaded(&load, rng, |_| true);
            let mut legs = vec![first];
            if dual {
                let fd = &sets[first].cluster;
                legs.push(least_loaded(&load, rng, |j| sets[j].cluster != *fd));
            }
            for &l in &legs {
                load[l] += 1;
            }
            out.push(Shop {
                name: names.next(),
                redundancy: if dual {
                    Redundancy::Dual
                } else {
                    Redundancy::Single
                },
                shopsets: legs.into_iter().map(|l| sets[l].name.clone()).collect(),
                previous: None,
                version: None,
            });
        }
    }
    out
}

fn least_loaded(load: &[u32], rng: &mut fastrand::Rng, allowed: impl Fn(usize) -> bool) -> usize {
    let offset = rng.usize(0..load.len());
    (0..load.len())
        .map(|k| (k + offset) % load.len())
        .filter(|&j| allowed(j))
        .min_by_key(|&j| load[j])
        .unwrap_or(offset)
}

const FIRST: [&str; 40] = [
    "maple", "indigo", "kyoto", "harbor", "copper", "juniper", "saffron", "nordic", "velvet",
    "amber", "willow", "cobalt", "sakura", "granite", "lantern", "meadow", "orchid", "pepper",
    "quartz", "river", "sunny", "tidal", "urban", "vintage", "wild", "yuzu", "zen", "alpine",
    "bamboo", "cedar", "daily", "ember", "fern", "golden", "honey", "iron", "jade", "koi", "lucky",
    "misty",
];
const SECOND: [&str; 40] = [
    "bakery",
    "denim",
    "tea",
    "books",
    "ceramics",
    "coffee",
    "garden",
    "knits",
    "leather",
    "market",
    "noodles",
    "optics",
    "pottery",
    "records",
    "sneakers",
    "toys",
    "vinyl",
    "wine",
    "yarn",
    "bikes",
    "candles",
    "deli",
    "florist",
    "games",
    "hats",
    "ink",
    "jewelry",
    "kitchen",
    "lamps",
    "maps",
    "notebooks",
    "outdoor",
    "prints",
    "quilts",
    "rugs",
    "soap",
    "tools",
    "umbrellas",
    "vases",
    "watches",
];

/// Unique, readable shop names in a seed-dependent order.
struct ShopNames {
    order: Vec<u16>,
    i: usize,
}

impl ShopNames {
    fn new(rng: &mut fastrand::Rng) -> ShopNames {
        let mut order: Vec<u16> = (0..(FIRST.len() * SECOND.len()) as u16).collect();
        rng.shuffle(&mut order);
        ShopNames { order, i: 0 }
    }

    fn next(&mut self) -> String {
        let combo = self.order[self.i % self.order.len()] as usize;
        let round = self.i / self.order.len();
        self.i += 1;
        let (a, b) = (FIRST[combo / SECOND.len()], SECOND[combo % SECOND.len()]);
        if round == 0 {
            format!("{a}-{b}")
        } else {
            format!("{a}-{b}-{}", round + 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;

    #[test]
    fn every_tier_spans_two_failure_domains() {
        let (t, _) = generate(2000, 7);
        for tier in &t.tiers {
            let fds: HashSet<_> = t
                .shopsets
                .iter()
                .filter(|s| s.tier == tier.name)
                .map(|s| &s.cluster)
                .collect();
            assert!(fds.len() >= 2, "tier {} spans {fds:?}", tier.name);
        }
        for name in ["a-1", "a-2", "b-1", "b-2", "c-1", "c-2"] {
            assert!(t.shopsets.iter().any(|s| s.name == name), "{name} missing");
        }
    }

    #[test]
    fn placement_obeys_the_rules_and_is_deterministic() {
        let (t, shops) = generate(2000, 7);
        assert_eq!(shops.len(), 2000);
        assert_eq!(generate(2000, 7).1, shops);
        assert_ne!(generate(2000, 8).1, shops);
        let by_name: HashMap<_, _> = t.shopsets.iter().map(|s| (s.name.as_str(), s)).collect();
        let mut load: HashMap<&str, u32> = HashMap::new();
        let names: HashSet<_> = shops.iter().map(|s| &s.name).collect();
        assert_eq!(names.len(), shops.len(), "shop names are unique");
        let dual = shops
            .iter()
            .filter(|s| s.redundancy == Redundancy::Dual)
            .count();
        assert!(
            dual > 300 && dual < 1200,
            "a realistic mix: {dual} dual of 2000"
        );
        for shop in &shops {
            let sets: Vec<_> = shop.shopsets.iter().map(|s| by_name[s.as_str()]).collect();
            match shop.redundancy {
                Redundancy::Single => assert_eq!(sets.len(), 1),
                Redundancy::Dual => {
                    assert_eq!(sets.len(), 2);
                    assert_ne!(sets[0].cluster, sets[1].cluster);
                    assert_eq!(sets[0].tier, sets[1].tier);
                }
            }
            for s in sets {
                *load.entry(&s.name).or_default() += 1;
            }
        }
        for s in &t.shopsets {
            assert!(
                load.get(s.name.as_str()).copied().unwrap_or(0) <= s.capacity,
                "{} over capacity",
                s.name
            );
        }
    }

    #[test]
    fn scales_to_a_hundred_thousand_shops() {
        let (t, shops) = generate(100_000, 1);
        assert_eq!(shops.len(), 100_000);
        assert!(t.shopsets.len() > 150, "{} ShopSets", t.shopsets.len());
    }
}
