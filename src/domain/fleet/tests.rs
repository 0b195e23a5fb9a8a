//! Updates per object and per source part, removals included.

use super::*;
use crate::domain::model::{ComponentHealth, Components, Reachability, Redundancy};

fn spec(name: &str, cordoned: bool) -> ClusterSpec {
    ClusterSpec {
        name: name.into(),
        provider: "eks".into(),
        failure_domain: name.into(),
        cordoned,
        drain: None,
    }
}

fn shopset(name: &str, cluster: &str) -> ShopSet {
    ShopSet {
        name: name.into(),
        tier: "prod".into(),
        configuration: "production".into(),
        cluster: cluster.into(),
        capacity: 10,
        components: Components::all(ComponentHealth::Up),
    }
}

fn shop(name: &str, on: &str) -> Shop {
    Shop {
        name: name.into(),
        redundancy: Redundancy::Single,
        shopsets: vec![on.into()],
        previous: None,
        version: None,
    }
}

#[test]
fn each_source_updates_its_own_part_of_a_cluster() {
    let mut f = Fleet::new("t");
    // The cluster's own context answered before the control plane listed it.
    f.apply(FleetUpdate::ClusterStatus(ClusterStatus {
        name: "a".into(),
        reachability: Reachability::Reachable,
        reachability_since: None,
        server_version: Some("v1.31.2".into()),
        nodes_ready: 3,
        nodes_total: 3,
    }));
    assert!(f.cluster("a").is_none());
    f.apply(FleetUpdate::ClusterSpec(spec("a", false)));
    let c = f.cluster("a").expect("added");
    assert_eq!((c.nodes_ready, c.is_reachable()), (3, true));
    // A spec change keeps the status; a status change keeps the spec.
    f.apply(FleetUpdate::ClusterSpec(spec("a", true)));
    f.apply(FleetUpdate::ClusterStatus(ClusterStatus {
        name: "a".into(),
        reachability: Reachability::Unreachable,
        reachability_since: None,
        server_version: None,
        nodes_ready: 0,
        nodes_total: 3,
    }));
    let c = f.cluster("a").expect("still there");
    assert!(c.cordoned && !c.is_reachable());
    f.apply(FleetUpdate::ClusterSpec(spec("b", false)));
    f.apply(FleetUpdate::ClusterRemoved("a".into()));
    assert!(f.cluster("a").is_none());
    assert!(f.cluster("b").is_some(), "the index follows the removal");
}

#[test]
fn removals_of_shopsets_and_shops_keep_counts_and_indexes_true() {
    let mut f = Fleet::new("t");
    f.apply(FleetUpdate::TierSpec(TierSpec {
        name: "prod".into(),
        level: 3,
        branch: "tier-3".into(),
        soak_secs: 90,
        approval: crate::domain::Approval::None,
        auto_rollback: false,
    }));
    f.apply(FleetUpdate::ClusterSpec(spec("a", false)));
    f.apply(FleetUpdate::ShopSetUpserted(shopset("a-1", "a")));
    f.apply(FleetUpdate::ShopSetUpserted(shopset("a-2", "a")));
    for (n, on) in [("x", "a-1"), ("y", "a-1"), ("z", "a-2")] {
        f.apply(FleetUpdate::ShopUpserted(shop(n, on)));
    }
    f.refresh();
    assert_eq!((f.shop_count("a-1"), f.shop_count("a-2")), (2, 1));
    f.apply(FleetUpdate::ShopRemoved("x".into()));
    f.refresh();
    assert_eq!(f.shop_count("a-1"), 1);
    assert_eq!(f.shops.len(), 2);
    // The shop moved into the removed one's slot is still found by name.
    f.apply(FleetUpdate::ShopUpserted(shop("z", "a-1")));
    f.refresh();
    assert_eq!((f.shops.len(), f.shop_count("a-1")), (2, 2));
    f.apply(FleetUpdate::ShopSetRemoved("a-2".into()));
    f.refresh();
    assert!(f.shopset("a-2").is_none());
    assert_eq!(f.shopsets_of_cluster("a").count(), 1);
    f.apply(FleetUpdate::TierRemoved("prod".into()));
    assert!(f.tier("prod").is_none());
}

#[test]
fn a_tier_spec_keeps_what_its_branch_pins() {
    let mut f = Fleet::new("t");
    f.apply(FleetUpdate::TierSpec(TierSpec {
        name: "dev".into(),
        level: 0,
        branch: "tier-0".into(),
        soak_secs: 30,
        approval: crate::domain::Approval::None,
        auto_rollback: false,
    }));
    f.apply(FleetUpdate::TierBranch(TierBranch {
        name: "dev".into(),
        revision: None,
        updated_at: Some(Ts::from_secs(5)),
        head: Some("abc".into()),
        previous: None,
        pins: Vec::new(),
    }));
    f.apply(FleetUpdate::TierSpec(TierSpec {
        name: "dev".into(),
        level: 0,
        branch: "tier-0".into(),
        soak_secs: 60,
        approval: crate::domain::Approval::None,
        auto_rollback: false,
    }));
    let t = f.tier("dev").expect("tier");
    assert_eq!((t.soak_secs, t.head.as_deref()), (60, Some("abc")));
}

#[test]
fn an_unreadable_lock_is_kept_as_a_problem_until_the_lock_reads_again() {
    let mut f = Fleet::new("t");
    f.apply(FleetUpdate::LockUnreadable("damaged".into()));
    assert_eq!(f.lock_problem.as_deref(), Some("damaged"));
    f.apply(FleetUpdate::Lock(None));
    assert!(f.lock_problem.is_none());
}

#[test]
fn a_branch_read_before_its_tier_is_kept_for_it() {
    let mut f = Fleet::new("t");
    f.apply(FleetUpdate::TierBranch(TierBranch {
        name: "dev".into(),
        revision: None,
        updated_at: None,
        head: Some("abc".into()),
        previous: None,
        pins: Vec::new(),
    }));
    assert!(f.tier("dev").is_none());
    f.apply(FleetUpdate::TierSpec(TierSpec {
        name: "dev".into(),
        level: 0,
        branch: "tier-0".into(),
        soak_secs: 30,
        approval: crate::domain::Approval::None,
        auto_rollback: false,
    }));
    assert_eq!(f.tier("dev").and_then(|t| t.head.as_deref()), Some("abc"));
}
