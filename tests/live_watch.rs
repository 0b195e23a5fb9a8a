//! Live mode's watches through the real `kube::Client` against the fake API server, for the
//! faults and counts a real server does not give on demand: one resource's watch refused, a
//! connection that dies without a word, bookmarks counted across a compaction, pages counted,
//! a context missing at start. The watch against a real server: `tests/live_apiserver.rs`.

mod common;
#[path = "support/fake_kube.rs"]
mod fake_kube;

use std::time::{Duration, Instant};

use fake_kube::FakeKube;
use serde_json::json;
use shopctl::backends::live::{kubeconfig, watch};
use shopctl::backends::{SourceEvent, SourceId};
use shopctl::domain::Fleet;
use tokio::sync::mpsc;

async fn client(fake: &FakeKube, dir: &std::path::Path) -> kube::Client {
    let file = fake.kubeconfig(dir, "ops", "canary-token-1");
    let (k, name) = kubeconfig::load(Some(&file)).expect("kubeconfig");
    let config = kubeconfig::client_config(&k, &name, None)
        .await
        .expect("context");
    kube::Client::try_from(config).expect("client")
}

fn seed(fake: &FakeKube) {
    for c in ["a", "b"] {
        fake.put(
            "fleetclusters",
            "FleetCluster",
            json!({"metadata": {"name": c}, "spec": {"provider": "eks"}}),
        );
    }
    fake.put(
        "tiers",
        "Tier",
        json!({"metadata": {"name": "prod"}, "spec": {"level": 3, "branch": "tier-3", "soakSeconds": 90}}),
    );
    for (s, c) in [("a-1", "a"), ("b-1", "b")] {
        fake.put(
            "shopsets",
            "ShopSet",
            json!({"metadata": {"name": s}, "spec": {"tier": "prod", "configuration": "production", "cluster": c, "capacity": 10}}),
        );
    }
    for (n, on) in [("s1", "a-1"), ("s2", "a-1"), ("s3", "b-1")] {
        shop(fake, n, &[on]);
    }
}

fn shop(fake: &FakeKube, name: &str, on: &[&str]) {
    fake.put(
        "shops",
        "Shop",
        json!({"metadata": {"name": name}, "spec": {"redundancy": "single", "shopSets": on}}),
    );
}

/// Applies what the source says to a fleet until `done` holds (or fails after a while).
async fn until(
    rx: &mut mpsc::Receiver<SourceEvent>,
    fleet: &mut Fleet,
    problems: &mut Vec<String>,
    what: &str,
    done: impl Fn(&Fleet, &[String]) -> bool,
) {
    until_from(rx, fleet, problems, SourceId::ControlPlane, what, done).await;
}

/// [`until`], for the events of `source`.
async fn until_from(
    rx: &mut mpsc::Receiver<SourceEvent>,
    fleet: &mut Fleet,
    problems: &mut Vec<String>,
    expected: SourceId,
    what: &str,
    done: impl Fn(&Fleet, &[String]) -> bool,
) {
    let within = Duration::from_secs(30);
    common::until_source(rx, fleet, problems, expected, within, what, done).await;
}

use common::shop_names as names;

/// A seeded fake API server, and its control plane watched into `rx`.
struct Watching {
    fake: FakeKube,
    _tmp: tempfile::TempDir,
    task: tokio::task::JoinHandle<()>,
    rx: mpsc::Receiver<SourceEvent>,
}

async fn watch_seeded() -> Watching {
    let fake = FakeKube::start("shopset.dev", "v1alpha1").await;
    seed(&fake);
    let tmp = tempfile::tempdir().expect("tempdir");
    let client = client(&fake, tmp.path()).await;
    let (tx, rx) = mpsc::channel(1024);
    let task = tokio::spawn(watch::control_plane(client, tx));
    Watching {
        fake,
        _tmp: tmp,
        task,
        rx,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_watch_is_the_control_planes_problem_and_the_rest_keeps_updating() {
    let fake = FakeKube::start("shopset.dev", "v1alpha1").await;
    seed(&fake);
    fake.forbid("list", "shops");
    let tmp = tempfile::tempdir().expect("tempdir");
    let client = client(&fake, tmp.path()).await;
    let (tx, mut rx) = mpsc::channel(1024);
    let task = tokio::spawn(watch::control_plane(client, tx));
    let (mut fleet, mut problems) = (Fleet::new("live"), Vec::new());
    until(
        &mut rx,
        &mut fleet,
        &mut problems,
        "a forbidden list",
        |f, p| f.clusters.len() == 2 && !p.is_empty(),
    )
    .await;
    assert!(
        problems
            .iter()
            .any(|p| p.contains("shops") && p.contains("403")),
        "{problems:?}"
    );
    assert!(
        problems.iter().all(|p| !p.contains("canary-token")),
        "a credential in a message: {problems:?}"
    );
    // The other resources' events and the answering API server never make the source look
    // live while shops cannot be watched.
    let watching = Instant::now();
    while watching.elapsed() < Duration::from_secs(12) {
        if let Ok(Some(ev)) = tokio::time::timeout(Duration::from_secs(1), rx.recv()).await {
            assert!(
                !matches!(
                    ev,
                    SourceEvent::Heartbeat {
                        source: SourceId::ControlPlane,
                        ..
                    }
                ),
                "live while shops are forbidden"
            );
        }
    }
    task.abort();
}

fn application(fake: &FakeKube, name: &str, shopset: Option<&str>, sync: &str, health: &str) {
    let mut labels = serde_json::Map::new();
    if let Some(s) = shopset {
        labels.insert("shopset.dev/shopset".into(), json!(s));
    }
    fake.put_as(
        "argoproj.io/v1alpha1",
        "applications",
        "Application",
        json!({"metadata": {"name": name, "namespace": "argocd", "labels": labels,
                            "managedFields": [{"manager": "argocd-controller"}]},
               "spec": {"project": "default"},
               "status": {"sync": {"status": sync, "revision": "abc123"},
                          "health": {"status": health},
                          "resourceHealthSource": "appTree",
                          "operationState": {"phase": "Succeeded",
                                             "finishedAt": "2026-11-23T17:00:00Z"}}}),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_connected_watch_keeps_saying_it_is_live() {
    let Watching {
        fake: _fake,
        _tmp,
        task,
        mut rx,
    } = watch_seeded().await;
    let (mut fleet, mut problems) = (Fleet::new("live"), Vec::new());
    until(
        &mut rx,
        &mut fleet,
        &mut problems,
        "the initial list",
        |f, _| f.shops.len() == 3,
    )
    .await;
    // Nothing changes; heartbeats still come, and nothing else.
    let quiet_since = Instant::now();
    let mut beats = 0;
    while beats < 2 {
        let ev = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("a heartbeat within 30 s of quiet")
            .expect("the watch is running");
        match ev {
            SourceEvent::Heartbeat {
                source: SourceId::ControlPlane,
                ..
            } => {
                if quiet_since.elapsed() > Duration::from_secs(1) {
                    beats += 1;
                }
            }
            // The first read's last steps may still be on their way.
            SourceEvent::Heartbeat { .. }
            | SourceEvent::Update(_)
            | SourceEvent::Loading { .. } => {}
            other => panic!("a quiet fleet said {other:?}"),
        }
    }
    assert!(problems.is_empty(), "{problems:?}");
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_connection_that_dies_silently_is_noticed_and_started_again() {
    let Watching {
        fake,
        _tmp,
        task,
        mut rx,
    } = watch_seeded().await;
    let (mut fleet, mut problems) = (Fleet::new("live"), Vec::new());
    until(
        &mut rx,
        &mut fleet,
        &mut problems,
        "the initial list",
        |f, _| f.shops.len() == 3,
    )
    .await;
    let lists = fake.lists("shops");
    // The network drops every packet without closing anything: the watches just go quiet.
    fake.freeze();
    let frozen = Instant::now();
    until(
        &mut rx,
        &mut fleet,
        &mut problems,
        "the outage reported",
        |_, p| !p.is_empty(),
    )
    .await;
    assert!(
        problems[0].contains("did not answer within 5 s"),
        "{problems:?}"
    );
    // Well before the client's 295 s read timeout.
    assert!(
        frozen.elapsed() < Duration::from_secs(20),
        "{:?}",
        frozen.elapsed()
    );
    // While it is out, a shop moves and another goes; nothing of it arrives.
    shop(&fake, "s1", &["b-1"]);
    fake.delete("shops", "s2");
    // The network comes back, but the old connections stay dead without a word. The probe only
    // reports; each watch drops its connection when it has been silent for the client's read
    // timeout, resumes from its resourceVersion, and the fleet catches up (the deletion
    // included) without a relist.
    fake.thaw();
    let deadline = Instant::now() + kubeconfig::READ_TIMEOUT + Duration::from_secs(40);
    while !(names(&fleet) == ["s1", "s3"] && fleet.shop_count("b-1") == 2) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(SourceEvent::Update(u))) => {
                fleet.apply(u);
                fleet.refresh();
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => panic!("never caught up; fleet has {:?}", names(&fleet)),
        }
    }
    assert_eq!(
        fake.lists("shops"),
        lists,
        "the watches resumed where they were: no relist"
    );
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookmarks_let_a_watch_resume_after_compaction_without_a_relist() {
    let Watching {
        fake,
        _tmp,
        task,
        mut rx,
    } = watch_seeded().await;
    let (mut fleet, mut problems) = (Fleet::new("live"), Vec::new());
    until(
        &mut rx,
        &mut fleet,
        &mut problems,
        "the initial list",
        |f, _| f.shops.len() == 3,
    )
    .await;
    let lists = fake.lists("shops");
    // Other resources change; the shops' watch hears of it only through a bookmark.
    fake.tick();
    fake.tick();
    fake.bookmark();
    let asked = Instant::now();
    while fake.bookmarks_sent() < 4 {
        assert!(
            asked.elapsed() < Duration::from_secs(30),
            "bookmarks never went out: {}",
            fake.bookmarks_sent()
        );
        tokio::task::yield_now().await;
    }
    // The server compacts its history and closes the watches: they resume from the bookmark,
    // which is not too old, so nothing is listed again.
    fake.compact();
    shop(&fake, "s5", &["b-1"]);
    until(
        &mut rx,
        &mut fleet,
        &mut problems,
        "the shop after the resume",
        |f, _| names(f).contains(&"s5".to_string()),
    )
    .await;
    assert_eq!(
        fake.lists("shops"),
        lists,
        "resumed from the bookmark, no relist"
    );
    assert!(problems.is_empty(), "{problems:?}");
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_longer_than_a_page_arrives_whole() {
    let fake = FakeKube::start("shopset.dev", "v1alpha1").await;
    seed(&fake);
    // The watcher lists 5,000 at a time: three pages, the last one short.
    for i in 0..10_001 {
        shop(&fake, &format!("p{i:05}"), &["a-1"]);
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let client = client(&fake, tmp.path()).await;
    let (tx, mut rx) = mpsc::channel(1024);
    let task = tokio::spawn(watch::control_plane(client, tx));
    let (mut fleet, mut problems) = (Fleet::new("live"), Vec::new());
    until(&mut rx, &mut fleet, &mut problems, "every page", |f, _| {
        f.shops.len() == 10_004
    })
    .await;
    assert_eq!(fleet.shop_count("a-1"), 10_003);
    assert_eq!(
        fake.lists("shops"),
        4,
        "one object to count them, then three pages"
    );
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_argo_cd_context_missing_at_start_is_tried_again_until_it_works() {
    use shopctl::backends::FleetSource;
    let fake = FakeKube::start("shopset.dev", "v1alpha1").await;
    seed(&fake);
    application(&fake, "shopset-a-1", Some("a-1"), "Synced", "Healthy");
    let tmp = tempfile::tempdir().expect("tempdir");
    // The kubeconfig has the control plane's context only; Argo CD's context comes later.
    let kubeconfig = fake.kubeconfig(tmp.path(), "ops", "t");
    let config = tmp.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[control_plane]\ncontext = \"ops\"\nkubeconfig = \"{}\"\n[[argocd]]\ncontext = \"argo\"\n[alertmanager]\nurl = \"http://127.0.0.1:1\"\n[git]\nremote = \"{}\"\n",
            kubeconfig.display(),
            tmp.path().join("none.git").display()
        ),
    )
    .expect("config");
    let config = shopctl::backends::live::config::Config::load(&config, None).expect("valid");
    let (tx, mut rx) = mpsc::channel(1024);
    let task =
        tokio::spawn(Box::new(shopctl::backends::live::source::LiveSource::new(config)).watch(tx));
    let mut fleet = Fleet::new("live");
    let mut argo_problem = None;
    let started = Instant::now();
    while fleet.apps.is_empty() {
        let left = Duration::from_secs(30).saturating_sub(started.elapsed());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(SourceEvent::Update(u))) => fleet.apply(u),
            Ok(Some(SourceEvent::Problem {
                source: SourceId::ArgoCd(name),
                message,
            })) => {
                assert_eq!(name, "argo");
                if argo_problem.is_none() {
                    assert!(message.contains("trying again"), "{message}");
                    // The operator fixes their kubeconfig: the context appears.
                    let text = std::fs::read_to_string(&kubeconfig).expect("kubeconfig");
                    let fixed = text.replace(
                        "contexts:\n",
                        "contexts:\n- name: argo\n  context: {cluster: ops, user: ops}\n",
                    );
                    std::fs::write(&kubeconfig, fixed).expect("kubeconfig fixed");
                }
                argo_problem = Some(message);
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => panic!("Argo CD never came: {argo_problem:?}"),
        }
    }
    assert!(
        argo_problem.is_some(),
        "the missing context was reported first"
    );
    assert_eq!(fleet.apps[0].name, "shopset-a-1");
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_patch_applies_whole_or_not_at_all_and_the_watch_sees_it() {
    let Watching {
        fake,
        _tmp,
        task,
        mut rx,
    } = watch_seeded().await;
    let (mut fleet, mut problems) = (Fleet::new("live"), Vec::new());
    until(
        &mut rx,
        &mut fleet,
        &mut problems,
        "the initial list",
        |f, _| f.shops.len() == 3,
    )
    .await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let client = client(&fake, tmp.path()).await;
    let send = |ops: serde_json::Value| {
        let req = http::Request::builder()
            .method("PATCH")
            .uri("/apis/shopset.dev/v1alpha1/shops/s1")
            .header("content-type", "application/json-patch+json")
            .body(serde_json::to_vec(&ops).expect("json"))
            .expect("request");
        let client = client.clone();
        async move { client.request::<serde_json::Value>(req).await }
    };
    // A test that fails: nothing changes.
    let refused = send(json!([
        {"op": "test", "path": "/spec/shopSets/0", "value": "b-1"},
        {"op": "replace", "path": "/spec/shopSets/0", "value": "b-1"}
    ]))
    .await;
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(
        fake.get("shops", "s1").expect("s1")["spec"]["shopSets"],
        json!(["a-1"])
    );
    // A test that holds: the move applies, and the watch reports it.
    send(json!([
        {"op": "test", "path": "/spec/shopSets/0", "value": "a-1"},
        {"op": "replace", "path": "/spec/shopSets/0", "value": "b-1"},
        {"op": "add", "path": "/metadata/annotations", "value": {"note": "moved"}}
    ]))
    .await
    .expect("applied");
    until(
        &mut rx,
        &mut fleet,
        &mut problems,
        "the patched shop",
        |f, _| f.shop_count("b-1") == 2,
    )
    .await;
    task.abort();
}
