//! The control plane, watched: one `kube::runtime::watcher` per shopset.dev resource, with
//! backoff on errors and a relist after `410 Gone`, each event mapped to fleet updates as it
//! arrives. An object that cannot be decoded, a refused watch or an unreachable API server is a
//! problem of the control-plane source; the rest of the fleet keeps updating.
//!
//! A watch connection can die without a word (a NAT or load balancer forgets it): the stream
//! then just goes quiet. So the API server is asked for its version every 5 s; when it does not
//! answer, the source says so at once, and when it answers again the watches are started anew
//! (relisting) rather than trusted.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::mpsc;

use super::objects::{self, Relist};
use crate::backends::{SourceEvent, SourceId};
use crate::domain::{FleetUpdate, Ts};

/// What one resource's watcher says: updates, and problems (objects it cannot map, or why it
/// could not watch).
type Said = (Vec<FleetUpdate>, Vec<String>);

/// A watch of one resource that can be started again: what it has reported is kept across
/// restarts, so the relist of a new start removes what went away meanwhile.
fn watched<K>(
    api: Api<K>,
    config: watcher::Config,
    relist: Relist<K>,
    what: String,
) -> impl Fn() -> BoxStream<'static, Said> + Send
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
{
    let relist = Arc::new(Mutex::new(relist));
    move || {
        let (relist, what) = (Arc::clone(&relist), what.clone());
        watcher(api.clone(), config.clone())
            .default_backoff()
            .map(move |event| match (event, relist.lock()) {
                (Ok(e), Ok(mut relist)) => {
                    let updates = relist.on(e);
                    (updates, std::mem::take(&mut relist.problems))
                }
                (Err(e), _) => (Vec::new(), vec![format!("watching {what}: {e}")]),
                (Ok(_), Err(_)) => (Vec::new(), vec![format!("watching {what}: failed earlier")]),
            })
            .boxed()
    }
}

/// How often the API server is asked whether it is still there (and a quiet watch says so).
const QUIET_HEARTBEAT: Duration = Duration::from_secs(5);
/// How long that question may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether the API server answers now, or why not.
async fn probe(client: &kube::Client) -> Result<(), String> {
    match tokio::time::timeout(PROBE_TIMEOUT, client.apiserver_version()).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!("the API server does not answer: {e}")),
        Err(_) => Err(format!(
            "the API server did not answer within {} s; the watches are started again when it does",
            PROBE_TIMEOUT.as_secs()
        )),
    }
}

/// Forwards what the watches `start` makes say to `tx` as events of `source` until the receiver
/// goes away. Every 5 s the API server is asked for its version: while it answers and the last
/// thing the watches said was not a problem, a heartbeat goes out (a quiet fleet is not stale);
/// when it does not, a problem goes out; when it answers again, the watches start anew.
async fn forward<S>(
    start: impl Fn() -> S,
    client: kube::Client,
    source: SourceId,
    tx: mpsc::Sender<SourceEvent>,
) where
    S: Stream<Item = Said> + Unpin,
{
    let mut all = start();
    let mut quiet = tokio::time::interval(QUIET_HEARTBEAT);
    quiet.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut healthy = false;
    let mut lost = false;
    loop {
        let (updates, problems) = tokio::select! {
            said = all.next() => match said {
                Some(said) => said,
                None => return,
            },
            _ = quiet.tick() => {
                let event = match probe(&client).await {
                    Ok(()) if lost => {
                        // The old connections may be dead without knowing it: start again.
                        lost = false;
                        all = start();
                        continue;
                    }
                    Ok(()) if healthy && !lost => SourceEvent::Heartbeat { source: source.clone(), at: Ts::now() },
                    Ok(()) => continue,
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
        healthy = problems.is_empty();
        let mut events: Vec<SourceEvent> = updates.into_iter().map(SourceEvent::Update).collect();
        // While the API server does not answer the probe, nothing the old streams say makes the
        // source fresh.
        if healthy && !lost {
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
    let gvk = kube::api::GroupVersionKind::gvk("argoproj.io", "v1alpha1", "Application");
    let resource = kube::api::ApiResource::from_gvk_with_plural(&gvk, "applications");
    let api: Api<kube::api::DynamicObject> =
        Api::namespaced_with(client.clone(), &namespace, &resource);
    // Only the Applications that carry the ShopSet label: an Argo CD namespace also holds
    // applications of other teams, which are none of this console's business.
    let config = watcher::Config::default()
        .labels(&shopset_label)
        .timeout(super::kubeconfig::WATCH_SECS);
    let start = watched(
        api,
        config,
        objects::applications(shopset_label),
        format!("Argo CD Applications in '{namespace}'"),
    );
    forward(start, client, SourceId::ArgoCd(name), tx).await;
}

/// Streams the control plane's tiers, ShopSets, shops and clusters to `tx` until the receiver
/// goes away (or the task is aborted).
pub async fn control_plane(client: kube::Client, tx: mpsc::Sender<SourceEvent>) {
    let config = || watcher::Config::default().timeout(super::kubeconfig::WATCH_SECS);
    let tiers = watched(
        Api::all(client.clone()),
        config(),
        objects::tiers(),
        "tiers".into(),
    );
    let clusters = watched(
        Api::all(client.clone()),
        config(),
        objects::clusters(),
        "fleetclusters".into(),
    );
    let shopsets = watched(
        Api::all(client.clone()),
        config(),
        objects::shopsets(),
        "shopsets".into(),
    );
    let shops = watched(
        Api::all(client.clone()),
        config(),
        objects::shops(),
        "shops".into(),
    );
    let start = move || futures::stream::select_all([tiers(), clusters(), shopsets(), shops()]);
    forward(start, client, SourceId::ControlPlane, tx).await;
}
