//! The platform's conventions: one set of rules ([`Breach`]), checked over a snapshot as
//! [`Violation`]s the console shows, and over a proposed move as placement's `Broken`.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use super::model::{Redundancy, Shop, ShopSet, Tier};

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

impl std::fmt::Display for Breach {
    /// The rule as it reads for a proposed placement (violations name the shop themselves).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Breach::NoShopSet => write!(f, "a shop needs a ShopSet"),
            Breach::UnknownShopSet(s) => write!(f, "ShopSet '{s}' does not exist"),
            Breach::WrongCount { redundancy, legs } => {
                let want = legs_needed(*redundancy);
                write!(
                    f,
                    "a {} shop needs {want} ShopSet{}, not {legs}",
                    redundancy.as_str(),
                    if want == 1 { "" } else { "s" }
                )
            }
            Breach::SameShopSetTwice(s) => write!(f, "ShopSet '{s}' is named twice"),
            Breach::MixedTiers => write!(f, "the ShopSets are of different tiers"),
            Breach::MixedConfigurations => {
                write!(f, "the ShopSets are of different configurations")
            }
            Breach::SameFailureDomain { domain } => {
                write!(f, "both ShopSets are in failure domain '{domain}'")
            }
            Breach::OverCapacity {
                shopset,
                shops,
                capacity,
            } => write!(f, "'{shopset}' is full ({shops}/{capacity})"),
        }
    }
}

/// What the rules need to know of the fleet: its ShopSets and tiers, where each ShopSet is and
/// how full. The fleet snapshot implements it; the rules never depend on the snapshot itself.
pub trait Topology {
    fn shopset(&self, name: &str) -> Option<&ShopSet>;
    fn failure_domain_of(&self, shopset: &str) -> Option<&str>;
    /// Shops placed on the ShopSet now.
    fn shop_count(&self, shopset: &str) -> u32;
    fn all_shopsets(&self) -> &[ShopSet];
    /// Sorted by level, lowest first.
    fn all_tiers(&self) -> &[Tier];
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
    fleet: &impl Topology,
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
    fleet: &'a impl Topology,
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
pub fn check_shop(fleet: &impl Topology, shop: &Shop) -> Vec<Violation> {
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
pub fn check_topology(fleet: &impl Topology) -> Vec<Violation> {
    let mut out = Vec::new();
    for ss in fleet.all_shopsets() {
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
    for pair in fleet.all_tiers().windows(2) {
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
mod tests;
