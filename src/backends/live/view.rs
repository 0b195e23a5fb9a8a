//! What the executor re-checks placement against in live mode: the shopset.dev objects kept
//! current by the same watches the console runs (`watch::control_plane`), and every cluster
//! probed through its context every 15 s. A drain's batch is then re-checked in milliseconds
//! instead of after a new read of the whole fleet, and needs neither git, Argo CD nor
//! Alertmanager: a cluster can be drained while they are down.
//!
//! A view a moment behind is safe: each shop is written over the resourceVersion the view holds
//! (the store's precondition), so a shop changed meanwhile costs a `409`, a read of that shop
//! and a new judgement, never a lost write. What this session writes goes into the view at once
//! (read-your-writes for the next batch's capacity check); the watch's older events of those
//! shops, still on their way, are not applied over it.
//!
//! Started by the first placement re-check of a session; it runs until the session ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};

use super::source::LiveSource;
use crate::backends::{SourceEvent, SourceId};
use crate::domain::{Fleet, FleetUpdate, Shop, Ts};
use crate::ops::OpsError;

/// How long a re-check waits for the view to be current: the first read of the fleet, a watch
/// coming back after a failure, the first round of probes.
const WAIT: Duration = Duration::from_secs(30);

/// How often the clusters are probed (as the console does).
const PROBE_EVERY: Duration = Duration::from_secs(15);

/// How long a round of probes is believed: two rounds and a half. A view whose probes have
/// failed longer than that (the control plane cannot list the clusters) is not current.
const PROBES_LAST: Duration = Duration::from_secs(38);

/// The placement part of a live fleet, kept current for the executor.
pub struct PlacementView {
    shared: Arc<Shared>,
    source: LiveSource,
    control_plane: kube::Client,
    /// The watches', the probes' and the keeper's tasks, once started; stopped with the view.
    started: OnceLock<Vec<tokio::task::JoinHandle<()>>>,
}

impl Drop for PlacementView {
    fn drop(&mut self) {
        for task in self.started.get().into_iter().flatten() {
            task.abort();
        }
    }
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Notify,
}

#[derive(Default)]
struct State {
    fleet: Fleet,
    /// The control plane's watches have listed whole and none is failing.
    current: bool,
    /// Why they are not current, when one failed.
    problem: Option<String>,
    /// When the clusters were last probed (a round that listed them).
    probed: Option<std::time::Instant>,
    /// Shops this session wrote, with the resourceVersion its write returned.
    written: HashMap<String, String>,
}

impl PlacementView {
    /// A view of the control plane behind `control_plane`, probing clusters through `source`'s
    /// contexts; nothing runs until it is first read.
    pub fn new(source: LiveSource, control_plane: kube::Client) -> PlacementView {
        PlacementView {
            shared: Arc::default(),
            source,
            control_plane,
            started: OnceLock::new(),
        }
    }

    fn start(&self) {
        self.started.get_or_init(|| {
            let (tx, rx) = mpsc::channel(1024);
            let shared = Arc::clone(&self.shared);
            let cp = self.control_plane.clone();
            let probes = self.source.clone();
            vec![
                tokio::spawn(super::watch::control_plane(cp.clone(), tx)),
                tokio::spawn(probe_every(probes, cp, Arc::clone(&shared))),
                tokio::spawn(keep(shared, rx)),
            ]
        });
    }

    /// The fleet's placement as it is now: waits (at most 30 s) until the watches have listed
    /// it whole and are not failing, and every cluster has been probed.
    pub async fn read(&self) -> Result<Fleet, OpsError> {
        self.start();
        let shared = &self.shared;
        {
            let deadline = tokio::time::Instant::now() + WAIT;
            loop {
                let changed = shared.changed.notified();
                {
                    let mut state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
                    let probed = state.probed.is_some_and(|t| t.elapsed() < PROBES_LAST);
                    if state.current && probed {
                        state.fleet.refresh();
                        return Ok(state.fleet.clone());
                    }
                    if tokio::time::Instant::now() >= deadline {
                        let why = match (&state.problem, state.current) {
                            (Some(p), _) => p.clone(),
                            (None, false) => "the shops are still being read".into(),
                            (None, true) => format!(
                                "the clusters have not been probed for {} s",
                                PROBES_LAST.as_secs()
                            ),
                        };
                        return Err(OpsError::Read(format!(
                            "the placement could not be re-checked within {} s: {why}",
                            WAIT.as_secs()
                        )));
                    }
                }
                let _ = tokio::time::timeout_at(deadline, changed).await;
            }
        }
    }

    /// A shop as this session just wrote it (with the version the write returned): the next
    /// re-check sees it, whatever the watch has delivered so far.
    pub fn wrote(&self, shop: Shop) {
        let mut state = self.shared.state.lock().unwrap_or_else(|p| p.into_inner());
        // The watch may already have brought a later change by someone else.
        let seen = state
            .fleet
            .find_shop(&shop.name)
            .and_then(|s| s.version.clone());
        if let (Some(seen), Some(v)) = (seen, &shop.version)
            && older(Some(v), &seen)
        {
            return;
        }
        if let Some(v) = &shop.version {
            state.written.insert(shop.name.clone(), v.clone());
        }
        state.fleet.apply(FleetUpdate::ShopUpserted(shop));
    }

    /// A cluster as this session just wrote it (cordoned or not): the plan made next sees it.
    pub fn wrote_cluster(&self, spec: crate::domain::ClusterSpec) {
        let mut state = self.shared.state.lock().unwrap_or_else(|p| p.into_inner());
        state.fleet.apply(FleetUpdate::ClusterSpec(spec));
    }
}

/// Whether the watch's `event` of a shop is older than what this session wrote of it.
/// resourceVersions are opaque, but the API server's are increasing integers; one that is not
/// a number is taken as newer (the precondition still guards every write).
fn older(event: Option<&str>, written: &str) -> bool {
    match (event.map(str::parse::<u64>), written.parse::<u64>()) {
        (Some(Ok(e)), Ok(w)) => e < w,
        _ => false,
    }
}

/// Applies what the watches and probes say to the view until they stop.
async fn keep(shared: Arc<Shared>, mut rx: mpsc::Receiver<SourceEvent>) {
    while let Some(event) = rx.recv().await {
        {
            let mut state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
            apply(&mut state, event);
            // What else is already waiting goes in under the same lock.
            while let Ok(event) = rx.try_recv() {
                apply(&mut state, event);
            }
        }
        shared.changed.notify_waiters();
    }
}

fn apply(state: &mut State, event: SourceEvent) {
    match event {
        SourceEvent::Update(FleetUpdate::ShopUpserted(shop)) => {
            if let Some(w) = state.written.get(&shop.name) {
                if older(shop.version.as_deref(), w) {
                    return;
                }
                state.written.remove(&shop.name);
            }
            state.fleet.apply(FleetUpdate::ShopUpserted(shop));
        }
        SourceEvent::Update(FleetUpdate::ShopRemoved(name)) => {
            state.written.remove(&name);
            state.fleet.apply(FleetUpdate::ShopRemoved(name));
        }
        SourceEvent::Update(u) => state.fleet.apply(u),
        SourceEvent::Heartbeat {
            source: SourceId::ControlPlane,
            ..
        } => {
            state.current = true;
            state.problem = None;
        }
        SourceEvent::Problem {
            source: SourceId::ControlPlane,
            message,
        } => {
            state.current = false;
            state.problem = Some(message);
        }
        _ => {}
    }
}

/// Every cluster probed through its context, now and every 15 s, until the view goes.
async fn probe_every(source: LiveSource, cp: kube::Client, shared: Arc<Shared>) {
    loop {
        // A round that cannot list the clusters leaves the last statuses as they were.
        if let Ok(statuses) = source.probe_round(&cp, Ts::now()).await {
            let mut state = shared.state.lock().unwrap_or_else(|p| p.into_inner());
            for s in statuses {
                state.fleet.apply(FleetUpdate::ClusterStatus(s));
            }
            state.probed = Some(std::time::Instant::now());
            drop(state);
            shared.changed.notify_waiters();
        }
        tokio::time::sleep(PROBE_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_older_than_a_write_is_not_applied_over_it() {
        assert!(older(Some("41"), "42"));
        assert!(!older(Some("42"), "42"));
        assert!(!older(Some("43"), "42"));
        // Not numbers: never judged older.
        assert!(!older(Some("a"), "42"));
        assert!(!older(None, "42"));
    }
}
