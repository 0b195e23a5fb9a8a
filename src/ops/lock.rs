//! The operator lock that serialises releases: a file in the demo directory (live mode: a
//! `coordination.k8s.io` Lease). A lock past its expiry is stale and may be taken over.

use std::path::PathBuf;

use super::OpsError;
use crate::domain::{ReleaseLock, Ts};

pub trait LockStore: Send + Sync {
    /// Takes the lock for `holder`, or renews it if `holder` has it already.
    fn acquire(&self, holder: &str, now: Ts, ttl_secs: i64) -> Result<ReleaseLock, OpsError>;
    /// Gives the lock up if `holder` has it.
    fn release(&self, holder: &str) -> Result<(), OpsError>;
}

/// `lock.json` in a directory: `{"holder", "acquired_at", "expires_at"}`.
pub struct FileLock {
    pub path: PathBuf,
}

impl FileLock {
    fn read(&self) -> Result<Option<ReleaseLock>, OpsError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                OpsError::Lock(format!(
                    "lock file '{}' is damaged ({e}); remove it if no release is running",
                    self.path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(OpsError::Lock(format!(
                "cannot read '{}': {e}",
                self.path.display()
            ))),
        }
    }

    fn write(&self, lock: &ReleaseLock, exclusive: bool) -> Result<bool, OpsError> {
        use std::io::Write;
        let json = serde_json::to_vec(lock).map_err(|e| OpsError::Lock(e.to_string()))?;
        let io = |e: std::io::Error| {
            OpsError::Lock(format!("cannot write '{}': {e}", self.path.display()))
        };
        if exclusive {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&self.path)
            {
                Ok(mut f) => {
                    f.write_all(&json).map_err(io)?;
                    Ok(true)
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(io(e)),
            }
        } else {
            let tmp = self
                .path
                .with_extension(format!("tmp.{}", std::process::id()));
            std::fs::write(&tmp, &json).map_err(io)?;
            std::fs::rename(&tmp, &self.path).map_err(io)?;
            Ok(true)
        }
    }
}

impl LockStore for FileLock {
    fn acquire(&self, holder: &str, now: Ts, ttl_secs: i64) -> Result<ReleaseLock, OpsError> {
        for _ in 0..3 {
            let mine = ReleaseLock {
                holder: holder.into(),
                acquired_at: now,
                expires_at: now.plus_secs(ttl_secs),
            };
            match self.read()? {
                Some(l) if l.is_held(now) && l.holder != holder => return Err(OpsError::Locked(l)),
                Some(l) => {
                    // Ours to renew, or stale: replace it, then make sure no one else did too.
                    let renewed = ReleaseLock {
                        acquired_at: if l.holder == holder && l.is_held(now) {
                            l.acquired_at
                        } else {
                            now
                        },
                        ..mine
                    };
                    self.write(&renewed, false)?;
                    match self.read()? {
                        Some(now_held) if now_held.holder == holder => return Ok(now_held),
                        Some(other) => return Err(OpsError::Locked(other)),
                        None => continue,
                    }
                }
                None => {
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

    fn release(&self, holder: &str) -> Result<(), OpsError> {
        match self.read()? {
            Some(l) if l.holder == holder => std::fs::remove_file(&self.path).map_err(|e| {
                OpsError::Lock(format!("cannot remove '{}': {e}", self.path.display()))
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_stale_locks_expire() {
        let dir = tempfile::tempdir().unwrap();
        let lock = FileLock {
            path: dir.path().join("lock.json"),
        };
        let t = Ts::from_secs(1000);
        assert_eq!(lock.acquire("alice", t, 60).unwrap().holder, "alice");
        match lock.acquire("bob", t.plus_secs(10), 60) {
            Err(OpsError::Locked(l)) => assert_eq!(l.holder, "alice"),
            other => panic!("bob got {other:?}"),
        }
        // Alice renews; the expiry moves, the acquisition time stays.
        let renewed = lock.acquire("alice", t.plus_secs(30), 60).unwrap();
        assert_eq!(
            (renewed.acquired_at, renewed.expires_at),
            (t, t.plus_secs(90))
        );
        // Bob's release does nothing; after expiry Bob takes over.
        lock.release("bob").unwrap();
        assert!(lock.acquire("bob", t.plus_secs(89), 60).is_err());
        assert_eq!(
            lock.acquire("bob", t.plus_secs(91), 60).unwrap().holder,
            "bob"
        );
        lock.release("bob").unwrap();
        assert!(!dir.path().join("lock.json").exists());
    }
}
