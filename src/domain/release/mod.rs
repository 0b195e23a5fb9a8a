//! Releases move up one tier at a time. The rules, pure over a snapshot: when a tier has settled,
//! the gate for promoting into the next, how a pushed step is rolling out, and the release as a
//! checklist with the next action.

pub mod controls;
pub mod freeze;
pub mod gate;
pub mod guide;
pub mod history;
pub mod progress;
pub mod settled;
pub mod soak;
#[cfg(test)]
pub(crate) mod testing;
pub mod verify;

pub use controls::{ApprovalRequest, FailedRelease, Halt, ReleaseControls};
pub use freeze::{Freeze, frozen};
pub use gate::{Check, Condition, Gate, GatePolicy, gate};
pub use guide::{GuideRow, GuideState, guide, next_action};
pub use progress::{Progress, ProgressState};
pub use settled::{Rollout, app_settled, rollout, settled_at};
pub use verify::{TierVerification, Verification};
