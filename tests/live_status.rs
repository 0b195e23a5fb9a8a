//! `shopctl --config FILE` end to end through the binary against the fake API server, for what a
//! real one cannot do on demand or does not report: the table `status` prints over a fleet of
//! every kind of object, a slow and a frozen server, how many list requests a snapshot makes.
//! Everything a real server can serve runs against one in `tests/live_apiserver.rs`.

mod common;
#[path = "support/fake_kube.rs"]
mod fake_kube;

use fake_kube::FakeKube;
use serde_json::{Value, json};
use shopctl::backends::demo::{DemoFleet, Scenario};

fn seed(fake: &FakeKube) {
    for c in ["a", "b", "c"] {
        fake.put(
            "fleetclusters",
            "FleetCluster",
            json!({"metadata": {"name": c}, "spec": {"provider": "eks", "context": "ops"}}),
        );
    }
    for (name, level) in [("dev", 0), ("beta", 1)] {
        fake.put(
            "tiers",
            "Tier",
            json!({"metadata": {"name": name}, "spec": {"level": level, "branch": format!("tier-{level}"), "soakSeconds": 30}}),
        );
    }
    for (s, t, c) in [
        ("a-1", "dev", "a"),
        ("b-1", "dev", "b"),
        ("c-1", "beta", "c"),
    ] {
        fake.put(
            "shopsets",
            "ShopSet",
            json!({"metadata": {"name": s}, "spec": {"tier": t, "configuration": "staging", "cluster": c, "capacity": 10}}),
        );
        fake.put_as(
            "argoproj.io/v1alpha1",
            "applications",
            "Application",
            json!({"metadata": {"name": format!("shopset-{s}"), "namespace": "argocd",
                                "labels": {"shopset.dev/shopset": s}},
                   "status": {"sync": {"status": "Synced", "revision": "r1"},
                              "health": {"status": "Healthy"}}}),
        );
    }
    fake.put(
        "shops",
        "Shop",
        json!({"metadata": {"name": "maple-bakery"}, "spec": {"redundancy": "dual", "shopSets": ["a-1", "b-1"]}}),
    );
    fake.node("n1", true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_of_a_live_fleet() {
    let fake = FakeKube::start("shopset.dev", "v1alpha1").await;
    seed(&fake);
    let tmp = tempfile::tempdir().expect("tempdir");
    let kubeconfig = fake.kubeconfig(tmp.path(), "ops", "canary-token-live");
    // The system repository: the demo's real remote, over a local path.
    let demo_dir = tmp.path().join("demo");
    DemoFleet::open(&common::demo_options(&demo_dir, 300, Scenario::Calm)).expect("demo");
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let config = tmp.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[control_plane]\ncontext = \"ops\"\nkubeconfig = \"{}\"\n[alertmanager]\nurl = \"http://127.0.0.1:{dead}\"\n[git]\nremote = \"{}\"\ncache = \"{}\"\n",
            kubeconfig.display(),
            demo_dir.join("git/system.git").display(),
            tmp.path().join("cache/system.git").display()
        ),
    )
    .expect("config");
    let bin = assert_cmd::cargo::cargo_bin("shopctl");
    let cfg = config.clone();
    let state = tmp.path().join("state");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(bin)
            .env("XDG_STATE_HOME", &state)
            .arg("--config")
            .arg(&cfg)
            .args(["status", "-o", "json"])
            .output()
            .expect("runs")
    })
    .await
    .expect("joined");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["clusters"].as_array().map(Vec::len), Some(3));
    assert_eq!(v["clusters"][0]["reachable"], true);
    assert_eq!(v["shopsets"].as_array().map(Vec::len), Some(3));
    assert_eq!(v["shops"][0]["shopsets"], json!(["a-1", "b-1"]));
    assert_eq!(v["apps"].as_array().map(Vec::len), Some(3));
    assert!(
        v["tiers"][0]["revision_tag"].as_str().is_some(),
        "revisions named by the app repository: {}",
        v["tiers"]
    );
    assert!(
        v["alerts_unknown"]
            .as_str()
            .is_some_and(|w| w.contains(&dead.to_string())),
        "{}",
        v["alerts_unknown"]
    );
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        !text.contains("canary-token-live"),
        "a credential was printed"
    );
}

/// A config for the fake server and the demo's remote.
fn live_config(fake: &FakeKube, dir: &std::path::Path) -> std::path::PathBuf {
    let kubeconfig = fake.kubeconfig(dir, "ops", "t");
    common::live_config(dir, &kubeconfig, "http://127.0.0.1:1", "")
}

/// Clusters a, b and c with a dev ShopSet each; s1 and s2 on b-1, d1 on a-1 and b-1.
fn three_clusters(fake: &FakeKube) {
    for c in ["a", "b", "c"] {
        fake.put(
            "fleetclusters",
            "FleetCluster",
            json!({"metadata": {"name": c}, "spec": {"provider": "eks", "context": "ops"}}),
        );
        fake.put(
            "shopsets",
            "ShopSet",
            json!({"metadata": {"name": format!("{c}-1")}, "spec": {"tier": "dev", "configuration": "staging", "cluster": c, "capacity": 10}}),
        );
    }
    fake.put(
        "tiers",
        "Tier",
        json!({"metadata": {"name": "dev"}, "spec": {"level": 0, "branch": "tier-0", "soakSeconds": 30}}),
    );
    for (n, on) in [
        ("s1", vec!["b-1"]),
        ("s2", vec!["b-1"]),
        ("d1", vec!["a-1", "b-1"]),
    ] {
        fake.put(
            "shops",
            "Shop",
            json!({"metadata": {"name": n}, "spec": {"redundancy": if on.len() == 2 { "dual" } else { "single" }, "shopSets": on}}),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_api_server_is_waited_for_and_a_frozen_one_is_named_in_bounded_time() {
    let fake = FakeKube::start("shopset.dev", "v1alpha1").await;
    three_clusters(&fake);
    fake.node("n1", true);
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = live_config(&fake, tmp.path());
    let state = tmp.path().join("state");
    // Every answer takes 300 ms (a long way round): slower, still complete.
    fake.slow(std::time::Duration::from_millis(300));
    let out = common::shopctl_live(&config, &state, &["status", "-o", "json"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["shops"].as_array().map(Vec::len), Some(3));
    // Nothing answers at all: a clear error naming the control plane, not a hang.
    fake.freeze();
    let started = std::time::Instant::now();
    let out = common::shopctl_live(&config, &state, &["status", "-o", "json"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("within 30 s"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    fake.thaw();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_reads_every_list_in_pages() {
    let fake = FakeKube::start("shopset.dev", "v1alpha1").await;
    three_clusters(&fake);
    fake.node("n1", true);
    for i in 0..12_000 {
        fake.put(
            "shops",
            "Shop",
            json!({"metadata": {"name": format!("paged-{i}")}, "spec": {"redundancy": "single", "shopSets": ["a-1"]}}),
        );
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = live_config(&fake, tmp.path());
    let out = common::shopctl_live(
        &config,
        &tmp.path().join("state"),
        &["status", "-o", "json"],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["shops"].as_array().map(Vec::len), Some(12_003));
    // 12,003 shops in pages of 5,000: three answers, none holding the whole list.
    assert_eq!(fake.lists("shops"), 3, "the shops were not read in pages");
}
