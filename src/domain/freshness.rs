//! How current the data is, per source: the control plane, each workload cluster, each Argo CD,
//! Alertmanager and git. One healthy source never hides a dead one: the worst one decides.

use std::collections::BTreeMap;
use std::fmt;

use super::time::Ts;

/// Where a piece of the fleet's data comes from.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum SourceId {
    /// The shopset.dev resources (demo: the demo directory).
    ControlPlane,
    /// One workload cluster, through its own context.
    Cluster(String),
    /// One Argo CD instance.
    ArgoCd(String),
    Alertmanager,
    /// The system repository.
    Git,
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceId::ControlPlane => f.write_str("control plane"),
            SourceId::Cluster(c) => write!(f, "cluster {c}"),
            SourceId::ArgoCd(a) => write!(f, "Argo CD {a}"),
            SourceId::Alertmanager => f.write_str("Alertmanager"),
            SourceId::Git => f.write_str("git"),
        }
    }
}

/// The last word from one source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceState {
    /// When it last read successfully.
    pub last_ok: Option<Ts>,
    /// What went wrong since, if anything.
    pub error: Option<String>,
    /// When it was first seen failing (for a source that never answered: how long ago).
    pub failing_since: Option<Ts>,
}

/// How current the data is, as the header shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    /// No source has answered yet.
    Connecting,
    Live,
    /// The worst source: silent for `secs`, or failing with `error`.
    Stale {
        secs: i64,
        source: SourceId,
        error: Option<String>,
    },
}

impl SourceId {
    /// A source silent for longer than this is shown as stale: three times how often it reports
    /// (a connected watch every 5 s, Alertmanager's poll every 5 s, the cluster probes and git
    /// fetches every 15 s), so one late answer is not an alarm and a dead peer shows quickly.
    pub fn stale_after_secs(&self) -> i64 {
        match self {
            SourceId::ControlPlane | SourceId::ArgoCd(_) | SourceId::Alertmanager => 15,
            SourceId::Cluster(_) | SourceId::Git => 45,
        }
    }
}

/// Every source's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    map: BTreeMap<SourceId, SourceState>,
}

impl Sources {
    /// The source read at `at`. True when what the header shows may have changed.
    pub fn ok(&mut self, id: SourceId, at: Ts) -> bool {
        let s = self.map.entry(id).or_default();
        let changed = s.error.is_some() || s.last_ok.is_none();
        s.last_ok = Some(at);
        s.error = None;
        s.failing_since = None;
        changed
    }

    /// The source failed to read, noticed at `at`. True when this is news.
    pub fn problem(&mut self, id: SourceId, message: String, at: Ts) -> bool {
        let s = self.map.entry(id).or_default();
        s.failing_since.get_or_insert(at);
        if s.error.as_deref() == Some(&message) {
            return false;
        }
        s.error = Some(message);
        true
    }

    /// Forgets a source that no longer exists (a cluster removed from the fleet).
    pub fn remove(&mut self, id: &SourceId) -> bool {
        self.map.remove(id).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&SourceId, &SourceState)> {
        self.map.iter()
    }

    /// The worst source at `now`: failing first, then the oldest.
    pub fn freshness(&self, now: Ts) -> Freshness {
        if self.map.is_empty() {
            return Freshness::Connecting;
        }
        let mut worst: Option<(bool, bool, i64, &SourceId, &SourceState)> = None;
        for (id, s) in &self.map {
            let age = s
                .last_ok
                .or(s.failing_since)
                .map_or(i64::MAX, |t| t.secs_until(now));
            let overdue = age > id.stale_after_secs();
            let key = (s.error.is_some(), overdue, age);
            if worst.is_none_or(|(e, o, a, _, _)| key > (e, o, a)) {
                worst = Some((key.0, key.1, key.2, id, s));
            }
        }
        match worst {
            Some((failing, overdue, age, id, s)) if failing || overdue => {
                if s.last_ok.is_none() && !failing {
                    return Freshness::Connecting;
                }
                Freshness::Stale {
                    secs: if age == i64::MAX { 0 } else { age },
                    source: id.clone(),
                    error: s.error.clone(),
                }
            }
            _ => Freshness::Live,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_source_decides() {
        let t = Ts::from_secs(1000);
        let mut s = Sources::default();
        assert_eq!(s.freshness(t), Freshness::Connecting);
        s.ok(SourceId::ControlPlane, t);
        s.ok(SourceId::Alertmanager, t);
        assert_eq!(s.freshness(t.plus_secs(2)), Freshness::Live);
        // Alertmanager dies; the control plane keeps answering. Git, fetched every 15 s, is
        // older but not overdue.
        s.ok(SourceId::Git, t);
        s.ok(SourceId::ControlPlane, t.plus_secs(10));
        assert_eq!(
            s.freshness(t.plus_secs(10)),
            Freshness::Live,
            "one late answer"
        );
        s.ok(SourceId::ControlPlane, t.plus_secs(16));
        s.ok(SourceId::Git, t.plus_secs(-4));
        match s.freshness(t.plus_secs(16)) {
            Freshness::Stale { secs, source, .. } => {
                assert_eq!((secs, source), (16, SourceId::Alertmanager))
            }
            other => panic!("{other:?}"),
        }
        assert!(s.problem(SourceId::Git, "fetch failed".into(), t.plus_secs(10)));
        assert!(!s.problem(SourceId::Git, "fetch failed".into(), t.plus_secs(10)));
        match s.freshness(t.plus_secs(10)) {
            Freshness::Stale { source, error, .. } => {
                assert_eq!(source, SourceId::Git);
                assert_eq!(error.as_deref(), Some("fetch failed"));
            }
            other => panic!("{other:?}"),
        }
        s.ok(SourceId::Git, t.plus_secs(11));
        s.ok(SourceId::Alertmanager, t.plus_secs(11));
        assert_eq!(s.freshness(t.plus_secs(12)), Freshness::Live);
        // A source failing since before anyone looked counts its age from when it was seen failing.
        s.problem(
            SourceId::Cluster("b".into()),
            "down".into(),
            t.plus_secs(12),
        );
        match s.freshness(t.plus_secs(40)) {
            Freshness::Stale { secs, source, .. } => {
                assert_eq!((secs, source), (28, SourceId::Cluster("b".into())))
            }
            other => panic!("{other:?}"),
        }
    }
}
