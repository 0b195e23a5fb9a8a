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

/// What one resource's watcher says.
struct Said {
    /// Which resource (its index among those watched together).
    index: usize,
    updates: Vec<FleetUpdate>,
    /// Objects it cannot map, or why it could not watch.
    problems: Vec<String>,
    /// It shows the watch working: a list finished, or a change arrived. A list still
    /// arriving does not (it may yet fail, and what it brought is not the whole).
    working: bool,
    /// While a list is arriving: how many objects it has brought so far.
    listing: Option<u64>,
}

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
    let mut listed = 0u64;
    watcher(api, config)
        .backoff(Retry::new())
        .map(move |event| match event {
            Ok(e) => {
                let working = matches!(
                    e,
                    watcher::Event::InitDone | watcher::Event::Apply(_) | watcher::Event::Delete(_)
                );
                let listing = match e {
                    watcher::Event::Init => {
                        listed = 0;
                        Some(0)
                    }
                    watcher::Event::InitApply(_) => {
                        listed += 1;
                        Some(listed)
                    }
                    _ => None,
                };
                let updates = relist.on(e);
                Said {
                    index,
                    updates,
                    problems: std::mem::take(&mut relist.problems),
                    working,
                    listing,
                }
            }
            // The resourceVersion is gone (compacted, or a restarted server's cache starts
            // later): the watcher relists at once. That is how a watch resumes, not a failure.
            Err(watcher::Error::WatchError(s)) if s.code == 410 => Said {
                index,
                updates: Vec::new(),
                problems: Vec::new(),
                working: false,
                listing: None,
            },
            Err(e) => Said {
                index,
                updates: Vec::new(),
                problems: vec![format!("watching {what}: {}", super::errors::say_watch(&e))],
                working: false,
                listing: None,
            },
        })
        .boxed()
}

/// How many objects `api` holds, as the API server says when asked for one: the count a first
/// read is measured against. None when it does not say (a list with a label selector is not
/// told) or does not answer at once.
async fn count<K>(api: Api<K>) -> Option<u64>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let lp = kube::api::ListParams::default().limit(1);
    let list = tokio::time::timeout(PROBE_TIMEOUT, api.list(&lp))
        .await
        .ok()?
        .ok()?;
    let remaining = match list.metadata.continue_.as_deref() {
        Some(c) if !c.is_empty() => list.metadata.remaining_item_count?,
        _ => 0,
    };
    u64::try_from(remaining)
        .ok()
        .map(|r| r + list.items.len() as u64)
}

/// Objects between two reports of how far a first read has come.
const LOADING_EVERY: u64 = 500;

/// How often the API server is asked whether it is still there (and a quiet watch says so).
const QUIET_HEARTBEAT: Duration = Duration::from_secs(5);
/// How long that question may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a watch waits before it tries again after a failure: from half a second, doubling,
/// to at most [`RETRY_AT_MOST`], each wait jittered down by up to a half so that many consoles do
/// not come back at once; back to the shortest after a minute without failures.
struct Retry {
    next: Duration,
}

/// The longest wait between a watch's retries: short enough that a server that is back is
/// watched again within seconds, long enough that a dead one is not hammered.
const RETRY_AT_MOST: Duration = Duration::from_secs(8);

impl Retry {
    fn new() -> kube::runtime::utils::ResetTimerBackoff<Retry> {
        kube::runtime::utils::ResetTimerBackoff::new(
            Retry {
                next: Duration::from_millis(500),
            },
            Duration::from_secs(60),
        )
    }
}

impl Iterator for Retry {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let wait = self.next;
        self.next = (self.next * 2).min(RETRY_AT_MOST);
        let jitter = fastrand::u64(0..=wait.as_millis() as u64 / 2);
        Some(wait - Duration::from_millis(jitter))
    }
}

impl kube::runtime::utils::Backoff for Retry {
    fn reset(&mut self) {
        self.next = Duration::from_millis(500);
    }
}

/// How long a resource whose watch failed must go without failing again, while its API server
/// answers, to count as watched again on a fleet where nothing changes: longer than the
/// watcher's longest wait between retries ([`RETRY_AT_MOST`]), so a retry that failed would
/// have said so.
pub const RECOVERED_AFTER: Duration = Duration::from_secs(10);

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
    /// Objects its list in progress has brought.
    loaded: u64,
    /// How many the server said it holds, at the start.
    total: Option<u64>,
}

/// Forwards what the watches in `all` say to `tx` as events of `source` until the receiver goes
/// away. The source is fresh (a heartbeat goes out, and every 5 s while nothing changes) only
/// when every resource has listed and none is failing, and the API server answers its version:
/// one refused resource is not hidden by another's events. Until every first list has arrived
/// whole, how far they have come is reported instead (a page at a time), so nothing partial is
/// shown as live. The probe only reports; reconnecting is the watchers' own (resuming where
/// they were, no relist), so an API server that stopped answering for a moment costs no relist
/// of the fleet.
async fn forward(
    mut all: impl Stream<Item = Said> + Unpin,
    totals: Vec<Option<u64>>,
    client: kube::Client,
    source: SourceId,
    tx: mpsc::Sender<SourceEvent>,
) {
    let mut quiet = tokio::time::interval(QUIET_HEARTBEAT);
    quiet.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut standing: Vec<Standing> = totals
        .into_iter()
        .map(|total| Standing {
            total,
            ..Standing::default()
        })
        .collect();
    let mut lost = false;
    let fresh = |standing: &[Standing], lost: bool| {
        !lost && standing.iter().all(|s| s.listed && s.failed_at.is_none())
    };
    // Until the first read is whole: how far it has come.
    let mut first_read = true;
    let progress = |standing: &[Standing]| {
        let mut l = crate::domain::freshness::Loading {
            done: 0,
            total: Some(0),
        };
        for s in standing {
            let total = if s.listed { Some(s.loaded) } else { s.total };
            l.done += if s.listed {
                s.loaded
            } else {
                s.loaded.min(s.total.unwrap_or(u64::MAX))
            };
            l.total = l.total.zip(total).map(|(a, b)| a + b);
        }
        l
    };
    // What was said last, so that the same count is not said twice.
    let mut said_loading = None;
    if standing.iter().any(|s| s.total.is_some()) {
        let p = progress(&standing);
        said_loading = Some(p);
        let ev = SourceEvent::Loading {
            source: source.clone(),
            progress: p,
        };
        if tx.send(ev).await.is_err() {
            return;
        }
    }
    loop {
        let said = tokio::select! {
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
        let mut report_loading = false;
        if let Some(s) = standing.get_mut(said.index) {
            if let Some(n) = said.listing
                && first_read
                && !s.listed
            {
                s.loaded = n;
                report_loading = n % LOADING_EVERY == 0 && n > 0;
            }
            if !said.problems.is_empty() {
                s.failed_at = Some(tokio::time::Instant::now());
            } else if said.working {
                if first_read && !s.listed {
                    report_loading = true;
                }
                s.listed = true;
                s.failed_at = None;
            }
        }
        let mut events: Vec<SourceEvent> =
            said.updates.into_iter().map(SourceEvent::Update).collect();
        // While the API server does not answer the probe, nothing the old streams say makes the
        // source fresh.
        if fresh(&standing, lost) {
            first_read = false;
            events.push(SourceEvent::Heartbeat {
                source: source.clone(),
                at: Ts::now(),
            });
        } else if report_loading && first_read {
            let p = progress(&standing);
            if said_loading != Some(p) {
                said_loading = Some(p);
                events.push(SourceEvent::Loading {
                    source: source.clone(),
                    progress: p,
                });
            }
        }
        events.extend(
            said.problems
                .into_iter()
                .map(|message| SourceEvent::Problem {
                    source: source.clone(),
                    message,
                }),
        );
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
    argo: super::config::ArgoCd,
    tx: mpsc::Sender<SourceEvent>,
) {
    let super::config::ArgoCd {
        namespace,
        shopset_label,
        components,
        ..
    } = argo;
    let api: Api<super::argocd::Application> = Api::namespaced(client.clone(), &namespace);
    // Only the Applications that carry the ShopSet label: an Argo CD namespace also holds
    // applications of other teams, which are none of this console's business.
    let config = watcher::Config::default()
        .labels(&shopset_label)
        .timeout(super::kubeconfig::WATCH_SECS)
        .page_size(super::pages::PAGE);
    let all = watched(
        api,
        config,
        objects::applications(shopset_label, components),
        0,
        format!("Argo CD Applications in '{namespace}'"),
    );
    forward(all, vec![None], client, SourceId::ArgoCd(name), tx).await;
}

/// Streams the control plane's tiers, ShopSets, shops and clusters to `tx` until the receiver
/// goes away (or the task is aborted).
pub async fn control_plane(client: kube::Client, tx: mpsc::Sender<SourceEvent>) {
    let config = || {
        watcher::Config::default()
            .timeout(super::kubeconfig::WATCH_SECS)
            .page_size(super::pages::PAGE)
    };
    // What the first read will bring, asked of each resource at once (one object each).
    let (tiers, clusters, shopsets, shops) = futures::join!(
        count(Api::<super::crds::Tier>::all(client.clone())),
        count(Api::<super::crds::FleetCluster>::all(client.clone())),
        count(Api::<super::crds::ShopSet>::all(client.clone())),
        count(Api::<super::crds::ShopRead>::all(client.clone())),
    );
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
    forward(
        all,
        vec![tiers, clusters, shopsets, shops],
        client,
        SourceId::ControlPlane,
        tx,
    )
    .await;
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
        // Jittered, doubling to at most the watches' longest wait, so the lock is known again
        // within seconds of its server coming back.
        let jitter = Duration::from_millis(fastrand::u64(0..=wait.as_millis() as u64 / 2));
        tokio::time::sleep(wait + jitter).await;
        wait = (wait * 2).min(RETRY_AT_MOST);
    }
}
