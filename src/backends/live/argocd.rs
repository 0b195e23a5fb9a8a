//! Argo CD `Application` objects as the fleet model sees them: read tolerantly across Argo CD 2.x
//! and 3.x, decoded straight into a typed partial struct (the watch and the lists ask for this
//! type). Only what the console shows is kept — the metadata, sync status and revision, health,
//! the last operation's phase and times; every other field (the spec, history, resources, the
//! 3.x `resourceHealthSource`) is skipped while decoding, and any field may be missing.

use std::borrow::Cow;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Deserialize;
use thiserror::Error;

use crate::domain::{AppStatus, HealthStatus, OperationPhase, SyncStatus, Ts};

/// The parts of an `argoproj.io/v1alpha1` Application the console uses, decoded straight from
/// the API server's answer: the rest of the object (its spec, the status's resources, history,
/// conditions…) is skipped while decoding, never held, so a fleet of Applications with
/// full-size statuses costs what the console shows.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Application {
    pub metadata: ObjectMeta,
    pub status: Status,
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
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Sync {
    #[serde(deserialize_with = "text")]
    pub status: Option<String>,
    #[serde(deserialize_with = "text")]
    pub revision: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Health {
    #[serde(deserialize_with = "text")]
    pub status: Option<String>,
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
    /// The Application as the fleet model holds it; `shopset_label` maps it to its ShopSet.
    pub fn to_domain(&self, shopset_label: &str) -> Result<AppStatus, AppProblem> {
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
        Ok(AppStatus {
            name,
            shopset,
            sync: sync_status(self.status.sync.status.as_deref()),
            health: health_status(self.status.health.status.as_deref()),
            operation: op.and_then(|o| o.phase.as_deref()).and_then(phase),
            revision: self.status.sync.revision.clone(),
            // Which app commit a system-repository revision pins is read from git.
            app_revision: None,
            last_sync_finished: op
                .and_then(|o| o.finished_at.as_deref())
                .and_then(Ts::parse_rfc3339),
        })
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
        let s = app.to_domain(LABEL).unwrap();
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
        let s = app.to_domain(LABEL).unwrap();
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
        let s = app.to_domain(LABEL).unwrap();
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
        let s = app.to_domain(LABEL).unwrap();
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
        let s = odd.to_domain(LABEL).unwrap();
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
            unlabelled.to_domain(LABEL).unwrap_err().to_string(),
            "Argo CD Application 'stray' has no label 'shopset.dev/shopset': it maps to no ShopSet"
        );
    }
}
