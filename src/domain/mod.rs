//! Pure types and rules of the fleet: no I/O, no terminal.

pub mod drains;
pub mod fleet;
pub mod freshness;
pub mod invariants;
pub mod model;
pub mod placement;
pub mod release;
pub mod silence;
pub mod time;

pub use fleet::{Fleet, FleetUpdate};
pub use invariants::Violation;
pub use model::*;
pub use silence::{MatchOp, Matcher, Silence, SilenceState};
pub use time::Ts;
