//! `shopctl export`: the fleet as the objects live mode reads — `shopset.dev/v1alpha1` Tiers,
//! FleetClusters, ShopSets and Shops, and one Argo CD Application per ShopSet — as YAML that
//! `kubectl apply -f -` accepts. Names that are not Kubernetes object names are refused, naming
//! each one.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::backends::live::objects::{DRAIN_ANNOTATION, PREVIOUS_ANNOTATION};
use crate::domain::{Fleet, OperationPhase};

/// What the export is for.
pub struct ExportOptions<'a> {
    /// The system repository Applications track (`spec.source.repoURL`).
    pub repo_url: &'a str,
    /// The namespace of the Applications (Argo CD's).
    pub argocd_namespace: &'a str,
    /// The label naming an Application's ShopSet.
    pub shopset_label: &'a str,
    /// Include each Application's `status` as last read (for loading into a test server; Argo
    /// CD writes its own).
    pub with_status: bool,
    /// When the fleet was read: an operation's start where the fleet does not know it.
    pub read_at: crate::domain::Ts,
}

/// A `--repo-url` that can stand in an Application: not empty, one line, and no secret in it
/// (it would be written into every Application for all to read).
pub fn check_repo_url(url: &str) -> anyhow::Result<()> {
    if url.trim().is_empty() {
        anyhow::bail!("--repo-url: empty; give the system repository's URL");
    }
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        anyhow::bail!("--repo-url: a URL has no spaces or control characters");
    }
    let shown = crate::git::transport::redact(url);
    if shown != url {
        anyhow::bail!(
            "--repo-url '{shown}': credentials do not belong in the URL (every Application would show them); Argo CD's repository credentials hold them"
        );
    }
    Ok(())
}

/// Lowercase RFC 1123 subdomain: what Kubernetes accepts as an object name.
pub fn is_object_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// The objects, or every name that cannot be an object name. Applications whose ShopSet the
/// fleet does not have are left out, each named in `skipped`.
pub fn objects(
    fleet: &Fleet,
    opts: &ExportOptions<'_>,
    skipped: &mut Vec<String>,
) -> Result<Vec<Value>, Vec<String>> {
    let mut bad = Vec::new();
    let mut check = |kind: &str, name: &str| {
        if !is_object_name(name) {
            bad.push(format!("{kind} '{name}'"));
        }
    };
    fleet
        .clusters
        .iter()
        .for_each(|c| check("cluster", &c.name));
    fleet.tiers.iter().for_each(|t| check("tier", &t.name));
    fleet
        .shopsets
        .iter()
        .for_each(|s| check("ShopSet", &s.name));
    fleet.shops.iter().for_each(|s| check("shop", &s.name));
    fleet
        .apps
        .iter()
        .for_each(|a| check("Application", &a.name));
    // A ShopSet's name is also a label value and part of a namespace (`shopset-<name>`): a
    // DNS-1123 label of at most 63 characters.
    for s in &fleet.shopsets {
        if is_object_name(&s.name) && (s.name.contains('.') || s.name.len() > 55) {
            bad.push(format!(
                "ShopSet '{}' (a label value and namespace: no dots, at most 55 characters)",
                s.name
            ));
        }
    }
    if !bad.is_empty() {
        return Err(bad);
    }
    let api = "shopset.dev/v1alpha1";
    let mut out = Vec::new();
    for t in &fleet.tiers {
        out.push(
            json!({"apiVersion": api, "kind": "Tier", "metadata": {"name": t.name},
            "spec": {"level": t.level, "branch": t.branch, "soakSeconds": t.soak_secs}}),
        );
    }
    for c in &fleet.clusters {
        let mut metadata = json!({"name": c.name});
        if let Some(d) = &c.drain {
            metadata["annotations"] = json!({DRAIN_ANNOTATION: d});
        }
        out.push(
            json!({"apiVersion": api, "kind": "FleetCluster", "metadata": metadata,
            "spec": {"provider": c.provider, "failureDomain": c.failure_domain,
                     "unschedulable": c.cordoned}}),
        );
    }
    for s in fleet.shopsets_in_order() {
        out.push(
            json!({"apiVersion": api, "kind": "ShopSet", "metadata": {"name": s.name},
            "spec": {"tier": s.tier, "configuration": s.configuration, "cluster": s.cluster,
                     "capacity": s.capacity}}),
        );
    }
    for s in fleet.shops.iter() {
        let mut metadata = json!({"name": s.name});
        if let Some(p) = &s.previous {
            metadata["annotations"] = json!({
                DRAIN_ANNOTATION: p.drain,
                PREVIOUS_ANNOTATION: p.shopsets.join(","),
            });
        }
        out.push(
            json!({"apiVersion": api, "kind": "Shop", "metadata": metadata,
            "spec": {"redundancy": s.redundancy.as_str(), "shopSets": s.shopsets}}),
        );
    }
    let branch: BTreeMap<&str, &str> = fleet
        .tiers
        .iter()
        .map(|t| (t.name.as_str(), t.branch.as_str()))
        .collect();
    for a in &fleet.apps {
        let Some(ss) = fleet.shopset(&a.shopset) else {
            skipped.push(format!(
                "Application '{}' left out: its ShopSet '{}' is not in the fleet",
                a.name, a.shopset
            ));
            continue;
        };
        let mut app = json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": a.name, "namespace": opts.argocd_namespace,
                         "labels": {opts.shopset_label: ss.name}},
            "spec": {
                "project": "default",
                "source": {"repoURL": opts.repo_url,
                           "targetRevision": branch.get(ss.tier.as_str()).copied().unwrap_or_default(),
                           "path": format!("overlays/{}", ss.name)},
                "destination": {"name": ss.cluster, "namespace": format!("shopset-{}", ss.name)},
            },
        });
        if opts.with_status {
            let mut status = json!({
                "sync": {"status": a.sync.to_string()},
                "health": {"status": a.health.to_string()},
            });
            if let Some(r) = &a.revision {
                status["sync"]["revision"] = json!(r);
            }
            // The serving stack as Argo CD lists it: one resource per component, named so that
            // live mode's default `argocd[].components` words find it.
            let stack = fleet.stack(ss);
            status["resources"] = json!(
                crate::domain::Components::RESOURCES
                    .iter()
                    .zip(stack.as_array())
                    .map(|((kind, suffix), h)| json!({
                        "group": if *kind == "Service" { "" } else { "apps" },
                        "version": "v1",
                        "kind": kind,
                        "namespace": format!("shopset-{}", ss.name),
                        "name": format!("{}-{suffix}", ss.name),
                        "status": a.sync.to_string(),
                        "health": {"status": argo_health(h)},
                    }))
                    .collect::<Vec<_>>()
            );
            if let Some(p) = a.operation {
                // Argo CD's CRD requires the operation and its start; the start is not kept, so
                // the finish (or the moment the fleet was read) stands in for it.
                let started = a.last_sync_finished.unwrap_or(opts.read_at);
                let mut op = json!({
                    "phase": p.to_string(),
                    "operation": {"sync": {}},
                    "startedAt": started.rfc3339(),
                });
                if let Some(r) = &a.revision {
                    op["operation"]["sync"]["revision"] = json!(r);
                    if p == OperationPhase::Succeeded {
                        op["syncResult"] = json!({"revision": r});
                    }
                }
                if let Some(t) = a.last_sync_finished {
                    op["finishedAt"] = json!(t.rfc3339());
                }
                status["operationState"] = op;
            }
            app["status"] = status;
        }
        out.push(app);
    }
    Ok(out)
}

/// A component's state as Argo CD's health of the resource behind it.
fn argo_health(h: crate::domain::ComponentHealth) -> &'static str {
    crate::domain::HealthStatus::of_component(h).as_str()
}

/// The objects as a multi-document YAML stream.
pub fn yaml(objects: &[Value]) -> Result<String, serde_yaml::Error> {
    let mut out = String::new();
    for o in objects {
        out.push_str("---\n");
        out.push_str(&serde_yaml::to_string(o)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_lowercase_dns_subdomains() {
        for ok in ["a", "a-1", "maple-bakery-2", "shopset-a-1", "x.y"] {
            assert!(is_object_name(ok), "{ok}");
        }
        for bad in ["A", "C-2", "-a", "a-", "", "a_b", "a..b", &"x".repeat(254)] {
            assert!(!is_object_name(bad), "{bad}");
        }
    }
}
