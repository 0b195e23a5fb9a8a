//! The live-mode budgets on a real API server, side by side with kubectl of the same release
//! (`kube-testenv kubectl`), each command's wall time and peak RSS taken by `kube-testenv
//! measure`. A measurement, not a test of timings: run it by hand (the README reports it)
//!
//! ```sh
//! cargo test --release --test apiserver_budgets -- --ignored --nocapture
//! ```
//!
//! 100,000 Shops written through the API (so they carry real managedFields), 1,000 ShopSets,
//! 1,000 Argo CD Applications with a full-size status (the Argo CD 2.x fixture's, resources and
//! history included), 50 FleetClusters; then `shopctl status -o json` and `kubectl get shops -o
//! json`, and a drain of 2,000 shops.

mod common;
#[path = "support/kube_env.rs"]
mod kube_env;

use std::process::{Command, Stdio};
use std::time::Instant;

use kube_env::KubeEnv;
use serde_json::{Value, json};
use shopctl::backends::demo::{DemoFleet, Scenario};

const SHOPS: usize = 100_000;
const SHOPSETS: usize = 1_000;
const CLUSTERS: usize = 50;
/// The cluster drained: its 20 ShopSets hold 2,000 shops.
const DRAINED: usize = 49;

fn obj(kind: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "shopset.dev/v1alpha1", "kind": kind, "metadata": {"name": name}, "spec": spec})
}

/// Runs `args` under `kube-testenv measure`; returns its report line.
fn measured(args: &[&str], envs: &[(&str, &str)]) -> String {
    let out = Command::new(kube_env::testenv_binary())
        .arg("measure")
        .args(args)
        .envs(envs.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("measure runs");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut line = err
        .lines()
        .find(|l| l.starts_with("measure:"))
        .unwrap_or_else(|| panic!("no measurement: {err}"))
        .to_string();
    assert!(line.ends_with("exit=0"), "{err}");
    // What a drain says of its own pace.
    if let Some(pace) = err.lines().find(|l| l.contains("shops/s")) {
        line = format!("{line}; {}", pace.trim());
    }
    line
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run by hand with --ignored --nocapture (see the README)"]
async fn budgets_on_a_real_api_server_beside_kubectl() {
    let env = KubeEnv::get();
    let _fleet = env.fleet().await;
    let argocd = env.namespace("control", "argocd").await;
    let lock = env.namespace("control", "lock").await;
    env.node("a", "n1", true).await;

    let status: Value = serde_yaml::from_str::<Value>(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/argocd/argocd-diff-cache.yaml"),
        )
        .expect("fixture"),
    )
    .expect("yaml")["status"]
        .clone();
    let started = Instant::now();
    let mut objects = vec![obj(
        "Tier",
        "dev",
        json!({"level": 0, "branch": "tier-0", "soakSeconds": 0}),
    )];
    for c in 0..CLUSTERS {
        objects.push(obj(
            "FleetCluster",
            &format!("k{c}"),
            json!({"provider": "eks", "context": "viewer@a"}),
        ));
    }
    for s in 0..SHOPSETS {
        let name = format!("k{}-{}", s % CLUSTERS, s / CLUSTERS);
        objects.push(obj(
            "ShopSet",
            &name,
            json!({"tier": "dev", "configuration": "production", "cluster": format!("k{}", s % CLUSTERS), "capacity": 400}),
        ));
        objects.push(json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": format!("shopset-{name}"), "namespace": argocd,
                         "labels": {"shopset.dev/shopset": name}},
            "spec": {"project": "default", "destination": {"name": "a", "namespace": name},
                     "source": {"repoURL": "https://git.example/system.git", "path": format!("overlays/{name}"), "targetRevision": "tier-0"}},
            "status": status}));
    }
    env.create_all("control", objects).await;
    let shops: Vec<Value> = (0..SHOPS)
        .map(|i| {
            let s = i % SHOPSETS;
            obj(
                "Shop",
                &format!("shop-{i:06}"),
                json!({"redundancy": "single", "shopSets": [format!("k{}-{}", s % CLUSTERS, s / CLUSTERS)]}),
            )
        })
        .collect();
    env.create_all("control", shops).await;
    eprintln!(
        "written through the API: {SHOPS} shops, {SHOPSETS} ShopSets and Applications, {CLUSTERS} clusters in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let tmp = tempfile::tempdir().expect("tempdir");
    let demo = tmp.path().join("demo");
    DemoFleet::open(&common::demo_options(&demo, 100, Scenario::Calm)).expect("demo");
    let config = |user: &str| {
        let file = tmp.path().join(format!("{user}.toml"));
        std::fs::write(
            &file,
            format!(
                "[control_plane]\ncontext = \"{user}@control\"\nkubeconfig = \"{}\"\n[[argocd]]\nnamespace = \"{argocd}\"\n[alertmanager]\nurl = \"http://127.0.0.1:1\"\n[git]\nremote = \"{}\"\ncache = \"{}\"\n[lock]\nnamespace = \"{lock}\"\n",
                env.kubeconfig.display(),
                demo.join("git/system.git").display(),
                tmp.path().join("cache/system.git").display()
            ),
        )
        .expect("config");
        file
    };
    let (viewer, operator) = (config("viewer"), config("operator"));
    let shopctl = env!("CARGO_BIN_EXE_shopctl");
    let state = tmp.path().join("state");
    let state = state.to_str().expect("utf-8");
    let kubeconfig = env.kubeconfig.to_str().expect("utf-8");
    let testenv = kube_env::testenv_binary();
    let testenv = testenv.to_str().expect("utf-8");
    for round in 1..=3 {
        let ours = measured(
            &[
                shopctl,
                "--config",
                viewer.to_str().expect("utf-8"),
                "status",
                "-o",
                "json",
            ],
            &[("XDG_STATE_HOME", state)],
        );
        let theirs = measured(
            &[
                testenv,
                "kubectl",
                "--kubeconfig",
                kubeconfig,
                "--context",
                "viewer@control",
                "get",
                "shops",
                "-o",
                "json",
            ],
            &[],
        );
        eprintln!("round {round}: shopctl status -o json: {ours}");
        eprintln!("round {round}: kubectl get shops -o json: {theirs}");
    }
    // Where status's time goes: the shops listed and decoded in-process, page by page.
    for page in [500u32, 5_000] {
        let client = env.client("control", "viewer").await;
        let api: kube::Api<shopctl::backends::live::crds::ShopRead> = kube::Api::all(client);
        let t = Instant::now();
        let mut lp = kube::api::ListParams::default().limit(page);
        let mut n = 0;
        loop {
            let list = api.list(&lp).await.expect("a page");
            n += list.items.len();
            match list.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(c) => lp = lp.continue_token(&c),
                None => break,
            }
        }
        eprintln!(
            "{n} shops listed in pages of {page} and decoded in-process: {:.2} s",
            t.elapsed().as_secs_f64()
        );
    }
    for round in 1..=2 {
        let (ms, peak) = common::console_whole_fleet(&viewer, SHOPS, tmp.path());
        eprintln!(
            "round {round}: the console, the whole fleet drawn (every source's first read in): {ms:.0} ms from start, peak RSS {} MiB",
            peak / 1024
        );
    }
    let drain = measured(
        &[
            shopctl,
            "--config",
            operator.to_str().expect("utf-8"),
            "drain",
            &format!("k{DRAINED}"),
            "--yes",
        ],
        &[("XDG_STATE_HOME", state), ("SHOPCTL_OPERATOR", "alice@ops")],
    );
    eprintln!("drain of 2,000 shops (k{DRAINED}), the whole command: {drain}");
}
