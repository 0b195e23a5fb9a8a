//! `shopctl --config FILE` end to end through the binary: the fake API server as control plane,
//! Argo CD and workload clusters, the demo's real git remote as the system repository, and an
//! Alertmanager that does not answer.

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
async fn a_write_the_credentials_may_not_make_is_refused_before_anything_is_written() {
    let fake = FakeKube::start("shopset.dev", "v1alpha1").await;
    three_clusters(&fake);
    fake.node("n1", true);
    fake.forbid("patch", "shops");
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = live_config(&fake, tmp.path());
    let state = tmp.path().join("state");
    let out = common::shopctl_live(&config, &state, &["drain", "b", "--yes"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("not permitted") && stderr.contains("patch shops.shopset.dev"),
        "{stderr}"
    );
    // Not even the cordon (which may be written) went out, and no Lease was taken.
    assert!(fake.patches().is_empty(), "{:?}", fake.patches());
    assert!(fake.get("leases", "shopctl-release").is_none());
    assert!(fake.all("leases").is_empty());
    // Reading is still allowed.
    let status = common::shopctl_live(&config, &state, &["status", "-o", "json"]).await;
    assert!(status.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_drain_and_restore_patch_the_objects_under_the_lease_and_are_audited() {
    let fake = FakeKube::start("shopset.dev", "v1alpha1").await;
    three_clusters(&fake);
    fake.node("n1", true);
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = live_config(&fake, tmp.path());
    let state = tmp.path().join("state");

    let out = common::shopctl_live(&config, &state, &["drain", "b", "--yes"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for n in ["s1", "s2", "d1"] {
        let s = fake.get("shops", n).expect("shop");
        let on: Vec<String> = serde_json::from_value(s["spec"]["shopSets"].clone()).expect("sets");
        assert!(!on.contains(&"b-1".to_string()), "{n} still on b-1: {on:?}");
        assert!(
            s["metadata"]["annotations"]["shopset.dev/drain"].is_string(),
            "{s}"
        );
    }
    assert_eq!(
        fake.get("fleetclusters", "b").expect("b")["spec"]["unschedulable"],
        true
    );
    assert!(
        fake.get("leases", "shopctl-release").is_none(),
        "the Lease was given back"
    );
    let audit = std::fs::read_to_string(state.join("shopctl/audit.jsonl")).expect("audited");
    assert!(
        audit.contains("\"cordon\"") && audit.contains("\"drain batch\""),
        "{audit}"
    );

    let out = common::shopctl_live(&config, &state, &["restore", "b", "--yes"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        fake.get("shops", "d1").expect("d1")["spec"]["shopSets"],
        json!(["a-1", "b-1"])
    );
    assert_eq!(
        fake.get("fleetclusters", "b").expect("b")["spec"]["unschedulable"],
        false
    );
    assert!(
        fake.get("shops", "s1").expect("s1")["metadata"]["annotations"]
            .get("shopset.dev/drain")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_release_step_pushes_to_the_remote_and_asks_argo_cd_to_sync_the_tier() {
    let fake = FakeKube::start("shopset.dev", "v1alpha1").await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = live_config(&fake, tmp.path());
    let remote = tmp.path().join("demo/git/system.git");
    let head = |branch: &str| common::git(&remote, &["rev-parse", branch]);
    fake.put(
        "fleetclusters",
        "FleetCluster",
        json!({"metadata": {"name": "a"}, "spec": {"provider": "eks", "context": "ops"}}),
    );
    for (name, level) in [("beta", 1), ("prod-beta", 2)] {
        fake.put(
            "tiers",
            "Tier",
            json!({"metadata": {"name": name}, "spec": {"level": level, "branch": format!("tier-{level}"), "soakSeconds": 30}}),
        );
    }
    // beta has settled at its branch head long ago; prod-beta runs the older release.
    let beta_head = head("tier-1");
    for (set, tier, revision) in [
        ("a-1", "beta", beta_head.clone()),
        ("a-2", "prod-beta", head("tier-2")),
    ] {
        fake.put(
            "shopsets",
            "ShopSet",
            json!({"metadata": {"name": set}, "spec": {"tier": tier, "configuration": "production", "cluster": "a", "capacity": 10}}),
        );
        fake.put_as(
            "argoproj.io/v1alpha1",
            "applications",
            "Application",
            json!({"metadata": {"name": format!("shopset-{set}"), "namespace": "argocd",
                                "labels": {"shopset.dev/shopset": set}},
                   "status": {"sync": {"status": "Synced", "revision": revision},
                              "health": {"status": "Healthy"},
                              "operationState": {"phase": "Succeeded", "finishedAt": "2026-01-01T00:00:00Z"}}}),
        );
    }
    // A second prod-beta ShopSet whose Application is busy with an operation of its own.
    fake.put(
        "shopsets",
        "ShopSet",
        json!({"metadata": {"name": "a-3"}, "spec": {"tier": "prod-beta", "configuration": "production", "cluster": "a", "capacity": 10}}),
    );
    fake.put_as(
        "argoproj.io/v1alpha1",
        "applications",
        "Application",
        json!({"metadata": {"name": "shopset-a-3", "namespace": "argocd",
                            "labels": {"shopset.dev/shopset": "a-3"}},
               "status": {"sync": {"status": "Synced", "revision": head("tier-2")},
                          "health": {"status": "Healthy"},
                          "operationState": {"phase": "Running", "startedAt": "2026-01-01T00:00:00Z"}}}),
    );
    fake.node("n1", true);
    let before = head("tier-2");
    let state = tmp.path().join("state");
    // Alertmanager does not answer: the alert condition fails and needs a reason.
    let refused = common::shopctl_live(
        &config,
        &state,
        &["release", "step", "--tier", "prod-beta", "--yes"],
    )
    .await;
    assert_eq!(
        refused.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(head("tier-2"), before, "nothing pushed");
    let out = common::shopctl_live(
        &config,
        &state,
        &[
            "release",
            "step",
            "--tier",
            "prod-beta",
            "--yes",
            "--override-reason",
            "alerting is down, checked by hand",
        ],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = head("tier-2");
    assert_ne!(after, before, "pushed to the remote");
    // prod-beta's Application was asked to sync exactly the pushed commit; beta's was not.
    let patches = fake.patches();
    let synced: Vec<&(String, String, String, serde_json::Value)> = patches
        .iter()
        .filter(|(p, _, _, _)| p == "applications")
        .collect();
    assert_eq!(synced.len(), 1, "{synced:?}");
    assert_eq!(synced[0].1, "shopset-a-2");
    assert_eq!(synced[0].3["operation"]["sync"]["revision"], json!(after));
    assert_eq!(
        synced[0].3["operation"]["initiatedBy"]["username"],
        "alice@ops"
    );
    assert!(
        fake.get("leases", "shopctl-release").is_none(),
        "the Lease was given back"
    );
    let audit = std::fs::read_to_string(state.join("shopctl/audit.jsonl")).expect("audited");
    assert!(
        audit.contains("\"pushed\"") && audit.contains("alerting is down"),
        "{audit}"
    );
    // The busy Application was not asked; the operator is told, and so is the audit log.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning") && stderr.contains("'shopset-a-3'"),
        "{stderr}"
    );
    assert!(audit.contains("'shopset-a-3'"), "{audit}");
}

/// The demo fleet, half-way through a drain, exported and loaded into the fake API server:
/// live mode shows the same clusters, tiers, ShopSets, shops and apps as the demo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exported_demo_fleet_reads_the_same_in_live_mode() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let demo_dir = tmp.path().join("demo");
    DemoFleet::open(&common::demo_options(&demo_dir, 300, Scenario::Calm)).expect("demo");
    let run_demo = |args: &[&str]| {
        let (dir, args) = (
            demo_dir.clone(),
            args.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        );
        let state = tmp.path().join("demo-state");
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(assert_cmd::cargo::cargo_bin("shopctl"))
                .env("XDG_STATE_HOME", &state)
                .arg("--demo")
                .arg("--demo-dir")
                .arg(&dir)
                .args(&args)
                .output()
                .expect("runs")
        })
    };
    // A drain leaves cordons, drain ids and previous placements to carry over.
    let drained = run_demo(&["drain", "c", "--yes"]).await.expect("joined");
    assert!(
        drained.status.success(),
        "{}",
        String::from_utf8_lossy(&drained.stderr)
    );
    let out = run_demo(&["export", "--with-status"])
        .await
        .expect("joined");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = String::from_utf8(out.stdout).expect("utf-8");

    let fake = FakeKube::start("shopset.dev", "v1alpha1").await;
    fake.node("n1", true);
    let mut kinds = std::collections::BTreeMap::new();
    for doc in serde_yaml::Deserializer::from_str(&yaml) {
        let mut object: Value =
            serde::Deserialize::deserialize(doc).expect("every document is an object");
        // Each workload cluster is reached through the one context of the fake server.
        if object["kind"] == "FleetCluster" {
            assert!(object["spec"].get("context").is_none(), "{object}");
            object["spec"]["context"] = Value::from("ops");
        }
        let kind = object["kind"].as_str().expect("kind").to_string();
        let api = object["apiVersion"]
            .as_str()
            .expect("apiVersion")
            .to_string();
        let (plural, kind): (&str, &'static str) = match kind.as_str() {
            "Tier" => ("tiers", "Tier"),
            "FleetCluster" => ("fleetclusters", "FleetCluster"),
            "ShopSet" => ("shopsets", "ShopSet"),
            "Shop" => ("shops", "Shop"),
            "Application" => ("applications", "Application"),
            other => panic!("unexpected kind {other}"),
        };
        *kinds.entry(kind).or_insert(0) += 1;
        fake.put_as(&api, plural, kind, object);
    }
    assert_eq!(kinds.len(), 5, "{kinds:?}");

    let config = live_config(&fake, tmp.path());
    let state = tmp.path().join("state");
    let live = common::shopctl_live(&config, &state, &["status", "-o", "json"]).await;
    assert!(
        live.status.success(),
        "{}",
        String::from_utf8_lossy(&live.stderr)
    );
    let live: Value = serde_json::from_slice(&live.stdout).expect("json");
    let out = run_demo(&["status", "-o", "json"]).await.expect("joined");
    let demo: Value = serde_json::from_slice(&out.stdout).expect("json");

    let pick = common::status_rows;
    for &(list, fields) in common::SAME_IN_BOTH_MODES {
        let (d, l) = (pick(&demo, list, fields), pick(&live, list, fields));
        assert!(
            !d.is_empty() || list == "unfinished_drains",
            "the demo has {list}"
        );
        assert_eq!(d, l, "{list} differ");
    }
    // The drain's records came along: restoring in either puts every shop back the same way.
    let restored = run_demo(&["restore", "c", "--yes"]).await.expect("joined");
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let restored = common::shopctl_live(&config, &state, &["restore", "c", "--yes"]).await;
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let live = common::shopctl_live(&config, &state, &["status", "-o", "json"]).await;
    let live: Value = serde_json::from_slice(&live.stdout).expect("json");
    let out = run_demo(&["status", "-o", "json"]).await.expect("joined");
    let demo: Value = serde_json::from_slice(&out.stdout).expect("json");
    let fields = &["name", "shopsets"][..];
    assert_eq!(pick(&demo, "shops", fields), pick(&live, "shops", fields));
    let on_c = |v: &Value| {
        v["shopsets"]
            .as_array()
            .expect("shopsets")
            .iter()
            .filter(|s| s["cluster"] == "c")
            .map(|s| s["shop_count"].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    assert!(on_c(&live) > 0, "shops are back on c");
    assert_eq!(
        pick(&demo, "clusters", &["name", "cordoned"][..]),
        pick(&live, "clusters", &["name", "cordoned"][..])
    );
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
async fn a_live_drain_killed_midway_resumes_from_the_cluster() {
    let fake = FakeKube::start("shopset.dev", "v1alpha1").await;
    three_clusters(&fake);
    // Room for 600 more shops on b-1's neighbours, and 600 shops on b-1: three batches.
    for c in ["a", "c"] {
        fake.put(
            "shopsets",
            "ShopSet",
            json!({"metadata": {"name": format!("{c}-1")}, "spec": {"tier": "dev", "configuration": "staging", "cluster": c, "capacity": 1000}}),
        );
    }
    fake.put(
        "shopsets",
        "ShopSet",
        json!({"metadata": {"name": "b-1"}, "spec": {"tier": "dev", "configuration": "staging", "cluster": "b", "capacity": 1000}}),
    );
    for i in 0..600 {
        fake.put(
            "shops",
            "Shop",
            json!({"metadata": {"name": format!("m{i:03}")}, "spec": {"redundancy": "single", "shopSets": ["b-1"]}}),
        );
    }
    fake.node("n1", true);
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = live_config(&fake, tmp.path());
    let state = tmp.path().join("state");
    // Slow enough to be caught mid-way: every answer takes 10 ms.
    fake.slow(std::time::Duration::from_millis(10));
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("shopctl"))
        .env("XDG_STATE_HOME", &state)
        .env("SHOPCTL_OPERATOR", "alice@ops")
        .arg("--config")
        .arg(&config)
        .args(["drain", "b", "--yes"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("drain starts");
    let moved = |fake: &FakeKube| {
        fake.patches()
            .iter()
            .filter(|(p, _, _, _)| p == "shops")
            .count()
    };
    // Killed (no chance to clean up) once the first batch is in and before the last.
    assert!(
        fake.until(std::time::Duration::from_secs(60), |f| moved(f) >= 260)
            .await,
        "the drain never got going"
    );
    child.kill().expect("killed");
    let _ = child.wait();
    let at_kill = moved(&fake);
    assert!(at_kill < 600, "killed mid-way ({at_kill} moved)");
    assert_eq!(
        fake.get("fleetclusters", "b").expect("b")["spec"]["unschedulable"],
        true,
        "cordoned"
    );
    // Still on b: the unfinished drain is visible to anyone, from the cluster itself.
    fake.slow(std::time::Duration::ZERO);
    let status = common::shopctl_live(&config, &state, &["status", "-o", "json"]).await;
    let v: Value = serde_json::from_slice(&status.stdout).expect("json");
    assert_eq!(
        v["unfinished_drains"][0]["cluster"], "b",
        "{}",
        v["unfinished_drains"]
    );
    // The Lease of the killed process is taken over at once (its process is gone), and the
    // drain goes on where it stopped: every shop moved exactly once.
    let out = common::shopctl_live(&config, &state, &["drain", "b", "--yes"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut per_shop = std::collections::HashMap::new();
    for (p, name, _, _) in fake.patches() {
        if p == "shops" {
            *per_shop.entry(name).or_insert(0) += 1;
        }
    }
    assert!(per_shop.values().all(|n| *n == 1), "a shop was moved twice");
    for i in 0..600 {
        let s = fake.get("shops", &format!("m{i:03}")).expect("shop");
        assert_ne!(
            s["spec"]["shopSets"],
            json!(["b-1"]),
            "m{i:03} still on b-1"
        );
        assert!(s["metadata"]["annotations"]["shopset.dev/drain"].is_string());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_operators_contend_for_the_lease_through_the_binary() {
    let fake = FakeKube::start("shopset.dev", "v1alpha1").await;
    three_clusters(&fake);
    fake.node("n1", true);
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = live_config(&fake, tmp.path());
    // Bob, on another machine, is draining c.
    fake.put_as(
        "coordination.k8s.io/v1",
        "leases",
        "Lease",
        json!({"metadata": {"name": "shopctl-release", "namespace": "shopctl",
                            "annotations": {"shopset.dev/operation": "draining 'c'"}},
               "spec": {"holderIdentity": "bob@ops laptop-bob/4242/0badcafe",
                        "leaseDurationSeconds": 600,
                        "acquireTime": shopctl::domain::Ts::now().rfc3339(),
                        "renewTime": shopctl::domain::Ts::now().rfc3339()}}),
    );
    let state = tmp.path().join("state");
    let out = common::shopctl_live(&config, &state, &["drain", "b", "--yes"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("locked by bob@ops (draining 'c')"),
        "{stderr}"
    );
    assert!(fake.patches().is_empty(), "nothing was written");
    // Bob's Lease expires (he crashed and never renewed): Alice takes it over and drains.
    fake.put_as(
        "coordination.k8s.io/v1",
        "leases",
        "Lease",
        json!({"metadata": {"name": "shopctl-release", "namespace": "shopctl"},
               "spec": {"holderIdentity": "bob@ops laptop-bob/4242/0badcafe",
                        "leaseDurationSeconds": 600,
                        "acquireTime": "2026-01-01T00:00:00Z",
                        "renewTime": "2026-01-01T00:00:00Z"}}),
    );
    let out = common::shopctl_live(&config, &state, &["drain", "b", "--yes"]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        fake.get("leases", "shopctl-release").is_none(),
        "given back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_reads_every_list_in_pages() {
    let fake = FakeKube::start("shopset.dev", "v1alpha1").await;
    three_clusters(&fake);
    fake.node("n1", true);
    for i in 0..1_200 {
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
    assert_eq!(json["shops"].as_array().map(Vec::len), Some(1_203));
    // 1,203 shops in pages of 500: three answers, none holding the whole list.
    assert_eq!(fake.lists("shops"), 3, "the shops were not read in pages");
}
