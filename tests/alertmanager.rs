//! Live mode against a real Prometheus Alertmanager (Debian package `prometheus-alertmanager`),
//! started on 127.0.0.1 with a temporary storage directory. Its absence is a failure, not a skip.

#[path = "support/alertmanager_env.rs"]
mod alertmanager_env;
mod common;
#[path = "support/fake_kube.rs"]
mod fake_kube;

use std::path::Path;
use std::time::Duration;

use alertmanager_env::{free_port, start, start_with};
use shopctl::backends::live::alertmanager::{AlertmanagerClient, AlertsError};
use shopctl::backends::live::config::Config;
use shopctl::backends::live::http::{Auth, HttpClient, HttpError};
use shopctl::domain::{AlertState, Severity};

fn client(url: &str, dir: &Path) -> AlertmanagerClient {
    let file = dir.join("config.toml");
    std::fs::write(
        &file,
        format!("[alertmanager]\nurl = \"{url}\"\n[git]\nremote = \"r\"\n"),
    )
    .expect("config");
    let config = Config::load(&file, None).expect("valid");
    AlertmanagerClient::new(&config.alertmanager).expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_posted_to_alertmanager_reach_the_fleet_model_with_their_scope_and_silences() {
    let am = start().await;
    let http = HttpClient::new(&am.url, Auth::None, None).expect("client");
    let now = shopctl::domain::Ts::now().rfc3339();
    let alerts = format!(
        r#"[{{"labels": {{"alertname": "CheckoutErrorRateHigh", "severity": "critical", "shopset": "a-1"}},
             "annotations": {{"summary": "checkout errors above 2%"}}, "startsAt": "{now}"}},
            {{"labels": {{"alertname": "NodeNotReady", "severity": "warning", "cluster": "b"}},
             "annotations": {{"description": "a node is not ready"}}, "startsAt": "{now}"}}]"#
    );
    http.post_json("/api/v2/alerts", alerts.into_bytes())
        .await
        .expect("alerts posted");
    let ends = shopctl::domain::Ts::now().plus_secs(3600).rfc3339();
    let silence = format!(
        r#"{{"matchers": [{{"name": "alertname", "value": "NodeNotReady", "isRegex": false, "isEqual": true}}],
            "startsAt": "{now}", "endsAt": "{ends}", "createdBy": "test", "comment": "maintenance"}}"#
    );
    http.post_json("/api/v2/silences", silence.into_bytes())
        .await
        .expect("silence created");

    let tmp = tempfile::tempdir().expect("tempdir");
    let client = client(&am.url, tmp.path());
    // Alertmanager stores a silence before answering its POST, and works out each alert's
    // silenced state when the alerts are read: one read sees both.
    let alerts = client.alerts().await.expect("alerts read");
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert!(
        alerts
            .iter()
            .any(|a| a.name == "NodeNotReady" && a.state == AlertState::Suppressed),
        "{alerts:?}"
    );
    let checkout = alerts
        .iter()
        .find(|a| a.name == "CheckoutErrorRateHigh")
        .expect("the critical alert");
    assert_eq!(
        (checkout.severity, checkout.state, checkout.label("shopset")),
        (Severity::Critical, AlertState::Active, Some("a-1"))
    );
    assert_eq!(checkout.summary, "checkout errors above 2%");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_alertmanager_is_an_error_not_an_empty_alert_list() {
    let am = start().await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let client = client(&am.url, tmp.path());
    assert!(client.alerts().await.expect("read").is_empty());
    drop(am);
    match client.alerts().await {
        Err(AlertsError::Http(HttpError::Unreachable { url, .. })) => {
            assert!(url.ends_with("/api/v2/alerts"), "{url}")
        }
        other => panic!("a dead Alertmanager read as {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_poller_reports_alerts_and_an_unknown_state_when_alertmanager_dies() {
    use shopctl::backends::{SourceEvent, SourceId};
    use shopctl::domain::Fleet;
    let am = start().await;
    let http = HttpClient::new(&am.url, Auth::None, None).expect("client");
    let now = shopctl::domain::Ts::now().rfc3339();
    http.post_json(
        "/api/v2/alerts",
        format!(
            r#"[{{"labels": {{"alertname": "CartErrors", "severity": "critical", "tier": "beta"}}, "startsAt": "{now}"}}]"#
        )
        .into_bytes(),
    )
    .await
    .expect("posted");
    let tmp = tempfile::tempdir().expect("tempdir");
    let client = client(&am.url, tmp.path());
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let task = tokio::spawn(shopctl::backends::live::alertmanager::poll(
        client,
        Duration::from_millis(100),
        tx,
    ));
    let mut fleet = Fleet::new("live");
    let mut next = async |fleet: &mut Fleet| -> SourceEvent {
        let ev = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("an event in time")
            .expect("the poller runs");
        if let SourceEvent::Update(u) = &ev {
            fleet.apply(u.clone());
        }
        ev
    };
    while fleet.alerts.is_empty() {
        next(&mut fleet).await;
    }
    assert_eq!(fleet.alerts[0].name, "CartErrors");
    assert!(fleet.alerts_unknown.is_none());
    drop(am);
    loop {
        if let SourceEvent::Problem { source, .. } = next(&mut fleet).await {
            assert_eq!(source, SourceId::Alertmanager);
            break;
        }
    }
    assert!(
        fleet.alerts_unknown.is_some(),
        "a dead Alertmanager leaves the alert state unknown"
    );
    assert_eq!(fleet.alerts.len(), 1, "the last alerts stay shown");
    task.abort();
}

/// `shopctl --config FILE silence …` against the real Alertmanager (and the fake API server for
/// the operator Lease): Alertmanager's own API sees what shopctl created and expired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silences_created_and_expired_by_shopctl_are_alertmanagers_own() {
    use serde_json::Value;
    let am = start().await;
    let http = HttpClient::new(&am.url, Auth::None, None).expect("client");
    let now = shopctl::domain::Ts::now().rfc3339();
    http.post_json(
        "/api/v2/alerts",
        format!(
            r#"[{{"labels": {{"alertname": "NodeNotReady", "severity": "warning", "cluster": "b"}}, "startsAt": "{now}"}}]"#
        )
        .into_bytes(),
    )
    .await
    .expect("posted");
    let fake = fake_kube::FakeKube::start("shopset.dev", "v1alpha1").await;
    fake.node("n1", true);
    let tmp = tempfile::tempdir().expect("tempdir");
    let kubeconfig = fake.kubeconfig(tmp.path(), "ops", "t");
    let config = common::live_config(tmp.path(), &kubeconfig, &am.url, "");
    let state = tmp.path().join("state");
    let run = |args: &[&str]| {
        let (config, state) = (config.clone(), state.clone());
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(assert_cmd::cargo::cargo_bin("shopctl"))
                .env("XDG_STATE_HOME", &state)
                .env("SHOPCTL_OPERATOR", "alice@ops")
                .arg("--config")
                .arg(&config)
                .args(&args)
                .output()
                .expect("runs")
        })
    };
    let silence_args = [
        "silence",
        "create",
        "alertname=\"NodeNotReady\"",
        "cluster=~\"b|c\"",
        "--for",
        "90m",
        "--comment",
        "node b-7 is being replaced",
        "--yes",
    ];
    let out = run(&silence_args).await.expect("joined");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(!id.is_empty());

    // Alertmanager's own view of it.
    let body = http.get("/api/v2/silences").await.expect("silences");
    let silences: Vec<Value> = serde_json::from_slice(&body).expect("json");
    let s = silences
        .iter()
        .find(|s| s["id"] == id.as_str())
        .expect("created");
    assert_eq!(s["createdBy"], "alice@ops");
    assert_eq!(s["comment"], "node b-7 is being replaced");
    assert_eq!(s["status"]["state"], "active");
    let mut matchers = s["matchers"].as_array().expect("matchers").clone();
    matchers.sort_by_key(|m| m["name"].as_str().unwrap_or_default().to_string());
    assert_eq!(
        (
            &matchers[0]["name"],
            &matchers[0]["isRegex"],
            &matchers[1]["value"]
        ),
        (
            &Value::from("alertname"),
            &Value::from(false),
            &Value::from("b|c")
        )
    );
    assert_eq!(matchers[1]["isRegex"], true);

    // The console's model: the alert is muted by that silence.
    let out = run(&["silence", "list", "-o", "json"])
        .await
        .expect("joined");
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).expect("json list");
    let row = list
        .iter()
        .find(|r| r["id"] == id.as_str())
        .expect("listed");
    assert_eq!(
        (&row["state"], &row["muting"]),
        (&Value::from("active"), &Value::from(1))
    );
    let out = run(&["status", "-o", "json"]).await.expect("joined");
    let status: Value = serde_json::from_slice(&out.stdout).expect("status json");
    assert_eq!(status["alerts"][0]["state"], "suppressed");
    assert_eq!(status["alerts"][0]["silenced_by"][0], id.as_str());

    // Asking again changes nothing.
    let again = run(&silence_args).await.expect("joined");
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("already mutes"));
    assert_eq!(
        String::from_utf8_lossy(&again.stdout).trim(),
        id,
        "the same silence's id"
    );
    let body = http.get("/api/v2/silences").await.expect("silences");
    assert_eq!(
        serde_json::from_slice::<Vec<Value>>(&body)
            .expect("json")
            .len(),
        1
    );

    // Read-only sessions may not.
    let ro = run(&["--readonly", "silence", "expire", &id, "--yes"])
        .await
        .expect("joined");
    assert_eq!(ro.status.code(), Some(3));

    let out = run(&["silence", "expire", &id, "--yes"])
        .await
        .expect("joined");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body = http.get("/api/v2/silences").await.expect("silences");
    let silences: Vec<Value> = serde_json::from_slice(&body).expect("json");
    assert_eq!(silences[0]["status"]["state"], "expired");
    let again = run(&["silence", "expire", &id, "--yes"])
        .await
        .expect("joined");
    assert_eq!(again.status.code(), Some(2), "expiring twice is a no-op");

    let audit = std::fs::read_to_string(state.join("shopctl/audit.jsonl")).expect("audited");
    let lines = common::audit_outcomes(&audit);
    assert_eq!(lines.len(), 2, "{audit}");
    assert_eq!(
        (
            &lines[0]["action"],
            &lines[0]["silence"],
            &lines[0]["reason"]
        ),
        (
            &Value::from("silence"),
            &Value::from(id.as_str()),
            &Value::from("node b-7 is being replaced")
        )
    );
    assert_eq!(lines[1]["action"], "expire silence");
    assert!(
        fake.get("leases", "shopctl-release").is_none(),
        "the Lease was given back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ha_pair_is_read_through_the_first_peer_that_answers_and_a_silence_is_written_once() {
    // Two Alertmanagers gossiping on 127.0.0.1, and a first peer that is down.
    let (gossip, other) = (free_port(), free_port());
    let first = start_with(&[
        format!("--cluster.listen-address=127.0.0.1:{gossip}"),
        format!("--cluster.advertise-address=127.0.0.1:{gossip}"),
    ])
    .await;
    let second = start_with(&[
        format!("--cluster.listen-address=127.0.0.1:{other}"),
        format!("--cluster.advertise-address=127.0.0.1:{other}"),
        format!("--cluster.peer=127.0.0.1:{gossip}"),
    ])
    .await;
    let dead = format!("http://127.0.0.1:{}", free_port());
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("config.toml");
    std::fs::write(
        &file,
        format!(
            "[alertmanager]\nurls = [\"{dead}\", \"{}\", \"{}\"]\n[git]\nremote = \"r\"\n",
            first.url, second.url
        ),
    )
    .expect("config");
    let config = Config::load(&file, None).expect("valid");
    let client = AlertmanagerClient::new(&config.alertmanager).expect("client");
    assert!(
        client
            .alerts()
            .await
            .expect("read past the dead peer")
            .is_empty()
    );

    let now = shopctl::domain::Ts::now();
    let id = client
        .create_silence(&shopctl::ops::silence::NewSilence {
            matchers: vec![shopctl::domain::Matcher {
                name: "cluster".into(),
                op: shopctl::domain::MatchOp::Equal,
                value: "b".into(),
            }],
            starts_at: now,
            ends_at: now.plus_secs(3600),
            created_by: "alice@ops".into(),
            comment: "ha maintenance".into(),
        })
        .await
        .expect("created");
    // Written to the first peer that answered, and gossiped to the other: one silence, seen
    // through both.
    let only = HttpClient::new(&second.url, Auth::None, None).expect("client");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let seen = shopctl::backends::live::alertmanager::decode_silences(
            &only.get("/api/v2/silences").await.expect("read"),
        )
        .expect("silences");
        let ours: Vec<_> = seen
            .iter()
            .filter(|s| s.comment == "ha maintenance")
            .collect();
        assert!(ours.len() <= 1, "written twice: {ours:?}");
        if ours.len() == 1 {
            assert_eq!(ours[0].id, id);
            break;
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        assert!(!left.is_zero(), "the silence never reached the second peer");
        // Alertmanager says nothing when its peers have gossiped: asked again, until the
        // deadline, never waiting past it.
        tokio::time::sleep(left.min(Duration::from_millis(200))).await;
    }
    let through_first = HttpClient::new(&first.url, Auth::None, None).expect("client");
    let on_first = shopctl::backends::live::alertmanager::decode_silences(
        &through_first.get("/api/v2/silences").await.expect("read"),
    )
    .expect("silences");
    assert_eq!(
        on_first
            .iter()
            .filter(|s| s.comment == "ha maintenance")
            .count(),
        1
    );
}
