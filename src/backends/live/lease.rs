//! The operator lock in live mode: a `coordination.k8s.io/v1` Lease. Acquired by create; an
//! expired (or own) Lease is taken by replace with its resourceVersion, so of two contenders
//! exactly one wins (the other gets 409 Conflict); renewed by replace; released by delete with
//! the resourceVersion it was read at. `holderIdentity` is `operator session`.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::Api;
use kube::api::{DeleteParams, PostParams, Preconditions};

use super::calls::{bounded, is_conflict};
use super::objects::FIELD_MANAGER;
use crate::domain::{ReleaseLock, Ts};
use crate::ops::lock::LOCK_TTL_SECS;
use crate::ops::lock::session_is_dead;
use crate::ops::{Holder, LockStore, OpsError};

/// The Lease `name` in `namespace`.
pub struct LeaseLock {
    api: Api<Lease>,
    name: String,
    duration_secs: i32,
}

impl LeaseLock {
    /// The lock through `client`, the control plane's.
    pub fn new(client: kube::Client, namespace: &str, name: &str, duration_secs: u32) -> LeaseLock {
        LeaseLock {
            api: Api::namespaced(client, namespace),
            name: name.into(),
            duration_secs: i32::try_from(duration_secs)
                .unwrap_or(i32::try_from(LOCK_TTL_SECS).unwrap_or(600)),
        }
    }

    async fn get(&self) -> Result<Option<Lease>, OpsError> {
        bounded(self.api.get_opt(&self.name))
            .await
            .map_err(lease_error)
    }

    fn lease(&self, holder: &Holder, acquired: Ts, now: Ts, rv: Option<String>) -> Lease {
        Lease {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                resource_version: rv,
                annotations: holder.operation.as_ref().map(|op| {
                    std::collections::BTreeMap::from([(OPERATION_ANNOTATION.into(), op.clone())])
                }),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(format!("{} {}", holder.operator, holder.session)),
                lease_duration_seconds: Some(self.duration_secs),
                acquire_time: Some(micro(acquired)),
                renew_time: Some(micro(now)),
                ..LeaseSpec::default()
            }),
        }
    }
}

fn post_params() -> PostParams {
    PostParams {
        field_manager: Some(FIELD_MANAGER.into()),
        ..PostParams::default()
    }
}

fn micro(t: Ts) -> MicroTime {
    MicroTime(k8s_openapi::jiff::Timestamp::from_millisecond(t.0).unwrap_or_default())
}

fn ts(m: &MicroTime) -> Ts {
    Ts(m.0.as_millisecond())
}

fn lease_error(e: kube::Error) -> OpsError {
    OpsError::Lock(format!(
        "the operator Lease cannot be used: {}",
        super::errors::say(&e)
    ))
}

/// What the holder is doing, on the Lease (for whoever else wants it).
pub const OPERATION_ANNOTATION: &str = "shopset.dev/operation";

/// The Lease as the fleet model reads a lock; `None` when nobody holds it.
pub fn to_lock(l: &Lease) -> Option<ReleaseLock> {
    let spec = l.spec.as_ref()?;
    let identity = spec.holder_identity.as_deref().filter(|h| !h.is_empty())?;
    let (operator, session) = identity.rsplit_once(' ').unwrap_or((identity, ""));
    let renewed = spec
        .renew_time
        .as_ref()
        .or(spec.acquire_time.as_ref())
        .map(ts)
        .unwrap_or_default();
    Some(ReleaseLock {
        holder: crate::domain::printable(operator),
        session: session.into(),
        acquired_at: spec.acquire_time.as_ref().map(ts).unwrap_or(renewed),
        expires_at: renewed.plus_secs(i64::from(spec.lease_duration_seconds.unwrap_or(0))),
        operation: l
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(OPERATION_ANNOTATION))
            .map(|op| crate::domain::printable(op)),
    })
}

/// The lock as the fleet shows it: the Lease's holder, unless that holder is a session of this
/// very system that no longer runs (killed) — its Lease is taken over at once, as in the demo.
pub fn fleet_lock(l: &Lease) -> Option<ReleaseLock> {
    to_lock(l).filter(|l| !session_is_dead(&l.session))
}

#[async_trait::async_trait]
impl LockStore for LeaseLock {
    async fn read(&self) -> Result<Option<ReleaseLock>, OpsError> {
        Ok(self.get().await?.as_ref().and_then(to_lock))
    }

    async fn acquire(&self, holder: &Holder, now: Ts) -> Result<ReleaseLock, OpsError> {
        match self.get().await? {
            None => {
                let lease = self.lease(holder, now, now, None);
                match bounded(self.api.create(&post_params(), &lease)).await {
                    Ok(l) => to_lock(&l).ok_or_else(|| OpsError::Lock("empty Lease".into())),
                    // Someone created it first: it is theirs — unless it is ours after all
                    // (a create retried after its answer was lost).
                    Err(e) if is_conflict(&e) => match self.read().await? {
                        Some(l) if holder.owns(&l) => Ok(l),
                        Some(l) => Err(OpsError::Locked(l)),
                        None => Err(OpsError::Lock(
                            "the Lease changed meanwhile; try again".into(),
                        )),
                    },
                    Err(e) => Err(lease_error(e)),
                }
            }
            Some(existing) => {
                let current = to_lock(&existing);
                let since = match &current {
                    // A session of this host whose process is gone (killed) holds nothing.
                    Some(l)
                        if l.is_held(now) && !holder.owns(l) && !session_is_dead(&l.session) =>
                    {
                        return Err(OpsError::Locked(l.clone()));
                    }
                    Some(l) if holder.owns(l) && l.is_held(now) => l.acquired_at,
                    _ => now,
                };
                let lease = self.lease(
                    holder,
                    since,
                    now,
                    existing.metadata.resource_version.clone(),
                );
                match bounded(self.api.replace(&self.name, &post_params(), &lease)).await {
                    Ok(l) => to_lock(&l).ok_or_else(|| OpsError::Lock("empty Lease".into())),
                    // Another contender replaced it first: it won — unless the winner is this
                    // very write (retried after its answer was lost).
                    Err(e) if is_conflict(&e) => match self.read().await? {
                        Some(l) if holder.owns(&l) && l.is_held(now) => Ok(l),
                        Some(l) => Err(OpsError::Locked(l)),
                        None => Err(OpsError::Lock(
                            "the Lease changed meanwhile; try again".into(),
                        )),
                    },
                    Err(e) => Err(lease_error(e)),
                }
            }
        }
    }

    fn duration(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::try_from(self.duration_secs).unwrap_or(0))
    }

    async fn release(&self, holder: &Holder) -> Result<(), OpsError> {
        let Some(existing) = self.get().await? else {
            return Ok(());
        };
        if !to_lock(&existing).is_some_and(|l| holder.owns(&l)) {
            return Ok(());
        }
        let dp = DeleteParams {
            preconditions: Some(Preconditions {
                resource_version: existing.metadata.resource_version.clone(),
                uid: None,
            }),
            ..DeleteParams::default()
        };
        match bounded(self.api.delete(&self.name, &dp)).await {
            Ok(_) => Ok(()),
            // Changed since read: no longer ours to delete.
            Err(e) if is_conflict(&e) => Ok(()),
            Err(e) => Err(lease_error(e)),
        }
    }
}
