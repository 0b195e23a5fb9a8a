//! Halts, failed releases and approvals as the executor writes them: the store a backend
//! provides, and the re-checks that make each write mean exactly what was confirmed.

use super::{Mutation, OpsError};
use crate::domain::release::{ApprovalRequest, FailedRelease, Halt, ReleaseControls};
use crate::domain::{Approval, Fleet, Ts};

/// Where release controls live (shopset.dev objects in live mode, the demo directory in the
/// demo), and who this session is to them.
#[async_trait::async_trait]
pub trait ControlStore: Send + Sync {
    /// The person this session acts as: the API server's identity in live mode
    /// (`SelfSubjectReview`), the operator's name in the demo.
    async fn identity(&self) -> Result<String, OpsError>;
    /// Everything decided, read now.
    async fn read(&self) -> Result<ReleaseControls, OpsError>;
    async fn halt(&self, h: &Halt) -> Result<(), OpsError>;
    /// Lifts the halt of the fleet (`None`) or of one tier — when `halted_at` says when, only
    /// the halt made then.
    async fn resume(&self, tier: Option<&str>, halted_at: Option<Ts>) -> Result<(), OpsError>;
    async fn mark_failed(&self, f: &FailedRelease) -> Result<(), OpsError>;
    async fn clear_failed(&self, tier: &str) -> Result<(), OpsError>;
    async fn request(&self, r: &ApprovalRequest) -> Result<(), OpsError>;
    /// Approves request `name` as `by`; refused when it was approved meanwhile.
    async fn approve(&self, name: &str, by: &str, at: Ts) -> Result<(), OpsError>;
}

/// A name for a new request: the tier and the time, unique enough and a Kubernetes name.
pub fn request_name(tier: &str, now: Ts) -> String {
    format!("{tier}-{:x}{:04x}", now.secs(), fastrand::u16(..))
}

/// Re-checks a control mutation against what is decided now (and, for an approval, against the
/// fleet: the change asked for must still be the change a step would make). `me` is this
/// session's identity.
pub fn recheck(
    m: &Mutation,
    controls: &ReleaseControls,
    fleet: Option<&Fleet>,
    me: &str,
) -> Result<(), OpsError> {
    match m {
        Mutation::Halt { tier, .. } => {
            let existing = controls.halts.iter().find(|h| h.tier == *tier);
            match existing {
                Some(h) => Err(OpsError::AlreadyDone(h.describe())),
                None => Ok(()),
            }
        }
        Mutation::Resume {
            tier, halted_at, ..
        } => {
            if let Some(h) = controls.halts.iter().find(|h| h.tier == *tier) {
                return match halted_at {
                    Some(at) if h.at != *at => Err(OpsError::Changed(format!(
                        "the halt was lifted and made again since ({})",
                        h.describe()
                    ))),
                    _ => Ok(()),
                };
            }
            Err(OpsError::AlreadyDone(match tier {
                None => "the fleet is not halted".into(),
                Some(t) => format!("'{t}' is not halted"),
            }))
        }
        Mutation::MarkFailed { tier, revision, .. } => {
            match controls.failed_on(tier, &revision.id) {
                Some(f) => Err(OpsError::AlreadyDone(format!(
                    "{} is marked failed on '{tier}' already ({})",
                    revision.label(),
                    f.reason
                ))),
                None => Ok(()),
            }
        }
        Mutation::ClearFailed { tier, revision, .. } => {
            match controls.failed_on(tier, &revision.id) {
                Some(_) => Ok(()),
                None => Err(OpsError::AlreadyDone(format!(
                    "{} is not marked failed on '{tier}'",
                    revision.label()
                ))),
            }
        }
        Mutation::RequestApproval { tier, from, to } => {
            let fleet = fleet.ok_or_else(|| OpsError::Read("the fleet was not read".into()))?;
            same_change(fleet, tier, from.as_ref().map(|r| r.id.as_str()), &to.id)?;
            let t = fleet
                .tier(tier)
                .ok_or_else(|| OpsError::Changed(format!("tier '{tier}' no longer exists")))?;
            match controls.request_for(t, &to.id) {
                Some(r) if r.approved() => Err(OpsError::AlreadyDone(format!(
                    "{} approved this change at {}",
                    r.approved_by.as_deref().unwrap_or_default(),
                    r.approved_at.map(|t| t.hhmmss()).unwrap_or_default()
                ))),
                Some(r) => Err(OpsError::AlreadyDone(format!(
                    "{} asked for this approval at {}",
                    r.requested_by,
                    r.requested_at.hhmmss()
                ))),
                None => Ok(()),
            }
        }
        Mutation::Approve {
            tier,
            request,
            from,
            to,
        } => {
            let Some(r) = controls.requests.iter().find(|r| r.name == *request) else {
                return Err(OpsError::Changed(format!(
                    "the request '{request}' no longer exists"
                )));
            };
            if let Some(by) = &r.approved_by {
                return Err(OpsError::AlreadyDone(format!(
                    "{by} approved it at {}",
                    r.approved_at.map(|t| t.hhmmss()).unwrap_or_default()
                )));
            }
            if r.requested_by == me {
                return Err(OpsError::Refused(format!(
                    "{me} asked for this approval; a second person must give it"
                )));
            }
            let from = from.as_ref().map(|r| r.id.as_str());
            if !r.is_for(tier, from, &to.id) {
                return Err(OpsError::Changed(format!(
                    "the request '{request}' asks for another change"
                )));
            }
            let fleet = fleet.ok_or_else(|| OpsError::Read("the fleet was not read".into()))?;
            same_change(fleet, tier, from, &to.id)
        }
        _ => Ok(()),
    }
}

/// The change `from` → `to` is still what a step into `tier` would make, and the tier asks for
/// approval.
fn same_change(fleet: &Fleet, tier: &str, from: Option<&str>, to: &str) -> Result<(), OpsError> {
    let t = fleet
        .tier(tier)
        .ok_or_else(|| OpsError::Changed(format!("tier '{tier}' no longer exists")))?;
    if t.approval == Approval::None {
        return Err(OpsError::Refused(format!(
            "'{tier}' does not ask for a second person's approval"
        )));
    }
    let below = fleet
        .tier_below(tier)
        .and_then(|b| b.revision.as_ref())
        .map(|r| r.id.as_str());
    let current = t.revision.as_ref().map(|r| r.id.as_str());
    if current != from || below != Some(to) {
        return Err(OpsError::Changed(format!(
            "a step into '{tier}' would now be another change ({} → {})",
            short(current),
            short(below)
        )));
    }
    Ok(())
}

fn short(id: Option<&str>) -> &str {
    id.map_or("nothing", |i| i.get(..7).unwrap_or(i))
}
