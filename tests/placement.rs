//! Placement rules and the drain planner over random fleets (proptest).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use proptest::prelude::*;
use shopctl::domain::invariants::Breach;
use shopctl::domain::placement::{Broken, check_move, check_move_with, plan_drain, plan_restore};
use shopctl::domain::*;

/// A random fleet whose placement obeys every rule.
fn random_fleet(
    seed: u64,
    clusters: usize,
    domains: usize,
    tiers: usize,
    shopsets: usize,
    shops: usize,
) -> Fleet {
    let mut rng = fastrand::Rng::with_seed(seed);
    let clusters: Vec<Cluster> = (0..clusters)
        .map(|i| Cluster {
            name: format!("c{i}"),
            provider: "on-prem".into(),
            failure_domain: format!("fd{}", i % domains.max(1)),
            server_version: None,
            reachability: if rng.u8(0..10) == 0 {
                Reachability::Unreachable
            } else {
                Reachability::Reachable
            },
            reachability_since: None,
            nodes_ready: 1,
            nodes_total: 1,
            cordoned: rng.u8(0..8) == 0,
            drain: None,
        })
        .collect();
    let sets: Vec<ShopSet> = (0..shopsets)
        .map(|i| ShopSet {
            name: format!("s{i}"),
            tier: format!("t{}", rng.usize(0..tiers.max(1))),
            configuration: if rng.u8(0..3) == 0 {
                "staging"
            } else {
                "production"
            }
            .into(),
            cluster: clusters[rng.usize(0..clusters.len())].name.clone(),
            capacity: rng.u32(1..25),
            components: Components::all(ComponentHealth::Up),
        })
        .collect();
    let fd = |s: &ShopSet| {
        clusters
            .iter()
            .find(|c| c.name == s.cluster)
            .map(|c| c.failure_domain.clone())
            .unwrap_or_default()
    };
    let mut load = vec![0u32; sets.len()];
    let mut placed = Vec::new();
    for i in 0..shops {
        let dual = rng.bool();
        let a = rng.usize(0..sets.len());
        if load[a] >= sets[a].capacity {
            continue;
        }
        let mut legs = vec![a];
        if dual {
            let b = (0..sets.len()).find(|&b| {
                b != a
                    && sets[b].tier == sets[a].tier
                    && sets[b].configuration == sets[a].configuration
                    && fd(&sets[b]) != fd(&sets[a])
                    && load[b] < sets[b].capacity
            });
            match b {
                Some(b) => legs.push(b),
                None => continue,
            }
        }
        for &l in &legs {
            load[l] += 1;
        }
        placed.push(Shop {
            name: format!("shop{i}"),
            redundancy: if dual {
                Redundancy::Dual
            } else {
                Redundancy::Single
            },
            shopsets: legs.iter().map(|&l| sets[l].name.clone()).collect(),
            previous: None,
            version: None,
        });
    }
    let mut f = Fleet::new("prop");
    f.apply(FleetUpdate::Clusters(clusters));
    f.apply(FleetUpdate::ShopSets(sets));
    f.apply(FleetUpdate::Shops(Arc::new(placed)));
    f.refresh();
    f
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_drain_plan_obeys_every_rule(
        seed in any::<u64>(),
        clusters in 2usize..7,
        domains in 1usize..5,
        tiers in 1usize..4,
        shopsets in 2usize..14,
        shops in 0usize..120,
        accept_all in any::<bool>(),
    ) {
        let fleet = random_fleet(seed, clusters, domains, tiers, shopsets, shops);
        prop_assert!(fleet.violations().is_empty(), "generator: {:?}", fleet.violations());
        let cluster = fleet.clusters[(seed % clusters as u64) as usize].name.clone();
        let accept: HashSet<String> = if accept_all { fleet.shops.iter().map(|s| s.name.clone()).collect() } else { HashSet::new() };
        let plan = plan_drain(&fleet, &cluster, &accept);

        let on_cluster: HashSet<&str> = fleet.shopsets_of_cluster(&cluster).map(|s| s.name.as_str()).collect();
        let affected: HashSet<&str> = fleet.shops.iter().filter(|s| s.shopsets.iter().any(|x| on_cluster.contains(x.as_str()))).map(|s| s.name.as_str()).collect();
        // Every affected shop is moved or listed as a blocker, exactly once.
        let moved: Vec<&str> = plan.moves.iter().map(|m| m.shop.as_str()).collect();
        let blocked: Vec<&str> = plan.blockers.iter().map(|b| b.shop.as_str()).collect();
        let all: HashSet<&str> = moved.iter().chain(&blocked).copied().collect();
        prop_assert_eq!(all.len(), moved.len() + blocked.len(), "a shop planned twice");
        prop_assert_eq!(&all, &affected);

        // Apply the plan and check the rules on the result.
        let mut placement: HashMap<String, Vec<String>> = fleet.shops.iter().map(|s| (s.name.clone(), s.shopsets.clone())).collect();
        for m in &plan.moves {
            prop_assert!(!m.to.is_empty(), "{} would have no ShopSet", m.shop);
            placement.insert(m.shop.clone(), m.to.clone());
        }
        let mut load: HashMap<&str, u32> = HashMap::new();
        for sets in placement.values() {
            for s in sets {
                *load.entry(s.as_str()).or_default() += 1;
            }
        }
        for ss in &fleet.shopsets {
            prop_assert!(load.get(ss.name.as_str()).copied().unwrap_or(0) <= ss.capacity, "{} over capacity", ss.name);
        }
        for m in &plan.moves {
            let shop = fleet.shops.iter().find(|s| s.name == m.shop).expect("shop");
            let tier = fleet.shopset(&shop.shopsets[0]).map(|s| s.tier.clone());
            let configuration = fleet.shopset(&shop.shopsets[0]).map(|s| s.configuration.clone());
            for t in &m.to {
                let ss = fleet.shopset(t).expect("target exists");
                prop_assert_eq!(Some(ss.tier.clone()), tier.clone(), "same tier");
                prop_assert_eq!(Some(ss.configuration.clone()), configuration.clone(), "same configuration");
                prop_assert!(!on_cluster.contains(t.as_str()), "nothing stays on the drained cluster");
                if !shop.shopsets.contains(t) {
                    let c = fleet.cluster(&ss.cluster).expect("cluster");
                    prop_assert!(!c.cordoned && c.is_reachable(), "{} goes to cordoned or unreachable {}", m.shop, c.name);
                }
            }
            if shop.redundancy == Redundancy::Dual && !plan.degraded.contains(&m.shop) {
                prop_assert_eq!(m.to.len(), 2);
                prop_assert_ne!(fleet.failure_domain_of(&m.to[0]), fleet.failure_domain_of(&m.to[1]));
            }
            if plan.degraded.contains(&m.shop) {
                prop_assert!(accept.contains(&m.shop), "degraded only when accepted");
            }
        }
        if !accept_all {
            prop_assert!(plan.degraded.is_empty());
        }
    }

    #[test]
    fn check_move_agrees_with_the_invariants(seed in any::<u64>(), shops in 1usize..60) {
        let fleet = random_fleet(seed, 4, 3, 2, 8, shops);
        for shop in fleet.shops.iter().take(10) {
            // Staying where it is always passes.
            prop_assert!(check_move(&fleet, shop, &shop.shopsets).is_empty(), "{:?}", check_move(&fleet, shop, &shop.shopsets));
        }
    }
}

#[test]
fn blockers_when_dual_shops_cannot_keep_two_failure_domains() {
    // Two clusters in two domains, prod on both: draining one leaves nowhere for the second leg.
    let mut f = Fleet::new("t");
    let c = |n: &str| Cluster {
        name: n.into(),
        provider: "on-prem".into(),
        failure_domain: n.into(),
        server_version: None,
        reachability: Reachability::Reachable,
        reachability_since: None,
        nodes_ready: 1,
        nodes_total: 1,
        cordoned: false,
        drain: None,
    };
    let ss = |n: &str, cl: &str| ShopSet {
        name: n.into(),
        tier: "prod".into(),
        configuration: "production".into(),
        cluster: cl.into(),
        capacity: 10,
        components: Components::all(ComponentHealth::Up),
    };
    f.apply(FleetUpdate::Clusters(vec![c("a"), c("b")]));
    f.apply(FleetUpdate::ShopSets(vec![
        ss("a-1", "a"),
        ss("a-2", "a"),
        ss("b-1", "b"),
    ]));
    let shop = |n: &str, r: Redundancy, s: &[&str]| Shop {
        name: n.into(),
        redundancy: r,
        shopsets: s.iter().map(|x| x.to_string()).collect(),
        previous: None,
        version: None,
    };
    f.apply(FleetUpdate::Shops(Arc::new(vec![
        shop("dual-1", Redundancy::Dual, &["a-1", "b-1"]),
        shop("dual-2", Redundancy::Dual, &["a-2", "b-1"]),
        shop("single-1", Redundancy::Single, &["b-1"]),
    ])));
    f.refresh();
    let plan = plan_drain(&f, "b", &HashSet::new());
    assert_eq!(plan.moves.len(), 1, "{plan:?}");
    assert_eq!(plan.moves[0].shop, "single-1");
    assert_eq!(plan.blockers.len(), 2);
    assert!(
        plan.blockers
            .iter()
            .all(|b| b.reason.contains("failure domain")),
        "{:?}",
        plan.blockers
    );
    // Accepting degraded redundancy for one named shop only.
    let plan = plan_drain(&f, "b", &HashSet::from(["dual-1".to_string()]));
    assert_eq!(plan.degraded, ["dual-1"]);
    assert_eq!(plan.blockers.len(), 1);
    assert_eq!(
        plan.moves
            .iter()
            .find(|m| m.shop == "dual-1")
            .map(|m| m.to.clone()),
        Some(vec!["a-1".to_string()])
    );
    // A target that would break the rules is named.
    let d1 = f.shops[0].clone();
    let broken = check_move(&f, &d1, &["a-1".into(), "a-2".into()]);
    assert!(
        broken
            .iter()
            .any(|b| b.to_string().contains("failure domain 'a'")),
        "{broken:?}"
    );
}

#[test]
fn restore_returns_shops_to_their_recorded_placement() {
    let mut f = random_fleet(7, 4, 4, 1, 8, 60);
    let cluster = f.shopsets[0].cluster.clone();
    let plan = plan_drain(&f, &cluster, &HashSet::new());
    let before: HashMap<String, Vec<String>> = f
        .shops
        .iter()
        .map(|s| (s.name.clone(), s.shopsets.clone()))
        .collect();
    let mut shops = (*f.shops).clone();
    for m in &plan.moves {
        let s = shops.iter_mut().find(|s| s.name == m.shop).expect("shop");
        s.previous = Some(PreviousPlacement {
            shopsets: s.shopsets.clone(),
            drain: "d1".into(),
        });
        s.shopsets = m.to.clone();
    }
    f.apply(FleetUpdate::Shops(Arc::new(shops)));
    f.refresh();
    let back = plan_restore(&f, &cluster, "d1");
    assert!(back.blockers.is_empty(), "{:?}", back.blockers);
    assert_eq!(back.moves.len(), plan.moves.len());
    for m in &back.moves {
        assert_eq!(&m.to, &before[&m.shop]);
    }
}

/// prod-ha and dev ShopSets on clusters A and C (two failure domains); dev is staging.
fn tiers_and_configurations_fleet() -> Fleet {
    let mut f = Fleet::new("t");
    let c = |n: &str| Cluster {
        name: n.into(),
        provider: "on-prem".into(),
        failure_domain: n.into(),
        server_version: None,
        reachability: Reachability::Reachable,
        reachability_since: None,
        nodes_ready: 1,
        nodes_total: 1,
        cordoned: false,
        drain: None,
    };
    let ss = |n: &str, tier: &str, configuration: &str, cl: &str| ShopSet {
        name: n.into(),
        tier: tier.into(),
        configuration: configuration.into(),
        cluster: cl.into(),
        capacity: 10,
        components: Components::all(ComponentHealth::Up),
    };
    f.apply(FleetUpdate::Clusters(vec![c("a"), c("c")]));
    f.apply(FleetUpdate::ShopSets(vec![
        ss("a-1", "prod-ha", "production", "a"),
        ss("c-1", "prod-ha", "production", "c"),
        ss("a-3", "prod-ha", "staging", "a"),
        ss("c-3", "prod", "production", "c"),
        ss("a-4", "dev", "staging", "a"),
        ss("c-2", "dev", "staging", "c"),
    ]));
    f.apply(FleetUpdate::Shops(Arc::new(vec![Shop {
        name: "maple-bakery".into(),
        redundancy: Redundancy::Dual,
        shopsets: vec!["a-1".into(), "c-1".into()],
        previous: None,
        version: None,
    }])));
    f.refresh();
    f
}

#[test]
fn a_reassignment_stays_in_the_shops_tier_and_configuration() {
    let f = tiers_and_configurations_fleet();
    let shop = f.shops[0].clone();
    let to = |sets: &[&str]| -> Vec<String> { sets.iter().map(|s| s.to_string()).collect() };

    // The reproduction: a prod-ha shop onto dev ShopSets of the staging configuration.
    let broken = check_move(&f, &shop, &to(&["a-4", "c-2"]));
    for target in ["a-4", "c-2"] {
        assert!(
            broken
                .iter()
                .any(|b| matches!(b, Broken::OtherTier { shopset, tier, current }
                if shopset == target && tier == "dev" && current == "prod-ha")),
            "{broken:?}"
        );
        assert!(
            broken.iter().any(
                |b| matches!(b, Broken::OtherConfiguration { shopset, configuration, current }
                if shopset == target && configuration == "staging" && current == "production")
            ),
            "{broken:?}"
        );
    }
    assert!(
        broken.iter().any(|b| b.to_string()
            == "'a-4' is in tier 'dev', the shop in 'prod-ha' (a tier change must be asked for)"),
        "{broken:?}"
    );

    // One leg to another tier: the tier rule, and the legs' tiers differ.
    let broken = check_move(&f, &shop, &to(&["a-1", "c-3"]));
    assert!(
        broken.contains(&Broken::Rule(Breach::MixedTiers)),
        "{broken:?}"
    );
    assert!(
        broken.iter().any(|b| matches!(b, Broken::OtherTier { .. })),
        "{broken:?}"
    );
    // An explicit tier change lifts the tier rule, never the configuration rule.
    assert!(
        check_move_with(&f, &shop, &to(&["a-4", "c-2"]), true)
            .iter()
            .all(|b| !matches!(b, Broken::OtherTier { .. })),
    );
    assert!(
        check_move_with(&f, &shop, &to(&["a-4", "c-2"]), true)
            .iter()
            .any(|b| matches!(b, Broken::OtherConfiguration { .. })),
    );
    // Same tier, other configuration: refused, and the legs' configurations differ.
    let broken = check_move_with(&f, &shop, &to(&["a-3", "c-1"]), true);
    assert!(
        broken.contains(&Broken::Rule(Breach::MixedConfigurations)),
        "{broken:?}"
    );
    assert!(
        broken
            .iter()
            .any(|b| matches!(b, Broken::OtherConfiguration { shopset, .. } if shopset == "a-3")),
        "{broken:?}"
    );
    // Within the tier and configuration, nothing is broken.
    assert_eq!(check_move(&f, &shop, &to(&["c-1", "a-1"])), []);
}

#[test]
fn the_invariants_report_a_shop_across_configurations() {
    let mut f = tiers_and_configurations_fleet();
    f.apply(FleetUpdate::ShopUpserted(Shop {
        name: "maple-bakery".into(),
        redundancy: Redundancy::Dual,
        shopsets: vec!["a-3".into(), "c-1".into()],
        previous: None,
        version: None,
    }));
    f.refresh();
    assert_eq!(
        f.violations(),
        &[Violation::MixedConfigurations {
            shop: "maple-bakery".into()
        }]
    );
}
