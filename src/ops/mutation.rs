//! Every write to the fleet, described completely before anything happens. Confirmation texts,
//! commit messages and audit lines come from exhaustive matches on it.

use crate::domain::placement::Move;
use crate::domain::silence::{format_duration, format_matchers};
use crate::domain::{Matcher, Revision};

/// A change to the fleet. The executor re-checks it against fresh data before writing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Mutation {
    /// Set tier `tier`'s `base` gitlink to exactly the revision `from_tier` runs.
    Promote {
        tier: String,
        branch: String,
        from_tier: String,
        /// What the tier ran when the operator confirmed.
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
        /// The operator explicitly moves the shop to another tier.
        tier_change: bool,
    },
    /// Cordon a cluster for drain `drain`: it receives no shops.
    Cordon { cluster: String, drain: String },
    /// Uncordon a cluster; `keep_drain` keeps the drain id while shops remain to restore.
    Uncordon {
        cluster: String,
        keep_drain: Option<String>,
    },
    /// One batch of a drain: each moved shop records where it was and which drain moved it.
    DrainBatch {
        cluster: String,
        drain: String,
        batch: usize,
        moves: Vec<Move>,
    },
    /// One batch of a restore: shops go back to their recorded placement.
    RestoreBatch {
        cluster: String,
        drain: String,
        batch: usize,
        moves: Vec<Move>,
    },
    /// The release guide's notes, kept in the audit log.
    Notes { text: String },
    /// Silence the alerts `matchers` select, from now for `duration_secs`; `created_by` is the
    /// operator.
    Silence {
        matchers: Vec<Matcher>,
        duration_secs: i64,
        comment: String,
    },
    /// Expire silence `id` now (`matchers` say what it silenced).
    ExpireSilence { id: String, matchers: Vec<Matcher> },
}

impl Mutation {
    /// The tier, shop or cluster the mutation is about.
    pub fn subject(&self) -> &str {
        match self {
            Mutation::Promote { tier, .. } | Mutation::Rollback { tier, .. } => tier,
            Mutation::Reassign { shop, .. } => shop,
            Mutation::Cordon { cluster, .. }
            | Mutation::Uncordon { cluster, .. }
            | Mutation::DrainBatch { cluster, .. }
            | Mutation::RestoreBatch { cluster, .. } => cluster,
            Mutation::Notes { .. } => "release",
            Mutation::Silence { .. } | Mutation::ExpireSilence { .. } => "alerts",
        }
    }

    /// The audit log's `action`.
    pub fn action(&self) -> &'static str {
        match self {
            Mutation::Promote { .. } => "promote",
            Mutation::Rollback { .. } => "rollback",
            Mutation::Reassign { .. } => "reassign",
            Mutation::Cordon { .. } => "cordon",
            Mutation::Uncordon { .. } => "uncordon",
            Mutation::DrainBatch { .. } => "drain batch",
            Mutation::RestoreBatch { .. } => "restore batch",
            Mutation::Notes { .. } => "notes",
            Mutation::Silence { .. } => "silence",
            Mutation::ExpireSilence { .. } => "expire silence",
        }
    }

    /// What the lock is held for, as others see it: `promoting 'prod'`.
    pub fn purpose(&self) -> String {
        match self {
            Mutation::Promote { tier, .. } => format!("promoting '{tier}'"),
            Mutation::Rollback { tier, .. } => format!("rolling back '{tier}'"),
            Mutation::Reassign { shop, .. } => format!("moving shop '{shop}'"),
            Mutation::Cordon { cluster, .. } => format!("cordoning '{cluster}'"),
            Mutation::Uncordon { cluster, .. } => format!("uncordoning '{cluster}'"),
            Mutation::DrainBatch { cluster, .. } => format!("draining '{cluster}'"),
            Mutation::RestoreBatch { cluster, .. } => format!("restoring '{cluster}'"),
            Mutation::Notes { .. } => "saving release notes".into(),
            Mutation::Silence { .. } => "silencing alerts".into(),
            Mutation::ExpireSilence { .. } => "expiring a silence".into(),
        }
    }

    /// A push to a tier branch, followed until it settles.
    pub fn is_release(&self) -> bool {
        matches!(self, Mutation::Promote { .. } | Mutation::Rollback { .. })
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
            } => format!(
                "roll back '{tier}' from {} to {}",
                current.label(),
                target.label()
            ),
            Mutation::Reassign {
                shop,
                from,
                to,
                tier_change,
            } => format!(
                "move shop '{shop}' from {} to {}{}",
                from.join(" + "),
                to.join(" + "),
                if *tier_change {
                    " (to another tier)"
                } else {
                    ""
                }
            ),
            Mutation::Cordon { cluster, .. } => format!("cordon cluster '{cluster}'"),
            Mutation::Uncordon { cluster, .. } => format!("uncordon cluster '{cluster}'"),
            Mutation::DrainBatch {
                cluster,
                batch,
                moves,
                ..
            } => format!(
                "move {} shops off cluster '{cluster}' (batch {batch})",
                moves.len()
            ),
            Mutation::RestoreBatch {
                cluster,
                batch,
                moves,
                ..
            } => format!(
                "move {} shops back to cluster '{cluster}' (batch {batch})",
                moves.len()
            ),
            Mutation::Notes { .. } => "save the release notes".into(),
            Mutation::Silence {
                matchers,
                duration_secs,
                ..
            } => format!(
                "silence {} for {}",
                format_matchers(matchers),
                format_duration(*duration_secs)
            ),
            Mutation::ExpireSilence { id, matchers } => {
                format!("expire silence {id} ({})", format_matchers(matchers))
            }
        }
    }

    /// The commit message written on the tier branch (release mutations only).
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
            Mutation::Reassign { .. }
            | Mutation::Cordon { .. }
            | Mutation::Uncordon { .. }
            | Mutation::DrainBatch { .. }
            | Mutation::RestoreBatch { .. }
            | Mutation::Notes { .. }
            | Mutation::Silence { .. }
            | Mutation::ExpireSilence { .. } => String::new(),
        }
    }
}

/// A kind of write a mutation needs beyond the operator lock, so that what the session's
/// credentials may not do is refused before anything is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Capability {
    /// Taking, renewing and giving back the operator lock.
    Lock,
    /// Moving shops between ShopSets.
    Placement,
    /// Cordoning and uncordoning clusters.
    Cordon,
}

impl Mutation {
    /// The writes this mutation needs.
    pub fn needs(&self) -> &'static [Capability] {
        match self {
            Mutation::Promote { .. } | Mutation::Rollback { .. } => &[Capability::Lock],
            Mutation::Reassign { .. }
            | Mutation::DrainBatch { .. }
            | Mutation::RestoreBatch { .. } => &[Capability::Lock, Capability::Placement],
            Mutation::Cordon { .. } | Mutation::Uncordon { .. } => {
                &[Capability::Lock, Capability::Cordon]
            }
            // Alertmanager is shared with every team, whose own tools never take this lock, and
            // silencing is what an incident needs while a drain or release holds the lock; a
            // release step reads the alerts afresh when it runs anyway.
            Mutation::Notes { .. } | Mutation::Silence { .. } | Mutation::ExpireSilence { .. } => {
                &[]
            }
        }
    }
}
