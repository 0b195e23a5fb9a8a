//! The embedded demo fleet: a simulated control plane and Argo CD over real git repositories,
//! with all state in one directory so that every process on it sees the same fleet.

pub mod controls;
pub mod lock;
pub mod metrics;
pub mod placement;
pub mod repos;
pub mod silences;
pub mod sim;
pub mod store;
pub mod topology;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use self::lock::{FileLock, read_lock_file, session_is_dead};
use self::store::{DemoError, DemoState};
use super::{FleetSource, SourceError, SourceEvent, SourceId, SourceInfo};
use crate::domain::release::GatePolicy;
use crate::domain::{Fleet, FleetUpdate, ReleaseLock, Shop, Ts};
use crate::git::gitlink::GitReleases;
use crate::git::read::{self as git, AppHistory};
use crate::ops::audit::AuditLog;
use crate::ops::{Executor, FleetReader, Holder, OpsError, Stores};

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
    /// Why the system repository could not be read at the last read, if it could not: the
    /// fleet is still shown (and can be drained), without what its tier branches pin.
    git_problem: Option<String>,
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
            git_problem: None,
        })
    }

    /// The fleet already in `dir`, opened again to be read by another part of this process:
    /// reading it never creates one.
    pub fn reopen(dir: &Path) -> Result<DemoFleet, DemoError> {
        DemoFleet::open(&DemoOptions {
            dir: dir.to_path_buf(),
            scale: None,
            seed: None,
            scenario: None,
            reset: false,
            readonly: true,
            created_at: None,
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

    /// The simulated world at `now`. The operator lock is read beside it: a lock that cannot be
    /// read is reported, not a reason to stop showing the fleet.
    pub fn read(&mut self, now: Ts) -> Result<(sim::Reading, LockRead), DemoError> {
        let branches =
            match git::read_branches(&self.state.dir.join(repos::SYSTEM_REMOTE), &self.branches) {
                Ok(b) => {
                    self.git_problem = None;
                    b
                }
                Err(e) => {
                    self.git_problem = Some(e.to_string());
                    vec![None; self.branches.len()]
                }
            };
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
        // A lock whose process is gone holds nothing.
        let lock = read_lock_file(&self.state.dir.join(store::LOCK_FILE))
            .map(|l| l.filter(|l| !session_is_dead(&l.session)));
        let silences = silences::read(&self.state.dir, now);
        let world = sim::World {
            silences: silences.as_deref().unwrap_or_default(),
            topology: &self.state.topology,
            seed: self.state.meta.seed,
            scenario: self.state.meta.scenario,
            created_at: self.state.meta.created_at,
            branches: &branches,
            history: &self.history,
            lock: lock.clone().ok().flatten(),
        };
        let mut reading = world.read(now);
        reading.silences = silences;
        reading.controls = controls::read(&self.state.dir);
        Ok((reading, lock))
    }

    /// The simulated series of `metric` for `shopsets`, a sample every `step` seconds from
    /// `from` to `to`, as their tier branches say what each ran when.
    /// `branches` as [`DemoFleet::branches`] read them.
    pub fn series(
        &self,
        branches: &[Option<git::BranchState>],
        metric: sim::Metric,
        shopsets: &[String],
        from: Ts,
        to: Ts,
        step: i64,
    ) -> Vec<crate::domain::release::verify::Series> {
        let world = sim::World {
            silences: &[],
            topology: &self.state.topology,
            seed: self.state.meta.seed,
            scenario: self.state.meta.scenario,
            created_at: self.state.meta.created_at,
            branches,
            history: &self.history,
            lock: None,
        };
        let mut out = Vec::new();
        for ss in self
            .state
            .topology
            .shopsets
            .iter()
            .filter(|s| shopsets.contains(&s.name))
        {
            let mut samples = Vec::new();
            // On the step grid, so that two reads of one moment agree.
            let mut t = from.secs().div_euclid(step) * step;
            while t <= to.secs() {
                let at = Ts::from_secs(t);
                if at >= from
                    && let Some(v) = world.sample(metric, ss, at)
                {
                    samples.push((at, v));
                }
                t += step;
            }
            out.push(crate::domain::release::verify::Series {
                labels: format!("{{shopset=\"{}\"}}", ss.name),
                samples,
            });
        }
        out
    }

    /// What the tier branches pin now, and since when (re-reading the directory first).
    pub fn branches(&mut self) -> Result<Vec<Option<git::BranchState>>, DemoError> {
        self.reload()?;
        Ok(git::read_branches(
            &self.state.dir.join(repos::SYSTEM_REMOTE),
            &self.branches,
        )?)
    }

    /// Why the system repository could not be read at the last read, if it could not.
    pub fn git_problem(&self) -> Option<&str> {
        self.git_problem.as_deref()
    }

    pub fn history(&self) -> &AppHistory {
        &self.history
    }

    /// The read-write executor for this demo fleet, for one operator session: a fresh reader of
    /// the directory, its working clone, lock file, placement files and audit log.
    pub fn executor(&self, holder: Holder) -> Result<Executor, DemoError> {
        self.executor_with(holder, self.policy())
    }

    /// [`DemoFleet::executor`] under `policy` (freeze windows from the configuration).
    pub fn executor_with(&self, holder: Holder, policy: GatePolicy) -> Result<Executor, DemoError> {
        let stores = self.stores_for(&holder.operator)?;
        Ok(Executor::new(holder, stores, policy))
    }

    /// The stores the demo's executor writes through, acting as this process's operator.
    pub fn stores(&self) -> Result<Stores, DemoError> {
        self.stores_for(&crate::ops::operator())
    }

    /// The stores the demo's executor writes through; approvals and halts are `operator`'s.
    pub fn stores_for(&self, operator: &str) -> Result<Stores, DemoError> {
        let dir = &self.state.dir;
        let reader = DemoFleet::reopen(dir)?;
        let stores = Stores {
            fleet: Box::new(DemoReader(Arc::new(Mutex::new(DemoSource::new(reader))))),
            releases: Box::new(GitReleases {
                clone: dir.join(repos::SYSTEM_CLONE),
            }),
            placement: Box::new(placement::DemoPlacement { dir: dir.clone() }),
            locks: Arc::new(FileLock {
                path: dir.join(store::LOCK_FILE),
            }),
            audit: Box::new(AuditLog {
                path: dir.join(AUDIT_FILE),
            }),
            silences: Box::new(silences::DemoSilences { dir: dir.clone() }),
            controls: Box::new(controls::DemoControls {
                dir: dir.clone(),
                operator: operator.to_string(),
            }),
            metrics: Some(self.metrics()?),
        };
        Ok(stores)
    }

    /// The simulated series of this demo directory.
    pub fn metrics(&self) -> Result<Arc<dyn crate::ops::verify::MetricsSource>, DemoError> {
        Ok(Arc::new(metrics::DemoMetrics::open(&self.state.dir)?))
    }

    /// The release policy of the demo fleet: its own verifications over its simulated series.
    pub fn policy(&self) -> GatePolicy {
        GatePolicy {
            verifications: metrics::verifications(),
            ..GatePolicy::default()
        }
    }
}

/// The operator lock as read: absent, held, or unreadable (with why).
pub type LockRead = Result<Option<ReleaseLock>, String>;

/// The executor's fresh reads of the demo directory.
struct DemoReader(Arc<Mutex<DemoSource>>);

#[async_trait::async_trait]
impl FleetReader for DemoReader {
    /// The demo's state is one read of its directory (on a blocking thread); a release
    /// (everything) also needs its system repository, a placement change does not.
    async fn read(&self, now: Ts, scope: crate::ops::executor::Scope) -> Result<Fleet, OpsError> {
        let source = Arc::clone(&self.0);
        let fleet = crate::ops::offload(move || {
            let mut source = source
                .lock()
                .map_err(|_| OpsError::Read("the demo reader failed earlier".into()))?;
            source
                .snapshot(now)
                .map_err(|e| OpsError::Read(e.to_string()))
        })
        .await?;
        match fleet.unread.first() {
            Some(why) if scope == crate::ops::executor::Scope::Everything => {
                Err(OpsError::Read(why.clone()))
            }
            _ => Ok(fleet),
        }
    }
}

/// The shops of `new` that differ from `old`, one update each — `None` when shops came or went,
/// or when so many changed that the whole list is the smaller message.
fn shop_changes(old: &[Shop], new: &[Shop]) -> Option<Vec<FleetUpdate>> {
    if old.len() != new.len() {
        return None;
    }
    let mut changed = Vec::new();
    for (a, b) in old.iter().zip(new) {
        if a.name != b.name {
            return None;
        }
        if a != b {
            changed.push(FleetUpdate::ShopUpserted(b.clone()));
            if changed.len() > new.len() / 4 {
                return None;
            }
        }
    }
    Some(changed)
}

/// The demo's audit log, in the demo directory.
pub const AUDIT_FILE: &str = "audit.jsonl";

/// The demo backend behind the [`FleetSource`] seam.
pub struct DemoSource {
    fleet: DemoFleet,
    /// How often the simulated world is re-read.
    pub interval: Duration,
    last: Option<(sim::Reading, LockRead)>,
    /// The shops as last sent.
    sent: Option<Arc<Vec<Shop>>>,
}

impl DemoSource {
    /// Reads the whole fleet once, here and now (file I/O and libgit2: on a blocking thread
    /// when called from the async core).
    pub fn snapshot(&mut self, now: Ts) -> Result<Fleet, SourceError> {
        let err = |e: DemoError| SourceError {
            from: source_of(&e),
            message: e.to_string(),
        };
        self.fleet.reload().map_err(err)?;
        let (reading, lock) = self.fleet.read(now).map_err(err)?;
        let mut fleet = Fleet::new(self.fleet.meta().fleet_name.clone());
        for u in updates(None, &reading, &lock) {
            fleet.apply(u);
        }
        fleet.apply(FleetUpdate::Shops(self.fleet.shops()));
        if let Some(why) = self.fleet.git_problem() {
            fleet.unread.push(format!("the system repository: {why}"));
        }
        fleet.refresh();
        Ok(fleet)
    }

    pub fn new(fleet: DemoFleet) -> DemoSource {
        DemoSource {
            fleet,
            interval: Duration::from_millis(1000),
            last: None,
            sent: None,
        }
    }

    /// Reads the directory once and returns what changed since the last poll, with a heartbeat
    /// or a problem for each source the demo simulates.
    pub fn poll(&mut self, now: Ts) -> Vec<SourceEvent> {
        let mut out = Vec::new();
        let reloaded = match self.fleet.reload() {
            Ok(changed) => changed,
            Err(e) => {
                out.push(problem(&e));
                return out;
            }
        };
        match self.fleet.read(now) {
            Ok((reading, lock)) => {
                out.extend(
                    updates(self.last.as_ref(), &reading, &lock)
                        .into_iter()
                        .map(SourceEvent::Update),
                );
                self.last = Some((reading, lock));
            }
            Err(e) => {
                out.push(problem(&e));
                return out;
            }
        }
        // Shops after the topology they refer to, so that no view sees shops on unknown ShopSets.
        // After the first, only the shops that changed (a drain's batch, not the whole fleet):
        // what the console applies, and what its recording keeps, stays small.
        if self.sent.is_none() || reloaded {
            let shops = self.fleet.shops();
            match self
                .sent
                .as_deref()
                .and_then(|old| shop_changes(old, &shops))
            {
                Some(changes) => out.extend(changes.into_iter().map(SourceEvent::Update)),
                None => out.push(SourceEvent::Update(FleetUpdate::Shops(Arc::clone(&shops)))),
            }
            self.sent = Some(shops);
        }
        // The demo's Alertmanager is as good as its silences file.
        let silences_problem = self
            .last
            .as_ref()
            .and_then(|(r, _)| r.silences.as_ref().err().cloned());
        // Its git as good as its system repository.
        let git_problem = self.fleet.git_problem().map(str::to_string);
        // Its control plane as good as its release controls.
        let controls_problem = self
            .last
            .as_ref()
            .and_then(|(r, _)| r.controls.as_ref().err().cloned());
        for source in demo_sources() {
            out.push(match (&source, &silences_problem, &git_problem) {
                (SourceId::Alertmanager, Some(why), _) | (SourceId::Git, _, Some(why)) => {
                    SourceEvent::Problem {
                        source,
                        message: why.clone(),
                    }
                }
                (SourceId::ControlPlane, _, _) if controls_problem.is_some() => {
                    SourceEvent::Problem {
                        source,
                        message: controls_problem.clone().unwrap_or_default(),
                    }
                }
                _ => SourceEvent::Heartbeat { source, at: now },
            });
        }
        // Each cluster answers through its own context, or does not.
        if let Some((reading, _)) = &self.last {
            for c in &reading.clusters {
                let source = SourceId::Cluster(c.name.clone());
                out.push(if c.is_reachable() {
                    SourceEvent::Heartbeat { source, at: now }
                } else {
                    SourceEvent::Problem {
                        source,
                        message: "its API server does not answer".into(),
                    }
                });
            }
        }
        out
    }
}

/// What the demo simulates: one control plane, one Argo CD, one Alertmanager, git.
fn demo_sources() -> [SourceId; 4] {
    [
        SourceId::ControlPlane,
        SourceId::Git,
        SourceId::ArgoCd("demo".into()),
        SourceId::Alertmanager,
    ]
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

    /// [`DemoSource::snapshot`]: a headless command's one read, made where it is asked.
    fn snapshot(&mut self, now: Ts) -> BoxFuture<'_, Result<Fleet, SourceError>> {
        Box::pin(async move { DemoSource::snapshot(self, now) })
    }

    fn tier_changes(
        &mut self,
        tiers: Vec<(String, String)>,
        since: Option<Ts>,
    ) -> BoxFuture<'_, Result<super::TierChanges, SourceError>> {
        Box::pin(async move {
            let system = self.fleet.dir().join(repos::SYSTEM_REMOTE);
            let app = self.fleet.history().clone();
            tokio::task::spawn_blocking(move || {
                super::read_tier_changes(&system, &tiers, since, app)
            })
            .await
            .unwrap_or_else(|e| {
                Err(SourceError {
                    from: SourceId::Git,
                    message: e.to_string(),
                })
            })
        })
    }

    fn watch(self: Box<Self>, tx: mpsc::Sender<SourceEvent>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let mut source = *self;
            loop {
                let interval = source.interval;
                let polled = tokio::task::spawn_blocking(move || {
                    let events = source.poll(Ts::now());
                    (source, events)
                })
                .await;
                let Ok((back, events)) = polled else {
                    return;
                };
                source = back;
                for ev in events {
                    if tx.send(ev).await.is_err() {
                        return;
                    }
                }
                tokio::time::sleep(interval).await;
            }
        })
    }
}

/// Which simulated source an error belongs to.
fn source_of(e: &DemoError) -> SourceId {
    match e {
        DemoError::Git(_) | DemoError::CreateRepos { .. } => SourceId::Git,
        _ => SourceId::ControlPlane,
    }
}

fn problem(e: &DemoError) -> SourceEvent {
    SourceEvent::Problem {
        source: source_of(e),
        message: e.to_string(),
    }
}

/// The updates that turn `old` into `new` (everything when there is no `old`).
fn updates(
    old: Option<&(sim::Reading, LockRead)>,
    new: &sim::Reading,
    lock: &LockRead,
) -> Vec<FleetUpdate> {
    let mut out = Vec::new();
    if old.is_none_or(|(_, l)| l != lock) {
        out.push(match lock {
            Ok(l) => FleetUpdate::Lock(l.clone()),
            Err(why) => FleetUpdate::LockUnreadable(why.clone()),
        });
    }
    let old = old.map(|(r, _)| r);
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
        Some(o) => {
            // Per application, as a watch reports them: changed ones, then removed ones.
            let before: std::collections::HashMap<&str, &crate::domain::AppStatus> =
                o.apps.iter().map(|a| (a.name.as_str(), a)).collect();
            for b in &new.apps {
                if before.get(b.name.as_str()) != Some(&b) {
                    out.push(FleetUpdate::AppUpserted(b.clone()));
                }
            }
            let now: std::collections::HashSet<&str> =
                new.apps.iter().map(|a| a.name.as_str()).collect();
            for a in o.apps.iter().filter(|a| !now.contains(a.name.as_str())) {
                out.push(FleetUpdate::AppRemoved(a.name.clone()));
            }
        }
        None => out.push(FleetUpdate::Apps(new.apps.clone())),
    }
    let alerts_changed = old.is_none_or(|o| o.alerts != new.alerts);
    if alerts_changed {
        out.push(FleetUpdate::Alerts(new.alerts.clone()));
    }
    match &new.silences {
        Ok(s) if old.is_none_or(|o| o.silences.as_ref() != Ok(s)) => {
            out.push(FleetUpdate::Silences(s.clone()));
            if old.is_some_and(|o| o.silences.is_err()) && !alerts_changed {
                out.push(FleetUpdate::Alerts(new.alerts.clone()));
            }
        }
        // Which alerts are muted cannot be known: no gate may take them for quiet.
        Err(why) if alerts_changed || old.is_none_or(|o| o.silences.as_ref() != Err(why)) => {
            out.push(FleetUpdate::AlertsUnknown(why.clone()));
        }
        _ => {}
    }
    if old.is_none_or(|o| o.releases != new.releases) {
        out.push(FleetUpdate::Releases(new.releases.clone()));
    }
    // Decisions that cannot be read keep the last ones shown; the poll says why, and every
    // step reads them afresh (and refuses when it cannot).
    if old.is_none_or(|o| o.controls != new.controls) {
        out.push(match &new.controls {
            Ok(c) => FleetUpdate::Controls(c.clone()),
            Err(why) => FleetUpdate::ControlsUnknown(why.clone()),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Redundancy;

    fn shop(name: &str, on: &str) -> Shop {
        Shop {
            name: name.into(),
            redundancy: Redundancy::Single,
            shopsets: vec![on.into()],
            previous: None,
            version: None,
        }
    }

    #[test]
    fn only_the_shops_that_moved_are_sent_again() {
        let old: Vec<Shop> = (0..100).map(|i| shop(&format!("s{i}"), "a-1")).collect();
        let mut new = old.clone();
        new[7].shopsets = vec!["b-1".into()];
        new[9].shopsets = vec!["c-1".into()];
        match shop_changes(&old, &new).as_deref() {
            Some([FleetUpdate::ShopUpserted(a), FleetUpdate::ShopUpserted(b)]) => {
                assert_eq!((a.name.as_str(), b.name.as_str()), ("s7", "s9"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(shop_changes(&old, &old).map(|c| c.len()), Some(0));
        // Shops that came or went, or most of them moving: the whole list.
        assert!(shop_changes(&old, &new[1..]).is_none());
        let moved: Vec<Shop> = old.iter().map(|s| shop(&s.name, "d-1")).collect();
        assert!(shop_changes(&old, &moved).is_none());
    }
}
