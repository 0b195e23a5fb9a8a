//! What people (and the release watcher) decided about releases, stored where every console sees
//! it: a halt of the fleet or of one tier, a release marked failed on a tier, and requests for a
//! second person's approval.

use serde::{Deserialize, Serialize};

use crate::domain::model::{Revision, Tier};
use crate::domain::time::Ts;

/// Every promotion stops — on the whole fleet, or on one tier — until someone resumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Halt {
    /// The tier halted; `None` halts the whole fleet.
    pub tier: Option<String>,
    pub reason: String,
    pub by: String,
    pub at: Ts,
}

impl Halt {
    /// `halted by alice@ops at 14:02:11: checkout incident`.
    pub fn describe(&self) -> String {
        let scope = match &self.tier {
            None => "the fleet is halted".to_string(),
            Some(t) => format!("'{t}' is halted"),
        };
        format!(
            "{scope} by {} at {}: {}",
            self.by,
            self.at.hhmmss(),
            self.reason
        )
    }
}

/// A release that failed on a tier (it was rolled back): not offered for that tier again until a
/// person clears the mark with a reason, or a different release arrives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedRelease {
    pub tier: String,
    pub revision: Revision,
    pub reason: String,
    pub by: String,
    pub at: Ts,
}

/// A request for a second person to approve one change of one tier: exactly `from` → `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRequest {
    /// Unique among requests (the object's name in live mode).
    pub name: String,
    pub tier: String,
    /// The app commit the tier runs when asked (none for a tier that runs nothing yet).
    pub from: Option<String>,
    /// The app commit it would run.
    pub to: Revision,
    pub requested_by: String,
    pub requested_at: Ts,
    /// The tier branch's head commit when asked: any change of the tier since (a step, a
    /// rollback) uses the request up.
    #[serde(default)]
    pub head: Option<String>,
    #[serde(default)]
    pub approved_by: Option<String>,
    #[serde(default)]
    pub approved_at: Option<Ts>,
}

impl ApprovalRequest {
    /// Whether it asks for exactly this change.
    pub fn is_for(&self, tier: &str, from: Option<&str>, to: &str) -> bool {
        self.tier == tier && self.from.as_deref() == from && self.to.id == to
    }

    /// Approved by someone other than the person who asked.
    pub fn approved(&self) -> bool {
        self.approved_by
            .as_ref()
            .is_some_and(|by| *by != self.requested_by)
    }
}

/// Everything decided about releases, as read from where it is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseControls {
    #[serde(default)]
    pub halts: Vec<Halt>,
    #[serde(default)]
    pub failed: Vec<FailedRelease>,
    #[serde(default)]
    pub requests: Vec<ApprovalRequest>,
}

impl ReleaseControls {
    /// The fleet's halt, if the fleet is halted.
    pub fn fleet_halt(&self) -> Option<&Halt> {
        self.halts.iter().find(|h| h.tier.is_none())
    }

    /// What halts promotions into `tier`: the fleet's halt first, then the tier's own.
    pub fn halt_of(&self, tier: &str) -> Option<&Halt> {
        self.fleet_halt()
            .or_else(|| self.halts.iter().find(|h| h.tier.as_deref() == Some(tier)))
    }

    /// The failed mark of `revision` on `tier`, if it failed there.
    pub fn failed_on(&self, tier: &str, revision: &str) -> Option<&FailedRelease> {
        self.failed
            .iter()
            .find(|f| f.tier == tier && f.revision.id == revision)
    }

    /// The newest request for exactly the change of `tier` from what it runs to `to`, asked
    /// since the tier last changed: an approval counts for one step, and a step, a rollback or
    /// any other change of the tier since it was asked uses it up.
    pub fn request_for(&self, tier: &Tier, to: &str) -> Option<&ApprovalRequest> {
        let from = tier.revision.as_ref().map(|r| r.id.as_str());
        self.requests
            .iter()
            .filter(|r| r.is_for(&tier.name, from, to))
            .filter(|r| match (&r.head, &tier.head) {
                (Some(asked), Some(now)) => asked == now,
                // Without the head it was asked at: asked in a later second than the tier's
                // last change (commit times have whole seconds).
                _ => tier
                    .updated_at
                    .is_none_or(|changed| r.requested_at.secs() > changed.secs()),
            })
            .max_by_key(|r| r.requested_at)
    }

    /// Requests not approved yet, oldest first.
    pub fn pending(&self) -> impl Iterator<Item = &ApprovalRequest> {
        self.requests.iter().filter(|r| r.approved_by.is_none())
    }
}

/// The change a step into `tier` would make now — from what it runs to what the tier below
/// runs — which is what a second person approves; `Err` says why there is none to approve.
pub fn approval_change(
    fleet: &crate::domain::fleet::Fleet,
    tier: &str,
) -> Result<(Option<Revision>, Revision), String> {
    let t = fleet
        .tier(tier)
        .ok_or_else(|| format!("unknown tier '{tier}'"))?;
    if t.approval == crate::domain::model::Approval::None {
        return Err(format!(
            "'{tier}' does not ask for a second person's approval"
        ));
    }
    let to = fleet
        .tier_below(tier)
        .and_then(|b| b.revision.clone())
        .ok_or_else(|| format!("there is nothing to promote into '{tier}'"))?;
    if t.revision.as_ref().map(|r| &r.id) == Some(&to.id) {
        return Err(format!("'{tier}' already runs {}", to.label()));
    }
    Ok((t.revision.clone(), to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::release::testing::{NOW, rev};

    fn request(by: &str, approved_by: Option<&str>) -> ApprovalRequest {
        ApprovalRequest {
            name: "prod-1".into(),
            tier: "prod".into(),
            from: Some(rev(4).id),
            to: rev(5),
            requested_by: by.into(),
            requested_at: NOW,
            head: Some("head-1".into()),
            approved_by: approved_by.map(str::to_string),
            approved_at: approved_by.map(|_| NOW),
        }
    }

    #[test]
    fn an_approval_counts_only_from_another_person_for_exactly_the_change() {
        assert!(request("alice", Some("bob")).approved());
        assert!(!request("alice", Some("alice")).approved());
        assert!(!request("alice", None).approved());
        let c = ReleaseControls {
            requests: vec![request("alice", Some("bob"))],
            ..Default::default()
        };
        let f = crate::domain::release::testing::fleet();
        let mut prod = f.tier("prod").expect("prod").clone();
        assert!(c.request_for(&prod, &rev(5).id).is_some());
        assert!(c.request_for(&prod, &rev(6).id).is_none());
        // The tier changed since it was asked (its branch head moved): used up.
        prod.head = Some("head-after-a-rollback".into());
        assert!(c.request_for(&prod, &rev(5).id).is_none());
        prod.head = Some("head-1".into());
        prod.revision = Some(rev(3));
        assert!(c.request_for(&prod, &rev(5).id).is_none());
    }

    #[test]
    fn a_fleet_halt_halts_every_tier_and_a_tier_halt_only_its_own() {
        let halt = |tier: Option<&str>| Halt {
            tier: tier.map(str::to_string),
            reason: "r".into(),
            by: "alice".into(),
            at: NOW,
        };
        let c = ReleaseControls {
            halts: vec![halt(Some("prod"))],
            ..Default::default()
        };
        assert!(c.halt_of("prod").is_some() && c.halt_of("beta").is_none());
        let c = ReleaseControls {
            halts: vec![halt(Some("prod")), halt(None)],
            ..Default::default()
        };
        assert_eq!(c.halt_of("beta").map(|h| h.tier.clone()), Some(None));
        assert!(c.halt_of("prod").is_some_and(|h| h.tier.is_none()));
    }
}
