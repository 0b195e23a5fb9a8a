//! Triggering Argo CD: after a push, every Application of the tier gets an `operation` that syncs
//! it to the new revision — a merge patch of the Application's top-level `operation`
//! (`initiatedBy.username` = the operator, `initiatedBy.automated = false`, `info` naming
//! shopctl and the release, `sync.revision`) with the refresh annotation. An Application whose
//! operation is still running is left alone, and said so.

use kube::Api;
use kube::api::{DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};
use thiserror::Error;

use super::placement::FIELD_MANAGER;

/// Why an Application was not asked to sync.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SyncError {
    #[error(
        "Argo CD Application '{0}' is still running an operation; it was not asked to sync again"
    )]
    Running(String),
    #[error("Argo CD Application '{app}' cannot be patched: {reason}")]
    Patch { app: String, reason: String },
}

/// The merge patch that asks Argo CD to sync `revision`.
pub fn sync_patch(operator: &str, revision: &str, why: &str) -> Value {
    json!({
        "metadata": {"annotations": {"argocd.argoproj.io/refresh": "normal"}},
        "operation": {
            "initiatedBy": {"username": operator, "automated": false},
            "info": [{"name": "Reason", "value": format!("shopctl: {why}")}],
            "sync": {"revision": revision},
        }
    })
}

/// Asks one Application to sync `revision`, unless an operation is running on it.
pub async fn trigger(
    apps: &Api<DynamicObject>,
    app: &str,
    operator: &str,
    revision: &str,
    why: &str,
) -> Result<(), SyncError> {
    let err = |e: kube::Error| SyncError::Patch {
        app: app.into(),
        reason: super::errors::say(&e),
    };
    let current = apps.get(app).await.map_err(err)?;
    let running = current
        .data
        .pointer("/status/operationState/phase")
        .and_then(Value::as_str)
        == Some("Running");
    let pending = current.data.get("operation").is_some_and(|o| !o.is_null());
    if running || pending {
        return Err(SyncError::Running(app.into()));
    }
    let pp = PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..PatchParams::default()
    };
    apps.patch(
        app,
        &pp,
        &Patch::Merge(&sync_patch(operator, revision, why)),
    )
    .await
    .map(|_| ())
    .map_err(err)
}
