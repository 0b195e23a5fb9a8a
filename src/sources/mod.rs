//! Adapters that watch the world and report it as domain updates. They send messages; they never
//! touch UI state. The demo simulator is one backend; live Kubernetes mode is another.

pub mod demo;
pub mod git;
pub mod kube;

use tokio::sync::mpsc;

use crate::domain::{Fleet, FleetUpdate, Ts};

/// What a source tells the console.
#[derive(Debug, Clone)]
pub enum SourceEvent {
    Update(FleetUpdate),
    /// The source read the world at this moment (whether or not anything changed).
    Heartbeat(Ts),
    /// A source could not read; the view keeps its last data and shows it as stale.
    Problem {
        source: String,
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

/// The seam every backend implements: one full read for headless commands, and a watch that
/// streams events to the console until the receiver goes away.
pub trait FleetSource: Send + 'static {
    fn info(&self) -> SourceInfo;

    /// Reads the whole fleet once.
    fn snapshot(&mut self, now: Ts) -> anyhow::Result<Fleet>;

    /// Watches the fleet, sending the initial state and then every change.
    fn watch(self: Box<Self>, tx: mpsc::Sender<SourceEvent>);
}
