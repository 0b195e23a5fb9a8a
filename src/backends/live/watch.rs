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

/// What one resource's watcher says: updates, or why it could not watch.
type Said = Result<Vec<FleetUpdate>, String>;

fn watched<K>(
    client: &kube::Client,
    mut relist: Relist<K>,
    what: &'static str,
) -> impl Stream<Item = Said> + Send + 'static
where
    K: kube::Resource<DynamicType = (), Scope = kube::core::ClusterResourceScope>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + 'static,
{
    let api: Api<K> = Api::all(client.clone());
    watcher(api, watcher::Config::default())
        .default_backoff()
        .map(move |event| match event {
            Ok(e) => Ok(relist.on(e)),
            Err(e) => Err(format!("watching {what}: {e}")),
        })
}

/// Streams the control plane's tiers, ShopSets, shops and clusters to `tx` until the receiver
/// goes away (or the task is aborted).
pub async fn control_plane(client: kube::Client, tx: mpsc::Sender<SourceEvent>) {
    let streams = vec![
        watched(&client, objects::tiers(), "tiers").boxed(),
        watched(&client, objects::clusters(), "fleetclusters").boxed(),
        watched(&client, objects::shopsets(), "shopsets").boxed(),
        watched(&client, objects::shops(), "shops").boxed(),
    ];
    let mut all = futures::stream::select_all(streams);
    while let Some(said) = all.next().await {
        let events = match said {
            Ok(updates) => {
                let mut events: Vec<SourceEvent> =
                    updates.into_iter().map(SourceEvent::Update).collect();
                events.push(SourceEvent::Heartbeat {
                    source: SourceId::ControlPlane,
                    at: Ts::now(),
                });
                events
            }
            Err(message) => vec![SourceEvent::Problem {
                source: SourceId::ControlPlane,
                message,
            }],
        };
        for ev in events {
            if tx.send(ev).await.is_err() {
                return;
            }
        }
    }
}
