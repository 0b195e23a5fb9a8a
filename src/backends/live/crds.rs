//! The `shopset.dev/v1alpha1` custom resources: Tier, ShopSet, Shop and FleetCluster, and what
//! people decide about releases — Halt and ReleaseRequest.

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::CustomResource;
use kube::CustomResourceExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A levelled unit of update; tier N's ShopSets deploy branch `tier-N` of the system repository.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "shopset.dev",
    version = "v1alpha1",
    kind = "Tier",
    plural = "tiers"
)]
#[kube(printcolumn = r#"{"name":"Level","type":"integer","jsonPath":".spec.level"}"#)]
#[kube(printcolumn = r#"{"name":"Branch","type":"string","jsonPath":".spec.branch"}"#)]
#[serde(rename_all = "camelCase")]
pub struct TierSpec {
    pub level: u8,
    pub branch: String,
    /// How long the tier must run a revision before it may be promoted further.
    #[serde(default)]
    pub soak_seconds: u32,
    /// `second-person`: a step into the tier needs another person's approval of exactly that
    /// change (a ReleaseRequest approved through its status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<String>,
    /// `shopctl release watch` rolls the tier back when a verification fails or a gating alert
    /// fires during its soak.
    #[serde(default)]
    pub auto_rollback: bool,
}

/// A halt of every promotion: of the whole fleet (no tier; named `fleet`) or into one tier
/// (named `tier-<tier>`). With a revision, only that release is halted on the tier: it failed
/// there (named `failed-<tier>`). Deleting the object lifts it.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "shopset.dev",
    version = "v1alpha1",
    kind = "Halt",
    plural = "halts"
)]
#[kube(printcolumn = r#"{"name":"Tier","type":"string","jsonPath":".spec.tier"}"#)]
#[kube(printcolumn = r#"{"name":"By","type":"string","jsonPath":".spec.by"}"#)]
#[kube(printcolumn = r#"{"name":"Reason","type":"string","jsonPath":".spec.reason"}"#)]
#[serde(rename_all = "camelCase")]
pub struct HaltSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// The release that failed on the tier (a failed mark), if this halts only it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<RevisionRef>,
    pub reason: String,
    pub by: String,
    /// RFC 3339.
    pub at: String,
}

/// An app-repository commit, as a failed mark or a request names it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevisionRef {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub seq: u32,
}

/// A request for a second person's approval of exactly one change of a tier. Approving writes
/// the status subresource: who may approve is who may `update releaserequests/status`.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "shopset.dev",
    version = "v1alpha1",
    kind = "ReleaseRequest",
    plural = "releaserequests",
    status = "ReleaseRequestStatus"
)]
#[kube(printcolumn = r#"{"name":"Tier","type":"string","jsonPath":".spec.tier"}"#)]
#[kube(printcolumn = r#"{"name":"By","type":"string","jsonPath":".spec.requestedBy"}"#)]
#[kube(printcolumn = r#"{"name":"Approved","type":"string","jsonPath":".status.approvedBy"}"#)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseRequestSpec {
    pub tier: String,
    /// The app commit the tier ran when asked; none for a tier that ran nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    pub to: RevisionRef,
    pub requested_by: String,
    /// RFC 3339.
    pub requested_at: String,
    /// The tier branch's head commit when asked: a change of the tier since uses it up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseRequestStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_at: Option<String>,
}

/// A full copy of the serving stack on one workload cluster.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "shopset.dev",
    version = "v1alpha1",
    kind = "ShopSet",
    plural = "shopsets"
)]
#[kube(printcolumn = r#"{"name":"Tier","type":"string","jsonPath":".spec.tier"}"#)]
#[kube(printcolumn = r#"{"name":"Cluster","type":"string","jsonPath":".spec.cluster"}"#)]
#[kube(printcolumn = r#"{"name":"Capacity","type":"integer","jsonPath":".spec.capacity"}"#)]
#[serde(rename_all = "camelCase")]
pub struct ShopSetSpec {
    pub tier: String,
    /// The environment it connects to, e.g. `staging` or `production`.
    pub configuration: String,
    /// The FleetCluster it runs on.
    pub cluster: String,
    /// The most shops it may serve.
    pub capacity: u32,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ShopRedundancy {
    Single,
    Dual,
}

/// A shop and the ShopSets serving it.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "shopset.dev",
    version = "v1alpha1",
    kind = "Shop",
    plural = "shops"
)]
#[kube(printcolumn = r#"{"name":"Redundancy","type":"string","jsonPath":".spec.redundancy"}"#)]
#[kube(printcolumn = r#"{"name":"ShopSets","type":"string","jsonPath":".spec.shopSets"}"#)]
#[serde(rename_all = "camelCase")]
pub struct ShopSpec {
    pub redundancy: ShopRedundancy,
    /// One ShopSet for a single shop, two in different failure domains for a dual shop.
    pub shop_sets: Vec<String>,
}

/// A workload cluster of the fleet.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, JsonSchema)]
#[kube(
    group = "shopset.dev",
    version = "v1alpha1",
    kind = "FleetCluster",
    plural = "fleetclusters"
)]
#[kube(printcolumn = r#"{"name":"Provider","type":"string","jsonPath":".spec.provider"}"#)]
#[kube(
    printcolumn = r#"{"name":"FailureDomain","type":"string","jsonPath":".spec.failureDomain"}"#
)]
#[kube(
    printcolumn = r#"{"name":"Unschedulable","type":"boolean","jsonPath":".spec.unschedulable"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct FleetClusterSpec {
    pub provider: String,
    /// Defaults to the cluster's own name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_domain: Option<String>,
    /// The kubeconfig context that reaches the cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// Cordoned: receives no shops.
    #[serde(default)]
    pub unschedulable: bool,
}

/// A Shop as the watch and the snapshot read it: its spec, and of its metadata what is used —
/// the `managedFields` a real API server keeps on every object (most of a Shop's bytes) are
/// skipped while decoding, never allocated.
#[derive(Clone, Debug, Deserialize)]
pub struct ShopRead {
    #[serde(deserialize_with = "read_meta")]
    pub metadata: ObjectMeta,
    pub spec: ShopSpec,
}

impl kube::Resource for ShopRead {
    type DynamicType = ();
    type Scope = kube::core::ClusterResourceScope;

    fn kind(dt: &()) -> Cow<'_, str> {
        <Shop as kube::Resource>::kind(dt)
    }
    fn group(dt: &()) -> Cow<'_, str> {
        <Shop as kube::Resource>::group(dt)
    }
    fn version(dt: &()) -> Cow<'_, str> {
        <Shop as kube::Resource>::version(dt)
    }
    fn plural(dt: &()) -> Cow<'_, str> {
        <Shop as kube::Resource>::plural(dt)
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// An object's metadata as read: name, namespace, uid, resourceVersion, generation, labels,
/// annotations and timestamps; `managedFields` and owner references are skipped while decoding.
pub fn read_meta<'de, D: serde::Deserializer<'de>>(d: D) -> Result<ObjectMeta, D::Error> {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    #[derive(Deserialize, Default)]
    #[serde(default, rename_all = "camelCase")]
    struct Read {
        name: Option<String>,
        namespace: Option<String>,
        uid: Option<String>,
        resource_version: Option<String>,
        generation: Option<i64>,
        labels: Option<BTreeMap<String, String>>,
        annotations: Option<BTreeMap<String, String>>,
        creation_timestamp: Option<Time>,
        deletion_timestamp: Option<Time>,
    }
    let r = Option::<Read>::deserialize(d)?.unwrap_or_default();
    Ok(ObjectMeta {
        name: r.name,
        namespace: r.namespace,
        uid: r.uid,
        resource_version: r.resource_version,
        generation: r.generation,
        labels: r.labels,
        annotations: r.annotations,
        creation_timestamp: r.creation_timestamp,
        deletion_timestamp: r.deletion_timestamp,
        ..ObjectMeta::default()
    })
}

/// The CRDs as one multi-document YAML stream.
pub fn crds_yaml() -> Result<String, serde_yaml::Error> {
    let docs = [
        Tier::crd(),
        ShopSet::crd(),
        Shop::crd(),
        FleetCluster::crd(),
        Halt::crd(),
        ReleaseRequest::crd(),
    ];
    let mut out = String::new();
    for crd in docs {
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(&crd)?);
    }
    out.push_str(DECISIONS_POLICY);
    Ok(out)
}

/// The admission policy that makes release decisions the API server's own words about who made
/// them: a request is asked by whoever creates it, its change is never edited, it is approved
/// once, by whoever writes the approval, and never by who asked; a halt is made by whoever
/// makes it. Without it anyone who may write these objects could write another's name.
pub const DECISIONS_POLICY: &str = r#"---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: shopctl-release-decisions
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
      - apiGroups: ["shopset.dev"]
        apiVersions: ["v1alpha1"]
        operations: ["CREATE", "UPDATE"]
        resources: ["releaserequests", "releaserequests/status", "halts"]
  validations:
    - expression: >-
        request.resource.resource != 'releaserequests' || request.operation != 'CREATE'
        || object.spec.requestedBy == request.userInfo.username
      message: "a release request is asked by whoever creates it: spec.requestedBy must be your own user name"
    - expression: >-
        request.resource.resource != 'releaserequests' || request.operation != 'UPDATE'
        || object.spec == oldObject.spec
      message: "the change a release request asks for cannot be edited: ask again"
    - expression: >-
        request.resource.resource != 'releaserequests' || request.operation != 'UPDATE'
        || !has(oldObject.status) || !has(oldObject.status.approvedBy)
        || (has(object.status) && object.status == oldObject.status)
      message: "a release request is approved once: its approval cannot be changed"
    - expression: >-
        request.resource.resource != 'releaserequests' || request.subResource != 'status'
        || !has(object.status) || !has(object.status.approvedBy)
        || (object.status.approvedBy == request.userInfo.username
            && object.status.approvedBy != object.spec.requestedBy)
      message: "a release request is approved by a second person, in their own name"
    - expression: >-
        request.resource.resource != 'halts' || object.spec.by == request.userInfo.username
      message: "a halt is made in your own name: spec.by must be your own user name"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: shopctl-release-decisions
spec:
  policyName: shopctl-release-decisions
  validationActions: ["Deny"]
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shop_is_read_without_its_managed_fields() {
        let s: ShopRead = serde_json::from_value(serde_json::json!({
            "apiVersion": "shopset.dev/v1alpha1", "kind": "Shop",
            "metadata": {"name": "maple", "resourceVersion": "42", "generation": 2,
                         "annotations": {"shopset.dev/drain": "drain-b-1"},
                         "managedFields": [{"manager": "shopctl", "fieldsV1": {"f:spec": {}}}]},
            "spec": {"redundancy": "single", "shopSets": ["a-1"]}
        }))
        .unwrap();
        assert_eq!(s.metadata.name.as_deref(), Some("maple"));
        assert_eq!(s.metadata.resource_version.as_deref(), Some("42"));
        assert!(s.metadata.managed_fields.is_none());
        assert_eq!(s.spec.shop_sets, ["a-1"]);
        let bare: ShopRead = serde_json::from_value(serde_json::json!({
            "metadata": null, "spec": {"redundancy": "dual", "shopSets": []}
        }))
        .unwrap();
        assert!(bare.metadata.name.is_none());
    }

    #[test]
    fn crds_name_the_group_version_and_kinds() {
        let yaml = crds_yaml().unwrap();
        for name in [
            "tiers.shopset.dev",
            "shopsets.shopset.dev",
            "shops.shopset.dev",
            "fleetclusters.shopset.dev",
            "halts.shopset.dev",
            "releaserequests.shopset.dev",
        ] {
            assert!(yaml.contains(&format!("name: {name}")), "{name}");
        }
        assert!(
            yaml.contains("v1alpha1")
                && yaml.contains("shopSets")
                && yaml.contains("unschedulable")
        );
        let docs: Vec<serde_yaml::Value> = serde_yaml::Deserializer::from_str(&yaml)
            .map(serde_yaml::Value::deserialize)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(docs.len(), 8);
        assert!(yaml.contains("kind: ValidatingAdmissionPolicyBinding"));
    }
}
