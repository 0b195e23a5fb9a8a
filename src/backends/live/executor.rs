//! The live backend's executor: the one executor of `ops`, writing through live stores — the
//! tier branch pushed from shopctl's push clone and Argo CD asked to sync, Shop patches with
//! preconditions, cordon on the FleetCluster, the operator Lease, the JSONL audit log in the
//! state directory — after fresh reads of the fleet.

use std::sync::{Arc, Mutex};

use super::access;
use super::config::Config;
use super::events::LiveAudit;
use super::kubeconfig;
use super::lease::LeaseLock;
use super::placement::ShopPatcher;
use super::releases::{ArgoTarget, LiveReleases};
use super::source::LiveSource;
use crate::backends::FleetSource;
use crate::domain::release::GatePolicy;
use crate::domain::{Fleet, Ts};
use crate::ops::audit::AuditLog;
use crate::ops::{Executor, FleetReader, Holder, OpsError, Stores};

/// Fresh reads of the live fleet for the executor's re-checks.
struct LiveReader(Mutex<LiveSource>);

impl FleetReader for LiveReader {
    fn read(&self, now: Ts) -> Result<Fleet, OpsError> {
        let mut source = self
            .0
            .lock()
            .map_err(|_| OpsError::Read("the live reader failed earlier".into()))?;
        source
            .snapshot(now)
            .map_err(|e| OpsError::Read(e.to_string()))
    }
}

/// The read-write executor of a live fleet for one operator session.
pub fn executor(config: &Config, holder: Holder) -> Result<Executor, OpsError> {
    let (k, file) = kubeconfig::load(config.control_plane.kubeconfig.as_deref())
        .map_err(|e| OpsError::Store(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| OpsError::Store(e.to_string()))?;
    let client_config = runtime
        .block_on(kubeconfig::client_config(
            &k,
            &file,
            config.control_plane.context.as_deref(),
        ))
        .map_err(|e| OpsError::Store(e.to_string()))?;
    let mut argo = Vec::new();
    for a in &config.argocd {
        let cfg = match a.context.as_deref() {
            None => client_config.clone(),
            Some(c) => runtime
                .block_on(kubeconfig::client_config(&k, &file, Some(c)))
                .map_err(|e| OpsError::Store(e.to_string()))?,
        };
        argo.push(ArgoTarget {
            config: cfg,
            namespace: a.namespace.clone(),
            shopset_label: a.shopset_label.clone(),
            busy_wait: std::time::Duration::from_secs(u64::from(a.busy_wait_secs)),
        });
    }
    let releases = LiveReleases::new(
        &config.git.remote,
        config.git.cache.with_extension("push.git"),
        client_config.clone(),
        argo,
    )?;
    let stores = Stores {
        fleet: Box::new(LiveReader(Mutex::new(LiveSource::new(config.clone())))),
        releases: Box::new(releases),
        placement: Box::new(ShopPatcher::new(client_config.clone())?),
        locks: Arc::new(LeaseLock::new(
            client_config.clone(),
            &config.lock.namespace,
            &config.lock.name,
            config.lock.duration_secs,
        )?),
        audit: Box::new(
            LiveAudit::new(
                AuditLog {
                    path: crate::state_dir().join("audit.jsonl"),
                },
                client_config.clone(),
                &holder.session,
            )
            .map_err(OpsError::Store)?,
        ),
        silences: Box::new(super::alertmanager::LiveSilences::new(
            &config.alertmanager,
        )?),
    };
    // What these credentials may not write, asked once, bounded like any other read. A control
    // plane that does not answer does not keep the console from starting: the API server still
    // refuses what RBAC forbids when a write is made.
    let denied = runtime.block_on(async {
        let client = kube::Client::try_from(client_config.clone())
            .map_err(|e| OpsError::Store(e.to_string()))?;
        let asks = access::asks(config);
        Ok::<_, OpsError>(
            match tokio::time::timeout(ACCESS_TIMEOUT, access::denied(&client, &asks)).await {
                Ok(denied) => denied,
                Err(_) => {
                    tracing::warn!(
                        "the control plane did not say within {} s what this session may write; going on without knowing",
                        ACCESS_TIMEOUT.as_secs()
                    );
                    Vec::new()
                }
            },
        )
    })?;
    Ok(Executor::new(holder, stores, GatePolicy::default()).with_denied(denied))
}

/// How long asking what the session may write may take.
const ACCESS_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
