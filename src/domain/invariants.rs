//! The platform's conventions: one set of rules ([`Breach`]), checked over a snapshot as
//! [`Violation`]s the console shows, and over a proposed move as placement's `Broken`.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use super::fleet::Fleet;
use super::model::{Redundancy, Shop, ShopSet};

/// A placement rule broken by one shop's ShopSets or by one ShopSet's load. The one rule engine:
/// [`check_shop`] and [`check_topology`] report breaches as [`Violation`]s of a snapshot, and
/// `placement::check_move` as the `Broken` rules of a proposed move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Breach {
    /// No ShopSet at all.
    NoShopSet,
    /// The wrong number of ShopSets for the shop's redundancy.
    WrongCount {
        redundancy: Redundancy,
        legs: usize,
    },
    SameShopSetTwice(String),
    UnknownShopSet(String),
    /// ShopSets of different tiers.
    MixedTiers,
    /// ShopSets of different configurations (staging and production).
    MixedConfigurations,
    /// Both ShopSets of a dual shop in one failure domain.
    SameFailureDomain {
        domain: String,
    },
    /// A ShopSet holding more shops than its capacity.
    OverCapacity {
        shopset: String,
        shops: u32,
        capacity: u32,
    },
}

/// The ShopSets a shop needs for its redundancy.
pub fn legs_needed(redundancy: Redundancy) -> usize {
    match redundancy {
        Redundancy::Single => 1,
        Redundancy::Dual => 2,
    }
}

/// The rules a shop of `redundancy` placed on `shopsets` breaks: the count of ShopSets, each
/// named once and known, one tier, one configuration, and for a dual shop two failure domains.
/// A shop on no ShopSet breaks [`Breach::NoShopSet`] only.
pub fn placement_breaches(
    fleet: &Fleet,
    redundancy: Redundancy,
    shopsets: &[String],
) -> Vec<Breach> {
    if shopsets.is_empty() {
        return vec![Breach::NoShopSet];
    }
    let mut out = Vec::new();
    if shopsets.len() != legs_needed(redundancy) {
        out.push(Breach::WrongCount {
            redundancy,
            legs: shopsets.len(),
        });
    }
    // Shops have one or two ShopSets: comparing each with those before it is cheapest.
    let mut seen: Vec<(&str, &ShopSet, Option<&str>)> = Vec::with_capacity(shopsets.len());
    let (mut mixed_tiers, mut mixed_configurations) = (false, false);
    let mut shared_domain = None;
    for name in shopsets {
        if seen.iter().any(|(n, _, _)| *n == name.as_str()) {
            out.push(Breach::SameShopSetTwice(name.clone()));
            continue;
        }
        let Some(ss) = fleet.shopset(name) else {
            out.push(Breach::UnknownShopSet(name.clone()));
            continue;
        };
        let fd = fleet.failure_domain_of(name);
        for (_, other, other_fd) in &seen {
            mixed_tiers |= other.tier != ss.tier;
            mixed_configurations |= other.configuration != ss.configuration;
            if fd.is_some() && *other_fd == fd && shared_domain.is_none() {
                shared_domain = fd;
            }
        }
        seen.push((name.as_str(), ss, fd));
    }
    if mixed_tiers {
        out.push(Breach::MixedTiers);
    }
    if mixed_configurations {
        out.push(Breach::MixedConfigurations);
    }
    if let (Redundancy::Dual, Some(domain)) = (redundancy, shared_domain) {
        out.push(Breach::SameFailureDomain {
            domain: domain.to_string(),
        });
    }
    out
}

/// Capacity: `ss` may hold at most its capacity; `shops` is what it would hold.
pub fn capacity_breach(ss: &ShopSet, shops: u32) -> Option<Breach> {
    (shops > ss.capacity).then(|| Breach::OverCapacity {
        shopset: ss.name.clone(),
        shops,
        capacity: ss.capacity,
    })
}

/// The tiers and configurations of the known ShopSets among `shopsets`: where a shop is now.
pub fn tiers_and_configurations<'a>(
    fleet: &'a Fleet,
    shopsets: &[String],
) -> (HashSet<&'a str>, HashSet<&'a str>) {
    shopsets
        .iter()
        .filter_map(|s| fleet.shopset(s))
        .map(|ss| (ss.tier.as_str(), ss.configuration.as_str()))
        .unzip()
}

/// One broken convention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// A dual shop whose two ShopSets share a failure domain.
    DualSameDomain {
        shop: String,
        domain: String,
    },
    /// A shop with the wrong number of ShopSets for its redundancy.
    WrongLegCount {
        shop: String,
        redundancy: Redundancy,
        legs: usize,
    },
    ShopUnplaced {
        shop: String,
    },
    /// A shop placed on a ShopSet that does not exist.
    UnknownShopSet {
        shop: String,
        shopset: String,
    },
    /// A shop placed on ShopSets of different tiers.
    MixedTiers {
        shop: String,
    },
    /// A shop placed on ShopSets of different configurations (staging and production).
    MixedConfigurations {
        shop: String,
    },
    /// A shop that names one ShopSet twice.
    SameShopSetTwice {
        shop: String,
        shopset: String,
    },
    /// More than one shop with the same name: each name is one shop.
    DuplicateShop {
        shop: String,
        count: usize,
    },
    OverCapacity {
        shopset: String,
        shops: u32,
        capacity: u32,
    },
    /// A tier runs a newer revision than the tier below it (invariant 1).
    TierAhead {
        tier: String,
        below: String,
    },
}

impl Violation {
    /// Short kind name for grouping in views.
    pub fn kind(&self) -> &'static str {
        match self {
            Violation::DualSameDomain { .. } => "dual shop in one failure domain",
            Violation::WrongLegCount { .. } => "wrong number of ShopSets",
            Violation::ShopUnplaced { .. } => "shop without ShopSet",
            Violation::UnknownShopSet { .. } => "unknown ShopSet",
            Violation::MixedTiers { .. } => "shop across tiers",
            Violation::MixedConfigurations { .. } => "shop across configurations",
            Violation::SameShopSetTwice { .. } => "ShopSet named twice",
            Violation::DuplicateShop { .. } => "duplicate shop name",
            Violation::OverCapacity { .. } => "ShopSet over capacity",
            Violation::TierAhead { .. } => "tier ahead of the tier below",
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::DualSameDomain { shop, domain } => {
                write!(
                    f,
                    "dual shop '{shop}' has both ShopSets in failure domain '{domain}'"
                )
            }
            Violation::WrongLegCount {
                shop,
                redundancy,
                legs,
            } => {
                write!(
                    f,
                    "{} shop '{shop}' is on {legs} ShopSets",
                    redundancy.as_str()
                )
            }
            Violation::ShopUnplaced { shop } => write!(f, "shop '{shop}' has no ShopSet"),
            Violation::UnknownShopSet { shop, shopset } => {
                write!(f, "shop '{shop}' is placed on unknown ShopSet '{shopset}'")
            }
            Violation::MixedTiers { shop } => {
                write!(f, "shop '{shop}' spans ShopSets of different tiers")
            }
            Violation::MixedConfigurations { shop } => {
                write!(
                    f,
                    "shop '{shop}' spans ShopSets of different configurations"
                )
            }
            Violation::SameShopSetTwice { shop, shopset } => {
                write!(f, "shop '{shop}' names ShopSet '{shopset}' twice")
            }
            Violation::DuplicateShop { shop, count } => {
                write!(f, "{count} shops are named '{shop}'")
            }
            Violation::OverCapacity {
                shopset,
                shops,
                capacity,
            } => {
                write!(
                    f,
                    "ShopSet '{shopset}' holds {shops} shops, capacity {capacity}"
                )
            }
            Violation::TierAhead { tier, below } => {
                write!(
                    f,
                    "tier '{tier}' runs a newer revision than '{below}' below it"
                )
            }
        }
    }
}

impl Violation {
    /// The breach as a violation of `shop`'s placement.
    fn of_shop(shop: &Shop, breach: Breach) -> Violation {
        let name = shop.name.clone();
        match breach {
            Breach::NoShopSet => Violation::ShopUnplaced { shop: name },
            Breach::WrongCount { redundancy, legs } => Violation::WrongLegCount {
                shop: name,
                redundancy,
                legs,
            },
            Breach::SameShopSetTwice(shopset) => Violation::SameShopSetTwice {
                shop: name,
                shopset,
            },
            Breach::UnknownShopSet(shopset) => Violation::UnknownShopSet {
                shop: name,
                shopset,
            },
            Breach::MixedTiers => Violation::MixedTiers { shop: name },
            Breach::MixedConfigurations => Violation::MixedConfigurations { shop: name },
            Breach::SameFailureDomain { domain } => {
                Violation::DualSameDomain { shop: name, domain }
            }
            Breach::OverCapacity {
                shopset,
                shops,
                capacity,
            } => Violation::OverCapacity {
                shopset,
                shops,
                capacity,
            },
        }
    }
}

/// The rules one shop's placement must follow.
pub fn check_shop(fleet: &Fleet, shop: &Shop) -> Vec<Violation> {
    placement_breaches(fleet, shop.redundancy, &shop.shopsets)
        .into_iter()
        .map(|b| Violation::of_shop(shop, b))
        .collect()
}

/// Names used by more than one shop, each with how many shops use it, in name order.
pub fn duplicate_shops(shops: &[Shop]) -> Vec<Violation> {
    let mut seen: HashSet<&str> = HashSet::with_capacity(shops.len());
    if shops.iter().all(|s| seen.insert(s.name.as_str())) {
        return Vec::new();
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for s in shops {
        *counts.entry(s.name.as_str()).or_default() += 1;
    }
    counts
        .into_iter()
        .filter(|(_, count)| *count > 1)
        .map(|(name, count)| Violation::DuplicateShop {
            shop: name.to_string(),
            count,
        })
        .collect()
}

/// Rules over ShopSets and tiers: capacity and tier ordering.
pub fn check_topology(fleet: &Fleet) -> Vec<Violation> {
    let mut out = Vec::new();
    for ss in &fleet.shopsets {
        if let Some(Breach::OverCapacity {
            shopset,
            shops,
            capacity,
        }) = capacity_breach(ss, fleet.shop_count(&ss.name))
        {
            out.push(Violation::OverCapacity {
                shopset,
                shops,
                capacity,
            });
        }
    }
    for pair in fleet.tiers.windows(2) {
        let (below, tier) = (&pair[0], &pair[1]);
        if let (Some(rb), Some(rt)) = (&below.revision, &tier.revision)
            && rt.seq > rb.seq
        {
            out.push(Violation::TierAhead {
                tier: tier.name.clone(),
                below: below.name.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::domain::{
        Cluster, ComponentHealth, Components, FleetUpdate, Reachability, Revision, Shop, ShopSet,
        Tier,
    };

    fn cluster(name: &str, fd: &str) -> Cluster {
        Cluster {
            name: name.into(),
            provider: "on-prem".into(),
            failure_domain: fd.into(),
            server_version: None,
            reachability: Reachability::Reachable,
            reachability_since: None,
            nodes_ready: 3,
            nodes_total: 3,
            cordoned: false,
            drain: None,
        }
    }

    fn shopset(name: &str, tier: &str, cluster: &str, capacity: u32) -> ShopSet {
        ShopSet {
            name: name.into(),
            tier: tier.into(),
            configuration: "production".into(),
            cluster: cluster.into(),
            capacity,
            components: Components::all(ComponentHealth::Up),
        }
    }

    fn tier(name: &str, level: u8, seq: u32) -> Tier {
        Tier {
            name: name.into(),
            level,
            branch: format!("tier-{level}"),
            revision: Some(Revision {
                id: format!("{seq:040}"),
                tag: None,
                subject: String::new(),
                seq,
            }),
            updated_at: None,
            head: None,
            previous: None,
            soak_secs: 60,
        }
    }

    fn shop(name: &str, redundancy: Redundancy, sets: &[&str]) -> Shop {
        Shop {
            name: name.into(),
            redundancy,
            shopsets: sets.iter().map(|s| s.to_string()).collect(),
            previous: None,
        }
    }

    fn fleet(shops: Vec<Shop>, tiers: Vec<Tier>) -> Fleet {
        let mut f = Fleet::new("test");
        f.apply(FleetUpdate::Clusters(vec![
            cluster("A", "fd-1"),
            cluster("B", "fd-2"),
            cluster("C", "fd-1"),
        ]));
        f.apply(FleetUpdate::ShopSets(vec![
            shopset("A-1", "prod", "A", 2),
            shopset("B-1", "prod", "B", 2),
            shopset("C-1", "prod", "C", 2),
            shopset("B-2", "dev", "B", 2),
        ]));
        f.apply(FleetUpdate::Tiers(tiers));
        f.apply(FleetUpdate::Shops(Arc::new(shops)));
        f.refresh();
        f
    }

    #[test]
    fn natural_order() {
        use crate::domain::natural_cmp;
        let mut v = vec!["C-10", "C-2", "B-1", "C-1"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["B-1", "C-1", "C-2", "C-10"]);
    }

    #[test]
    fn a_clean_fleet_has_no_violations() {
        let f = fleet(
            vec![
                shop("s1", Redundancy::Dual, &["A-1", "B-1"]),
                shop("s2", Redundancy::Single, &["C-1"]),
            ],
            vec![tier("dev", 0, 5), tier("prod", 1, 4)],
        );
        assert_eq!(f.violations(), &[]);
        assert_eq!(f.shop_count("A-1"), 1);
    }

    #[test]
    fn dual_shop_in_one_failure_domain() {
        let f = fleet(vec![shop("s1", Redundancy::Dual, &["A-1", "C-1"])], vec![]);
        assert_eq!(
            f.violations(),
            &[Violation::DualSameDomain {
                shop: "s1".into(),
                domain: "fd-1".into()
            }]
        );
    }

    #[test]
    fn over_capacity_unplaced_and_unknown() {
        let f = fleet(
            vec![
                shop("s1", Redundancy::Single, &["A-1"]),
                shop("s2", Redundancy::Single, &["A-1"]),
                shop("s3", Redundancy::Single, &["A-1"]),
                shop("s4", Redundancy::Single, &[]),
                shop("s5", Redundancy::Single, &["Z-9"]),
            ],
            vec![],
        );
        let v = f.violations();
        assert!(v.contains(&Violation::OverCapacity {
            shopset: "A-1".into(),
            shops: 3,
            capacity: 2
        }));
        assert!(v.contains(&Violation::ShopUnplaced { shop: "s4".into() }));
        assert!(v.contains(&Violation::UnknownShopSet {
            shop: "s5".into(),
            shopset: "Z-9".into()
        }));
    }

    #[test]
    fn wrong_leg_count_and_mixed_tiers() {
        let f = fleet(
            vec![
                shop("s1", Redundancy::Dual, &["A-1"]),
                shop("s2", Redundancy::Dual, &["A-1", "B-2"]),
            ],
            vec![],
        );
        let v = f.violations();
        assert!(v.contains(&Violation::WrongLegCount {
            shop: "s1".into(),
            redundancy: Redundancy::Dual,
            legs: 1
        }));
        assert!(v.contains(&Violation::MixedTiers { shop: "s2".into() }));
    }

    #[test]
    fn a_single_shop_update_is_applied_incrementally_and_matches_a_full_check() {
        let mut f = fleet(
            vec![
                shop("s1", Redundancy::Dual, &["A-1", "B-1"]),
                shop("s2", Redundancy::Single, &["C-1"]),
            ],
            vec![],
        );
        f.apply(FleetUpdate::ShopUpserted(shop(
            "s1",
            Redundancy::Dual,
            &["A-1", "C-1"],
        )));
        f.refresh();
        assert_eq!(f.shop_count("B-1"), 0);
        assert_eq!(f.shop_count("C-1"), 2);
        assert_eq!(
            f.violations(),
            &[Violation::DualSameDomain {
                shop: "s1".into(),
                domain: "fd-1".into()
            }]
        );
        let mut full = Fleet::new("full");
        for u in f.as_updates() {
            full.apply(u);
        }
        full.refresh();
        assert_eq!(full.violations(), f.violations());
        f.apply(FleetUpdate::ShopUpserted(shop(
            "s1",
            Redundancy::Dual,
            &["A-1", "B-1"],
        )));
        f.apply(FleetUpdate::ShopUpserted(shop(
            "s3",
            Redundancy::Single,
            &["A-1"],
        )));
        f.refresh();
        assert!(f.violations().is_empty(), "{:?}", f.violations());
        assert_eq!(f.shop_count("A-1"), 2);
        assert_eq!(f.shops.len(), 3);
    }

    #[test]
    fn a_shop_across_configurations_or_named_twice() {
        let mut f = fleet(
            vec![
                shop("s1", Redundancy::Dual, &["A-1", "B-1"]),
                shop("s2", Redundancy::Dual, &["C-1", "C-1"]),
            ],
            vec![],
        );
        let mut sets = f.shopsets.clone();
        sets[1].configuration = "staging".into();
        f.apply(FleetUpdate::ShopSets(sets));
        f.refresh();
        let v = f.violations();
        assert!(
            v.contains(&Violation::MixedConfigurations { shop: "s1".into() }),
            "{v:?}"
        );
        assert!(
            v.contains(&Violation::SameShopSetTwice {
                shop: "s2".into(),
                shopset: "C-1".into()
            }),
            "{v:?}"
        );
        assert_eq!(v.len(), 2, "{v:?}");
        assert_eq!(
            v[0].to_string(),
            "shop 's1' spans ShopSets of different configurations"
        );
    }

    #[test]
    fn duplicate_shop_names_are_a_violation() {
        let mut f = fleet(
            vec![
                shop("s1", Redundancy::Single, &["A-1"]),
                shop("s2", Redundancy::Single, &["B-1"]),
                shop("s1", Redundancy::Single, &["C-1"]),
                shop("s3", Redundancy::Single, &["B-1"]),
                shop("s1", Redundancy::Single, &["C-1"]),
            ],
            vec![],
        );
        assert_eq!(
            f.violations(),
            &[Violation::DuplicateShop {
                shop: "s1".into(),
                count: 3
            }]
        );
        assert_eq!(f.violations()[0].to_string(), "3 shops are named 's1'");
        // A single shop's update neither hides nor invents duplicates.
        f.apply(FleetUpdate::ShopUpserted(shop(
            "s3",
            Redundancy::Single,
            &["A-1"],
        )));
        f.refresh();
        assert_eq!(f.violations().len(), 1, "{:?}", f.violations());
        let unique = fleet(vec![shop("s1", Redundancy::Single, &["A-1"])], vec![]);
        assert!(unique.violations().is_empty());
    }

    #[test]
    fn the_invariants_and_a_move_apply_the_same_rules() {
        use crate::domain::placement::{Broken, check_move};
        let f = fleet(vec![], vec![]);
        let cases: [(Redundancy, &[&str]); 5] = [
            (Redundancy::Dual, &["A-1", "C-1"]),
            (Redundancy::Dual, &["A-1"]),
            (Redundancy::Dual, &["A-1", "B-2"]),
            (Redundancy::Single, &["Z-9"]),
            (Redundancy::Single, &["A-1", "A-1"]),
        ];
        for (redundancy, sets) in cases {
            let placed = shop("s", redundancy, sets);
            let kinds: Vec<&str> = check_shop(&f, &placed).iter().map(|v| v.kind()).collect();
            let unplaced = shop("s", redundancy, &[]);
            let targets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
            let broken: Vec<Broken> = check_move(&f, &unplaced, &targets);
            assert_eq!(
                kinds.len(),
                broken.len(),
                "{sets:?}: {kinds:?} vs {broken:?}"
            );
            assert!(!broken.is_empty(), "{sets:?}");
        }
    }

    #[test]
    fn tier_ahead_of_the_tier_below() {
        let f = fleet(vec![], vec![tier("prod", 1, 7), tier("dev", 0, 6)]);
        assert_eq!(
            f.violations(),
            &[Violation::TierAhead {
                tier: "prod".into(),
                below: "dev".into()
            }]
        );
        let ok = fleet(vec![], vec![tier("prod", 1, 6), tier("dev", 0, 6)]);
        assert!(ok.violations().is_empty());
    }
}
