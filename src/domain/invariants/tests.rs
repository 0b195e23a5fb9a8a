//! The conventions' rules over small hand-made fleets.

use std::sync::Arc;

use super::*;
use crate::domain::fleet::Fleet;
use crate::domain::{
    Cluster, ComponentHealth, Components, FleetUpdate, Reachability, Revision, Shop, ShopSet, Tier,
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
        approval: crate::domain::Approval::None,
        auto_rollback: false,
    }
}

fn shop(name: &str, redundancy: Redundancy, sets: &[&str]) -> Shop {
    Shop {
        name: name.into(),
        redundancy,
        shopsets: sets.iter().map(|s| s.to_string()).collect(),
        previous: None,
        version: None,
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
