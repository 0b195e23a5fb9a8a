//! Prometheus Alertmanager's API v2 as the fleet model sees it: `GET /api/v2/alerts` decoded
//! tolerantly (newer Alertmanagers add fields) into alerts scoped by the configured labels, with
//! silenced and inhibited alerts kept as suppressed; `GET /api/v2/silences` for the silences,
//! which shopctl creates (`POST /api/v2/silences`) and expires (`DELETE /api/v2/silence/{id}`).

use std::collections::BTreeMap;

use serde::Deserialize;
use thiserror::Error;

use super::config::Alertmanager;
use super::http::{Auth, HttpClient, HttpError};
use crate::domain::{Alert, AlertState, MatchOp, Matcher, Severity, Silence, SilenceState, Ts};
use crate::ops::OpsError;
use crate::ops::silence::{NewSilence, SilenceStore};

/// One alert of `GET /api/v2/alerts` (`gettableAlert`), the parts the console uses.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct GettableAlert {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    #[serde(rename = "startsAt")]
    pub starts_at: Option<String>,
    pub fingerprint: Option<String>,
    pub status: AlertStatus,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AlertStatus {
    /// `active`, `suppressed` or `unprocessed`.
    pub state: Option<String>,
    #[serde(rename = "silencedBy")]
    pub silenced_by: Vec<String>,
    #[serde(rename = "inhibitedBy")]
    pub inhibited_by: Vec<String>,
}

/// One silence of `GET /api/v2/silences` (`gettableSilence`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct GettableSilence {
    id: String,
    matchers: Vec<ApiMatcher>,
    #[serde(rename = "startsAt")]
    starts_at: String,
    #[serde(rename = "endsAt")]
    ends_at: String,
    #[serde(rename = "createdBy")]
    created_by: String,
    comment: String,
    status: SilenceStatus,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct SilenceStatus {
    state: String,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
struct ApiMatcher {
    name: String,
    value: String,
    #[serde(rename = "isRegex")]
    is_regex: bool,
    /// Absent before Alertmanager 0.22: an equality.
    #[serde(rename = "isEqual", default = "yes")]
    is_equal: bool,
}

fn yes() -> bool {
    true
}

/// The body of `POST /api/v2/silences` (`postableSilence`).
#[derive(Debug, serde::Serialize)]
struct PostableSilence<'a> {
    matchers: Vec<ApiMatcher>,
    #[serde(rename = "startsAt")]
    starts_at: String,
    #[serde(rename = "endsAt")]
    ends_at: String,
    #[serde(rename = "createdBy")]
    created_by: &'a str,
    comment: &'a str,
}

#[derive(Debug, Deserialize)]
struct PostedSilence {
    #[serde(rename = "silenceID")]
    silence_id: String,
}

/// A response that is not what Alertmanager's API answers.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("Alertmanager's answer cannot be read: {0}")]
pub struct DecodeError(String);

/// Alertmanager as live mode reads it: one, or the peers of an HA cluster, tried in order until
/// one answers (they gossip silences and alerts to each other, so any one that answers speaks for
/// all, and a silence is written once, to the first that takes it).
#[derive(Debug, Clone)]
pub struct AlertmanagerClient {
    peers: Vec<HttpClient>,
    config: Alertmanager,
}

/// Why the alerts could not be read: Alertmanager is down, refuses, or answers something else.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AlertsError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

impl AlertmanagerClient {
    /// A client for the configured Alertmanager (its credentials read from their files now).
    pub fn new(config: &Alertmanager) -> Result<AlertmanagerClient, HttpError> {
        let auth = Auth::of(
            config.bearer_token_file.as_deref(),
            config.basic_auth.as_ref(),
        );
        let peers = config
            .urls
            .iter()
            .map(|url| HttpClient::new(url, auth, config.ca_file.as_deref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AlertmanagerClient {
            peers,
            config: config.clone(),
        })
    }

    /// GETs `path` from the first peer that answers; when none does, the last peer's error
    /// (every peer's is logged).
    async fn get_first(&self, path: &str) -> Result<hyper::body::Bytes, HttpError> {
        let mut last = None;
        for peer in &self.peers {
            match peer.get(path).await {
                Ok(body) => return Ok(body),
                Err(e) => {
                    if self.peers.len() > 1 {
                        tracing::warn!("Alertmanager peer: {e}");
                    }
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(no_peer))
    }

    /// A write to the first peer that can be reached: one that answered, even with an error, or
    /// did not answer in time may have taken it, so no other is asked (a silence is written
    /// once; the peers gossip it to each other).
    async fn write_first(&self, method: WriteMethod<'_>) -> Result<hyper::body::Bytes, HttpError> {
        let mut last = None;
        for peer in &self.peers {
            let answer = match &method {
                WriteMethod::Post(path, body) => peer.post_json(path, body.clone()).await,
                WriteMethod::Delete(path) => peer.delete(path).await,
            };
            match answer {
                Err(e @ HttpError::Unreachable { .. }) => last = Some(e),
                other => return other,
            }
        }
        Err(last.unwrap_or_else(no_peer))
    }

    /// Every alert Alertmanager holds, silenced and inhibited ones as suppressed.
    pub async fn alerts(&self) -> Result<Vec<Alert>, AlertsError> {
        let body = self.get_first("/api/v2/alerts").await?;
        Ok(decode_alerts(&body, &self.config)?)
    }

    /// Every silence Alertmanager holds, expired ones included.
    pub async fn silences(&self) -> Result<Vec<Silence>, AlertsError> {
        let body = self.get_first("/api/v2/silences").await?;
        Ok(decode_silences(&body)?)
    }

    /// The alerts and the silences, read together (each may fail on its own).
    pub async fn read(
        &self,
    ) -> (
        Result<Vec<Alert>, AlertsError>,
        Result<Vec<Silence>, AlertsError>,
    ) {
        futures::join!(self.alerts(), self.silences())
    }

    /// Creates a silence and returns its id.
    pub async fn create_silence(&self, s: &NewSilence) -> Result<String, AlertsError> {
        let body = serde_json::to_vec(&postable(s)).map_err(|e| DecodeError(e.to_string()))?;
        let answer = self
            .write_first(WriteMethod::Post("/api/v2/silences", body))
            .await?;
        let posted: PostedSilence =
            serde_json::from_slice(&answer).map_err(|e| DecodeError(e.to_string()))?;
        Ok(posted.silence_id)
    }

    /// Expires a silence now.
    pub async fn expire_silence(&self, id: &str) -> Result<(), AlertsError> {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(DecodeError(format!("'{id}' is not a silence id")).into());
        }
        self.write_first(WriteMethod::Delete(&format!("/api/v2/silence/{id}")))
            .await?;
        Ok(())
    }
}

/// A write to Alertmanager.
enum WriteMethod<'a> {
    Post(&'a str, Vec<u8>),
    Delete(&'a str),
}

fn no_peer() -> HttpError {
    HttpError::Url {
        url: "(no Alertmanager configured)".into(),
    }
}

fn postable(s: &NewSilence) -> PostableSilence<'_> {
    PostableSilence {
        matchers: s
            .matchers
            .iter()
            .map(|m| ApiMatcher {
                name: m.name.clone(),
                value: m.value.clone(),
                is_regex: m.op.is_regex(),
                is_equal: m.op.is_equal(),
            })
            .collect(),
        starts_at: s.starts_at.rfc3339(),
        ends_at: s.ends_at.rfc3339(),
        created_by: &s.created_by,
        comment: &s.comment,
    }
}

/// The silences of a `GET /api/v2/silences` body.
pub fn decode_silences(body: &[u8]) -> Result<Vec<Silence>, DecodeError> {
    let raw: Vec<GettableSilence> =
        serde_json::from_slice(body).map_err(|e| DecodeError(e.to_string()))?;
    Ok(raw
        .into_iter()
        .map(|s| Silence {
            id: crate::domain::printable(&s.id),
            matchers: s
                .matchers
                .into_iter()
                .map(|m| Matcher {
                    name: m.name,
                    op: MatchOp::from_flags(m.is_regex, m.is_equal),
                    value: m.value,
                })
                .collect(),
            starts_at: Ts::parse_rfc3339(&s.starts_at).unwrap_or_default(),
            ends_at: Ts::parse_rfc3339(&s.ends_at).unwrap_or_default(),
            created_by: crate::domain::printable(&s.created_by),
            comment: crate::domain::printable(&s.comment),
            state: SilenceState::from_api(&s.status.state),
        })
        .collect())
}

/// Silences written to Alertmanager for the executor: each call bounded by the HTTP timeout.
/// Its credentials are read when a silence is written, so an unreadable token file only
/// refuses silences, never the session's other writes.
pub struct LiveSilences {
    config: Alertmanager,
}

impl LiveSilences {
    pub fn new(config: &Alertmanager) -> LiveSilences {
        LiveSilences {
            config: config.clone(),
        }
    }

    fn client(&self) -> Result<AlertmanagerClient, OpsError> {
        AlertmanagerClient::new(&self.config).map_err(|e| OpsError::Store(e.to_string()))
    }
}

#[async_trait::async_trait]
impl SilenceStore for LiveSilences {
    async fn silences(&self) -> Result<Vec<Silence>, OpsError> {
        let c = self.client().map_err(|e| OpsError::Read(e.to_string()))?;
        c.silences()
            .await
            .map_err(|e| OpsError::Read(e.to_string()))
    }

    async fn create(&self, s: &NewSilence) -> Result<String, OpsError> {
        self.client()?
            .create_silence(s)
            .await
            .map_err(|e| OpsError::Store(e.to_string()))
    }

    async fn expire(&self, id: &str) -> Result<(), OpsError> {
        self.client()?
            .expire_silence(id)
            .await
            .map_err(|e| OpsError::Store(e.to_string()))
    }
}

/// Polls Alertmanager every `interval` and sends its alerts (when they changed) to `tx`, with a
/// heartbeat of the Alertmanager source; when it cannot be read, the alert state is unknown
/// (the last alerts stay shown, the gate fails its alert condition) until it answers again.
pub async fn poll(
    client: AlertmanagerClient,
    interval: std::time::Duration,
    tx: tokio::sync::mpsc::Sender<crate::backends::SourceEvent>,
) {
    use crate::backends::{SourceEvent, SourceId};
    use crate::domain::FleetUpdate;
    let mut last_alerts: Option<Result<Vec<Alert>, String>> = None;
    let mut last_silences: Option<Vec<Silence>> = None;
    loop {
        let (alerts, silences) = futures::join!(client.alerts(), client.silences());
        let alerts = alerts.map_err(|e| e.to_string());
        let mut events = Vec::new();
        match (&alerts, &last_alerts) {
            (Ok(a), Some(Ok(before))) if a == before => {}
            (Ok(a), _) => events.push(SourceEvent::Update(FleetUpdate::Alerts(a.clone()))),
            (Err(why), Some(Err(w))) if why == w => {}
            (Err(why), _) => {
                events.push(SourceEvent::Update(FleetUpdate::AlertsUnknown(why.clone())))
            }
        }
        // The silences on their own: a proxy that lets only the alerts through leaves the alert
        // state known (Alertmanager says which alerts are silenced), only the silence list old.
        let silences = match silences {
            Ok(s) => {
                if last_silences.as_ref() != Some(&s) {
                    events.push(SourceEvent::Update(FleetUpdate::Silences(s.clone())));
                    last_silences = Some(s);
                }
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        };
        events.push(match (&alerts, &silences) {
            (Ok(_), Ok(())) => SourceEvent::Heartbeat {
                source: SourceId::Alertmanager,
                at: Ts::now(),
            },
            (Err(why), _) | (Ok(_), Err(why)) => SourceEvent::Problem {
                source: SourceId::Alertmanager,
                message: why.clone(),
            },
        });
        last_alerts = Some(alerts);
        for ev in events {
            if tx.send(ev).await.is_err() {
                return;
            }
        }
        tokio::time::sleep(interval).await;
    }
}

/// The alerts of a `GET /api/v2/alerts` body, mapped with the configured severities.
pub fn decode_alerts(body: &[u8], config: &Alertmanager) -> Result<Vec<Alert>, DecodeError> {
    let raw: Vec<GettableAlert> =
        serde_json::from_slice(body).map_err(|e| DecodeError(e.to_string()))?;
    Ok(raw.iter().map(|a| to_domain(a, config)).collect())
}

fn to_domain(a: &GettableAlert, config: &Alertmanager) -> Alert {
    let suppressed = a.status.state.as_deref() == Some("suppressed")
        || !a.status.silenced_by.is_empty()
        || !a.status.inhibited_by.is_empty();
    let severity = a
        .labels
        .get(&config.labels.severity)
        .filter(|s| !s.trim().is_empty())
        .map(|s| severity(s, config))
        // No severity: as configured (the gate severity unless said otherwise), so an alert
        // nobody labelled blocks rather than slips through.
        .unwrap_or_else(|| severity(&config.missing_severity, config));
    Alert {
        name: a
            .labels
            .get("alertname")
            .cloned()
            .unwrap_or_else(|| a.fingerprint.clone().unwrap_or_default()),
        severity,
        state: if suppressed {
            AlertState::Suppressed
        } else {
            AlertState::Active
        },
        labels: a.labels.clone(),
        since: a
            .starts_at
            .as_deref()
            .and_then(Ts::parse_rfc3339)
            .unwrap_or_default(),
        summary: a
            .annotations
            .get("summary")
            .or_else(|| a.annotations.get("description"))
            .cloned()
            .unwrap_or_default(),
        silenced_by: a.status.silenced_by.clone(),
    }
}

/// Where a severity label stands against the configured ladder: at or above the gate severity it
/// blocks (critical), the lowest rung is info, the rungs between are warnings. A value the ladder
/// does not name is read by its usual meaning.
pub fn severity(label: &str, config: &Alertmanager) -> Severity {
    let rank = |s: &str| {
        config
            .severities
            .iter()
            .position(|x| x.eq_ignore_ascii_case(s))
    };
    match (rank(label), rank(&config.gate_severity)) {
        (Some(r), Some(gate)) if r >= gate => Severity::Critical,
        (Some(0), _) => Severity::Info,
        (Some(_), _) => Severity::Warning,
        (None, _) => Severity::from_label(label),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::live::config::Config;

    fn config(extra: &str) -> Alertmanager {
        let src = format!(
            "[alertmanager]\nurl = \"http://127.0.0.1:9093\"\n{extra}\n[git]\nremote = \"r\"\n"
        );
        Config::parse(std::path::Path::new("t.toml"), &src)
            .unwrap()
            .alertmanager
    }

    #[test]
    fn an_alert_without_a_severity_blocks_a_gate_unless_configured_otherwise() {
        let body = br#"[{"labels": {"alertname": "Unlabelled"}, "status": {"state": "active"}},
                        {"labels": {"alertname": "Blank", "severity": " "}, "status": {"state": "active"}}]"#;
        let strict = decode_alerts(body, &config("")).unwrap();
        assert!(
            strict.iter().all(|a| a.severity == Severity::Critical),
            "{strict:?}"
        );
        let lenient = decode_alerts(body, &config("missing_severity = \"info\"")).unwrap();
        assert!(
            lenient.iter().all(|a| a.severity == Severity::Info),
            "{lenient:?}"
        );
    }

    /// What Alertmanager 0.25+ answers, with a field no version has.
    const BODY: &str = r#"[
      {"annotations": {"summary": "checkout errors above 2%"},
       "endsAt": "2026-11-23T18:00:00.000Z", "fingerprint": "a1",
       "receivers": [{"name": "team"}], "startsAt": "2026-11-23T17:00:00.000Z",
       "status": {"inhibitedBy": [], "silencedBy": [], "state": "active"},
       "updatedAt": "2026-11-23T17:01:00.000Z", "generatorURL": "http://prom/graph",
       "labels": {"alertname": "CheckoutErrorRateHigh", "severity": "critical", "shopset": "a-1"},
       "somethingNew": {"x": 1}},
      {"annotations": {"description": "node not ready"},
       "fingerprint": "b2", "startsAt": "2026-11-23T16:00:00Z",
       "status": {"inhibitedBy": [], "silencedBy": ["s-1"], "state": "suppressed"},
       "labels": {"alertname": "NodeNotReady", "severity": "warning", "cluster": "b"}}
    ]"#;

    #[test]
    fn alerts_keep_their_scope_and_silenced_ones_are_suppressed() {
        let alerts = decode_alerts(BODY.as_bytes(), &config("")).unwrap();
        assert_eq!(alerts.len(), 2);
        let (a, b) = (&alerts[0], &alerts[1]);
        assert_eq!(
            (a.name.as_str(), a.severity, a.state),
            (
                "CheckoutErrorRateHigh",
                Severity::Critical,
                AlertState::Active
            )
        );
        assert_eq!(a.label("shopset"), Some("a-1"));
        assert_eq!(a.summary, "checkout errors above 2%");
        assert_eq!(a.since, Ts::parse_rfc3339("2026-11-23T17:00:00Z").unwrap());
        assert_eq!(
            (b.severity, b.state, b.summary.as_str()),
            (Severity::Warning, AlertState::Suppressed, "node not ready")
        );
    }

    #[test]
    fn the_configured_ladder_decides_what_blocks() {
        let c = config(
            "severities = [\"low\", \"medium\", \"high\", \"page\"]\ngate_severity = \"high\"",
        );
        assert_eq!(severity("page", &c), Severity::Critical);
        assert_eq!(severity("high", &c), Severity::Critical);
        assert_eq!(severity("medium", &c), Severity::Warning);
        assert_eq!(severity("low", &c), Severity::Info);
        assert_eq!(
            severity("warning", &c),
            Severity::Warning,
            "read by meaning"
        );
    }

    #[test]
    fn a_body_that_is_not_an_alert_list_is_an_error_not_an_empty_list() {
        assert!(decode_alerts(b"{\"error\": \"unauthorized\"}", &config("")).is_err());
        assert!(decode_alerts(b"<html>", &config("")).is_err());
        assert!(decode_alerts(b"[]", &config("")).unwrap().is_empty());
    }
}
