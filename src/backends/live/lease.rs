//! The operator lock in live mode: a `coordination.k8s.io/v1` Lease. Acquired by create; an
//! expired (or own) Lease is taken by replace with its resourceVersion, so of two contenders
//! exactly one wins (the other gets 409 Conflict); renewed by replace; released by delete with
//! the resourceVersion it was read at. `holderIdentity` is `operator session`.
//!
//! Whether another holder's Lease has expired is judged as client-go's leader election judges
//! it: by how long this host has seen the Lease unchanged, never by comparing the holder's
//! `renewTime` with this host's clock — so a holder whose clock is off neither loses its lock
//! early nor keeps it forever. What this host has seen is kept in the state directory, so that
//! one-shot commands add up their sightings.

use std::time::Duration;

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

/// What this host has seen of other holders' Leases, in the state directory.
pub const LEASES_SEEN: &str = "leases-seen.json";

/// The Lease `name` in `namespace`.
pub struct LeaseLock {
    api: Api<Lease>,
    namespace: String,
    name: String,
    duration_secs: i32,
    sightings: Sightings,
}

impl LeaseLock {
    /// The lock through `client`, the control plane's. What it sees of other holders' Leases is
    /// kept in memory only, until [`LeaseLock::seen_in`] names a file.
    pub fn new(client: kube::Client, namespace: &str, name: &str, duration_secs: u32) -> LeaseLock {
        LeaseLock {
            api: Api::namespaced(client, namespace),
            namespace: namespace.into(),
            name: name.into(),
            duration_secs: i32::try_from(duration_secs)
                .unwrap_or(i32::try_from(LOCK_TTL_SECS).unwrap_or(600)),
            sightings: Sightings::default(),
        }
    }

    /// Keeps what this host has seen of other holders' Leases in `file`, shared by its sessions.
    pub fn seen_in(mut self, file: std::path::PathBuf) -> LeaseLock {
        self.sightings.file = Some(file);
        self
    }

    /// Judges how long a Lease has been unchanged by `clock` instead of the host's time since
    /// boot.
    pub fn timed_by(mut self, clock: Clock) -> LeaseLock {
        self.sightings.clock = Some(clock);
        self
    }

    /// Refused while another live session holds `existing` and this host has not yet seen it
    /// unchanged for its duration; `Ok` once it has (the Lease has expired).
    fn expired(&self, existing: &Lease, l: &ReleaseLock) -> Result<(), OpsError> {
        let duration = lease_duration(existing);
        let record = record_of(existing, l);
        let key = format!("{}/{}", self.namespace, self.name);
        let unchanged = self.sightings.unchanged_for(&key, &record);
        if unchanged.as_secs() >= duration {
            return Ok(());
        }
        // Shown as when this host takes it over, if it stays as it is.
        let mut l = l.clone();
        l.expires_at = lapses(duration, unchanged);
        Err(OpsError::Locked(l))
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

/// Other holders' Leases as this host has seen them: each Lease's record (holder and
/// resourceVersion) and since when it has not changed — measured by this host's time since boot,
/// a clock nobody sets: a clock stepped forward, or another host sharing the state directory,
/// never makes a Lease look older than this host has seen it.
#[derive(Default)]
pub struct Sightings {
    /// Where they are kept between processes; in memory only without one.
    file: Option<std::path::PathBuf>,
    memory: std::sync::Mutex<std::collections::HashMap<String, Sighting>>,
    /// What time it is; the host's time since boot unless set (tests move their own).
    clock: Option<Clock>,
}

/// A clock of sightings: the time since some fixed start.
pub type Clock = std::sync::Arc<dyn Fn() -> Duration + Send + Sync>;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Sighting {
    record: String,
    /// This host and its boot: a sighting counts only on the boot that made it.
    clock: String,
    /// Milliseconds since that boot.
    since: u64,
}

/// How many Leases a sightings file remembers (the newest sightings are kept).
const SIGHTINGS_KEPT: usize = 64;

/// This host's boot, and the milliseconds since it (CLOCK_BOOTTIME: it counts suspended time
/// too, and nobody sets it).
fn uptime() -> (String, u64) {
    let host = crate::ops::hostname();
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|b| b.trim().to_string())
        .unwrap_or_else(|_| "boot".into());
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Boottime);
    let ms = u64::try_from(t.tv_sec).unwrap_or(0) * 1000
        + u64::try_from(t.tv_nsec).unwrap_or(0) / 1_000_000;
    (format!("{host} {boot}"), ms)
}

/// The sightings of this process's sessions, kept in the state directory.
pub fn shared() -> &'static Sightings {
    static SHARED: std::sync::OnceLock<Sightings> = std::sync::OnceLock::new();
    SHARED.get_or_init(|| Sightings {
        file: Some(crate::state_dir().join(LEASES_SEEN)),
        ..Sightings::default()
    })
}

impl Sightings {
    /// How long `key` has been seen as `record`: zero when it has just changed (or is new), and
    /// the change is remembered from now.
    pub fn unchanged_for(&self, key: &str, record: &str) -> Duration {
        let (clock, now) = match &self.clock {
            Some(c) => ("a clock of its own".to_string(), c().as_millis() as u64),
            None => uptime(),
        };
        let mut seen = self.memory.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(file) = &self.file {
            // Another process of this host, on this boot, may have seen it first.
            for (k, s) in read_sightings(file)
                .into_iter()
                .filter(|(_, s)| s.clock == clock)
            {
                let earlier = seen
                    .get(&k)
                    .is_none_or(|m| m.record != s.record || m.clock != clock || s.since < m.since);
                if earlier {
                    seen.insert(k, s);
                }
            }
        }
        let since = match seen.get(key) {
            Some(s) if s.record == record && s.clock == clock && s.since <= now => s.since,
            _ => {
                seen.insert(
                    key.into(),
                    Sighting {
                        record: record.into(),
                        clock,
                        since: now,
                    },
                );
                if let Some(file) = &self.file {
                    write_sightings(file, &seen);
                }
                now
            }
        };
        Duration::from_millis(now - since)
    }
}

/// The record a Lease is judged unchanged by: its holder and its resourceVersion (which every
/// renewal changes).
fn record_of(lease: &Lease, l: &ReleaseLock) -> String {
    format!(
        "{} {} {}",
        l.holder,
        l.session,
        lease
            .metadata
            .resource_version
            .as_deref()
            .unwrap_or_default()
    )
}

fn key_of(lease: &Lease) -> String {
    format!(
        "{}/{}",
        lease.metadata.namespace.as_deref().unwrap_or_default(),
        lease.metadata.name.as_deref().unwrap_or_default()
    )
}

/// When a Lease of `duration_secs` seen unchanged for `unchanged` lapses (or lapsed), by this
/// host's clock: in the past once it has.
fn lapses(duration_secs: u64, unchanged: Duration) -> Ts {
    let duration_ms = i64::try_from(duration_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let unchanged_ms = i64::try_from(unchanged.as_millis()).unwrap_or(i64::MAX);
    Ts(Ts::now()
        .0
        .saturating_add(duration_ms)
        .saturating_sub(unchanged_ms))
}

fn lease_duration(lease: &Lease) -> u64 {
    lease
        .spec
        .as_ref()
        .and_then(|s| s.lease_duration_seconds)
        .map_or(0, |d| u64::try_from(d).unwrap_or(0))
}

fn read_sightings(file: &std::path::Path) -> Vec<(String, Sighting)> {
    std::fs::read(file)
        .ok()
        .and_then(|b| {
            serde_json::from_slice::<std::collections::HashMap<String, Sighting>>(&b).ok()
        })
        .map(|m| m.into_iter().collect())
        .unwrap_or_default()
}

/// Best effort: a sighting that cannot be written is kept in memory, and another process
/// starts its own (it waits longer, never less).
fn write_sightings(file: &std::path::Path, seen: &std::collections::HashMap<String, Sighting>) {
    let mut newest: Vec<(&String, &Sighting)> = seen.iter().collect();
    newest.sort_by_key(|(_, s)| std::cmp::Reverse(s.since));
    newest.truncate(SIGHTINGS_KEPT);
    let kept: std::collections::BTreeMap<&String, &Sighting> = newest.into_iter().collect();
    let written = serde_json::to_vec_pretty(&kept)
        .map_err(std::io::Error::other)
        .and_then(|bytes| crate::ops::atomic::write(file, &bytes));
    if let Err(e) = written {
        tracing::warn!(
            "cannot keep what this host saw of the Lease in '{}': {e}",
            file.display()
        );
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
    OpsError::Lease(super::errors::failure(&e))
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
///
/// It expires when this host has seen it unchanged for its duration (the shared sightings), not
/// when its `renewTime` says: the gate, the console and a command's first check agree with what
/// taking it over decides.
pub fn fleet_lock(l: &Lease) -> Option<ReleaseLock> {
    let mut lock = to_lock(l).filter(|lock| !session_is_dead(&lock.session))?;
    let unchanged = shared().unchanged_for(&key_of(l), &record_of(l, &lock));
    lock.expires_at = lapses(lease_duration(l), unchanged);
    Some(lock)
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
                    // Another session's, until this host has seen it unchanged for its
                    // duration — or at once when it is a session of this host whose process
                    // is gone (killed).
                    Some(l) if !holder.owns(l) && !session_is_dead(&l.session) => {
                        self.expired(&existing, l)?;
                        now
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

    fn duration(&self) -> Duration {
        Duration::from_secs(u64::try_from(self.duration_secs).unwrap_or(0))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_is_seen_unchanged_only_while_its_record_stays_and_sightings_are_shared_by_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("seen.json");
        let first = Sightings {
            file: Some(file.clone()),
            ..Sightings::default()
        };
        assert_eq!(first.unchanged_for("ns/l", "bob s 7"), Duration::ZERO);
        std::thread::sleep(Duration::from_millis(30));
        assert!(first.unchanged_for("ns/l", "bob s 7") >= Duration::from_millis(30));
        // Another process of this host counts from the first sighting.
        let second = Sightings {
            file: Some(file.clone()),
            ..Sightings::default()
        };
        assert!(second.unchanged_for("ns/l", "bob s 7") >= Duration::from_millis(30));
        // Renewed (a new resourceVersion), whatever its renewTime says: counted from now.
        assert_eq!(second.unchanged_for("ns/l", "bob s 8"), Duration::ZERO);
        // A sighting of another host or another boot (a shared state directory, a reboot) is
        // none: its time means nothing here.
        std::fs::write(
            &file,
            br#"{"ns/m": {"record": "bob s 9", "clock": "elsewhere some-boot", "since": 0}}"#,
        )
        .unwrap();
        let fourth = Sightings {
            file: Some(file.clone()),
            ..Sightings::default()
        };
        assert_eq!(fourth.unchanged_for("ns/m", "bob s 9"), Duration::ZERO);
        // A damaged file is no sighting at all: the count starts again, never shorter.
        std::fs::write(&file, b"{not json").unwrap();
        let third = Sightings {
            file: Some(file),
            ..Sightings::default()
        };
        assert_eq!(third.unchanged_for("ns/l", "bob s 8"), Duration::ZERO);
    }
}
