//! `shopctl silence`: Alertmanager's silences listed, created for the alerts matchers select,
//! and expired — each write confirmed, under the operator lock, through the executor.

use std::fmt::Write as _;

use serde::Serialize;

use super::{Exit, ask, ops_exit, snapshot};
use crate::backends::FleetSource;
use crate::domain::silence::{format_matchers, parse_duration, parse_matchers};
use crate::domain::{Fleet, Silence, Ts};
use std::sync::Arc;

use crate::ops::{Mutation, Operations};

#[derive(Serialize)]
struct SilenceJson<'a> {
    id: &'a str,
    /// `active`, `pending` or `expired`.
    state: &'static str,
    /// Alertmanager's matcher syntax: `alertname="X" cluster=~"b|c"`.
    matchers: String,
    starts_at: String,
    ends_at: String,
    created_by: &'a str,
    comment: &'a str,
    /// How many of the alerts firing now it mutes.
    muting: usize,
}

fn muting(fleet: &Fleet, s: &Silence) -> usize {
    fleet
        .alerts
        .iter()
        .filter(|a| a.silenced_by.contains(&s.id))
        .count()
}

/// Every silence, active and pending first; as a table or JSON. When Alertmanager's state cannot
/// be read, why (the list would be a guess).
pub fn list(fleet: &Fleet, json: bool, now: Ts) -> Result<String, String> {
    if let Some(why) = &fleet.alerts_unknown {
        return Err(format!("the silences cannot be read: {why}"));
    }
    Ok(list_known(fleet, json, now))
}

fn list_known(fleet: &Fleet, json: bool, now: Ts) -> String {
    if json {
        let rows: Vec<SilenceJson<'_>> = fleet
            .silences
            .iter()
            .map(|s| SilenceJson {
                id: &s.id,
                state: s.state.as_str(),
                matchers: format_matchers(&s.matchers),
                starts_at: s.starts_at.rfc3339(),
                ends_at: s.ends_at.rfc3339(),
                created_by: &s.created_by,
                comment: &s.comment,
                muting: muting(fleet, s),
            })
            .collect();
        return serde_json::to_string_pretty(&rows).unwrap_or_else(|_| "[]".into()) + "\n";
    }
    let mut out = String::new();
    if fleet.silences.is_empty() {
        out.push_str("no silences\n");
        return out;
    }
    let _ = writeln!(
        out,
        "{:<36}  {:<8}  {:>6}  {:<20}  {:<20}  MATCHERS",
        "ID", "STATE", "MUTING", "ENDS", "BY"
    );
    for s in &fleet.silences {
        let ends = if s.is_active() {
            format!(
                "in {}",
                crate::domain::silence::format_duration(now.secs_until(s.ends_at).max(0))
            )
        } else {
            s.ends_at.rfc3339()
        };
        let _ = writeln!(
            out,
            "{:<36}  {:<8}  {:>6}  {:<20}  {:<20}  {}",
            crate::domain::printable(&s.id),
            s.state.as_str(),
            muting(fleet, s),
            ends,
            crate::domain::printable(&s.created_by),
            format_matchers(&s.matchers)
        );
    }
    out
}

/// Executes `m` (silences are not held under the operator lock: see [`Mutation::needs`]).
async fn execute(ops: &Arc<Operations>, m: &Mutation) -> Result<crate::ops::Done, Exit> {
    crate::ops::service::execute(ops, m.clone(), |_| {})
        .await
        .map_err(ops_exit)
}

fn confirmed(m: &Mutation, yes: bool) -> Result<(), Exit> {
    if yes {
        return Ok(());
    }
    match ask(&format!("{}? Type 'yes' to go ahead:", m.summary()), "yes")? {
        true => Ok(()),
        false => {
            eprintln!("shopctl: not confirmed; nothing changed");
            Err(Exit::Refused)
        }
    }
}

/// `silence create MATCHER… --for D --comment TEXT`.
pub async fn create(
    source: &mut dyn FleetSource,
    ops: Option<&Arc<Operations>>,
    matchers: &[String],
    duration: &str,
    comment: &str,
    yes: bool,
) -> Exit {
    let Some(ops) = ops else {
        eprintln!("shopctl: read-only: 'silence create' is refused (started with --readonly)");
        return Exit::ReadOnly;
    };
    let ex = ops.executor();
    let matchers = match parse_matchers(&matchers.join(" ")) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("shopctl: matchers: {e}");
            return Exit::Refused;
        }
    };
    let duration_secs = match parse_duration(duration) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("shopctl: --for: {e}");
            return Exit::Refused;
        }
    };
    let comment = crate::domain::printable_lines(comment).trim().to_string();
    if comment.is_empty() {
        eprintln!("shopctl: --comment: say why the alerts are silenced");
        return Exit::Refused;
    }
    let now = Ts::now();
    let fleet = match snapshot(source, now).await {
        Ok(f) => f,
        Err(e) => return e,
    };
    let hits: Vec<&str> = fleet
        .alerts
        .iter()
        .filter(|a| crate::domain::silence::all_match(&matchers, &a.labels))
        .map(|a| a.name.as_str())
        .collect();
    eprintln!(
        "matches {} alert{} firing now{}",
        hits.len(),
        if hits.len() == 1 { "" } else { "s" },
        if hits.is_empty() {
            String::new()
        } else {
            format!(": {}", hits.join(", "))
        }
    );
    // Already so: the silence that does it, and success (a retried script gets its id).
    let wanted = crate::ops::silence::NewSilence {
        matchers: matchers.clone(),
        starts_at: now,
        ends_at: now.plus_secs(duration_secs),
        created_by: ex.operator().to_string(),
        comment: comment.clone(),
    };
    if let Some(s) = crate::ops::silence::covering(&fleet.silences, &wanted) {
        eprintln!(
            "silence {} already mutes these alerts until {}; nothing to do",
            s.id,
            s.ends_at.rfc3339()
        );
        crate::outln!("{}", s.id);
        return Exit::Done;
    }
    let m = Mutation::Silence {
        matchers,
        duration_secs,
        comment,
    };
    if let Err(e) = ex.permitted(&m) {
        return ops_exit(e);
    }
    if let Err(e) = confirmed(&m, yes) {
        return e;
    }
    match execute(ops, &m).await {
        Ok(done) => {
            crate::outln!("{}", done.silence.unwrap_or_default());
            eprintln!("{}: done", m.summary());
            Exit::Done
        }
        Err(e) => e,
    }
}

/// `silence expire ID`.
pub async fn expire(
    source: &mut dyn FleetSource,
    ops: Option<&Arc<Operations>>,
    id: &str,
    yes: bool,
) -> Exit {
    let Some(ops) = ops else {
        eprintln!("shopctl: read-only: 'silence expire' is refused (started with --readonly)");
        return Exit::ReadOnly;
    };
    let ex = ops.executor();
    let now = Ts::now();
    let fleet = match snapshot(source, now).await {
        Ok(f) => f,
        Err(e) => return e,
    };
    let Some(s) = fleet.silences.iter().find(|s| s.id == id) else {
        // Not "no such silence" when the silences cannot be read at all: say why.
        match &fleet.alerts_unknown {
            Some(why) => eprintln!("shopctl: the silences cannot be read: {why}"),
            None => eprintln!("shopctl: no silence '{id}' (see 'shopctl silence list')"),
        }
        return Exit::Error;
    };
    let m = Mutation::ExpireSilence {
        id: s.id.clone(),
        matchers: s.matchers.clone(),
    };
    if let Err(e) = ex.permitted(&m) {
        return ops_exit(e);
    }
    if let Err(e) = confirmed(&m, yes) {
        return e;
    }
    match execute(ops, &m).await {
        Ok(_) => {
            crate::outln!("{}: done", m.summary());
            Exit::Done
        }
        Err(e) => e,
    }
}
