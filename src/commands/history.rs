//! `shopctl release history`: every promotion and rollback of every tier (or one), read back
//! from the tier branches' commits, with who, when, from → to, the gate, the approval and the
//! outcome.

use std::fmt::Write as _;

use serde::Serialize;

use super::{Exit, snapshot};
use crate::backends::FleetSource;
use crate::domain::Ts;
use crate::domain::release::history::{Action, ReleaseEvent, events};

/// The JSON document (`-o json`); `version` changes only when a field changes meaning.
#[derive(Serialize)]
struct HistoryJson<'a> {
    version: u32,
    /// The earliest time looked at (RFC 3339), when `--since` was given.
    since: Option<String>,
    events: &'a [ReleaseEvent],
}

/// `--since`: a duration back from now (`30d`, `12h`, `1w`), a date (`2026-11-01`, midnight
/// UTC) or a time (RFC 3339).
pub fn parse_since(s: &str, now: Ts) -> Result<Ts, String> {
    let t = s.trim();
    if let Some(ts) = Ts::parse_rfc3339(t) {
        return Ok(ts);
    }
    if let Some(ts) = Ts::parse_rfc3339(&format!("{t}T00:00:00Z")) {
        return Ok(ts);
    }
    let bad = || format!("'{t}' is neither a duration (30d, 12h, 1w) nor a date (2026-11-01)");
    let secs = crate::domain::time::parse_span(t).map_err(|_| bad())?;
    if secs <= 0 {
        return Err(bad());
    }
    Ok(now.plus_secs(-secs.min(100 * 365 * 86_400)))
}

pub async fn history(
    source: &mut dyn FleetSource,
    tier: Option<&str>,
    since: Option<&str>,
    json: bool,
) -> Exit {
    let now = Ts::now();
    let since = match since.map(|s| parse_since(s, now)).transpose() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("shopctl: --since: {e}");
            return Exit::Refused;
        }
    };
    let fleet = match snapshot(source, now).await {
        Ok(f) => f,
        Err(e) => return e,
    };
    if let Some(name) = tier
        && fleet.tier(name).is_none()
    {
        let names: Vec<&str> = fleet.tiers.iter().map(|t| t.name.as_str()).collect();
        eprintln!(
            "shopctl: unknown tier '{name}' (tiers: {})",
            names.join(", ")
        );
        return Exit::Refused;
    }
    let tiers: Vec<(String, String)> = fleet
        .tiers
        .iter()
        .filter(|t| tier.is_none_or(|n| n == t.name))
        .map(|t| (t.name.clone(), t.branch.clone()))
        .collect();
    let changes = match source.tier_changes(tiers, since).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("shopctl: {e}");
            return Exit::Error;
        }
    };
    let tag = |id: &str| changes.app.revision(id).tag;
    let events = events(&fleet, &changes.tiers, &tag);
    if json {
        let doc = HistoryJson {
            version: 1,
            since: since.map(Ts::rfc3339),
            events: &events,
        };
        match serde_json::to_string_pretty(&doc) {
            Ok(s) => crate::outln!("{s}"),
            Err(e) => {
                eprintln!("shopctl: {e}");
                return Exit::Error;
            }
        }
    } else {
        crate::outln!("{}", table(&events));
    }
    Exit::Done
}

/// The history as a table, newest last, each change's reason, approval or cause below it.
pub fn table(events: &[ReleaseEvent]) -> String {
    if events.is_empty() {
        return "no promotion or rollback in the time looked at".into();
    }
    let rows: Vec<[String; 7]> = events
        .iter()
        .map(|e| {
            let label = |r: &Option<crate::domain::release::history::Rev>| {
                r.as_ref().map_or("nothing".into(), |r| r.label())
            };
            [
                e.at.rfc3339(),
                e.tier.clone(),
                match e.action {
                    Action::Promote => "promote",
                    Action::Rollback => "rollback",
                    Action::Change => "change",
                }
                .into(),
                format!("{} → {}", label(&e.from), label(&e.to)),
                e.by.clone(),
                e.gate.clone().unwrap_or_else(|| "-".into()),
                match e.settled_after_secs {
                    Some(s) => format!("{} in {}", e.outcome.name(), crate::domain::time::age(s)),
                    None => e.outcome.name().into(),
                },
            ]
        })
        .collect();
    let heads = [
        "TIME",
        "TIER",
        "ACTION",
        "FROM → TO",
        "BY",
        "GATE",
        "OUTCOME",
    ];
    let widths: Vec<usize> = (0..heads.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([heads[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[&str]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = line(&heads);
    for (row, e) in rows.iter().zip(events) {
        let cells: Vec<&str> = row.iter().map(String::as_str).collect();
        let _ = write!(out, "\n{}", line(&cells));
        let indent = " ".repeat(widths[0] + 2);
        if !e.overridden.is_empty() {
            let _ = write!(
                out,
                "\n{indent}overrode {}: {}",
                e.overridden.join(", "),
                e.reason.as_deref().unwrap_or("")
            );
        }
        if let Some(by) = &e.approved_by {
            let _ = write!(out, "\n{indent}approved by {by}");
        }
        if let Some(cause) = &e.cause {
            let _ = write!(out, "\n{indent}cause: {cause}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_duration_a_date_or_a_time() {
        let now = Ts::parse_rfc3339("2026-12-07T12:00:00Z").expect("time");
        assert_eq!(parse_since("30d", now), Ok(now.plus_secs(-30 * 86_400)));
        assert_eq!(parse_since("1w2d", now), Ok(now.plus_secs(-9 * 86_400)));
        assert_eq!(
            parse_since("2026-11-01", now),
            Ok(Ts::parse_rfc3339("2026-11-01T00:00:00Z").expect("date"))
        );
        assert_eq!(
            parse_since("2026-12-01T08:30:00Z", now),
            Ok(Ts::parse_rfc3339("2026-12-01T08:30:00Z").expect("time"))
        );
        for bad in ["", "30", "yesterday", "0d", "-3d", "3x"] {
            let e = parse_since(bad, now).expect_err(bad);
            assert!(e.contains("neither a duration"), "{bad}: {e}");
        }
    }
}
