//! The operator lock that serialises releases, drains and reassignments. Its holder is a
//! *session* (operator + session id): two consoles of one person contend like two people do.
//! It is taken through one [`LockGuard`], renewed while work goes on and given back exactly once.
//! Demo: `lock.json` in the demo directory; live: a `coordination.k8s.io` Lease.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::OpsError;
use crate::domain::{ReleaseLock, Ts};

/// How long a lock lasts unless renewed.
pub const LOCK_TTL_SECS: i64 = 600;

/// Who holds the lock: an operator's one session (and what for, which is only shown).
#[derive(Debug, Clone, Eq)]
pub struct Holder {
    /// Shown to people: `alice@ops`.
    pub operator: String,
    /// Unique per process: two consoles of one operator are two sessions.
    pub session: String,
    /// What the lock is taken for (`drain of 'c'`), shown to whoever else wants it.
    pub operation: Option<String>,
}

/// One session is one holder, whatever it is doing.
impl PartialEq for Holder {
    fn eq(&self, other: &Holder) -> bool {
        self.operator == other.operator && self.session == other.session
    }
}

impl Holder {
    /// A new session for `operator`: `host/pid/random`.
    pub fn new_session(operator: impl Into<String>) -> Holder {
        Holder {
            operator: operator.into(),
            session: format!(
                "{}/{}/{:08x}",
                local_identity(),
                std::process::id(),
                fastrand::u32(..)
            ),
            operation: None,
        }
    }

    /// This session, doing `what`.
    pub fn doing(&self, what: &str) -> Holder {
        Holder {
            operation: Some(crate::domain::printable(what)).filter(|w| !w.is_empty()),
            ..self.clone()
        }
    }

    /// The lock this session holds from `acquired_at`, renewed at `now`.
    pub fn lock(&self, acquired_at: Ts, now: Ts) -> ReleaseLock {
        ReleaseLock {
            holder: self.operator.clone(),
            session: self.session.clone(),
            acquired_at,
            expires_at: now.plus_secs(LOCK_TTL_SECS),
            operation: self.operation.clone(),
        }
    }

    /// Is the lock this session's? A lock without a session (an older format) is nobody's.
    pub fn owns(&self, lock: &ReleaseLock) -> bool {
        !lock.session.is_empty() && lock.session == self.session && lock.holder == self.operator
    }
}

/// Where this process runs, as precisely as a session needs: the host name, and — where the
/// system says (`/proc`) — which boot and which process-id namespace, so that containers sharing
/// a host name, or a host that rebooted, are not taken for this one.
pub fn local_identity() -> String {
    let host = crate::ops::hostname();
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok();
    let pidns = std::fs::read_link("/proc/self/ns/pid").ok();
    match (boot, pidns) {
        (Some(boot), Some(ns)) => {
            let seen = format!("{}{}", boot.trim(), ns.display());
            let hash = seen.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
            format!("{host}#{:08x}", hash as u32)
        }
        _ => host,
    }
}

/// A session of a process of this very system (same host, boot and process-id namespace) that
/// no longer runs — killed: its lock is stale whatever its expiry says. Where that cannot be
/// known (no `/proc`, another host or container), it is not dead: expiry decides.
pub fn session_is_dead(session: &str) -> bool {
    let mut parts = session.split('/');
    match (
        parts.next(),
        parts.next().and_then(|p| p.parse::<u32>().ok()),
    ) {
        (Some(host), Some(pid))
            if host.contains('#')
                && host == local_identity()
                && std::path::Path::new("/proc/self").exists() =>
        {
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
        // The lock goes first: until it is gone, this session starts nothing else.
        let result = self.store.release(&self.holder);
        self.busy.store(false, Ordering::SeqCst);
        result
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if !self.released {
            self.released = true;
            if let Err(e) = self.store.release(&self.holder) {
                tracing::warn!("giving the operator lock back: {e}");
            }
            self.busy.store(false, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A lock store in memory, for the guard's own rules.
    #[derive(Default)]
    struct Memory(Mutex<Option<ReleaseLock>>);

    impl LockStore for Memory {
        fn read(&self) -> Result<Option<ReleaseLock>, OpsError> {
            Ok(self.0.lock().unwrap().clone())
        }

        fn acquire(&self, holder: &Holder, now: Ts) -> Result<ReleaseLock, OpsError> {
            let mut l = self.0.lock().unwrap();
            match &*l {
                Some(other) if other.is_held(now) && !holder.owns(other) => {
                    Err(OpsError::Locked(other.clone()))
                }
                _ => {
                    let mine = holder.lock(now, now);
                    *l = Some(mine.clone());
                    Ok(mine)
                }
            }
        }

        fn release(&self, holder: &Holder) -> Result<(), OpsError> {
            let mut l = self.0.lock().unwrap();
            if l.as_ref().is_some_and(|x| holder.owns(x)) {
                *l = None;
            }
            Ok(())
        }
    }

    #[test]
    fn the_guard_gives_the_lock_back_once_and_refuses_a_second_operation() {
        let store: Arc<dyn LockStore> = Arc::new(Memory::default());
        let busy = Arc::new(AtomicBool::new(false));
        let t = Ts::from_secs(1000);
        let me = Holder {
            operator: "alice".into(),
            session: "h/1/a".into(),
            operation: None,
        };
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
    fn a_lock_without_a_session_is_nobodys() {
        let me = Holder {
            operator: "alice".into(),
            session: String::new(),
            operation: None,
        };
        let old = ReleaseLock {
            holder: "alice".into(),
            session: String::new(),
            acquired_at: Ts::from_secs(1),
            expires_at: Ts::from_secs(2),
            operation: None,
        };
        assert!(!me.owns(&old));
    }
}
