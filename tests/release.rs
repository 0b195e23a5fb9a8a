//! Releases end to end on real temporary repositories: gates, promotion, rollback, races, the
//! lock, read-only refusal and the audit log. A shifted clock stands in for waiting.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use common::{demo_options, git};
use shopctl::backends::demo::{AUDIT_FILE, DemoFleet, DemoSource, Scenario};
use shopctl::commands::Exit;
use shopctl::commands::release::{Confirm, rollback, step};
use shopctl::domain::Ts;
use shopctl::ops::audit::AuditLog;
use shopctl::ops::{Executor, Holder, Operations, OpsError};

/// A demo fleet created now, with a clock the test moves forward.
struct Rig {
    dir: tempfile::TempDir,
    source: DemoSource,
    ops: Arc<Operations>,
    offset: Arc<AtomicI64>,
}

impl Rig {
    fn new(scenario: Scenario) -> Rig {
        Rig::with_operator(scenario, "alice@ops")
    }

    fn with_operator(scenario: Scenario, operator: &str) -> Rig {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut opts = demo_options(dir.path(), 300, scenario);
        opts.created_at = None;
        let fleet = DemoFleet::open(&opts).expect("demo");
        let executor = fleet
            .executor(Holder::new_session(operator))
            .expect("executor");
        let offset = Arc::new(AtomicI64::new(0));
        let shifted = Arc::clone(&offset);
        Rig {
            source: DemoSource::new(fleet),
            ops: Operations::with_clock(
                executor,
                Arc::new(move || Ts::now().plus_secs(shifted.load(Ordering::SeqCst))),
            ),
            offset,
            dir,
        }
    }

    fn now(&self) -> Ts {
        self.ops.now()
    }

    fn executor(&self) -> &Executor {
        self.ops.executor()
    }

    /// Lets time pass: Argo CD syncs and soak times run out.
    fn wait(&self, secs: i64) {
        self.offset.fetch_add(secs, Ordering::SeqCst);
    }

    async fn step(&mut self, tier: &str, reason: Option<&str>) -> Exit {
        step(
            &mut self.source,
            Some(&self.ops),
            tier,
            reason,
            Confirm::Yes,
        )
        .await
    }

    /// A release decision made by `who` (another session on the same fleet and clock).
    async fn decide_as(
        &self,
        who: &str,
        decision: shopctl::commands::release::Decision<'_>,
    ) -> Exit {
        let mut opts = demo_options(self.dir.path(), 300, Scenario::Calm);
        opts.scale = None;
        opts.seed = None;
        opts.scenario = None;
        opts.created_at = None;
        let fleet = DemoFleet::open(&opts).expect("opens the same fleet");
        let shifted = Arc::clone(&self.offset);
        let ops = Operations::with_clock(
            fleet.executor(Holder::new_session(who)).expect("executor"),
            Arc::new(move || Ts::now().plus_secs(shifted.load(Ordering::SeqCst))),
        );
        let mut source = DemoSource::new(fleet);
        shopctl::commands::release::decide(&mut source, Some(&ops), decision, Confirm::Yes).await
    }

    async fn rollback(&mut self, tier: &str) -> Exit {
        rollback(&mut self.source, Some(&self.ops), tier, Confirm::Yes).await
    }

    fn remote(&self) -> std::path::PathBuf {
        self.dir.path().join("git/system.git")
    }

    fn pinned(&self, branch: &str) -> String {
        let line = git(&self.remote(), &["ls-tree", branch, "base"]);
        line.split_whitespace()
            .nth(2)
            .unwrap_or_default()
            .to_string()
    }

    fn audit(&self) -> Vec<shopctl::ops::audit::AuditEntry> {
        AuditLog {
            path: self.dir.path().join(AUDIT_FILE),
        }
        .read()
        .expect("audit log")
    }

    fn revision(&mut self, tier: &str) -> String {
        let now = self.now();
        let f = self.source.snapshot(now).expect("snapshot");
        f.tier(tier)
            .and_then(|t| t.revision.clone())
            .map(|r| r.id)
            .unwrap_or_default()
    }
}

fn overlays_tree(remote: &Path, branch: &str) -> String {
    git(remote, &["rev-parse", &format!("{branch}:overlays")])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_release_from_dev_to_prod_ha() {
    let mut rig = Rig::new(Scenario::Calm);
    let tip = rig.pinned("tier-0");
    assert_eq!(
        rig.pinned("tier-1"),
        tip,
        "beta already runs the new release"
    );
    let overlays: Vec<String> = (2..=4)
        .map(|l| overlays_tree(&rig.remote(), &format!("tier-{l}")))
        .collect();
    let history_before = git(&rig.remote(), &["rev-list", "--count", "tier-4"]);

    for (level, tier) in [(2, "prod-beta"), (3, "prod"), (4, "prod-ha")] {
        if tier == "prod-ha" {
            // prod-ha asks for a second person: alice asks, bob approves exactly this change.
            use shopctl::commands::release::Decision;
            assert_eq!(rig.step(tier, Some("no approval")).await, Exit::Refused);
            assert_eq!(
                rig.decide_as("alice@ops", Decision::Request { tier }).await,
                Exit::Done
            );
            assert_eq!(
                rig.decide_as("alice@ops", Decision::Approve { tier }).await,
                Exit::Refused,
                "not one's own"
            );
            assert_eq!(
                rig.decide_as("bob@ops", Decision::Approve { tier }).await,
                Exit::Done
            );
        }
        assert_eq!(rig.step(tier, None).await, Exit::Done, "step into {tier}");
        // Invariant 2: the gitlink is the lower tier's, copied exactly; nothing else changed.
        assert_eq!(rig.pinned(&format!("tier-{level}")), tip);
        assert_eq!(
            overlays_tree(&rig.remote(), &format!("tier-{level}")),
            overlays[level - 2]
        );
        let msg = git(
            &rig.remote(),
            &["log", "-1", "--format=%B", &format!("tier-{level}")],
        );
        assert!(
            msg.contains("Operator: alice@ops") && msg.contains(&tip),
            "{msg}"
        );
        // Invariant 1: the next tier cannot receive it before this one has synced and soaked.
        if level < 4 {
            assert_eq!(
                rig.step(["", "", "", "prod", "prod-ha"][level + 1], None)
                    .await,
                Exit::Refused
            );
        }
        rig.wait(200);
    }
    assert_eq!(
        rig.step("prod-ha", None).await,
        Exit::Refused,
        "nothing left to promote"
    );
    let count: u32 = git(&rig.remote(), &["rev-list", "--count", "tier-4"])
        .parse()
        .unwrap_or(0);
    assert_eq!(
        count,
        history_before.parse::<u32>().unwrap_or(0) + 1,
        "one commit per step"
    );
    let pushed: Vec<_> = rig
        .audit()
        .into_iter()
        .filter(|e| e.result == "pushed")
        .collect();
    assert_eq!(
        pushed
            .iter()
            .map(|e| e.tier.clone().unwrap_or_default())
            .collect::<Vec<_>>(),
        ["prod-beta", "prod", "prod-ha"]
    );
    assert!(pushed.iter().all(|e| e.operator == "alice@ops"
        && e.to.as_deref() == Some(tip.as_str())
        && e.action == "promote"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_time_blocks_until_it_passes_or_a_reason_overrides_it() {
    let mut rig = Rig::new(Scenario::Calm);
    assert_eq!(rig.step("prod-beta", None).await, Exit::Done);
    rig.wait(40); // synced, but prod-beta's 60 s soak has not run out
    assert_eq!(rig.step("prod", None).await, Exit::Refused);
    assert_eq!(
        rig.step("prod", Some("   ")).await,
        Exit::Refused,
        "an empty reason is no reason"
    );
    assert_eq!(
        rig.step(
            "prod",
            Some("hotfix for the checkout outage, approved by bob")
        )
        .await,
        Exit::Done
    );
    let last = rig.audit().into_iter().last().expect("audit line");
    assert_eq!(
        last.reason.as_deref(),
        Some("hotfix for the checkout outage, approved by bob")
    );
    // Verification holds for the soak: overriding the soak overrides its hold too.
    assert_eq!(last.overridden, ["soaked", "verified"]);
    let msg = git(&rig.remote(), &["log", "-1", "--format=%B", "tier-3"]);
    assert!(
        msg.contains("Reason: hotfix for the checkout outage"),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_release_stops_at_the_tier_that_received_it() {
    let mut rig = Rig::new(Scenario::BadRelease);
    assert_eq!(rig.step("prod-beta", None).await, Exit::Done);
    rig.wait(300);
    let before = rig.revision("prod");
    // prod-beta is Degraded and alerting: no reason can push the release further.
    assert_eq!(rig.step("prod", None).await, Exit::Refused);
    assert_eq!(
        rig.step("prod", Some("ship it anyway")).await,
        Exit::Refused
    );
    assert_eq!(rig.revision("prod"), before);
    // Rolling prod-beta back is the way out; history is kept.
    let count = git(&rig.remote(), &["rev-list", "--count", "tier-2"]);
    assert_eq!(rig.rollback("prod-beta").await, Exit::Done);
    assert_eq!(rig.revision("prod-beta"), before);
    let after: u32 = git(&rig.remote(), &["rev-list", "--count", "tier-2"])
        .parse()
        .unwrap_or(0);
    assert_eq!(
        after,
        count.parse::<u32>().unwrap_or(0) + 1,
        "rollback is a new commit"
    );
    assert_eq!(
        rig.audit().last().map(|e| e.action.clone()),
        Some("rollback".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_refuses_to_leave_a_higher_tier_ahead() {
    let mut rig = Rig::new(Scenario::Calm);
    // dev was last changed from v1.41 to v1.42; beta runs v1.42 too.
    assert_eq!(rig.rollback("dev").await, Exit::Refused);
    assert_eq!(rig.rollback("beta").await, Exit::Done);
    rig.wait(5);
    assert_eq!(rig.rollback("dev").await, Exit::Done);
}

/// A promotion of prod-beta committed in shopctl's working clone, not pushed yet: the clone and
/// the commit it pins.
fn committed_step(rig: &Rig) -> (std::path::PathBuf, String) {
    let clone = rig.dir.path().join("git/system");
    let tip = rig.pinned("tier-1");
    let old = rig.pinned("tier-2");
    shopctl::git::gitlink::commit_gitlink(
        &clone,
        "tier-2",
        Some(&old),
        &tip,
        "Promote prod-beta",
        "alice@ops",
        Ts::now(),
    )
    .expect("commit");
    (clone, tip)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_after_another_clone_pushed_first_is_rejected_not_forced() {
    let rig = Rig::new(Scenario::Calm);
    // We prepare our commit, then another operator's clone pushes first.
    let (clone, tip) = committed_step(&rig);
    common::push_gitlink(rig.dir.path(), "tier-2", &tip);
    let theirs = git(&rig.remote(), &["rev-parse", "tier-2"]);
    match shopctl::git::gitlink::push(&clone, "tier-2") {
        Err(OpsError::Rejected { .. }) => {}
        other => panic!("expected a rejected push, got {other:?}"),
    }
    assert_eq!(
        git(&rig.remote(), &["rev-parse", "tier-2"]),
        theirs,
        "their commit stays"
    );
    // Stepping again re-fetches and re-evaluates: prod-beta already runs it, nothing to do.
    let mut rig = rig;
    assert_eq!(rig.step("prod-beta", None).await, Exit::Refused);
    assert_eq!(git(&rig.remote(), &["rev-parse", "tier-2"]), theirs);
}

#[test]
fn a_push_refused_for_another_reason_is_named_not_taken_for_a_lost_race() {
    let rig = Rig::new(Scenario::Calm);
    let (clone, _) = committed_step(&rig);
    // Another git process holds the remote branch's lock.
    let lock = rig.remote().join("refs/heads/tier-2.lock");
    std::fs::write(&lock, "").expect("lock file");
    let theirs = git(&rig.remote(), &["rev-parse", "tier-2"]);
    match shopctl::git::gitlink::push(&clone, "tier-2") {
        Err(e @ OpsError::Git(_)) => {
            assert!(!e.is_race(), "{e}");
            assert!(e.to_string().contains("lock"), "{e}");
        }
        other => panic!("expected the lock to be named, got {other:?}"),
    }
    assert_eq!(git(&rig.remote(), &["rev-parse", "tier-2"]), theirs);
    std::fs::remove_file(&lock).expect("unlocked");
    shopctl::git::gitlink::push(&clone, "tier-2").expect("pushed once the lock is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_operators_contend_for_the_lock() {
    let mut alice = Rig::with_operator(Scenario::Calm, "alice@ops");
    let bob = alice.dir.path().to_path_buf();
    let alices = alice
        .executor()
        .lock(alice.now())
        .await
        .expect("alice takes the lock");
    let fleet = DemoFleet::open(&{
        let mut o = demo_options(&bob, 300, Scenario::Calm);
        o.scale = None;
        o.seed = None;
        o.scenario = None;
        o.created_at = None;
        o
    })
    .expect("bob opens the same fleet");
    let bob_exec = Operations::new(
        fleet
            .executor(Holder::new_session("bob@ops"))
            .expect("executor"),
    );
    let mut bob_source = DemoSource::new(fleet);
    let code = step(
        &mut bob_source,
        Some(&bob_exec),
        "prod-beta",
        None,
        Confirm::Yes,
    )
    .await;
    assert_eq!(code, Exit::Locked);
    let f = bob_source.snapshot(Ts::now()).expect("snapshot");
    assert_eq!(
        f.lock_holder(Ts::now()).map(|l| l.holder.clone()),
        Some("alice@ops".into())
    );
    alices.release().await.expect("alice lets go");
    assert_eq!(
        step(
            &mut bob_source,
            Some(&bob_exec),
            "prod-beta",
            None,
            Confirm::Yes,
        )
        .await,
        Exit::Done
    );
    // A lock left behind expires.
    // A lock left behind: its holder vanished without giving it back.
    std::mem::forget(
        bob_exec
            .executor()
            .lock(Ts::now())
            .await
            .expect("bob takes it and walks away"),
    );
    alice.wait(3600);
    assert_eq!(
        alice.step("prod", None).await,
        Exit::Done,
        "a stale lock is taken over"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_refuses_and_changes_nothing() {
    let mut rig = Rig::new(Scenario::Calm);
    let before = git(&rig.remote(), &["rev-parse", "tier-2"]);
    assert_eq!(
        step(&mut rig.source, None, "prod-beta", None, Confirm::Yes,).await,
        Exit::ReadOnly
    );
    assert_eq!(
        rollback(&mut rig.source, None, "beta", Confirm::Yes).await,
        Exit::ReadOnly
    );
    assert_eq!(git(&rig.remote(), &["rev-parse", "tier-2"]), before);
    assert!(rig.audit().is_empty());
}
