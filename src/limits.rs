//! Defaults and limits that the command line and the console share, so that neither reaches
//! into the other for them.

/// How often the wall screen turns to its next view, by default (seconds).
pub const WALL_ROTATE_SECS: u64 = 20;

/// The slowest and the fastest a recording is replayed.
pub const REPLAY_MIN_SPEED: f64 = 0.25;
pub const REPLAY_MAX_SPEED: f64 = 100_000.0;
