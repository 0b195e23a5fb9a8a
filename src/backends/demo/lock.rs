//! The demo's locks, in the demo directory. `lock.json` is the operator lock (what the executor
//! takes; live mode uses a Lease instead). Every read-modify-write of it, and every rewrite of
//! the placement files, happens under an OS file lock, so two processes never both decide they
//! won — and a process that dies lets go of it by dying.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::domain::{ReleaseLock, Ts};
use crate::ops::atomic;
pub use crate::ops::lock::session_is_dead;
use crate::ops::{Holder, LockStore, OpsError, offload};

/// Serialises changes of `lock.json`.
pub const LOCK_MUTEX: &str = ".lock.mutex";
/// Held while one process rewrites the placement files.
pub const PLACEMENT_MUTEX: &str = ".placement.lock";

/// An exclusive OS lock on a file in the demo directory, held until dropped.
pub struct Exclusive(#[allow(dead_code)] File);

impl Exclusive {
    /// Waits up to `patience` for the lock.
    pub fn take(path: &Path, patience: Duration) -> Result<Exclusive, OpsError> {
        let f = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| OpsError::Store(format!("cannot open '{}': {e}", path.display())))?;
        let started = Instant::now();
        loop {
            match f.try_lock() {
                Ok(()) => return Ok(Exclusive(f)),
                Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < patience => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(OpsError::Store(format!(
                        "'{}' is held by another writer for over {} s",
                        path.display(),
                        patience.as_secs()
                    )));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(OpsError::Store(format!(
                        "cannot lock '{}': {e}",
                        path.display()
                    )));
                }
            }
        }
    }
}

/// Reads a lock file: `None` when there is none, an error naming the file when it is damaged.
pub fn read_lock_file(path: &Path) -> Result<Option<ReleaseLock>, String> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice::<ReleaseLock>(&bytes)
            .map(|mut l| {
                // Whoever wrote the file, what it names is shown on terminals.
                l.holder = crate::domain::printable(&l.holder);
                Some(l)
            })
            .map_err(|e| {
            format!(
                "the lock file '{}' is damaged ({e}); if no release or drain is running, remove it",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read '{}': {e}", path.display())),
    }
}

/// `lock.json` in a directory: `{"holder", "session", "acquired_at", "expires_at"}`, written
/// atomically (a full disk leaves the old lock or none, never an empty file).
#[derive(Debug, Clone)]
pub struct FileLock {
    pub path: PathBuf,
}

impl FileLock {
    fn mutex(&self) -> Result<Exclusive, OpsError> {
        Exclusive::take(
            &self.path.with_file_name(LOCK_MUTEX),
            Duration::from_secs(10),
        )
    }

    fn write(&self, lock: &ReleaseLock) -> Result<(), OpsError> {
        let json = serde_json::to_vec(lock).map_err(|e| OpsError::Lock(e.to_string()))?;
        atomic::write(&self.path, &json)
            .map_err(|e| OpsError::Lock(format!("cannot write '{}': {e}", self.path.display())))
    }
}

/// The file is read and written on a blocking thread.
#[async_trait::async_trait]
impl LockStore for FileLock {
    async fn read(&self) -> Result<Option<ReleaseLock>, OpsError> {
        let me = self.clone();
        offload(move || me.read_now()).await
    }

    async fn acquire(&self, holder: &Holder, now: Ts) -> Result<ReleaseLock, OpsError> {
        let (me, holder) = (self.clone(), holder.clone());
        offload(move || me.acquire_now(&holder, now)).await
    }

    async fn release(&self, holder: &Holder) -> Result<(), OpsError> {
        let (me, holder) = (self.clone(), holder.clone());
        offload(move || me.release_now(&holder)).await
    }
}

impl FileLock {
    pub fn read_now(&self) -> Result<Option<ReleaseLock>, OpsError> {
        read_lock_file(&self.path).map_err(OpsError::Lock)
    }

    pub fn acquire_now(&self, holder: &Holder, now: Ts) -> Result<ReleaseLock, OpsError> {
        let _mutex = self.mutex()?;
        let since = match self.read_now()? {
            Some(l) if l.is_held(now) && !holder.owns(&l) && !session_is_dead(&l.session) => {
                return Err(OpsError::Locked(l));
            }
            // Ours to renew: the acquisition time stays.
            Some(l) if holder.owns(&l) && l.is_held(now) => l.acquired_at,
            // Free, stale or its process gone: taken over.
            _ => now,
        };
        let mine = holder.lock(since, now);
        self.write(&mine)?;
        Ok(mine)
    }

    pub fn release_now(&self, holder: &Holder) -> Result<(), OpsError> {
        let _mutex = self.mutex()?;
        match self.read_now()? {
            Some(l) if holder.owns(&l) => std::fs::remove_file(&self.path).map_err(|e| {
                OpsError::Lock(format!("cannot remove '{}': {e}", self.path.display()))
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};

    use super::*;
    use crate::ops::lock::LOCK_TTL_SECS;

    fn holder(op: &str, session: &str) -> Holder {
        Holder {
            operator: op.into(),
            session: session.into(),
            operation: None,
        }
    }

    #[test]
    fn one_session_at_a_time_and_stale_locks_expire() {
        let dir = tempfile::tempdir().unwrap();
        let lock = FileLock {
            path: dir.path().join("lock.json"),
        };
        let (alice, bob) = (holder("alice", "x/1/a"), holder("bob", "x/2/b"));
        let t = Ts::from_secs(1000);
        assert_eq!(lock.acquire_now(&alice, t).unwrap().holder, "alice");
        match lock.acquire_now(&bob, t.plus_secs(10)) {
            Err(OpsError::Locked(l)) => assert_eq!(l.holder, "alice"),
            other => panic!("bob got {other:?}"),
        }
        // Alice renews; the expiry moves, the acquisition time stays.
        let renewed = lock.acquire_now(&alice, t.plus_secs(30)).unwrap();
        assert_eq!(
            (renewed.acquired_at, renewed.expires_at),
            (t, t.plus_secs(30 + LOCK_TTL_SECS))
        );
        // Bob's release does nothing; after expiry Bob takes over.
        lock.release_now(&bob).unwrap();
        assert!(
            lock.acquire_now(&bob, t.plus_secs(LOCK_TTL_SECS + 29))
                .is_err()
        );
        let late = t.plus_secs(30 + LOCK_TTL_SECS + 1);
        assert_eq!(lock.acquire_now(&bob, late).unwrap().holder, "bob");
        lock.release_now(&bob).unwrap();
        assert!(!dir.path().join("lock.json").exists());
    }

    #[test]
    fn a_second_session_of_the_same_operator_is_refused_and_cannot_release() {
        let dir = tempfile::tempdir().unwrap();
        let lock = FileLock {
            path: dir.path().join("lock.json"),
        };
        let (first, second) = (holder("alice", "x/1/a"), holder("alice", "x/1/b"));
        let t = Ts::from_secs(1000);
        lock.acquire_now(&first, t).unwrap();
        assert!(matches!(
            lock.acquire_now(&second, t.plus_secs(1)),
            Err(OpsError::Locked(_))
        ));
        lock.release_now(&second).unwrap();
        assert!(lock.read_now().unwrap().is_some_and(|l| first.owns(&l)));
    }

    #[test]
    fn a_damaged_lock_is_reported_and_never_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock.json");
        std::fs::write(&path, b"").unwrap();
        let lock = FileLock { path };
        let err = lock
            .acquire_now(&holder("alice", "x/1/a"), Ts::from_secs(1))
            .unwrap_err();
        assert!(err.to_string().contains("damaged"), "{err}");
    }

    #[test]
    fn many_takers_of_a_stale_lock_leave_exactly_one_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock.json");
        let t = Ts::from_secs(1000);
        FileLock { path: path.clone() }
            .acquire_now(&holder("gone", "x/9/z"), t)
            .unwrap();
        let late = t.plus_secs(LOCK_TTL_SECS + 1);
        let n = 8;
        let barrier = Arc::new(Barrier::new(n));
        let winners: Vec<bool> = (0..n)
            .map(|i| {
                let (path, barrier) = (path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    let me = holder("op", &format!("x/1/{i}"));
                    barrier.wait();
                    FileLock { path }.acquire_now(&me, late).is_ok()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        assert_eq!(winners.iter().filter(|w| **w).count(), 1, "{winners:?}");
    }
}
