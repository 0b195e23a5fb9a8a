//! Live mode against real Kubernetes API servers (k8s.io/kubernetes' kube-apiserver with etcd,
//! see `tests/support/kube_env.rs`): the CRDs of `shopctl crds` and Argo CD's served as they
//! are and validating what shopctl writes, the watch with a relist after a real etcd
//! compaction, real 409s between concurrent writers, the Lease between processes, real RBAC
//! answering the SelfSubjectAccessReviews, Events, and the demo fleet exported and read back.

#[path = "support/alertmanager_env.rs"]
mod alertmanager_env;
mod common;
#[path = "support/fault_proxy.rs"]
mod fault_proxy;
#[path = "support/kube_env.rs"]
mod kube_env;
#[path = "support/prometheus.rs"]
mod prometheus_env;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fault_proxy::FaultProxy;
use kube_env::KubeEnv;
use serde_json::{Value, json};
use shopctl::backends::demo::{DemoFleet, Scenario};
use shopctl::backends::live::{kubeconfig, watch};
use shopctl::backends::{SourceEvent, SourceId};
use shopctl::domain::Fleet;
use tokio::sync::mpsc;

fn obj(kind: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "shopset.dev/v1alpha1", "kind": kind, "metadata": {"name": name}, "spec": spec})
}

fn shop(name: &str, on: &[&str]) -> Value {
    obj(
        "Shop",
        name,
        json!({"redundancy": if on.len() == 2 { "dual" } else { "single" }, "shopSets": on}),
    )
}

/// Clusters a, b and c (each reached as the viewer through workload cluster `a` or `b`) with a
/// dev ShopSet each; s1 and s2 on b-1, d1 on a-1 and b-1.
async fn three_clusters(env: &KubeEnv, on: &str) {
    for (c, ctx) in [("a", "viewer@a"), ("b", "viewer@b"), ("c", "viewer@a")] {
        env.create(
            on,
            obj(
                "FleetCluster",
                c,
                json!({"provider": "eks", "context": ctx}),
            ),
        )
        .await;
        env.create(
            on,
            obj(
                "ShopSet",
                &format!("{c}-1"),
                json!({"tier": "dev", "configuration": "staging", "cluster": c, "capacity": 10}),
            ),
        )
        .await;
    }
    env.create(
        on,
        obj(
            "Tier",
            "dev",
            json!({"level": 0, "branch": "tier-0", "soakSeconds": 30}),
        ),
    )
    .await;
    for (n, sets) in [
        ("s1", vec!["b-1"]),
        ("s2", vec!["b-1"]),
        ("d1", vec!["a-1", "b-1"]),
    ] {
        env.create(on, shop(n, &sets)).await;
    }
    env.node("a", "n1", true).await;
    env.node("b", "n1", true).await;
}

/// A test's own session on the three-cluster fleet: a directory, its state directory, and
/// namespaces of its own for Argo CD and the Lease.
struct Session {
    tmp: tempfile::TempDir,
    state: PathBuf,
    argocd: String,
    lock: String,
}

async fn session(env: &KubeEnv) -> Session {
    three_clusters(env, "control").await;
    let tmp = tempfile::tempdir().expect("tempdir");
    Session {
        state: tmp.path().join("state"),
        tmp,
        argocd: env.namespace("control", "argocd").await,
        lock: env.namespace("control", "lock").await,
    }
}

/// A live configuration for the control plane as `user`, Argo CD in `argocd_ns`, the Lease in
/// `lock_ns`, the demo's git remote, and an Alertmanager that does not answer.
fn config(dir: &Path, env: &KubeEnv, user: &str, argocd_ns: &str, lock_ns: &str) -> PathBuf {
    let demo = dir.join("demo");
    if !demo.exists() {
        DemoFleet::open(&common::demo_options(&demo, 100, Scenario::Calm)).expect("demo");
    }
    let file = dir.join("config.toml");
    std::fs::write(
        &file,
        format!(
            "[control_plane]\ncontext = \"{ctx}\"\nkubeconfig = \"{kc}\"\n\
             [[argocd]]\ncontext = \"{ctx}\"\nnamespace = \"{argocd_ns}\"\n\
             [alertmanager]\nurl = \"http://127.0.0.1:1\"\n\
             [git]\nremote = \"{remote}\"\ncache = \"{cache}\"\n\
             [lock]\nnamespace = \"{lock_ns}\"\n",
            ctx = KubeEnv::context("control", user),
            kc = env.kubeconfig.display(),
            remote = demo.join("git/system.git").display(),
            cache = dir.join("cache/system.git").display(),
        ),
    )
    .expect("config");
    file
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crds_are_served_as_shopctl_prints_them_and_the_server_validates_shops() {
    let env = KubeEnv::get();
    let _fleet = env.fleet().await;
    env.create("control", shop("valid", &["a-1"])).await;
    let bad = env
        .try_create(
            "control",
            obj(
                "Shop",
                "bad",
                json!({"redundancy": "triple", "shopSets": ["a-1"]}),
            ),
        )
        .await
        .expect_err("the schema refuses an unknown redundancy");
    assert!(
        matches!(&bad, kube::Error::Api(s) if s.code == 422 && s.message.contains("redundancy")),
        "{bad}"
    );
    let bad = env
        .try_create(
            "control",
            obj(
                "ShopSet",
                "bad",
                json!({"tier": "dev", "configuration": "x", "cluster": "a", "capacity": "ten"}),
            ),
        )
        .await
        .expect_err("the schema refuses a capacity that is not a number");
    assert!(
        matches!(&bad, kube::Error::Api(s) if s.code == 422),
        "{bad}"
    );
}

/// Applies what the control plane says to a fleet until `done` holds (or fails after a while).
async fn until(
    rx: &mut mpsc::Receiver<SourceEvent>,
    fleet: &mut Fleet,
    problems: &mut Vec<String>,
    what: &str,
    done: impl Fn(&Fleet, &[String]) -> bool,
) {
    let within = Duration::from_secs(60);
    common::until_source(
        rx,
        fleet,
        problems,
        SourceId::ControlPlane,
        within,
        what,
        done,
    )
    .await;
}

use common::shop_names as names;

/// The kubeconfig of the test servers with `cluster` reached through `via`.
fn kubeconfig_via(env: &KubeEnv, dir: &Path, cluster: &str, via: std::net::SocketAddr) -> PathBuf {
    kubeconfig_through(env, dir, &[(cluster, via)])
}

/// The kubeconfig of the test servers with each named cluster reached through its proxy.
fn kubeconfig_through(env: &KubeEnv, dir: &Path, via: &[(&str, std::net::SocketAddr)]) -> PathBuf {
    let text = std::fs::read_to_string(&env.kubeconfig).expect("kubeconfig");
    let mut k: Value = serde_yaml::from_str(&text).expect("yaml");
    for c in k["clusters"].as_array_mut().expect("clusters") {
        if let Some((_, addr)) = via.iter().find(|(name, _)| c["name"] == *name) {
            c["cluster"]["server"] = Value::from(format!("https://{addr}"));
        }
    }
    let file = dir.join("kubeconfig");
    std::fs::write(&file, serde_yaml::to_string(&k).expect("yaml")).expect("written");
    file
}

fn addr_of(server: &str) -> std::net::SocketAddr {
    server
        .trim_start_matches("https://")
        .parse()
        .expect("host:port")
}

/// `cluster`'s control plane watched as the viewer through a [`FaultProxy`] in front of it.
async fn watched_through_proxy(
    env: &KubeEnv,
    cluster: &str,
) -> (
    FaultProxy,
    tempfile::TempDir,
    tokio::task::JoinHandle<()>,
    mpsc::Receiver<SourceEvent>,
) {
    let proxy = FaultProxy::start(addr_of(&env.servers[cluster])).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = kubeconfig_via(env, tmp.path(), cluster, proxy.addr);
    let (k, name) = kubeconfig::load(Some(&file)).expect("kubeconfig");
    let client = kube::Client::try_from(
        kubeconfig::client_config(&k, &name, Some(&KubeEnv::context(cluster, "viewer")))
            .await
            .expect("context"),
    )
    .expect("client");
    let (tx, rx) = mpsc::channel(1024);
    let task = tokio::spawn(watch::control_plane(client, tx));
    (proxy, tmp, task, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_plane_is_watched_with_changes_deletions_and_a_relist_after_compaction() {
    let env = KubeEnv::get();
    // Cluster b has no watch cache: a watch from a compacted revision is etcd's 410 Gone.
    let _fleet = env.fleet_on("b").await;
    for c in ["a", "b"] {
        env.create("b", obj("FleetCluster", c, json!({"provider": "eks"})))
            .await;
    }
    env.create(
        "b",
        obj(
            "Tier",
            "prod",
            json!({"level": 3, "branch": "tier-3", "soakSeconds": 90}),
        ),
    )
    .await;
    for (s, c) in [("a-1", "a"), ("b-1", "b")] {
        env.create(
            "b",
            obj(
                "ShopSet",
                s,
                json!({"tier": "prod", "configuration": "production", "cluster": c, "capacity": 10}),
            ),
        )
        .await;
    }
    for (n, on) in [("s1", "a-1"), ("s2", "a-1"), ("s3", "b-1")] {
        env.create("b", shop(n, &[on])).await;
    }

    let (proxy, _tmp, task, mut rx) = watched_through_proxy(env, "b").await;
    let (mut fleet, mut problems) = (Fleet::new("live"), Vec::new());
    until(
        &mut rx,
        &mut fleet,
        &mut problems,
        "the initial list",
        |f, _| {
            f.shops.len() == 3
                && f.shopsets.len() == 2
                && f.clusters.len() == 2
                && f.tiers.len() == 1
        },
    )
    .await;
    assert_eq!(fleet.shop_count("a-1"), 2);

    env.create("b", shop("s4", &["b-1"])).await;
    env.patch(
        "b",
        &shop("s1", &[]),
        json!({"spec": {"shopSets": ["b-1"]}}),
    )
    .await;
    env.delete("b", &shop("s2", &[])).await;
    until(&mut rx, &mut fleet, &mut problems, "the changes", |f, _| {
        names(f) == ["s1", "s3", "s4"] && f.shop_count("b-1") == 3
    })
    .await;

    // The network goes silent; meanwhile s3 is deleted and etcd compacted; then every
    // connection is cut. The watch resumes from a revision etcd no longer has: 410 Gone, a
    // relist, and s3 — whose deletion no watch ever told — is gone.
    proxy.freeze();
    env.delete("b", &shop("s3", &[])).await;
    // A later write elsewhere, so the compaction revision is past the deletion (compacting at
    // the deletion's own revision leaves an event whose previous state is gone, which the API
    // server without a watch cache answers with a 500 on every resume).
    env.namespace("b", "later").await;
    env.compact("b");
    proxy.cut();
    until(&mut rx, &mut fleet, &mut problems, "the relist", |f, _| {
        names(f) == ["s1", "s4"]
    })
    .await;
    // The 410 is how a watch resumes, not a failure to report.
    assert!(
        problems.iter().all(|p| !p.contains("too old")),
        "{problems:?}"
    );
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_writers_racing_for_the_same_shops_each_move_a_shop_only_where_they_read_it() {
    use shopctl::backends::live::placement::ShopPatcher;
    use shopctl::domain::placement::Move;
    use shopctl::ops::placement::{Capacities, PlacementStore, Record};

    let env = KubeEnv::get();
    let _fleet = env.fleet().await;
    let n = 40;
    for i in 0..n {
        env.create("control", shop(&format!("race-{i}"), &["b-1"]))
            .await;
    }
    let file = env.kubeconfig.clone();
    let writer = |to: &'static str| {
        let file = file.clone();
        tokio::spawn(async move {
            let (k, name) = kubeconfig::load(Some(&file)).expect("kubeconfig");
            let config = kubeconfig::client_config(&k, &name, Some("operator@control"))
                .await
                .expect("context");
            let p = ShopPatcher::new(kubeconfig::client(config).expect("client"));
            let moves: Vec<Move> = (0..n)
                .map(|i| Move {
                    shop: format!("race-{i}"),
                    from: vec!["b-1".into()],
                    to: vec![to.into()],
                })
                .collect();
            p.apply(
                &moves,
                &Record::Drain(format!("drain-{to}")),
                &Capacities::new(),
                &[],
                &shopctl::ops::placement::unheard,
            )
            .await
            .expect("batch")
        })
    };
    let (one, two) = (writer("a-1"), writer("c-1"));
    let (one, two) = (one.await.expect("a-1"), two.await.expect("c-1"));
    // Every shop was moved by exactly one of them; the other found it moved and left it.
    assert_eq!(one.applied + two.applied, n, "{one:?} {two:?}");
    assert_eq!(one.skipped.len() + two.skipped.len(), n, "{one:?} {two:?}");
    for (_, why) in one.skipped.iter().chain(&two.skipped) {
        assert!(why.contains("moved meanwhile"), "{why}");
    }
    let mut on_a = 0;
    for i in 0..n {
        let s = env
            .read("control", &shop(&format!("race-{i}"), &[]))
            .await
            .expect("shop");
        let sets = s["spec"]["shopSets"].clone();
        let drain = s["metadata"]["annotations"]["shopset.dev/drain"].clone();
        match sets
            .as_array()
            .and_then(|a| a.first())
            .and_then(Value::as_str)
        {
            Some("a-1") => {
                on_a += 1;
                assert_eq!(drain, "drain-a-1", "{s}");
            }
            Some("c-1") => assert_eq!(drain, "drain-c-1", "{s}"),
            other => panic!("race-{i} ended on {other:?}"),
        }
        // Written by shopctl's field manager.
        assert!(
            s["metadata"]["managedFields"]
                .as_array()
                .is_some_and(|m| m.iter().any(|f| f["manager"] == "shopctl")),
            "{s}"
        );
    }
    assert_eq!(on_a, one.applied);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_rbac_answers_what_each_user_may_write_and_a_refused_write_writes_nothing() {
    let env = KubeEnv::get();
    let _fleet = env.fleet().await;
    let Session {
        tmp,
        state,
        argocd,
        lock,
    } = session(env).await;

    // The viewer may read but not drain: refused before anything is written (exit 3).
    let viewer = config(tmp.path(), env, "viewer", &argocd, &lock);
    let out = common::shopctl_live(&viewer, &state, &["drain", "b", "--yes"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not permitted") && stderr(&out).contains("patch shops.shopset.dev"),
        "{}",
        stderr(&out)
    );
    let b = env
        .read("control", &obj("FleetCluster", "b", json!({})))
        .await
        .expect("b");
    // The schema's default, untouched.
    assert_eq!(b["spec"]["unschedulable"], false, "{b}");
    // Refused before a plan is shown or a confirmation asked, and whatever else is wrong.
    for args in [&["drain", "b"][..], &["restore", "b", "--yes"][..]] {
        let out = common::shopctl_live(&viewer, &state, args).await;
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).contains("shops move"), "{}", stderr(&out));
    }
    let status = common::shopctl_live(&viewer, &state, &["status", "-o", "json"]).await;
    assert!(status.status.success(), "{}", stderr(&status));

    // An operator who may not delete Leases cannot give the lock back: a drain is refused whole.
    let no_delete = config(tmp.path(), env, "operator-no-lease-delete", &argocd, &lock);
    let out = common::shopctl_live(&no_delete, &state, &["drain", "b", "--yes"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("delete leases.coordination.k8s.io"),
        "{}",
        stderr(&out)
    );

    // The operator has exactly the rights the README lists, and they are enough.
    let operator = config(tmp.path(), env, "operator", &argocd, &lock);
    let out = common::shopctl_live(&operator, &state, &["drain", "b", "--yes"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    for n in ["s1", "s2", "d1"] {
        let s = env.read("control", &shop(n, &[])).await.expect("shop");
        let on: Vec<String> = serde_json::from_value(s["spec"]["shopSets"].clone()).expect("sets");
        assert!(!on.contains(&"b-1".to_string()), "{n} still on b-1: {on:?}");
    }
    let b = env
        .read("control", &obj("FleetCluster", "b", json!({})))
        .await
        .expect("b");
    assert_eq!(b["spec"]["unschedulable"], true);
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                       "metadata": {"name": "shopctl-release", "namespace": lock}});
    assert!(
        env.read("control", &lease).await.is_none(),
        "the Lease was given back"
    );
    // Each audited step is an events.k8s.io/v1 Event on the object it touched.
    let events = env.client("control", "admin").await;
    let api: kube::Api<k8s_openapi::api::events::v1::Event> =
        kube::Api::namespaced(events, "default");
    let list = api
        .list(&kube::api::ListParams::default().fields("regarding.name=b"))
        .await
        .expect("events");
    assert!(
        list.items
            .iter()
            .any(|e| e.reporting_controller.as_deref() == Some("shopctl")
                && e.regarding.as_ref().and_then(|r| r.kind.as_deref()) == Some("FleetCluster")),
        "{:?}",
        list.items
    );

    let audit = std::fs::read_to_string(state.join("shopctl/audit.jsonl")).expect("audited");
    assert!(
        audit.contains("\"cordon\"") && audit.contains("\"drain batch\""),
        "{audit}"
    );

    let out = common::shopctl_live(&operator, &state, &["restore", "b", "--yes"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let d1 = env.read("control", &shop("d1", &[])).await.expect("d1");
    assert_eq!(d1["spec"]["shopSets"], json!(["a-1", "b-1"]));
    let b = env
        .read("control", &obj("FleetCluster", "b", json!({})))
        .await
        .expect("b");
    assert_eq!(b["spec"]["unschedulable"], false, "uncordoned");
    let s1 = env.read("control", &shop("s1", &[])).await.expect("s1");
    assert!(
        s1["metadata"]["annotations"]
            .get("shopset.dev/drain")
            .is_none(),
        "{s1}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_operators_contend_for_the_lease_through_the_binary() {
    let env = KubeEnv::get();
    let _fleet = env.fleet().await;
    let Session {
        tmp,
        state,
        argocd,
        lock,
    } = session(env).await;
    let operator = config(tmp.path(), env, "operator", &argocd, &lock);
    // Bob, on another machine, is draining c.
    let now = shopctl::domain::Ts::now().rfc3339();
    let lease = env
        .create(
            "control",
            json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                   "metadata": {"name": "shopctl-release", "namespace": lock,
                                "annotations": {"shopset.dev/operation": "draining 'c'"}},
                   "spec": {"holderIdentity": "bob@ops laptop-bob/4242/0badcafe",
                            "leaseDurationSeconds": 600,
                            "acquireTime": format!("{}", now.replace('Z', ".000000Z")),
                            "renewTime": format!("{}", now.replace('Z', ".000000Z"))}}),
        )
        .await;
    let out = common::shopctl_live(&operator, &state, &["drain", "b", "--yes"]).await;
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("locked by bob@ops (draining 'c')"),
        "{}",
        stderr(&out)
    );
    let b = env
        .read("control", &obj("FleetCluster", "b", json!({})))
        .await
        .expect("b");
    assert_eq!(b["spec"]["unschedulable"], false, "nothing was written");

    // Bob crashed and never renews. His Lease says it was renewed long ago — but whether it
    // has expired is judged by how long this host has seen it unchanged, not by its renewTime:
    // the first look only starts the count.
    env.patch(
        "control",
        &lease,
        json!({"spec": {"acquireTime": "2026-01-01T00:00:00.000000Z",
                        "renewTime": "2026-01-01T00:00:00.000000Z",
                        "leaseDurationSeconds": 2}}),
    )
    .await;
    let out = common::shopctl_live(&operator, &state, &["drain", "b", "--yes"]).await;
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("locked by bob@ops"),
        "{}",
        stderr(&out)
    );
    // Unchanged for its duration as this host saw it (across runs): Alice takes it over.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let out = common::shopctl_live(&operator, &state, &["drain", "b", "--yes"]).await;
        if out.status.success() {
            break;
        }
        assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
        // Each run takes a moment of its own: the next one asks again.
        assert!(
            std::time::Instant::now() < deadline,
            "never taken over: {}",
            stderr(&out)
        );
    }
    assert!(env.read("control", &lease).await.is_none(), "given back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exported_demo_fleet_is_accepted_by_the_real_server_and_reads_the_same() {
    let env = KubeEnv::get();
    let _fleet = env.fleet().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let demo_dir = tmp.path().join("demo");
    DemoFleet::open(&common::demo_options(&demo_dir, 300, Scenario::Calm)).expect("demo");
    let run_demo = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_shopctl"))
            .env("XDG_STATE_HOME", tmp.path().join("demo-state"))
            .arg("--demo")
            .arg("--demo-dir")
            .arg(&demo_dir)
            .args(args)
            .output()
            .expect("runs")
    };
    let drained = run_demo(&["drain", "c", "--yes"]);
    assert!(drained.status.success(), "{}", stderr(&drained));
    let out = run_demo(&["export", "--with-status"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let yaml = String::from_utf8(out.stdout).expect("utf-8");
    let argocd = env.namespace("control", "argocd").await;
    let lock = env.namespace("control", "lock").await;
    for a in ["a", "b"] {
        env.node(a, "n1", true).await;
    }
    let mut kinds = std::collections::BTreeMap::new();
    for doc in serde_yaml::Deserializer::from_str(&yaml) {
        let mut object: Value =
            serde::Deserialize::deserialize(doc).expect("every document is an object");
        if object["kind"] == "FleetCluster" {
            object["spec"]["context"] = Value::from("viewer@a");
        }
        if object["kind"] == "Application" {
            object["metadata"]["namespace"] = Value::from(argocd.clone());
        }
        *kinds
            .entry(object["kind"].as_str().expect("kind").to_string())
            .or_insert(0) += 1;
        // Every object the export writes passes the real server's schema validation.
        env.create("control", object).await;
    }
    assert_eq!(kinds.len(), 5, "{kinds:?}");

    let operator = config(tmp.path(), env, "operator", &argocd, &lock);
    let live = common::shopctl_live(
        &operator,
        &tmp.path().join("state"),
        &["status", "-o", "json"],
    )
    .await;
    assert!(live.status.success(), "{}", stderr(&live));
    let live: Value = serde_json::from_slice(&live.stdout).expect("json");
    let demo: Value =
        serde_json::from_slice(&run_demo(&["status", "-o", "json"]).stdout).expect("json");
    let pick = common::status_rows;
    for &(list, fields) in common::SAME_IN_BOTH_MODES {
        assert_eq!(
            pick(&live, list, fields),
            pick(&demo, list, fields),
            "{list} differ"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_proxy_is_used_for_the_api_servers_and_no_proxy_bypasses_it() {
    let env = KubeEnv::get();
    let _fleet = env.fleet().await;
    let Session {
        tmp,
        state,
        argocd,
        lock,
    } = session(env).await;
    let viewer = config(tmp.path(), env, "viewer", &argocd, &lock);

    // Every API server through the proxy the environment names.
    let proxy = fault_proxy::ConnectProxy::start().await;
    let through = common::shopctl_live_with(
        &viewer,
        &state,
        &[("HTTPS_PROXY", format!("http://{}", proxy.addr))],
        &["status", "-o", "json"],
    )
    .await;
    assert!(through.status.success(), "{}", stderr(&through));
    let json: Value = serde_json::from_slice(&through.stdout).expect("json");
    assert_eq!(json["shops"].as_array().map(Vec::len), Some(3), "{json}");
    assert!(proxy.tunnels() > 0, "nothing went through the proxy");

    // A dead proxy is named by what failed: the connection, not a bare "client error".
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port");
    let refused = common::shopctl_live_with(
        &viewer,
        &state,
        &[("HTTPS_PROXY", format!("http://{dead}"))],
        &["status", "-o", "json"],
    )
    .await;
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("Connection refused") && !stderr(&refused).contains("Status {"),
        "{}",
        stderr(&refused)
    );

    // NO_PROXY names the servers: a dead proxy is never tried.
    let bypassed = common::shopctl_live_with(
        &viewer,
        &state,
        &[
            ("HTTPS_PROXY", format!("http://{dead}")),
            ("NO_PROXY", "127.0.0.1,localhost".into()),
        ],
        &["status", "-o", "json"],
    )
    .await;
    assert!(bypassed.status.success(), "{}", stderr(&bypassed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exec_plugin_runs_once_per_context_while_the_console_keeps_reading() {
    use shopctl::backends::FleetSource;
    use shopctl::backends::live::{config::Config, source::LiveSource};

    let env = KubeEnv::get();
    let _fleet = env.fleet().await;
    let Session {
        tmp, argocd, lock, ..
    } = session(env).await;
    // A plugin that counts its runs and hands out the viewer's token for an hour; the
    // kubeconfig asks for it to be interactive, which shopctl never allows.
    let runs = tmp.path().join("runs");
    let plugin = tmp.path().join("plugin.sh");
    let expires = shopctl::domain::Ts::now().plus_secs(3600).rfc3339();
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\necho run $(date +%s) $KUBERNETES_EXEC_INFO >> '{}'\necho '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{}\",\"expirationTimestamp\":\"{expires}\"}}}}'\n",
            runs.display(),
            env.tokens["viewer"]
        ),
    )
    .expect("plugin");
    std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("executable");
    let mut k: Value =
        serde_yaml::from_str(&std::fs::read_to_string(&env.kubeconfig).expect("kubeconfig"))
            .expect("yaml");
    k["users"].as_array_mut().expect("users").push(json!({
        "name": "exec", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1", "command": plugin,
            "interactiveMode": "Always", "provideClusterInfo": false}}}));
    for c in ["control", "a", "b"] {
        k["contexts"]
            .as_array_mut()
            .expect("contexts")
            .push(json!({"name": format!("exec@{c}"), "context": {"cluster": c, "user": "exec"}}));
    }
    let kubeconfig = tmp.path().join("kubeconfig");
    std::fs::write(&kubeconfig, serde_yaml::to_string(&k).expect("yaml")).expect("written");
    for (c, ctx) in [("a", "exec@a"), ("b", "exec@b"), ("c", "exec@a")] {
        env.patch(
            "control",
            &obj("FleetCluster", c, json!({})),
            json!({"spec": {"context": ctx}}),
        )
        .await;
    }
    let file = config(tmp.path(), env, "viewer", &argocd, &lock);
    let text = std::fs::read_to_string(&file)
        .expect("config")
        .replace("viewer@control", "exec@control")
        .replace(
            &env.kubeconfig.display().to_string(),
            &kubeconfig.display().to_string(),
        );
    std::fs::write(&file, text).expect("config");

    let source = LiveSource::new(Config::load(&file, None).expect("config"));
    let (tx, mut rx) = mpsc::channel(4096);
    let task = tokio::spawn(Box::new(source).watch(tx));
    // Every context's client is made by the first round of cluster probes; kube runs the plugin
    // while it builds a client (for a certificate, then a token). Then nothing runs it again
    // for the token's lifetime: not the second round of probes 15 s later, not the watches.
    let runs_now = || {
        std::fs::read_to_string(&runs)
            .unwrap_or_default()
            .lines()
            .count()
    };
    let started = Instant::now();
    let mut probed = std::collections::BTreeMap::new();
    let mut after_first_round = None;
    while started.elapsed() < Duration::from_secs(35) {
        if let Ok(Some(SourceEvent::Heartbeat {
            source: SourceId::Cluster(c),
            ..
        })) = tokio::time::timeout(Duration::from_secs(1), rx.recv()).await
        {
            *probed.entry(c).or_insert(0) += 1;
            if probed.len() == 3 && after_first_round.is_none() {
                after_first_round = Some(runs_now());
            }
        }
    }
    task.abort();
    assert!(
        probed.values().all(|n| *n >= 2) && probed.len() == 3,
        "two rounds of probes through the plugin's token: {probed:?}"
    );
    let (first, count) = (after_first_round.expect("a first round"), runs_now());
    assert_eq!(
        count, first,
        "the plugin ran again after the clients were made"
    );
    assert!(
        count <= 3 * 3,
        "{count} runs for three contexts (control, a, b): a client per context, not per reader"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_cut_on_a_quiet_fleet_is_live_again_without_a_change() {
    let env = KubeEnv::get();
    let _fleet = env.fleet_on("b").await;
    env.create("b", obj("FleetCluster", "a", json!({"provider": "eks"})))
        .await;
    env.create(
        "b",
        obj("Tier", "dev", json!({"level": 0, "branch": "tier-0"})),
    )
    .await;
    env.create(
        "b",
        obj(
            "ShopSet",
            "a-1",
            json!({"tier": "dev", "configuration": "staging", "cluster": "a", "capacity": 10}),
        ),
    )
    .await;
    env.create("b", shop("s1", &["a-1"])).await;
    let (proxy, _tmp, task, mut rx) = watched_through_proxy(env, "b").await;
    let (mut fleet, mut problems) = (Fleet::new("live"), Vec::new());
    until(
        &mut rx,
        &mut fleet,
        &mut problems,
        "the initial list",
        |f, _| f.shops.len() == 1 && f.tiers.len() == 1,
    )
    .await;

    // The network goes silent until the source says it is not live, then every connection is
    // cut. The watches reconnect by themselves; nothing changes in the fleet, so no event ever
    // says they are back: the source must still be live again, with no object changing.
    proxy.freeze();
    let silent = Instant::now();
    loop {
        assert!(
            silent.elapsed() < Duration::from_secs(30),
            "the silence was not noticed"
        );
        if let Ok(Some(SourceEvent::Problem { .. })) =
            tokio::time::timeout(Duration::from_secs(1), rx.recv()).await
        {
            break;
        }
    }
    proxy.cut();
    let cut = Instant::now();
    let mut live_again = false;
    while cut.elapsed() < watch::RECOVERED_AFTER + Duration::from_secs(30) {
        match tokio::time::timeout(Duration::from_secs(1), rx.recv()).await {
            Ok(Some(SourceEvent::Heartbeat { .. })) => {
                live_again = true;
                break;
            }
            Ok(Some(SourceEvent::Update(u))) => fleet.apply(u),
            Ok(None) => panic!("the watch ended"),
            _ => {}
        }
    }
    assert!(
        live_again,
        "still not live {:?} after the cut",
        cut.elapsed()
    );
    assert_eq!(names(&fleet), ["s1"]);
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_kubeconfig_a_pod_reads_its_cluster_through_its_service_account() {
    let env = KubeEnv::get();
    let _fleet = env.fleet().await;
    env.create("control", shop("in-pod", &["a-1"])).await;
    // A service account's mount: the token (the viewer's) and the cluster's CA.
    let tmp = tempfile::tempdir().expect("tempdir");
    let sa = tmp.path().join("serviceaccount");
    std::fs::create_dir_all(&sa).expect("dir");
    std::fs::write(sa.join("token"), &env.tokens["viewer"]).expect("token");
    std::fs::copy(&env.ca, sa.join("ca.crt")).expect("ca");
    let port = addr_of(&env.servers["control"]).port().to_string();
    let k = kubeconfig::in_cluster(&sa, "127.0.0.1", &port).expect("in-cluster");
    let config = kubeconfig::client_config(&k, "in-cluster", None)
        .await
        .expect("the current context is the pod's");
    let client = kube::Client::try_from(config).expect("client");
    let shops: kube::Api<shopctl::backends::live::crds::Shop> = kube::Api::all(client);
    let names: Vec<String> = shops
        .list(&Default::default())
        .await
        .expect("listed with the service account's token")
        .items
        .iter()
        .map(kube::ResourceExt::name_any)
        .collect();
    assert_eq!(names, ["in-pod"]);
    // A mount without its token is named.
    std::fs::remove_file(sa.join("token")).expect("removed");
    let e = kubeconfig::in_cluster(&sa, "127.0.0.1", &port)
        .expect_err("no token")
        .to_string();
    assert!(e.contains("in-cluster") && e.contains("token"), "{e}");

    // The binary, with no kubeconfig anywhere and KUBERNETES_SERVICE_HOST set, goes for the
    // service account (whose fixed mount this machine does not have) and says so.
    let config = tmp.path().join("config.toml");
    std::fs::write(
        &config,
        "[alertmanager]\nurl = \"http://127.0.0.1:1\"\n[git]\nremote = \"/nonexistent\"\n",
    )
    .expect("config");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shopctl"))
        .env_remove("KUBECONFIG")
        .env("HOME", &home)
        .env("XDG_STATE_HOME", tmp.path().join("state"))
        .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        .env("KUBERNETES_SERVICE_PORT", &port)
        .arg("--config")
        .arg(&config)
        .args(["status", "-o", "json"])
        .output()
        .expect("runs");
    let err = stderr(&out);
    if !std::path::Path::new(kubeconfig::SERVICE_ACCOUNT_DIR).exists() {
        assert!(
            err.contains("in-cluster service account") && err.contains("/var/run/secrets"),
            "{err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_operators_hold_on_the_lease_is_shown_and_followed() {
    use shopctl::backends::FleetSource;
    use shopctl::backends::live::{config::Config, source::LiveSource};
    use shopctl::domain::FleetUpdate;

    let env = KubeEnv::get();
    let _fleet = env.fleet().await;
    let Session {
        tmp,
        state,
        argocd,
        lock,
    } = session(env).await;
    let viewer = config(tmp.path(), env, "viewer", &argocd, &lock);
    // A second tier, so there is a gate to promote into.
    env.create(
        "control",
        obj("Tier", "beta", json!({"level": 1, "branch": "tier-1"})),
    )
    .await;
    let now = shopctl::domain::Ts::now()
        .rfc3339()
        .replace('Z', ".000000Z");
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": "shopctl-release", "namespace": lock,
                     "annotations": {"shopset.dev/operation": "draining 'c'"}},
        "spec": {"holderIdentity": "bob@ops laptop-bob/4242/0badcafe", "leaseDurationSeconds": 600,
                 "acquireTime": now, "renewTime": now}});

    // A console started while nobody holds it sees Bob take it, and give it back.
    let source = LiveSource::new(Config::load(&viewer, None).expect("config"));
    let (tx, mut rx) = mpsc::channel(4096);
    let task = tokio::spawn(Box::new(source).watch(tx));
    let next_lock = async |rx: &mut mpsc::Receiver<SourceEvent>| loop {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
            Ok(Some(SourceEvent::Update(FleetUpdate::Lock(l)))) => return l,
            Ok(Some(SourceEvent::Update(FleetUpdate::LockUnreadable(why)))) => {
                panic!("the Lease could not be read: {why}")
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => panic!("no word of the lock"),
        }
    };
    assert_eq!(next_lock(&mut rx).await, None, "nobody holds it at first");
    let created = env.create("control", lease.clone()).await;
    let held = next_lock(&mut rx).await.expect("Bob's hold is seen");
    assert_eq!(held.holder, "bob@ops");
    assert_eq!(held.operation.as_deref(), Some("draining 'c'"));

    // A one-shot status says so, and a release gate is not called lock-free.
    let out = common::shopctl_live(&viewer, &state, &["status", "-o", "json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["lock"]["holder"], "bob@ops", "{}", json["lock"]);
    assert_eq!(json["lock"]["operation"], "draining 'c'");
    let out = common::shopctl_live(&viewer, &state, &["release", "status", "-o", "json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    let lock_free: Vec<&Value> = json["tiers"]
        .as_array()
        .expect("tiers")
        .iter()
        .filter_map(|t| t["gate"]["conditions"].as_array())
        .flatten()
        .filter(|c| c["name"] == "lock_free")
        .collect();
    assert!(
        !lock_free.is_empty() && lock_free.iter().all(|c| c["passed"] == false),
        "{json}"
    );

    env.delete("control", &created).await;
    assert_eq!(next_lock(&mut rx).await, None, "given back");
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_argo_cd_and_a_dead_git_remote_are_reported_by_status_not_fatal() {
    let env = KubeEnv::get();
    let _fleet = env.fleet().await;
    let Session {
        tmp,
        state,
        argocd,
        lock,
    } = session(env).await;
    // This user may read the fleet but not Argo CD's Applications, and the system repository
    // is gone.
    let file = config(tmp.path(), env, "no-argocd", &argocd, &lock);
    let text = std::fs::read_to_string(&file).expect("config").replace(
        &tmp.path().join("demo/git/system.git").display().to_string(),
        &tmp.path().join("gone.git").display().to_string(),
    );
    std::fs::write(&file, text).expect("config");
    let out = common::shopctl_live(&file, &state, &["status", "-o", "json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["shops"].as_array().map(Vec::len), Some(3), "{json}");
    let unread: Vec<String> = serde_json::from_value(json["unread"].clone()).expect("unread");
    assert_eq!(unread.len(), 2, "{unread:?}");
    assert!(
        unread[0].starts_with("Argo CD") && unread[0].contains("403 Forbidden"),
        "{unread:?}"
    );
    assert!(unread[1].starts_with("the system repository"), "{unread:?}");
    assert!(unread.iter().all(|u| !u.contains("Status {")), "{unread:?}");
    let table = common::shopctl_live(&file, &state, &["status"]).await;
    assert!(table.status.success(), "{}", stderr(&table));
    assert!(
        String::from_utf8_lossy(&table.stdout).contains("UNREAD ✗ Argo CD"),
        "{}",
        String::from_utf8_lossy(&table.stdout)
    );
    // Every other command still needs every source: no gate is judged on half a fleet.
    let out = common::shopctl_live(&file, &state, &["release", "status", "-o", "json"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argo_cd_is_asked_to_sync_as_its_own_cli_asks_and_argo_cds_schema_accepts_it() {
    use shopctl::backends::live::sync::{SyncError, trigger};

    let env = KubeEnv::get();
    env.install_crds().await;
    let ns = env.namespace("control", "argocd").await;
    let app = |name: &str, spec: Value, status: Value| {
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
               "metadata": {"name": name, "namespace": ns},
               "spec": spec, "status": status})
    };
    let destination = json!({"name": "a", "namespace": "shopset-a-1"});
    let finished = json!({"operationState": {
        "phase": "Succeeded", "startedAt": "2026-11-22T16:00:00Z",
        "finishedAt": "2026-11-22T16:00:09Z",
        "operation": {"sync": {"revision": "0ld"}}, "syncResult": {"revision": "0ld"}}});
    // One source, with its own sync options and retry, and the last operation's state.
    let single = env
        .create(
            "control",
            app(
                "shopset-a-1",
                json!({"project": "default", "destination": destination,
                       "source": {"repoURL": "https://git.example/system.git", "path": "overlays/a-1",
                                  "targetRevision": "tier-2"},
                       "syncPolicy": {"syncOptions": ["CreateNamespace=true", "ServerSideApply=true"],
                                      "retry": {"limit": 5, "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"}}}}),
                finished.clone(),
            ),
        )
        .await;
    // Two sources: the system repository on the tier's branch, and a chart at its own version.
    let multi = env
        .create(
            "control",
            app(
                "shopset-b-1",
                json!({"project": "default", "destination": destination,
                       "sources": [
                           {"repoURL": "https://charts.example", "chart": "shop", "targetRevision": "1.4.2"},
                           {"repoURL": "https://git.example/system.git", "path": "overlays/b-1",
                            "targetRevision": "tier-2"}]}),
                json!({}),
            ),
        )
        .await;
    let apps: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(
        env.client("control", "operator").await,
        &ns,
        &kube_env::resource("argoproj.io/v1alpha1", "Application"),
    );
    for name in ["shopset-a-1", "shopset-b-1"] {
        trigger(
            &apps,
            name,
            "alice@ops",
            "0c5d6c0",
            "tier-2",
            "promote prod-beta",
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let single = env.read("control", &single).await.expect("a-1");
    let op = &single["operation"];
    assert_eq!(op["sync"]["revision"], "0c5d6c0", "{op}");
    assert_eq!(
        op["sync"]["syncOptions"],
        json!(["CreateNamespace=true", "ServerSideApply=true"])
    );
    assert_eq!(op["retry"]["limit"], 5);
    assert_eq!(op["initiatedBy"]["username"], "alice@ops");
    assert!(
        single["status"].get("operationState").is_none(),
        "the last operation's state was cleared: {}",
        single["status"]
    );
    let multi = env.read("control", &multi).await.expect("b-1");
    assert_eq!(
        multi["operation"]["sync"]["revisions"],
        json!(["1.4.2", "0c5d6c0"]),
        "{}",
        multi["operation"]
    );
    assert!(multi["operation"]["sync"].get("revision").is_none());
    // Its operation is now pending: it is not asked again over it.
    assert_eq!(
        trigger(
            &apps,
            "shopset-a-1",
            "alice@ops",
            "0c5d6c0",
            "tier-2",
            "again"
        )
        .await,
        Err(SyncError::Running("shopset-a-1".into()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_is_known_again_after_an_outage_though_the_lease_never_changed() {
    use shopctl::domain::FleetUpdate;

    let env = KubeEnv::get();
    let _fleet = env.fleet_on("b").await;
    let ns = env.namespace("b", "lock").await;
    let now = shopctl::domain::Ts::now()
        .rfc3339()
        .replace('Z', ".000000Z");
    env.create(
        "b",
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
               "metadata": {"name": "shopctl-release", "namespace": ns},
               "spec": {"holderIdentity": "bob@ops laptop-bob/4242/0badcafe",
                        "leaseDurationSeconds": 600, "acquireTime": now, "renewTime": now}}),
    )
    .await;
    let proxy = FaultProxy::start(addr_of(&env.servers["b"])).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = kubeconfig_via(env, tmp.path(), "b", proxy.addr);
    let (k, name) = kubeconfig::load(Some(&file)).expect("kubeconfig");
    let client = kube::Client::try_from(
        kubeconfig::client_config(&k, &name, Some("viewer@b"))
            .await
            .expect("context"),
    )
    .expect("client");
    let (tx, mut rx) = mpsc::channel(64);
    let task = tokio::spawn(watch::lock(client, ns, "shopctl-release".into(), tx));
    let next = async |rx: &mut mpsc::Receiver<SourceEvent>| match tokio::time::timeout(
        Duration::from_secs(60),
        rx.recv(),
    )
    .await
    {
        Ok(Some(SourceEvent::Update(u))) => u,
        other => panic!("no word of the lock: {other:?}"),
    };
    assert!(
        matches!(next(&mut rx).await, FleetUpdate::Lock(Some(l)) if l.holder == "bob@ops"),
        "Bob's hold is seen"
    );
    // The server goes away: the lock cannot be read (a gate fails closed)...
    proxy.refuse();
    assert!(matches!(
        next(&mut rx).await,
        FleetUpdate::LockUnreadable(_)
    ));
    // ...and when it is back, Bob's hold is known again, though his Lease never changed.
    proxy.allow();
    loop {
        match next(&mut rx).await {
            FleetUpdate::LockUnreadable(_) => continue,
            FleetUpdate::Lock(Some(l)) => {
                assert_eq!(l.holder, "bob@ops");
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_read_says_how_far_it_has_come_and_is_live_only_when_whole() {
    let env = KubeEnv::get();
    let _fleet = env.fleet_on("a").await;
    const SHOPS: usize = 1_234;
    let mut objects = vec![
        obj("FleetCluster", "a", json!({"provider": "eks"})),
        obj(
            "Tier",
            "dev",
            json!({"level": 0, "branch": "tier-0", "soakSeconds": 30}),
        ),
        obj(
            "ShopSet",
            "a-1",
            json!({"tier": "dev", "configuration": "staging", "cluster": "a", "capacity": 5000}),
        ),
    ];
    objects.extend((0..SHOPS).map(|i| shop(&format!("shop-{i:05}"), &["a-1"])));
    env.create_all("a", objects).await;

    let (tx, mut rx) = mpsc::channel(4096);
    let task = tokio::spawn(watch::control_plane(env.client("a", "viewer").await, tx));
    let mut fleet = Fleet::new("live");
    let mut said = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ev = tokio::time::timeout(deadline - Instant::now(), rx.recv())
            .await
            .expect("the first read arrives within a minute")
            .expect("the watch goes on");
        match ev {
            SourceEvent::Update(u) => fleet.apply(u),
            SourceEvent::Loading { progress, .. } => {
                said.push((progress.done, progress.total, fleet.shops.len()))
            }
            SourceEvent::Heartbeat { .. } => break,
            SourceEvent::Problem { message, .. } => panic!("{message}"),
        }
    }
    task.abort();
    // Live only once every shop has arrived; before that, how far the read had come.
    assert_eq!(fleet.shops.len(), SHOPS, "live over a partial fleet");
    let total = Some(SHOPS as u64 + 3);
    assert_eq!(said.first(), Some(&(0, total, 0)), "{said:?}");
    assert!(said.iter().all(|(_, t, _)| *t == total), "{said:?}");
    let dones: Vec<u64> = said.iter().map(|(d, ..)| *d).collect();
    assert!(dones.windows(2).all(|w| w[0] < w[1]), "{dones:?}");
    for page in [500, 1_000] {
        assert!(
            said.iter()
                .any(|(d, _, shops)| *d >= page && *shops < SHOPS && *shops >= page as usize - 3),
            "no report near {page}: {said:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_busy_with_an_operation_is_asked_when_it_has_finished_until_a_deadline() {
    use shopctl::backends::live::sync::{Request, ask_all};

    let env = KubeEnv::get();
    env.install_crds().await;
    let ns = env.namespace("control", "argocd").await;
    let running = json!({"operationState": {
        "phase": "Running", "startedAt": "2026-11-22T16:00:00Z",
        "operation": {"sync": {"revision": "0ld"}}}});
    let app = |name: &str| {
        json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
               "metadata": {"name": name, "namespace": ns},
               "spec": {"project": "default",
                        "destination": {"name": "a", "namespace": name},
                        "source": {"repoURL": "https://git.example/system.git",
                                   "path": format!("overlays/{name}"), "targetRevision": "tier-2"}},
               "status": running})
    };
    let (free, finishing, stuck) = (
        env.create("control", app("shopset-a-1")).await,
        env.create("control", app("shopset-b-1")).await,
        env.create("control", app("shopset-c-1")).await,
    );
    env.patch(
        "control",
        &free,
        json!({"status": {"operationState": {"phase": "Succeeded",
                                             "finishedAt": "2026-11-22T16:00:09Z"}}}),
    )
    .await;
    // b-1's operation finishes once the wait for it has been said; c-1's never does.
    let (said_tx, mut said_rx) = mpsc::unbounded_channel::<String>();
    let later = finishing.clone();
    let finisher = tokio::spawn(async move {
        let first = said_rx.recv().await.expect("the wait is said");
        assert!(first.starts_with("waiting for"), "{first}");
        KubeEnv::get()
            .patch(
                "control",
                &later,
                json!({"status": {"operationState": {"phase": "Succeeded",
                                                     "finishedAt": "2026-11-22T16:01:00Z"}}}),
            )
            .await;
    });
    let apps: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(
        env.client("control", "operator").await,
        &ns,
        &kube_env::resource("argoproj.io/v1alpha1", "Application"),
    );
    let said = std::sync::Mutex::new(Vec::<String>::new());
    let request = Request {
        operator: "alice@ops",
        revision: "0c5d6c0",
        branch: "tier-2",
        why: "promote prod-beta",
    };
    let started = Instant::now();
    let problems = ask_all(
        &apps,
        vec![
            "shopset-a-1".into(),
            "shopset-b-1".into(),
            "shopset-c-1".into(),
        ],
        &request,
        Duration::from_secs(8),
        &|s| {
            let _ = said_tx.send(s.clone());
            said.lock().expect("said").push(s)
        },
    )
    .await;
    finisher.await.expect("finished");
    let said = said.into_inner().expect("said");
    // Whom it waits for and until when, said before it waits; then each one asked.
    assert!(
        said[0].starts_with(
            "waiting for Argo CD Applications busy with another operation: shopset-b-1, shopset-c-1; asked to sync when it has finished, until "
        ) && said[0].ends_with(" UTC"),
        "{said:?}"
    );
    assert_eq!(
        said[1..],
        ["Argo CD Application 'shopset-b-1' asked to sync"]
    );
    assert!(
        started.elapsed() >= Duration::from_secs(8),
        "waited to the deadline for c-1"
    );
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with(
            "Argo CD Application 'shopset-c-1' was still busy with another operation at "
        ) && problems[0].ends_with("(waited 8 s): it was not asked to sync"),
        "{problems:?}"
    );
    let revision = |o: &Value| o["operation"]["sync"]["revision"].clone();
    assert_eq!(
        revision(&env.read("control", &free).await.expect("a-1")),
        "0c5d6c0"
    );
    assert_eq!(
        revision(&env.read("control", &finishing).await.expect("b-1")),
        "0c5d6c0"
    );
    let stuck = env.read("control", &stuck).await.expect("c-1");
    assert!(
        stuck.get("operation").is_none(),
        "never asked over its running operation: {stuck}"
    );
    assert_eq!(stuck["status"]["operationState"]["phase"], "Running");
}

/// An Argo CD Application for `shopset` in `ns` with `status`, on Argo CD's real schema.
fn application(ns: &str, shopset: &str, tier_branch: &str, status: Value) -> Value {
    json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
           "metadata": {"name": format!("shopset-{shopset}"), "namespace": ns,
                        "labels": {"shopset.dev/shopset": shopset}},
           "spec": {"project": "default",
                    "destination": {"name": "a", "namespace": format!("shopset-{shopset}")},
                    "source": {"repoURL": "https://git.example/system.git",
                               "path": format!("overlays/{shopset}"), "targetRevision": tier_branch}},
           "status": status})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_step_pushes_asks_argo_cd_to_sync_and_waits_for_a_busy_application() {
    let env = KubeEnv::get();
    let _fleet = env.fleet().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let argocd = env.namespace("control", "argocd").await;
    let lock = env.namespace("control", "lock").await;
    let file = config(tmp.path(), env, "operator", &argocd, &lock);
    // A busy Application is waited for up to 20 s.
    let text = std::fs::read_to_string(&file).expect("config").replace(
        &format!("namespace = \"{argocd}\"\n"),
        &format!("namespace = \"{argocd}\"\nbusy_wait_secs = 20\n"),
    );
    std::fs::write(&file, text).expect("config");
    let remote = tmp.path().join("demo/git/system.git");
    let head = |branch: &str| common::git(&remote, &["rev-parse", branch]);
    env.create(
        "control",
        obj(
            "FleetCluster",
            "a",
            json!({"provider": "eks", "context": "viewer@a"}),
        ),
    )
    .await;
    env.node("a", "n1", true).await;
    for (name, level) in [("beta", 1), ("prod-beta", 2)] {
        env.create(
            "control",
            obj(
                "Tier",
                name,
                json!({"level": level, "branch": format!("tier-{level}"), "soakSeconds": 30}),
            ),
        )
        .await;
    }
    // beta settled at its branch head long ago; prod-beta runs the older release, and a-3's
    // Application is busy with an operation of its own.
    let settled = |revision: String| {
        json!({"sync": {"status": "Synced", "revision": revision},
               "health": {"status": "Healthy"},
               "operationState": {"phase": "Succeeded", "startedAt": "2026-01-01T00:00:00Z",
                                  "finishedAt": "2026-01-01T00:00:09Z",
                                  "operation": {"sync": {"revision": revision}},
                                  "syncResult": {"revision": revision}}})
    };
    let mut apps = Vec::new();
    for (set, tier, branch) in [
        ("a-1", "beta", "tier-1"),
        ("a-2", "prod-beta", "tier-2"),
        ("a-3", "prod-beta", "tier-2"),
    ] {
        env.create(
            "control",
            obj(
                "ShopSet",
                set,
                json!({"tier": tier, "configuration": "production", "cluster": "a", "capacity": 10}),
            ),
        )
        .await;
        let mut status = settled(head(branch));
        if set == "a-3" {
            status["operationState"]["phase"] = json!("Running");
        }
        apps.push(
            env.create("control", application(&argocd, set, branch, status))
                .await,
        );
    }
    let before = head("tier-2");
    let state = tmp.path().join("state");
    // Alertmanager does not answer: the alert condition fails and needs a reason.
    let refused = common::shopctl_live(
        &file,
        &state,
        &["release", "step", "--tier", "prod-beta", "--yes"],
    )
    .await;
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert_eq!(head("tier-2"), before, "nothing pushed");

    // a-3's operation finishes while the step waits for it.
    // The step runs with its stderr read as it is written; a-3's operation finishes once the
    // step has said it waits for it.
    let busy = apps[2].clone();
    let mut step = std::process::Command::new(env!("CARGO_BIN_EXE_shopctl"))
        .env("XDG_STATE_HOME", &state)
        .env("SHOPCTL_OPERATOR", "alice@ops")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .arg("--config")
        .arg(&file)
        .args([
            "release",
            "step",
            "--tier",
            "prod-beta",
            "--yes",
            "--override-reason",
            "alerting is down, checked by hand",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the step starts");
    let (lines_tx, mut lines) = mpsc::unbounded_channel::<String>();
    let reader = step.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(reader)
            .lines()
            .map_while(Result::ok)
        {
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut err = String::new();
    while let Some(line) = lines.recv().await {
        err.push_str(&line);
        err.push('\n');
        if line.contains("waiting for Argo CD Application") {
            env.patch(
                "control",
                &busy,
                json!({"status": {"operationState": {"phase": "Succeeded",
                                                     "finishedAt": "2026-01-01T00:01:00Z"}}}),
            )
            .await;
        }
    }
    let status = tokio::task::spawn_blocking(move || step.wait())
        .await
        .expect("joined")
        .expect("the step ends");
    assert!(status.success(), "{err}");
    let after = head("tier-2");
    assert_ne!(after, before, "pushed to the remote");
    // Both prod-beta Applications were asked to sync exactly the pushed commit — a-3 once its
    // own operation had finished, never over it —; beta's was not asked.
    for (i, app) in apps.iter().enumerate() {
        let now = env.read("control", app).await.expect("application");
        match i {
            0 => assert!(now.get("operation").is_none(), "{now}"),
            _ => {
                assert_eq!(now["operation"]["sync"]["revision"], json!(after), "{now}");
                assert_eq!(now["operation"]["initiatedBy"]["username"], "alice@ops");
            }
        }
    }
    assert!(
        err.contains("waiting for Argo CD Application busy with another operation: shopset-a-3; asked to sync when it has finished, until "),
        "{err}"
    );
    assert!(
        err.contains("Argo CD Application 'shopset-a-3' asked to sync"),
        "{err}"
    );
    assert!(!err.contains("warning"), "{err}");
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                       "metadata": {"name": "shopctl-release", "namespace": lock}});
    assert!(
        env.read("control", &lease).await.is_none(),
        "the Lease was given back"
    );
    let audit = std::fs::read_to_string(state.join("shopctl/audit.jsonl")).expect("audited");
    assert!(
        audit.contains("\"pushed\"") && audit.contains("alerting is down"),
        "{audit}"
    );
    // The release history, read on another machine (a state directory of its own, no audit
    // log) from the remote alone: who stepped prod-beta, from what to what, overriding which
    // condition and why.
    let elsewhere = tmp.path().join("elsewhere");
    let out = common::shopctl_live(
        &file,
        &elsewhere,
        &["release", "history", "--tier", "prod-beta", "-o", "json"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    let events = doc["events"].as_array().expect("events");
    let step = events.last().expect("the step");
    let gitlink = |commit: &str| common::git(&remote, &["rev-parse", &format!("{commit}:base")]);
    assert_eq!(doc["version"], 1);
    assert_eq!(step["tier"], "prod-beta");
    assert_eq!(step["action"], "promote", "{step}");
    assert_eq!(step["by"], "alice@ops", "{step}");
    assert_eq!(step["commit"], json!(after));
    assert_eq!(step["from"]["commit"], json!(gitlink(&before)), "{step}");
    assert_eq!(step["to"]["commit"], json!(gitlink(&after)), "{step}");
    assert_eq!(step["from_tier"], "beta");
    assert_eq!(step["gate"], "overridden");
    assert_eq!(step["reason"], "alerting is down, checked by hand");
    assert!(
        step["overridden"]
            .as_array()
            .is_some_and(|o| o.iter().any(|c| c == "no_alerts")),
        "{step}"
    );
    assert!(!elsewhere.join("shopctl/audit.jsonl").exists());
}

/// The three ShopSets with room for `capacity` shops each, and `n` more shops on b-1 named
/// `prefix0000` on.
async fn many_on_b(env: &KubeEnv, capacity: u32, prefix: &str, n: usize) {
    for (s, c) in [("a-1", "a"), ("b-1", "b"), ("c-1", "c")] {
        env.patch(
            "control",
            &obj("ShopSet", s, json!({})),
            json!({"spec": {"capacity": capacity, "cluster": c}}),
        )
        .await;
    }
    env.create_all(
        "control",
        (0..n)
            .map(|i| shop(&format!("{prefix}{i:04}"), &["b-1"]))
            .collect(),
    )
    .await;
}

/// Follows the shops' watch `events` until a drain has recorded `n` of them as moved (two
/// minutes at most).
async fn until_moved(
    events: &mut futures::stream::BoxStream<
        'static,
        Result<
            kube::runtime::watcher::Event<kube::api::DynamicObject>,
            kube::runtime::watcher::Error,
        >,
    >,
    n: usize,
) {
    use futures::StreamExt;
    use kube::ResourceExt;
    let mut moved = std::collections::HashSet::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while moved.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.next()).await {
            Ok(Some(Ok(
                kube::runtime::watcher::Event::Apply(s)
                | kube::runtime::watcher::Event::InitApply(s),
            ))) if s.annotations().contains_key("shopset.dev/drain") => {
                moved.insert(s.name_any());
            }
            Ok(Some(_)) => {}
            _ => panic!("the drain never got going"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_killed_midway_resumes_from_the_cluster_and_moves_each_shop_once() {
    let env = KubeEnv::get();
    let _fleet = env.fleet().await;
    let Session {
        tmp,
        state,
        argocd,
        lock,
    } = session(env).await;
    const SHOPS: usize = 1_200;
    many_on_b(env, 2000, "m", SHOPS).await;
    let file = config(tmp.path(), env, "operator", &argocd, &lock);
    // Killed and reaped whatever happens to the test.
    struct Reaped(std::process::Child);
    impl Drop for Reaped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Reaped(
        std::process::Command::new(assert_cmd::cargo::cargo_bin("shopctl"))
            .env("XDG_STATE_HOME", &state)
            .env("SHOPCTL_OPERATOR", "alice@ops")
            .arg("--config")
            .arg(&file)
            .args(["drain", "b", "--yes"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("drain starts"),
    );
    let shops: kube::Api<kube::api::DynamicObject> = kube::Api::all_with(
        env.client("control", "admin").await,
        &kube_env::resource("shopset.dev/v1alpha1", "Shop"),
    );
    // The shops as the drain moves them, watched: killed (no chance to clean up) once the
    // first batch is in and before the last.
    use futures::StreamExt;
    use kube::ResourceExt;
    let mut events = kube::runtime::watcher(shops.clone(), Default::default()).boxed();
    until_moved(&mut events, 250).await;
    child.0.kill().expect("killed");
    let _ = child.0.wait();
    drop(events);
    let at_kill = shops
        .list(&kube::api::ListParams::default())
        .await
        .expect("shops")
        .items
        .iter()
        .filter(|s| s.annotations().contains_key("shopset.dev/drain"))
        .count();
    assert!(at_kill < SHOPS, "killed mid-way ({at_kill} moved)");
    let b = env
        .read("control", &obj("FleetCluster", "b", json!({})))
        .await
        .expect("b");
    assert_eq!(b["spec"]["unschedulable"], true, "cordoned");
    // Still on b: the unfinished drain is visible to anyone, from the cluster itself.
    let status = common::shopctl_live(&file, &state, &["status", "-o", "json"]).await;
    let v: Value = serde_json::from_slice(&status.stdout).expect("json");
    assert_eq!(
        v["unfinished_drains"][0]["cluster"], "b",
        "{}",
        v["unfinished_drains"]
    );
    // The Lease of the killed process is taken over at once (its process is gone), and the
    // drain goes on where it stopped.
    let out = common::shopctl_live(&file, &state, &["drain", "b", "--yes"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    // Every shop moved, exactly once: one spec change after its creation (generation 2).
    let all = shops
        .list(&kube::api::ListParams::default())
        .await
        .expect("shops");
    for s in all.items.iter().filter(|s| s.name_any().starts_with('m')) {
        assert_ne!(
            s.data["spec"]["shopSets"],
            json!(["b-1"]),
            "{} still on b-1",
            s.name_any()
        );
        assert_eq!(
            s.metadata.generation,
            Some(2),
            "{} moved more than once",
            s.name_any()
        );
        assert!(s.annotations().contains_key("shopset.dev/drain"));
    }
}

/// No shop left on `shopset` (read as the admin).
async fn shops_on(env: &KubeEnv, shopset: &str) -> Vec<String> {
    use kube::ResourceExt;
    let shops: kube::Api<kube::api::DynamicObject> = kube::Api::all_with(
        env.client("control", "admin").await,
        &kube_env::resource("shopset.dev/v1alpha1", "Shop"),
    );
    shops
        .list(&kube::api::ListParams::default())
        .await
        .expect("shops")
        .items
        .iter()
        .filter(|s| {
            s.data["spec"]["shopSets"]
                .as_array()
                .is_some_and(|on| on.iter().any(|x| x == shopset))
        })
        .map(|s| s.name_any())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_is_drained_while_argo_cd_git_and_alertmanager_are_down() {
    let env = KubeEnv::get();
    let _fleet = env.fleet().await;
    let Session {
        tmp,
        state,
        argocd,
        lock,
    } = session(env).await;
    // Argo CD's context names a server that is not there, the system repository is gone, and
    // Alertmanager does not answer (as in every test's configuration).
    let text = std::fs::read_to_string(&env.kubeconfig).expect("kubeconfig");
    let mut k: Value = serde_yaml::from_str(&text).expect("yaml");
    let mut gone = k["clusters"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "control"))
        .expect("the control plane's cluster")
        .clone();
    gone["name"] = json!("gone");
    gone["cluster"]["server"] = json!("https://127.0.0.1:1");
    k["clusters"].as_array_mut().expect("clusters").push(gone);
    let mut context = k["contexts"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .find(|c| c["name"] == KubeEnv::context("control", "operator"))
        })
        .expect("the operator's context")
        .clone();
    context["name"] = json!("argocd-gone");
    context["context"]["cluster"] = json!("gone");
    k["contexts"]
        .as_array_mut()
        .expect("contexts")
        .push(context);
    let kubeconfig = tmp.path().join("kubeconfig");
    std::fs::write(&kubeconfig, serde_yaml::to_string(&k).expect("yaml")).expect("written");
    let file = config(tmp.path(), env, "operator", &argocd, &lock);
    let text = std::fs::read_to_string(&file)
        .expect("config")
        .replace(
            &env.kubeconfig.display().to_string(),
            &kubeconfig.display().to_string(),
        )
        .replace(
            &tmp.path().join("demo/git/system.git").display().to_string(),
            &tmp.path().join("gone.git").display().to_string(),
        )
        .replace(
            &format!(
                "[[argocd]]\ncontext = \"{}\"",
                KubeEnv::context("control", "operator")
            ),
            "[[argocd]]\ncontext = \"argocd-gone\"",
        );
    assert!(text.contains("argocd-gone"), "{text}");
    std::fs::write(&file, text).expect("config");
    let out = common::shopctl_live(&file, &state, &["drain", "b", "--yes"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("drained 'b'"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(shops_on(env, "b-1").await, Vec::<String>::new());
    // And back, the same way.
    let out = common::shopctl_live(&file, &state, &["restore", "b", "--yes"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let mut back = shops_on(env, "b-1").await;
    back.sort();
    assert_eq!(back, ["d1", "s1", "s2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_taken_over_mid_drain_stops_it_before_its_next_write() {
    let env = KubeEnv::get();
    let _fleet = env.fleet().await;
    let Session {
        tmp,
        state,
        argocd,
        lock,
    } = session(env).await;
    const SHOPS: usize = 2_000;
    many_on_b(env, 3000, "l", SHOPS).await;
    let file = config(tmp.path(), env, "operator", &argocd, &lock);
    let drain = {
        let (file, state) = (file.clone(), state.clone());
        tokio::spawn(
            async move { common::shopctl_live(&file, &state, &["drain", "b", "--yes"]).await },
        )
    };
    // Once the first batch is in, another operator takes the Lease over (as if it had expired).
    use futures::StreamExt;
    let admin = env.client("control", "admin").await;
    let shops: kube::Api<kube::api::DynamicObject> = kube::Api::all_with(
        admin.clone(),
        &kube_env::resource("shopset.dev/v1alpha1", "Shop"),
    );
    let mut events = kube::runtime::watcher(shops.clone(), Default::default()).boxed();
    until_moved(&mut events, 250).await;
    drop(events);
    let leases: kube::Api<k8s_openapi::api::coordination::v1::Lease> =
        kube::Api::namespaced(admin, &lock);
    let now = shopctl::domain::Ts::now()
        .rfc3339()
        .replace('Z', ".000000Z");
    leases
        .patch(
            "shopctl-release",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(json!({
                "metadata": {"annotations": {"shopset.dev/operation": "restoring 'b'"}},
                "spec": {"holderIdentity": "mallory@ops elsewhere/1/m",
                         "renewTime": now, "acquireTime": now},
            })),
        )
        .await
        .expect("taken over");
    let out = drain.await.expect("joined");
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("the operator lock was lost: mallory@ops (restoring 'b') took it over"),
        "{err}"
    );
    // Nothing written after the loss: every shop moved is of a batch that began before it.
    let left_on_b = shops_on(env, "b-1").await.len();
    assert!(
        left_on_b > 0,
        "the drain finished before the Lease was taken over"
    );
    assert_eq!((SHOPS + 3 - left_on_b) % 250, 0, "{left_on_b} left on b-1");
    // The other operator's Lease stands, and the loss is audited.
    let l = leases.get("shopctl-release").await.expect("lease");
    assert_eq!(
        l.spec.and_then(|s| s.holder_identity).as_deref(),
        Some("mallory@ops elsewhere/1/m")
    );
    let audit = std::fs::read_to_string(state.join("shopctl/audit.jsonl")).expect("audited");
    let lost: Vec<Value> = audit
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["action"] == "lock lost")
        .collect();
    assert_eq!(lost.len(), 1, "{audit}");
    assert_eq!(lost[0]["cluster"], "b");
    assert_eq!(lost[0]["result"], "stopped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_throttled_by_api_priority_and_fairness_waits_as_told_and_moves_every_shop() {
    let env = KubeEnv::get();
    let _fleet = env.fleet().await;
    let Session {
        tmp,
        state,
        argocd,
        lock,
    } = session(env).await;
    const SHOPS: usize = 600;
    many_on_b(env, 2000, "t", SHOPS).await;
    // This operator's patches of shops get a priority level of a few seats with one short queue,
    // borrowing no seats: what does not fit is turned away (429 with Retry-After).
    let level = KubeEnv::unique("tight");
    env.create(
        "control",
        json!({
            "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
            "kind": "PriorityLevelConfiguration",
            "metadata": {"name": level},
            "spec": {"type": "Limited", "limited": {
                "nominalConcurrencyShares": 5,
                "lendablePercent": 0,
                "borrowingLimitPercent": 0,
                "limitResponse": {"type": "Queue", "queuing": {
                    "queues": 1, "handSize": 1, "queueLengthLimit": 4,
                }},
            }},
        }),
    )
    .await;
    env.create(
        "control",
        json!({
            "apiVersion": "flowcontrol.apiserver.k8s.io/v1",
            "kind": "FlowSchema",
            "metadata": {"name": level},
            "spec": {
                "priorityLevelConfiguration": {"name": level},
                "matchingPrecedence": 500,
                "distinguisherMethod": {"type": "ByUser"},
                "rules": [{
                    "subjects": [{"kind": "User", "user": {"name": "operator-throttled"}}],
                    "resourceRules": [{
                        "verbs": ["patch"],
                        "apiGroups": ["shopset.dev"],
                        "resources": ["shops"],
                        "clusterScope": true,
                    }],
                }],
            },
        }),
    )
    .await;
    let file = config(tmp.path(), env, "operator-throttled", &argocd, &lock);
    let out = common::shopctl_live(&file, &state, &["drain", "b", "--yes"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(shops_on(env, "b-1").await, Vec::<String>::new());
    // The server did turn patches away: the drain waited them out.
    let admin = env.client("control", "admin").await;
    let metrics = admin
        .request_text(
            http::Request::get("/metrics")
                .body(Vec::new())
                .expect("request"),
        )
        .await
        .expect("metrics");
    let rejected: f64 = metrics
        .lines()
        .filter(|l| {
            l.starts_with("apiserver_flowcontrol_rejected_requests_total")
                && l.contains(&format!("priority_level=\"{level}\""))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(
        rejected > 0.0,
        "no patch was turned away:\n{}",
        stderr(&out)
    );
    eprintln!(
        "{rejected} patches turned away; the drain:\n{}",
        stderr(&out)
    );
    // Each shop written once.
    use kube::ResourceExt;
    let shops: kube::Api<kube::api::DynamicObject> =
        kube::Api::all_with(admin, &kube_env::resource("shopset.dev/v1alpha1", "Shop"));
    for s in shops
        .list(&kube::api::ListParams::default())
        .await
        .expect("shops")
        .items
        .iter()
        .filter(|s| s.name_any().starts_with('t'))
    {
        assert_eq!(s.metadata.generation, Some(2), "{}", s.name_any());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_session_holds_the_lease_and_of_six_takers_of_an_expired_one_exactly_one_wins() {
    use shopctl::backends::live::lease::LeaseLock;
    use shopctl::domain::Ts;
    use shopctl::ops::lock::LOCK_TTL_SECS;
    use shopctl::ops::{Holder, LockStore, OpsError};
    use std::sync::Arc;
    use tokio::sync::Barrier;

    let env = KubeEnv::get();
    let ns = env.namespace("control", "lock").await;
    let holder = |op: &str, session: &str| Holder {
        operator: op.into(),
        session: session.into(),
        operation: None,
    };
    let kubeconfig_file = env.kubeconfig.clone();
    // A Lease store of its own client, writing Leases of `secs`.
    let lease_of = async |secs: u32| {
        let (k, name) = kubeconfig::load(Some(&kubeconfig_file)).expect("kubeconfig");
        let config =
            kubeconfig::client_config(&k, &name, Some(&KubeEnv::context("control", "operator")))
                .await
                .expect("context");
        LeaseLock::new(
            kubeconfig::client(config).expect("client"),
            &ns,
            "shopctl-release",
            secs,
        )
    };
    let lease = async || lease_of(600).await;
    let store = lease().await;
    let t = Ts::now();
    let (alice, bob) = (holder("alice@ops", "h/1/a"), holder("bob@ops", "h/2/b"));
    assert_eq!(
        store.acquire(&alice, t).await.expect("created").holder,
        "alice@ops"
    );
    match store.acquire(&bob, t.plus_secs(5)).await {
        Err(OpsError::Locked(l)) => assert_eq!(l.holder, "alice@ops"),
        other => panic!("bob got {other:?}"),
    }
    let renewed = store
        .acquire(&alice, t.plus_secs(60))
        .await
        .expect("renewed");
    assert_eq!(renewed.acquired_at, t);
    assert_eq!(renewed.expires_at, t.plus_secs(60 + 600));
    store.release(&bob).await.expect("not bob's: nothing");
    assert!(store.read().await.expect("read").is_some());
    store.release(&alice).await.expect("released");
    assert!(store.read().await.expect("read").is_none());

    // Expired: six take it over at once, each through a client of its own; exactly one
    // wins, the others meet the real server's 409.
    // Left behind by a session with a Lease of 1 s that never renews it.
    lease_of(1)
        .await
        .acquire(&holder("gone@ops", "h/9/z"), t)
        .await
        .expect("left behind");
    let late = t.plus_secs(LOCK_TTL_SECS + 1000);
    let n = 6;
    let barrier = Arc::new(Barrier::new(n));
    // The takers judge the Lease by a clock the test moves.
    let elapsed = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let clock: shopctl::backends::live::lease::Clock = {
        let elapsed = Arc::clone(&elapsed);
        Arc::new(move || {
            std::time::Duration::from_millis(elapsed.load(std::sync::atomic::Ordering::SeqCst))
        })
    };
    let mut stores = Vec::new();
    for i in 0..n {
        let st = lease().await.timed_by(Arc::clone(&clock));
        let me = holder("op", &format!("h/1/{i}"));
        // However late its wall clock says it is, a taker that has just seen the Lease waits
        // its duration before taking it over.
        assert!(matches!(
            st.acquire(&me, late).await,
            Err(OpsError::Locked(l)) if l.holder == "gone@ops"
        ));
        stores.push((st, me));
    }
    // Seen unchanged for its duration (1 s) by every taker.
    elapsed.store(1_000, std::sync::atomic::Ordering::SeqCst);
    let mut takers = Vec::new();
    for (st, me) in stores {
        let barrier = barrier.clone();
        takers.push(tokio::spawn(async move {
            barrier.wait().await;
            st.acquire(&me, late).await.is_ok()
        }));
    }
    let mut winners = 0;
    for t in takers {
        winners += usize::from(t.await.expect("joined"));
    }
    assert_eq!(winners, 1, "exactly one contender took the expired Lease");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exec_credential_plugins_token_never_appears_in_anything_shopctl_writes() {
    let env = KubeEnv::get();
    let _fleet = env.fleet().await;
    let Session {
        tmp,
        state,
        argocd,
        lock,
    } = session(env).await;
    let token = &env.tokens["viewer"];
    let plugin = tmp.path().join("plugin.sh");
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\necho '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}\"}}}}'\n"
        ),
    )
    .expect("plugin");
    std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("executable");
    let mut k: Value =
        serde_yaml::from_str(&std::fs::read_to_string(&env.kubeconfig).expect("kubeconfig"))
            .expect("yaml");
    k["users"].as_array_mut().expect("users").push(json!({
        "name": "exec", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1", "command": plugin}}}));
    k["contexts"]
        .as_array_mut()
        .expect("contexts")
        .push(json!({"name": "exec@control", "context": {"cluster": "control", "user": "exec"}}));
    let kubeconfig = tmp.path().join("kubeconfig");
    std::fs::write(&kubeconfig, serde_yaml::to_string(&k).expect("yaml")).expect("written");
    let file = config(tmp.path(), env, "viewer", &argocd, &lock);
    let text = std::fs::read_to_string(&file)
        .expect("config")
        .replace("viewer@control", "exec@control")
        .replace(
            &env.kubeconfig.display().to_string(),
            &kubeconfig.display().to_string(),
        );
    std::fs::write(&file, text).expect("config");
    let out = common::shopctl_live_with(
        &file,
        &state,
        &[("SHOPCTL_LOG", "debug".into())],
        &["status", "-o", "json"],
    )
    .await;
    // Read through the plugin's token (the real server's RBAC let the viewer read)...
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["shops"].as_array().map(Vec::len), Some(3), "{v}");
    // ...and nothing shopctl wrote holds it: output, errors, log, caches.
    let mut written = String::from_utf8_lossy(&out.stdout).to_string() + &stderr(&out);
    let mut dirs = vec![state.clone()];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                written.push_str(&String::from_utf8_lossy(
                    &std::fs::read(p).unwrap_or_default(),
                ));
            }
        }
    }
    assert!(!written.contains(token.as_str()), "the credential leaked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn argo_cd_applications_with_the_shopset_label_are_watched_and_others_left_alone() {
    let env = KubeEnv::get();
    env.install_crds().await;
    let ns = env.namespace("control", "argocd").await;
    let synced = |sync: &str, health: &str| json!({"sync": {"status": sync, "revision": "abc123"}, "health": {"status": health}});
    let ours = env
        .create(
            "control",
            application(&ns, "a-1", "tier-0", synced("Synced", "Healthy")),
        )
        .await;
    let mut stray = application(&ns, "x", "main", synced("Synced", "Healthy"));
    stray["metadata"]["name"] = json!("another-teams-app");
    stray["metadata"]["labels"] = json!({"team": "payments"});
    let stray = env.create("control", stray).await;
    let argo = shopctl::backends::live::config::ArgoCd {
        namespace: ns.clone(),
        ..Default::default()
    };
    let (tx, mut rx) = mpsc::channel(1024);
    let task = tokio::spawn(watch::argocd(
        env.client("control", "viewer").await,
        "ops".into(),
        argo,
        tx,
    ));
    let (mut fleet, mut problems) = (Fleet::new("live"), Vec::new());
    let source = SourceId::ArgoCd("ops".into());
    common::until_source(
        &mut rx,
        &mut fleet,
        &mut problems,
        source.clone(),
        Duration::from_secs(30),
        "the applications",
        |f, _| f.app_for("a-1").is_some(),
    )
    .await;
    let app = fleet.app_for("a-1").expect("mapped");
    assert_eq!(
        (app.sync, app.health, app.revision.as_deref()),
        (
            shopctl::domain::SyncStatus::Synced,
            shopctl::domain::HealthStatus::Healthy,
            Some("abc123")
        )
    );
    assert_eq!(
        fleet.apps.len(),
        1,
        "another team's application is not listed"
    );
    assert!(problems.is_empty(), "{problems:?}");
    // A change and a deletion arrive as they happen; the other team's changes do not.
    env.patch(
        "control",
        &stray,
        json!({"status": synced("OutOfSync", "Degraded")}),
    )
    .await;
    env.delete("control", &stray).await;
    env.patch(
        "control",
        &ours,
        json!({"status": synced("OutOfSync", "Progressing")}),
    )
    .await;
    common::until_source(
        &mut rx,
        &mut fleet,
        &mut problems,
        source.clone(),
        Duration::from_secs(30),
        "the change",
        |f, _| {
            f.app_for("a-1")
                .is_some_and(|a| a.sync == shopctl::domain::SyncStatus::OutOfSync)
        },
    )
    .await;
    env.delete("control", &ours).await;
    common::until_source(
        &mut rx,
        &mut fleet,
        &mut problems,
        source,
        Duration::from_secs(30),
        "the deletion",
        |f, _| f.apps.is_empty(),
    )
    .await;
    assert!(problems.is_empty(), "{problems:?}");
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_cluster_is_probed_through_its_context_and_one_that_stops_answering_is_unreachable() {
    use shopctl::backends::live::probe;
    use shopctl::domain::{FleetUpdate, Reachability};

    let env = KubeEnv::get();
    // Other tests keep n1 Ready on a; this one adds a Ready node and one that is not.
    env.node("a", "n1", true).await;
    env.node("a", "probe-n2", true).await;
    env.node("a", "probe-n3", false).await;
    let up = env.client("a", "viewer").await;
    let p = probe::probe(&up).await.expect("probed");
    assert!(p.version.starts_with("v1.37"), "{}", p.version);
    assert!(
        p.nodes_total >= 3 && p.nodes_ready == p.nodes_total - 1,
        "{} of {}",
        p.nodes_ready,
        p.nodes_total
    );
    // Cluster b reached through a proxy that stops letting anyone in.
    let proxy = FaultProxy::start(addr_of(&env.servers["b"])).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = kubeconfig_via(env, tmp.path(), "b", proxy.addr);
    let (k, name) = kubeconfig::load(Some(&file)).expect("kubeconfig");
    let through = kube::Client::try_from(
        kubeconfig::client_config(&k, &name, Some(&KubeEnv::context("b", "viewer")))
            .await
            .expect("context"),
    )
    .expect("client");
    proxy.refuse();
    let (tx, mut rx) = mpsc::channel(64);
    let task = tokio::spawn(probe::probe_loop(
        vec![
            ("a".into(), Ok(up)),
            ("b".into(), Ok(through)),
            (
                "c".into(),
                Err("context 'eks' is not in the kubeconfig".into()),
            ),
        ],
        Duration::from_secs(60),
        tx,
    ));
    let mut seen = std::collections::HashMap::new();
    let mut problems = std::collections::HashMap::new();
    while seen.len() < 2 || problems.len() < 2 {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
            Ok(Some(SourceEvent::Update(FleetUpdate::ClusterStatus(s)))) => {
                seen.insert(s.name.clone(), s);
            }
            Ok(Some(SourceEvent::Problem {
                source: SourceId::Cluster(c),
                message,
            })) => {
                problems.insert(c, message);
            }
            Ok(Some(_)) => {}
            _ => panic!("probes never reported: {seen:?} {problems:?}"),
        }
    }
    assert_eq!(seen["a"].reachability, Reachability::Reachable);
    assert_eq!(seen["a"].nodes_ready, seen["a"].nodes_total - 1);
    assert_eq!(seen["b"].reachability, Reachability::Unreachable);
    assert!(problems["b"].contains("no answer"), "{problems:?}");
    assert!(problems["c"].contains("eks"), "{problems:?}");
    task.abort();
    let nodes: kube::Api<k8s_openapi::api::core::v1::Node> =
        kube::Api::all(env.client("a", "admin").await);
    nodes
        .delete("probe-n3", &Default::default())
        .await
        .expect("the node that is not Ready is gone again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clusters_are_still_probed_while_the_control_plane_cannot_be_read() {
    use shopctl::backends::FleetSource;
    use shopctl::backends::live::{config::Config, source::LiveSource};
    use shopctl::domain::{FleetUpdate, Reachability};

    let env = KubeEnv::get();
    let _fleet = env.fleet().await;
    let Session {
        tmp, argocd, lock, ..
    } = session(env).await;
    // The control plane and cluster a, each behind a proxy that can shut.
    let cp = FaultProxy::start(addr_of(&env.servers["control"])).await;
    let a = FaultProxy::start(addr_of(&env.servers["a"])).await;
    let kubeconfig = kubeconfig_through(env, tmp.path(), &[("control", cp.addr), ("a", a.addr)]);
    let file = config(tmp.path(), env, "viewer", &argocd, &lock);
    let text = std::fs::read_to_string(&file).expect("config").replace(
        &env.kubeconfig.display().to_string(),
        &kubeconfig.display().to_string(),
    );
    std::fs::write(&file, text).expect("config");
    let source = LiveSource::new(Config::load(&file, None).expect("config"));
    let (tx, mut rx) = mpsc::channel(4096);
    let task = tokio::spawn(Box::new(source).watch(tx));
    let reach = async |rx: &mut mpsc::Receiver<SourceEvent>, want: Reachability| {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, rx.recv()).await {
                Ok(Some(SourceEvent::Update(FleetUpdate::ClusterStatus(s))))
                    if s.name == "a" && s.reachability == want =>
                {
                    return;
                }
                Ok(Some(_)) => {}
                _ => panic!("cluster a never read {want:?}"),
            }
        }
    };
    reach(&mut rx, Reachability::Reachable).await;
    // The control plane goes away, and then cluster a too: a is still probed through its own
    // context, and shown unreachable.
    cp.refuse();
    cp.cut();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(SourceEvent::Problem {
                source: SourceId::ControlPlane,
                ..
            })) => break,
            Ok(Some(_)) => {}
            _ => panic!("the control plane's outage was never said"),
        }
    }
    a.refuse();
    a.cut();
    reach(&mut rx, Reachability::Unreachable).await;
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_control_plane_back_from_an_outage_is_live_again_within_seconds() {
    let env = KubeEnv::get();
    let _fleet = env.fleet_on("b").await;
    env.create(
        "b",
        obj("Tier", "dev", json!({"level": 0, "branch": "tier-0"})),
    )
    .await;
    env.create("b", shop("s1", &["a-1"])).await;
    let (proxy, _tmp, task, mut rx) = watched_through_proxy(env, "b").await;
    let (mut fleet, mut problems) = (Fleet::new("live"), Vec::new());
    until(
        &mut rx,
        &mut fleet,
        &mut problems,
        "the initial list",
        |f, _| f.shops.len() == 1 && f.tiers.len() == 1,
    )
    .await;
    // An outage long enough for every watch's retries to space out as far as they go.
    proxy.refuse();
    proxy.cut();
    let down = Instant::now();
    while down.elapsed() < Duration::from_secs(25) {
        let _ = tokio::time::timeout(Duration::from_secs(1), rx.recv()).await;
    }
    // Back: live again (a heartbeat) soon, though nothing in the fleet changed to say so —
    // within the longest retry wait, the quiet time that proves a watch is back, and a probe.
    proxy.allow();
    let back = Instant::now();
    let bound = Duration::from_secs(8) + watch::RECOVERED_AFTER + Duration::from_secs(7);
    loop {
        assert!(
            back.elapsed() < bound,
            "still not live {:?} after the server came back",
            back.elapsed()
        );
        match tokio::time::timeout(Duration::from_secs(1), rx.recv()).await {
            Ok(Some(SourceEvent::Heartbeat { .. })) => break,
            Ok(None) => panic!("the watch ended"),
            _ => {}
        }
    }
    eprintln!("live again {:?} after the outage", back.elapsed());
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_write_session_runs_an_exec_plugin_once_for_all_its_stores() {
    use shopctl::backends::live::config::Config;

    let env = KubeEnv::get();
    let _fleet = env.fleet().await;
    let Session {
        tmp, argocd, lock, ..
    } = session(env).await;
    let runs = tmp.path().join("runs");
    let plugin = tmp.path().join("plugin.sh");
    let expires = shopctl::domain::Ts::now().plus_secs(3600).rfc3339();
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\necho run >> '{}'\necho '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{}\",\"expirationTimestamp\":\"{expires}\"}}}}'\n",
            runs.display(),
            env.tokens["operator"]
        ),
    )
    .expect("plugin");
    std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("executable");
    let mut k: Value =
        serde_yaml::from_str(&std::fs::read_to_string(&env.kubeconfig).expect("kubeconfig"))
            .expect("yaml");
    k["users"].as_array_mut().expect("users").push(json!({
        "name": "exec", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1", "command": plugin}}}));
    k["contexts"]
        .as_array_mut()
        .expect("contexts")
        .push(json!({"name": "exec@control", "context": {"cluster": "control", "user": "exec"}}));
    let kubeconfig = tmp.path().join("kubeconfig");
    std::fs::write(&kubeconfig, serde_yaml::to_string(&k).expect("yaml")).expect("written");
    let file = config(tmp.path(), env, "operator", &argocd, &lock);
    let text = std::fs::read_to_string(&file)
        .expect("config")
        .replace("operator@control", "exec@control")
        .replace(
            &env.kubeconfig.display().to_string(),
            &kubeconfig.display().to_string(),
        );
    std::fs::write(&file, text).expect("config");
    let runs_now = move || {
        std::fs::read_to_string(&runs)
            .unwrap_or_default()
            .lines()
            .count()
    };
    let (made, used) = {
        let config = Config::load(&file, None).expect("config");
        let holder = shopctl::ops::Holder::new_session("alice@ops");
        let ex = shopctl::backends::live::executor::executor(&config, holder)
            .await
            .expect("executor");
        let made = runs_now();
        // The Lease store, the audit's Events and the access check went through the same
        // client: taking and giving back the lock runs nothing more.
        let guard = ex
            .lock_for(shopctl::domain::Ts::now(), "a test")
            .await
            .expect("locked");
        guard.release().await.expect("released");
        (made, runs_now())
    };
    // kube runs a plugin up to three times while it makes a client; one client for every store.
    assert!(made <= 3, "{made} runs to make the session's stores");
    assert_eq!(used, made, "the stores ran the plugin again");
}

/// A release fleet on the control plane: cluster a, tiers beta (1) and prod-beta (2, with
/// `prod_beta` spec fields), one ShopSet each with its Application settled at its branch head,
/// prod-beta's sync finished `synced_ago` seconds ago. Returns the Applications.
async fn release_fleet(
    env: &KubeEnv,
    argocd: &str,
    remote: &Path,
    prod_beta: Value,
    synced_ago: i64,
) -> Vec<Value> {
    let head = |branch: &str| common::git(remote, &["rev-parse", branch]);
    env.create(
        "control",
        obj(
            "FleetCluster",
            "a",
            json!({"provider": "eks", "context": "viewer@a"}),
        ),
    )
    .await;
    env.node("a", "n1", true).await;
    env.create(
        "control",
        obj(
            "Tier",
            "beta",
            json!({"level": 1, "branch": "tier-1", "soakSeconds": 30}),
        ),
    )
    .await;
    let mut spec = json!({"level": 2, "branch": "tier-2", "soakSeconds": 300});
    if let (Some(s), Some(extra)) = (spec.as_object_mut(), prod_beta.as_object()) {
        s.extend(extra.clone());
    }
    env.create("control", obj("Tier", "prod-beta", spec)).await;
    let finished = |ago: i64| shopctl::domain::Ts::now().plus_secs(-ago).rfc3339();
    let mut apps = Vec::new();
    for (set, tier, branch, ago) in [
        ("a-1", "beta", "tier-1", 3600),
        ("a-2", "prod-beta", "tier-2", synced_ago),
    ] {
        env.create(
            "control",
            obj(
                "ShopSet",
                set,
                json!({"tier": tier, "configuration": "production", "cluster": "a", "capacity": 10}),
            ),
        )
        .await;
        let revision = head(branch);
        let status = json!({"sync": {"status": "Synced", "revision": revision},
               "health": {"status": "Healthy"},
               "operationState": {"phase": "Succeeded", "startedAt": finished(ago + 9),
                                  "finishedAt": finished(ago),
                                  "operation": {"sync": {"revision": revision}},
                                  "syncResult": {"revision": revision}}});
        apps.push(
            env.create("control", application(argocd, set, branch, status))
                .await,
        );
    }
    apps
}

/// `config`'s text with the control plane (and Argo CD) reached as `user`, its own cache.
fn config_as(file: &Path, user: &str, dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(file)
        .expect("config")
        .replace(
            &KubeEnv::context("control", "operator"),
            &KubeEnv::context("control", user),
        )
        .replace("cache/system.git", &format!("cache-{user}/system.git"));
    let out = dir.join(format!("config-{user}.toml"));
    std::fs::write(&out, text).expect("config");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halts_and_approvals_are_the_api_servers_identities_and_rbac_decides_who_approves() {
    let env = KubeEnv::get();
    let _fleet = env.fleet().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let argocd = env.namespace("control", "argocd").await;
    let lock = env.namespace("control", "lock").await;
    let operator = config(tmp.path(), env, "operator", &argocd, &lock);
    let approver = config_as(&operator, "approver", tmp.path());
    let viewer = config_as(&operator, "viewer", tmp.path());
    let remote = tmp.path().join("demo/git/system.git");
    release_fleet(
        env,
        &argocd,
        &remote,
        json!({"approval": "second-person"}),
        3600,
    )
    .await;
    let state = tmp.path().join("state");
    let run = async |file: &Path, args: &[&str]| common::shopctl_live(file, &state, args).await;
    // Alertmanager does not answer here: every step overrides no_alerts with a reason.
    let step = [
        "release",
        "step",
        "--tier",
        "prod-beta",
        "--yes",
        "--override-reason",
        "alerting is down",
    ];

    // A halt: by the API server's identity, not $SHOPCTL_OPERATOR (alice@ops).
    let out = run(
        &operator,
        &["release", "halt", "--reason", "incident", "--yes"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let halt = obj("Halt", "fleet", json!({}));
    let stored = env.read("control", &halt).await.expect("the Halt object");
    assert_eq!(stored["spec"]["by"], "operator");
    assert_eq!(stored["spec"]["reason"], "incident");
    let out = run(&operator, &step).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("not_halted"), "{}", stderr(&out));
    // The viewer may not lift it (RBAC, asked before anything is written).
    let out = run(&viewer, &["release", "resume", "--reason", "x", "--yes"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(env.read("control", &halt).await.is_some());
    let out = run(
        &operator,
        &["release", "resume", "--reason", "over", "--yes"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(env.read("control", &halt).await.is_none());

    // prod-beta asks for a second person.
    let out = run(&operator, &step).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("approved"), "{}", stderr(&out));
    let out = run(
        &operator,
        &["release", "request", "--tier", "prod-beta", "--yes"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The operator may not approve at all: approving is writing releaserequests/status.
    let out = run(
        &operator,
        &["release", "approve", "--tier", "prod-beta", "--yes"],
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("releaserequests/status"),
        "{}",
        stderr(&out)
    );
    // The admission policy of `shopctl crds`: nobody writes another's name.
    let as_user = async |user: &str, kind: &str| {
        kube::Api::<kube::api::DynamicObject>::all_with(
            env.client("control", user).await,
            &kube_env::resource("shopset.dev/v1alpha1", kind),
        )
    };
    let forged: kube::api::DynamicObject = serde_json::from_value(obj(
        "ReleaseRequest",
        "forged",
        json!({"tier": "prod-beta", "to": {"id": "x"}, "requestedBy": "approver",
               "requestedAt": "2026-01-01T00:00:00Z"}),
    ))
    .expect("object");
    let refused = as_user("operator", "ReleaseRequest")
        .await
        .create(&kube::api::PostParams::default(), &forged)
        .await
        .expect_err("a request in another's name is refused");
    assert!(
        refused.to_string().contains("your own user name"),
        "{refused}"
    );
    let halt_as_other: kube::api::DynamicObject = serde_json::from_value(obj(
        "Halt",
        "fleet",
        json!({"reason": "x", "by": "approver", "at": "2026-01-01T00:00:00Z"}),
    ))
    .expect("object");
    assert!(
        as_user("operator", "Halt")
            .await
            .create(&kube::api::PostParams::default(), &halt_as_other)
            .await
            .is_err(),
        "a halt in another's name is refused"
    );
    let as_approver = as_user("approver", "ReleaseRequest").await;
    let name = as_approver
        .list(&kube::api::ListParams::default())
        .await
        .expect("requests")
        .items[0]
        .metadata
        .name
        .clone()
        .expect("a name");
    let pp = kube::api::PatchParams::default();
    let as_someone = as_approver
        .patch_status(
            &name,
            &pp,
            &kube::api::Patch::Merge(json!({"status": {"approvedBy": "someone-else"}})),
        )
        .await
        .expect_err("an approval in another's name is refused");
    assert!(
        as_someone.to_string().contains("second person"),
        "{as_someone}"
    );

    let out = run(
        &approver,
        &["release", "approve", "--tier", "prod-beta", "--yes"],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // Approved once: not changed after.
    assert!(
        as_approver
            .patch_status(
                &name,
                &pp,
                &kube::api::Patch::Merge(json!({"status": {"approvedAt": "2030-01-01T00:00:00Z"}})),
            )
            .await
            .is_err(),
        "an approval cannot be changed"
    );
    let requests = env.client("control", "admin").await;
    let api: kube::Api<kube::api::DynamicObject> = kube::Api::all_with(
        requests,
        &kube_env::resource("shopset.dev/v1alpha1", "ReleaseRequest"),
    );
    let list = api
        .list(&kube::api::ListParams::default())
        .await
        .expect("requests");
    let r = serde_json::to_value(&list.items[0]).expect("json");
    assert_eq!(r["spec"]["requestedBy"], "operator");
    assert_eq!(r["status"]["approvedBy"], "approver");

    let before = common::git(&remote, &["rev-parse", "tier-2"]);
    let out = run(&operator, &step).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_ne!(common::git(&remote, &["rev-parse", "tier-2"]), before);
    // Requests and approvals are evented on the Tier.
    let events: kube::Api<k8s_openapi::api::events::v1::Event> =
        kube::Api::namespaced(env.client("control", "admin").await, "default");
    let reasons: Vec<String> = events
        .list(&kube::api::ListParams::default())
        .await
        .expect("events")
        .items
        .into_iter()
        .filter(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some("prod-beta"))
        .filter_map(|e| e.reason)
        .collect();
    for want in ["RequestApproval", "Approve", "Promote"] {
        assert!(reasons.iter().any(|r| r == want), "{want} in {reasons:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prometheus_series_gone_bad_during_the_soak_rolls_the_tier_back_end_to_end() {
    let env = KubeEnv::get();
    let _fleet = env.fleet().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let argocd = env.namespace("control", "argocd").await;
    let lock = env.namespace("control", "lock").await;
    let file = config(tmp.path(), env, "operator", &argocd, &lock);
    let remote = tmp.path().join("demo/git/system.git");
    // prod-beta received its release 20 s ago and soaks 300 s; a-2 serves it.
    let apps = release_fleet(env, &argocd, &remote, json!({"autoRollback": true}), 20).await;
    let values: prometheus_env::Values =
        std::sync::Arc::new(std::sync::Mutex::new(vec![("a-2".into(), 0.002)]));
    let target = prometheus_env::exporter(std::sync::Arc::clone(&values)).await;
    let prom = prometheus_env::start(target).await;
    let text = std::fs::read_to_string(&file).expect("config");
    std::fs::write(
        &file,
        format!(
            "{text}[prometheus]\nurl = \"{}\"\ninterval_secs = 1\n[[verification]]\nname = \"checkout-errors\"\nquery = 'max by (shopset) (checkout_error_ratio{{shopset=~\"{{shopsets}}\"}})'\ncompare = \"<\"\nthreshold = 0.01\n",
            prom.url
        ),
    )
    .expect("config");
    let state = tmp.path().join("state");
    let before = common::git(&remote, &["rev-parse", "tier-2"]);
    let watch = || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_shopctl"));
        for v in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] {
            c.env_remove(v);
        }
        c.env("XDG_STATE_HOME", &state)
            .env("SHOPCTL_OPERATOR", "release-watcher")
            .arg("--config")
            .arg(&file)
            .args(["release", "watch", "--interval", "1"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        c.spawn().expect("the watcher starts")
    };
    // Good: once prod-beta is measured (holding, samples in), a whole look does nothing.
    // Looked at again after each scrape, a minute of them at most.
    let mut scrapes = prom.scrapes.clone();
    for scraped in 0.. {
        let out = common::shopctl_live(&file, &state, &["release", "status", "-o", "json"]).await;
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let measured = v["tiers"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["name"] == "prod-beta"))
            .map(|t| t["verification"]["checks"][0]["status"].clone());
        if measured == Some(json!("holding")) {
            break;
        }
        assert!(scraped < 60, "measured within 60 scrapes: {v}");
        scrapes.next(Duration::from_secs(10)).await;
    }
    let out = common::shopctl_live_with(
        &file,
        &state,
        &[("SHOPCTL_OPERATOR", "release-watcher".into())],
        &["release", "watch", "--once"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(common::git(&remote, &["rev-parse", "tier-2"]), before);

    // The series goes bad; the watcher says it rolled prod-beta back.
    let mut watcher = watch();
    let (said_tx, mut said_rx) = mpsc::unbounded_channel::<String>();
    let stdout = watcher.stdout.take().expect("stdout piped");
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if said_tx.send(line).is_err() {
                return;
            }
        }
    });
    values.lock().expect("values")[0].1 = 0.08;
    let bad_at = Instant::now();
    let mut said = String::new();
    while !said.contains("rolled back 'prod-beta'") {
        match tokio::time::timeout(Duration::from_secs(60), said_rx.recv()).await {
            Ok(Some(line)) => said.push_str(&(line + "\n")),
            _ => panic!("rolled back within 60 s; the watcher said:\n{said}"),
        }
    }
    let took = bad_at.elapsed();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &watcher.id().to_string()])
        .status();
    let out = tokio::task::spawn_blocking(move || watcher.wait_with_output())
        .await
        .expect("joined")
        .expect("the watcher ends");
    assert!(out.status.success(), "{said}{}", stderr(&out));
    eprintln!("rolled back {took:?} after the series went bad");
    let after = common::git(&remote, &["rev-parse", "tier-2"]);
    let msg = common::git(&remote, &["log", "-1", "--format=%B", "tier-2"]);
    assert!(
        msg.contains("Roll back prod-beta")
            && msg.contains("Cause: verification failed: checkout-errors on 'prod-beta' was 0.08"),
        "{msg}"
    );
    // Argo CD asked to sync exactly the rollback commit; the audit line; the tier halted and
    // the release marked failed there.
    let now = env.read("control", &apps[1]).await.expect("application");
    assert_eq!(now["operation"]["sync"]["revision"], json!(after), "{now}");
    let audit = std::fs::read_to_string(state.join("shopctl/audit.jsonl")).expect("audited");
    let pushed = audit
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["action"] == "rollback" && l["result"] == "pushed")
        .expect("the rollback audited");
    assert_eq!(pushed["operator"], "release-watcher");
    assert!(
        pushed["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("0.08")
    );
    let halt = env
        .read("control", &obj("Halt", "tier-prod-beta", json!({})))
        .await
        .expect("prod-beta halted");
    assert!(
        halt["spec"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("automatically")
    );
    let failed = env
        .read("control", &obj("Halt", "failed-prod-beta", json!({})))
        .await
        .expect("the release marked failed");
    assert_eq!(
        failed["spec"]["revision"]["id"].as_str().map(|s| s.len()),
        Some(40)
    );
    assert!(said.contains("rolled back 'prod-beta'"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gating_alert_from_alertmanager_during_the_soak_rolls_the_tier_back() {
    let env = KubeEnv::get();
    let _fleet = env.fleet().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let argocd = env.namespace("control", "argocd").await;
    let lock = env.namespace("control", "lock").await;
    let file = config(tmp.path(), env, "operator", &argocd, &lock);
    let am = alertmanager_env::start().await;
    let text = std::fs::read_to_string(&file)
        .expect("config")
        .replace("http://127.0.0.1:1", &am.url);
    std::fs::write(&file, text).expect("config");
    let remote = tmp.path().join("demo/git/system.git");
    release_fleet(env, &argocd, &remote, json!({"autoRollback": true}), 20).await;
    let state = tmp.path().join("state");
    let before = common::git(&remote, &["rev-parse", "tier-2"]);
    let watch = |state: &Path| {
        let state = state.to_path_buf();
        let file = file.clone();
        async move {
            common::shopctl_live_with(
                &file,
                &state,
                &[("SHOPCTL_OPERATOR", "release-watcher".into())],
                &["release", "watch", "--once"],
            )
            .await
        }
    };
    // Quiet: a look changes nothing.
    let out = watch(&state).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(common::git(&remote, &["rev-parse", "tier-2"]), before);

    // A critical alert on prod-beta's ShopSet, posted to the real Alertmanager.
    let http = shopctl::backends::live::http::HttpClient::new(
        &am.url,
        shopctl::backends::live::http::Auth::None,
        None,
    )
    .expect("client");
    let now = shopctl::domain::Ts::now().rfc3339();
    http.post_json(
        "/api/v2/alerts",
        format!(
            r#"[{{"labels": {{"alertname": "CheckoutErrorRateHigh", "severity": "critical", "shopset": "a-2"}},
                 "annotations": {{"summary": "checkout 5xx above 5%"}}, "startsAt": "{now}"}}]"#
        )
        .into_bytes(),
    )
    .await
    .expect("alert posted");
    let deadline = Instant::now() + Duration::from_secs(60);
    while common::git(&remote, &["rev-parse", "tier-2"]) == before {
        assert!(Instant::now() < deadline, "rolled back within 60 s");
        let out = watch(&state).await;
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let msg = common::git(&remote, &["log", "-1", "--format=%B", "tier-2"]);
    assert!(
        msg.contains("Cause: alert CheckoutErrorRateHigh (critical) fires on shopset=a-2"),
        "{msg}"
    );
    // The tier waits for a person; the next look does nothing more.
    assert!(
        env.read("control", &obj("Halt", "tier-prod-beta", json!({})))
            .await
            .is_some()
    );
    let after = common::git(&remote, &["rev-parse", "tier-2"]);
    let out = watch(&state).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(common::git(&remote, &["rev-parse", "tier-2"]), after);
}
