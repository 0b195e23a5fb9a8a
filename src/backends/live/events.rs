//! The audit trail in live mode: the JSONL log, and a Kubernetes Event (`events.k8s.io/v1`,
//! reporting controller `shopctl`) on the object each audited step touched — the Tier of a
//! release, the Shop of a reassignment, the FleetCluster of a drain or restore. Events go to the
//! `default` namespace (the objects are cluster-scoped). An Event that cannot be written is
//! logged; the JSONL line is what must not be lost.

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Api;
use kube::api::PostParams;

use super::calls::bounded;
use crate::ops::audit::{AuditEntry, AuditLog, AuditSink};

/// The JSONL log plus Kubernetes Events.
pub struct LiveAudit {
    log: AuditLog,
    events: Api<Event>,
    instance: String,
}

impl LiveAudit {
    /// The log, and Events written through `client`.
    pub fn new(log: AuditLog, client: kube::Client, instance: &str) -> LiveAudit {
        LiveAudit {
            log,
            events: Api::namespaced(client, "default"),
            instance: instance.into(),
        }
    }
}

/// The Event an audit line means, if it touched an object.
pub fn event_of(entry: &AuditEntry, instance: &str, now_ms: i64) -> Option<Event> {
    let (kind, name) = match (&entry.tier, &entry.shop, &entry.cluster) {
        (Some(t), _, _) => ("Tier", t),
        (_, Some(s), _) => ("Shop", s),
        (_, _, Some(c)) => ("FleetCluster", c),
        _ => return None,
    };
    let warning = matches!(
        entry.result.as_str(),
        "error" | "rejected" | "refused" | "locked"
    );
    let mut note = format!("{} by {}: {}", entry.action, entry.operator, entry.result);
    for part in [&entry.notes, &entry.reason, &entry.error]
        .into_iter()
        .flatten()
    {
        note.push_str("; ");
        note.push_str(part);
    }
    // Events keep their note under 1 kB (bytes), cut at a character boundary.
    while note.len() > 1000 {
        note.pop();
    }
    let reason: String = entry
        .action
        .split(' ')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    Some(Event {
        metadata: ObjectMeta {
            name: Some(format!(
                "{}.{:x}{:04x}",
                name.to_ascii_lowercase(),
                now_ms,
                fastrand::u16(..)
            )),
            namespace: Some("default".into()),
            ..ObjectMeta::default()
        },
        action: Some(reason.clone()),
        reason: Some(reason),
        note: Some(note),
        type_: Some(if warning { "Warning" } else { "Normal" }.into()),
        event_time: Some(MicroTime(
            k8s_openapi::jiff::Timestamp::from_millisecond(now_ms).unwrap_or_default(),
        )),
        reporting_controller: Some("shopctl".into()),
        reporting_instance: Some(instance.into()),
        regarding: Some(ObjectReference {
            api_version: Some("shopset.dev/v1alpha1".into()),
            kind: Some(kind.into()),
            name: Some(name.clone()),
            ..ObjectReference::default()
        }),
        ..Event::default()
    })
}

#[async_trait::async_trait]
impl AuditSink for LiveAudit {
    async fn read(&self) -> std::io::Result<Vec<AuditEntry>> {
        AuditSink::read(&self.log).await
    }

    async fn append(&self, entry: &AuditEntry) -> std::io::Result<()> {
        AuditSink::append(&self.log, entry).await?;
        // An intent is this process's own record; the Event tells what happened.
        if entry.result == crate::ops::audit::INTENT {
            return Ok(());
        }
        if let Some(event) = event_of(entry, &self.instance, crate::domain::Ts::now().0) {
            let pp = PostParams {
                field_manager: Some(super::objects::FIELD_MANAGER.into()),
                ..PostParams::default()
            };
            if let Err(e) = bounded(self.events.create(&pp, &event)).await {
                tracing::warn!("writing the audit Event: {}", super::errors::say(&e));
            }
        }
        Ok(())
    }
}
