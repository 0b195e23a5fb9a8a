//! Argo CD `Application` objects as the fleet model sees them: read tolerantly across Argo CD 2.x
//! and 3.x, decoded straight into a typed partial struct (the watch and the lists ask for this
//! type). Only what the console shows is kept — the metadata, sync status and revision(s),
//! health, the last operation's phase, times, message and result revision, and of the resources
//! their kind, name, sync and health; every other field (the spec, history, conditions, the
//! operation's own resource list) is skipped while decoding, and any field may be missing.
//!
//! The ShopSet's serving stack (LB, TLS proxy, shop page, cart, API) is read from the
//! Application's resources: a resource belongs to a component when its name holds one of the
//! component's words (`cart` in `b-2-cart`, `shop-page` in `shop-page-v2`), and a component is
//! as healthy as its worst resource. Argo CD 3.x keeps per-resource health out of the
//! Application by default (`resourceHealthSource: appTree`); a component whose resources carry
//! no health is Up when the whole Application is Healthy (its health is the worst of theirs),
//! unknown otherwise.

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use thiserror::Error;

use crate::domain::{
    AppDetail, AppStatus, ComponentHealth, Components, HealthStatus, OperationPhase,
    ResourceProblem, SyncStatus, Ts,
};

/// The parts of an `argoproj.io/v1alpha1` Application the console uses, decoded straight from
/// the API server's answer: the rest of the object (its spec, the status's resources, history,
/// conditions…) is skipped while decoding, never held, so a fleet of Applications with
/// full-size statuses costs what the console shows.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Application {
    #[serde(deserialize_with = "super::crds::read_meta")]
    pub metadata: ObjectMeta,
    pub status: Status,
    /// An operation asked for and not yet taken up by Argo CD (its content is not kept).
    #[serde(deserialize_with = "present")]
    pub operation: bool,
}

impl kube::Resource for Application {
    type DynamicType = ();
    type Scope = kube::core::NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        "Application".into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        "argoproj.io".into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        "v1alpha1".into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        "applications".into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Status {
    pub sync: Sync,
    pub health: Health,
    #[serde(rename = "operationState")]
    pub operation_state: Option<OperationState>,
    #[serde(deserialize_with = "list")]
    pub resources: Vec<Resource>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Sync {
    #[serde(deserialize_with = "text")]
    pub status: Option<String>,
    #[serde(deserialize_with = "text")]
    pub revision: Option<String>,
    /// A multi-source Application's, one per source.
    #[serde(deserialize_with = "texts")]
    pub revisions: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Health {
    #[serde(deserialize_with = "text")]
    pub status: Option<String>,
    #[serde(deserialize_with = "text")]
    pub message: Option<String>,
}

/// One resource the Application manages, as its status lists it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Resource {
    #[serde(deserialize_with = "text")]
    pub kind: Option<String>,
    #[serde(deserialize_with = "text")]
    pub name: Option<String>,
    /// Synced or OutOfSync.
    #[serde(deserialize_with = "text")]
    pub status: Option<String>,
    /// Absent for kinds without a health check, and in Argo CD 3.x by default.
    pub health: Option<Health>,
}

/// The last operation's result: which revision(s) it synced.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SyncResult {
    #[serde(deserialize_with = "text")]
    pub revision: Option<String>,
    #[serde(deserialize_with = "texts")]
    pub revisions: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OperationState {
    #[serde(deserialize_with = "text")]
    pub phase: Option<String>,
    #[serde(rename = "startedAt")]
    #[serde(deserialize_with = "text")]
    pub started_at: Option<String>,
    #[serde(rename = "finishedAt")]
    #[serde(deserialize_with = "text")]
    pub finished_at: Option<String>,
    #[serde(deserialize_with = "text")]
    pub message: Option<String>,
    #[serde(rename = "syncResult")]
    pub sync_result: Option<SyncResult>,
}

/// Whether a field holds anything (null is nothing).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<serde::de::IgnoredAny>::deserialize(d)?.is_some())
}

/// A list, or empty when the field holds anything else (or a list with an item that is not
/// what is expected).
fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum List<T> {
        List(Vec<T>),
        Other(serde::de::IgnoredAny),
    }
    Ok(match List::deserialize(d)? {
        List::List(l) => l,
        List::Other(_) => Vec::new(),
    })
}

/// A list of words; an item that is not a word is left out.
fn texts<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    struct Item(#[serde(deserialize_with = "text")] Option<String>);
    Ok(list::<D, Item>(d)?
        .into_iter()
        .filter_map(|i| i.0)
        .collect())
}

/// A text field, or none when it holds anything else (an Argo CD that writes a number or an
/// object where a word was expected is read as not saying, not refused whole).
fn text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Text {
        Text(String),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Text::deserialize(d)? {
        Text::Text(t) => Some(t),
        Text::Other(_) => None,
    })
}

/// An Application the console cannot place, named so that it can be shown as a problem.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AppProblem {
    #[error("Argo CD Application '{name}' has no label '{label}': it maps to no ShopSet")]
    NoShopSet { name: String, label: String },
    #[error("Argo CD Application without a name")]
    NoName,
}

impl Application {
    /// The Application as the fleet model holds it; `shopset_label` maps it to its ShopSet,
    /// `stack` its resources to the serving stack's components.
    pub fn to_domain(
        &self,
        shopset_label: &str,
        stack: &StackWords,
    ) -> Result<AppStatus, AppProblem> {
        let name = self.metadata.name.clone().unwrap_or_default();
        if name.is_empty() {
            return Err(AppProblem::NoName);
        }
        let shopset = self
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(shopset_label))
            .cloned()
            .ok_or_else(|| AppProblem::NoShopSet {
                name: name.clone(),
                label: shopset_label.into(),
            })?;
        let op = self.status.operation_state.as_ref();
        let health = health_status(self.status.health.status.as_deref());
        let synced_revisions = op
            .and_then(|o| o.sync_result.as_ref())
            .map(|r| r.revision.iter().chain(&r.revisions).cloned().collect())
            .unwrap_or_default();
        let (resources, resources_not_ok) = self.resources_not_ok();
        Ok(AppStatus {
            name,
            shopset,
            sync: sync_status(self.status.sync.status.as_deref()),
            health,
            operation: op.and_then(|o| o.phase.as_deref()).and_then(phase),
            revision: self.status.sync.revision.clone(),
            // Which app commit a system-repository revision pins is read from git.
            app_revision: None,
            last_sync_finished: op
                .and_then(|o| o.finished_at.as_deref())
                .and_then(Ts::parse_rfc3339),
            argo: AppDetail {
                revisions: self.status.sync.revisions.clone(),
                operation_pending: self.operation,
                synced_revisions,
                message: op.and_then(|o| o.message.clone()).filter(|m| !m.is_empty()),
                components: stack.components(&self.status.resources, health),
                resources,
                resources_not_ok,
            },
        })
    }

    /// The resources that are not Synced or not Healthy, worst first (at most
    /// [`AppDetail::MAX_RESOURCES`]), and how many there are.
    fn resources_not_ok(&self) -> (Vec<ResourceProblem>, usize) {
        let mut bad: Vec<ResourceProblem> = self
            .status
            .resources
            .iter()
            .filter_map(|r| {
                let sync = sync_status(r.status.as_deref());
                let health = r
                    .health
                    .as_ref()
                    .and_then(|h| h.status.as_deref())
                    .map(|h| health_status(Some(h)));
                let synced = r.status.is_none() || sync == SyncStatus::Synced;
                let healthy = health.is_none_or(|h| h == HealthStatus::Healthy);
                (!synced || !healthy).then(|| ResourceProblem {
                    kind: r.kind.clone().unwrap_or_else(|| "?".into()),
                    name: r.name.clone().unwrap_or_else(|| "?".into()),
                    sync,
                    health,
                    message: r
                        .health
                        .as_ref()
                        .and_then(|h| h.message.clone())
                        .filter(|m| !m.is_empty()),
                })
            })
            .collect();
        let all = bad.len();
        bad.sort_by_key(|p| {
            (
                p.health.map_or(9, health_rank),
                p.kind.clone(),
                p.name.clone(),
            )
        });
        bad.truncate(AppDetail::MAX_RESOURCES);
        (bad, all)
    }
}

/// Worst first: Degraded, Missing, Progressing, Suspended, Unknown, Healthy.
fn health_rank(h: HealthStatus) -> u8 {
    match h {
        HealthStatus::Degraded => 0,
        HealthStatus::Missing => 1,
        HealthStatus::Progressing => 2,
        HealthStatus::Suspended => 3,
        HealthStatus::Unknown => 4,
        HealthStatus::Healthy => 5,
    }
}

/// Which words in a resource's name make it part of each component of the serving stack
/// (`argocd[].components` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackWords {
    /// In [`Components::NAMES`] order: LB, TLS proxy, shop page, cart, API.
    pub words: [Vec<String>; 5],
}

impl Default for StackWords {
    fn default() -> StackWords {
        let w = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        StackWords {
            words: [
                w(&["lb", "loadbalancer"]),
                w(&["proxy"]),
                w(&["shop-page", "storefront"]),
                w(&["cart"]),
                w(&["api"]),
            ],
        }
    }
}

impl StackWords {
    /// The configuration keys, in [`Components::NAMES`] order.
    pub const KEYS: [&'static str; 5] = ["lb", "proxy", "shop_page", "cart", "api"];

    /// The component `name` belongs to: the first whose word is in it, as whole parts
    /// (`cart` is in `b-2-cart` and `cart.v2`, not in `carton`).
    fn component_of(&self, name: &str) -> Option<usize> {
        let parts: Vec<&str> = name.split(['-', '.', '_']).collect();
        self.words.iter().position(|words| {
            words.iter().any(|w| {
                let wanted: Vec<&str> = w.split(['-', '.', '_']).collect();
                !wanted.is_empty() && parts.windows(wanted.len()).any(|p| p == wanted.as_slice())
            })
        })
    }

    /// The stack's health from the Application's resources; none when no resource belongs to
    /// any component (nothing to say, rather than a guess).
    pub fn components(&self, resources: &[Resource], app: HealthStatus) -> Option<Components> {
        let mut seen = [false; 5];
        let mut worst: [Option<ComponentHealth>; 5] = [None; 5];
        for r in resources {
            let Some(i) = r.name.as_deref().and_then(|n| self.component_of(n)) else {
                continue;
            };
            seen[i] = true;
            if let Some(h) = r.health.as_ref().and_then(|h| h.status.as_deref()) {
                let h = component_health(health_status(Some(h)));
                worst[i] = Some(worst[i].map_or(h, |w| w.worse(h)));
            }
        }
        if !seen.contains(&true) {
            return None;
        }
        let at = |i: usize| match (seen[i], worst[i]) {
            (_, Some(h)) => h,
            // Listed without health (Argo CD 3.x): a Healthy Application has every resource
            // Healthy.
            (true, None) if app == HealthStatus::Healthy => ComponentHealth::Up,
            _ => ComponentHealth::Unknown,
        };
        Some(Components {
            lb: at(0),
            proxy: at(1),
            shop_page: at(2),
            cart: at(3),
            api: at(4),
        })
    }
}

/// A resource's health as a component's.
fn component_health(h: HealthStatus) -> ComponentHealth {
    match h {
        HealthStatus::Healthy => ComponentHealth::Up,
        HealthStatus::Progressing | HealthStatus::Suspended => ComponentHealth::Progressing,
        HealthStatus::Degraded => ComponentHealth::Degraded,
        HealthStatus::Missing => ComponentHealth::Down,
        HealthStatus::Unknown => ComponentHealth::Unknown,
    }
}

/// `Synced`, `OutOfSync`; anything else (missing, `Unknown`, a newer word) is Unknown.
pub fn sync_status(s: Option<&str>) -> SyncStatus {
    match s {
        Some("Synced") => SyncStatus::Synced,
        Some("OutOfSync") => SyncStatus::OutOfSync,
        _ => SyncStatus::Unknown,
    }
}

/// Argo CD's health words; anything else is Unknown.
pub fn health_status(s: Option<&str>) -> HealthStatus {
    match s {
        Some("Healthy") => HealthStatus::Healthy,
        Some("Progressing") => HealthStatus::Progressing,
        Some("Degraded") => HealthStatus::Degraded,
        Some("Suspended") => HealthStatus::Suspended,
        Some("Missing") => HealthStatus::Missing,
        _ => HealthStatus::Unknown,
    }
}

/// The operation's phase; an unknown word is no phase rather than a wrong one.
pub fn phase(s: &str) -> Option<OperationPhase> {
    match s {
        "Running" => Some(OperationPhase::Running),
        "Terminating" => Some(OperationPhase::Terminating),
        "Failed" => Some(OperationPhase::Failed),
        "Error" => Some(OperationPhase::Error),
        "Succeeded" => Some(OperationPhase::Succeeded),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABEL: &str = "shopset.dev/shopset";

    fn fixture(name: &str) -> Application {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/argocd")
            .join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        serde_yaml::from_str(&text).unwrap()
    }

    fn labelled(mut app: Application, shopset: &str) -> Application {
        app.metadata
            .labels
            .get_or_insert_default()
            .insert(LABEL.into(), shopset.into());
        app
    }

    #[test]
    fn a_2x_application_with_its_full_status_reads_as_synced_healthy_succeeded() {
        let app = labelled(fixture("argocd-diff-cache.yaml"), "a-1");
        let s = app.to_domain(LABEL, &StackWords::default()).unwrap();
        assert_eq!(s.shopset, "a-1");
        assert_eq!(s.health, HealthStatus::Healthy);
        assert_eq!(s.operation, Some(OperationPhase::Succeeded));
        assert!(s.revision.is_some());
        assert_eq!(
            s.last_sync_finished,
            Ts::parse_rfc3339("2024-03-05T07:33:04Z")
        );
    }

    #[test]
    fn an_automated_sync_application_keeps_its_revision_and_times() {
        let app = labelled(fixture("gitops-backend-application3.yaml"), "b-2");
        let s = app.to_domain(LABEL, &StackWords::default()).unwrap();
        assert_eq!(s.name, "dev-app-taxi");
        assert_eq!(s.health, HealthStatus::Healthy);
        assert_eq!(s.operation, Some(OperationPhase::Succeeded));
        assert_eq!(
            s.last_sync_finished,
            Ts::parse_rfc3339("2022-04-22T17:11:29Z")
        );
    }

    #[test]
    fn the_3x_status_without_per_resource_health_reads_and_missing_fields_are_optional() {
        let mut app = labelled(fixture("argocd-3.0-status-apptree.yaml"), "c-3");
        app.metadata.name = Some("shopset-c-3".into());
        let s = app.to_domain(LABEL, &StackWords::default()).unwrap();
        assert_eq!(
            (s.sync, s.health, s.operation, s.revision),
            (SyncStatus::OutOfSync, HealthStatus::Healthy, None, None)
        );
    }

    #[test]
    fn fields_no_version_has_are_ignored_and_words_no_version_has_are_unknown() {
        let app: Application = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "x", "labels": {LABEL: "d-1"}, "managedFields": [{"manager": "m"}]},
            "spec": {"future": true},
            "status": {
                "sync": {"status": "Drifting", "revision": "abc", "comparedTo": {}},
                "health": {"status": "Sparkling"},
                "operationState": {"phase": "Pondering", "finishedAt": "not a time"},
                "somethingNew": [1, 2, 3]
            }
        }))
        .unwrap();
        let s = app.to_domain(LABEL, &StackWords::default()).unwrap();
        assert_eq!(
            (s.sync, s.health, s.operation, s.last_sync_finished),
            (SyncStatus::Unknown, HealthStatus::Unknown, None, None)
        );
        // A word where an object or a number stands is read as not said, not a failed decode.
        let odd: Application = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "y", "labels": {LABEL: "d-2"}},
            "status": {"sync": {"status": 7, "revision": {"a": 1}}, "health": {"status": null},
                       "operationState": {"phase": ["Running"]}}
        }))
        .unwrap();
        let s = odd.to_domain(LABEL, &StackWords::default()).unwrap();
        assert_eq!(
            (s.sync, s.revision, s.operation),
            (SyncStatus::Unknown, None, None)
        );
        let unlabelled = Application {
            metadata: ObjectMeta {
                name: Some("stray".into()),
                ..ObjectMeta::default()
            },
            ..Application::default()
        };
        assert_eq!(
            unlabelled
                .to_domain(LABEL, &StackWords::default())
                .unwrap_err()
                .to_string(),
            "Argo CD Application 'stray' has no label 'shopset.dev/shopset': it maps to no ShopSet"
        );
    }

    fn with_status(status: serde_json::Value) -> Application {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "shopset-b-2", "labels": {LABEL: "b-2"}},
            "status": status
        }))
        .unwrap()
    }

    fn resource(
        kind: &str,
        name: &str,
        sync: &str,
        health: Option<(&str, &str)>,
    ) -> serde_json::Value {
        let mut r = serde_json::json!({"kind": kind, "name": name, "namespace": "shopset-b-2",
                                       "version": "v1", "status": sync});
        if let Some((h, m)) = health {
            r["health"] = serde_json::json!({"status": h, "message": m});
        }
        r
    }

    #[test]
    fn the_stack_is_read_from_the_resources_each_component_as_its_worst() {
        let app = with_status(serde_json::json!({
            "sync": {"status": "Synced", "revision": "abc"},
            "health": {"status": "Degraded"},
            "resources": [
                resource("Service", "b-2-lb", "Synced", Some(("Healthy", ""))),
                resource("Deployment", "b-2-tls-proxy", "Synced", Some(("Healthy", ""))),
                resource("Deployment", "b-2-shop-page", "Synced", Some(("Progressing", "Waiting for rollout to finish: 1 of 3 updated replicas are available..."))),
                resource("Service", "b-2-cart", "Synced", Some(("Healthy", ""))),
                resource("Deployment", "b-2-cart", "OutOfSync", Some(("Degraded", "Deployment \"b-2-cart\" exceeded its progress deadline"))),
                resource("ConfigMap", "b-2-api-config", "Synced", None),
                resource("Deployment", "b-2-api", "Synced", Some(("Healthy", ""))),
                resource("ConfigMap", "carton", "OutOfSync", None),
            ]
        }));
        let s = app.to_domain(LABEL, &StackWords::default()).unwrap();
        use ComponentHealth::*;
        assert_eq!(
            s.argo.components.map(|c| c.as_array()),
            Some([Up, Up, Progressing, Degraded, Up])
        );
        // Worst first, each with what Argo CD says of it; `carton` is no cart, but is OutOfSync.
        let bad: Vec<(&str, &str, Option<HealthStatus>)> = s
            .argo
            .resources
            .iter()
            .map(|r| (r.kind.as_str(), r.name.as_str(), r.health))
            .collect();
        assert_eq!(
            bad,
            [
                ("Deployment", "b-2-cart", Some(HealthStatus::Degraded)),
                (
                    "Deployment",
                    "b-2-shop-page",
                    Some(HealthStatus::Progressing)
                ),
                ("ConfigMap", "carton", None),
            ]
        );
        assert_eq!(s.argo.resources_not_ok, 3);
        assert_eq!(s.argo.resources[0].sync, SyncStatus::OutOfSync);
        assert_eq!(
            s.argo.resources[0].message.as_deref(),
            Some("Deployment \"b-2-cart\" exceeded its progress deadline")
        );
        // Configured words: the shop page is called storefront here, and the LB is not Argo
        // CD's.
        let mut words = StackWords::default();
        words.words[0].clear();
        words.words[2] = vec!["front".into()];
        let s = app.to_domain(LABEL, &words).unwrap();
        assert_eq!(
            s.argo.components.map(|c| c.as_array()),
            Some([Unknown, Up, Unknown, Degraded, Up])
        );
    }

    #[test]
    fn without_per_resource_health_a_healthy_application_has_its_stack_up_and_others_unknown() {
        // Argo CD 3.x (resourceHealthSource: appTree): resources listed without health.
        let mut app = labelled(fixture("argocd-3.0-status-apptree.yaml"), "c-3");
        app.metadata.name = Some("shopset-c-3".into());
        let listed: Vec<&str> = app
            .status
            .resources
            .iter()
            .filter_map(|r| r.name.as_deref())
            .collect();
        assert!(!listed.is_empty(), "the fixture lists its resources");
        assert!(app.status.resources.iter().all(|r| r.health.is_none()));
        let words = StackWords {
            words: [vec![], vec![], vec![listed[0].to_string()], vec![], vec![]],
        };
        let s = app.to_domain(LABEL, &words).unwrap();
        assert_eq!(s.health, HealthStatus::Healthy);
        assert_eq!(
            s.argo.components.map(|c| c.shop_page),
            Some(ComponentHealth::Up)
        );
        assert_eq!(
            s.argo.components.map(|c| c.cart),
            Some(ComponentHealth::Unknown)
        );
        let degraded = with_status(serde_json::json!({
            "health": {"status": "Degraded"},
            "resources": [{"kind": "Deployment", "name": "b-2-cart", "status": "Synced"}]
        }));
        let s = degraded.to_domain(LABEL, &StackWords::default()).unwrap();
        assert_eq!(
            s.argo.components.map(|c| c.cart),
            Some(ComponentHealth::Unknown)
        );
        // Resources that belong to no component say nothing of the stack.
        let other = with_status(serde_json::json!({
            "health": {"status": "Healthy"},
            "resources": [{"kind": "Deployment", "name": "velero", "status": "Synced"}]
        }));
        assert_eq!(
            other
                .to_domain(LABEL, &StackWords::default())
                .unwrap()
                .argo
                .components,
            None
        );
    }

    #[test]
    fn the_last_operation_says_where_it_synced_and_a_pending_one_is_seen() {
        let s = labelled(fixture("argocd-diff-cache.yaml"), "a-1")
            .to_domain(LABEL, &StackWords::default())
            .unwrap();
        assert_eq!(
            s.argo.synced_revisions,
            ["ea8759964626a583667a2bfd08f334ec2070040a"]
        );
        assert!(!s.argo.operation_pending);
        let multi: Application = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "m", "labels": {LABEL: "d-1"}},
            "operation": {"sync": {"revisions": ["1.4.2", "0c5d6c0"]}},
            "status": {
                "sync": {"status": "Synced", "revisions": ["1.4.2", "0c5d6c0", 7]},
                "operationState": {"phase": "Failed", "message": "one or more objects failed to apply",
                                   "syncResult": {"revisions": ["1.4.2", "0ld"]}}
            }
        }))
        .unwrap();
        let s = multi.to_domain(LABEL, &StackWords::default()).unwrap();
        assert!(s.argo.operation_pending);
        assert_eq!(s.argo.revisions, ["1.4.2", "0c5d6c0"]);
        assert!(s.runs("0c5d6c0"));
        assert_eq!(s.argo.synced_revisions, ["1.4.2", "0ld"]);
        assert!(!s.last_operation_at("0c5d6c0"));
        assert_eq!(
            s.argo.message.as_deref(),
            Some("one or more objects failed to apply")
        );
        // A resources list that is not a list is read as none.
        let odd =
            with_status(serde_json::json!({"resources": {"a": 1}, "sync": {"revisions": "x"}}));
        let s = odd.to_domain(LABEL, &StackWords::default()).unwrap();
        assert!(s.argo.resources.is_empty() && s.argo.revisions.is_empty());
    }
}
