//! Real Kubernetes API servers for the live tests: `testenv/` builds k8s.io/kubernetes'
//! kube-apiserver (with an etcd in the same process) and runs one per cluster — `control`,
//! `a` and `b` — on 127.0.0.1, with certificates made at start, RBAC, and static token users:
//!
//! | user | may |
//! |---|---|
//! | `admin` | everything (`system:masters`) |
//! | `operator` | exactly what the README says a read-write session needs |
//! | `viewer` | get, list and watch, on everything |
//! | `operator-no-lease-delete` | the operator's rights, without `delete` on leases |
//! | `no-argocd` | get, list and watch on the fleet, Leases and nodes; not Argo CD's Applications |
//!
//! The kubeconfig has a context per cluster and user: the cluster's bare name for the admin,
//! `USER@CLUSTER` for the others. Cluster `b` runs without the API server's watch cache, so a
//! watch from a resourceVersion its etcd has compacted away is answered 410 Gone by etcd itself.
//! One set of servers per test binary, started on first use and
//! gone when the binary ends; the shopset.dev resources are cluster-scoped, so a test takes the
//! fleet (`KubeEnv::fleet`), which empties it, for as long as it holds the guard, and puts
//! everything namespaced in namespaces of its own (`KubeEnv::namespace`).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Debug, Deserialize)]
struct EnvFile {
    kubeconfig: PathBuf,
    control: String,
    ca: PathBuf,
    clusters: Vec<ClusterFile>,
    tokens: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct ClusterFile {
    name: String,
    server: String,
    log: PathBuf,
}

/// The running servers of this test binary.
pub struct KubeEnv {
    pub kubeconfig: PathBuf,
    /// The CA certificate the servers' certificates are signed with (PEM file).
    pub ca: PathBuf,
    /// Server URL by cluster name.
    pub servers: BTreeMap<String, String>,
    /// Bearer token by user.
    pub tokens: BTreeMap<String, String>,
    logs: BTreeMap<String, PathBuf>,
    control: String,
    _dir: tempfile::TempDir,
    _child: Mutex<Child>,
    crds: tokio::sync::OnceCell<()>,
    fleets: BTreeMap<String, tokio::sync::Mutex<()>>,
}

static ENV: OnceLock<KubeEnv> = OnceLock::new();
static SERIAL: AtomicUsize = AtomicUsize::new(0);

/// The kube-testenv binary, built by `testenv/build.sh` when missing or older than its sources
/// (Go's build cache makes a rebuild take seconds).
pub fn testenv_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("SHOPCTL_KUBE_TESTENV") {
        return PathBuf::from(p);
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("testenv");
    let bin = dir.join("bin/kube-testenv");
    let built = std::fs::metadata(&bin).and_then(|m| m.modified()).ok();
    let newest_source = std::fs::read_dir(&dir)
        .expect("testenv/ is readable")
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.ends_with(".go") || n == "go.mod" || n == "go.sum" || n == "build.sh"
        })
        .filter_map(|e| e.metadata().and_then(|m| m.modified()).ok())
        .max();
    if built.is_none() || newest_source > built {
        let out = Command::new(dir.join("build.sh"))
            .current_dir(&dir)
            .output()
            .expect("go is installed (see the README's Tests section)");
        assert!(
            out.status.success(),
            "building testenv/ failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    bin
}

impl KubeEnv {
    /// The servers of this test binary, started on first use.
    pub fn get() -> &'static KubeEnv {
        ENV.get_or_init(KubeEnv::start)
    }

    fn start() -> KubeEnv {
        let bin = testenv_binary();
        let dir = tempfile::Builder::new()
            .prefix("kube-testenv-")
            .tempdir()
            .expect("tempdir");
        let mut child = Command::new(&bin)
            .args(["up", "--dir"])
            .arg(dir.path())
            .args([
                "--clusters",
                "control,a,b",
                "--no-watch-cache",
                "b",
                "--remove",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", bin.display()));
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("kube-testenv writes");
        if !line.starts_with("ready ") {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            panic!("kube-testenv did not start: {line}{err}");
        }
        let file: EnvFile =
            serde_json::from_slice(&std::fs::read(dir.path().join("env.json")).expect("env.json"))
                .expect("env.json parses");
        KubeEnv {
            kubeconfig: file.kubeconfig,
            ca: file.ca,
            servers: file
                .clusters
                .iter()
                .map(|c| (c.name.clone(), c.server.clone()))
                .collect(),
            logs: file
                .clusters
                .iter()
                .map(|c| (c.name.clone(), c.log.clone()))
                .collect(),
            tokens: file.tokens,
            control: file.control,
            _dir: dir,
            _child: Mutex::new(child),
            crds: tokio::sync::OnceCell::new(),
            fleets: file
                .clusters
                .iter()
                .map(|c| (c.name.clone(), tokio::sync::Mutex::new(())))
                .collect(),
        }
    }

    /// The kubeconfig context of `user` on `cluster`.
    pub fn context(cluster: &str, user: &str) -> String {
        if user == "admin" {
            cluster.to_string()
        } else {
            format!("{user}@{cluster}")
        }
    }

    /// A client of `cluster` as `user`, through the kubeconfig as shopctl reads it.
    pub async fn client(&self, cluster: &str, user: &str) -> kube::Client {
        let (k, name) =
            shopctl::backends::live::kubeconfig::load(Some(&self.kubeconfig)).expect("kubeconfig");
        let config = shopctl::backends::live::kubeconfig::client_config(
            &k,
            &name,
            Some(&Self::context(cluster, user)),
        )
        .await
        .expect("context");
        kube::Client::try_from(config).expect("client")
    }

    /// A name no other test of any binary uses.
    pub fn unique(prefix: &str) -> String {
        format!(
            "{prefix}-{}-{}",
            std::process::id(),
            SERIAL.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// A new namespace of `cluster`, for one test.
    pub async fn namespace(&self, cluster: &str, prefix: &str) -> String {
        let name = Self::unique(prefix);
        self.create(
            cluster,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
        )
        .await;
        name
    }

    /// `shopctl crds` applied as it is, and Argo CD's Application CRD, on every cluster, once;
    /// returns when the API servers serve them.
    pub async fn install_crds(&self) {
        self.crds
            .get_or_init(|| async {
                let out = Command::new(env!("CARGO_BIN_EXE_shopctl"))
                    .arg("crds")
                    .output()
                    .expect("shopctl crds runs");
                assert!(out.status.success());
                let mut docs: Vec<Value> = Vec::new();
                for text in [
                    String::from_utf8(out.stdout).expect("utf-8"),
                    std::fs::read_to_string(
                        Path::new(env!("CARGO_MANIFEST_DIR"))
                            .join("tests/fixtures/argocd/argocd-application-crd.yaml"),
                    )
                    .expect("Argo CD's Application CRD"),
                ] {
                    for doc in serde_yaml::Deserializer::from_str(&text) {
                        let v = Value::deserialize(doc).expect("CRD YAML");
                        if !v.is_null() {
                            docs.push(v);
                        }
                    }
                }
                for cluster in self.servers.keys() {
                    for crd in &docs {
                        self.create(cluster, crd.clone()).await;
                    }
                    for crd in docs
                        .iter()
                        .filter(|d| d["kind"] == "CustomResourceDefinition")
                    {
                        self.until_served(cluster, crd).await;
                    }
                }
            })
            .await;
    }

    /// Waits, up to 30 s, until `crd` is Established (watched, not polled), then checks that a
    /// list of its resource answers.
    async fn until_served(&self, cluster: &str, crd: &Value) {
        use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
        use kube::runtime::wait::{await_condition, conditions};
        let spec = &crd["spec"];
        let name = crd["metadata"]["name"].as_str().expect("a name");
        let client = self.client(cluster, "admin").await;
        let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
        tokio::time::timeout(
            Duration::from_secs(30),
            await_condition(crds, name, conditions::is_crd_established()),
        )
        .await
        .unwrap_or_else(|_| panic!("{name} of {cluster} not established within 30 s"))
        .unwrap_or_else(|e| panic!("watching {name} of {cluster}: {e}"));
        let version = spec["versions"][0]["name"].as_str().expect("a version");
        let group = spec["group"].as_str().expect("a group");
        let gvk = GroupVersionKind::gvk(
            group,
            version,
            spec["names"]["kind"].as_str().expect("kind"),
        );
        let ar = ApiResource::from_gvk_with_plural(
            &gvk,
            spec["names"]["plural"].as_str().expect("plural"),
        );
        let api: Api<DynamicObject> = Api::all_with(client, &ar);
        if let Err(e) = api.list(&ListParams::default().limit(1)).await {
            panic!("{} of {cluster} established but not served: {e}", ar.plural);
        }
    }

    /// Takes the control plane's fleet for one test: waits for the test before to finish, then
    /// deletes every Tier, ShopSet, Shop, FleetCluster, Halt and ReleaseRequest. Hold the guard
    /// for the whole test.
    pub async fn fleet(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.fleet_on("control").await
    }

    /// [`KubeEnv::fleet`] on `cluster`.
    pub async fn fleet_on(&self, cluster: &str) -> tokio::sync::MutexGuard<'_, ()> {
        self.install_crds().await;
        let guard = self.fleets[cluster].lock().await;
        let client = self.client(cluster, "admin").await;
        for kind in [
            "Tier",
            "ShopSet",
            "Shop",
            "FleetCluster",
            "Halt",
            "ReleaseRequest",
        ] {
            let api: Api<DynamicObject> =
                Api::all_with(client.clone(), &resource("shopset.dev/v1alpha1", kind));
            api.delete_collection(&DeleteParams::default(), &ListParams::default())
                .await
                .expect("fleet emptied");
        }
        guard
    }

    /// Creates `object` on `cluster` as the admin (its apiVersion and kind say where); a
    /// namespaced object carries its namespace. Returns what the server stored.
    pub async fn create(&self, cluster: &str, object: Value) -> Value {
        let api = self.api_for(cluster, &object).await;
        let obj: DynamicObject = serde_json::from_value(object.clone()).expect("an object");
        match api.create(&PostParams::default(), &obj).await {
            Ok(o) => serde_json::to_value(o).expect("json"),
            Err(e) => panic!("creating {} on {cluster}: {e}", object["metadata"]["name"]),
        }
    }

    /// Creates every object on `cluster`, 64 at a time.
    pub async fn create_all(&self, cluster: &str, objects: Vec<Value>) {
        use futures::StreamExt;
        futures::stream::iter(objects)
            .map(|o| self.create(cluster, o))
            .buffer_unordered(64)
            .collect::<Vec<_>>()
            .await;
    }

    /// Like [`KubeEnv::create`], returning the server's refusal instead of panicking.
    pub async fn try_create(&self, cluster: &str, object: Value) -> Result<Value, kube::Error> {
        let api = self.api_for(cluster, &object).await;
        let obj: DynamicObject = serde_json::from_value(object).expect("an object");
        api.create(&PostParams::default(), &obj)
            .await
            .map(|o| serde_json::to_value(o).expect("json"))
    }

    /// Merge-patches the object named by `object`'s apiVersion, kind and metadata with `patch`.
    pub async fn patch(&self, cluster: &str, object: &Value, patch: Value) -> Value {
        let api = self.api_for(cluster, object).await;
        let name = object["metadata"]["name"].as_str().expect("name");
        let o = api
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .unwrap_or_else(|e| panic!("patching {name} on {cluster}: {e}"));
        serde_json::to_value(o).expect("json")
    }

    /// Reads the object named by `object`'s apiVersion, kind and metadata.
    pub async fn read(&self, cluster: &str, object: &Value) -> Option<Value> {
        let api = self.api_for(cluster, object).await;
        let name = object["metadata"]["name"].as_str().expect("name");
        api.get_opt(name)
            .await
            .expect("read")
            .map(|o| serde_json::to_value(o).expect("json"))
    }

    /// Deletes the object named by `object`'s apiVersion, kind and metadata.
    pub async fn delete(&self, cluster: &str, object: &Value) {
        let api = self.api_for(cluster, object).await;
        let name = object["metadata"]["name"].as_str().expect("name");
        api.delete(name, &DeleteParams::default())
            .await
            .expect("deleted");
    }

    async fn api_for(&self, cluster: &str, object: &Value) -> Api<DynamicObject> {
        let ar = resource(
            object["apiVersion"].as_str().expect("apiVersion"),
            object["kind"].as_str().expect("kind"),
        );
        let client = self.client(cluster, "admin").await;
        match object["metadata"]["namespace"].as_str() {
            Some(ns) => Api::namespaced_with(client, ns, &ar),
            None => Api::all_with(client, &ar),
        }
    }

    /// A Node of `cluster` with its Ready condition (there is no kubelet to write it).
    pub async fn node(&self, cluster: &str, name: &str, ready: bool) {
        let node = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}});
        if self.read(cluster, &node).await.is_none() {
            self.create(cluster, node.clone()).await;
        }
        let api: Api<DynamicObject> =
            Api::all_with(self.client(cluster, "admin").await, &resource("v1", "Node"));
        let status = json!({"status": {"conditions": [{
            "type": "Ready", "status": if ready { "True" } else { "False" },
            "reason": if ready { "KubeletReady" } else { "KubeletNotReady" },
            "lastHeartbeatTime": "2026-11-22T16:00:00Z", "lastTransitionTime": "2026-11-22T16:00:00Z"}]}});
        api.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
            .await
            .expect("node status");
    }

    /// Kills `cluster`'s API server and etcd at once.
    pub fn stop(&self, cluster: &str) {
        self.control(cluster, "stop");
    }

    /// Starts `cluster` again on its ports and data; returns when it is ready.
    pub fn start_again(&self, cluster: &str) {
        self.control(cluster, "start");
    }

    /// Compacts `cluster`'s etcd at its current revision: every older resourceVersion is gone.
    pub fn compact(&self, cluster: &str) -> u64 {
        self.control(cluster, "compact")
            .trim()
            .parse()
            .expect("a revision")
    }

    /// The API server log of `cluster`, for a failing test's message.
    pub fn log(&self, cluster: &str) -> PathBuf {
        self.logs[cluster].clone()
    }

    fn control(&self, cluster: &str, action: &str) -> String {
        let mut s = std::net::TcpStream::connect(&self.control).expect("testenv control");
        write!(
            s,
            "POST /clusters/{cluster}/{action} HTTP/1.0\r\nHost: testenv\r\nContent-Length: 0\r\n\r\n"
        )
        .expect("request");
        let mut answer = String::new();
        s.read_to_string(&mut answer).expect("answer");
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        assert!(
            head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
            "{action} {cluster}: {answer}"
        );
        body.to_string()
    }
}

/// The API resource of `kind` in `api_version`, its plural the lower-cased kind plus "s"
/// (every kind the tests use).
pub fn resource(api_version: &str, kind: &str) -> ApiResource {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let plural = match kind {
        "CustomResourceDefinition" => "customresourcedefinitions".to_string(),
        "ValidatingAdmissionPolicy" => "validatingadmissionpolicies".to_string(),
        _ => format!("{}s", kind.to_lowercase()),
    };
    ApiResource::from_gvk_with_plural(&gvk, &plural)
}
