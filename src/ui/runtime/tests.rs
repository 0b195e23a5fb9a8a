//! The effect runner against a real demo fleet: no executor, the lock across a followed
//! rollout, quitting with work running.

use super::*;
use crate::backends::demo::{DemoFleet, DemoOptions, DemoSource, Scenario};
use crate::backends::{SourceEvent, SourceInfo};
use crate::ops::{Holder, OpsError, release};
use crate::ui::update::update;

fn info() -> SourceInfo {
    SourceInfo {
        fleet: "t".into(),
        context: "t".into(),
        mode: "demo",
    }
}

fn demo(dir: &std::path::Path) -> (DemoSource, Executor) {
    let fleet = DemoFleet::open(&DemoOptions {
        dir: dir.to_path_buf(),
        scale: Some(300),
        seed: Some(7),
        scenario: Some(Scenario::Calm),
        reset: false,
        readonly: false,
        created_at: Some(Ts::now().plus_secs(-3600)),
    })
    .unwrap();
    // The runner's mechanics, not the gate's verification: no verifications to measure.
    let ex = fleet
        .executor_with(
            Holder::new_session("alice@ops"),
            crate::domain::release::GatePolicy::default(),
        )
        .unwrap();
    (DemoSource::new(fleet), ex)
}

fn feed(app: &mut App, source: &mut DemoSource, at: Ts) -> Vec<Effect> {
    app.data.now = at;
    let fleet = source.snapshot(at).unwrap();
    let events = fleet
        .as_updates()
        .into_iter()
        .map(SourceEvent::Update)
        .collect();
    update(app, Msg::Sources(events))
}

/// A read-write console on a fresh demo fleet, fed its data, and the promotion of prod-beta it
/// would confirm.
fn console(dir: &std::path::Path) -> (DemoSource, Runner, WriteAccess, App, Ts, Mutation) {
    let (mut source, ex) = demo(dir);
    let access = WriteAccess::of(&ex);
    let now = Ts::now();
    let mut app = App::new(info(), Some(access), now, Rect::new(0, 0, 100, 30));
    app.session.id = ex.holder().session.clone();
    feed(&mut app, &mut source, now);
    let (_, m) = release::promotion(
        &app.data.fleet,
        "prod-beta",
        now,
        ex.policy(),
        &app.session.id,
        None,
    )
    .unwrap();
    (
        source,
        Runner::new(Some(crate::ops::Operations::new(ex))),
        access,
        app,
        now,
        m,
    )
}

/// Starts one mutation and waits for what it reports.
async fn run_one(runner: &mut Runner, access: WriteAccess, m: Mutation) -> Msg {
    runner.start(Effect::Execute {
        access,
        mutation: Box::new(m),
        notes: None,
    });
    tokio::time::timeout(Duration::from_secs(30), runner.recv())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_executor_nothing_runs() {
    let dir = tempfile::tempdir().unwrap();
    let (mut source, ex) = demo(dir.path());
    let access = WriteAccess::of(&ex);
    let now = Ts::now();
    let fleet = source.snapshot(now).unwrap();
    let (_, m) = release::promotion(&fleet, "prod-beta", now, ex.policy(), "", None).unwrap();
    let mut runner = Runner::new(None);
    assert!(runner.start(Effect::Execute {
        access,
        mutation: Box::new(m),
        notes: None,
    }));
    match runner.recv().await {
        Some(Msg::Notice { text, bad: true }) => {
            assert_eq!(text, crate::ui::text::NO_EXECUTOR)
        }
        other => panic!("{other:?}"),
    }
    assert!(runner.done_rx.try_recv().is_err(), "nothing else ran");
    assert!(!dir.path().join("lock.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_step_holds_the_lock_until_its_rollout_settles() {
    let dir = tempfile::tempdir().unwrap();
    let (mut source, mut runner, access, mut app, now, m) = console(dir.path());
    let msg = run_one(&mut runner, access, m).await;
    assert!(
        matches!(&msg, Msg::Executed { result: Ok(_), .. }),
        "{msg:?}"
    );
    assert!(update(&mut app, msg).is_empty());
    assert!(app.op.progress.is_some(), "the step is followed");
    let lock = dir.path().join("lock.json");
    assert!(lock.exists(), "held while the rollout runs");
    // A second operation from the same console is refused while the lock is held.
    let fleet = source.snapshot(now).unwrap();
    let again = release::rollback(&fleet, "prod-beta", now, &app.session.id).unwrap();
    let msg = run_one(&mut runner, access, again).await;
    assert!(
        matches!(
            &msg,
            Msg::Executed {
                result: Err(OpsError::Busy),
                ..
            }
        ),
        "{msg:?}"
    );
    update(&mut app, msg);
    // Later the rollout has settled: update asks for the lock back, and it is given back.
    let effects = feed(&mut app, &mut source, now.plus_secs(3600));
    assert_eq!(effects, vec![Effect::Unlock]);
    for e in effects {
        runner.start(e);
    }
    // Given back on a blocking thread: wait for it, not for a time.
    let started = Instant::now();
    while lock.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never given back"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_during_a_drain_stops_it_audits_it_and_gives_the_lock_back() {
    let dir = tempfile::tempdir().unwrap();
    let (mut source, ex) = demo(dir.path());
    let access = WriteAccess::of(&ex);
    let now = Ts::now();
    let fleet = source.snapshot(now).unwrap();
    let plan = crate::domain::placement::plan_drain(&fleet, "b", &std::collections::HashSet::new());
    let mut app = App::new(info(), Some(access), now, Rect::new(0, 0, 100, 30));
    let mut runner = Runner::new(Some(crate::ops::Operations::new(ex)));
    runner.start(Effect::RunPlan {
        access,
        kind: crate::ops::drain::PlanKind::Drain,
        plan: Box::new(plan),
        drain: "drain-b-1".into(),
    });
    match runner.finish(&mut app, &mut None).await {
        Outcome::Interrupted(what) => assert!(what.contains("shopctl drain b"), "{what}"),
        Outcome::Quit => panic!("a running drain was not reported"),
    }
    assert!(!dir.path().join("lock.json").exists(), "lock given back");
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(audit.contains("\"interrupted\""), "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_waits_for_a_running_mutation() {
    let dir = tempfile::tempdir().unwrap();
    let (_source, mut runner, access, mut app, _, m) = console(dir.path());
    runner.start(Effect::Execute {
        access,
        mutation: Box::new(m),
        notes: None,
    });
    assert_eq!(runner.finish(&mut app, &mut None).await, Outcome::Quit);
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(audit.contains("\"pushed\""), "the push finished: {audit}");
    assert!(!dir.path().join("lock.json").exists(), "lock given back");
}
