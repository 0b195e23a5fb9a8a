//! Verification by metrics: per tier, queries that must hold over the soak. Alerts are tuned to
//! page people and fire late; an error ratio catches a bad build before it moves up a tier.
//! What is measured, and how a measurement is judged, is pure; the backends fetch the samples
//! (Prometheus in live mode, the demo's simulated series).

use serde::{Deserialize, Serialize};

use super::settled::{settled_at, synced_at};
use crate::domain::fleet::Fleet;
use crate::domain::time::{Ts, countdown};

/// One verification, as the configuration's `[[verification]]` gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verification {
    pub name: String,
    /// A PromQL query; `{tier}`, `{shopsets}` and `{clusters}` are replaced by the tier's name
    /// and regular expressions matching its ShopSets and clusters. In the demo, the name of a
    /// simulated series.
    pub query: String,
    pub compare: Compare,
    pub threshold: f64,
    /// Seconds the condition must have held; `None` means the tier's soak time.
    #[serde(default)]
    pub hold_secs: Option<u32>,
}

/// How a value must compare with the threshold to pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Compare {
    #[serde(rename = "<")]
    Below,
    #[serde(rename = "<=")]
    AtMost,
    #[serde(rename = ">")]
    Above,
    #[serde(rename = ">=")]
    AtLeast,
}

impl Compare {
    pub fn parse(s: &str) -> Option<Compare> {
        match s.trim() {
            "<" => Some(Compare::Below),
            "<=" => Some(Compare::AtMost),
            ">" => Some(Compare::Above),
            ">=" => Some(Compare::AtLeast),
            _ => None,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Compare::Below => "<",
            Compare::AtMost => "<=",
            Compare::Above => ">",
            Compare::AtLeast => ">=",
        }
    }

    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Compare::Below => value < threshold,
            Compare::AtMost => value <= threshold,
            Compare::Above => value > threshold,
            Compare::AtLeast => value >= threshold,
        }
    }

    /// Of two values, the one further on the failing side.
    fn worse(self, a: f64, b: f64) -> f64 {
        match self {
            Compare::Below | Compare::AtMost => a.max(b),
            Compare::Above | Compare::AtLeast => a.min(b),
        }
    }
}

/// What is measured for one tier: its ShopSets and clusters over a span of time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub tier: String,
    /// The app commit the tier runs (what the measurement speaks for).
    pub revision: Option<String>,
    /// The start of the measurement: when the tier finished syncing its release, at most
    /// [`LOOKBACK_SECS`] (or the hold time, if longer) ago. Samples from before are the
    /// release it replaced.
    pub from: Ts,
    /// The tier has finished syncing its release (healthy or not): until then nothing it
    /// serves says anything about the release.
    pub synced: bool,
    pub to: Ts,
    /// When the tier finished its rollout, if it has.
    pub settled: Option<Ts>,
    pub soak_secs: u32,
    pub shopsets: Vec<String>,
    pub clusters: Vec<String>,
}

/// How far back a measurement looks at most, beyond the hold time.
pub const LOOKBACK_SECS: i64 = 15 * 60;

/// How old the newest sample may be for a verification to pass.
pub const RECENT_SECS: i64 = 120;

impl Window {
    /// The query with its placeholders filled in. ShopSet and cluster names become regular
    /// expressions (`a-1|a-2`, dots escaped) for `=~` matchers.
    pub fn render(&self, query: &str) -> String {
        let alternatives = |names: &[String]| {
            if names.is_empty() {
                // Matches nothing: a tier without ShopSets has nothing to verify.
                return "^$".to_string();
            }
            names
                .iter()
                .map(|n| n.replace('.', "\\\\."))
                .collect::<Vec<_>>()
                .join("|")
        };
        query
            .replace("{tier}", &self.tier)
            .replace("{shopsets}", &alternatives(&self.shopsets))
            .replace("{clusters}", &alternatives(&self.clusters))
    }

    fn hold(&self, v: &Verification) -> i64 {
        i64::from(v.hold_secs.unwrap_or(self.soak_secs))
    }
}

/// What to measure now: every tier that runs a known revision.
pub fn windows(fleet: &Fleet, now: Ts, verifications: &[Verification]) -> Vec<Window> {
    if verifications.is_empty() {
        return Vec::new();
    }
    let longest_hold = |soak: u32| {
        verifications
            .iter()
            .map(|v| i64::from(v.hold_secs.unwrap_or(soak)))
            .max()
            .unwrap_or(0)
    };
    fleet
        .tiers
        .iter()
        .filter(|t| t.revision.is_some())
        .map(|t| {
            let mut shopsets = Vec::new();
            let mut clusters: Vec<String> = Vec::new();
            for ss in fleet.shopsets_of_tier(&t.name) {
                shopsets.push(ss.name.clone());
                if !clusters.contains(&ss.cluster) {
                    clusters.push(ss.cluster.clone());
                }
            }
            let earliest = now.plus_secs(-(LOOKBACK_SECS.max(longest_hold(t.soak_secs))));
            let synced = synced_at(fleet, t);
            Window {
                tier: t.name.clone(),
                revision: t.revision.as_ref().map(|r| r.id.clone()),
                from: synced.map_or(now, |s| s.max(earliest)).min(now),
                synced: synced.is_some(),
                to: now,
                settled: settled_at(fleet, t),
                soak_secs: t.soak_secs,
                shopsets,
                clusters,
            }
        })
        .collect()
}

/// One series of samples, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// What tells it apart from the query's other series (`{shopset="a-1"}`).
    pub labels: String,
    pub samples: Vec<(Ts, f64)>,
}

/// Where one verification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Held over the whole hold time since the tier settled.
    Passed,
    /// Holds so far, not yet for long enough (or the tier has not settled).
    Holding,
    /// A sample broke the threshold.
    Failed,
    /// No samples, or the metrics cannot be read: never taken for a pass.
    Unknown,
}

/// One verification's result for one tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    pub name: String,
    /// The query as sent.
    pub query: String,
    pub compare: Compare,
    pub threshold: f64,
    /// The worst value in the window; none without samples.
    pub value: Option<f64>,
    pub status: Status,
    pub detail: String,
}

/// Every verification's result for one tier, for the revision it ran when measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierVerification {
    pub tier: String,
    pub revision: Option<String>,
    pub at: Ts,
    pub checks: Vec<Measured>,
}

impl TierVerification {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.status == Status::Passed)
    }

    /// A verification broke its threshold: what makes the release watcher roll back.
    pub fn failed(&self) -> Option<&Measured> {
        self.checks.iter().find(|c| c.status == Status::Failed)
    }
}

/// Formats a measured value compactly: `0.0123`, `1.2e-05`, `230`.
pub fn value_label(v: f64) -> String {
    if v == 0.0 || (1e-3..1e6).contains(&v.abs()) {
        let s = format!("{v:.4}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    } else {
        format!("{v:.2e}")
    }
}

/// Judges one verification over `window` from what the metrics source returned.
pub fn judge(v: &Verification, window: &Window, got: Result<Vec<Series>, String>) -> Measured {
    let query = window.render(&v.query);
    let measured = |value, status, detail| Measured {
        name: v.name.clone(),
        query: query.clone(),
        compare: v.compare,
        threshold: v.threshold,
        value,
        status,
        detail,
    };
    if !window.synced {
        return measured(
            None,
            Status::Holding,
            format!(
                "{} is measured once '{}' has finished syncing",
                v.name, window.tier
            ),
        );
    }
    let series = match got {
        Ok(s) => s,
        Err(why) => return measured(None, Status::Unknown, format!("cannot be measured: {why}")),
    };
    let mut worst: Option<f64> = None;
    let mut breach: Option<(Ts, f64, &str)> = None;
    let mut count = 0usize;
    let mut latest: Option<Ts> = None;
    for s in &series {
        for &(t, value) in &s.samples {
            // NaN is no sample (0/0: no traffic); an infinity is a value, and a bad one for a
            // latency quantile beyond its last bucket.
            if t < window.from || t > window.to || value.is_nan() {
                continue;
            }
            count += 1;
            latest = Some(latest.map_or(t, |l| l.max(t)));
            worst = Some(worst.map_or(value, |w| v.compare.worse(w, value)));
            if !v.compare.holds(value, v.threshold) && breach.is_none_or(|(bt, _, _)| t < bt) {
                breach = Some((t, value, &s.labels));
            }
        }
    }
    let rule = format!("{} {}", v.compare.symbol(), value_label(v.threshold));
    if let Some((t, value, labels)) = breach {
        let on = if labels.is_empty() {
            String::new()
        } else {
            format!(" on {labels}")
        };
        return measured(
            worst,
            Status::Failed,
            format!(
                "{} on '{}' was {} at {}{on} (must be {rule})",
                v.name,
                window.tier,
                value_label(value),
                t.hhmmss()
            ),
        );
    }
    let Some(w) = worst else {
        return measured(
            None,
            Status::Unknown,
            format!(
                "{} has no samples for '{}' since {}",
                v.name,
                window.tier,
                window.from.hhmmss()
            ),
        );
    };
    // A series that stopped (pods gone, no traffic) is not a pass on what it said before.
    if let Some(last) = latest.filter(|l| l.secs_until(window.to) > RECENT_SECS) {
        return measured(
            Some(w),
            Status::Unknown,
            format!(
                "{} has no samples for '{}' since {} (the series stopped)",
                v.name,
                window.tier,
                last.hhmmss()
            ),
        );
    }
    let hold = window.hold(v);
    let held = window.settled.map(|s| {
        s.secs_until(window.to)
            .min(window.from.secs_until(window.to))
    });
    match held {
        Some(held) if held >= hold => measured(
            Some(w),
            Status::Passed,
            format!(
                "{} worst {} {rule} over {} ({count} samples)",
                v.name,
                value_label(w),
                countdown(held)
            ),
        ),
        Some(held) => measured(
            Some(w),
            Status::Holding,
            format!(
                "{} worst {} {rule}, held {} of {}",
                v.name,
                value_label(w),
                countdown(held.max(0)),
                countdown(hold)
            ),
        ),
        None => measured(
            Some(w),
            Status::Holding,
            format!(
                "{} worst {} {rule}; holds from when '{}' settles",
                v.name,
                value_label(w),
                window.tier
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::release::testing::{NOW, fleet};

    fn ratio() -> Verification {
        Verification {
            name: "error-ratio".into(),
            query: "sum(rate(errors{shopset=~\"{shopsets}\"}[1m]))".into(),
            compare: Compare::Below,
            threshold: 0.01,
            hold_secs: Some(120),
        }
    }

    fn window(settled: Option<Ts>) -> Window {
        Window {
            tier: "dev".into(),
            revision: None,
            from: NOW.plus_secs(-400),
            synced: true,
            to: NOW,
            settled,
            soak_secs: 120,
            shopsets: vec!["d-1".into(), "d.2".into()],
            clusters: vec!["a".into()],
        }
    }

    fn series(values: &[(i64, f64)]) -> Vec<Series> {
        vec![Series {
            labels: "{shopset=\"d-1\"}".into(),
            samples: values
                .iter()
                .map(|&(ago, v)| (NOW.plus_secs(-ago), v))
                .collect(),
        }]
    }

    #[test]
    fn placeholders_become_the_tiers_names() {
        assert_eq!(
            window(None).render(&ratio().query),
            "sum(rate(errors{shopset=~\"d-1|d\\\\.2\"}[1m]))"
        );
    }

    #[test]
    fn held_long_enough_passes_a_breach_fails_and_nothing_is_unknown() {
        let w = window(Some(NOW.plus_secs(-300)));
        let ok = judge(&ratio(), &w, Ok(series(&[(290, 0.002), (10, 0.004)])));
        assert_eq!(ok.status, Status::Passed, "{ok:?}");
        assert_eq!(ok.value, Some(0.004));
        let bad = judge(&ratio(), &w, Ok(series(&[(290, 0.002), (100, 0.08)])));
        assert_eq!(bad.status, Status::Failed);
        assert!(
            bad.detail.contains("0.08") && bad.detail.contains("< 0.01"),
            "{}",
            bad.detail
        );
        // A breach before the window (an earlier release) does not count.
        let old = judge(&ratio(), &w, Ok(series(&[(500, 0.5), (10, 0.001)])));
        assert_eq!(old.status, Status::Passed);
        let none = judge(&ratio(), &w, Ok(Vec::new()));
        assert_eq!(none.status, Status::Unknown);
        let dead = judge(&ratio(), &w, Err("connection refused".into()));
        assert_eq!(dead.status, Status::Unknown);
        assert!(dead.detail.contains("connection refused"));
        // NaN (0/0 with no traffic) is no sample.
        let nan = judge(&ratio(), &w, Ok(series(&[(10, f64::NAN)])));
        assert_eq!(nan.status, Status::Unknown);
        // +Inf (a quantile beyond the last bucket) is a value, and breaks the threshold.
        let inf = judge(&ratio(), &w, Ok(series(&[(10, f64::INFINITY)])));
        assert_eq!(inf.status, Status::Failed);
        // A series that stopped long ago does not pass on what it said then.
        let stopped = judge(&ratio(), &w, Ok(series(&[(290, 0.001)])));
        assert_eq!(stopped.status, Status::Unknown, "{stopped:?}");
    }

    #[test]
    fn a_tier_settled_recently_is_holding_until_the_hold_time_passed() {
        let w = window(Some(NOW.plus_secs(-60)));
        let m = judge(&ratio(), &w, Ok(series(&[(30, 0.001)])));
        assert_eq!(m.status, Status::Holding);
        assert!(m.detail.contains("held 1m00s of 2m00s"), "{}", m.detail);
        let w = window(None);
        assert_eq!(
            judge(&ratio(), &w, Ok(series(&[(30, 0.001)]))).status,
            Status::Holding
        );
        let higher = Verification {
            compare: Compare::AtLeast,
            threshold: 0.99,
            ..ratio()
        };
        let w = window(Some(NOW.plus_secs(-300)));
        let m = judge(&higher, &w, Ok(series(&[(30, 0.995), (20, 0.97)])));
        assert_eq!((m.status, m.value), (Status::Failed, Some(0.97)));
    }

    #[test]
    fn every_tier_running_something_is_measured_from_its_last_change() {
        let f = fleet();
        let ws = windows(&f, NOW, &[ratio()]);
        assert_eq!(ws.len(), 2);
        // From when dev finished syncing (300 s ago), not from the branch change before it.
        assert_eq!(ws[0].from, NOW.plus_secs(-300));
        assert_eq!(ws[0].shopsets, ["D-1", "D-2"]);
        assert_eq!(ws[0].clusters, ["A", "B"]);
        assert!(windows(&f, NOW, &[]).is_empty());
    }
}
