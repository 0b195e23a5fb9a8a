//! `shopctl status`: the whole fleet as tables or JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::cli::Output;
use crate::domain::drains::{UnfinishedDrain, unfinished_drains};
use crate::domain::{Fleet, Ts};
use crate::ops::audit::AuditEntry;

#[derive(Serialize)]
struct StatusJson<'a> {
    fleet: &'a str,
    generated_at: String,
    clusters: Vec<ClusterJson<'a>>,
    tiers: Vec<TierJson<'a>>,
    shopsets: Vec<ShopSetJson<'a>>,
    shops: Vec<ShopJson<'a>>,
    apps: Vec<AppJson<'a>>,
    alerts: Vec<AlertJson<'a>>,
    violations: Vec<ViolationJson>,
    /// The operator lock when held (`{"holder", "acquired_at", "expires_at"}`), else null.
    lock: Option<LockJson<'a>>,
    /// Why the lock cannot be read, when it cannot.
    lock_problem: Option<&'a str>,
    /// Why the alerts cannot be known (Alertmanager unreachable), when they cannot.
    alerts_unknown: Option<&'a str>,
    /// Sources that could not be read (an Argo CD instance, the system repository), each
    /// message naming its source; what they would have said is missing from the rest.
    unread: &'a [String],
    /// Drains started and not finished.
    unfinished_drains: Vec<UnfinishedDrain>,
    /// Steps of sessions that have ended whose intent the audit log holds without an outcome
    /// (killed after a push, say): the next read-write start reconciles them.
    unreconciled_steps: Vec<UnreconciledJson<'a>>,
}

#[derive(Serialize)]
struct UnreconciledJson<'a> {
    id: Option<&'a str>,
    action: &'a str,
    operator: &'a str,
    time: &'a str,
    tier: Option<&'a str>,
    cluster: Option<&'a str>,
    shop: Option<&'a str>,
}

#[derive(Serialize)]
struct LockJson<'a> {
    holder: &'a str,
    /// What the holder is doing (`draining 'c'`), when it said.
    operation: Option<&'a str>,
    acquired_at: String,
    expires_at: String,
}

#[derive(Serialize)]
struct ClusterJson<'a> {
    name: &'a str,
    provider: &'a str,
    failure_domain: &'a str,
    reachable: bool,
    cordoned: bool,
    server_version: Option<&'a str>,
    nodes_ready: u32,
    nodes_total: u32,
}

#[derive(Serialize)]
struct TierJson<'a> {
    name: &'a str,
    level: u8,
    branch: &'a str,
    revision: Option<&'a str>,
    revision_tag: Option<&'a str>,
    revision_subject: Option<&'a str>,
    soak_secs: u32,
}

#[derive(Serialize)]
struct ShopSetJson<'a> {
    name: &'a str,
    tier: &'a str,
    cluster: &'a str,
    configuration: &'a str,
    capacity: u32,
    shop_count: u32,
    components: BTreeMap<&'static str, crate::domain::ComponentHealth>,
}

#[derive(Serialize)]
struct ShopJson<'a> {
    name: &'a str,
    redundancy: &'static str,
    shopsets: &'a [String],
}

#[derive(Serialize)]
struct AppJson<'a> {
    name: &'a str,
    shopset: &'a str,
    sync: String,
    health: String,
    operation: Option<String>,
    revision: Option<&'a str>,
    app_revision: Option<&'a str>,
    /// The last operation's message.
    message: Option<&'a str>,
    /// Resources that are not Synced or not Healthy, worst first.
    resources_not_ok: &'a [crate::domain::ResourceProblem],
}

#[derive(Serialize)]
struct AlertJson<'a> {
    name: &'a str,
    severity: &'static str,
    state: crate::domain::AlertState,
    labels: &'a BTreeMap<String, String>,
    since: String,
    summary: &'a str,
    /// The ids of the silences muting it.
    silenced_by: &'a [String],
}

#[derive(Serialize)]
struct ViolationJson {
    kind: &'static str,
    detail: String,
}

/// Renders `shopctl status` in the requested format; `open` are the audit log's steps of ended
/// sessions that have no outcome.
pub fn status(fleet: &Fleet, output: Output, now: Ts, open: &[AuditEntry]) -> String {
    match output {
        Output::Json => status_json(fleet, now, open),
        Output::Table => status_table(fleet, now, open),
    }
}

/// A step without an outcome, as `status` names it.
fn step_of(e: &AuditEntry) -> String {
    let on = e
        .tier
        .as_deref()
        .or(e.shop.as_deref())
        .or(e.cluster.as_deref())
        .unwrap_or_default();
    format!("{} '{on}' by {} at {}", e.action, e.operator, e.time)
}

fn status_json(f: &Fleet, now: Ts, open: &[AuditEntry]) -> String {
    let out = StatusJson {
        fleet: &f.name,
        generated_at: now.rfc3339(),
        clusters: f
            .clusters
            .iter()
            .map(|c| ClusterJson {
                name: &c.name,
                provider: &c.provider,
                failure_domain: &c.failure_domain,
                reachable: c.is_reachable(),
                cordoned: c.cordoned,
                server_version: c.server_version.as_deref(),
                nodes_ready: c.nodes_ready,
                nodes_total: c.nodes_total,
            })
            .collect(),
        tiers: f
            .tiers
            .iter()
            .map(|t| TierJson {
                name: &t.name,
                level: t.level,
                branch: &t.branch,
                revision: t.revision.as_ref().map(|r| r.id.as_str()),
                revision_tag: t.revision.as_ref().and_then(|r| r.tag.as_deref()),
                revision_subject: t.revision.as_ref().map(|r| r.subject.as_str()),
                soak_secs: t.soak_secs,
            })
            .collect(),
        shopsets: f
            .shopsets
            .iter()
            .map(|s| ShopSetJson {
                name: &s.name,
                tier: &s.tier,
                cluster: &s.cluster,
                configuration: &s.configuration,
                capacity: s.capacity,
                shop_count: f.shop_count(&s.name),
                components: ["lb", "proxy", "shop_page", "cart", "api"]
                    .into_iter()
                    .zip(f.stack(s).as_array())
                    .collect(),
            })
            .collect(),
        shops: f
            .shops
            .iter()
            .map(|s| ShopJson {
                name: &s.name,
                redundancy: s.redundancy.as_str(),
                shopsets: &s.shopsets,
            })
            .collect(),
        apps: f
            .apps
            .iter()
            .map(|a| AppJson {
                name: &a.name,
                shopset: &a.shopset,
                sync: a.sync.to_string(),
                health: a.health.to_string(),
                operation: a.operation.map(|o| o.to_string()),
                revision: a.revision.as_deref(),
                app_revision: a.app_revision.as_deref(),
                message: a.argo.message.as_deref(),
                resources_not_ok: &a.argo.resources,
            })
            .collect(),
        alerts: f
            .alerts
            .iter()
            .map(|a| AlertJson {
                name: &a.name,
                severity: a.severity.as_str(),
                state: a.state,
                labels: &a.labels,
                since: a.since.rfc3339(),
                summary: &a.summary,
                silenced_by: &a.silenced_by,
            })
            .collect(),
        violations: f
            .violations()
            .iter()
            .map(|v| ViolationJson {
                kind: v.kind(),
                detail: v.to_string(),
            })
            .collect(),
        lock: f.lock_holder(now).map(|l| LockJson {
            holder: &l.holder,
            operation: l.operation.as_deref(),
            acquired_at: l.acquired_at.rfc3339(),
            expires_at: l.expires_at.rfc3339(),
        }),
        lock_problem: f.lock_problem.as_deref(),
        alerts_unknown: f.alerts_unknown.as_deref(),
        unread: &f.unread,
        unfinished_drains: unfinished_drains(f),
        unreconciled_steps: open
            .iter()
            .map(|e| UnreconciledJson {
                id: e.id.as_deref(),
                action: &e.action,
                operator: &e.operator,
                time: &e.time,
                tier: e.tier.as_deref(),
                cluster: e.cluster.as_deref(),
                shop: e.shop.as_deref(),
            })
            .collect(),
    };
    let mut s =
        serde_json::to_string_pretty(&out).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

fn status_table(f: &Fleet, now: Ts, open: &[AuditEntry]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "FLEET {}  at {}", f.name, now.rfc3339());
    let _ = writeln!(
        s,
        "\nCLUSTERS\n{:<8} {:<9} {:<6} {:<12} {:<9} {:<20} NODES",
        "NAME", "PROVIDER", "FD", "STATE", "CORDON", "VERSION"
    );
    for c in &f.clusters {
        let _ = writeln!(
            s,
            "{:<8} {:<9} {:<6} {:<12} {:<9} {:<20} {}/{}",
            c.name,
            c.provider,
            c.failure_domain,
            if c.is_reachable() {
                "reachable"
            } else {
                "UNREACHABLE"
            },
            if c.cordoned { "cordoned" } else { "-" },
            c.server_version.as_deref().unwrap_or("?"),
            c.nodes_ready,
            c.nodes_total
        );
    }
    let _ = writeln!(
        s,
        "\nTIERS\n{:<3} {:<10} {:<8} {:<17} SUBJECT",
        "LVL", "NAME", "BRANCH", "REVISION"
    );
    for t in &f.tiers {
        let (label, subject) = t
            .revision
            .as_ref()
            .map(|r| (r.label(), r.subject.clone()))
            .unwrap_or_else(|| ("?".into(), String::new()));
        let _ = writeln!(
            s,
            "{:<3} {:<10} {:<8} {:<17} {}",
            t.level, t.name, t.branch, label, subject
        );
    }
    let _ = writeln!(
        s,
        "\nSHOPSETS\n{:<7} {:<10} {:<8} {:<11} {:>11} {:<10} {:<12}",
        "NAME", "TIER", "CLUSTER", "CONFIG", "SHOPS/CAP", "SYNC", "HEALTH"
    );
    for ss in &f.shopsets {
        let app = f.app_for(&ss.name);
        let _ = writeln!(
            s,
            "{:<7} {:<10} {:<8} {:<11} {:>11} {:<10} {:<12}",
            ss.name,
            ss.tier,
            ss.cluster,
            ss.configuration,
            format!("{}/{}", f.shop_count(&ss.name), ss.capacity),
            app.map(|a| a.sync.to_string())
                .unwrap_or_else(|| "-".into()),
            app.map(|a| a.health.to_string())
                .unwrap_or_else(|| "-".into()),
        );
    }
    let dual = f
        .shops
        .iter()
        .filter(|s| s.redundancy == crate::domain::Redundancy::Dual)
        .count();
    let _ = writeln!(
        s,
        "\nSHOPS {} ({} dual, {} single)",
        f.shops.len(),
        dual,
        f.shops.len() - dual
    );
    let _ = writeln!(s, "\nALERTS");
    if let Some(why) = &f.alerts_unknown {
        // Never "none" while nothing is known: what is listed below is the last that was read.
        let _ = writeln!(s, "? unknown: {why}");
    } else if f.alerts.is_empty() {
        let _ = writeln!(s, "none");
    }
    for a in &f.alerts {
        let _ = writeln!(
            s,
            "{:<9} {:<10} {:<24} {:<18} since {}",
            a.severity.as_str(),
            match a.state {
                crate::domain::AlertState::Active => "active",
                crate::domain::AlertState::Suppressed => "silenced",
            },
            a.name,
            a.scope(&f.scope_labels),
            a.since.hhmmss()
        );
    }
    let v = f.violations();
    let _ = writeln!(
        s,
        "\nINVARIANTS {}",
        if v.is_empty() {
            "all hold".to_string()
        } else {
            format!("{} violated", v.len())
        }
    );
    for x in v.iter().take(20) {
        let _ = writeln!(s, "  {x}");
    }
    if v.len() > 20 {
        let _ = writeln!(s, "  … and {} more", v.len() - 20);
    }
    match (f.lock_holder(now), &f.lock_problem) {
        (_, Some(why)) => {
            let _ = writeln!(s, "\nLOCK ✗ {why}");
        }
        (Some(l), None) => {
            let _ = writeln!(
                s,
                "\nLOCK held by {} until {}",
                l.who(),
                l.expires_at.hhmmss()
            );
        }
        (None, None) => {}
    }
    for why in &f.unread {
        let _ = writeln!(s, "\nUNREAD ✗ {why}");
    }
    for d in unfinished_drains(f) {
        let _ = writeln!(s, "\nDRAIN ▲ {}", d.advice());
    }
    for e in open {
        let _ = writeln!(
            s,
            "\nAUDIT ▲ {} has no outcome in the audit log (its session is not running here); a read-write start reconciles it once that session has ended",
            step_of(e)
        );
    }
    s
}
