//! Live mode's budgets at scale, measured rather than asserted (timings on shared machines are
//! not test results): 100,000 Shops, 1,000 ShopSets, 1,000 Applications and 50 clusters in the
//! fake API server. Run with
//!
//!     cargo test --release --test live_scale -- --ignored --nocapture
//!
//! It prints: the whole fleet listed by `shopctl status -o json` (time, peak memory) next to
//! `kubectl get shops -o json` on the same server; the console's first frame showing every shop
//! (time, resident memory); 10,000 Shop watch events applied; a drain of 2,000 shops through
//! patches with preconditions.

mod common;
#[path = "support/fake_kube.rs"]
mod fake_kube;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use fake_kube::FakeKube;
use serde_json::json;
use shopctl::backends::demo::{DemoFleet, Scenario};

const CLUSTERS: usize = 50;
const SETS_PER_CLUSTER: usize = 20;
const SHOPS_PER_SET: usize = 100;
const TIERS: [&str; 5] = ["dev", "beta", "prod-beta", "prod", "prod-ha"];

fn cluster(c: usize) -> String {
    format!("c{c:02}")
}

fn seed(fake: &FakeKube) {
    for (level, t) in TIERS.iter().enumerate() {
        fake.put(
            "tiers",
            "Tier",
            json!({"metadata": {"name": t}, "spec": {"level": level, "branch": format!("tier-{level}"), "soakSeconds": 600}}),
        );
    }
    for c in 0..CLUSTERS {
        fake.put(
            "fleetclusters",
            "FleetCluster",
            json!({"metadata": {"name": cluster(c)}, "spec": {"provider": "eks", "context": "ops", "failureDomain": format!("fd-{}", c % 10)}}),
        );
        for s in 0..SETS_PER_CLUSTER {
            let name = format!("{}-{s}", cluster(c));
            let tier = TIERS[s % TIERS.len()];
            fake.put(
                "shopsets",
                "ShopSet",
                json!({"metadata": {"name": name}, "spec": {"tier": tier, "configuration": "production", "cluster": cluster(c), "capacity": 250}}),
            );
            fake.put_as(
                "argoproj.io/v1alpha1",
                "applications",
                "Application",
                json!({"metadata": {"name": format!("shopset-{name}"), "namespace": "argocd",
                                    "labels": {"shopset.dev/shopset": name}},
                       "status": {"sync": {"status": "Synced", "revision": "r1"},
                                  "health": {"status": "Healthy"}}}),
            );
            for i in 0..SHOPS_PER_SET {
                fake.put(
                    "shops",
                    "Shop",
                    json!({"metadata": {"name": format!("shop-{name}-{i:03}")}, "spec": {"redundancy": "single", "shopSets": [name]}}),
                );
            }
        }
    }
    fake.node("n1", true);
}

/// Runs a command under GNU time: (seconds, peak resident KiB, stdout bytes).
fn timed(cmd: Command) -> (f64, u64, usize) {
    let report = tempfile::NamedTempFile::new().expect("temp");
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let mut t = Command::new("/usr/bin/time");
    t.arg("-f")
        .arg("%e %M")
        .arg("-o")
        .arg(report.path())
        .arg(program)
        .args(args);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => t.env(k, v),
            None => t.env_remove(k),
        };
    }
    let out = t.stderr(Stdio::inherit()).output().expect("runs");
    assert!(out.status.success(), "{:?} failed", cmd.get_program());
    let text = std::fs::read_to_string(report.path()).expect("time's report");
    let mut it = text.split_whitespace();
    let secs: f64 = it.next().and_then(|s| s.parse().ok()).expect("seconds");
    let kib: u64 = it.next().and_then(|s| s.parse().ok()).expect("KiB");
    (secs, kib, out.stdout.len())
}

fn shopctl(config: &Path, state: &Path) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("shopctl"));
    c.env("XDG_STATE_HOME", state)
        .env("SHOPCTL_OPERATOR", "bench@ops")
        .arg("--config")
        .arg(config);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: cargo test --release --test live_scale -- --ignored --nocapture"]
async fn live_budgets_at_scale() {
    let fake = FakeKube::start("shopset.dev", "v1alpha1").await;
    let started = Instant::now();
    seed(&fake);
    let shops = CLUSTERS * SETS_PER_CLUSTER * SHOPS_PER_SET;
    println!(
        "fleet: {shops} shops, {} ShopSets, {} Applications, {CLUSTERS} clusters (seeded in {:.1} s)",
        CLUSTERS * SETS_PER_CLUSTER,
        CLUSTERS * SETS_PER_CLUSTER,
        started.elapsed().as_secs_f64()
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let kubeconfig = fake.kubeconfig(tmp.path(), "ops", "t");
    let demo_dir = tmp.path().join("demo");
    DemoFleet::open(&common::demo_options(&demo_dir, 50, Scenario::Calm)).expect("demo");
    let config = tmp.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[control_plane]\ncontext = \"ops\"\nkubeconfig = \"{}\"\n[alertmanager]\nurl = \"http://127.0.0.1:1\"\n[git]\nremote = \"{}\"\ncache = \"{}\"\n",
            kubeconfig.display(),
            demo_dir.join("git/system.git").display(),
            tmp.path().join("cache/system.git").display()
        ),
    )
    .expect("config");
    let state = tmp.path().join("state");

    // 1. The whole fleet listed, by shopctl and by kubectl.
    let (cfg, st) = (config.clone(), state.clone());
    let _warm = tokio::task::spawn_blocking(move || {
        let mut c = shopctl(&cfg, &st);
        c.args(["status", "-o", "json"]).stdout(Stdio::null());
        c.status()
    })
    .await;
    let (cfg, st) = (config.clone(), state.clone());
    let (secs, kib, bytes) = tokio::task::spawn_blocking(move || {
        let mut c = shopctl(&cfg, &st);
        c.args(["status", "-o", "json"]);
        timed(c)
    })
    .await
    .expect("joined");
    println!(
        "shopctl status -o json: {secs:.2} s, peak RSS {} MiB, {} MB of JSON",
        kib / 1024,
        bytes / 1_000_000
    );
    let kc = kubeconfig.clone();
    let kubectl = tokio::task::spawn_blocking(move || {
        if Command::new("kubectl")
            .arg("version")
            .arg("--client")
            .output()
            .is_err()
        {
            return None;
        }
        let mut c = Command::new("kubectl");
        c.arg("--kubeconfig")
            .arg(&kc)
            .args(["get", "shops", "-o", "json"]);
        Some(timed(c))
    })
    .await
    .expect("joined");
    match kubectl {
        Some((secs, kib, bytes)) => println!(
            "kubectl get shops -o json: {secs:.2} s, peak RSS {} MiB, {} MB of JSON",
            kib / 1024,
            bytes / 1_000_000
        ),
        None => println!("kubectl: not installed, not compared"),
    }

    // 2. The console: the first frame showing every shop, and its resident memory.
    let (ms, rss) = common::console_whole_fleet(&config, shops, tmp.path());
    println!(
        "console: every shop on screen after {ms:.0} ms; peak RSS {} MiB",
        rss / 1024
    );

    // 3. 10,000 Shop watch events through the real client into the fleet model.
    let file = fake.kubeconfig(tmp.path(), "w", "t");
    let (k, name) = shopctl::backends::live::kubeconfig::load(Some(&file)).expect("kubeconfig");
    let cfg = shopctl::backends::live::kubeconfig::client_config(&k, &name, None)
        .await
        .expect("context");
    let client = kube::Client::try_from(cfg).expect("client");
    let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
    let task = tokio::spawn(shopctl::backends::live::watch::control_plane(client, tx));
    let mut fleet = shopctl::domain::Fleet::new("live");
    while fleet.shops.len() < shops {
        if let Some(shopctl::backends::SourceEvent::Update(u)) = rx.recv().await {
            fleet.apply(u);
        }
    }
    let moved = 10_000;
    let t0 = Instant::now();
    for i in 0..moved {
        let c = i % CLUSTERS;
        let s = (i / CLUSTERS) % SETS_PER_CLUSTER;
        let from = format!("{}-{s}", cluster(c));
        let to = format!("{}-{s}", cluster((c + 1) % CLUSTERS));
        fake.put(
            "shops",
            "Shop",
            json!({"metadata": {"name": format!("shop-{from}-{:03}", i % SHOPS_PER_SET)}, "spec": {"redundancy": "single", "shopSets": [to]}}),
        );
    }
    let mut applied = 0;
    while applied < moved {
        if let Some(shopctl::backends::SourceEvent::Update(u)) = rx.recv().await {
            if matches!(u, shopctl::domain::FleetUpdate::ShopUpserted(_)) {
                applied += 1;
            }
            fleet.apply(u);
        }
    }
    fleet.refresh();
    let total = t0.elapsed();
    println!(
        "{moved} Shop watch events (server, HTTP, JSON decode, mapping, apply): {:.2} s, {:.1} µs per event end to end",
        total.as_secs_f64(),
        total.as_secs_f64() * 1e6 / moved as f64
    );
    task.abort();

    // 4. A drain of one cluster's 2,000 shops through patches with preconditions.
    let (cfg, st) = (config.clone(), state.clone());
    let target = cluster(CLUSTERS - 1);
    let (secs, _, _) = tokio::task::spawn_blocking(move || {
        let mut c = shopctl(&cfg, &st);
        c.args(["drain", &target, "--yes"]);
        timed(c)
    })
    .await
    .expect("joined");
    let drained = fake
        .patches()
        .iter()
        .filter(|(p, _, _, _)| p == "shops")
        .count();
    println!(
        "drain of {}: {drained} shop patches in {secs:.2} s, {:.0} shops/s (reads and re-checks included)",
        cluster(CLUSTERS - 1),
        drained as f64 / secs
    );
}
