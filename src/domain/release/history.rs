//! What happened to each tier, read back from what lasts: the tier branches' commits, which
//! shopctl writes self-describing (a subject, then trailers: `Action`, `Tier`, `From`, `To`,
//! `From-Tier`, `Operator`, `Gate`, `Override`, `Reason`, `Approved-By`, `Cause`). A change made
//! without shopctl (a merge into a tier branch) is a `change` by its commit's author. The
//! outcome of each change comes from the changes after it and, for a tier's latest, from the
//! fleet as it is now.

use serde::Serialize;

use super::settled::{rollout, settled_at};
use crate::domain::{Fleet, Ts};

/// One commit that changed what a tier runs, as git has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierChange {
    pub commit: String,
    pub at: Ts,
    /// The commit's author (`name <email>`, or the name alone).
    pub author: String,
    pub message: String,
    /// The app commit the tier ran before (none for the branch's first pin).
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Promote,
    Rollback,
    /// A change of the tier branch not made by shopctl.
    Change,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The tier runs it, every ShopSet synced and healthy.
    Settled,
    /// The tier runs it; not every ShopSet has settled yet.
    Settling,
    /// The tier runs it and a ShopSet is degraded, or the release is marked failed there.
    Failed,
    /// The next change of the tier took it back.
    RolledBack,
    /// A later change replaced it.
    Superseded,
    /// The fleet cannot say (its Applications are not known).
    Unknown,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Settled => "settled",
            Outcome::Settling => "settling",
            Outcome::Failed => "failed",
            Outcome::RolledBack => "rolled back",
            Outcome::Superseded => "superseded",
            Outcome::Unknown => "unknown",
        }
    }
}

/// An app revision as the history names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rev {
    pub commit: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

impl Rev {
    /// `v1.42.0 (49ca51e)`, or the short id.
    pub fn label(&self) -> String {
        let short = self.commit.get(..7).unwrap_or(&self.commit);
        match &self.tag {
            Some(t) => format!("{t} ({short})"),
            None => short.to_string(),
        }
    }
}

/// One promotion, rollback or outside change of a tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseEvent {
    pub tier: String,
    pub action: Action,
    /// When it was committed (RFC 3339, UTC).
    #[serde(serialize_with = "rfc3339")]
    pub at: Ts,
    /// Who: the operator shopctl names (the API server's identity in live mode), else the
    /// commit's author.
    pub by: String,
    pub from: Option<Rev>,
    pub to: Option<Rev>,
    /// The tier a promotion took its revision from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_tier: Option<String>,
    /// The tier branch's commit.
    pub commit: String,
    /// `passed` or `overridden` (promotions by shopctl).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gate: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overridden: Vec<String>,
    /// Why the gate was overridden.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// Why a rollback was made (the release watcher says).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    pub outcome: Outcome,
    /// Seconds from the change to every ShopSet of the tier settled on it, where known (the
    /// tier's latest change, from its Applications' sync results).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settled_after_secs: Option<i64>,
}

fn rfc3339<S: serde::Serializer>(t: &Ts, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.rfc3339())
}

/// What a commit message says, trailer by trailer (the last of each name wins).
#[derive(Debug, Default, PartialEq, Eq)]
struct Said {
    action: Option<Action>,
    operator: Option<String>,
    from_tier: Option<String>,
    gate: Option<String>,
    overridden: Vec<String>,
    reason: Option<String>,
    approved_by: Option<String>,
    cause: Option<String>,
}

fn read_message(message: &str) -> Said {
    let mut said = Said::default();
    let subject = message.lines().next().unwrap_or_default();
    // Commits written before the trailers had an `Action`: their subject says.
    if subject.starts_with("Promote ") {
        said.action = Some(Action::Promote);
    } else if subject.starts_with("Roll back ") {
        said.action = Some(Action::Rollback);
    }
    for line in message.lines().skip(1) {
        let Some((key, value)) = line.split_once(": ") else {
            continue;
        };
        let value = value.trim().to_string();
        match key.trim() {
            "Action" => {
                said.action = match value.as_str() {
                    "promote" => Some(Action::Promote),
                    "rollback" => Some(Action::Rollback),
                    _ => said.action,
                }
            }
            "Operator" => said.operator = Some(value),
            "From-Tier" => said.from_tier = Some(value),
            "Gate" => said.gate = Some(value),
            "Override" => {
                said.overridden = value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            }
            "Reason" => said.reason = Some(value),
            "Approved-By" => said.approved_by = Some(value),
            "Cause" => said.cause = Some(value),
            _ => {}
        }
    }
    // `Revision X from tier 'Y'.` (before the trailers).
    if said.from_tier.is_none()
        && let Some(rest) = message.split("from tier '").nth(1)
        && let Some(tier) = rest.split('\'').next()
    {
        said.from_tier = Some(tier.to_string());
    }
    if said.gate.is_none() && said.action == Some(Action::Promote) && said.operator.is_some() {
        said.gate = Some(
            if said.reason.is_some() {
                "overridden"
            } else {
                "passed"
            }
            .into(),
        );
    }
    said
}

/// Every change of every tier in `changes` (each tier's newest first, as git gives them),
/// oldest first, with its outcome. `tag` names an app commit's release tag, if it has one.
pub fn events(
    fleet: &Fleet,
    changes: &[(String, Vec<TierChange>)],
    tag: &dyn Fn(&str) -> Option<String>,
) -> Vec<ReleaseEvent> {
    let rev = |id: &Option<String>| {
        id.as_ref().map(|c| Rev {
            commit: c.clone(),
            tag: tag(c),
        })
    };
    let mut all = Vec::new();
    for (tier, tier_changes) in changes {
        let mut oldest_first: Vec<&TierChange> = tier_changes.iter().collect();
        oldest_first.reverse();
        let n = oldest_first.len();
        for (i, c) in oldest_first.iter().enumerate() {
            let said = read_message(&c.message);
            let action = said.action.unwrap_or(Action::Change);
            let next = oldest_first.get(i + 1);
            let (outcome, settled_after_secs) = match next {
                Some(next)
                    if next.from == c.to
                        && read_message(&next.message).action == Some(Action::Rollback) =>
                {
                    (Outcome::RolledBack, None)
                }
                Some(_) => (Outcome::Superseded, None),
                None => latest_outcome(fleet, tier, c),
            };
            debug_assert!(i < n);
            all.push(ReleaseEvent {
                tier: tier.clone(),
                action,
                at: c.at,
                by: said.operator.unwrap_or_else(|| c.author.clone()),
                from: rev(&c.from),
                to: rev(&c.to),
                from_tier: said.from_tier.filter(|_| action == Action::Promote),
                commit: c.commit.clone(),
                gate: said.gate.filter(|_| action == Action::Promote),
                overridden: said.overridden,
                reason: said.reason,
                approved_by: said.approved_by,
                cause: said.cause,
                outcome,
                settled_after_secs,
            });
        }
    }
    all.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.tier.cmp(&b.tier)));
    all
}

/// The outcome of a tier's latest change: what the fleet says of the tier now.
fn latest_outcome(fleet: &Fleet, tier: &str, c: &TierChange) -> (Outcome, Option<i64>) {
    let Some(t) = fleet.tier(tier) else {
        return (Outcome::Unknown, None);
    };
    let runs = t.revision.as_ref().map(|r| r.id.as_str());
    if runs != c.to.as_deref() {
        return (Outcome::Unknown, None);
    }
    if let Some(to) = &c.to
        && fleet.controls.failed_on(tier, to).is_some()
    {
        return (Outcome::Failed, None);
    }
    let r = rollout(fleet, t);
    if r.degraded.is_some() {
        return (Outcome::Failed, None);
    }
    if r.unknown || r.missing.is_some() {
        return (Outcome::Unknown, None);
    }
    match settled_at(fleet, t) {
        Some(at) => (Outcome::Settled, Some(c.at.secs_until(at).max(0))),
        None => (Outcome::Settling, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_with_trailers_says_everything() {
        let m = "Promote prod to v1.42.0 (49ca51e)\n\nRevision 49ca51e from tier 'prod-beta'.\n\nAction: promote\nTier: prod\nFrom: aaa\nTo: bbb\nFrom-Tier: prod-beta\nOperator: alice@ops\nGate: overridden\nOverride: soak, alerts\nReason: hotfix for checkout\nApproved-By: bob@ops\n";
        let said = read_message(m);
        assert_eq!(said.action, Some(Action::Promote));
        assert_eq!(said.operator.as_deref(), Some("alice@ops"));
        assert_eq!(said.from_tier.as_deref(), Some("prod-beta"));
        assert_eq!(said.gate.as_deref(), Some("overridden"));
        assert_eq!(said.overridden, vec!["soak", "alerts"]);
        assert_eq!(said.reason.as_deref(), Some("hotfix for checkout"));
        assert_eq!(said.approved_by.as_deref(), Some("bob@ops"));
    }

    #[test]
    fn older_messages_and_outside_commits_are_read_too() {
        let old = read_message(
            "Promote prod to v1.41.0 (1467e6d)\n\nRevision 1467e6d from tier 'prod-beta'.\nOperator: carol\n",
        );
        assert_eq!(old.action, Some(Action::Promote));
        assert_eq!(old.operator.as_deref(), Some("carol"));
        assert_eq!(old.from_tier.as_deref(), Some("prod-beta"));
        assert_eq!(old.gate.as_deref(), Some("passed"));
        let rollback = read_message(
            "Roll back prod to v1.41.0 (1467e6d)\n\nRevision a replaces b.\nOperator: release-watch\nCause: alert X fires\n",
        );
        assert_eq!(rollback.action, Some(Action::Rollback));
        assert_eq!(rollback.cause.as_deref(), Some("alert X fires"));
        let outside = read_message("Merge branch 'feature' into dev\n");
        assert_eq!(outside, Said::default());
    }
}
