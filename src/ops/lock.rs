//! The operator lock that serialises releases, drains and reassignments. Its holder is a
//! *session* (operator + session id): two consoles of one person contend like two people do.
//! It is taken through one [`LockGuard`], renewed while work goes on and given back exactly once.
//! Demo: `lock.json` in the demo directory; live: a `coordination.k8s.io` Lease.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{OpsError, atomic};
use crate::domain::{ReleaseLock, Ts};

/// How long a lock lasts unless renewed.
pub const LOCK_TTL_SECS: i64 = 600;

/// Who holds the lock: an operator's one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Shown to people: `alice@ops`.
    pub operator: String,
    /// Unique per process: two consoles of one operator are two sessions.
    pub session: String,
}

impl Holder {
    /// A new session for `operator`: `host/pid/random`.
    pub fn new_session(operator: impl Into<String>) -> Holder {
        Holder {
            operator: operator.into(),
            session: format!(
                "{}/{}/{:08x}",
                hostname(),
                std::process::id(),
                fastrand::u32(..)
            ),
        }
    }

    fn lock(&self, acquired_at: Ts, now: Ts) -> ReleaseLock {
        ReleaseLock {
            holder: self.operator.clone(),
            session: self.session.clone(),
            acquired_at,
            expires_at: now.plus_secs(LOCK_TTL_SECS),
        }
    }

    /// Is the lock this session's?
    pub fn owns(&self, lock: &ReleaseLock) -> bool {
        lock.session == self.session && lock.holder == self.operator
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// A session of a process on this host that no longer runs (killed, or the machine rebooted):
/// its lock is stale whatever its expiry says.
pub fn session_is_dead(session: &str) -> bool {
    let mut parts = session.split('/');
    match (
        parts.next(),
        parts.next().and_then(|p| p.parse::<u32>().ok()),
    ) {
        (Some(host), Some(pid)) if host == hostname() => {
            !std::path::Path::new(&format!("/proc/{pid}")).exists()
        }
        _ => false,
    }
}

/// Where the lock lives. Implementations make `acquire` atomic against other processes.
pub trait LockStore: Send + Sync {
    /// The lock as stored now; an unreadable lock is an error that names it.
    fn read(&self) -> Result<Option<ReleaseLock>, OpsError>;
    /// Takes the lock for `holder`, or renews it if `holder` has it; refuses while another
    /// session holds it (also one of the same operator).
    fn acquire(&self, holder: &Holder, now: Ts) -> Result<ReleaseLock, OpsError>;
    /// Gives the lock up if `holder` has it.
    fn release(&self, holder: &Holder) -> Result<(), OpsError>;
}

/// The lock, held. Renew it while work goes on; [`LockGuard::release`] gives it back, and so does
/// dropping the guard (on every path: errors, panics, an interrupted drain).
pub struct LockGuard {
    store: Arc<dyn LockStore>,
    holder: Holder,
    /// The executor's "an operation is running" flag, cleared when the guard goes.
    busy: Arc<AtomicBool>,
    released: bool,
}

impl std::fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockGuard")
            .field("holder", &self.holder)
            .finish()
    }
}

impl LockGuard {
    /// Takes the lock; `busy` must be unset (one operation per session at a time).
    pub(crate) fn take(
        store: Arc<dyn LockStore>,
        holder: Holder,
        busy: Arc<AtomicBool>,
        now: Ts,
    ) -> Result<LockGuard, OpsError> {
        if busy.swap(true, Ordering::SeqCst) {
            return Err(OpsError::Busy);
        }
        match store.acquire(&holder, now) {
            Ok(_) => Ok(LockGuard {
                store,
                holder,
                busy,
                released: false,
            }),
            Err(e) => {
                busy.store(false, Ordering::SeqCst);
                Err(e)
            }
        }
    }

    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    /// Extends the lock; fails if someone took it over meanwhile (it had expired).
    pub fn renew(&self, now: Ts) -> Result<(), OpsError> {
        self.store.acquire(&self.holder, now).map(|_| ())
    }

    /// Gives the lock back.
    pub fn release(mut self) -> Result<(), OpsError> {
        self.released = true;
        self.busy.store(false, Ordering::SeqCst);
        self.store.release(&self.holder)
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if !self.released {
            self.released = true;
            self.busy.store(false, Ordering::SeqCst);
            if let Err(e) = self.store.release(&self.holder) {
                tracing::warn!("giving the operator lock back: {e}");
            }
        }
    }
}

/// `lock.json` in a directory: `{"holder", "session", "acquired_at", "expires_at"}`, written
/// atomically (a full disk leaves the old lock or none, never an empty file).
pub struct FileLock {
    pub path: PathBuf,
}

impl FileLock {
    fn write(&self, lock: &ReleaseLock, exclusive: bool) -> Result<bool, OpsError> {
        let json = serde_json::to_vec(lock).map_err(|e| OpsError::Lock(e.to_string()))?;
        let result = if exclusive {
            atomic::create_new(&self.path, &json)
        } else {
            atomic::write(&self.path, &json).map(|()| true)
        };
        result.map_err(|e| OpsError::Lock(format!("cannot write '{}': {e}", self.path.display())))
    }
}

/// Reads a lock file: `None` when there is none, an error naming the file when it is damaged.
pub fn read_lock_file(path: &std::path::Path) -> Result<Option<ReleaseLock>, String> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            format!(
                "the lock file '{}' is damaged ({e}); if no release or drain is running, remove it",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read '{}': {e}", path.display())),
    }
}

impl LockStore for FileLock {
    fn read(&self) -> Result<Option<ReleaseLock>, OpsError> {
        read_lock_file(&self.path).map_err(OpsError::Lock)
    }

    fn acquire(&self, holder: &Holder, now: Ts) -> Result<ReleaseLock, OpsError> {
        for _ in 0..3 {
            match self.read()? {
                Some(l) if l.is_held(now) && !holder.owns(&l) && !session_is_dead(&l.session) => {
                    return Err(OpsError::Locked(l));
                }
                Some(l) => {
                    // Ours to renew, or stale: replace it, then make sure no one else did too.
                    let since = if holder.owns(&l) && l.is_held(now) {
                        l.acquired_at
                    } else {
                        now
                    };
                    self.write(&holder.lock(since, now), false)?;
                    match self.read()? {
                        Some(held) if holder.owns(&held) => return Ok(held),
                        Some(other) => return Err(OpsError::Locked(other)),
                        None => continue,
                    }
                }
                None => {
                    let mine = holder.lock(now, now);
                    if self.write(&mine, true)? {
                        return Ok(mine);
                    }
                }
            }
        }
        Err(OpsError::Lock(format!(
            "could not take the lock in '{}'",
            self.path.display()
        )))
    }

    fn release(&self, holder: &Holder) -> Result<(), OpsError> {
        match self.read()? {
            Some(l) if holder.owns(&l) => std::fs::remove_file(&self.path).map_err(|e| {
                OpsError::Lock(format!("cannot remove '{}': {e}", self.path.display()))
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(op: &str, session: &str) -> Holder {
        Holder {
            operator: op.into(),
            session: session.into(),
        }
    }

    #[test]
    fn one_session_at_a_time_and_stale_locks_expire() {
        let dir = tempfile::tempdir().unwrap();
        let lock = FileLock {
            path: dir.path().join("lock.json"),
        };
        let (alice, bob) = (holder("alice", "1"), holder("bob", "2"));
        let t = Ts::from_secs(1000);
        assert_eq!(lock.acquire(&alice, t).unwrap().holder, "alice");
        match lock.acquire(&bob, t.plus_secs(10)) {
            Err(OpsError::Locked(l)) => assert_eq!(l.holder, "alice"),
            other => panic!("bob got {other:?}"),
        }
        // Alice renews; the expiry moves, the acquisition time stays.
        let renewed = lock.acquire(&alice, t.plus_secs(30)).unwrap();
        assert_eq!(
            (renewed.acquired_at, renewed.expires_at),
            (t, t.plus_secs(30 + LOCK_TTL_SECS))
        );
        // Bob's release does nothing; after expiry Bob takes over.
        lock.release(&bob).unwrap();
        assert!(lock.acquire(&bob, t.plus_secs(LOCK_TTL_SECS + 29)).is_err());
        let late = t.plus_secs(30 + LOCK_TTL_SECS + 1);
        assert_eq!(lock.acquire(&bob, late).unwrap().holder, "bob");
        lock.release(&bob).unwrap();
        assert!(!dir.path().join("lock.json").exists());
    }

    #[test]
    fn a_second_session_of_the_same_operator_is_refused_and_cannot_release() {
        let dir = tempfile::tempdir().unwrap();
        let lock = FileLock {
            path: dir.path().join("lock.json"),
        };
        let (first, second) = (holder("alice", "1"), holder("alice", "2"));
        let t = Ts::from_secs(1000);
        lock.acquire(&first, t).unwrap();
        assert!(matches!(
            lock.acquire(&second, t.plus_secs(1)),
            Err(OpsError::Locked(_))
        ));
        lock.release(&second).unwrap();
        assert!(lock.read().unwrap().is_some_and(|l| first.owns(&l)));
    }

    #[test]
    fn the_guard_gives_the_lock_back_once_and_refuses_a_second_operation() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn LockStore> = Arc::new(FileLock {
            path: dir.path().join("lock.json"),
        });
        let busy = Arc::new(AtomicBool::new(false));
        let t = Ts::from_secs(1000);
        let me = holder("alice", "1");
        let guard = LockGuard::take(store.clone(), me.clone(), busy.clone(), t).unwrap();
        assert!(matches!(
            LockGuard::take(store.clone(), me.clone(), busy.clone(), t),
            Err(OpsError::Busy)
        ));
        drop(guard);
        assert!(store.read().unwrap().is_none());
        let guard = LockGuard::take(store.clone(), me, busy.clone(), t).unwrap();
        guard.release().unwrap();
        assert!(!busy.load(Ordering::SeqCst));
        assert!(store.read().unwrap().is_none());
    }

    #[test]
    fn a_damaged_lock_is_reported_and_never_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock.json");
        std::fs::write(&path, b"").unwrap();
        let lock = FileLock { path };
        let err = lock
            .acquire(&holder("alice", "1"), Ts::from_secs(1))
            .unwrap_err();
        assert!(err.to_string().contains("damaged"), "{err}");
    }
}
