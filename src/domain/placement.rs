//! Where shops may go: the placement rules, the drain planner and the restore plan. Pure.

use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::Serialize;

use super::fleet::Fleet;
use super::invariants::{Breach, capacity_breach, placement_breaches, tiers_and_configurations};
use super::model::{Redundancy, Shop};

/// One rule a placement would break: a convention every placement follows (shared with the
/// invariants), or a rule of moving shops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broken {
    /// A convention of placement (count of ShopSets, one tier and configuration, failure
    /// domains, capacity).
    Rule(Breach),
    Cordoned {
        shopset: String,
        cluster: String,
    },
    Unreachable {
        shopset: String,
        cluster: String,
    },
    /// A target of another tier than the shop's, without a tier change asked for.
    OtherTier {
        shopset: String,
        tier: String,
        current: String,
    },
    /// A target of another configuration than the shop's: never allowed.
    OtherConfiguration {
        shopset: String,
        configuration: String,
        current: String,
    },
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Broken::Rule(b) => b.fmt(f),
            Broken::Cordoned { shopset, cluster } => {
                write!(f, "'{shopset}' is on cordoned cluster '{cluster}'")
            }
            Broken::Unreachable { shopset, cluster } => {
                write!(f, "'{shopset}' is on unreachable cluster '{cluster}'")
            }
            Broken::OtherTier {
                shopset,
                tier,
                current,
            } => write!(
                f,
                "'{shopset}' is in tier '{tier}', the shop in '{current}' (a tier change must be asked for)"
            ),
            Broken::OtherConfiguration {
                shopset,
                configuration,
                current,
            } => write!(
                f,
                "'{shopset}' connects to '{configuration}', the shop to '{current}'"
            ),
        }
    }
}

impl Broken {
    /// A breach of the placement rules by a shop of `redundancy`, as a rule a move would break.
    fn of(redundancy: Redundancy, b: Breach) -> Broken {
        match b {
            // A move always names its targets: none is the wrong count.
            Breach::NoShopSet => Broken::Rule(Breach::WrongCount {
                redundancy,
                legs: 0,
            }),
            b => Broken::Rule(b),
        }
    }
}

/// Every rule that placing `shop` on `targets` would break (empty: allowed); the shop stays in
/// its tier. See [`check_move_with`].
pub fn check_move(fleet: &Fleet, shop: &Shop, targets: &[String]) -> Vec<Broken> {
    check_move_with(fleet, shop, targets, false)
}

/// Every rule that placing `shop` on `targets` would break (empty: allowed): the placement rules
/// every shop follows, and those of moving it: new ShopSets on schedulable, reachable clusters
/// with room (the shop's current legs count as already there), of the shop's configuration, and
/// of its tier unless `allow_tier_change`.
pub fn check_move_with(
    fleet: &Fleet,
    shop: &Shop,
    targets: &[String],
    allow_tier_change: bool,
) -> Vec<Broken> {
    let mut out: Vec<Broken> = placement_breaches(fleet, shop.redundancy, targets)
        .into_iter()
        .map(|b| Broken::of(shop.redundancy, b))
        .collect();
    let (tiers, configurations) = tiers_and_configurations(fleet, &shop.shopsets);
    let joined = |set: &HashSet<&str>| {
        let mut v: Vec<&str> = set.iter().copied().collect();
        v.sort_unstable();
        v.join("', '")
    };
    let mut seen = HashSet::new();
    for t in targets {
        if !seen.insert(t.as_str()) {
            continue;
        }
        let Some(ss) = fleet.shopset(t) else {
            continue;
        };
        if !configurations.is_empty() && !configurations.contains(ss.configuration.as_str()) {
            out.push(Broken::OtherConfiguration {
                shopset: t.clone(),
                configuration: ss.configuration.clone(),
                current: joined(&configurations),
            });
        }
        if !allow_tier_change && !tiers.is_empty() && !tiers.contains(ss.tier.as_str()) {
            out.push(Broken::OtherTier {
                shopset: t.clone(),
                tier: ss.tier.clone(),
                current: joined(&tiers),
            });
        }
        if shop.shopsets.contains(t) {
            continue;
        }
        match fleet.cluster(&ss.cluster) {
            Some(c) if c.cordoned => out.push(Broken::Cordoned {
                shopset: t.clone(),
                cluster: c.name.clone(),
            }),
            Some(c) if !c.is_reachable() => out.push(Broken::Unreachable {
                shopset: t.clone(),
                cluster: c.name.clone(),
            }),
            _ => {}
        }
        if let Some(b) = capacity_breach(ss, fleet.shop_count(t) + 1) {
            out.push(Broken::of(shop.redundancy, b));
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Move {
    pub shop: String,
    pub from: Vec<String>,
    pub to: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Blocker {
    pub shop: String,
    pub reason: String,
}

/// What a drain (or a restore) will do, computed before anything moves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DrainPlan {
    pub cluster: String,
    pub moves: Vec<Move>,
    pub blockers: Vec<Blocker>,
    /// Dual shops that will run on one ShopSet because the operator accepted it.
    pub degraded: Vec<String>,
}

impl DrainPlan {
    /// (source, target) ShopSet pairs with the number of shop legs moving along each.
    pub fn flows(&self) -> Vec<(String, String, usize)> {
        let mut counts: HashMap<(String, String), usize> = HashMap::new();
        for m in &self.moves {
            let gone: Vec<&String> = m.from.iter().filter(|s| !m.to.contains(s)).collect();
            let new: Vec<&String> = m.to.iter().filter(|s| !m.from.contains(s)).collect();
            // A leg may be dropped (accepted degraded) or added back (a restore of one).
            for i in 0..gone.len().max(new.len()) {
                let src = gone
                    .get(i)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "(added leg)".into());
                let dst = new
                    .get(i)
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "(none: degraded)".into());
                *counts.entry((src, dst)).or_default() += 1;
            }
        }
        let mut v: Vec<(String, String, usize)> =
            counts.into_iter().map(|((a, b), n)| (a, b, n)).collect();
        v.sort();
        v
    }

    /// Every target ShopSet's shop count after the plan, with its capacity.
    pub fn loads_after(&self, fleet: &Fleet) -> Vec<(String, u32, u32)> {
        let mut delta: HashMap<&str, i64> = HashMap::new();
        for m in &self.moves {
            for s in &m.from {
                *delta.entry(s.as_str()).or_default() -= 1;
            }
            for s in &m.to {
                *delta.entry(s.as_str()).or_default() += 1;
            }
        }
        let mut v: Vec<(String, u32, u32)> = delta
            .into_iter()
            .filter(|(_, d)| *d > 0)
            .filter_map(|(s, d)| {
                fleet.shopset(s).map(|ss| {
                    (
                        s.to_string(),
                        (i64::from(fleet.shop_count(s)) + d) as u32,
                        ss.capacity,
                    )
                })
            })
            .collect();
        v.sort();
        v
    }
}

/// Moves every shop off the ShopSets of `cluster` onto ShopSets of the same tier elsewhere:
/// dual shops keep two failure domains, no ShopSet goes over capacity, load spreads evenly (each
/// leg goes to the least-loaded allowed ShopSet). Shops that cannot be placed are blockers,
/// unless they are dual and named in `accept_degraded`: then they keep their surviving leg only.
pub fn plan_drain(fleet: &Fleet, cluster: &str, accept_degraded: &HashSet<String>) -> DrainPlan {
    // Everything by ShopSet index: the planner runs over tens of thousands of shops.
    let sets = &fleet.shopsets;
    let index: HashMap<&str, usize> = sets
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let domain: Vec<&str> = sets
        .iter()
        .map(|s| {
            fleet
                .failure_domain_of(&s.name)
                .unwrap_or(s.cluster.as_str())
        })
        .collect();
    let drained: Vec<bool> = sets.iter().map(|s| s.cluster == cluster).collect();
    let mut load: Vec<u32> = sets.iter().map(|s| fleet.shop_count(&s.name)).collect();
    // Candidate targets per tier and configuration: reachable, uncordoned, not on the drained
    // cluster. A shop never moves to another tier or configuration.
    let mut candidates: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, ss) in sets.iter().enumerate() {
        let ok = ss.cluster != cluster
            && fleet
                .cluster(&ss.cluster)
                .is_some_and(|c| c.is_reachable() && !c.cordoned);
        if ok {
            candidates
                .entry((ss.tier.as_str(), ss.configuration.as_str()))
                .or_default()
                .push(i);
        }
    }
    let on_drained = |s: &Shop| {
        s.shopsets
            .iter()
            .any(|x| index.get(x.as_str()).is_some_and(|&i| drained[i]))
    };
    let mut affected: Vec<&Shop> = fleet.shops.iter().filter(|s| on_drained(s)).collect();
    // Dual shops first: they have the fewest options.
    affected.sort_by(|a, b| {
        (a.redundancy != Redundancy::Dual, &a.name)
            .cmp(&(b.redundancy != Redundancy::Dual, &b.name))
    });

    let mut plan = DrainPlan {
        cluster: cluster.into(),
        moves: Vec::new(),
        blockers: Vec::new(),
        degraded: Vec::new(),
    };
    let none: Vec<usize> = Vec::new();
    for shop in affected {
        let legs: Option<Vec<usize>> = shop
            .shopsets
            .iter()
            .map(|s| index.get(s.as_str()).copied())
            .collect();
        let Some(legs) = legs else {
            plan.blockers.push(Blocker {
                shop: shop.name.clone(),
                reason: "its ShopSets are unknown".into(),
            });
            continue;
        };
        let keep: Vec<usize> = legs.iter().copied().filter(|&i| !drained[i]).collect();
        let tier = sets[legs[0]].tier.as_str();
        let configuration = sets[legs[0]].configuration.as_str();
        let cands = candidates.get(&(tier, configuration)).unwrap_or(&none);
        let need = legs.len() - keep.len();
        let mut to = keep.clone();
        let mut reason = None;
        for _ in 0..need {
            // Least loaded relative to capacity, then by name for a stable plan.
            let mut best: Option<usize> = None;
            for &c in cands {
                if to.contains(&c) || load[c] >= sets[c].capacity {
                    continue;
                }
                if shop.redundancy == Redundancy::Dual && to.iter().any(|&t| domain[t] == domain[c])
                {
                    continue;
                }
                best = match best {
                    None => Some(c),
                    Some(b) => {
                        let rc = u64::from(load[c]) * u64::from(sets[b].capacity);
                        let rb = u64::from(load[b]) * u64::from(sets[c].capacity);
                        if rc < rb || (rc == rb && sets[c].name < sets[b].name) {
                            Some(c)
                        } else {
                            Some(b)
                        }
                    }
                };
            }
            match best {
                Some(c) => to.push(c),
                None => {
                    let any_room = cands.iter().any(|&c| load[c] < sets[c].capacity);
                    reason = Some(if cands.is_empty() {
                        format!(
                            "no ShopSet of tier '{tier}' and configuration '{configuration}' on another schedulable, reachable cluster"
                        )
                    } else if !any_room {
                        format!("every ShopSet of tier '{tier}' elsewhere is full")
                    } else {
                        let fds: Vec<&str> = to.iter().map(|&t| domain[t]).collect();
                        format!(
                            "no ShopSet of tier '{tier}' with room outside failure domain '{}' of its other ShopSet",
                            fds.join("', '")
                        )
                    });
                    break;
                }
            }
        }
        match reason {
            None => {
                for &t in to.iter().filter(|t| !keep.contains(t)) {
                    load[t] += 1;
                }
                plan.moves.push(Move {
                    shop: shop.name.clone(),
                    from: shop.shopsets.clone(),
                    to: to.iter().map(|&t| sets[t].name.clone()).collect(),
                });
            }
            Some(_)
                if shop.redundancy == Redundancy::Dual
                    && !keep.is_empty()
                    && accept_degraded.contains(&shop.name) =>
            {
                plan.degraded.push(shop.name.clone());
                plan.moves.push(Move {
                    shop: shop.name.clone(),
                    from: shop.shopsets.clone(),
                    to: keep.iter().map(|&t| sets[t].name.clone()).collect(),
                });
            }
            Some(reason) => plan.blockers.push(Blocker {
                shop: shop.name.clone(),
                reason,
            }),
        }
    }
    plan
}

/// Moves every shop that drain `drain` took off `cluster` back to its recorded placement, where
/// the rules still allow it (the cluster counts as uncordoned). Others are blockers, with why.
pub fn plan_restore(fleet: &Fleet, cluster: &str, drain: &str) -> DrainPlan {
    let mut plan = DrainPlan {
        cluster: cluster.into(),
        moves: Vec::new(),
        blockers: Vec::new(),
        degraded: Vec::new(),
    };
    let mut load: HashMap<&str, u32> = fleet
        .shopsets
        .iter()
        .map(|s| (s.name.as_str(), fleet.shop_count(&s.name)))
        .collect();
    for shop in fleet.shops.iter() {
        let Some(prev) = shop.previous.as_ref().filter(|p| p.drain == drain) else {
            continue;
        };
        let mut broken: Vec<String> = Vec::new();
        for t in prev.shopsets.iter().filter(|t| !shop.shopsets.contains(t)) {
            match fleet.shopset(t) {
                None => broken.push(format!("ShopSet '{t}' no longer exists")),
                Some(ss) => {
                    if ss.cluster != cluster
                        && let Some(c) = fleet.cluster(&ss.cluster)
                        && (c.cordoned || !c.is_reachable())
                    {
                        broken.push(format!(
                            "'{t}' is on cluster '{}', now {}",
                            c.name,
                            if c.cordoned {
                                "cordoned"
                            } else {
                                "unreachable"
                            }
                        ));
                    }
                    if load.get(t.as_str()).copied().unwrap_or(0) >= ss.capacity {
                        broken.push(format!("'{t}' is full"));
                    }
                }
            }
        }
        if broken.is_empty() {
            for t in prev.shopsets.iter().filter(|t| !shop.shopsets.contains(t)) {
                *load.entry(t.as_str()).or_default() += 1;
            }
            plan.moves.push(Move {
                shop: shop.name.clone(),
                from: shop.shopsets.clone(),
                to: prev.shopsets.clone(),
            });
        } else {
            plan.blockers.push(Blocker {
                shop: shop.name.clone(),
                reason: broken.join("; "),
            });
        }
    }
    plan
}
