//! The shopset.dev objects as the fleet model holds them, and watch events as fleet updates:
//! additions and changes become upserts, deletions removals, and a relist (after a restart or a
//! 410 Gone) removes what it no longer lists. Objects are mapped as they arrive and dropped: the
//! fleet model is the cache.
//!
//! What a drain records lives on the objects as annotations: `shopset.dev/drain` (the drain id,
//! on the FleetCluster and on each moved Shop) and `shopset.dev/previous-shopsets` (a moved shop's
//! placement before the drain, comma-separated).

use std::collections::{BTreeMap, HashSet};

/// The field manager shopctl's writes carry.
pub const FIELD_MANAGER: &str = "shopctl";

use kube::ResourceExt;
use kube::runtime::watcher::Event;

use super::crds;
use crate::domain::{
    ClusterSpec, ComponentHealth, Components, FleetUpdate, PreviousPlacement, Redundancy, Shop,
    ShopSet, TierSpec,
};

/// The drain id, on a FleetCluster being drained and on each Shop it moved.
pub const DRAIN_ANNOTATION: &str = "shopset.dev/drain";
/// A moved Shop's ShopSets before the drain, comma-separated.
pub const PREVIOUS_ANNOTATION: &str = "shopset.dev/previous-shopsets";

pub fn tier(t: &crds::Tier) -> TierSpec {
    TierSpec {
        name: t.name_any(),
        level: t.spec.level,
        branch: t.spec.branch.clone(),
        soak_secs: t.spec.soak_seconds,
        approval: t
            .spec
            .approval
            .as_deref()
            .and_then(crate::domain::Approval::parse)
            // A policy this version does not know asks for more than none.
            .unwrap_or(if t.spec.approval.is_some() {
                crate::domain::Approval::SecondPerson
            } else {
                crate::domain::Approval::None
            }),
        auto_rollback: t.spec.auto_rollback,
    }
}

pub fn shopset(s: &crds::ShopSet) -> ShopSet {
    ShopSet {
        name: s.name_any(),
        tier: s.spec.tier.clone(),
        configuration: s.spec.configuration.clone(),
        cluster: s.spec.cluster.clone(),
        capacity: s.spec.capacity,
        // The stack's health comes from Argo CD and the cluster, not from the ShopSet object.
        components: Components::all(ComponentHealth::Unknown),
    }
}

pub fn cluster(c: &crds::FleetCluster) -> ClusterSpec {
    let name = c.name_any();
    ClusterSpec {
        failure_domain: c
            .spec
            .failure_domain
            .clone()
            .filter(|f| !f.is_empty())
            .unwrap_or_else(|| name.clone()),
        provider: c.spec.provider.clone(),
        cordoned: c.spec.unschedulable,
        drain: annotation(c.annotations(), DRAIN_ANNOTATION),
        name,
    }
}

pub fn shop(s: &crds::ShopRead) -> Shop {
    let previous = match (
        annotation(s.annotations(), PREVIOUS_ANNOTATION),
        annotation(s.annotations(), DRAIN_ANNOTATION),
    ) {
        (Some(p), Some(drain)) => Some(PreviousPlacement {
            shopsets: p
                .split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect(),
            drain,
        }),
        _ => None,
    };
    Shop {
        name: s.name_any(),
        redundancy: match s.spec.redundancy {
            crds::ShopRedundancy::Single => Redundancy::Single,
            crds::ShopRedundancy::Dual => Redundancy::Dual,
        },
        shopsets: s.spec.shop_sets.clone(),
        previous,
        version: s.metadata.resource_version.clone(),
    }
}

fn annotation(a: &BTreeMap<String, String>, key: &str) -> Option<String> {
    a.get(key).filter(|v| !v.is_empty()).cloned()
}

/// Maps one object to its update, or says why it cannot (an object that cannot be decoded is
/// a problem naming it, never a crash).
pub type Upsert<K> = Box<dyn Fn(&K) -> Result<FleetUpdate, String> + Send>;

/// Turns one resource's watch events into fleet updates, remembering which objects it has
/// reported so that a relist can remove the ones that are gone.
pub struct Relist<K> {
    upsert: Upsert<K>,
    remove: fn(String) -> FleetUpdate,
    known: HashSet<String>,
    /// Names seen since the current relist began.
    listing: Option<HashSet<String>>,
    /// Objects that could not be mapped, with why (reported once each).
    pub problems: Vec<String>,
}

impl<K: kube::Resource> Relist<K> {
    pub fn new(upsert: Upsert<K>, remove: fn(String) -> FleetUpdate) -> Relist<K> {
        Relist {
            upsert,
            remove,
            known: HashSet::new(),
            listing: None,
            problems: Vec::new(),
        }
    }

    fn map(&mut self, obj: &K) -> Vec<FleetUpdate> {
        match (self.upsert)(obj) {
            Ok(u) => {
                self.known.insert(obj.name_any());
                vec![u]
            }
            Err(why) => {
                self.problems.push(why);
                Vec::new()
            }
        }
    }

    /// The updates one event means.
    pub fn on(&mut self, event: Event<K>) -> Vec<FleetUpdate> {
        match event {
            Event::Apply(obj) => self.map(&obj),
            Event::Delete(obj) => {
                let name = obj.name_any();
                self.known.remove(&name);
                vec![(self.remove)(name)]
            }
            Event::Init => {
                self.listing = Some(HashSet::new());
                Vec::new()
            }
            Event::InitApply(obj) => {
                if let Some(l) = &mut self.listing {
                    l.insert(obj.name_any());
                }
                self.map(&obj)
            }
            Event::InitDone => {
                let Some(listed) = self.listing.take() else {
                    return Vec::new();
                };
                let gone: Vec<String> = self
                    .known
                    .iter()
                    .filter(|n| !listed.contains(*n))
                    .cloned()
                    .collect();
                for n in &gone {
                    self.known.remove(n);
                }
                gone.into_iter().map(self.remove).collect()
            }
        }
    }
}

/// The relists of the four control-plane resources.
pub fn tiers() -> Relist<crds::Tier> {
    Relist::new(
        Box::new(|t| Ok(FleetUpdate::TierSpec(tier(t)))),
        FleetUpdate::TierRemoved,
    )
}

pub fn shopsets() -> Relist<crds::ShopSet> {
    Relist::new(
        Box::new(|s| Ok(FleetUpdate::ShopSetUpserted(shopset(s)))),
        FleetUpdate::ShopSetRemoved,
    )
}

pub fn clusters() -> Relist<crds::FleetCluster> {
    Relist::new(
        Box::new(|c| Ok(FleetUpdate::ClusterSpec(cluster(c)))),
        FleetUpdate::ClusterRemoved,
    )
}

pub fn shops() -> Relist<crds::ShopRead> {
    Relist::new(
        Box::new(|s| Ok(FleetUpdate::ShopUpserted(shop(s)))),
        FleetUpdate::ShopRemoved,
    )
}

/// Argo CD Applications, mapped by `shopset_label`; one that maps to no ShopSet is a problem
/// naming it.
pub fn applications(
    shopset_label: String,
    stack: super::argocd::StackWords,
) -> Relist<super::argocd::Application> {
    Relist::new(
        Box::new(move |app: &super::argocd::Application| {
            app.to_domain(&shopset_label, &stack)
                .map(FleetUpdate::AppUpserted)
                .map_err(|e| e.to_string())
        }),
        FleetUpdate::AppRemoved,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Fleet;

    fn shop_obj(name: &str, sets: &[&str]) -> crds::ShopRead {
        crds::ShopRead {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            spec: crds::ShopSpec {
                redundancy: if sets.len() == 2 {
                    crds::ShopRedundancy::Dual
                } else {
                    crds::ShopRedundancy::Single
                },
                shop_sets: sets.iter().map(|s| s.to_string()).collect(),
            },
        }
    }

    #[test]
    fn objects_map_to_the_model_with_what_a_drain_recorded() {
        let mut s = shop_obj("maple-bakery", &["a-2", "d-3"]);
        s.annotations_mut()
            .insert(PREVIOUS_ANNOTATION.into(), "b-1, a-2".into());
        s.annotations_mut()
            .insert(DRAIN_ANNOTATION.into(), "drain-b-1".into());
        let m = shop(&s);
        assert_eq!(m.redundancy, Redundancy::Dual);
        assert_eq!(
            m.previous,
            Some(PreviousPlacement {
                shopsets: vec!["b-1".into(), "a-2".into()],
                drain: "drain-b-1".into()
            })
        );
        let c = crds::FleetCluster::new(
            "b",
            crds::FleetClusterSpec {
                provider: "eks".into(),
                failure_domain: None,
                context: Some("eks-prod".into()),
                unschedulable: true,
            },
        );
        let spec = cluster(&c);
        assert_eq!((spec.failure_domain.as_str(), spec.cordoned), ("b", true));
    }

    #[test]
    fn watch_events_add_change_and_remove_and_a_relist_removes_what_is_gone() {
        let mut relist = shops();
        let mut fleet = Fleet::new("t");
        let mut apply = |f: &mut Fleet, ev| {
            for u in relist.on(ev) {
                f.apply(u);
            }
            f.refresh();
        };
        apply(&mut fleet, Event::Init);
        apply(&mut fleet, Event::InitApply(shop_obj("a", &["x"])));
        apply(&mut fleet, Event::InitApply(shop_obj("b", &["x"])));
        apply(&mut fleet, Event::InitDone);
        apply(&mut fleet, Event::Apply(shop_obj("c", &["y"])));
        apply(&mut fleet, Event::Apply(shop_obj("a", &["y"])));
        apply(&mut fleet, Event::Delete(shop_obj("b", &["x"])));
        let mut names: Vec<&str> = fleet.shops.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["a", "c"]);
        // The watch restarts after a 410 Gone: 'c' was deleted while nobody watched.
        apply(&mut fleet, Event::Init);
        apply(&mut fleet, Event::InitApply(shop_obj("a", &["y"])));
        apply(&mut fleet, Event::InitDone);
        let names: Vec<&str> = fleet.shops.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["a"]);
        assert_eq!(fleet.shops[0].shopsets, ["y"]);
    }
}
