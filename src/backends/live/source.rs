//! The live backend behind the [`FleetSource`] seam: the control plane and every Argo CD
//! watched, every workload cluster probed through its context, Alertmanager polled, the system
//! repository fetched — each a source of its own, so that one dead peer never hides behind a
//! healthy one. Writes go through the live executor (`executor.rs`).

use std::collections::HashMap;
use std::time::Duration;

use futures::future::BoxFuture;
use kube::Api;
use kube::api::ListParams;
use kube::config::Kubeconfig;
use tokio::sync::mpsc;

use super::alertmanager::{self, AlertmanagerClient};
use super::config::Config;
use super::pages::list_all;
use super::{crds, kubeconfig, objects, probe, watch};
use crate::backends::{FleetSource, SourceError, SourceEvent, SourceId, SourceInfo};
use crate::domain::{Fleet, FleetUpdate, Ts};
use crate::git::cache::GitCache;

/// How often Alertmanager is asked.
const ALERTS_EVERY: Duration = Duration::from_secs(5);
/// How often clusters are probed and the system repository fetched.
const PROBE_EVERY: Duration = Duration::from_secs(15);

/// How many clusters are probed at the same time.
const PROBES_AT_ONCE: usize = 16;

/// How long one full read (every source, each answering or failing on its own) may take.
const SNAPSHOT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A live fleet, as its configuration describes it. Clones share their clients.
#[derive(Clone)]
pub struct LiveSource {
    config: Config,
    /// A one-shot read reports a source it cannot read (Argo CD, git) in `Fleet::unread`
    /// instead of failing whole; the control plane must still answer.
    partial: bool,
    /// The clients of the one-shot reads, one per context, kept from one read to the next (the
    /// executor's re-checks).
    clients: Clients,
}

/// One client per kubeconfig context for the whole session, shared by everything that reads
/// through that context: an exec credential plugin then runs once per token lifetime, not once
/// per watch, probe round or Argo CD instance.
#[derive(Clone, Default)]
struct Clients(
    std::sync::Arc<
        std::sync::Mutex<HashMap<String, std::sync::Arc<tokio::sync::OnceCell<kube::Client>>>>,
    >,
);

impl Clients {
    /// The context's client, made on first use. A new client asks its API server for its
    /// version once before anyone else uses it, so that its credential (a plugin's token) is
    /// fetched once rather than by every request started at the same moment. Contexts are made
    /// side by side: only two users of the same context wait for each other.
    async fn get(
        &self,
        k: &Kubeconfig,
        file: &str,
        context: Option<&str>,
        source: SourceId,
    ) -> Result<kube::Client, SourceError> {
        let cell = {
            let mut cells = self.0.lock().unwrap_or_else(|p| p.into_inner());
            cells
                .entry(context.unwrap_or_default().to_string())
                .or_default()
                .clone()
        };
        cell.get_or_try_init(|| async {
            let client = LiveSource::client(k, file, context, source).await?;
            let _ = tokio::time::timeout(probe::PROBE_TIMEOUT, client.apiserver_version()).await;
            Ok(client)
        })
        .await
        .cloned()
    }

    /// Starts the session's clients with one already made.
    fn with(context: Option<&str>, client: kube::Client) -> Clients {
        let clients = Clients::default();
        clients.0.lock().unwrap_or_else(|p| p.into_inner()).insert(
            context.unwrap_or_default().to_string(),
            std::sync::Arc::new(tokio::sync::OnceCell::new_with(Some(client))),
        );
        clients
    }
}

impl LiveSource {
    pub fn new(config: Config) -> LiveSource {
        LiveSource {
            config,
            partial: false,
            clients: Clients::default(),
        }
    }

    /// One-shot reads through the stores' `client` of the control plane's `context`: the
    /// executor's re-checks make no clients of their own for that context.
    pub fn on_stores(mut self, context: Option<&str>, client: kube::Client) -> LiveSource {
        self.clients = Clients::with(context, client);
        self
    }

    /// For `status`: an unreadable Argo CD or system repository is reported, not fatal.
    pub fn partial(mut self) -> LiveSource {
        self.partial = true;
        self
    }

    fn kubeconfig(&self) -> Result<(Kubeconfig, String), SourceError> {
        kubeconfig::load(self.config.control_plane.kubeconfig.as_deref()).map_err(|e| SourceError {
            from: SourceId::ControlPlane,
            message: e.to_string(),
        })
    }

    async fn client(
        k: &Kubeconfig,
        file: &str,
        context: Option<&str>,
        source: SourceId,
    ) -> Result<kube::Client, SourceError> {
        let err = |message: String| SourceError {
            from: source.clone(),
            message,
        };
        let config = kubeconfig::client_config(k, file, context)
            .await
            .map_err(|e| err(e.to_string()))?;
        kubeconfig::client(config).map_err(|e| err(e.to_string()))
    }

    /// The whole fleet, read once (for headless commands).
    async fn read(&self, now: Ts) -> Result<Fleet, SourceError> {
        let (k, file) = self.kubeconfig()?;
        let cp_context = self.config.control_plane.context.as_deref();
        let cp = self
            .clients
            .get(&k, &file, cp_context, SourceId::ControlPlane)
            .await?;
        let list_err = |what: &str, e: kube::Error| SourceError {
            from: SourceId::ControlPlane,
            message: format!("cannot list {what}: {}", super::errors::say(&e)),
        };
        let lp = ListParams::default();
        // Every source asked at once, so that the whole read takes as long as its slowest part
        // (the shops), not their sum: the clusters are probed and the tiers' branches read from
        // git as soon as the small lists are in, while the shops and Applications arrive.
        let shops = async {
            super::pages::list_mapped(&Api::<crds::ShopRead>::all(cp.clone()), &lp, |s| {
                Some(objects::shop(&s))
            })
            .await
            .map_err(|e| list_err("shops", e))
        };
        let argo = futures::future::join_all(
            self.config
                .argocd
                .iter()
                .map(|argo| self.read_argocd(&k, &file, &cp, argo)),
        );
        // The operator lock: who holds the Lease, if anyone.
        let leases: Api<k8s_openapi::api::coordination::v1::Lease> =
            Api::namespaced(cp.clone(), &self.config.lock.namespace);
        let lease = leases.get_opt(&self.config.lock.name);
        // Halts, failed releases and approval requests.
        let decided = async {
            use crate::ops::controls::ControlStore;
            super::controls::LiveControls::new(cp.clone()).read().await
        };
        let alerts = async {
            match AlertmanagerClient::new(&self.config.alertmanager) {
                Ok(c) => Ok(c.read().await),
                Err(e) => Err(e.to_string()),
            }
        };
        let rest = async {
            let (tiers, clusters, shopsets) = futures::try_join!(
                async {
                    list_all(&Api::<crds::Tier>::all(cp.clone()), &lp)
                        .await
                        .map_err(|e| list_err("tiers", e))
                },
                async {
                    list_all(&Api::<crds::FleetCluster>::all(cp.clone()), &lp)
                        .await
                        .map_err(|e| list_err("fleetclusters", e))
                },
                async {
                    list_all(&Api::<crds::ShopSet>::all(cp.clone()), &lp)
                        .await
                        .map_err(|e| list_err("shopsets", e))
                },
            )?;
            let cache = self.git();
            let tier_branches: Vec<(String, String)> = tiers
                .iter()
                .map(|t| (kube::ResourceExt::name_any(t), t.spec.branch.clone()))
                .collect();
            let git = async {
                tokio::task::spawn_blocking(move || {
                    cache.fetch()?;
                    Ok::<_, crate::git::cache::LiveGitError>((
                        cache.tiers(&tier_branches)?,
                        cache.history(),
                    ))
                })
                .await
                .map_err(|e| SourceError {
                    from: SourceId::Git,
                    message: e.to_string(),
                })
                .and_then(|r| {
                    r.map_err(|e| SourceError {
                        from: SourceId::Git,
                        message: e.to_string(),
                    })
                })
            };
            // Each cluster through its own context; one that does not answer is unreachable.
            let (probes, branches) = futures::join!(
                self.probe_clusters(&k, &file, &clusters, &self.clients),
                git
            );
            Ok::<_, SourceError>((tiers, clusters, shopsets, probes, branches))
        };
        let (shops, argo, lease, alerts, rest, decided) =
            futures::join!(shops, argo, lease, alerts, rest, decided);
        let (tiers, clusters, shopsets, probes, branches) = rest?;
        let shops = shops?;
        let mut fleet = Fleet::new(self.fleet_name());
        fleet.apply(FleetUpdate::ScopeLabels(self.scope_labels()));
        for t in &tiers {
            fleet.apply(FleetUpdate::TierSpec(objects::tier(t)));
        }
        for c in &clusters {
            fleet.apply(FleetUpdate::ClusterSpec(objects::cluster(c)));
        }
        for s in &shopsets {
            fleet.apply(FleetUpdate::ShopSetUpserted(objects::shopset(s)));
        }
        fleet.apply(FleetUpdate::Shops(std::sync::Arc::new(shops)));
        for (argo, read) in self.config.argocd.iter().zip(argo) {
            match read {
                Ok(apps) => {
                    let mut relist =
                        objects::applications(argo.shopset_label.clone(), argo.components.clone());
                    for a in apps {
                        for u in relist.on(kube::runtime::watcher::Event::Apply(a)) {
                            fleet.apply(u);
                        }
                    }
                }
                Err(e) if self.partial => {
                    fleet
                        .unread
                        .push(format!("Argo CD '{}': {}", self.argo_name(argo), e.message))
                }
                Err(e) => return Err(e),
            }
        }
        fleet.apply(match lease {
            Ok(l) => FleetUpdate::Lock(l.as_ref().and_then(super::lease::fleet_lock)),
            Err(e) => FleetUpdate::LockUnreadable(format!(
                "cannot read the operator Lease '{}' in '{}': {}",
                self.config.lock.name,
                self.config.lock.namespace,
                super::errors::say(&e)
            )),
        });
        // Decisions that cannot be read fail the gates that need them (closed), and leave a
        // rollback possible.
        fleet.apply(match decided {
            Ok(c) => FleetUpdate::Controls(c),
            Err(e) => FleetUpdate::ControlsUnknown(e.to_string()),
        });
        for (name, status) in probes {
            fleet.apply(FleetUpdate::ClusterStatus(status_of(&name, status, now)));
        }
        match alerts {
            Ok((Ok(alerts), silences)) => {
                fleet.apply(FleetUpdate::Alerts(alerts));
                match silences {
                    Ok(s) => fleet.apply(FleetUpdate::Silences(s)),
                    Err(e) => tracing::warn!("the silences cannot be read: {e}"),
                }
            }
            Ok((Err(e), _)) => fleet.apply(FleetUpdate::AlertsUnknown(e.to_string())),
            Err(e) => fleet.apply(FleetUpdate::AlertsUnknown(e)),
        }
        match branches {
            Ok((tiers, history)) => {
                for b in tiers {
                    fleet.apply(FleetUpdate::TierBranch(b));
                }
                fleet.apply(FleetUpdate::Releases(history.all()));
            }
            Err(e) if self.partial => fleet
                .unread
                .push(format!("the system repository: {}", e.message)),
            Err(e) => return Err(e),
        }
        fleet.refresh();
        Ok(fleet)
    }

    /// One Argo CD instance's labelled Applications.
    async fn read_argocd(
        &self,
        k: &Kubeconfig,
        file: &str,
        cp: &kube::Client,
        argo: &super::config::ArgoCd,
    ) -> Result<Vec<super::argocd::Application>, SourceError> {
        let source = SourceId::ArgoCd(self.argo_name(argo));
        let client = match argo.context.as_deref() {
            None => cp.clone(),
            Some(c) => self.clients.get(k, file, Some(c), source.clone()).await?,
        };
        let api: Api<super::argocd::Application> = Api::namespaced(client, &argo.namespace);
        let labelled = ListParams::default().labels(&argo.shopset_label);
        list_all(&api, &labelled).await.map_err(|e| SourceError {
            from: source,
            message: format!(
                "cannot list Argo CD Applications: {}",
                super::errors::say(&e)
            ),
        })
    }

    /// Every FleetCluster the control plane lists now, probed once through its context (each
    /// status said to hold since `now`).
    pub(super) async fn probe_round(
        &self,
        cp: &kube::Client,
        now: Ts,
    ) -> Result<Vec<crate::domain::ClusterStatus>, SourceError> {
        let (k, file) = self.kubeconfig()?;
        let clusters = list_all(
            &Api::<crds::FleetCluster>::all(cp.clone()),
            &ListParams::default(),
        )
        .await
        .map_err(|e| SourceError {
            from: SourceId::ControlPlane,
            message: format!("cannot list fleetclusters: {}", super::errors::say(&e)),
        })?;
        Ok(self
            .probe_clusters(&k, &file, &clusters, &self.clients)
            .await
            .into_iter()
            .map(|(name, r)| status_of(&name, r, now))
            .collect())
    }

    async fn probe_clusters(
        &self,
        k: &Kubeconfig,
        file: &str,
        clusters: &[crds::FleetCluster],
        clients: &Clients,
    ) -> Vec<(String, Result<probe::Probed, probe::Failed>)> {
        use futures::StreamExt;
        // A client per context, made once and kept (a context that cannot be used is tried
        // again next round).
        let probes: Vec<_> = clusters
            .iter()
            .map(|c| Self::probe_one(k, file, c, clients))
            .collect();
        // Side by side (at most PROBES_AT_ONCE), so a fleet of dead clusters costs one probe
        // timeout, not one per cluster; answers come back in the clusters' order.
        futures::stream::iter(probes)
            .buffered(PROBES_AT_ONCE)
            .collect()
            .await
    }

    async fn probe_one(
        k: &Kubeconfig,
        file: &str,
        cluster: &crds::FleetCluster,
        clients: &Clients,
    ) -> (String, Result<probe::Probed, probe::Failed>) {
        let name = kube::ResourceExt::name_any(cluster);
        let context = cluster.spec.context.clone().unwrap_or_else(|| name.clone());
        let source = SourceId::Cluster(name.clone());
        let r = match clients.get(k, file, Some(&context), source).await {
            Ok(client) => probe::probe(&client).await,
            Err(e) => Err(probe::failed(e.message)),
        };
        (name, r)
    }

    /// The configured label names that scope an alert to a ShopSet, tier or cluster.
    fn scope_labels(&self) -> crate::domain::AlertScopeLabels {
        let l = &self.config.alertmanager.labels;
        crate::domain::AlertScopeLabels {
            shopset: l.shopset.clone(),
            tier: l.tier.clone(),
            cluster: l.cluster.clone(),
        }
    }

    /// How an Argo CD instance is named as a source: its context (else the control plane's).
    fn argo_name(&self, argo: &super::config::ArgoCd) -> String {
        argo.context
            .clone()
            .or_else(|| self.config.control_plane.context.clone())
            .unwrap_or_else(|| "control plane".into())
    }

    fn git(&self) -> GitCache {
        GitCache {
            remote: self.config.git.remote.clone(),
            cache: self.config.git.cache.clone(),
        }
    }

    fn fleet_name(&self) -> String {
        self.config
            .control_plane
            .context
            .clone()
            .unwrap_or_else(|| "live".into())
    }

    /// Everything the live fleet says, to `tx`, until the receiver goes away.
    async fn run(self, tx: mpsc::Sender<SourceEvent>) {
        let problem = |source: SourceId, message: String| SourceEvent::Problem { source, message };
        let (k, file) = match self.kubeconfig() {
            Ok(k) => k,
            Err(e) => {
                let _ = tx.send(problem(e.from, e.message)).await;
                return;
            }
        };
        let cp_context = self.config.control_plane.context.clone();
        if tx
            .send(SourceEvent::Update(FleetUpdate::ScopeLabels(
                self.scope_labels(),
            )))
            .await
            .is_err()
        {
            return;
        }
        let clients = Clients::default();
        let mut tasks = Vec::new();
        // Each connection is made by its own task, and tried again until it works: a context
        // whose credential plugin fails at start (an expired SSO session) is not given up on.
        for argo in &self.config.argocd {
            let name = self.argo_name(argo);
            let context = argo.context.clone().or_else(|| cp_context.clone());
            let (kf, tx) = (self.config.control_plane.kubeconfig.clone(), tx.clone());
            let argo = argo.clone();
            let clients = clients.clone();
            tasks.push(tokio::spawn(async move {
                let source = SourceId::ArgoCd(name.clone());
                if let Some(c) =
                    connect(&clients, kf.as_deref(), context.as_deref(), source, &tx).await
                {
                    watch::argocd(c, name, argo, tx).await;
                }
            }));
        }
        match AlertmanagerClient::new(&self.config.alertmanager) {
            Ok(c) => tasks.push(tokio::spawn(alertmanager::poll(
                c,
                ALERTS_EVERY,
                tx.clone(),
            ))),
            Err(e) => {
                let _ = tx
                    .send(SourceEvent::Update(FleetUpdate::AlertsUnknown(
                        e.to_string(),
                    )))
                    .await;
                let _ = tx
                    .send(problem(SourceId::Alertmanager, e.to_string()))
                    .await;
            }
        }
        let cp_tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            let kf = self.config.control_plane.kubeconfig.clone();
            let Some(cp) = connect(
                &clients,
                kf.as_deref(),
                cp_context.as_deref(),
                SourceId::ControlPlane,
                &cp_tx,
            )
            .await
            else {
                return;
            };
            let watching = watch::control_plane(cp.clone(), cp_tx.clone());
            let lock = watch::lock(
                cp.clone(),
                self.config.lock.namespace.clone(),
                self.config.lock.name.clone(),
                cp_tx.clone(),
            );
            let controls = super::controls::watch(cp.clone(), cp_tx.clone());
            futures::join!(
                watching,
                lock,
                controls,
                self.clusters_and_git(k, file, cp, clients, cp_tx)
            );
        }));
        // Stops every task when this future is dropped (the console quits).
        let _stop = AbortAll(tasks);
        tx.closed().await;
    }

    /// Every round: the clusters probed through their contexts, the system repository fetched.
    async fn clusters_and_git(
        self,
        k: Kubeconfig,
        file: String,
        cp: kube::Client,
        clients: Clients,
        tx: mpsc::Sender<SourceEvent>,
    ) {
        let mut since: HashMap<String, (bool, Ts)> = HashMap::new();
        // The clusters as last listed: while the control plane cannot be read, they are still
        // probed (each through its own context), so an outage there does not freeze them `up`.
        let mut known: Vec<crds::FleetCluster> = Vec::new();
        loop {
            let lp = ListParams::default();
            if let Ok(clusters) = list_all(&Api::<crds::FleetCluster>::all(cp.clone()), &lp).await {
                known = clusters;
            }
            // The clusters probed and the system repository fetched side by side: a first
            // read takes as long as the slower of the two.
            let git = async {
                let tiers: Vec<(String, String)> =
                    list_all(&Api::<crds::Tier>::all(cp.clone()), &lp)
                        .await
                        .map(|l| {
                            l.iter()
                                .map(|t| (kube::ResourceExt::name_any(t), t.spec.branch.clone()))
                                .collect()
                        })
                        .unwrap_or_default();
                let cache = self.git();
                tokio::task::spawn_blocking(move || {
                    cache.fetch()?;
                    Ok::<_, crate::git::cache::LiveGitError>((
                        cache.tiers(&tiers)?,
                        cache.history(),
                    ))
                })
                .await
            };
            let (probed, read) =
                futures::join!(self.probe_clusters(&k, &file, &known, &clients), git);
            for (name, r) in probed {
                let now = Ts::now();
                let up = r.is_ok();
                let first = since.entry(name.clone()).or_insert((up, now));
                if first.0 != up {
                    *first = (up, now);
                }
                let at = first.1;
                let event = match &r {
                    Ok(_) => SourceEvent::Heartbeat {
                        source: SourceId::Cluster(name.clone()),
                        at: now,
                    },
                    Err(failed) => SourceEvent::Problem {
                        source: SourceId::Cluster(name.clone()),
                        message: failed.message.clone(),
                    },
                };
                let update =
                    SourceEvent::Update(FleetUpdate::ClusterStatus(status_of(&name, r, at)));
                if tx.send(update).await.is_err() || tx.send(event).await.is_err() {
                    return;
                }
            }
            let events = match read {
                Ok(Ok((branches, history))) => {
                    let mut ev: Vec<SourceEvent> = branches
                        .into_iter()
                        .map(|b| SourceEvent::Update(FleetUpdate::TierBranch(b)))
                        .collect();
                    ev.push(SourceEvent::Update(FleetUpdate::Releases(history.all())));
                    ev.push(SourceEvent::Heartbeat {
                        source: SourceId::Git,
                        at: Ts::now(),
                    });
                    ev
                }
                Ok(Err(e)) => vec![SourceEvent::Problem {
                    source: SourceId::Git,
                    message: e.to_string(),
                }],
                Err(e) => vec![SourceEvent::Problem {
                    source: SourceId::Git,
                    message: e.to_string(),
                }],
            };
            for ev in events {
                if tx.send(ev).await.is_err() {
                    return;
                }
            }
            tokio::time::sleep(PROBE_EVERY).await;
        }
    }
}

fn status_of(
    name: &str,
    r: Result<probe::Probed, probe::Failed>,
    since: Ts,
) -> crate::domain::ClusterStatus {
    use crate::domain::{ClusterStatus, Reachability};
    match r {
        Ok(p) => ClusterStatus {
            name: name.into(),
            reachability: Reachability::Reachable,
            reachability_since: Some(since),
            server_version: Some(p.version),
            nodes_ready: p.nodes_ready,
            nodes_total: p.nodes_total,
        },
        Err(_) => ClusterStatus {
            name: name.into(),
            reachability: Reachability::Unreachable,
            reachability_since: Some(since),
            server_version: None,
            nodes_ready: 0,
            nodes_total: 0,
        },
    }
}

/// Aborts its tasks when dropped.
struct AbortAll(Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortAll {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

impl FleetSource for LiveSource {
    fn tier_changes(
        &mut self,
        tiers: Vec<(String, String)>,
        since: Option<Ts>,
    ) -> BoxFuture<'_, Result<crate::backends::TierChanges, SourceError>> {
        let git = self.git();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let err = |message: String| SourceError {
                    from: SourceId::Git,
                    message,
                };
                git.fetch().map_err(|e| err(e.to_string()))?;
                crate::backends::read_tier_changes(&git.cache, &tiers, since, git.history())
            })
            .await
            .unwrap_or_else(|e| {
                Err(SourceError {
                    from: SourceId::Git,
                    message: e.to_string(),
                })
            })
        })
    }

    fn info(&self) -> SourceInfo {
        SourceInfo {
            fleet: self.fleet_name(),
            context: format!(
                "live:{} ({})",
                self.config
                    .control_plane
                    .context
                    .as_deref()
                    .unwrap_or("current-context"),
                self.config.file.display()
            ),
            mode: "live",
        }
    }

    fn snapshot(&mut self, now: Ts) -> BoxFuture<'_, Result<Fleet, SourceError>> {
        Box::pin(async move {
            tokio::time::timeout(SNAPSHOT_TIMEOUT, self.read(now))
                .await
                .unwrap_or_else(|_| {
                    Err(SourceError {
                        from: SourceId::ControlPlane,
                        message: format!(
                            "no complete answer from the control plane, Argo CD and Alertmanager within {} s",
                            SNAPSHOT_TIMEOUT.as_secs()
                        ),
                    })
                })
        })
    }

    fn watch(self: Box<Self>, tx: mpsc::Sender<SourceEvent>) -> BoxFuture<'static, ()> {
        Box::pin(self.run(tx))
    }
}

/// How long to wait before trying a connection again, at first and at most.
const CONNECT_RETRY: (std::time::Duration, std::time::Duration) = (
    std::time::Duration::from_secs(2),
    std::time::Duration::from_secs(60),
);

/// A client for `context`, tried again (2 s, doubling to 60 s) until it can be made — the
/// kubeconfig read afresh each time, so a context added or fixed meanwhile is found — each
/// failure reported as a problem of `source`; `None` once nobody listens.
async fn connect(
    clients: &Clients,
    kubeconfig_file: Option<&std::path::Path>,
    context: Option<&str>,
    source: SourceId,
    tx: &mpsc::Sender<SourceEvent>,
) -> Option<kube::Client> {
    let mut wait = CONNECT_RETRY.0;
    loop {
        let made = match kubeconfig::load(kubeconfig_file) {
            Ok((k, file)) => clients
                .get(&k, &file, context, source.clone())
                .await
                .map_err(|e| e.message),
            Err(e) => Err(e.to_string()),
        };
        match made {
            Ok(c) => return Some(c),
            Err(e) => {
                let message = format!("{e}; trying again in {} s", wait.as_secs());
                if tx
                    .send(SourceEvent::Problem {
                        source: source.clone(),
                        message,
                    })
                    .await
                    .is_err()
                {
                    return None;
                }
            }
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(CONNECT_RETRY.1);
    }
}
