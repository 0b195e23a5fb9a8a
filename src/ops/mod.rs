//! The one place mutations happen. A `Mutation` is typed; only a confirmed one reaches an
//! `Executor`, and a read-only console has no executor at all.

pub mod access;
pub mod audit;
pub mod drain;
pub mod git;
pub mod lock;
pub mod placement;
pub mod release;

use std::path::PathBuf;

use thiserror::Error;

use self::audit::{AuditEntry, AuditLog};
use self::lock::LockStore;
use self::placement::{PlacementStore, Record};
use crate::domain::placement::Move;
use crate::domain::{ReleaseLock, Revision, Ts};

/// Who is operating: `$SHOPCTL_OPERATOR`, else `user@host`.
pub fn operator() -> String {
    if let Ok(op) = std::env::var("SHOPCTL_OPERATOR")
        && !op.trim().is_empty()
    {
        return op.trim().to_string();
    }
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "operator".into());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    format!("{user}@{host}")
}

/// A change to the fleet, described completely before anything happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mutation {
    /// Set tier `tier`'s `base` gitlink to exactly the revision `from_tier` runs.
    Promote {
        tier: String,
        branch: String,
        from_tier: String,
        current: Option<Revision>,
        target: Revision,
        /// Required when the alert or soak condition is overridden; goes into commit and audit.
        override_reason: Option<String>,
        /// The gate conditions the reason overrides.
        overridden: Vec<String>,
    },
    /// Restore tier `tier`'s gitlink from before its last change, as a new commit.
    Rollback {
        tier: String,
        branch: String,
        current: Revision,
        target: Revision,
    },
    /// Move one shop from `from` to `to` (all its ShopSets).
    Reassign {
        shop: String,
        from: Vec<String>,
        to: Vec<String>,
    },
}

impl Mutation {
    /// The tier (or, for a reassignment, the shop) the mutation is about.
    pub fn tier(&self) -> &str {
        match self {
            Mutation::Promote { tier, .. } | Mutation::Rollback { tier, .. } => tier,
            Mutation::Reassign { shop, .. } => shop,
        }
    }

    pub fn action(&self) -> &'static str {
        match self {
            Mutation::Promote { .. } => "promote",
            Mutation::Rollback { .. } => "rollback",
            Mutation::Reassign { .. } => "reassign",
        }
    }

    /// One line saying what will happen, for confirmations and messages.
    pub fn summary(&self) -> String {
        match self {
            Mutation::Promote {
                tier,
                from_tier,
                current,
                target,
                ..
            } => format!(
                "promote '{tier}' from {} to {} (what '{from_tier}' runs)",
                current
                    .as_ref()
                    .map(|r| r.label())
                    .unwrap_or_else(|| "nothing".into()),
                target.label()
            ),
            Mutation::Rollback {
                tier,
                current,
                target,
                ..
            } => {
                format!(
                    "roll back '{tier}' from {} to {}",
                    current.label(),
                    target.label()
                )
            }
            Mutation::Reassign { shop, from, to } => {
                format!(
                    "move shop '{shop}' from {} to {}",
                    from.join(" + "),
                    to.join(" + ")
                )
            }
        }
    }

    /// The commit message written on the tier branch.
    pub fn commit_message(&self, operator: &str) -> String {
        match self {
            Mutation::Promote {
                tier,
                from_tier,
                target,
                override_reason,
                overridden,
                ..
            } => {
                let mut m = format!(
                    "Promote {tier} to {} ({})\n\nRevision {} from tier '{from_tier}'.\nOperator: {operator}\n",
                    target.tag.as_deref().unwrap_or(target.short()),
                    target.short(),
                    target.id
                );
                if let Some(reason) = override_reason {
                    m.push_str(&format!(
                        "Override: {}\nReason: {reason}\n",
                        overridden.join(", ")
                    ));
                }
                m
            }
            Mutation::Rollback {
                tier,
                current,
                target,
                ..
            } => format!(
                "Roll back {tier} to {} ({})\n\nRevision {} replaces {}.\nOperator: {operator}\n",
                target.tag.as_deref().unwrap_or(target.short()),
                target.short(),
                target.id,
                current.id
            ),
            Mutation::Reassign { .. } => String::new(),
        }
    }
}

#[derive(Debug, Error)]
pub enum OpsError {
    #[error("the release lock is held by {} until {}", .0.holder, .0.expires_at.hhmmss())]
    Locked(ReleaseLock),
    #[error(
        "'{branch}' changed since the gate was evaluated (it now pins {found}); re-evaluate and try again"
    )]
    Moved { branch: String, found: String },
    #[error(
        "the push of '{branch}' was rejected: another push came first; re-evaluate and try again"
    )]
    Rejected { branch: String },
    #[error("shop '{shop}' {why}; look again and retry")]
    ShopMoved { shop: String, why: String },
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    #[error("{0}")]
    Lock(String),
}

impl OpsError {
    /// Conditions that call for re-reading the fleet and evaluating the gate again.
    pub fn is_race(&self) -> bool {
        matches!(
            self,
            OpsError::Moved { .. } | OpsError::Rejected { .. } | OpsError::ShopMoved { .. }
        )
    }
}

/// What an executed mutation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub commit: String,
    pub summary: String,
}

/// Executes confirmed mutations. Only ever built for a read-write session.
pub struct Executor {
    pub operator: String,
    system_clone: PathBuf,
    locks: Box<dyn LockStore>,
    audit: AuditLog,
    pub store: Box<dyn PlacementStore>,
}

/// How long a lock lasts unless renewed.
pub const LOCK_TTL_SECS: i64 = 600;

impl Executor {
    pub fn new(
        operator: String,
        system_clone: PathBuf,
        locks: Box<dyn LockStore>,
        audit: AuditLog,
        store: Box<dyn PlacementStore>,
    ) -> Executor {
        Executor {
            operator,
            system_clone,
            locks,
            audit,
            store,
        }
    }

    /// Appends an audit line for a drain or restore step.
    pub fn audit_event(
        &self,
        now: Ts,
        action: &str,
        cluster: &str,
        result: &str,
        detail: Option<String>,
    ) {
        let entry = AuditEntry::event(&self.operator, now, action, cluster, result, detail);
        if let Err(e) = self.audit.append(&entry) {
            tracing::error!("audit log: {e}");
        }
    }

    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// Takes (or renews) the operator lock.
    pub fn lock(&self, now: Ts) -> Result<ReleaseLock, OpsError> {
        self.locks.acquire(&self.operator, now, LOCK_TTL_SECS)
    }

    pub fn unlock(&self) -> Result<(), OpsError> {
        self.locks.release(&self.operator)
    }

    /// Writes and pushes the mutation's commit, holding the lock; audits the result either way.
    /// `notes` (e.g. from the release guide) go into the audit line.
    pub fn execute(&self, m: &Mutation, now: Ts, notes: Option<&str>) -> Result<Done, OpsError> {
        let result = self.lock(now).and_then(|_| match m {
            Mutation::Promote {
                branch,
                current,
                target,
                ..
            } => git::set_gitlink(
                &self.system_clone,
                branch,
                current.as_ref().map(|r| r.id.as_str()),
                &target.id,
                &m.commit_message(&self.operator),
                &self.operator,
                now,
            ),
            Mutation::Rollback {
                branch,
                current,
                target,
                ..
            } => git::set_gitlink(
                &self.system_clone,
                branch,
                Some(&current.id),
                &target.id,
                &m.commit_message(&self.operator),
                &self.operator,
                now,
            ),
            Mutation::Reassign { shop, from, to } => {
                let mv = Move {
                    shop: shop.clone(),
                    from: from.clone(),
                    to: to.clone(),
                };
                let out = self.store.apply(&[mv], &Record::Nothing)?;
                match out.skipped.into_iter().next() {
                    Some((shop, why)) => Err(OpsError::ShopMoved { shop, why }),
                    None => Ok(String::new()),
                }
            }
        });
        let entry = AuditEntry::for_mutation(m, &self.operator, now, &result, notes);
        if let Err(e) = self.audit.append(&entry) {
            tracing::error!("audit log: {e}");
        }
        let commit = result?;
        Ok(Done {
            commit,
            summary: m.summary(),
        })
    }
}
