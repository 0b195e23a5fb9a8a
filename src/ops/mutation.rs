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
        /// Who approved exactly this change, where the tier asks for a second person.
        #[serde(default)]
        approved_by: Option<String>,
    },
    /// Restore tier `tier`'s gitlink from before its last change, as a new commit.
    Rollback {
        tier: String,
        branch: String,
        current: Revision,
        target: Revision,
        /// Why, when the release watcher rolls back: goes into the commit message.
        #[serde(default)]
        cause: Option<String>,
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
    /// Stop every promotion on the fleet (`tier` none) or into one tier until resumed.
    Halt {
        tier: Option<String>,
        reason: String,
    },
    /// Lift the halt of the fleet (`tier` none) or of one tier — when `halted_at` says when,
    /// exactly that halt, not one made since.
    Resume {
        tier: Option<String>,
        reason: String,
        #[serde(default)]
        halted_at: Option<crate::domain::Ts>,
    },
    /// Mark a release failed on a tier (what a rollback does; written again when it could not
    /// be at the time).
    MarkFailed {
        tier: String,
        revision: Revision,
        reason: String,
    },
    /// Offer a release that failed on a tier for that tier again.
    ClearFailed {
        tier: String,
        revision: Revision,
        reason: String,
    },
    /// Ask a second person to approve exactly this change of `tier`.
    RequestApproval {
        tier: String,
        from: Option<Revision>,
        to: Revision,
    },
    /// Approve request `request`: exactly this change of `tier`.
    Approve {
        tier: String,
        request: String,
        from: Option<Revision>,
        to: Revision,
    },
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
            Mutation::Halt { tier, .. } | Mutation::Resume { tier, .. } => {
                tier.as_deref().unwrap_or("fleet")
            }
            Mutation::ClearFailed { tier, .. }
            | Mutation::MarkFailed { tier, .. }
            | Mutation::RequestApproval { tier, .. }
            | Mutation::Approve { tier, .. } => tier,
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
            Mutation::Halt { .. } => "halt",
            Mutation::Resume { .. } => "resume",
            Mutation::ClearFailed { .. } => "clear failed",
            Mutation::MarkFailed { .. } => "mark failed",
            Mutation::RequestApproval { .. } => "request approval",
            Mutation::Approve { .. } => "approve",
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
            Mutation::Halt { .. } => "halting promotions".into(),
            Mutation::Resume { .. } => "resuming promotions".into(),
            Mutation::ClearFailed { tier, .. } => format!("clearing a failed release of '{tier}'"),
            Mutation::MarkFailed { tier, .. } => format!("marking a release failed on '{tier}'"),
            Mutation::RequestApproval { tier, .. } => format!("asking approval for '{tier}'"),
            Mutation::Approve { tier, .. } => format!("approving a step into '{tier}'"),
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
            Mutation::Halt { tier: None, .. } => "halt every promotion on the fleet".into(),
            Mutation::Halt { tier: Some(t), .. } => format!("halt promotions into '{t}'"),
            Mutation::Resume { tier: None, .. } => "resume promotions on the fleet".into(),
            Mutation::Resume { tier: Some(t), .. } => format!("resume promotions into '{t}'"),
            Mutation::MarkFailed { tier, revision, .. } => {
                format!("mark {} failed on '{tier}'", revision.label())
            }
            Mutation::ClearFailed { tier, revision, .. } => {
                format!("offer {} for '{tier}' again", revision.label())
            }
            Mutation::RequestApproval { tier, from, to } => format!(
                "ask a second person to approve '{tier}' from {} to {}",
                label(from),
                to.label()
            ),
            Mutation::Approve { tier, from, to, .. } => {
                format!("approve '{tier}' from {} to {}", label(from), to.label())
            }
        }
    }

    /// The commit message written on the tier branch (release mutations only).
    pub fn commit_message(&self, operator: &str) -> String {
        match self {
            // A subject and a sentence for people, then trailers (`git log
            // --format=%(trailers)`) from which `release history` reads the change back.
            Mutation::Promote {
                tier,
                from_tier,
                current,
                target,
                override_reason,
                overridden,
                approved_by,
                ..
            } => {
                let mut m = format!(
                    "Promote {tier} to {} ({})\n\nRevision {} from tier '{from_tier}'.\n\n",
                    target.tag.as_deref().unwrap_or(target.short()),
                    target.short(),
                    target.id
                );
                let from = current.as_ref().map_or("none", |r| r.id.as_str());
                m.push_str(&format!(
                    "Action: promote\nTier: {tier}\nFrom: {from}\nTo: {}\nFrom-Tier: {from_tier}\nOperator: {}\n",
                    target.id,
                    one_line(operator)
                ));
                match override_reason {
                    Some(reason) => m.push_str(&format!(
                        "Gate: overridden\nOverride: {}\nReason: {}\n",
                        overridden.join(", "),
                        one_line(reason)
                    )),
                    None => m.push_str("Gate: passed\n"),
                }
                if let Some(by) = approved_by {
                    m.push_str(&format!("Approved-By: {}\n", one_line(by)));
                }
                m
            }
            Mutation::Rollback {
                tier,
                current,
                target,
                cause,
                ..
            } => {
                let mut m = format!(
                    "Roll back {tier} to {} ({})\n\nRevision {} replaces {}.\n\n",
                    target.tag.as_deref().unwrap_or(target.short()),
                    target.short(),
                    target.id,
                    current.id
                );
                m.push_str(&format!(
                    "Action: rollback\nTier: {tier}\nFrom: {}\nTo: {}\nOperator: {}\n",
                    current.id,
                    target.id,
                    one_line(operator)
                ));
                if let Some(cause) = cause {
                    m.push_str(&format!("Cause: {}\n", one_line(cause)));
                }
                m
            }
            Mutation::Reassign { .. }
            | Mutation::Cordon { .. }
            | Mutation::Uncordon { .. }
            | Mutation::DrainBatch { .. }
            | Mutation::RestoreBatch { .. }
            | Mutation::Notes { .. }
            | Mutation::Silence { .. }
            | Mutation::ExpireSilence { .. }
            | Mutation::Halt { .. }
            | Mutation::Resume { .. }
            | Mutation::ClearFailed { .. }
            | Mutation::MarkFailed { .. }
            | Mutation::RequestApproval { .. }
            | Mutation::Approve { .. } => String::new(),
        }
    }
}

/// `text` on one line: a trailer's value never runs into the next trailer.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A revision's label, or `nothing`.
fn label(r: &Option<Revision>) -> String {
    r.as_ref()
        .map(|r| r.label())
        .unwrap_or_else(|| "nothing".into())
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
    /// Halting and resuming promotions, and clearing a failed release.
    Halt,
    /// Asking for a second person's approval.
    Request,
    /// Approving a request.
    Approve,
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
            // A halt is the emergency brake: it must work while a release or a drain holds the
            // lock. Approvals come from a second person, who is not the lock's holder. These
            // writes touch only their own objects, and every promotion re-reads them.
            Mutation::Halt { .. }
            | Mutation::Resume { .. }
            | Mutation::ClearFailed { .. }
            | Mutation::MarkFailed { .. } => &[Capability::Halt],
            Mutation::RequestApproval { .. } => &[Capability::Request],
            Mutation::Approve { .. } => &[Capability::Approve],
        }
    }
}
