//! The embedded demo fleet: a simulated control plane and Argo CD over real git repositories,
//! with all state in one directory so that every process on it sees the same fleet.

pub mod placement;
pub mod repos;
pub mod sim;
pub mod store;
pub mod topology;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use self::store::{DemoError, DemoState};
use super::git::{self, AppHistory};
use super::{FleetSource, SourceEvent, SourceInfo};
use crate::domain::{Fleet, FleetUpdate, Shop, Ts};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// Releases go well; alerts are day-to-day noise.
    Calm,
    /// The newest release degrades every production ShopSet that receives it and fires alerts.
    BadRelease,
    /// Cluster B becomes unreachable 30 seconds after the fleet is created.
    ClusterOutage,
}

impl Scenario {
    pub const ALL: [Scenario; 3] = [
        Scenario::Calm,
        Scenario::BadRelease,
        Scenario::ClusterOutage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::Calm => "calm",
            Scenario::BadRelease => "bad-release",
            Scenario::ClusterOutage => "cluster-outage",
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scenario {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scenario::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.as_str()).collect();
                format!(
                    "unknown scenario '{s}' (expected one of: {})",
                    names.join(", ")
                )
            })
    }
}

/// How to open the demo fleet; `None` means "whatever the directory holds, or the default".
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub dir: PathBuf,
    pub scale: Option<u32>,
    pub seed: Option<u64>,
    pub scenario: Option<Scenario>,
    pub reset: bool,
    /// Read-only: open an existing fleet only; never create, reset or write one.
    pub readonly: bool,
    /// Creation time of a new fleet (default: now); tests pin it for reproducible fleets.
    pub created_at: Option<Ts>,
}

pub const DEFAULT_SCALE: u32 = 2000;

/// The default demo directory: `$XDG_STATE_HOME/shopctl/demo` (or `~/.local/state/shopctl/demo`).
pub fn default_dir() -> PathBuf {
    crate::state_dir().join("demo")
}

/// An opened demo fleet: the files it was read from and what they held.
pub struct DemoFleet {
    state: DemoState,
    shops: Arc<Vec<Shop>>,
    history: AppHistory,
    branches: Vec<String>,
}

impl DemoFleet {
    /// Opens the demo directory, creating (or with `reset`, recreating) the fleet in it.
    pub fn open(opts: &DemoOptions) -> Result<DemoFleet, DemoError> {
        let state = store::open_or_create(opts)?;
        // Shops are read by the first `reload`, so the console can draw before they arrive.
        let shops = Arc::new(Vec::new());
        let history = AppHistory::read(&opts.dir.join(repos::APP_REPO), repos::APP_BRANCH)?;
        let branches = state
            .topology
            .tiers
            .iter()
            .map(|t| repos::tier_branch(t.level))
            .collect();
        Ok(DemoFleet {
            state,
            shops,
            history,
            branches,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.state.dir
    }

    pub fn meta(&self) -> &store::DemoMeta {
        &self.state.meta
    }

    /// Re-reads state files another process may have changed; true when something did.
    pub fn reload(&mut self) -> Result<bool, DemoError> {
        let mut changed = false;
        if let Some(state) = store::reload_state(&self.state)? {
            self.state = state;
            changed = true;
        }
        if let Some(shops) = store::reload_shops(&mut self.state)? {
            self.shops = Arc::new(shops);
            changed = true;
        }
        Ok(changed)
    }

    pub fn shops(&self) -> Arc<Vec<Shop>> {
        Arc::clone(&self.shops)
    }

    /// The simulated world at `now`.
    pub fn read(&mut self, now: Ts) -> Result<sim::Reading, DemoError> {
        let branches =
            git::read_branches(&self.state.dir.join(repos::SYSTEM_REMOTE), &self.branches)?;
        let tip_changed = {
            let tip = git2::Repository::open(self.state.dir.join(repos::APP_REPO))
                .ok()
                .and_then(|r| {
                    r.refname_to_id(&format!("refs/heads/{}", repos::APP_BRANCH))
                        .ok()
                })
                .map(|o| o.to_string());
            tip.as_deref() != self.history.tip()
        };
        if tip_changed {
            self.history =
                AppHistory::read(&self.state.dir.join(repos::APP_REPO), repos::APP_BRANCH)?;
        }
        let world = sim::World {
            topology: &self.state.topology,
            seed: self.state.meta.seed,
            scenario: self.state.meta.scenario,
            created_at: self.state.meta.created_at,
            branches: &branches,
            history: &self.history,
            lock: store::read_lock(&self.state.dir)?,
        };
        Ok(world.read(now))
    }

    pub fn history(&self) -> &AppHistory {
        &self.history
    }

    /// The read-write executor for this demo fleet: its working clone, lock file and audit log.
    pub fn executor(&self, operator: String) -> crate::ops::Executor {
        let dir = &self.state.dir;
        crate::ops::Executor::new(
            operator,
            dir.join(repos::SYSTEM_CLONE),
            Box::new(crate::ops::lock::FileLock {
                path: dir.join(store::LOCK_FILE),
            }),
            crate::ops::audit::AuditLog {
                path: dir.join(AUDIT_FILE),
            },
            Box::new(placement::DemoPlacement { dir: dir.clone() }),
        )
    }
}

/// The demo's audit log, in the demo directory.
pub const AUDIT_FILE: &str = "audit.jsonl";

/// The demo backend behind the [`FleetSource`] seam.
pub struct DemoSource {
    fleet: DemoFleet,
    /// How often the simulated world is re-read.
    pub interval: Duration,
}

impl DemoSource {
    pub fn new(fleet: DemoFleet) -> DemoSource {
        DemoSource {
            fleet,
            interval: Duration::from_millis(1000),
        }
    }
}

impl FleetSource for DemoSource {
    fn info(&self) -> SourceInfo {
        let m = self.fleet.meta();
        SourceInfo {
            fleet: m.fleet_name.clone(),
            context: format!(
                "demo:{} ({} shops, {})",
                self.fleet.dir().display(),
                m.scale,
                m.scenario
            ),
            mode: "demo",
        }
    }

    fn snapshot(&mut self, now: Ts) -> anyhow::Result<Fleet> {
        self.fleet.reload()?;
        let reading = self.fleet.read(now)?;
        let mut fleet = Fleet::new(self.fleet.meta().fleet_name.clone());
        for u in updates(None, &reading) {
            fleet.apply(u);
        }
        fleet.apply(FleetUpdate::Shops(self.fleet.shops()));
        fleet.refresh();
        Ok(fleet)
    }

    fn watch(mut self: Box<Self>, tx: mpsc::Sender<SourceEvent>) {
        let mut last: Option<sim::Reading> = None;
        let mut first = true;
        loop {
            let mut failing = false;
            let reloaded = match self.fleet.reload() {
                Ok(changed) => changed,
                Err(e) => {
                    failing = true;
                    if tx.blocking_send(problem(&e)).is_err() {
                        return;
                    }
                    false
                }
            };
            let now = Ts::now();
            match self.fleet.read(now) {
                Ok(reading) => {
                    for u in updates(last.as_ref(), &reading) {
                        if tx.blocking_send(SourceEvent::Update(u)).is_err() {
                            return;
                        }
                    }
                    last = Some(reading);
                }
                Err(e) => {
                    failing = true;
                    if tx.blocking_send(problem(&e)).is_err() {
                        return;
                    }
                }
            }
            // Shops after the topology they refer to, so that no view sees shops on unknown ShopSets.
            if first || reloaded {
                if tx
                    .blocking_send(SourceEvent::Update(FleetUpdate::Shops(self.fleet.shops())))
                    .is_err()
                {
                    return;
                }
                first = false;
            }
            if !failing && tx.blocking_send(SourceEvent::Heartbeat(now)).is_err() {
                return;
            }
            std::thread::sleep(self.interval);
        }
    }
}

fn problem(e: &DemoError) -> SourceEvent {
    SourceEvent::Problem {
        source: "demo".into(),
        message: e.to_string(),
    }
}

/// The updates that turn `old` into `new` (everything when there is no `old`).
fn updates(old: Option<&sim::Reading>, new: &sim::Reading) -> Vec<FleetUpdate> {
    let mut out = Vec::new();
    if old.is_none_or(|o| o.clusters != new.clusters) {
        out.push(FleetUpdate::Clusters(new.clusters.clone()));
    }
    if old.is_none_or(|o| o.tiers != new.tiers) {
        out.push(FleetUpdate::Tiers(new.tiers.clone()));
    }
    if old.is_none_or(|o| o.shopsets != new.shopsets) {
        out.push(FleetUpdate::ShopSets(new.shopsets.clone()));
    }
    match old {
        Some(o) if o.apps.len() == new.apps.len() => {
            for (a, b) in o.apps.iter().zip(&new.apps) {
                if a != b {
                    out.push(FleetUpdate::AppUpserted(b.clone()));
                }
            }
        }
        _ => out.push(FleetUpdate::Apps(new.apps.clone())),
    }
    if old.is_none_or(|o| o.alerts != new.alerts) {
        out.push(FleetUpdate::Alerts(new.alerts.clone()));
    }
    if old.is_none_or(|o| o.lock != new.lock) {
        out.push(FleetUpdate::Lock(new.lock.clone()));
    }
    if old.is_none_or(|o| o.releases != new.releases) {
        out.push(FleetUpdate::Releases(new.releases.clone()));
    }
    out
}
