//! The control plane, watched: one `kube::runtime::watcher` per shopset.dev resource, with
//! backoff on errors and a relist after `410 Gone`, each event mapped to fleet updates as it
//! arrives. An object that cannot be decoded, a refused watch or an unreachable API server is a
//! problem of the control-plane source; the rest of the fleet keeps updating.

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

fn watched<K>(
    api: Api<K>,
    config: watcher::Config,
    mut relist: Relist<K>,
    what: String,
) -> impl Stream<Item = Said> + Send
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
{
    watcher(api, config)
        .default_backoff()
        .map(move |event| match event {
            Ok(e) => {
                let updates = relist.on(e);
                (updates, std::mem::take(&mut relist.problems))
            }
            Err(e) => (Vec::new(), vec![format!("watching {what}: {e}")]),
        })
}

/// How often a connected, quiet watch says it is still there.
const QUIET_HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(5);

/// Forwards what watchers say to `tx` as events of `source` until the receiver goes away. A
/// watch with nothing to say is still live: while the last thing it said was not a problem, a
/// heartbeat goes out every 5 s, so a quiet fleet is not shown as stale.
async fn forward(
    mut all: impl Stream<Item = Said> + Unpin,
    source: SourceId,
    tx: mpsc::Sender<SourceEvent>,
) {
    let mut quiet = tokio::time::interval(QUIET_HEARTBEAT);
    quiet.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut healthy = false;
    loop {
        let (updates, problems) = tokio::select! {
            said = all.next() => match said {
                Some(said) => said,
                None => return,
            },
            _ = quiet.tick() => {
                if healthy {
                    let beat = SourceEvent::Heartbeat { source: source.clone(), at: Ts::now() };
                    if tx.send(beat).await.is_err() {
                        return;
                    }
                }
                continue;
            }
        };
        healthy = problems.is_empty();
        let mut events: Vec<SourceEvent> = updates.into_iter().map(SourceEvent::Update).collect();
        if healthy {
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
    let api: Api<kube::api::DynamicObject> = Api::namespaced_with(client, &namespace, &resource);
    // Only the Applications that carry the ShopSet label: an Argo CD namespace also holds
    // applications of other teams, which are none of this console's business.
    let config = watcher::Config::default().labels(&shopset_label);
    let stream = watched(
        api,
        config,
        objects::applications(shopset_label),
        format!("Argo CD Applications in '{namespace}'"),
    )
    .boxed();
    forward(stream, SourceId::ArgoCd(name), tx).await;
}

/// Streams the control plane's tiers, ShopSets, shops and clusters to `tx` until the receiver
/// goes away (or the task is aborted).
pub async fn control_plane(client: kube::Client, tx: mpsc::Sender<SourceEvent>) {
    let streams = vec![
        watched(
            Api::all(client.clone()),
            watcher::Config::default(),
            objects::tiers(),
            "tiers".into(),
        )
        .boxed(),
        watched(
            Api::all(client.clone()),
            watcher::Config::default(),
            objects::clusters(),
            "fleetclusters".into(),
        )
        .boxed(),
        watched(
            Api::all(client.clone()),
            watcher::Config::default(),
            objects::shopsets(),
            "shopsets".into(),
        )
        .boxed(),
        watched(
            Api::all(client),
            watcher::Config::default(),
            objects::shops(),
            "shops".into(),
        )
        .boxed(),
    ];
    forward(
        futures::stream::select_all(streams),
        SourceId::ControlPlane,
        tx,
    )
    .await;
}
