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
    /// `promote`, `rollback` or `notes`.
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
    /// `pushed` (with `commit`), `rejected`, `locked` or `error`.
    pub result: String,
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
}

impl AuditEntry {
    pub fn for_mutation(
        m: &Mutation,
        operator: &str,
        now: Ts,
        result: &Result<String, OpsError>,
        notes: Option<&str>,
    ) -> AuditEntry {
        let (from, to, reason, overridden) = match m {
            Mutation::Reassign { from, to, .. } => {
                (Some(from.join(",")), Some(to.join(",")), None, Vec::new())
            }
            Mutation::Promote {
                current,
                target,
                override_reason,
                overridden,
                ..
            } => (
                current.as_ref().map(|r| r.id.clone()),
                Some(target.id.clone()),
                override_reason.clone(),
                overridden.clone(),
            ),
            Mutation::Rollback {
                current, target, ..
            } => (
                Some(current.id.clone()),
                Some(target.id.clone()),
                None,
                Vec::new(),
            ),
        };
        let (result, commit, error) = match result {
            Ok(_) if matches!(m, Mutation::Reassign { .. }) => ("done", None, None),
            Ok(c) => ("pushed", Some(c.clone()), None),
            Err(e @ OpsError::Locked(_)) => ("locked", None, Some(e.to_string())),
            Err(e) if e.is_race() => ("rejected", None, Some(e.to_string())),
            Err(e) => ("error", None, Some(e.to_string())),
        };
        AuditEntry {
            time: now.rfc3339(),
            operator: operator.into(),
            action: m.action().into(),
            tier: (!matches!(m, Mutation::Reassign { .. })).then(|| m.tier().into()),
            cluster: None,
            shop: matches!(m, Mutation::Reassign { .. }).then(|| m.tier().into()),
            from,
            to,
            result: result.into(),
            commit,
            reason,
            overridden,
            error,
            notes: notes.filter(|n| !n.trim().is_empty()).map(str::to_string),
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
            time: now.rfc3339(),
            operator: operator.into(),
            action: action.into(),
            tier: None,
            cluster: Some(cluster.into()),
            shop: None,
            from: None,
            to: None,
            result: result.into(),
            commit: None,
            reason: None,
            overridden: Vec::new(),
            error: None,
            notes: detail,
        }
    }

    pub fn notes(operator: &str, now: Ts, notes: &str) -> AuditEntry {
        AuditEntry {
            time: now.rfc3339(),
            operator: operator.into(),
            action: "notes".into(),
            tier: None,
            cluster: None,
            shop: None,
            from: None,
            to: None,
            result: "saved".into(),
            commit: None,
            reason: None,
            overridden: Vec::new(),
            error: None,
            notes: Some(notes.into()),
        }
    }
}

/// An append-only JSONL file.
#[derive(Debug, Clone)]
pub struct AuditLog {
    pub path: PathBuf,
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

    pub fn read(&self) -> std::io::Result<Vec<AuditEntry>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(std::io::Error::other))
            .collect()
    }
}
