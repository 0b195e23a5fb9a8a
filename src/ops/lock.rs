//! The operator lock that serialises releases, drains and reassignments. Its holder is a
//! *session* (operator + session id): two consoles of one person contend like two people do.
//! It is taken through one [`LockGuard`], renewed in the background at a third of its duration
//! for as long as the guard lives, checked before every write (the fence) and given back exactly
//! once. Demo: `lock.json` in the demo directory; live: a `coordination.k8s.io` Lease.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::OpsError;
use crate::domain::{ReleaseLock, Ts};

/// How long a lock lasts unless renewed.
pub const LOCK_TTL_SECS: i64 = 600;

/// How soon a renewal that failed is tried again.
const RETRY_FAILED_RENEWAL: Duration = Duration::from_secs(5);

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
    /// A new session for `operator`: `host/pid/random`, and `/start` — when the process
    /// started, in clock ticks since boot — where the system says, so that a later process
    /// given the same pid is not taken for this one.
    pub fn new_session(operator: impl Into<String>) -> Holder {
        let pid = std::process::id();
        let mut session = format!("{}/{pid}/{:08x}", local_identity(), fastrand::u32(..));
        if let Some(start) = process_state(pid).map(|p| p.start) {
            session.push_str(&format!("/{start}"));
        }
        Holder {
            operator: operator.into(),
            session,
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
        // The boot and the pid namespace apart: a session of this host's earlier boot is
        // known for one (and its process is gone).
        (Some(boot), Some(ns)) => format!(
            "{host}#{:08x}-{:08x}",
            short_hash(boot.trim()),
            short_hash(&ns.display().to_string())
        ),
        _ => host,
    }
}

fn short_hash(text: &str) -> u32 {
    let h = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    h as u32
}

/// A session of this host's pid namespace from an earlier boot.
fn earlier_boot(host: &str, local: &str) -> bool {
    let (Some((name, ids)), Some((local_name, local_ids))) =
        (host.split_once('#'), local.split_once('#'))
    else {
        return false;
    };
    let (Some((boot, ns)), Some((local_boot, local_ns))) =
        (ids.split_once('-'), local_ids.split_once('-'))
    else {
        return false;
    };
    name == local_name && ns == local_ns && boot != local_boot
}

/// A session of a process of this very system (same host, boot and process-id namespace) that
/// no longer runs — killed (even while it is a zombie, not yet reaped), or gone with its pid now
/// another process's (its start time differs): its lock is stale whatever its expiry says. Where
/// that cannot be known (no `/proc`, another host or container), it is not dead: expiry decides.
pub fn session_is_dead(session: &str) -> bool {
    let mut parts = session.split('/');
    let (Some(host), Some(pid)) = (
        parts.next(),
        parts.next().and_then(|p| p.parse::<u32>().ok()),
    ) else {
        return false;
    };
    let started = parts.nth(1).and_then(|s| s.parse::<u64>().ok());
    let local = local_identity();
    // The machine was restarted since: every process of that boot is gone.
    if earlier_boot(host, &local) {
        return true;
    }
    if !(host.contains('#') && host == local && std::path::Path::new("/proc/self").exists()) {
        return false;
    }
    if !process_exists(pid) {
        return true;
    }
    // What /proc says of it, where this user may read it (`hidepid` hides other users'
    // processes: alive, then, as far as anyone here can tell).
    process_state(pid).is_some_and(|p| p.zombie || started.is_some_and(|s| s != p.start))
}

/// Whether `session` is a session of this host that still runs (so its steps are its own to
/// finish); a session elsewhere cannot be known from here.
pub fn session_runs_here(session: &str) -> bool {
    session
        .split('/')
        .next()
        .is_some_and(|host| host == local_identity())
        && !session_is_dead(session)
}

/// Whether a process `pid` exists, as the kernel says: signal 0 checks without sending
/// anything; "not permitted" means it exists and belongs to another user.
fn process_exists(pid: u32) -> bool {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return false;
    };
    !matches!(
        rustix::process::test_kill_process(pid),
        Err(rustix::io::Errno::SRCH)
    )
}

/// What `/proc/PID/stat` says of a process: whether it is a zombie, and when it started.
struct ProcessState {
    zombie: bool,
    start: u64,
}

/// `None` when the process does not exist (or the system does not say).
fn process_state(pid: u32) -> Option<ProcessState> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name, in parentheses, may hold spaces and parentheses: the fields start
    // after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Field 3 is the state, field 22 the start time: 0 and 19 after the name.
    Some(ProcessState {
        zombie: matches!(fields.first(), Some(&"Z") | Some(&"X")),
        start: fields.get(19)?.parse().ok()?,
    })
}

/// Where the lock lives. Implementations make `acquire` atomic against other processes.
#[async_trait::async_trait]
pub trait LockStore: Send + Sync {
    /// The lock as stored now; an unreadable lock is an error that names it.
    async fn read(&self) -> Result<Option<ReleaseLock>, OpsError>;
    /// Takes the lock for `holder`, or renews it if `holder` has it; refuses while another
    /// session holds it (also one of the same operator).
    async fn acquire(&self, holder: &Holder, now: Ts) -> Result<ReleaseLock, OpsError>;
    /// Gives the lock up if `holder` has it.
    async fn release(&self, holder: &Holder) -> Result<(), OpsError>;
    /// Extends the lock `holder` holds — only while it is still `holder`'s: a lock that lapsed
    /// and was taken by anyone else meanwhile (even if given back since) is lost, never taken
    /// again by a renewal.
    async fn renew(&self, holder: &Holder, now: Ts) -> Result<ReleaseLock, OpsError> {
        match self.read().await? {
            Some(l) if holder.owns(&l) => self.acquire(holder, now).await,
            Some(l) => Err(OpsError::Locked(l)),
            None => Err(OpsError::LockLost("it is gone from its store".into())),
        }
    }
    /// How long the lock lasts unless renewed.
    fn duration(&self) -> Duration {
        Duration::from_secs(LOCK_TTL_SECS as u64)
    }
}

/// The lock, held. A task of its own renews it at a third of its duration; before each write
/// the operation asks [`LockGuard::fence`] whether it is still held. [`LockGuard::release`] gives
/// it back; a guard dropped without it (an error, a panic, a task aborted) is given back by a
/// task of its own.
pub struct LockGuard {
    renewal: Arc<Renewal>,
    task: Option<tokio::task::JoinHandle<()>>,
    /// The executor's "an operation is running" flag, cleared when the lock is given back.
    busy: Arc<AtomicBool>,
    released: bool,
}

/// What the guard and its renewing task share.
struct Renewal {
    store: Arc<dyn LockStore>,
    holder: Holder,
    duration: Duration,
    /// Held across every call to the store, so that nothing renews the lock once it is given back.
    io: tokio::sync::Mutex<()>,
    state: Mutex<Held>,
    wake: tokio::sync::Notify,
}

struct Held {
    /// When the store last confirmed the lock is this session's (by this process's clock).
    renewed: Instant,
    /// Another session took it over: why it is lost.
    lost: Option<String>,
    /// Given back: the task stops.
    stopped: bool,
}

impl Renewal {
    fn state(&self) -> std::sync::MutexGuard<'_, Held> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Renews the lock now. Another holder means it is lost; any other failure leaves it held
    /// until its duration has passed since the last renewal.
    async fn renew(&self, now: Ts) -> Result<(), OpsError> {
        let _io = self.io.lock().await;
        if self.state().stopped {
            return Err(OpsError::LockLost("it was given back".into()));
        }
        // The lock lasts from when the renewal was asked, not from when it was answered.
        let asked = Instant::now();
        match self.store.renew(&self.holder, now).await {
            Ok(_) => {
                self.state().renewed = asked;
                Ok(())
            }
            Err(OpsError::LockLost(why)) => {
                self.state().lost = Some(why.clone());
                Err(OpsError::LockLost(why))
            }
            Err(OpsError::Locked(other)) => {
                let why = format!("{} took it over", other.who());
                self.state().lost = Some(why.clone());
                Err(OpsError::LockLost(why))
            }
            Err(e) => Err(e),
        }
    }

    /// Renews every third of the duration until stopped or lost; after a failed renewal, again
    /// within seconds, so that a moment without an answer does not cost the lock.
    async fn run(self: Arc<Self>) {
        let every = (self.duration / 3).max(Duration::from_millis(500));
        let mut wait = every;
        loop {
            let woken = self.wake.notified();
            {
                let state = self.state();
                if state.stopped || state.lost.is_some() {
                    return;
                }
            }
            let _ = tokio::time::timeout(wait, woken).await;
            {
                let state = self.state();
                if state.stopped || state.lost.is_some() {
                    return;
                }
            }
            wait = match self.renew(Ts::now()).await {
                Ok(()) => every,
                Err(e @ OpsError::LockLost(_)) => {
                    tracing::warn!("the operator lock: {e}");
                    return;
                }
                // Tried again soon; fenced once the duration has passed without a renewal.
                Err(e) => {
                    tracing::warn!("renewing the operator lock: {e}");
                    every.min(RETRY_FAILED_RENEWAL)
                }
            };
        }
    }

    /// Stops the renewals and gives the lock back.
    async fn give_back(&self) -> Result<(), OpsError> {
        // No renewal starts after this (even if this future is dropped while it waits)...
        self.state().stopped = true;
        self.wake.notify_waiters();
        // ...and none is under way once the lock is given back.
        let _io = self.io.lock().await;
        self.store.release(&self.holder).await
    }
}

impl std::fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockGuard")
            .field("holder", &self.renewal.holder)
            .finish()
    }
}

impl LockGuard {
    /// Takes the lock; `busy` must be unset (one operation per session at a time).
    pub(crate) async fn take(
        store: Arc<dyn LockStore>,
        holder: Holder,
        busy: Arc<AtomicBool>,
        now: Ts,
    ) -> Result<LockGuard, OpsError> {
        if busy.swap(true, Ordering::SeqCst) {
            return Err(OpsError::Busy);
        }
        // Cleared again unless the lock is taken — also when this future is dropped mid-way.
        let claim = Claim(Some(Arc::clone(&busy)));
        store.acquire(&holder, now).await?;
        claim.keep();
        let renewal = Arc::new(Renewal {
            duration: store.duration(),
            store,
            holder,
            io: tokio::sync::Mutex::new(()),
            state: Mutex::new(Held {
                renewed: Instant::now(),
                lost: None,
                stopped: false,
            }),
            wake: tokio::sync::Notify::new(),
        });
        let task = tokio::spawn(Arc::clone(&renewal).run());
        Ok(LockGuard {
            renewal,
            task: Some(task),
            busy,
            released: false,
        })
    }

    pub fn holder(&self) -> &Holder {
        &self.renewal.holder
    }

    /// Extends the lock now; fails if someone took it over meanwhile (it had expired).
    pub async fn renew(&self, now: Ts) -> Result<(), OpsError> {
        self.renewal.renew(now).await
    }

    /// Is the lock still this session's, renewed within its duration (by this process's own
    /// clock)? Checked before every write: a lock that is lost stops the operation before it
    /// writes again.
    pub fn fence(&self) -> Result<(), OpsError> {
        let state = self.renewal.state();
        if let Some(why) = &state.lost {
            return Err(OpsError::LockLost(why.clone()));
        }
        let since = state.renewed.elapsed();
        if since >= self.renewal.duration {
            return Err(OpsError::LockLost(format!(
                "not renewed for {} s, longer than its duration of {} s",
                since.as_secs(),
                self.renewal.duration.as_secs()
            )));
        }
        Ok(())
    }

    /// Gives the lock back. Dropped before it has (a cancelled task), the guard's drop gives
    /// it back instead.
    pub async fn release(mut self) -> Result<(), OpsError> {
        let result = self.renewal.give_back().await;
        self.released = true;
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        self.busy.store(false, Ordering::SeqCst);
        result
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if self.released {
            return;
        }
        let (renewal, busy, task) = (
            Arc::clone(&self.renewal),
            Arc::clone(&self.busy),
            self.task.take(),
        );
        let give_back = async move {
            if let Err(e) = renewal.give_back().await {
                tracing::warn!("giving the operator lock back: {e}");
            }
            if let Some(t) = task {
                let _ = t.await;
            }
            busy.store(false, Ordering::SeqCst);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(give_back);
            }
            // No runtime left to give it back on: it lapses after its duration.
            Err(_) => {
                renewal_stopped(&self.renewal);
                self.busy.store(false, Ordering::SeqCst);
            }
        }
    }
}

/// This session's "an operation is running" flag while the lock is being taken: cleared on drop
/// unless kept.
struct Claim(Option<Arc<AtomicBool>>);

impl Claim {
    fn keep(mut self) {
        self.0 = None;
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(busy) = self.0.take() {
            busy.store(false, Ordering::SeqCst);
        }
    }
}

fn renewal_stopped(r: &Renewal) {
    r.state().stopped = true;
    r.wake.notify_waiters();
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A lock store in memory, for the guard's own rules; it counts the acquisitions.
    #[derive(Default)]
    struct Memory(Mutex<Option<ReleaseLock>>, std::sync::atomic::AtomicUsize);

    #[async_trait::async_trait]
    impl LockStore for Memory {
        fn duration(&self) -> Duration {
            Duration::from_secs(3)
        }

        async fn read(&self) -> Result<Option<ReleaseLock>, OpsError> {
            Ok(self.0.lock().unwrap().clone())
        }

        async fn acquire(&self, holder: &Holder, now: Ts) -> Result<ReleaseLock, OpsError> {
            self.1.fetch_add(1, Ordering::SeqCst);
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

        async fn release(&self, holder: &Holder) -> Result<(), OpsError> {
            let mut l = self.0.lock().unwrap();
            if l.as_ref().is_some_and(|x| holder.owns(x)) {
                *l = None;
            }
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_guard_gives_the_lock_back_once_and_refuses_a_second_operation() {
        let store: Arc<dyn LockStore> = Arc::new(Memory::default());
        let busy = Arc::new(AtomicBool::new(false));
        let t = Ts::from_secs(1000);
        let me = Holder {
            operator: "alice".into(),
            session: "h/1/a".into(),
            operation: None,
        };
        let guard = LockGuard::take(store.clone(), me.clone(), busy.clone(), t)
            .await
            .unwrap();
        assert!(matches!(
            LockGuard::take(store.clone(), me.clone(), busy.clone(), t).await,
            Err(OpsError::Busy)
        ));
        // Dropped without being given back (an error, an aborted task): given back all the same.
        drop(guard);
        eventually_async("given back after a drop", || !busy.load(Ordering::SeqCst)).await;
        assert!(store.read().await.unwrap().is_none());
        let guard = LockGuard::take(store.clone(), me, busy.clone(), t)
            .await
            .unwrap();
        guard.release().await.unwrap();
        assert!(!busy.load(Ordering::SeqCst));
        assert!(store.read().await.unwrap().is_none());
    }

    fn alice() -> Holder {
        Holder {
            operator: "alice".into(),
            session: "h/1/a".into(),
            operation: None,
        }
    }

    /// Polls `check` until it holds, for at most 10 s.
    fn eventually(what: &str, mut check: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !check() {
            assert!(Instant::now() < deadline, "never: {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// [`eventually`], letting the runtime's tasks run meanwhile.
    async fn eventually_async(what: &str, mut check: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !check() {
            assert!(Instant::now() < deadline, "never: {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn the_lock_is_renewed_in_the_background_and_never_after_it_is_given_back() {
        let store = Arc::new(Memory::default());
        let busy = Arc::new(AtomicBool::new(false));
        let guard = LockGuard::take(store.clone(), alice(), busy, Ts::now())
            .await
            .unwrap();
        // A third of 3 s: renewed without anyone asking.
        eventually_async("renewed in the background", || {
            store.1.load(Ordering::SeqCst) >= 3
        })
        .await;
        assert!(guard.fence().is_ok());
        guard.release().await.unwrap();
        // The renewing task has ended: nothing takes the lock again, however long one waits
        // (longer than a renewal's interval of 1 s).
        let after = store.1.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(store.read().await.unwrap().is_none());
        assert_eq!(store.1.load(Ordering::SeqCst), after);
    }

    #[tokio::test]
    async fn a_lock_taken_over_is_lost_and_fences_every_write_after() {
        let store = Arc::new(Memory::default());
        let busy = Arc::new(AtomicBool::new(false));
        let guard = LockGuard::take(store.clone(), alice(), busy, Ts::now())
            .await
            .unwrap();
        let bob = Holder {
            operator: "bob".into(),
            session: "h/2/b".into(),
            operation: Some("draining 'c'".into()),
        };
        // Taken over behind this session's back (as an expired Lease would be).
        *store.0.lock().unwrap() = Some(bob.lock(Ts::now(), Ts::now()));
        eventually_async("the loss noticed by the renewals", || {
            guard.fence().is_err()
        })
        .await;
        match guard.fence() {
            Err(OpsError::LockLost(why)) => {
                assert!(why.contains("bob") && why.contains("draining 'c'"), "{why}")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            guard.renew(Ts::now()).await,
            Err(OpsError::LockLost(_))
        ));
        // Giving back a lock that is someone else's leaves theirs alone.
        guard.release().await.unwrap();
        assert!(
            store
                .read()
                .await
                .unwrap()
                .is_some_and(|l| l.holder == "bob")
        );
    }

    #[tokio::test]
    async fn a_lock_taken_and_given_back_meanwhile_is_lost_not_taken_again() {
        let store = Arc::new(Memory::default());
        let guard = LockGuard::take(store.clone(), alice(), Arc::default(), Ts::now())
            .await
            .unwrap();
        // It lapsed; someone took it and gave it back: the store is empty again.
        *store.0.lock().unwrap() = None;
        assert!(matches!(
            guard.renew(Ts::now()).await,
            Err(OpsError::LockLost(_))
        ));
        assert!(matches!(guard.fence(), Err(OpsError::LockLost(_))));
        assert!(store.read().await.unwrap().is_none(), "not taken again");
    }

    #[tokio::test]
    async fn a_lock_that_cannot_be_renewed_for_its_whole_duration_is_fenced() {
        /// A store that answers the first acquisition, then fails every renewal.
        struct Failing(std::sync::atomic::AtomicBool);
        #[async_trait::async_trait]
        impl LockStore for Failing {
            fn duration(&self) -> Duration {
                Duration::from_secs(1)
            }
            async fn read(&self) -> Result<Option<ReleaseLock>, OpsError> {
                Err(OpsError::Store("the server does not answer".into()))
            }
            async fn acquire(&self, holder: &Holder, now: Ts) -> Result<ReleaseLock, OpsError> {
                if self.0.swap(true, Ordering::SeqCst) {
                    Err(OpsError::Store("the server does not answer".into()))
                } else {
                    Ok(holder.lock(now, now))
                }
            }
            async fn release(&self, _: &Holder) -> Result<(), OpsError> {
                Ok(())
            }
        }
        let store = Arc::new(Failing(AtomicBool::new(false)));
        let guard = LockGuard::take(store, alice(), Arc::default(), Ts::now())
            .await
            .unwrap();
        assert!(guard.fence().is_ok());
        eventually_async("fenced after its duration", || guard.fence().is_err()).await;
        assert!(matches!(guard.fence(), Err(OpsError::LockLost(w)) if w.contains("not renewed")));
    }

    #[test]
    fn a_killed_process_is_dead_while_a_zombie_and_a_reused_pid_is_not_its_session() {
        let me = Holder::new_session("alice");
        assert!(!session_is_dead(&me.session), "{}", me.session);
        // The same pid, started at another time: another process.
        let mut parts: Vec<String> = me.session.split('/').map(str::to_string).collect();
        assert_eq!(parts.len(), 4, "{}", me.session);
        parts[3] = "1".into();
        assert!(session_is_dead(&parts.join("/")));
        // Killed and not yet reaped: a zombie, dead all the same.
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let start = process_state(child.id()).unwrap().start;
        let session = format!("{}/{}/0/{start}", local_identity(), child.id());
        assert!(!session_is_dead(&session));
        child.kill().unwrap();
        eventually("a zombie", || {
            process_state(child.id()).is_some_and(|p| p.zombie)
        });
        assert!(session_is_dead(&session));
        child.wait().unwrap();
        assert!(session_is_dead(&session));
        // An older session (no start time) is judged by its pid alone.
        assert!(!session_is_dead(&format!(
            "{}/{}/0",
            local_identity(),
            std::process::id()
        )));
    }

    #[test]
    fn a_session_of_this_host_s_earlier_boot_is_dead_and_another_host_s_is_not_known() {
        let local = local_identity();
        // Where the system says which boot and pid namespace this is (Linux with /proc).
        if let Some((name, ids)) = local.split_once('#') {
            let (_, ns) = ids.split_once('-').expect("boot and namespace apart");
            assert!(session_is_dead(&format!(
                "{name}#00000000-{ns}/4242/abcd/7"
            )));
            // Another pid namespace (a container of the same name): not known.
            assert!(!session_is_dead(&format!(
                "{name}#00000000-ffffffff/4242/abcd/7"
            )));
        }
        // Another host: not known.
        assert!(!session_is_dead("elsewhere#00000000-00000000/4242/abcd/7"));
        assert!(!session_is_dead("deadhost/999999/0"));
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
