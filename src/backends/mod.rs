//! The seam between the console and the world: a backend opens to a [`FleetSource`] (what the
//! fleet looks like, as a stream of domain updates with freshness per source) and, read-write,
//! to an executor. Sources send messages; they never touch UI state. The demo simulator is one
//! backend; live mode (backends/live) is another.

pub mod demo;
pub mod live;
pub mod verifying;

use futures::future::BoxFuture;
use thiserror::Error;
use tokio::sync::mpsc;

pub use crate::domain::freshness::SourceId;
use crate::domain::{Fleet, FleetUpdate, Ts};

/// What a source tells the console.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum SourceEvent {
    Update(FleetUpdate),
    /// The source read the world at this moment (whether or not anything changed).
    Heartbeat {
        source: SourceId,
        at: Ts,
    },
    /// A source's first read is still arriving: this much of it so far.
    Loading {
        source: SourceId,
        progress: crate::domain::freshness::Loading,
    },
    /// A source could not read; the view keeps its last data and shows it as stale.
    Problem {
        source: SourceId,
        message: String,
    },
}

/// How the header names where the data comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    pub fleet: String,
    pub context: String,
    pub mode: &'static str,
}

/// Why the fleet could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{from}: {message}")]
pub struct SourceError {
    pub from: SourceId,
    pub message: String,
}

/// The seam every backend implements: one full read for headless commands, and a watch that
/// streams events to the console until the receiver goes away or the task is aborted.
pub trait FleetSource: Send + 'static {
    fn info(&self) -> SourceInfo;

    /// Reads the whole fleet once.
    fn snapshot(&mut self, now: Ts) -> BoxFuture<'_, Result<Fleet, SourceError>>;

    /// Watches the fleet on the caller's runtime, sending the initial state and then every
    /// change. Dropping (aborting) the future stops it.
    fn watch(self: Box<Self>, tx: mpsc::Sender<SourceEvent>) -> BoxFuture<'static, ()>;

    /// What the system repository says of each tier's past: for each `(tier, branch)`, the
    /// commits made at or after `since` that changed what it runs (newest first), with the app
    /// repository's history that names their revisions. Read where the repositories are (the
    /// remote fetched first in live mode).
    fn tier_changes(
        &mut self,
        tiers: Vec<(String, String)>,
        since: Option<Ts>,
    ) -> BoxFuture<'_, Result<TierChanges, SourceError>>;
}

/// Each tier's changes, newest first, and the app history naming their revisions.
pub struct TierChanges {
    pub tiers: Vec<(String, Vec<crate::domain::release::history::TierChange>)>,
    pub app: crate::git::read::AppHistory,
}

/// Reads `tiers`' changes from the system repository at `system` (blocking).
pub fn read_tier_changes(
    system: &std::path::Path,
    tiers: &[(String, String)],
    since: Option<Ts>,
    app: crate::git::read::AppHistory,
) -> Result<TierChanges, SourceError> {
    let tiers = tiers
        .iter()
        .map(|(tier, branch)| {
            crate::git::history::tier_changes(system, branch, since)
                .map(|changes| (tier.clone(), changes))
                .map_err(|e| SourceError {
                    from: SourceId::Git,
                    message: e.to_string(),
                })
        })
        .collect::<Result<_, _>>()?;
    Ok(TierChanges { tiers, app })
}
