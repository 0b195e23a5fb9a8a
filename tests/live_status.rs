//! `shopctl --config FILE` end to end through the binary: the fake API server as control plane,
//! Argo CD and workload clusters, the demo's real git remote as the system repository, and an
//! Alertmanager that does not answer.

mod common;
#[path = "support/fake_kube.rs"]
mod fake_kube;

use assert_cmd::Command;
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
async fn status_of_a_live_fleet_and_writes_refused_in_this_build() {
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

    let cfg = config.clone();
    let refused = tokio::task::spawn_blocking(move || {
        Command::cargo_bin("shopctl")
            .expect("binary")
            .arg("--config")
            .arg(&cfg)
            .args(["reassign", "maple-bakery", "--to", "a-1,c-1", "--yes"])
            .output()
            .expect("runs")
    })
    .await
    .expect("joined");
    assert_eq!(refused.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("read-only in this build"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exec_credential_plugin_is_used_and_its_token_never_appears_anywhere() {
    let canary = "canary-exec-5d1c9";
    let fake = FakeKube::start("shopset.dev", "v1alpha1").await;
    seed(&fake);
    fake.require_token(canary);
    let tmp = tempfile::tempdir().expect("tempdir");
    let kubeconfig = fake.kubeconfig_exec(tmp.path(), "eks-prod", canary);
    let demo_dir = tmp.path().join("demo");
    DemoFleet::open(&common::demo_options(&demo_dir, 300, Scenario::Calm)).expect("demo");
    let config = tmp.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[control_plane]\nkubeconfig = \"{}\"\n[alertmanager]\nurl = \"http://127.0.0.1:1\"\n[git]\nremote = \"{}\"\ncache = \"{}\"\n",
            kubeconfig.display(),
            demo_dir.join("git/system.git").display(),
            tmp.path().join("cache/system.git").display()
        ),
    )
    .expect("config");
    let state = tmp.path().join("state");
    let (bin, cfg, st) = (
        assert_cmd::cargo::cargo_bin("shopctl"),
        config.clone(),
        state.clone(),
    );
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(bin)
            .env("XDG_STATE_HOME", &st)
            .env("SHOPCTL_LOG", "debug")
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
    assert!(
        fake.seen_auth()
            .iter()
            .any(|a| a == &format!("Bearer {canary}")),
        "the plugin's token was sent"
    );
    // Nothing shopctl wrote holds the token: output, errors, log, caches.
    let mut written =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    for entry in walk(&state) {
        written.push_str(&String::from_utf8_lossy(
            &std::fs::read(entry).unwrap_or_default(),
        ));
    }
    assert!(!written.contains(canary), "the credential leaked");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
