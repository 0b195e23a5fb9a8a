//! The safety rules of mutations: re-checked on fresh data when they execute, one lock session
//! at a time, capacity never exceeded by a concurrent writer, reassignments kept in their tier
//! and configuration, state that cannot be read reported rather than fatal, interrupted drains
//! audited and reported.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use assert_cmd::Command;
use common::{demo_options, git};
use shopctl::backends::demo::placement::DemoPlacement;
use shopctl::backends::demo::{AUDIT_FILE, DemoFleet, DemoOptions, DemoSource, Scenario};
use shopctl::commands::Exit;
use shopctl::commands::release::{Confirm, rollback};
use shopctl::domain::drains::unfinished_drains;
use shopctl::domain::placement::{Move, plan_drain};
use shopctl::domain::release::{GatePolicy, gate};
use shopctl::domain::{Fleet, Redundancy, Ts};
use shopctl::ops::audit::AuditLog;
use shopctl::ops::drain::{DrainReport, PlanKind, PlanRequest, StopFlag, StopReason, run_plan};
use shopctl::ops::placement::{PlacementStore, Record};
use shopctl::ops::{Executor, Holder, Mutation, Operations, OpsError};

/// Runs a confirmed drain or restore under `ex`'s lock.
async fn run(ex: &Executor, r: &PlanRequest) -> Result<DrainReport, OpsError> {
    let guard = ex.lock(Ts::now()).await.expect("lock");
    let result = run_plan(
        ex,
        &guard,
        r,
        &Ts::now,
        &mut |_, _| {},
        &StopFlag::default(),
    )
    .await;
    guard.release().await.expect("released");
    result
}

/// The operations of `ex`'s session, at `at` by their clock.
fn ops_at(ex: Executor, at: Ts) -> Arc<Operations> {
    Operations::with_clock(ex, Arc::new(move || at))
}

/// A fleet created now in a temporary directory, opened by one operator session.
fn open(dir: &Path, scale: u32, operator: &str) -> (DemoSource, Executor) {
    let mut opts = demo_options(dir, scale, Scenario::Calm);
    opts.created_at = None;
    let fleet = DemoFleet::open(&opts).expect("demo");
    let ex = fleet
        .executor(Holder::new_session(operator))
        .expect("executor");
    (DemoSource::new(fleet), ex)
}

/// Another session on the same directory.
fn join(dir: &Path, operator: &str) -> (DemoSource, Executor) {
    let fleet = DemoFleet::open(&DemoOptions {
        dir: dir.to_path_buf(),
        scale: None,
        seed: None,
        scenario: None,
        reset: false,
        readonly: false,
        created_at: None,
    })
    .expect("demo opens");
    let ex = fleet
        .executor(Holder::new_session(operator))
        .expect("executor");
    (DemoSource::new(fleet), ex)
}

fn audit(dir: &Path) -> Vec<shopctl::ops::audit::AuditEntry> {
    AuditLog {
        path: dir.join(AUDIT_FILE),
    }
    .read()
    .expect("audit")
}

fn pinned(dir: &Path, branch: &str) -> String {
    git(&dir.join("git/system.git"), &["ls-tree", branch, "base"])
}

/// The promotion the console's dialog would confirm for `tier` at `now`.
fn promotion(fleet: &Fleet, tier: &str, now: Ts, reason: Option<&str>) -> Mutation {
    let g = gate(fleet, tier, now, &GatePolicy::default(), None, "").expect("gate");
    Mutation::Promote {
        tier: tier.into(),
        branch: fleet.tier(tier).expect("tier").branch.clone(),
        from_tier: g.from_tier.clone(),
        current: g.current.clone(),
        target: g.target.clone().expect("target"),
        override_reason: reason.map(str::to_string),
        overridden: g.failed().map(|c| c.condition.name().to_string()).collect(),
        approved_by: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmed_step_is_refused_when_the_tier_below_was_rolled_back_meanwhile() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut source, alice) = open(tmp.path(), 300, "alice@ops");
    let later = Ts::now().plus_secs(3600);
    let fleet = source.snapshot(later).expect("snapshot");
    let step = promotion(&fleet, "prod-beta", later, None);
    let before = pinned(tmp.path(), "tier-2");

    // Meanwhile Bob rolls beta back: prod-beta would run something beta no longer runs.
    let (mut bob_source, bob) = join(tmp.path(), "bob@ops");
    assert_eq!(
        rollback(
            &mut bob_source,
            Some(&ops_at(bob, later)),
            "beta",
            Confirm::Yes
        )
        .await,
        Exit::Done
    );

    let guard = alice.lock(later).await.expect("alice locks");
    match alice.execute(Some(&guard), &step, later, None).await {
        Err(e @ OpsError::Changed(_)) => assert!(e.is_race(), "{e}"),
        other => panic!("the stale step ran: {other:?}"),
    }
    guard.release().await.expect("released");
    assert_eq!(pinned(tmp.path(), "tier-2"), before, "tier-2 untouched");
    let last = audit(tmp.path()).pop().expect("audited");
    assert_eq!(
        (last.action.as_str(), last.result.as_str()),
        ("promote", "rejected")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_override_is_dropped_once_the_soak_has_ended_and_demanded_when_it_has_not() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut source, alice) = open(tmp.path(), 300, "alice@ops");
    let start = Ts::now().plus_secs(3600);
    let alice_ops = ops_at(alice, start);
    assert_eq!(
        shopctl::commands::release::step(
            &mut source,
            Some(&alice_ops),
            "prod-beta",
            None,
            Confirm::Yes,
        )
        .await,
        Exit::Done
    );
    let alice = alice_ops.executor();
    // Find the moment prod-beta has settled but not soaked.
    let (at, fleet) = (0..900)
        .step_by(3)
        .map(|s| start.plus_secs(s))
        .find_map(|t| {
            let f = source.snapshot(t).expect("snapshot");
            let g = gate(&f, "prod", t, &GatePolicy::default(), None, "")?;
            let failed: Vec<&str> = g.failed().map(|c| c.condition.name()).collect();
            (failed == ["soaked"]).then_some((t, f))
        })
        .expect("prod-beta soaks at some point");

    // Without a reason the executor refuses, even though the console's view was older.
    let unreasoned = promotion(&fleet, "prod", at, None);
    let guard = alice.lock(at).await.expect("lock");
    assert_eq!(
        alice.execute(Some(&guard), &unreasoned, at, None).await,
        // The soak's verification holds for the soak time too: it waits with it.
        Err(OpsError::NeedsOverride(vec![
            "soaked".into(),
            "verified".into()
        ]))
    );
    guard.release().await.expect("released");

    // Confirmed with a reason while soaking; executed after the soak: no override is recorded.
    let reasoned = promotion(&fleet, "prod", at, Some("hotfix"));
    let after = at.plus_secs(600);
    let guard = alice.lock(after).await.expect("lock");
    alice
        .execute(Some(&guard), &reasoned, after, None)
        .await
        .expect("the step runs");
    guard.release().await.expect("released");
    let last = audit(tmp.path()).pop().expect("audited");
    assert_eq!(last.result, "pushed");
    assert!(
        last.overridden.is_empty() && last.reason.is_none(),
        "{last:?}"
    );
}

/// The busiest target of a plan, and single shops of its tier elsewhere that would fill it up
/// to its capacity.
fn filler_for(fleet: &Fleet, plan: &shopctl::domain::placement::DrainPlan) -> (String, Vec<Move>) {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for m in &plan.moves {
        for t in m.to.iter().filter(|t| !m.from.contains(t)) {
            *count.entry(t).or_default() += 1;
        }
    }
    let (target, _) = count.iter().max_by_key(|(_, n)| **n).expect("a target");
    let target = target.to_string();
    let ss = fleet.shopset(&target).expect("target").clone();
    let room = (ss.capacity - fleet.shop_count(&target)) as usize;
    let fillers: Vec<Move> = fleet
        .shops
        .iter()
        .filter(|s| s.redundancy == Redundancy::Single && s.shopsets.len() == 1)
        .filter(|s| {
            fleet
                .shopset(&s.shopsets[0])
                .is_some_and(|o| o.tier == ss.tier && o.cluster != "b" && o.name != target)
        })
        .take(room)
        .map(|s| Move {
            shop: s.name.clone(),
            from: s.shopsets.clone(),
            to: vec![target.clone()],
        })
        .collect();
    assert_eq!(fillers.len(), room, "enough shops to fill '{target}'");
    (target, fillers)
}

fn assert_within_capacity(f: &Fleet) {
    for s in &f.shopsets {
        assert!(
            f.shop_count(&s.name) <= s.capacity,
            "'{}' holds {}/{}",
            s.name,
            f.shop_count(&s.name),
            s.capacity
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_whose_plan_changed_after_confirmation_stops_and_says_why() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut source, alice) = open(tmp.path(), 2000, "alice@ops");
    let now = Ts::now();
    let fleet = source.snapshot(now).expect("snapshot");
    let confirmed = plan_drain(&fleet, "b", &HashSet::new());
    assert!(confirmed.blockers.is_empty());
    // Someone fills the plan's busiest target between the confirmation and the execution.
    let (_, fillers) = filler_for(&fleet, &confirmed);
    DemoPlacement {
        dir: tmp.path().to_path_buf(),
    }
    .apply(
        &fillers,
        &Record::Nothing,
        &HashMap::new(),
        &[],
        &shopctl::ops::placement::unheard,
    )
    .await
    .expect("filled");
    let req = |confirmed| PlanRequest {
        kind: PlanKind::Drain,
        cluster: "b".into(),
        drain: "drain-b-test".into(),
        accepted: HashSet::new(),
        confirmed,
    };
    match run(&alice, &req(confirmed)).await {
        Err(OpsError::PlanChanged(why)) => assert!(why.contains("changed since"), "{why}"),
        other => panic!("a changed plan ran: {other:?}"),
    }
    let after = source.snapshot(Ts::now()).expect("snapshot");
    assert_within_capacity(&after);
    assert!(after.cluster("b").expect("b").cordoned, "stays cordoned");
    let last = audit(tmp.path()).pop().expect("audited");
    assert_eq!(
        (last.action.as_str(), last.result.as_str()),
        ("drain", "rejected")
    );
    // Looked at again and confirmed, it runs; the cordon is not written twice.
    let report = run(&alice, &req(plan_drain(&after, "b", &HashSet::new())))
        .await
        .expect("runs");
    assert_eq!(report.moved, report.total);
    let done = source.snapshot(Ts::now()).expect("snapshot");
    assert_within_capacity(&done);
    assert!(unfinished_drains(&done).is_empty());
    let cordons = audit(tmp.path())
        .iter()
        .filter(|l| l.action == "cordon" && l.result != "intent")
        .count();
    assert_eq!(cordons, 1);
}

/// A placement store that lets a concurrent writer fill a ShopSet just before a batch that
/// moves shops into it is written.
struct Racing {
    inner: DemoPlacement,
    target: String,
    fillers: std::sync::Mutex<Option<Vec<Move>>>,
}

#[async_trait::async_trait]
impl PlacementStore for Racing {
    async fn apply(
        &self,
        moves: &[Move],
        record: &Record,
        capacity: &shopctl::ops::placement::Capacities,
        seen: &[shopctl::domain::Shop],
        moved: shopctl::ops::placement::Moved<'_>,
    ) -> Result<shopctl::ops::placement::BatchOutcome, OpsError> {
        let fill = if moves.iter().any(|m| m.to.contains(&self.target)) {
            self.fillers.lock().expect("fillers").take()
        } else {
            None
        };
        if let Some(f) = fill {
            self.inner
                .apply(
                    &f,
                    &Record::Nothing,
                    &HashMap::new(),
                    &[],
                    &shopctl::ops::placement::unheard,
                )
                .await?;
        }
        self.inner.apply(moves, record, capacity, seen, moved).await
    }

    async fn set_cordon(
        &self,
        cluster: &str,
        cordoned: bool,
        drain: Option<&str>,
    ) -> Result<(), OpsError> {
        self.inner.set_cordon(cluster, cordoned, drain).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_filling_a_target_between_check_and_write_never_pushes_it_past_capacity() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut source, _) = open(tmp.path(), 2000, "alice@ops");
    let now = Ts::now();
    let fleet = source.snapshot(now).expect("snapshot");
    let confirmed = plan_drain(&fleet, "b", &HashSet::new());
    let (target, fillers) = filler_for(&fleet, &confirmed);
    let demo = DemoFleet::open(&DemoOptions {
        dir: tmp.path().to_path_buf(),
        scale: None,
        seed: None,
        scenario: None,
        reset: false,
        readonly: true,
        created_at: None,
    })
    .expect("demo");
    let mut stores = demo.stores().expect("stores");
    stores.placement = Box::new(Racing {
        inner: DemoPlacement {
            dir: tmp.path().to_path_buf(),
        },
        target: target.clone(),
        fillers: std::sync::Mutex::new(Some(fillers)),
    });
    let alice = Executor::new(Holder::new_session("alice@ops"), stores, demo.policy());
    let req = PlanRequest {
        kind: PlanKind::Drain,
        cluster: "b".into(),
        drain: "drain-b-test".into(),
        accepted: HashSet::new(),
        confirmed,
    };
    let guard = alice.lock(now).await.expect("lock");
    let result = run_plan(
        &alice,
        &guard,
        &req,
        &Ts::now,
        &mut |_, _| {},
        &StopFlag::default(),
    )
    .await;
    guard.release().await.expect("released");
    match result {
        Err(OpsError::PlanChanged(why)) => assert!(why.contains(&target), "{why}"),
        other => panic!("the drain went on past a full target: {other:?}"),
    }
    let after = source.snapshot(Ts::now()).expect("snapshot");
    assert_within_capacity(&after);
    assert_eq!(after.shops.len(), fleet.shops.len(), "no shop lost");
}

#[test]
fn a_placement_store_skips_moves_into_a_full_shopset() {
    let mut shops = vec![
        shopctl::domain::Shop {
            name: "a".into(),
            redundancy: Redundancy::Single,
            shopsets: vec!["x".into()],
            previous: None,
            version: None,
        },
        shopctl::domain::Shop {
            name: "b".into(),
            redundancy: Redundancy::Single,
            shopsets: vec!["y".into()],
            previous: None,
            version: None,
        },
    ];
    let moves = vec![Move {
        shop: "b".into(),
        from: vec!["y".into()],
        to: vec!["x".into()],
    }];
    let cap: HashMap<String, u32> = [("x".to_string(), 1)].into();
    let out = shopctl::ops::placement::apply_moves(&mut shops, &moves, &Record::Nothing, &cap);
    assert_eq!((out.applied, out.full.len()), (0, 1));
    assert_eq!(shops[1].shopsets, vec!["y".to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sessions_of_one_operator_contend_for_the_lock() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (_s1, first) = open(tmp.path(), 300, "alice@ops");
    let (mut s2, second) = join(tmp.path(), "alice@ops");
    let now = Ts::now();
    let held = first.lock(now).await.expect("the first console locks");
    assert!(matches!(second.lock(now).await, Err(OpsError::Locked(_))));
    let second = ops_at(second, now);
    assert_eq!(
        shopctl::commands::release::step(&mut s2, Some(&second), "prod-beta", None, Confirm::Yes,)
            .await,
        Exit::Locked,
        "the same operator's second console is refused"
    );
    // The second session finishing does not free the first session's lock.
    assert!(
        s2.snapshot(now)
            .expect("snapshot")
            .lock_holder(now)
            .is_some()
    );
    // One session runs one operation at a time, in the same console too.
    assert!(matches!(first.lock(now).await, Err(OpsError::Busy)));
    held.release().await.expect("released");
    first
        .lock(now)
        .await
        .expect("free again")
        .release()
        .await
        .expect("released");
}

fn demo(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("shopctl").expect("binary");
    c.env(
        "XDG_STATE_HOME",
        std::env::temp_dir().join("shopctl-test-state"),
    )
    .args(["--demo", "--demo-dir"])
    .arg(dir);
    c
}

fn status(dir: &Path) -> serde_json::Value {
    let out = demo(dir)
        .args(["status", "-o", "json"])
        .output()
        .expect("status");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn headless_reassign_stays_in_the_tier_and_configuration_unless_asked() {
    let tmp = tempfile::tempdir().expect("tempdir");
    demo(tmp.path())
        .args(["--demo-seed", "7", "--demo-scale", "300", "status"])
        .assert()
        .success();
    let v = status(tmp.path());
    let tier_of: HashMap<String, (String, String, String)> = v["shopsets"]
        .as_array()
        .expect("shopsets")
        .iter()
        .map(|s| {
            let f = |k: &str| s[k].as_str().unwrap_or_default().to_string();
            (f("name"), (f("tier"), f("configuration"), f("cluster")))
        })
        .collect();
    let dual = v["shops"]
        .as_array()
        .expect("shops")
        .iter()
        .find(|s| {
            s["redundancy"] == "dual"
                && s["shopsets"][0]
                    .as_str()
                    .is_some_and(|ss| tier_of[ss].0 == "prod-ha")
        })
        .expect("a prod-ha dual shop");
    let shop = dual["name"].as_str().expect("name");
    // Two dev ShopSets (staging) in different clusters.
    let pick = |tier: &str| -> Vec<String> {
        let mut seen = HashSet::new();
        let mut out: Vec<String> = tier_of
            .iter()
            .filter(|(_, (t, _, c))| t == tier && seen.insert(c.clone()))
            .map(|(n, _)| n.clone())
            .collect();
        out.sort();
        out.truncate(2);
        out
    };
    let dev = pick("dev").join(",");
    demo(tmp.path())
        .args(["reassign", shop, "--to", &dev, "--yes"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("tier"));
    demo(tmp.path())
        .args(["reassign", shop, "--to", &dev, "--yes", "--change-tier"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("connects to 'staging'"));
    let v = status(tmp.path());
    let now_on = v["shops"]
        .as_array()
        .expect("shops")
        .iter()
        .find(|s| s["name"] == shop)
        .expect("shop")["shopsets"]
        .clone();
    assert_eq!(now_on, dual["shopsets"], "nothing moved");
    assert!(
        audit(tmp.path()).is_empty(),
        "nothing happened, nothing audited"
    );

    // To where it already is: said, not written.
    let here = dual["shopsets"]
        .as_array()
        .expect("legs")
        .iter()
        .filter_map(|x| x.as_str())
        .collect::<Vec<_>>()
        .join(",");
    demo(tmp.path())
        .args(["reassign", shop, "--to", &here, "--yes"])
        .assert()
        .success()
        .stdout(predicates::str::contains("already on"));
    assert!(audit(tmp.path()).is_empty());
}

#[test]
fn a_damaged_lock_is_reported_and_the_fleet_still_shows() {
    let tmp = tempfile::tempdir().expect("tempdir");
    demo(tmp.path())
        .args(["--demo-seed", "7", "--demo-scale", "300", "status"])
        .assert()
        .success();
    // What a full disk left behind before writes were atomic.
    std::fs::write(tmp.path().join("lock.json"), b"").expect("write");
    let v = status(tmp.path());
    assert!(
        v["lock_problem"]
            .as_str()
            .is_some_and(|p| p.contains("damaged")),
        "{}",
        v["lock_problem"]
    );
    assert!(!v["shops"].as_array().expect("shops").is_empty());
    demo(tmp.path())
        .args(["--readonly", "release", "status"])
        .assert()
        .success();
    demo(tmp.path())
        .args(["drain", "b", "--yes"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("damaged"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_drain_is_audited_released_and_reported_as_unfinished() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut source, alice) = open(tmp.path(), 2000, "alice@ops");
    let now = Ts::now();
    let fleet = source.snapshot(now).expect("snapshot");
    let req = PlanRequest {
        kind: PlanKind::Drain,
        cluster: "b".into(),
        drain: "drain-b-1".into(),
        accepted: HashSet::new(),
        confirmed: plan_drain(&fleet, "b", &HashSet::new()),
    };
    assert!(req.confirmed.moves.len() > shopctl::ops::drain::BATCH);
    let stop = StopFlag::default();
    let guard = alice.lock(now).await.expect("lock");
    // A signal arrives while the first batch is written.
    let report = run_plan(
        &alice,
        &guard,
        &req,
        &Ts::now,
        &mut |done, _| {
            if done > 0 {
                stop.stop(StopReason::Interrupted);
            }
        },
        &stop,
    )
    .await
    .expect("stops cleanly");
    guard.release().await.expect("released");
    assert_eq!(report.stopped, Some(StopReason::Interrupted));
    assert!(report.moved > 0 && report.moved < report.total);
    let lines = audit(tmp.path());
    assert!(
        lines
            .iter()
            .any(|l| l.action == "interrupted" && l.result == "interrupted"),
        "{lines:?}"
    );
    let after = source.snapshot(Ts::now()).expect("snapshot");
    assert!(after.lock_holder(Ts::now()).is_none(), "lock given back");
    let left = unfinished_drains(&after);
    assert_eq!(left.len(), 1);
    assert!(left[0].advice().contains("shopctl drain b"));
    demo(tmp.path())
        .arg("status")
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "cluster 'b' has an unfinished drain or restore",
        ));
}

#[test]
fn every_headless_mutation_is_refused_read_only_and_writes_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    demo(tmp.path())
        .args(["--demo-seed", "7", "--demo-scale", "300", "status"])
        .assert()
        .success();
    let shop = status(tmp.path())["shops"][0]["name"]
        .as_str()
        .expect("a shop")
        .to_string();
    let before = std::fs::read(tmp.path().join("shops.json")).expect("shops");
    let remote = tmp.path().join("git/system.git");
    let heads = git(&remote, &["for-each-ref", "--format=%(objectname)"]);
    for args in [
        vec!["release", "step", "--tier", "prod-beta", "--yes"],
        vec!["release", "rollback", "--tier", "beta", "--yes"],
        vec!["reassign", &shop, "--to", "a-1", "--yes"],
        vec!["drain", "b", "--yes"],
        vec!["restore", "b", "--yes"],
    ] {
        demo(tmp.path())
            .arg("--readonly")
            .args(&args)
            .assert()
            .code(3)
            .stderr(predicates::str::contains("read-only"));
    }
    assert_eq!(
        std::fs::read(tmp.path().join("shops.json")).expect("shops"),
        before
    );
    assert_eq!(
        git(&remote, &["for-each-ref", "--format=%(objectname)"]),
        heads
    );
    assert!(!tmp.path().join("lock.json").exists());
    assert!(audit(tmp.path()).is_empty());
}

#[test]
fn names_from_outside_reach_the_terminal_without_control_characters() {
    let tmp = tempfile::tempdir().expect("tempdir");
    demo(tmp.path())
        .args(["--demo-seed", "7", "--demo-scale", "300", "status"])
        .assert()
        .success();
    let now = Ts::now();
    std::fs::write(
        tmp.path().join("lock.json"),
        format!(
            "{{\"holder\":\"mallory\\u001b[31mRED\\u001b]0;pwned\\u0007\\nX\",\"session\":\"elsewhere/1/a\",\"acquired_at\":{},\"expires_at\":{}}}",
            now.0,
            now.plus_secs(600).0
        ),
    )
    .expect("lock written");
    let out = demo(tmp.path()).arg("status").output().expect("status");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("mallory"), "{text}");
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "control characters printed: {text:?}"
    );
    let out = demo(tmp.path())
        .env("SHOPCTL_OPERATOR", "eve\u{1b}[2J")
        .args(["drain", "b", "--yes"])
        .output()
        .expect("drain");
    assert_eq!(out.status.code(), Some(4));
    assert!(!String::from_utf8_lossy(&out.stderr).contains('\u{1b}'));
}

#[test]
fn temporary_files_of_killed_writers_are_swept_and_races_exit_2() {
    let tmp = tempfile::tempdir().expect("tempdir");
    demo(tmp.path())
        .args(["--demo-seed", "7", "--demo-scale", "300", "status"])
        .assert()
        .success();
    // What a writer killed mid-write leaves: a temporary file of a process that is gone.
    let stale = tmp.path().join("state.tmp.4194302.1f2e3d4c");
    std::fs::write(&stale, b"half a file").expect("written");
    demo(tmp.path()).arg("status").assert().success();
    assert!(!stale.exists(), "swept");
    assert_eq!(
        shopctl::commands::exit_for(&OpsError::ShopMoved {
            shop: "s".into(),
            why: "moved meanwhile".into()
        }),
        Exit::Refused
    );
    assert_eq!(
        shopctl::commands::exit_for(&OpsError::PlanChanged("x".into())),
        Exit::Refused
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capability_the_session_lacks_refuses_the_mutations_needing_it_and_only_those() {
    use shopctl::ops::{Capability, Denial};
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut source, ex) = open(tmp.path(), 300, "alice@ops");
    let ex = ex.with_denied(vec![Denial {
        what: "patch shops.shopset.dev".into(),
        blocks: Some(Capability::Placement),
    }]);
    let now = Ts::now().plus_secs(3600);
    let fleet = source.snapshot(now).expect("snapshot");
    let cluster = fleet.clusters[0].name.clone();
    let cordon = Mutation::Cordon {
        cluster: cluster.clone(),
        drain: "d".into(),
    };
    assert!(ex.permitted(&cordon).is_ok(), "cordon needs no shop patch");
    assert!(matches!(
        ex.permits(shopctl::ops::drain::PLAN_NEEDS),
        Err(OpsError::NotPermitted(w)) if w == "patch shops.shopset.dev"
    ));
    // A release step is still permitted and goes through; a shop move is refused at execution
    // even if asked for, and nothing is written.
    let step = promotion(&fleet, "prod-beta", now, None);
    let guard = ex.lock(now).await.expect("lock");
    let shop = fleet.shops.first().expect("a shop").clone();
    let mv = Mutation::Reassign {
        shop: shop.name.clone(),
        from: shop.shopsets.clone(),
        to: vec!["nowhere-1".into()],
        tier_change: false,
    };
    match ex.execute(Some(&guard), &mv, now, None).await {
        Err(e @ OpsError::NotPermitted(_)) => {
            assert_eq!(commands_exit(&e), 3);
            assert!(e.to_string().contains("may not patch shops"), "{e}");
        }
        other => panic!("a denied move ran: {other:?}"),
    }
    assert!(ex.execute(Some(&guard), &step, now, None).await.is_ok());
    guard.release().await.expect("released");
    let after = source.snapshot(now).expect("snapshot");
    let moved = after
        .shops
        .iter()
        .find(|s| s.name == shop.name)
        .map(|s| &s.shopsets);
    assert_eq!(moved, Some(&shop.shopsets));
}

fn commands_exit(e: &OpsError) -> i32 {
    shopctl::commands::exit_for(e) as i32
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_whose_intent_cannot_be_audited_is_not_made_and_an_unwritten_outcome_fails_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut source, alice) = open(tmp.path(), 300, "alice@ops");
    let now = Ts::now().plus_secs(3600);
    let fleet = source.snapshot(now).expect("snapshot");
    let step = promotion(&fleet, "prod-beta", now, None);
    let before = pinned(tmp.path(), "tier-2");
    // A directory where the audit log should be: nothing can be appended.
    let log = tmp.path().join(AUDIT_FILE);
    let _ = std::fs::remove_file(&log);
    std::fs::create_dir(&log).expect("a directory in its place");
    let guard = alice.lock(now).await.expect("locked");
    match alice.execute(Some(&guard), &step, now, None).await {
        Err(e @ OpsError::Unaudited(_)) => {
            assert!(e.to_string().contains("nothing was done"), "{e}")
        }
        other => panic!("written without an audit: {other:?}"),
    }
    assert_eq!(pinned(tmp.path(), "tier-2"), before, "nothing pushed");
    guard.release().await.expect("released");
    std::fs::remove_dir(&log).expect("the directory goes");
    // An audit that takes the intent but not the outcome: the step is made, and it fails all
    // the same, saying so; the next start completes the audit with what happened.
    struct IntentOnly(AuditLog);
    #[async_trait::async_trait]
    impl shopctl::ops::AuditSink for IntentOnly {
        async fn append(&self, e: &shopctl::ops::audit::AuditEntry) -> std::io::Result<()> {
            if e.result == shopctl::ops::audit::INTENT {
                self.0.append(e)
            } else {
                Err(std::io::Error::other("No space left on device"))
            }
        }
        async fn read(&self) -> std::io::Result<Vec<shopctl::ops::audit::AuditEntry>> {
            self.0.read()
        }
    }
    let fleet = DemoFleet::open(&DemoOptions {
        dir: tmp.path().to_path_buf(),
        scale: None,
        seed: None,
        scenario: None,
        reset: false,
        readonly: false,
        created_at: None,
    })
    .expect("demo opens");
    let mut stores = fleet.stores().expect("stores");
    stores.audit = Box::new(IntentOnly(AuditLog { path: log.clone() }));
    // Bob's session is one whose process has ended by the time the next one starts.
    let bob = Executor::new(
        Holder {
            operator: "bob@ops".into(),
            session: dead_session(),
            operation: None,
        },
        stores,
        GatePolicy::default(),
    );
    let guard = bob.lock(now).await.expect("locked");
    match bob.execute(Some(&guard), &step, now, None).await {
        Err(e @ OpsError::NotAudited(_)) => {
            assert!(e.to_string().contains("No space left on device"), "{e}")
        }
        other => panic!("an unaudited step reported as done: {other:?}"),
    }
    guard.release().await.expect("released");
    let pushed = pinned(tmp.path(), "tier-2");
    assert_ne!(pushed, before, "the step was made");
    let lines = audit(tmp.path());
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].result, "intent");
    // The next start: reconciled from the tier branch itself.
    let (_, carol) = join(tmp.path(), "carol@ops");
    let said = carol.reconcile(now.plus_secs(5)).await;
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].starts_with("reconciled: promote by bob@ops"),
        "{said:?}"
    );
    assert!(said[0].contains(": pushed"), "{said:?}");
    let lines = audit(tmp.path());
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(
        (lines[1].result.as_str(), &lines[1].id),
        ("pushed", &lines[0].id)
    );
    // Nothing is left open: a later start says nothing.
    assert!(carol.reconcile(now.plus_secs(10)).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_killed_before_its_push_is_reconciled_as_not_pushed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut source, alice) = open(tmp.path(), 300, "alice@ops");
    let now = Ts::now().plus_secs(3600);
    let fleet = source.snapshot(now).expect("snapshot");
    let step = promotion(&fleet, "prod-beta", now, None);
    // The intent of a session killed before it pushed.
    let mut intent =
        shopctl::ops::audit::AuditEntry::for_mutation(&step, "alice@ops", now, &Ok(None), None);
    intent.result = shopctl::ops::audit::INTENT.into();
    intent.id = Some("running-1".into());
    // A step still under way in a live session is left alone.
    intent.session = Some(Holder::new_session("alice@ops").session);
    AuditLog {
        path: tmp.path().join(AUDIT_FILE),
    }
    .append(&intent)
    .expect("written");
    assert!(alice.reconcile(now).await.is_empty());
    intent.id = Some("killed-1".into());
    intent.session = Some(dead_session());
    AuditLog {
        path: tmp.path().join(AUDIT_FILE),
    }
    .append(&intent)
    .expect("written");
    let said = alice.reconcile(now).await;
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains(": not pushed"), "{said:?}");
    // A damaged line (a torn append) does not hide the rest.
    std::fs::OpenOptions::new()
        .append(true)
        .open(tmp.path().join(AUDIT_FILE))
        .and_then(|mut f| std::io::Write::write_all(&mut f, b"{\"time\":\"2026-\n"))
        .expect("torn");
    // Through the binary: a command that may write reconciles first and says so.
    intent.id = Some("killed-2".into());
    AuditLog {
        path: tmp.path().join(AUDIT_FILE),
    }
    .append(&intent)
    .expect("written");
    // `status` reads only: it says what is left without an outcome, and writes nothing.
    let status = Command::cargo_bin("shopctl")
        .expect("binary")
        .env("XDG_STATE_HOME", tmp.path().join("state"))
        .args(["--demo", "--demo-dir"])
        .arg(tmp.path())
        .args(["status", "-o", "json"])
        .output()
        .expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).expect("json");
    let steps = v["unreconciled_steps"].as_array().expect("a list");
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert_eq!(steps[0]["id"], "killed-2");
    assert_eq!(steps[0]["tier"], "prod-beta");
    let table = Command::cargo_bin("shopctl")
        .expect("binary")
        .env("XDG_STATE_HOME", tmp.path().join("state"))
        .args(["--demo", "--demo-dir"])
        .arg(tmp.path())
        .arg("status")
        .output()
        .expect("runs");
    assert!(
        String::from_utf8_lossy(&table.stdout).contains("AUDIT ▲ promote 'prod-beta' by alice@ops"),
        "{}",
        String::from_utf8_lossy(&table.stdout)
    );
    let out = Command::cargo_bin("shopctl")
        .expect("binary")
        .env("SHOPCTL_OPERATOR", "alice@ops")
        .env("XDG_STATE_HOME", tmp.path().join("state"))
        .args(["--demo", "--demo-dir"])
        .arg(tmp.path())
        .args(["drain", "nowhere", "--yes"])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("shopctl: reconciled: promote by alice@ops") && err.contains("not pushed"),
        "{err}"
    );
    let entries = audit(tmp.path());
    assert!(shopctl::ops::audit::abandoned_intents(&entries).is_empty());
    assert_eq!(
        shopctl::ops::audit::open_intents(&entries).len(),
        1,
        "the running one"
    );
}

/// The session of a process of this system that has ended.
fn dead_session() -> String {
    let mut child = std::process::Command::new("true").spawn().expect("true");
    let pid = child.id();
    child.wait().expect("ended");
    format!("{}/{pid}/0", shopctl::ops::lock::local_identity())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_line_never_names_a_recording_that_has_stopped() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (_, alice) = open(tmp.path(), 300, "alice@ops");
    let note = |text: &str| Mutation::Notes { text: text.into() };
    alice.name_recording("/rec/session.jsonl".into());
    alice
        .execute(None, &note("while recording"), Ts::now(), None)
        .await
        .expect("saved");
    // The recording's disk filled up: it stopped.
    alice.unname_recording();
    alice
        .execute(None, &note("after it stopped"), Ts::now(), None)
        .await
        .expect("saved");
    let lines = audit(tmp.path());
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0].recording.as_deref(), Some("/rec/session.jsonl"));
    assert_eq!(lines[1].recording, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_confirmed_after_another_drained_the_cluster_keeps_its_id_and_all_go_home() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut source, alice) = open(tmp.path(), 2000, "alice@ops");
    let fleet = source.snapshot(Ts::now()).expect("snapshot");
    let on_c: Vec<String> = fleet
        .shops
        .iter()
        .filter(|s| s.shopsets.iter().any(|ss| ss.starts_with("c-")))
        .map(|s| s.name.clone())
        .collect();
    // Alice's dialog is open with its plan and id; meanwhile Bob drains c.
    let stale = PlanRequest {
        kind: PlanKind::Drain,
        cluster: "c".into(),
        drain: "drain-c-alice".into(),
        accepted: HashSet::new(),
        confirmed: plan_drain(&fleet, "c", &HashSet::new()),
    };
    let (_, bob) = join(tmp.path(), "bob@ops");
    let bobs = PlanRequest {
        drain: "drain-c-bob".into(),
        ..stale.clone()
    };
    assert_eq!(
        run(&bob, &bobs).await.expect("bob drains").moved,
        on_c.len()
    );
    // Alice confirms late: nothing left to move, and Bob's drain keeps its id.
    let _ = run(&alice, &stale).await;
    let after = source.snapshot(Ts::now()).expect("snapshot");
    assert_eq!(
        after.cluster("c").and_then(|c| c.drain.clone()).as_deref(),
        Some("drain-c-bob")
    );
    // One restore sends every shop home.
    let restore = PlanRequest {
        kind: PlanKind::Restore,
        drain: "drain-c-bob".into(),
        confirmed: shopctl::domain::placement::plan_restore(&after, "c", "drain-c-bob"),
        ..stale
    };
    let report = run(&alice, &restore).await.expect("restored");
    assert_eq!(report.moved, on_c.len());
    let home = source.snapshot(Ts::now()).expect("snapshot");
    assert!(!home.cluster("c").expect("c").cordoned);
    assert!(unfinished_drains(&home).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_batch_audits_its_shops_as_they_move_and_a_killed_one_is_reconciled_with_them() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut source, alice) = open(tmp.path(), 600, "alice@ops");
    let fleet = source.snapshot(Ts::now()).expect("snapshot");
    let req = PlanRequest {
        kind: PlanKind::Drain,
        cluster: "b".into(),
        drain: "drain-b-test".into(),
        accepted: HashSet::new(),
        confirmed: plan_drain(&fleet, "b", &HashSet::new()),
    };
    let report = run(&alice, &req).await.expect("drained");
    assert!(report.moved > 0);
    // Every batch: its intent, the shops it moved (before its outcome), its outcome.
    let lines = audit(tmp.path());
    let batch: Vec<&shopctl::ops::audit::AuditEntry> =
        lines.iter().filter(|l| l.action == "drain batch").collect();
    let intent = batch.first().expect("a batch");
    assert_eq!(intent.result, "intent");
    let of_it: Vec<&str> = batch
        .iter()
        .filter(|l| l.id == intent.id)
        .map(|l| l.result.as_str())
        .collect();
    assert_eq!(of_it, ["intent", "moving", "done"], "{batch:?}");
    let moved: usize = batch
        .iter()
        .filter(|l| l.result == "moving")
        .filter_map(|l| l.notes.as_deref())
        .map(|n| {
            n.split_once(" moved: ")
                .expect("names")
                .1
                .split(", ")
                .count()
        })
        .sum();
    assert_eq!(moved, report.moved, "each moved shop audited by name");

    // A batch whose process was killed after some shops moved: its lines say how many.
    let mut killed = (*intent).clone();
    killed.id = Some("killed-batch".into());
    killed.session = Some(dead_session());
    let mut moving = (*batch.iter().find(|l| l.result == "moving").expect("moving")).clone();
    moving.id = killed.id.clone();
    moving.notes = Some("batch 9: 2 moved: shop-a, shop-b".into());
    let log = AuditLog {
        path: tmp.path().join(AUDIT_FILE),
    };
    log.append(&killed).expect("written");
    log.append(&moving).expect("written");
    let said = alice.reconcile(Ts::now()).await;
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].contains("interrupted") && said[0].contains("2 of its shops are audited as moved"),
        "{said:?}"
    );
}
