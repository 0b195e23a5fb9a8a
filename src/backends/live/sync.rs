//! Triggering Argo CD: after a push, every Application of the tier gets an `operation` that syncs
//! it to the new revision — a merge patch of the Application's top-level `operation`
//! (`initiatedBy.username` = the operator, `initiatedBy.automated = false`, `info` naming
//! shopctl and the release, `sync.revision` or a multi-source `sync.revisions`, the
//! Application's own sync options and retry) with the refresh annotation, preconditioned on the
//! resourceVersion it was checked at. An Application whose operation is still running (or asked
//! for and not yet taken up) is never asked over it: it is waited for, up to a deadline.

use kube::Api;
use kube::api::{DynamicObject, Patch, PatchParams};
use serde_json::{Value, json};
use thiserror::Error;

use super::objects::FIELD_MANAGER;

/// Why an Application was not asked to sync.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SyncError {
    /// Busy with an operation: ask again when it has finished.
    #[error("Argo CD Application '{0}' is busy with another operation")]
    Running(String),
    #[error(
        "Argo CD Application '{app}' was still busy with another operation at {until} (waited {waited_secs} s): it was not asked to sync"
    )]
    StillBusy {
        app: String,
        until: String,
        waited_secs: u64,
    },
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
            Err(e) if super::calls::is_conflict(&e) && attempt < CONFLICT_RETRIES => {
                attempt += 1;
            }
            Err(e) => return Err(err(e)),
        }
    }
}

/// What a push asks every Application of its tier for.
pub struct Request<'a> {
    pub operator: &'a str,
    /// The pushed commit.
    pub revision: &'a str,
    /// The tier branch it was pushed to.
    pub branch: &'a str,
    /// Why, for the operation's `Reason`.
    pub why: &'a str,
}

/// How often an Application busy with an operation is looked at again.
const BUSY_POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// Asks each of `names` to sync as `request` says. One busy with another operation is asked
/// once that has finished, looked at every 2 s until `busy_wait` has passed (`report` is told
/// whom it waits for and until when, and each one asked after waiting). Returns what could not
/// be asked, each said whole.
pub async fn ask_all(
    apps: &Api<DynamicObject>,
    names: Vec<String>,
    request: &Request<'_>,
    busy_wait: std::time::Duration,
    report: crate::ops::Report<'_>,
) -> Vec<String> {
    let ask = |name: String| async move {
        let r = trigger(
            apps,
            &name,
            request.operator,
            request.revision,
            request.branch,
            request.why,
        )
        .await;
        (name, r)
    };
    let mut problems = Vec::new();
    let mut busy = Vec::new();
    for name in names {
        match ask(name).await {
            (_, Ok(())) => {}
            (name, Err(SyncError::Running(_))) => busy.push(name),
            (_, Err(e)) => problems.push(e.to_string()),
        }
    }
    if busy.is_empty() {
        return problems;
    }
    if busy_wait.is_zero() {
        problems.extend(busy.into_iter().map(|app| {
            SyncError::StillBusy {
                app,
                until: "once".into(),
                waited_secs: 0,
            }
            .to_string()
        }));
        return problems;
    }
    let until = crate::domain::Ts::now().plus_secs(busy_wait.as_secs() as i64);
    let deadline = tokio::time::Instant::now() + busy_wait;
    report(format!(
        "waiting for Argo CD {} busy with another operation: {}; asked to sync when it has finished, until {} UTC",
        if busy.len() == 1 {
            "Application"
        } else {
            "Applications"
        },
        busy.join(", "),
        until.hhmmss()
    ));
    while !busy.is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(BUSY_POLL.min(deadline - tokio::time::Instant::now())).await;
        let mut still = Vec::new();
        for name in busy {
            match ask(name).await {
                (name, Ok(())) => report(format!("Argo CD Application '{name}' asked to sync")),
                (name, Err(SyncError::Running(_))) => still.push(name),
                (_, Err(e)) => problems.push(e.to_string()),
            }
        }
        busy = still;
    }
    problems.extend(busy.into_iter().map(|app| {
        SyncError::StillBusy {
            app,
            until: format!("{} UTC", until.hhmmss()),
            waited_secs: busy_wait.as_secs(),
        }
        .to_string()
    }));
    problems
}
