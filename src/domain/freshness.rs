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
    /// Where verification samples come from (Prometheus; the demo's simulated series).
    Metrics,
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceId::ControlPlane => f.write_str("control plane"),
            SourceId::Cluster(c) => write!(f, "cluster {c}"),
            SourceId::ArgoCd(a) => write!(f, "Argo CD {a}"),
            SourceId::Alertmanager => f.write_str("Alertmanager"),
            SourceId::Git => f.write_str("git"),
            SourceId::Metrics => f.write_str("Prometheus"),
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
    /// While its first read is still arriving: objects received so far, and how many the
    /// server said there are (when it said).
    pub loading: Option<Loading>,
}

/// How far a source's first read has come.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Loading {
    pub done: u64,
    pub total: Option<u64>,
}

impl Loading {
    /// `20,000/100,000`, or `20,000` when the total is not known.
    pub fn label(&self) -> String {
        match self.total {
            Some(t) => format!("{}/{}", thousands(self.done), thousands(t.max(self.done))),
            None => thousands(self.done),
        }
    }
}

/// `100000` as `100,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// How current the data is, as the header shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    /// No source has answered yet.
    Connecting,
    /// A source's first read is still arriving: what is shown is not yet the whole fleet.
    Loading(Loading),
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
            SourceId::Cluster(_) | SourceId::Git | SourceId::Metrics => 45,
        }
    }
}

/// How bad a source is: failing, the control plane failing, overdue, age — compared in order.
type Rank = (bool, bool, bool, i64);

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
        s.loading = None;
        changed
    }

    /// The source's first read has come this far (ignored once it has read whole). True when
    /// what the header shows may have changed.
    pub fn loading(&mut self, id: SourceId, progress: Loading) -> bool {
        let s = self.map.entry(id).or_default();
        if s.last_ok.is_some() || s.loading == Some(progress) {
            return false;
        }
        s.loading = Some(progress);
        true
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

    /// The worst source at `now`: failing first, then the oldest — except while some source's
    /// first read is still arriving (and that source is not failing): then that is what the
    /// header says, since what is shown is not yet the whole fleet, never `live` (nor another
    /// source's staleness) over partial counts.
    pub fn freshness(&self, now: Ts) -> Freshness {
        if let Some(read) = self.first_read() {
            return read;
        }
        // The control plane has not answered yet (nor failed): nothing else is the news.
        if self
            .map
            .get(&SourceId::ControlPlane)
            .is_some_and(|s| s.last_ok.is_none() && s.error.is_none())
        {
            return Freshness::Connecting;
        }
        self.worst(now)
    }

    /// A source whose data is expected (the control plane, from the start): until it answers,
    /// the header says `connecting`, never `live` on what the other sources said.
    pub fn expect(&mut self, id: SourceId) {
        self.map.entry(id).or_default();
    }

    /// Every source's first read is in: none is still loading, and the control plane (when
    /// expected) has read.
    pub fn first_reads_done(&self) -> bool {
        self.map.iter().all(|(id, s)| {
            s.last_ok.is_some() || (s.loading.is_none() && *id != SourceId::ControlPlane)
        })
    }

    /// The first reads still arriving, summed: those that know their total when any does
    /// (a list with a label selector is not told its total), the others otherwise.
    fn first_read(&self) -> Option<Freshness> {
        // The fleet's own source failing, or one whose read is arriving, is the news.
        let failing_read = self.map.iter().any(|(id, s)| {
            s.error.is_some() && (*id == SourceId::ControlPlane || s.loading.is_some())
        });
        if failing_read {
            return None;
        }
        let loading: Vec<Loading> = self
            .map
            .values()
            .filter(|s| s.last_ok.is_none())
            .filter_map(|s| s.loading)
            .collect();
        if loading.is_empty() {
            return None;
        }
        let counted = loading.iter().any(|l| l.total.is_some());
        let sum = loading
            .iter()
            .filter(|l| !counted || l.total.is_some())
            .fold(Loading::default(), |a, l| Loading {
                done: a.done + l.done,
                total: if counted {
                    Some(a.total.unwrap_or(0) + l.total.unwrap_or(0))
                } else {
                    None
                },
            });
        Some(Freshness::Loading(sum))
    }

    fn worst(&self, now: Ts) -> Freshness {
        if self.map.is_empty() {
            return Freshness::Connecting;
        }
        // Failing first — the control plane's failure before any other, being the fleet
        // itself —, then overdue, then the oldest.
        let mut worst: Option<(Rank, &SourceId, &SourceState)> = None;
        for (id, s) in &self.map {
            let age = s
                .last_ok
                .or(s.failing_since)
                .map_or(i64::MAX, |t| t.secs_until(now));
            let overdue = age > id.stale_after_secs();
            let failing = s.error.is_some();
            let key = (
                failing,
                failing && *id == SourceId::ControlPlane,
                overdue,
                age,
            );
            if worst.is_none_or(|(k, _, _)| key > k) {
                worst = Some((key, id, s));
            }
        }
        match worst {
            Some(((failing, _, overdue, age), id, s)) if failing || overdue => {
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
        // An Argo CD whose first list is still arriving: the header says how far, not live.
        let argo = SourceId::ArgoCd("ops".into());
        let part = Loading {
            done: 500,
            total: Some(1_000),
        };
        assert!(s.loading(argo.clone(), part));
        assert!(!s.loading(argo.clone(), part));
        assert_eq!(s.freshness(t.plus_secs(12)), Freshness::Loading(part));
        assert_eq!(part.label(), "500/1,000");
        s.ok(argo.clone(), t.plus_secs(12));
        assert!(
            !s.loading(argo, part),
            "a source that has read is not loading again"
        );
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

    #[test]
    fn a_failing_source_outranks_a_loading_one_and_totals_are_summed() {
        let t = Ts::from_secs(1000);
        let mut s = Sources::default();
        s.loading(
            SourceId::ControlPlane,
            Loading {
                done: 20_000,
                total: Some(100_000),
            },
        );
        s.loading(
            SourceId::ArgoCd("a".into()),
            Loading {
                done: 500,
                total: Some(1_000),
            },
        );
        match s.freshness(t) {
            Freshness::Loading(l) => assert_eq!(l.label(), "20,500/101,000"),
            other => panic!("{other:?}"),
        }
        // Argo CD's labelled list is not told its total: the counted read is shown.
        s.loading(
            SourceId::ArgoCd("a".into()),
            Loading {
                done: 600,
                total: None,
            },
        );
        match s.freshness(t) {
            Freshness::Loading(l) => assert_eq!(l.label(), "20,000/100,000"),
            other => panic!("{other:?}"),
        }
        s.ok(SourceId::ControlPlane, t);
        match s.freshness(t) {
            Freshness::Loading(l) => assert_eq!(l.label(), "600"),
            other => panic!("{other:?}"),
        }
        // Another source failing does not hide that the fleet is still arriving.
        s.problem(SourceId::Alertmanager, "refused".into(), t);
        assert!(matches!(s.freshness(t), Freshness::Loading(_)));
        // A control plane failing is the headline, however long another source has failed.
        let mut cp = Sources::default();
        cp.problem(SourceId::Alertmanager, "refused".into(), t.plus_secs(-600));
        cp.ok(SourceId::ControlPlane, t.plus_secs(-20));
        cp.problem(
            SourceId::ControlPlane,
            "cannot connect".into(),
            t.plus_secs(-5),
        );
        assert!(matches!(
            cp.freshness(t),
            Freshness::Stale {
                source: SourceId::ControlPlane,
                ..
            }
        ));
        // A source whose read is arriving failing is what the header says.
        s.problem(SourceId::ArgoCd("a".into()), "refused".into(), t);
        assert!(matches!(s.freshness(t), Freshness::Stale { .. }));
        // The control plane expected from the start: nothing is live before it has read.
        let mut s = Sources::default();
        s.expect(SourceId::ControlPlane);
        s.ok(SourceId::Git, t);
        assert_eq!(s.freshness(t), Freshness::Connecting);
        s.problem(SourceId::Alertmanager, "refused".into(), t);
        assert_eq!(
            s.freshness(t),
            Freshness::Connecting,
            "another source failing is not the news before the fleet is read"
        );
        assert!(!s.first_reads_done());
        s.ok(SourceId::ControlPlane, t);
        s.ok(SourceId::Alertmanager, t);
        assert_eq!(s.freshness(t), Freshness::Live);
        assert!(s.first_reads_done());
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
