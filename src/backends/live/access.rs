//! What this session's credentials may write, asked of the API servers at start with one
//! SelfSubjectAccessReview per write a mutation needs (as `kubectl auth can-i` does), so that a
//! mutation the operator may not perform is refused before anything is written, and said up front.

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::Api;
use kube::api::PostParams;

use super::config::Config;
use crate::ops::{Capability, Denial};

/// One write: a verb on a resource, in a namespace unless cluster-scoped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    pub verb: &'static str,
    pub group: &'static str,
    pub resource: &'static str,
    pub namespace: Option<String>,
    /// What is lost without it (none: only a side effect such as an Argo CD sync or an Event).
    pub blocks: Option<Capability>,
}

impl Ask {
    /// `patch shops.shopset.dev`, `create leases.coordination.k8s.io in shopctl`.
    pub fn describe(&self) -> String {
        let group = if self.group.is_empty() {
            String::new()
        } else {
            format!(".{}", self.group)
        };
        match &self.namespace {
            Some(ns) => format!("{} {}{group} in '{ns}'", self.verb, self.resource),
            None => format!("{} {}{group}", self.verb, self.resource),
        }
    }
}

/// The writes a read-write session of `config` needs on the control plane's API server.
pub fn asks(config: &Config) -> Vec<Ask> {
    let ask = |verb, group, resource, namespace: Option<&str>, blocks| Ask {
        verb,
        group,
        resource,
        namespace: namespace.map(str::to_string),
        blocks,
    };
    let lock = Some(config.lock.namespace.as_str());
    let mut out = vec![
        ask(
            "patch",
            "shopset.dev",
            "shops",
            None,
            Some(Capability::Placement),
        ),
        ask(
            "patch",
            "shopset.dev",
            "fleetclusters",
            None,
            Some(Capability::Cordon),
        ),
        ask(
            "create",
            "coordination.k8s.io",
            "leases",
            lock,
            Some(Capability::Lock),
        ),
        ask(
            "update",
            "coordination.k8s.io",
            "leases",
            lock,
            Some(Capability::Lock),
        ),
        // Without it the lock is taken and never given back: everyone waits out its duration.
        ask(
            "delete",
            "coordination.k8s.io",
            "leases",
            lock,
            Some(Capability::Lock),
        ),
        ask("create", "events.k8s.io", "events", Some("default"), None),
        // Halting and resuming promotions, and clearing a failed release.
        ask(
            "create",
            "shopset.dev",
            "halts",
            None,
            Some(Capability::Halt),
        ),
        ask(
            "delete",
            "shopset.dev",
            "halts",
            None,
            Some(Capability::Halt),
        ),
        // A rollback marks its release failed (server-side apply); without it the rollback
        // stands and says so.
        ask("patch", "shopset.dev", "halts", None, None),
        ask(
            "create",
            "shopset.dev",
            "releaserequests",
            None,
            Some(Capability::Request),
        ),
        // Who may approve: who may write a request's status.
        ask(
            "patch",
            "shopset.dev",
            "releaserequests/status",
            None,
            Some(Capability::Approve),
        ),
    ];
    // Argo CD instances on the control plane's context; one elsewhere is asked by its own
    // credentials when it is synced.
    for argo in config.argocd.iter().filter(|a| a.context.is_none()) {
        out.push(ask(
            "patch",
            "argoproj.io",
            "applications",
            Some(&argo.namespace),
            None,
        ));
    }
    out
}

/// The asks the API server answers "no" to. An ask it cannot answer is not a denial: the write
/// itself will say what is wrong.
pub async fn denied(client: &kube::Client, asks: &[Ask]) -> Vec<Denial> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    // All asked at once: on a slow link the answers take one round trip, not one each.
    let answers = futures::future::join_all(asks.iter().map(|a| {
        let api = api.clone();
        async move {
            let review = SelfSubjectAccessReview {
                spec: SelfSubjectAccessReviewSpec {
                    resource_attributes: Some(ResourceAttributes {
                        verb: Some(a.verb.into()),
                        group: Some(a.group.into()),
                        resource: Some(a.resource.split('/').next().unwrap_or(a.resource).into()),
                        subresource: a.resource.split_once('/').map(|(_, sub)| sub.into()),
                        namespace: a.namespace.clone(),
                        ..ResourceAttributes::default()
                    }),
                    ..SelfSubjectAccessReviewSpec::default()
                },
                ..SelfSubjectAccessReview::default()
            };
            (a, api.create(&PostParams::default(), &review).await)
        }
    }))
    .await;
    let mut out = Vec::new();
    for (a, answer) in answers {
        match answer {
            Ok(r) if r.status.as_ref().is_some_and(|s| !s.allowed) => out.push(Denial {
                what: a.describe(),
                blocks: a.blocks,
            }),
            Ok(_) => {}
            Err(e) => tracing::warn!(
                "cannot ask whether this session may {}: {}",
                a.describe(),
                super::errors::say(&e)
            ),
        }
    }
    out
}
