//! The live backend's executor: the one executor of `ops`, writing through live stores — Shop
//! patches with preconditions, cordon on the FleetCluster, the operator Lease, the JSONL audit
//! log in the state directory — after fresh reads of the control plane. Releases (the git push
//! and the Argo CD sync requests that follow it) are not connected yet: they are refused.

use std::sync::{Arc, Mutex};

use super::config::Config;
use super::kubeconfig;
use super::lease::LeaseLock;
use super::placement::ShopPatcher;
use super::source::LiveSource;
use crate::backends::FleetSource;
use crate::domain::release::GatePolicy;
use crate::domain::{Fleet, Ts};
use crate::ops::audit::AuditLog;
use crate::ops::{Executor, FleetReader, Holder, OpsError, ReleaseStore, Stores};

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

/// Releases in live mode are not connected yet.
struct NoReleases;

impl ReleaseStore for NoReleases {
    fn set_gitlink(
        &self,
        _branch: &str,
        _expected: Option<&str>,
        _target: &str,
        _message: &str,
        _author: &str,
        _now: Ts,
    ) -> Result<String, OpsError> {
        Err(OpsError::Refused(
            "releases in live mode are not in this build; nothing was pushed".into(),
        ))
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
    let stores = Stores {
        fleet: Box::new(LiveReader(Mutex::new(LiveSource::for_placement(
            config.clone(),
        )))),
        releases: Box::new(NoReleases),
        placement: Box::new(ShopPatcher::new(client_config.clone())?),
        locks: Arc::new(LeaseLock::new(
            client_config,
            &config.lock.namespace,
            &config.lock.name,
            config.lock.duration_secs,
        )?),
        audit: Box::new(AuditLog {
            path: crate::state_dir().join("audit.jsonl"),
        }),
    };
    Ok(Executor::new(holder, stores, GatePolicy::default()))
}
