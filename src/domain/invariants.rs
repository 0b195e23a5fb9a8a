//! The platform's conventions, checked over a snapshot. Violations are data the console shows.

use std::fmt;

use super::fleet::Fleet;
use super::model::{Redundancy, Shop};

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

/// The rules one shop's placement must follow.
pub fn check_shop(fleet: &Fleet, shop: &Shop) -> Vec<Violation> {
    let mut out = Vec::new();
    if shop.shopsets.is_empty() {
        out.push(Violation::ShopUnplaced {
            shop: shop.name.clone(),
        });
        return out;
    }
    let want = match shop.redundancy {
        Redundancy::Single => 1,
        Redundancy::Dual => 2,
    };
    if shop.shopsets.len() != want {
        out.push(Violation::WrongLegCount {
            shop: shop.name.clone(),
            redundancy: shop.redundancy,
            legs: shop.shopsets.len(),
        });
    }
    // (tier, failure domain) of the legs seen so far; shops have one or two legs.
    let mut seen: Vec<(&str, Option<&str>)> = Vec::new();
    let mut mixed = false;
    let mut shared_domain = None;
    for name in &shop.shopsets {
        let Some(ss) = fleet.shopset(name) else {
            out.push(Violation::UnknownShopSet {
                shop: shop.name.clone(),
                shopset: name.clone(),
            });
            continue;
        };
        let fd = fleet.failure_domain_of(name);
        for (tier, other_fd) in &seen {
            mixed |= *tier != ss.tier;
            if fd.is_some() && *other_fd == fd {
                shared_domain = fd.map(str::to_string);
            }
        }
        seen.push((ss.tier.as_str(), fd));
    }
    if mixed {
        out.push(Violation::MixedTiers {
            shop: shop.name.clone(),
        });
    }
    if let (Redundancy::Dual, Some(domain)) = (shop.redundancy, shared_domain) {
        out.push(Violation::DualSameDomain {
            shop: shop.name.clone(),
            domain,
        });
    }
    out
}

/// Rules over ShopSets and tiers: capacity and tier ordering.
pub fn check_topology(fleet: &Fleet) -> Vec<Violation> {
    let mut out = Vec::new();
    for ss in &fleet.shopsets {
        let shops = fleet.shop_count(&ss.name);
        if shops > ss.capacity {
            out.push(Violation::OverCapacity {
                shopset: ss.name.clone(),
                shops,
                capacity: ss.capacity,
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
