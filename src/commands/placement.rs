//! `shopctl reassign`, `drain plan`, `drain` and `restore`.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Arc;

use super::{Exit, ask, ops_exit, snapshot};
use crate::backends::FleetSource;
use crate::domain::placement::{DrainPlan, check_move_with, plan_drain, plan_restore};
use crate::domain::{Fleet, Ts};
use crate::ops::drain::{DrainReport, PlanKind, PlanRequest, StopFlag, StopReason, drain_id};
use crate::ops::service::{execute as execute_mutation, run_plan_to_end};
use crate::ops::{Capability, Mutation, Operations};

fn known_cluster(fleet: &Fleet, cluster: &str) -> Result<(), Exit> {
    if fleet.cluster(cluster).is_none() {
        let names: Vec<&str> = fleet.clusters.iter().map(|c| c.name.as_str()).collect();
        eprintln!(
            "shopctl: unknown cluster '{cluster}' (clusters: {})",
            names.join(", ")
        );
        return Err(Exit::Error);
    }
    Ok(())
}

/// What every placement command does first: refuse in read-only mode or when the session's
/// credentials may not write a drain or restore (before any plan is shown or confirmation
/// asked), read the fleet, check the cluster exists and that no other operator holds the lock.
async fn prepare<'e>(
    source: &mut dyn FleetSource,
    ops: Option<&'e Arc<Operations>>,
    cluster: &str,
    command: &str,
) -> Result<(&'e Arc<Operations>, Fleet, Ts), Exit> {
    let Some(ops) = ops else {
        eprintln!("shopctl: read-only: '{command}' is refused (started with --readonly)");
        return Err(Exit::ReadOnly);
    };
    let ex = ops.executor();
    // A drain and a restore both cordon (or uncordon), move shops, and hold the lock.
    ex.permits(&[Capability::Cordon, Capability::Placement, Capability::Lock])
        .map_err(ops_exit)?;
    let now = Ts::now();
    let fleet = snapshot(source, now).await?;
    known_cluster(&fleet, cluster)?;
    if let Some(l) = fleet.lock_holder(now).filter(|l| !ex.holder().owns(l)) {
        eprintln!(
            "shopctl: locked by {} until {}",
            l.who(),
            l.expires_at.hhmmss()
        );
        return Err(Exit::Locked);
    }
    Ok((ops, fleet, now))
}

/// The plan as operators read it: flows source → target with counts, loads after, blockers.
pub fn plan_text(fleet: &Fleet, plan: &DrainPlan, verb: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{verb} cluster '{}': {} shops move, {} blocked",
        plan.cluster,
        plan.moves.len(),
        plan.blockers.len()
    );
    for (from, to, n) in plan.flows() {
        let _ = writeln!(s, "  {from:>8} → {to:<10} {n:>6} shops");
    }
    let loads = plan.loads_after(fleet);
    if !loads.is_empty() {
        let _ = writeln!(s, "load after:");
        for (ss, n, cap) in loads {
            let _ = writeln!(
                s,
                "  {ss:>8} {n:>6}/{cap:<6} {:>3}%",
                (u64::from(n) * 100)
                    .checked_div(u64::from(cap))
                    .unwrap_or(0)
            );
        }
    }
    if !plan.degraded.is_empty() {
        let _ = writeln!(
            s,
            "accepted degraded redundancy (one ShopSet): {}",
            plan.degraded.join(", ")
        );
    }
    if !plan.blockers.is_empty() {
        let _ = writeln!(s, "blockers:");
        for b in plan.blockers.iter().take(50) {
            let _ = writeln!(s, "  {:<24} {}", b.shop, b.reason);
        }
        if plan.blockers.len() > 50 {
            let _ = writeln!(s, "  … and {} more", plan.blockers.len() - 50);
        }
    }
    s
}

/// `drain plan CLUSTER [-o json]`.
pub async fn drain_plan(source: &mut dyn FleetSource, cluster: &str, json: bool) -> Exit {
    let fleet = match snapshot(source, Ts::now()).await {
        Ok(f) => f,
        Err(e) => return e,
    };
    if let Err(e) = known_cluster(&fleet, cluster) {
        return e;
    }
    let plan = plan_drain(&fleet, cluster, &HashSet::new());
    if json {
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&plan).unwrap_or_default()
        );
    } else {
        crate::out!("{}", plan_text(&fleet, &plan, "drain"));
    }
    Exit::Done
}

/// Confirmation by typing the cluster's name (or `--yes`); anything else moves nothing.
fn confirm_typed(cluster: &str, yes: bool) -> Result<(), Exit> {
    if yes
        || ask(
            &format!("Type the cluster's name ('{cluster}') to go ahead:"),
            cluster,
        )?
    {
        return Ok(());
    }
    eprintln!("shopctl: the typed name is not '{cluster}'; nothing moved");
    Err(Exit::Refused)
}

/// Runs a confirmed drain or restore holding the operator lock, with progress on stderr, and
/// reports what it did. SIGTERM, SIGHUP or SIGINT stop it after the current batch (audited as
/// interrupted; exit 1, saying how to continue).
async fn execute(
    ops: &Arc<Operations>,
    verb: &str,
    req: &PlanRequest,
    stop: &Arc<StopFlag>,
) -> Exit {
    if stop.reason().is_some() {
        let _ = writeln!(
            std::io::stderr(),
            "shopctl: interrupted before anything moved"
        );
        return Exit::Error;
    }
    if let Err(e) = ops.executor().permits(crate::ops::drain::PLAN_NEEDS) {
        return ops_exit(e);
    }
    let result = run_plan_to_end(ops, req.clone(), Arc::clone(stop), |done, total| {
        // A closed stderr (a dropped session) must not stop the drain.
        let _ = writeln!(std::io::stderr(), "  {done}/{total} shops");
    })
    .await;
    if let Ok(r) = &result
        && r.moved > 0
    {
        let secs = r.moving_ms as f64 / 1000.0;
        let _ = writeln!(
            std::io::stderr(),
            "  {} shops moved in {secs:.1} s ({:.0} shops/s)",
            r.moved,
            r.moved as f64 / secs.max(0.001)
        );
    }
    match result {
        Ok(r) if r.stopped == Some(StopReason::Interrupted) => {
            report(verb, &req.cluster, &r);
            let _ = writeln!(
                std::io::stderr(),
                "shopctl: interrupted after the current batch; run 'shopctl {} {}' to continue",
                if req.kind == PlanKind::Drain {
                    "drain"
                } else {
                    "restore"
                },
                req.cluster
            );
            Exit::Error
        }
        Ok(r) => {
            report(verb, &req.cluster, &r);
            Exit::Done
        }
        Err(e) => ops_exit(e),
    }
}

/// Asks `stop` to interrupt on SIGTERM, SIGHUP and SIGINT, on a thread of its own.
fn stop_on_signals(stop: &Arc<StopFlag>) -> Option<signal_hook::iterator::Handle> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT]).ok()?;
    let handle = signals.handle();
    let stop = Arc::clone(stop);
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if signals.forever().next().is_some() {
                stop.stop(StopReason::Interrupted);
            }
        })
        .ok()?;
    Some(handle)
}

fn report(verb: &str, cluster: &str, r: &DrainReport) {
    let what = if r.stopped_early() {
        // Not "drained": it stopped part-way.
        let noun = if verb == "drained" {
            "drain"
        } else {
            "restore"
        };
        format!("{noun} of '{cluster}' stopped")
    } else {
        format!("{verb} '{cluster}'")
    };
    crate::outln!(
        "{what} ({}): {} shops moved, {} already in place, {} skipped",
        r.drain,
        r.moved,
        r.already,
        r.skipped.len(),
    );
    for (shop, why) in r.skipped.iter().take(20) {
        crate::outln!("  skipped {shop}: {why}");
    }
}

/// `drain CLUSTER [--yes] [--accept-degraded SHOP,...]`.
pub async fn drain(
    source: &mut dyn FleetSource,
    ops: Option<&Arc<Operations>>,
    cluster: &str,
    yes: bool,
    accept: &[String],
) -> Exit {
    let (ops, fleet, now) = match prepare(source, ops, cluster, "drain").await {
        Ok(p) => p,
        Err(e) => return e,
    };
    let accept: HashSet<String> = accept
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    // A name that is not a shop of this cluster is a typo, not an acceptance.
    let mut stray: Vec<&String> = accept
        .iter()
        .filter(|s| {
            fleet
                .shops
                .iter()
                .find(|x| x.name == **s)
                .is_none_or(|shop| {
                    !shop
                        .shopsets
                        .iter()
                        .any(|ss| fleet.shopset(ss).is_some_and(|ss| ss.cluster == cluster))
                })
        })
        .collect();
    if !stray.is_empty() {
        stray.sort();
        let names: Vec<String> = stray.iter().map(|s| format!("'{s}'")).collect();
        eprintln!(
            "shopctl: --accept-degraded names {} that {} no shop on cluster '{cluster}'; nothing moved",
            names.join(", "),
            if stray.len() == 1 { "is" } else { "are" }
        );
        return Exit::Refused;
    }
    let plan = plan_drain(&fleet, cluster, &accept);
    eprint!("{}", plan_text(&fleet, &plan, "drain"));
    if !plan.blockers.is_empty() {
        eprintln!(
            "shopctl: {} shops cannot be placed; nothing moved. Free capacity, or accept degraded redundancy for named dual shops with --accept-degraded",
            plan.blockers.len()
        );
        return Exit::Refused;
    }
    if let Err(e) = confirm_typed(cluster, yes) {
        return e;
    }
    // From the confirmation on, a signal stops the work cleanly (before it starts, or after the
    // current batch) instead of killing the process while it holds the lock.
    let stop = Arc::new(StopFlag::default());
    let signals = stop_on_signals(&stop);
    let id = drain_id(
        cluster,
        fleet.cluster(cluster).and_then(|c| c.drain.as_deref()),
        now,
    );
    let req = PlanRequest {
        kind: PlanKind::Drain,
        cluster: cluster.into(),
        drain: id,
        accepted: accept,
        confirmed: plan,
    };
    let exit = execute(ops, "drained", &req, &stop).await;
    if let Some(handle) = signals {
        handle.close();
    }
    exit
}

/// `restore CLUSTER [--yes]`.
pub async fn restore(
    source: &mut dyn FleetSource,
    ops: Option<&Arc<Operations>>,
    cluster: &str,
    yes: bool,
) -> Exit {
    let (ops, fleet, _now) = match prepare(source, ops, cluster, "restore").await {
        Ok(p) => p,
        Err(e) => return e,
    };
    let Some(id) = fleet.cluster(cluster).and_then(|c| c.drain.clone()) else {
        eprintln!("shopctl: cluster '{cluster}' has no drain to restore");
        return Exit::Refused;
    };
    let plan = plan_restore(&fleet, cluster, &id);
    eprint!("{}", plan_text(&fleet, &plan, "restore"));
    let waiting: Vec<(String, String)> = plan
        .blockers
        .iter()
        .map(|b| (b.shop.clone(), b.reason.clone()))
        .collect();
    if let Err(e) = confirm_typed(cluster, yes) {
        return e;
    }
    // From the confirmation on, a signal stops the work cleanly (before it starts, or after the
    // current batch) instead of killing the process while it holds the lock.
    let stop = Arc::new(StopFlag::default());
    let signals = stop_on_signals(&stop);
    let req = PlanRequest {
        kind: PlanKind::Restore,
        cluster: cluster.into(),
        drain: id,
        accepted: HashSet::new(),
        confirmed: plan,
    };
    let exit = execute(ops, "restored", &req, &stop).await;
    if let Some((shop, why)) = waiting.first()
        && exit == Exit::Done
    {
        eprintln!(
            "{} shop{} not back yet ({shop}: {why}); the drain record stays, and 'shopctl restore {cluster}' moves {} once {} can",
            waiting.len(),
            if waiting.len() == 1 { " is" } else { "s are" },
            if waiting.len() == 1 { "it" } else { "them" },
            if waiting.len() == 1 { "it" } else { "they" },
        );
    }
    if let Some(handle) = signals {
        handle.close();
    }
    exit
}

/// `reassign SHOP --to X[,Y] [--yes]`.
pub async fn reassign(
    source: &mut dyn FleetSource,
    ops: Option<&Arc<Operations>>,
    shop: &str,
    to: &[String],
    tier_change: bool,
    yes: bool,
) -> Exit {
    let Some(ops) = ops else {
        eprintln!("shopctl: read-only: 'reassign' is refused (started with --readonly)");
        return Exit::ReadOnly;
    };
    let ex = ops.executor();
    let now = Ts::now();
    let fleet = match snapshot(source, now).await {
        Ok(f) => f,
        Err(e) => return e,
    };
    let Some(s) = fleet.shops.iter().find(|s| s.name == shop) else {
        eprintln!("shopctl: unknown shop '{shop}'");
        return Exit::Error;
    };
    let to: Vec<String> = to
        .iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    eprintln!(
        "{}: {} → {}",
        s.name,
        s.shopsets.join(" + "),
        to.join(" + ")
    );
    if s.is_on(&to) {
        crate::outln!(
            "shop '{}' is already on {}; nothing to do",
            s.name,
            to.join(" + ")
        );
        return Exit::Done;
    }
    let broken: Vec<String> = check_move_with(&fleet, s, &to, tier_change)
        .iter()
        .map(ToString::to_string)
        .collect();
    if !broken.is_empty() {
        for b in &broken {
            eprintln!("  ✗ {b}");
        }
        eprintln!(
            "shopctl: refused: the move breaks {} rule{}",
            broken.len(),
            if broken.len() == 1 { "" } else { "s" }
        );
        return Exit::Refused;
    }
    if let Some(l) = fleet.lock_holder(now).filter(|l| !ex.holder().owns(l)) {
        eprintln!(
            "shopctl: locked by {} until {}",
            l.who(),
            l.expires_at.hhmmss()
        );
        return Exit::Locked;
    }
    let m = Mutation::Reassign {
        shop: s.name.clone(),
        from: s.shopsets.clone(),
        to,
        tier_change,
    };
    if let Err(e) = ex.permitted(&m) {
        return ops_exit(e);
    }
    if tier_change {
        eprintln!("this moves the shop to another tier (--change-tier)");
    }
    let confirmed = if yes {
        Ok(true)
    } else {
        ask(&format!("{}? Type 'yes' to go ahead:", m.summary()), "yes")
    };
    match confirmed {
        Ok(true) => {}
        Ok(false) => {
            eprintln!("shopctl: not confirmed; nothing changed");
            return Exit::Refused;
        }
        Err(e) => return e,
    }
    // The lock is taken after the answer: a slow answer neither shortens the lock nor judges
    // on old data.
    match execute_mutation(ops, m.clone(), |_| {}).await {
        Ok(_) => {
            crate::outln!("{}: done", m.summary());
            Exit::Done
        }
        Err(e) => ops_exit(e),
    }
}
