//! The simulated world: Argo CD reacting to tier branches, component health, cluster
//! reachability and alerts — all pure functions of the recorded state and the clock, so every
//! process on one demo directory sees the same fleet.

use std::collections::BTreeMap;

use super::Scenario;
use super::topology::{ShopSetSpec, Topology};
use crate::domain::*;
use crate::git::read::{AppHistory, BranchState};

/// What the simulation needs besides the clock.
pub struct World<'a> {
    pub topology: &'a Topology,
    pub seed: u64,
    pub scenario: Scenario,
    pub created_at: Ts,
    /// Per tier (same order as `topology.tiers`), the branch as read from the system remote.
    pub branches: &'a [Option<BranchState>],
    pub history: &'a AppHistory,
    pub lock: Option<ReleaseLock>,
    /// The silences of the demo's Alertmanager: active ones mute the alerts they cover.
    pub silences: &'a [Silence],
}

/// The dynamic part of the fleet at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub clusters: Vec<Cluster>,
    pub tiers: Vec<Tier>,
    pub shopsets: Vec<ShopSet>,
    pub apps: Vec<AppStatus>,
    pub alerts: Vec<Alert>,
    pub lock: Option<ReleaseLock>,
    pub releases: Vec<Revision>,
    /// As read from the demo directory (filled in by the caller), or why it cannot be read.
    pub silences: Result<Vec<Silence>, String>,
    /// Halts, failed releases and approval requests, as read from the demo directory (filled
    /// in by the caller), or why they cannot be read.
    pub controls: Result<crate::domain::release::ReleaseControls, String>,
}

/// The cluster that fails in the `cluster-outage` scenario, and when (seconds after creation).
pub const OUTAGE_CLUSTER: &str = "b";
pub const OUTAGE_AFTER_SECS: i64 = 30;
const ALERT_WINDOW_SECS: i64 = 300;

pub fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn hash_str(seed: u64, s: &str) -> u64 {
    s.bytes()
        .fold(splitmix(seed), |h, b| splitmix(h ^ u64::from(b)))
}

impl World<'_> {
    fn outage_start(&self) -> Option<Ts> {
        (self.scenario == Scenario::ClusterOutage)
            .then(|| self.created_at.plus_secs(OUTAGE_AFTER_SECS))
    }

    fn cluster_down(&self, cluster: &str, now: Ts) -> bool {
        cluster == OUTAGE_CLUSTER && self.outage_start().is_some_and(|t| now >= t)
    }

    fn branch_of(&self, tier: &str) -> Option<&BranchState> {
        let i = self.topology.tiers.iter().position(|t| t.name == tier)?;
        self.branches.get(i)?.as_ref()
    }

    /// Seconds Argo CD takes to notice a new commit, and then to sync it, for one ShopSet.
    fn timings(&self, shopset: &str) -> (i64, i64) {
        let h = hash_str(self.seed, shopset);
        (2 + (h % 4) as i64, 8 + ((h >> 8) % 14) as i64)
    }

    /// A production ShopSet running the bad release degrades once it has synced to it.
    fn bad_release(&self, ss: &ShopSetSpec, base: Option<&str>) -> bool {
        self.scenario == Scenario::BadRelease
            && ss.configuration == "production"
            && base.is_some()
            && base == self.history.tip()
    }

    pub fn read(&self, now: Ts) -> Reading {
        let mut alerts = background_alerts(self, now);
        let mut apps = Vec::new();
        let mut shopsets = Vec::new();
        let mut degraded_tiers: BTreeMap<&str, Ts> = BTreeMap::new();

        for ss in &self.topology.shopsets {
            let mut components = Components::all(ComponentHealth::Up);
            let down = self.cluster_down(&ss.cluster, now);
            let app = match self.branch_of(&ss.tier) {
                None => AppStatus {
                    name: app_name(&ss.name),
                    shopset: ss.name.clone(),
                    sync: SyncStatus::Unknown,
                    health: HealthStatus::Missing,
                    operation: None,
                    revision: None,
                    app_revision: None,
                    last_sync_finished: None,
                    argo: AppDetail::default(),
                },
                Some(b) => {
                    // Every change of the branch, forward or back, is noticed after `detect`
                    // seconds and rolled out over `dur`; until then the previous head runs.
                    let (detect, dur) = self.timings(&ss.name);
                    let started = b.head_time.plus_secs(detect);
                    let finished = started.plus_secs(dur);
                    let prev_finished = b.previous_head_time.map(|t| t.plus_secs(detect + dur));
                    let mut app = AppStatus {
                        name: app_name(&ss.name),
                        shopset: ss.name.clone(),
                        sync: SyncStatus::Synced,
                        health: HealthStatus::Healthy,
                        operation: Some(OperationPhase::Succeeded),
                        revision: Some(b.head.clone()),
                        app_revision: b.base.clone(),
                        last_sync_finished: Some(finished),
                        argo: AppDetail::default(),
                    };
                    if now < started {
                        app.sync = SyncStatus::OutOfSync;
                        app.revision = b.previous_head.clone();
                        app.app_revision = b.previous_base.clone();
                        app.last_sync_finished = prev_finished;
                    } else if now < finished {
                        app.sync = SyncStatus::OutOfSync;
                        app.health = HealthStatus::Progressing;
                        app.operation = Some(OperationPhase::Running);
                        app.last_sync_finished = prev_finished;
                        components.shop_page = ComponentHealth::Progressing;
                        components.cart = ComponentHealth::Progressing;
                        components.api = ComponentHealth::Progressing;
                    }
                    // What is deployed, and since when: the head's app commit once its sync
                    // finished, the previous one until then.
                    let (deployed, deployed_at) = if now >= finished {
                        (b.base.as_deref(), Some(finished))
                    } else {
                        (b.previous_base.as_deref(), prev_finished)
                    };
                    if let Some(deployed_at) = deployed_at
                        && now >= deployed_at
                        && self.bad_release(ss, deployed)
                    {
                        if app.health == HealthStatus::Healthy {
                            app.health = HealthStatus::Degraded;
                        }
                        components.cart = ComponentHealth::Degraded;
                        components.api = ComponentHealth::Degraded;
                        let since = deployed_at.plus_secs(5);
                        if now >= since {
                            alerts.push(alert(
                                "CheckoutErrorRateHigh",
                                Severity::Critical,
                                since,
                                "checkout 5xx rate above 5% since the last rollout",
                                &[
                                    ("shopset", &ss.name),
                                    ("tier", &ss.tier),
                                    ("cluster", &ss.cluster),
                                ],
                            ));
                            let first = degraded_tiers.entry(ss.tier.as_str()).or_insert(since);
                            *first = (*first).min(since);
                        }
                    }
                    app
                }
            };
            let app = if down {
                components = Components::all(ComponentHealth::Down);
                AppStatus {
                    sync: SyncStatus::Unknown,
                    health: HealthStatus::Unknown,
                    operation: None,
                    ..app
                }
            } else {
                app
            };
            for a in alerts
                .iter()
                .filter(|a| a.label("shopset") == Some(&ss.name))
            {
                degrade_component(&mut components, &a.name);
            }
            let mut app = app;
            app.argo = simulated_detail(&app, &ss.name, &components);
            apps.push(app);
            shopsets.push(ShopSet {
                name: ss.name.clone(),
                tier: ss.tier.clone(),
                configuration: ss.configuration.clone(),
                cluster: ss.cluster.clone(),
                capacity: ss.capacity,
                components,
            });
        }
        for (tier, since) in degraded_tiers {
            let since = since.plus_secs(15);
            if now >= since {
                alerts.push(alert(
                    "ShopSetErrorBudgetBurn",
                    Severity::Critical,
                    since,
                    "error budget burning 14x faster than allowed",
                    &[("tier", tier)],
                ));
            }
        }
        if let Some(start) = self.outage_start().filter(|t| now >= *t) {
            alerts.push(alert(
                "ClusterUnreachable",
                Severity::Critical,
                start.plus_secs(10),
                "API server and ingress of the cluster do not answer",
                &[("cluster", OUTAGE_CLUSTER)],
            ));
        }
        alerts.retain(|a| a.since <= now);
        for a in &mut alerts {
            a.silenced_by = self
                .silences
                .iter()
                .filter(|s| s.is_active() && s.covers(&a.labels))
                .map(|s| s.id.clone())
                .collect();
            if !a.silenced_by.is_empty() {
                a.state = AlertState::Suppressed;
            }
        }
        alerts.sort_by_key(|a| (a.severity, std::cmp::Reverse(a.since)));

        let clusters = self
            .topology
            .clusters
            .iter()
            .map(|c| {
                let down = self.cluster_down(&c.name, now);
                let not_ready = alerts
                    .iter()
                    .filter(|a| a.name == "NodeNotReady" && a.label("cluster") == Some(&c.name))
                    .count() as u32;
                Cluster {
                    name: c.name.clone(),
                    provider: c.provider.clone(),
                    failure_domain: c.failure_domain.clone(),
                    server_version: Some(c.server_version.clone()),
                    reachability: if down {
                        Reachability::Unreachable
                    } else {
                        Reachability::Reachable
                    },
                    reachability_since: Some(if down {
                        self.outage_start().unwrap_or(self.created_at)
                    } else {
                        self.created_at
                    }),
                    nodes_ready: if down {
                        0
                    } else {
                        c.nodes.saturating_sub(not_ready)
                    },
                    nodes_total: c.nodes,
                    cordoned: c.cordoned,
                    drain: c.drain.clone(),
                }
            })
            .collect();

        let tiers = self
            .topology
            .tiers
            .iter()
            .zip(self.branches)
            .map(|(t, b)| Tier {
                name: t.name.clone(),
                level: t.level,
                branch: super::repos::tier_branch(t.level),
                revision: b
                    .as_ref()
                    .and_then(|b| b.base.as_deref())
                    .map(|id| self.history.revision(id)),
                updated_at: b.as_ref().map(|b| b.head_time),
                head: b.as_ref().map(|b| b.head.clone()),
                previous: b
                    .as_ref()
                    .and_then(|b| b.previous_base.as_deref())
                    .map(|id| self.history.revision(id)),
                soak_secs: t.soak_secs,
                approval: t.approval,
                auto_rollback: t.auto_rollback,
            })
            .collect();

        Reading {
            clusters,
            tiers,
            shopsets,
            apps,
            alerts,
            lock: self.lock.clone(),
            releases: self.history.all(),
            silences: Ok(Vec::new()),
            controls: Ok(Default::default()),
        }
    }
}

/// The series the demo simulates for verification, per ShopSet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Share of checkout requests answered with a 5xx.
    CheckoutErrorRatio,
    /// The 99th percentile of request latency, in seconds.
    LatencyP99,
}

impl Metric {
    pub const ALL: [(&'static str, Metric); 2] = [
        ("checkout_error_ratio", Metric::CheckoutErrorRatio),
        ("latency_p99_seconds", Metric::LatencyP99),
    ];

    pub fn named(name: &str) -> Option<Metric> {
        Metric::ALL
            .iter()
            .find(|(n, _)| *n == name.trim())
            .map(|(_, m)| *m)
    }
}

impl World<'_> {
    /// The app commit `ss` ran at `t`, and whether it was rolling out then.
    fn deployed_at(&self, ss: &ShopSetSpec, t: Ts) -> (Option<&str>, bool) {
        let Some(b) = self.branch_of(&ss.tier) else {
            return (None, false);
        };
        let (detect, dur) = self.timings(&ss.name);
        let started = b.head_time.plus_secs(detect);
        let finished = started.plus_secs(dur);
        if t >= finished {
            (b.base.as_deref(), false)
        } else {
            (b.previous_base.as_deref(), t >= started)
        }
    }

    /// One sample of `metric` for `ss` at `t`; none while its cluster is down (nothing
    /// reports). Noise is a pure function of the seed, the ShopSet and the minute; the bad
    /// release raises errors and latency on the production ShopSets that run it, from the moment
    /// its rollout finishes (before any alert fires); an outage shifts load onto the other
    /// ShopSets of a tier and raises their errors a little.
    pub fn sample(&self, metric: Metric, ss: &ShopSetSpec, t: Ts) -> Option<f64> {
        if self.cluster_down(&ss.cluster, t) {
            return None;
        }
        let noise =
            (hash_str(self.seed ^ t.secs().div_euclid(60) as u64, &ss.name) % 1000) as f64 / 1000.0;
        let (deployed, rolling) = self.deployed_at(ss, t);
        let bad = self.bad_release(ss, deployed);
        let shifted = self
            .topology
            .shopsets
            .iter()
            .any(|o| o.tier == ss.tier && self.cluster_down(&o.cluster, t));
        Some(match metric {
            Metric::CheckoutErrorRatio => {
                let mut v = 0.0005 + 0.0025 * noise;
                if shifted {
                    v += 0.002;
                }
                if bad {
                    v += 0.06;
                }
                v
            }
            Metric::LatencyP99 => {
                let mut v = 0.16 + 0.12 * noise;
                if rolling {
                    v += 0.1;
                }
                if shifted {
                    v += 0.08;
                }
                if bad {
                    v += 1.2;
                }
                v
            }
        })
    }
}

pub fn app_name(shopset: &str) -> String {
    format!("shopset-{}", shopset.to_ascii_lowercase())
}

fn alert(
    name: &str,
    severity: Severity,
    since: Ts,
    summary: &str,
    scope: &[(&str, &str)],
) -> Alert {
    let mut labels: BTreeMap<String, String> = scope
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    labels.insert("alertname".into(), name.into());
    labels.insert("severity".into(), severity.as_str().into());
    Alert {
        name: name.into(),
        severity,
        state: AlertState::Active,
        labels,
        since,
        summary: summary.into(),
        silenced_by: Vec::new(),
    }
}

fn degrade_component(c: &mut Components, alert: &str) {
    let slot = match alert {
        "ShopPageLatencyHigh" => &mut c.shop_page,
        "CartErrorRateElevated" => &mut c.cart,
        "TLSHandshakeErrors" => &mut c.proxy,
        "LBBackendFlapping" => &mut c.lb,
        "APISlowQueries" => &mut c.api,
        _ => return,
    };
    if *slot == ComponentHealth::Up {
        *slot = ComponentHealth::Degraded;
    }
}

struct Kind {
    name: &'static str,
    severity: Severity,
    cluster_scoped: bool,
    summary: &'static str,
}

const KINDS: [Kind; 7] = [
    Kind {
        name: "ShopPageLatencyHigh",
        severity: Severity::Warning,
        cluster_scoped: false,
        summary: "p99 shop page latency above 800 ms",
    },
    Kind {
        name: "CartErrorRateElevated",
        severity: Severity::Warning,
        cluster_scoped: false,
        summary: "cart 5xx rate above 1%",
    },
    Kind {
        name: "TLSHandshakeErrors",
        severity: Severity::Warning,
        cluster_scoped: false,
        summary: "TLS handshake failures above 0.5%",
    },
    Kind {
        name: "LBBackendFlapping",
        severity: Severity::Info,
        cluster_scoped: false,
        summary: "L4 LB backends changing state",
    },
    Kind {
        name: "APISlowQueries",
        severity: Severity::Info,
        cluster_scoped: false,
        summary: "slow queries on the API database",
    },
    Kind {
        name: "NodeNotReady",
        severity: Severity::Warning,
        cluster_scoped: true,
        summary: "a node has been NotReady for 5 minutes",
    },
    Kind {
        name: "CertificateExpiresSoon",
        severity: Severity::Info,
        cluster_scoped: false,
        summary: "a shop's custom-domain certificate expires in 14 days",
    },
];

/// Day-to-day noise: a few warnings and infos come and go every few minutes; some are silenced.
fn background_alerts(world: &World<'_>, now: Ts) -> Vec<Alert> {
    let sets = &world.topology.shopsets;
    let clusters = &world.topology.clusters;
    let mut out = Vec::new();
    if sets.is_empty() || clusters.is_empty() {
        return out;
    }
    let w_now = now.secs().div_euclid(ALERT_WINDOW_SECS);
    for w in (w_now - 2)..=w_now {
        let h = splitmix(world.seed ^ (w as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
        for i in 0..(h % 3) {
            let r = splitmix(h.wrapping_add(i + 1));
            let kind = &KINDS[(r % KINDS.len() as u64) as usize];
            let start = Ts::from_secs(w * ALERT_WINDOW_SECS + ((r >> 8) % 240) as i64);
            let end = start.plus_secs(90 + ((r >> 16) % 330) as i64);
            if now < start || now >= end {
                continue;
            }
            let mut a = if kind.cluster_scoped {
                let c = &clusters[((r >> 24) as usize) % clusters.len()];
                if world.cluster_down(&c.name, now) {
                    continue;
                }
                alert(
                    kind.name,
                    kind.severity,
                    start,
                    kind.summary,
                    &[("cluster", &c.name)],
                )
            } else {
                let ss = &sets[((r >> 24) as usize) % sets.len()];
                if world.cluster_down(&ss.cluster, now) {
                    continue;
                }
                alert(
                    kind.name,
                    kind.severity,
                    start,
                    kind.summary,
                    &[
                        ("shopset", &ss.name),
                        ("tier", &ss.tier),
                        ("cluster", &ss.cluster),
                    ],
                )
            };
            if (r >> 40).is_multiple_of(4) {
                a.state = AlertState::Suppressed;
            }
            out.push(a);
        }
    }
    out
}

/// What the demo's Argo CD says of an Application beyond its summary: where its last sync
/// went, and its stack's resources that are not up, with the messages Argo CD gives such
/// resources.
fn simulated_detail(app: &AppStatus, shopset: &str, stack: &Components) -> AppDetail {
    let mut detail = AppDetail::default();
    if app.operation == Some(OperationPhase::Succeeded) {
        detail.message = Some("successfully synced (all tasks run)".into());
        if let Some(r) = &app.revision {
            detail.synced_revisions = vec![r.clone()];
        }
    }
    for ((kind, suffix), h) in Components::RESOURCES.iter().zip(stack.as_array()) {
        let name = format!("{shopset}-{suffix}");
        let message = match h {
            ComponentHealth::Up => continue,
            ComponentHealth::Progressing => {
                "Waiting for rollout to finish: 1 of 3 updated replicas are available..."
                    .to_string()
            }
            ComponentHealth::Degraded => {
                format!("{kind} \"{name}\" exceeded its progress deadline")
            }
            ComponentHealth::Down | ComponentHealth::Unknown => {
                "the cluster does not answer".to_string()
            }
        };
        detail.resources.push(ResourceProblem {
            kind: kind.to_string(),
            name,
            sync: app.sync,
            health: Some(HealthStatus::of_component(h)),
            message: Some(message),
        });
    }
    detail.resources_not_ok = detail.resources.len();
    detail
}
