//! The append-only audit log: one JSON line per step, rollback, override and guide note.

use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{Mutation, OpsError};
use crate::domain::Ts;

/// One line of `audit.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// RFC 3339, UTC.
    pub time: String,
    pub operator: String,
    /// `promote`, `rollback`, `reassign`, `cordon`, `uncordon`, `drain batch`,
    /// `restore batch`, `restore`, `cancel`, `interrupted`, `notes`, `silence`,
    /// `expire silence`, `halt`, `resume`, `clear failed`, `mark failed`, `request approval`,
    /// `approve` or `auto rollback`.
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shop: Option<String>,
    /// Full app commit ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// `intent` (written before the step, the outcome after it with the same `id`), `pushed`
    /// (with `commit`), `not pushed`, `done`, `saved`, `rejected`, `refused`, `cancelled`,
    /// `interrupted`, `locked`, `stopped` or `error`.
    pub result: String,
    /// Links a step's intent to its outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The session that wrote an intent: only once it no longer runs is the intent reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The operator's reason for an override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The gate conditions overridden.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overridden: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The release guide's notes at the time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// The silence created or expired (its Alertmanager id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silence: Option<String>,
    /// The silence's matchers, as Alertmanager's syntax (`alertname="X" cluster="b"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matchers: Option<String>,
    /// When the silence ends (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// The recorded console session this happened in (its file), for the postmortem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<String>,
}

impl AuditEntry {
    /// The line for an executed (or failed) mutation; `outcome` is the commit pushed, if any.
    pub fn for_mutation(
        m: &Mutation,
        operator: &str,
        now: Ts,
        result: &Result<Option<String>, OpsError>,
        notes: Option<&str>,
    ) -> AuditEntry {
        let mut e = AuditEntry::blank(operator, now, m.action());
        match m {
            Mutation::Promote {
                tier,
                current,
                target,
                override_reason,
                overridden,
                ..
            } => {
                e.tier = Some(tier.clone());
                e.from = current.as_ref().map(|r| r.id.clone());
                e.to = Some(target.id.clone());
                e.reason = override_reason.clone();
                e.overridden = overridden.clone();
            }
            Mutation::Rollback {
                tier,
                current,
                target,
                cause,
                ..
            } => {
                e.tier = Some(tier.clone());
                e.from = Some(current.id.clone());
                e.to = Some(target.id.clone());
                e.reason = cause.clone();
            }
            Mutation::Reassign {
                shop,
                from,
                to,
                tier_change,
            } => {
                e.shop = Some(shop.clone());
                e.from = Some(from.join(","));
                e.to = Some(to.join(","));
                if *tier_change {
                    e.overridden = vec!["same_tier".into()];
                }
            }
            Mutation::Cordon { cluster, drain } => {
                e.cluster = Some(cluster.clone());
                e.notes = Some(drain.clone());
            }
            Mutation::Uncordon { cluster, .. } => e.cluster = Some(cluster.clone()),
            Mutation::DrainBatch { cluster, .. } | Mutation::RestoreBatch { cluster, .. } => {
                e.cluster = Some(cluster.clone());
            }
            Mutation::Notes { text } => e.notes = Some(text.clone()),
            Mutation::Silence {
                matchers,
                duration_secs,
                comment,
            } => {
                e.matchers = Some(crate::domain::silence::format_matchers(matchers));
                e.reason = Some(comment.clone());
                e.until = Some(now.plus_secs(*duration_secs).rfc3339());
            }
            Mutation::ExpireSilence { id, matchers } => {
                e.silence = Some(id.clone());
                e.matchers = Some(crate::domain::silence::format_matchers(matchers));
            }
            Mutation::Halt { tier, reason } | Mutation::Resume { tier, reason, .. } => {
                e.tier = tier.clone();
                e.reason = Some(reason.clone());
            }
            Mutation::MarkFailed {
                tier,
                revision,
                reason,
            }
            | Mutation::ClearFailed {
                tier,
                revision,
                reason,
            } => {
                e.tier = Some(tier.clone());
                e.to = Some(revision.id.clone());
                e.reason = Some(reason.clone());
            }
            Mutation::RequestApproval { tier, from, to } => {
                e.tier = Some(tier.clone());
                e.from = from.as_ref().map(|r| r.id.clone());
                e.to = Some(to.id.clone());
            }
            Mutation::Approve {
                tier,
                request,
                from,
                to,
            } => {
                e.tier = Some(tier.clone());
                e.from = from.as_ref().map(|r| r.id.clone());
                e.to = Some(to.id.clone());
                e.notes = Some(format!("request {request}"));
            }
        }
        let (result, commit, error) = match result {
            Ok(Some(c)) => ("pushed", Some(c.clone()), None),
            Ok(None) if matches!(m, Mutation::Notes { .. }) => ("saved", None, None),
            Ok(None) => ("done", None, None),
            Err(e @ OpsError::Locked(_)) => ("locked", None, Some(e.to_string())),
            Err(e) if e.is_race() => ("rejected", None, Some(e.to_string())),
            Err(e) if e.is_refusal() => ("refused", None, Some(e.to_string())),
            Err(e) => ("error", None, Some(e.to_string())),
        };
        e.result = result.into();
        e.commit = commit;
        e.error = error;
        if let Some(n) = notes.filter(|n| !n.trim().is_empty()) {
            e.notes = Some(n.to_string());
        }
        e
    }

    fn blank(operator: &str, now: Ts, action: &str) -> AuditEntry {
        AuditEntry {
            time: now.rfc3339(),
            operator: operator.into(),
            action: action.into(),
            tier: None,
            cluster: None,
            shop: None,
            from: None,
            to: None,
            result: String::new(),
            id: None,
            session: None,
            commit: None,
            reason: None,
            overridden: Vec::new(),
            error: None,
            notes: None,
            silence: None,
            recording: None,
            matchers: None,
            until: None,
        }
    }

    /// A drain, restore, cordon or cancel step on a cluster.
    pub fn event(
        operator: &str,
        now: Ts,
        action: &str,
        cluster: &str,
        result: &str,
        detail: Option<String>,
    ) -> AuditEntry {
        AuditEntry {
            cluster: Some(cluster.into()),
            result: result.into(),
            notes: detail,
            ..AuditEntry::blank(operator, now, action)
        }
    }
}

/// What `intent` lines say before a step is written.
pub const INTENT: &str = "intent";

/// What a line says of shops a batch has moved while it still runs (the outcome follows).
pub const MOVING: &str = "moving";

/// Where audit lines go: the JSONL log (demo and live), Kubernetes Events next to it in live mode.
#[async_trait::async_trait]
pub trait AuditSink: Send + Sync {
    async fn append(&self, entry: &AuditEntry) -> std::io::Result<()>;
    /// Every line written so far.
    async fn read(&self) -> std::io::Result<Vec<AuditEntry>>;
}

/// The intents of `entries` that no outcome follows: steps that may or may not have happened
/// (the process that wrote them was killed, or could not write the outcome).
pub fn open_intents(entries: &[AuditEntry]) -> Vec<&AuditEntry> {
    let finished: std::collections::HashSet<&str> = entries
        .iter()
        .filter(|e| e.result != INTENT && e.result != MOVING)
        .filter_map(|e| e.id.as_deref())
        .collect();
    entries
        .iter()
        .filter(|e| e.result == INTENT)
        .filter(|e| e.id.as_deref().is_some_and(|id| !finished.contains(id)))
        .collect()
}

/// The open intents of sessions that no longer run: a step still under way in another process
/// is left to that process.
pub fn abandoned_intents(entries: &[AuditEntry]) -> Vec<&AuditEntry> {
    open_intents(entries)
        .into_iter()
        .filter(|e| {
            e.session
                .as_deref()
                .is_some_and(super::lock::session_is_dead)
        })
        .collect()
}

/// An append-only JSONL file.
#[derive(Debug, Clone)]
pub struct AuditLog {
    pub path: PathBuf,
}

/// The file is written and read on a blocking thread.
#[async_trait::async_trait]
impl AuditSink for AuditLog {
    async fn append(&self, entry: &AuditEntry) -> std::io::Result<()> {
        let (log, entry) = (self.clone(), entry.clone());
        super::offload(move || AuditLog::append(&log, &entry)).await
    }

    async fn read(&self) -> std::io::Result<Vec<AuditEntry>> {
        let log = self.clone();
        super::offload(move || AuditLog::read(&log)).await
    }
}

impl AuditLog {
    pub fn append(&self, entry: &AuditEntry) -> std::io::Result<()> {
        let mut line = serde_json::to_string(entry).map_err(std::io::Error::other)?;
        line.push('\n');
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        f.write_all(line.as_bytes())?;
        f.sync_data()
    }

    /// Every line that reads as an audit entry; a damaged line (torn by a full disk) is
    /// skipped with a warning, so that one bad line does not hide the rest.
    pub fn read(&self) -> std::io::Result<Vec<AuditEntry>> {
        let text = match std::fs::read(&self.path) {
            Ok(t) => String::from_utf8_lossy(&t).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .filter_map(|(i, l)| match serde_json::from_str(l) {
                Ok(e) => Some(e),
                Err(e) => {
                    tracing::warn!("{}: line {} is damaged: {e}", self.path.display(), i + 1);
                    None
                }
            })
            .collect())
    }
}
