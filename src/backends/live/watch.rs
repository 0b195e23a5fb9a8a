//! The control plane, watched: one `kube::runtime::watcher` per shopset.dev resource, with
//! backoff on errors and a relist after `410 Gone`, each event mapped to fleet updates as it
//! arrives. An object that cannot be decoded, a refused watch or an unreachable API server is a
//! problem of the control-plane source; the rest of the fleet keeps updating.
//!
//! A watch connection can die without a word (a NAT or load balancer forgets it): the stream
//! then just goes quiet. So the API server is asked for its version every 5 s; when it does not
//! answer, the source says so at once. The probe only reports: the watches reconnect by
//! themselves — a connection silent for longer than the client's read timeout is dropped and
//! resumed from its resourceVersion — so a moment without an answer costs no relist.

use std::time::Duration;

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::mpsc;

use super::objects::{self, Relist};
use crate::backends::{SourceEvent, SourceId};
use crate::domain::{FleetUpdate, Ts};

/// What one resource's watcher says: which resource (its index among those watched together),
/// updates, problems (objects it cannot map, or why it could not watch), and whether it shows
/// the watch working (a relist *starting* does not: the list may still be refused).
type Said = (usize, Vec<FleetUpdate>, Vec<String>, bool);

/// A watch of one resource, the `index`-th of those forwarded together. The watcher reconnects
/// by itself (with backoff and jitter), resuming from the last resourceVersion it saw, and
/// relists only when the server says that version is gone (410).
fn watched<K>(
    api: Api<K>,
    config: watcher::Config,
    mut relist: Relist<K>,
    index: usize,
    what: String,
) -> BoxStream<'static, Said>
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
{
    watcher(api, config)
        .default_backoff()
        .map(move |event| match event {
            Ok(e) => {
                let working = !matches!(e, watcher::Event::Init);
                let updates = relist.on(e);
                (
                    index,
                    updates,
                    std::mem::take(&mut relist.problems),
                    working,
                )
            }
            // The resourceVersion is gone (compacted, or a restarted server's cache starts
            // later): the watcher relists at once. That is how a watch resumes, not a failure.
            Err(watcher::Error::WatchError(s)) if s.code == 410 => {
                (index, Vec::new(), Vec::new(), false)
            }
            Err(e) => (
                index,
                Vec::new(),
                vec![format!("watching {what}: {}", super::errors::say_watch(&e))],
                false,
            ),
        })
        .boxed()
}

/// How often the API server is asked whether it is still there (and a quiet watch says so).
const QUIET_HEARTBEAT: Duration = Duration::from_secs(5);
/// How long that question may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a resource whose watch failed must go without failing again, while its API server
/// answers, to count as watched again on a fleet where nothing changes: longer than the
/// watcher's longest wait between retries (30 s), so a retry that failed would have said so.
pub const RECOVERED_AFTER: Duration = Duration::from_secs(40);

/// Whether the API server answers now, or why not.
async fn probe(client: &kube::Client) -> Result<(), String> {
    match tokio::time::timeout(PROBE_TIMEOUT, client.apiserver_version()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!(
            "the API server does not answer: {}",
            super::errors::say(&e)
        )),
        Err(_) => Err(format!(
            "the API server did not answer within {} s",
            PROBE_TIMEOUT.as_secs()
        )),
    }
}

/// How each watched resource stands.
#[derive(Debug, Clone, Default)]
struct Standing {
    /// It has said something without a problem (its first list arrived).
    listed: bool,
    /// When it last failed, while it has not recovered since.
    failed_at: Option<tokio::time::Instant>,
}

/// Forwards what the watches in `all` say to `tx` as events of `source` until the receiver goes
/// away. The source is fresh (a heartbeat goes out, and every 5 s while nothing changes) only
/// when every resource has listed and none is failing, and the API server answers its version:
/// one refused resource is not hidden by another's events. The probe only reports; reconnecting
/// is the watchers' own (resuming where they were, no relist), so an API server that stopped
/// answering for a moment costs no relist of the fleet.
async fn forward(
    mut all: impl Stream<Item = Said> + Unpin,
    resources: usize,
    client: kube::Client,
    source: SourceId,
    tx: mpsc::Sender<SourceEvent>,
) {
    let mut quiet = tokio::time::interval(QUIET_HEARTBEAT);
    quiet.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut standing = vec![Standing::default(); resources];
    let mut lost = false;
    let fresh = |standing: &[Standing], lost: bool| {
        !lost && standing.iter().all(|s| s.listed && s.failed_at.is_none())
    };
    loop {
        let (index, updates, problems, working) = tokio::select! {
            said = all.next() => match said {
                Some(said) => said,
                None => return,
            },
            _ = quiet.tick() => {
                let event = match probe(&client).await {
                    Ok(()) => {
                        lost = false;
                        // A watch that failed and has not failed again for longer than the
                        // watcher waits between retries is watching again, even if nothing
                        // changed to say so.
                        for s in &mut standing {
                            if s.failed_at.is_some_and(|t| t.elapsed() >= RECOVERED_AFTER) {
                                s.failed_at = None;
                                s.listed = true;
                            }
                        }
                        if !fresh(&standing, lost) {
                            continue;
                        }
                        SourceEvent::Heartbeat { source: source.clone(), at: Ts::now() }
                    }
                    Err(message) => {
                        lost = true;
                        SourceEvent::Problem { source: source.clone(), message }
                    }
                };
                if tx.send(event).await.is_err() {
                    return;
                }
                continue;
            }
        };
        if let Some(s) = standing.get_mut(index) {
            if !problems.is_empty() {
                s.failed_at = Some(tokio::time::Instant::now());
            } else if working {
                *s = Standing {
                    listed: true,
                    failed_at: None,
                };
            }
        }
        let mut events: Vec<SourceEvent> = updates.into_iter().map(SourceEvent::Update).collect();
        // While the API server does not answer the probe, nothing the old streams say makes the
        // source fresh.
        if fresh(&standing, lost) {
            events.push(SourceEvent::Heartbeat {
                source: source.clone(),
                at: Ts::now(),
            });
        }
        events.extend(problems.into_iter().map(|message| SourceEvent::Problem {
            source: source.clone(),
            message,
        }));
        for ev in events {
            if tx.send(ev).await.is_err() {
                return;
            }
        }
    }
}

/// Streams one Argo CD instance's Applications in `namespace` to `tx`; `name` names the
/// instance as a source.
pub async fn argocd(
    client: kube::Client,
    name: String,
    namespace: String,
    shopset_label: String,
    tx: mpsc::Sender<SourceEvent>,
) {
    let api: Api<super::argocd::Application> = Api::namespaced(client.clone(), &namespace);
    // Only the Applications that carry the ShopSet label: an Argo CD namespace also holds
    // applications of other teams, which are none of this console's business.
    let config = watcher::Config::default()
        .labels(&shopset_label)
        .timeout(super::kubeconfig::WATCH_SECS);
    let all = watched(
        api,
        config,
        objects::applications(shopset_label),
        0,
        format!("Argo CD Applications in '{namespace}'"),
    );
    forward(all, 1, client, SourceId::ArgoCd(name), tx).await;
}

/// Streams the control plane's tiers, ShopSets, shops and clusters to `tx` until the receiver
/// goes away (or the task is aborted).
pub async fn control_plane(client: kube::Client, tx: mpsc::Sender<SourceEvent>) {
    let config = || watcher::Config::default().timeout(super::kubeconfig::WATCH_SECS);
    let all = futures::stream::select_all([
        watched(
            Api::all(client.clone()),
            config(),
            objects::tiers(),
            0,
            "tiers".into(),
        ),
        watched(
            Api::all(client.clone()),
            config(),
            objects::clusters(),
            1,
            "fleetclusters".into(),
        ),
        watched(
            Api::all(client.clone()),
            config(),
            objects::shopsets(),
            2,
            "shopsets".into(),
        ),
        watched(
            Api::all(client.clone()),
            config(),
            objects::shops(),
            3,
            "shops".into(),
        ),
    ]);
    forward(all, 4, client, SourceId::ControlPlane, tx).await;
}

/// Streams the operator Lease `name` in `namespace` to `tx` as the fleet's lock until the
/// receiver goes away: who holds it and for what as it changes, none when it is gone, and why
/// it cannot be read when it cannot (a gate then fails closed rather than call it free). After
/// a failure the one Lease is listed afresh (with backoff) rather than resumed, so the lock is
/// known again as soon as it can be read, even when nothing about it changes.
pub async fn lock(
    client: kube::Client,
    namespace: String,
    name: String,
    tx: mpsc::Sender<SourceEvent>,
) {
    use k8s_openapi::api::coordination::v1::Lease;
    let api: Api<Lease> = Api::namespaced(client, &namespace);
    let config = watcher::Config::default()
        .fields(&format!("metadata.name={name}"))
        .timeout(super::kubeconfig::WATCH_SECS);
    let mut wait = Duration::from_secs(1);
    loop {
        let mut stream = watcher(api.clone(), config.clone()).boxed();
        // During a list: whether the Lease was among what was listed.
        let mut listed = false;
        while let Some(event) = stream.next().await {
            let update = match event {
                Ok(watcher::Event::Init) => {
                    listed = false;
                    continue;
                }
                Ok(watcher::Event::InitApply(l)) => {
                    listed = true;
                    FleetUpdate::Lock(super::lease::fleet_lock(&l))
                }
                Ok(watcher::Event::InitDone) if listed => {
                    wait = Duration::from_secs(1);
                    continue;
                }
                Ok(watcher::Event::InitDone) | Ok(watcher::Event::Delete(_)) => {
                    wait = Duration::from_secs(1);
                    FleetUpdate::Lock(None)
                }
                Ok(watcher::Event::Apply(l)) => FleetUpdate::Lock(super::lease::fleet_lock(&l)),
                Err(watcher::Error::WatchError(s)) if s.code == 410 => continue,
                Err(e) => {
                    let why = format!(
                        "cannot watch the operator Lease '{name}' in '{namespace}': {}",
                        super::errors::say_watch(&e)
                    );
                    if tx
                        .send(SourceEvent::Update(FleetUpdate::LockUnreadable(why)))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    break;
                }
            };
            if tx.send(SourceEvent::Update(update)).await.is_err() {
                return;
            }
        }
        if tx.is_closed() {
            return;
        }
        // Jittered, doubling to half a minute.
        let jitter = Duration::from_millis(fastrand::u64(0..=wait.as_millis() as u64 / 2));
        tokio::time::sleep(wait + jitter).await;
        wait = (wait * 2).min(Duration::from_secs(30));
    }
}
