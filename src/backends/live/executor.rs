//! The live backend's executor: the one executor of `ops`, writing through live stores — the
//! tier branch pushed from shopctl's push clone and Argo CD asked to sync, Shop patches with
//! preconditions, cordon on the FleetCluster, the operator Lease, the JSONL audit log in the
//! state directory — after fresh reads of the fleet.

use std::collections::HashMap;
use std::sync::Arc;

use super::access;
use super::config::Config;
use super::events::LiveAudit;
use super::kubeconfig;
use super::lease::LeaseLock;
use super::placement::ShopPatcher;
use super::releases::{ArgoTarget, LiveReleases};
use super::source::LiveSource;
use super::view::PlacementView;
use crate::backends::FleetSource;
use crate::domain::release::GatePolicy;
use crate::domain::{Fleet, Ts};
use crate::ops::audit::AuditLog;
use crate::ops::{Executor, FleetReader, Holder, OpsError, Scope, Stores};

/// Fresh reads of the live fleet for the executor's re-checks: placement from the view the
/// watches keep, everything else read whole.
struct LiveReader {
    whole: LiveSource,
    placement: Arc<PlacementView>,
}

#[async_trait::async_trait]
impl FleetReader for LiveReader {
    async fn read(&self, now: Ts, scope: Scope) -> Result<Fleet, OpsError> {
        if scope == Scope::Placement {
            return self.placement.read().await;
        }
        // Clones share their clients.
        let mut source = self.whole.clone();
        source
            .snapshot(now)
            .await
            .map_err(|e| OpsError::Read(e.to_string()))
    }
}

/// The read-write executor of a live fleet for one operator session. Every store goes through
/// one client per kubeconfig context (the control plane's, and each Argo CD's with a context of
/// its own): an exec credential plugin runs for each context once, not once per store.
pub async fn executor(config: &Config, holder: Holder) -> Result<Executor, OpsError> {
    let (k, file) = kubeconfig::load(config.control_plane.kubeconfig.as_deref())
        .map_err(|e| OpsError::Store(e.to_string()))?;
    let client_of = async |context: Option<&str>| -> Result<kube::Client, OpsError> {
        let config = kubeconfig::client_config(&k, &file, context)
            .await
            .map_err(|e| OpsError::Store(e.to_string()))?;
        kubeconfig::client(config).map_err(|e| OpsError::Store(super::errors::say(&e)))
    };
    let cp_context = config.control_plane.context.as_deref();
    let cp = client_of(cp_context).await?;
    let mut by_context: HashMap<Option<String>, kube::Client> = HashMap::new();
    let mut argo = Vec::new();
    for a in &config.argocd {
        let context = a.context.clone().filter(|c| Some(c.as_str()) != cp_context);
        let client = match &context {
            None => cp.clone(),
            Some(c) => match by_context.get(&context) {
                Some(client) => client.clone(),
                None => {
                    let client = client_of(Some(c)).await?;
                    by_context.insert(context.clone(), client.clone());
                    client
                }
            },
        };
        argo.push(ArgoTarget {
            client,
            namespace: a.namespace.clone(),
            shopset_label: a.shopset_label.clone(),
            busy_wait: std::time::Duration::from_secs(u64::from(a.busy_wait_secs)),
        });
    }
    let releases = LiveReleases::new(
        &config.git.remote,
        config.git.cache.with_extension("push.git"),
        cp.clone(),
        argo,
    );
    let reader = LiveSource::new(config.clone()).on_stores(cp_context, cp.clone());
    let view = Arc::new(PlacementView::new(reader.clone(), cp.clone()));
    let stores = Stores {
        fleet: Box::new(LiveReader {
            whole: reader,
            placement: Arc::clone(&view),
        }),
        releases: Box::new(releases),
        placement: Box::new(ShopPatcher::new(cp.clone()).writing_to(view)),
        locks: Arc::new(
            LeaseLock::new(
                cp.clone(),
                &config.lock.namespace,
                &config.lock.name,
                config.lock.duration_secs,
            )
            .seen_in(crate::state_dir().join(super::lease::LEASES_SEEN)),
        ),
        audit: Box::new(LiveAudit::new(
            AuditLog {
                path: crate::state_dir().join("audit.jsonl"),
            },
            cp.clone(),
            &holder.session,
        )),
        silences: Box::new(super::alertmanager::LiveSilences::new(&config.alertmanager)),
        controls: Box::new(super::controls::LiveControls::new(cp.clone())),
        metrics: metrics(config).map_err(|e| OpsError::Store(e.to_string()))?,
    };
    // What these credentials may not write, asked once, bounded like any other read. A control
    // plane that does not answer does not keep the console from starting: the API server still
    // refuses what RBAC forbids when a write is made.
    let asks = access::asks(config);
    let denied = match tokio::time::timeout(ACCESS_TIMEOUT, access::denied(&cp, &asks)).await {
        Ok(denied) => denied,
        Err(_) => {
            tracing::warn!(
                "the control plane did not say within {} s what this session may write; going on without knowing",
                ACCESS_TIMEOUT.as_secs()
            );
            Vec::new()
        }
    };
    Ok(Executor::new(holder, stores, policy(config)).with_denied(denied))
}

/// The release policy of the configuration: its verifications and freeze windows.
pub fn policy(config: &Config) -> GatePolicy {
    GatePolicy {
        verifications: config.verifications.clone(),
        freezes: config.freezes.clone(),
        ..GatePolicy::default()
    }
}

/// Prometheus, when the configuration names it.
pub fn metrics(
    config: &Config,
) -> Result<Option<Arc<dyn crate::ops::verify::MetricsSource>>, super::http::HttpError> {
    match &config.prometheus {
        None => Ok(None),
        Some(p) => Ok(Some(Arc::new(super::prometheus::PrometheusClient::new(p)?))),
    }
}

/// How long asking what the session may write may take.
const ACCESS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
