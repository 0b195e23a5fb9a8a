//! Triggering Argo CD: after a push, every Application of the tier gets an `operation` that syncs
//! it to the new revision — a merge patch of the Application's top-level `operation`
//! (`initiatedBy.username` = the operator, `initiatedBy.automated = false`, `info` naming
//! shopctl and the release, `sync.revision` or a multi-source `sync.revisions`, the
//! Application's own sync options and retry) with the refresh annotation, preconditioned on the
//! resourceVersion it was checked at. An Application whose operation is still running is left
//! alone, and said so.

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

/// The merge patch that asks Argo CD to sync `revision`, made from the Application `app` as it
/// was read, the way Argo CD's own CLI and Kargo ask:
/// - `metadata.resourceVersion` is the one read: a change meanwhile is a 409, not overwritten;
/// - the Application's `spec.syncPolicy.syncOptions` and `retry` are carried into the operation
///   (they apply to manual syncs only when the operation names them);
/// - a multi-source Application (`spec.sources`) gets `sync.revisions`, one per source, with
///   `revision` for each source that tracks `branch` and the others left at their own target;
/// - a finished `status.operationState` is cleared, so the new operation's state is never read
///   from the last one (argo-cd #20875).
pub fn sync_patch(app: &Value, operator: &str, revision: &str, branch: &str, why: &str) -> Value {
    let spec = &app["spec"];
    let mut sync = json!({});
    match spec["sources"].as_array().filter(|s| !s.is_empty()) {
        Some(sources) => {
            let revisions: Vec<Value> = sources
                .iter()
                .map(|s| match s["targetRevision"].as_str() {
                    Some(t) if t == branch => json!(revision),
                    Some(t) => json!(t),
                    None => json!("HEAD"),
                })
                .collect();
            // One revision per source, in their order (Argo CD's Application schema has no
            // other way to name them).
            sync["revisions"] = json!(revisions);
        }
        None => sync["revision"] = json!(revision),
    }
    if let Some(options) = spec["syncPolicy"]["syncOptions"]
        .as_array()
        .filter(|o| !o.is_empty())
    {
        sync["syncOptions"] = json!(options);
    }
    let mut operation = json!({
        "initiatedBy": {"username": operator, "automated": false},
        "info": [{"name": "Reason", "value": format!("shopctl: {why}")}],
        "sync": sync,
    });
    if spec["syncPolicy"]["retry"].is_object() {
        operation["retry"] = spec["syncPolicy"]["retry"].clone();
    }
    let mut patch = json!({
        "metadata": {"annotations": {"argocd.argoproj.io/refresh": "normal"}},
        "operation": operation,
    });
    if let Some(rv) = app["metadata"]["resourceVersion"].as_str() {
        patch["metadata"]["resourceVersion"] = json!(rv);
    }
    if !app["status"]["operationState"].is_null() {
        patch["status"] = json!({"operationState": null});
    }
    patch
}

/// How often an Application changed by someone else between shopctl's read and its patch is
/// read again before giving up.
const CONFLICT_RETRIES: usize = 3;

/// Asks one Application to sync `revision` (the commit pushed to `branch`), unless an
/// operation is running on it. Written with the resourceVersion it was checked at; a 409 reads
/// it again and checks again.
pub async fn trigger(
    apps: &Api<DynamicObject>,
    app: &str,
    operator: &str,
    revision: &str,
    branch: &str,
    why: &str,
) -> Result<(), SyncError> {
    let err = |e: kube::Error| SyncError::Patch {
        app: app.into(),
        reason: super::errors::say(&e),
    };
    let pp = PatchParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..PatchParams::default()
    };
    let mut attempt = 0;
    loop {
        let current = serde_json::to_value(apps.get(app).await.map_err(err)?).map_err(|e| {
            SyncError::Patch {
                app: app.into(),
                reason: e.to_string(),
            }
        })?;
        let running = current
            .pointer("/status/operationState/phase")
            .and_then(Value::as_str)
            == Some("Running");
        let pending = current.get("operation").is_some_and(|o| !o.is_null());
        if running || pending {
            return Err(SyncError::Running(app.into()));
        }
        let patch = sync_patch(&current, operator, revision, branch, why);
        match apps.patch(app, &pp, &Patch::Merge(&patch)).await {
            Ok(_) => return Ok(()),
            Err(e) if super::blocking::is_conflict(&e) && attempt < CONFLICT_RETRIES => {
                attempt += 1;
            }
            Err(e) => return Err(err(e)),
        }
    }
}
