//! The operator lock as a Lease, through the real `kube::Client` against the fake API server:
//! one session at a time, renewal, release, and of contenders for an expired Lease exactly one.

#[path = "support/fake_kube.rs"]
mod fake_kube;

use std::sync::{Arc, Barrier};

use fake_kube::FakeKube;
use shopctl::backends::live::{kubeconfig, lease::LeaseLock};
use shopctl::domain::Ts;
use shopctl::ops::lock::LOCK_TTL_SECS;
use shopctl::ops::{Holder, LockStore, OpsError};

fn holder(op: &str, session: &str) -> Holder {
    Holder {
        operator: op.into(),
        session: session.into(),
        operation: None,
    }
}

/// A Lease store in its own thread's world (the executor is synchronous).
fn lease(file: &std::path::Path) -> LeaseLock {
    let (k, name) = kubeconfig::load(Some(file)).expect("kubeconfig");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let config = rt
        .block_on(kubeconfig::client_config(&k, &name, None))
        .expect("context");
    LeaseLock::new(config, "shopctl", "shopctl-release", 600).expect("lease")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_session_holds_the_lease_and_of_two_takers_of_an_expired_one_exactly_one_wins() {
    let fake = FakeKube::start("shopset.dev", "v1alpha1").await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = fake.kubeconfig(tmp.path(), "ops", "t");
    let result = tokio::task::spawn_blocking(move || {
        let store = lease(&file);
        let t = Ts::from_secs(1_000_000);
        let (alice, bob) = (holder("alice@ops", "h/1/a"), holder("bob@ops", "h/2/b"));
        assert_eq!(
            store.acquire(&alice, t).expect("created").holder,
            "alice@ops"
        );
        match store.acquire(&bob, t.plus_secs(5)) {
            Err(OpsError::Locked(l)) => assert_eq!(l.holder, "alice@ops"),
            other => panic!("bob got {other:?}"),
        }
        let renewed = store.acquire(&alice, t.plus_secs(60)).expect("renewed");
        assert_eq!(renewed.acquired_at, t);
        assert_eq!(renewed.expires_at, t.plus_secs(60 + 600));
        store.release(&bob).expect("not bob's: nothing");
        assert!(store.read().expect("read").is_some());
        store.release(&alice).expect("released");
        assert!(store.read().expect("read").is_none());

        // Expired: many take it over at once; exactly one wins.
        store
            .acquire(&holder("gone@ops", "h/9/z"), t)
            .expect("left behind");
        let late = t.plus_secs(LOCK_TTL_SECS + 1000);
        let n = 6;
        let barrier = Arc::new(Barrier::new(n));
        let stores: Vec<LeaseLock> = (0..n).map(|_| lease(&file)).collect();
        std::thread::scope(|s| {
            let handles: Vec<_> = stores
                .iter()
                .enumerate()
                .map(|(i, st)| {
                    let barrier = barrier.clone();
                    s.spawn(move || {
                        barrier.wait();
                        st.acquire(&holder("op", &format!("h/1/{i}")), late).is_ok()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("joined"))
                .filter(|w| *w)
                .count()
        })
    })
    .await
    .expect("joined");
    assert_eq!(result, 1, "exactly one contender took the expired Lease");
}
