//! Headless commands: what scripts and CI gates run. Errors go to stderr; exit codes are stable.

pub mod placement;
pub mod release;
pub mod status;

pub use status::{status, themes};

/// Exit status of every command (DESIGN.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Done = 0,
    Error = 1,
    /// Refused by a rule: a failed gate, blockers, a placement rule.
    Refused = 2,
    ReadOnly = 3,
    /// Another operator holds the lock.
    Locked = 4,
}
