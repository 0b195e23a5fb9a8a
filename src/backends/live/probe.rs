//! Each workload cluster through its own context: reachability and server version (`/version`),
//! nodes Ready of total, on a modest interval, each probe bounded by a timeout — an unreachable
//! cluster is shown as such within seconds while the rest of the fleet keeps updating.

use std::collections::HashMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::ListParams;
use tokio::sync::mpsc;

use crate::backends::{SourceEvent, SourceId};
use crate::domain::{ClusterStatus, FleetUpdate, Reachability, Ts};

/// How long one probe (version and nodes) may take.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// What one probe found: the server version and nodes Ready of total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probed {
    pub version: String,
    pub nodes_ready: u32,
    pub nodes_total: u32,
}

/// Why a cluster could not be probed: the API server's answer kept whole (a `403` is a
/// credential that may not list nodes, not a dead cluster), or why there was none.
pub type Failed = crate::ops::ApiFailure;

/// A failure that is not the API server's answer (a context that cannot be used, a timeout).
pub fn failed(message: String) -> Failed {
    Failed {
        status: None,
        reason: None,
        message,
    }
}

/// `e`, said as what was being asked.
fn asking(what: &str, e: &kube::Error) -> Failed {
    let mut f = super::errors::failure(e);
    f.message = format!("{what}: {}", f.message);
    f
}

/// Asks one cluster for its version and its nodes.
pub async fn probe(client: &kube::Client) -> Result<Probed, Failed> {
    let call = async {
        let version = client
            .apiserver_version()
            .await
            .map_err(|e| asking("no answer from its API server", &e))?;
        let nodes =
            super::pages::list_all(&Api::<Node>::all(client.clone()), &ListParams::default())
                .await
                .map_err(|e| asking("cannot list its nodes", &e))?;
        let ready = nodes
            .iter()
            .filter(|n| {
                n.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
            })
            .count();
        Ok(Probed {
            version: version.git_version,
            nodes_ready: u32::try_from(ready).unwrap_or(u32::MAX),
            nodes_total: u32::try_from(nodes.len()).unwrap_or(u32::MAX),
        })
    };
    match tokio::time::timeout(PROBE_TIMEOUT, call).await {
        Ok(r) => r,
        Err(_) => Err(failed(format!(
            "no answer within {} s",
            PROBE_TIMEOUT.as_secs()
        ))),
    }
}

/// Probes every cluster every `interval` and reports each as its own source. `clients` holds
/// each cluster's client, or why its context cannot be used.
pub async fn probe_loop(
    clients: Vec<(String, Result<kube::Client, String>)>,
    interval: Duration,
    tx: mpsc::Sender<SourceEvent>,
) {
    let mut since: HashMap<String, (Reachability, Ts)> = HashMap::new();
    loop {
        let results = futures::future::join_all(clients.iter().map(|(name, client)| async move {
            let r = match client {
                Ok(c) => probe(c).await,
                Err(why) => Err(failed(why.clone())),
            };
            (name.clone(), r)
        }))
        .await;
        for (name, result) in results {
            let now = Ts::now();
            let reachability = if result.is_ok() {
                Reachability::Reachable
            } else {
                Reachability::Unreachable
            };
            let entry = since.entry(name.clone()).or_insert((reachability, now));
            if entry.0 != reachability {
                *entry = (reachability, now);
            }
            let (status, event) = match result {
                Ok(p) => (
                    ClusterStatus {
                        name: name.clone(),
                        reachability,
                        reachability_since: Some(entry.1),
                        server_version: Some(p.version),
                        nodes_ready: p.nodes_ready,
                        nodes_total: p.nodes_total,
                    },
                    SourceEvent::Heartbeat {
                        source: SourceId::Cluster(name.clone()),
                        at: now,
                    },
                ),
                Err(failed) => (
                    ClusterStatus {
                        name: name.clone(),
                        reachability,
                        reachability_since: Some(entry.1),
                        server_version: None,
                        nodes_ready: 0,
                        nodes_total: 0,
                    },
                    SourceEvent::Problem {
                        source: SourceId::Cluster(name.clone()),
                        message: failed.message,
                    },
                ),
            };
            for ev in [
                SourceEvent::Update(FleetUpdate::ClusterStatus(status)),
                event,
            ] {
                if tx.send(ev).await.is_err() {
                    return;
                }
            }
        }
        tokio::time::sleep(interval).await;
    }
}
