//! The binary as scripts and operators use it: arguments, themes, `status`, shared demo state.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn shopctl() -> Command {
    let mut c = Command::cargo_bin("shopctl").expect("binary built");
    c.env_remove("NO_COLOR").env(
        "XDG_STATE_HOME",
        std::env::temp_dir().join("shopctl-test-state"),
    );
    c
}

fn demo(dir: &Path) -> Command {
    let mut c = shopctl();
    c.arg("--demo")
        .arg("--demo-dir")
        .arg(dir)
        .args(["--demo-seed", "7", "--demo-scale", "600"]);
    c
}

fn status_json(dir: &Path) -> Value {
    let out = demo(dir)
        .args(["status", "-o", "json"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

#[test]
fn themes_lists_the_builtins() {
    shopctl()
        .arg("themes")
        .assert()
        .success()
        .stdout(predicate::str::contains("default").and(predicate::str::contains("light")))
        .stdout(predicate::str::contains("high-contrast").and(predicate::str::contains("mono")));
}

#[test]
fn invalid_theme_files_are_refused_naming_file_key_and_value() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cases = [
        (
            "bad-colour.toml",
            vec!["bad-colour.toml", "state.danger", "'blurple'"],
        ),
        (
            "unknown-key.toml",
            vec!["unknown-key.toml", "state.dangr", "'red'"],
        ),
        ("bad-bool.toml", vec!["bad-bool.toml", "'colour'", "'yes'"]),
        (
            "not-a-string.toml",
            vec!["not-a-string.toml", "state.ok", "'true'"],
        ),
        ("syntax.toml", vec!["syntax.toml", "not valid TOML"]),
    ];
    for (file, wants) in cases {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/themes")
            .join(file);
        let assert = demo(tmp.path())
            .arg("--theme")
            .arg(&path)
            .arg("status")
            .assert()
            .code(1);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        for want in wants {
            assert!(
                stderr.contains(want),
                "{file}: '{want}' missing from: {stderr}"
            );
        }
    }
    let good = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/themes/good.toml");
    demo(tmp.path())
        .arg("--theme")
        .arg(good)
        .arg("status")
        .assert()
        .success();
    demo(tmp.path())
        .args(["--theme", "solarized", "status"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown theme 'solarized'"));
}

#[test]
fn bad_arguments_get_clear_messages() {
    shopctl()
        .args(["--demo", "--demo-scenario", "meteor", "status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("meteor"));
    shopctl()
        .args(["--demo", "--demo-scale", "lots"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("lots"));
    let tmp = tempfile::tempdir().expect("tempdir");
    shopctl()
        .arg("--demo")
        .arg("--demo-dir")
        .arg(tmp.path())
        .args(["--demo-scale", "0", "status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--demo-scale").and(predicate::str::contains("'0'")));
    assert!(
        std::fs::read_dir(tmp.path())
            .map(|mut d| d.next().is_none())
            .unwrap_or(false),
        "a refused argument creates nothing"
    );
    shopctl()
        .arg("status")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--demo"));
    // A command missing what it acts on is a usage error, like any other.
    demo(tmp.path())
        .arg("drain")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("name the cluster to drain"));
    // So are options that do not go together.
    demo(tmp.path())
        .args(["--wall", "status"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--wall is a layout of the console",
        ));
    demo(tmp.path())
        .args([
            "export",
            "--repo-url",
            "https://me:secret@git.example/system.git",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("credentials do not belong"));
    // Output to a closed stdout would be lost without a word: nothing is done.
    let closed = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{}' --demo --demo-dir '{}' drain b --yes >&-",
            env!("CARGO_BIN_EXE_shopctl"),
            tmp.path().display()
        ))
        .env("XDG_STATE_HOME", tmp.path().join("state"))
        .output()
        .expect("runs");
    assert_eq!(closed.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&closed.stderr).contains("standard output is closed"),
        "{}",
        String::from_utf8_lossy(&closed.stderr)
    );
    assert!(!tmp.path().join("audit.jsonl").exists(), "nothing was done");
}

#[test]
fn the_console_refuses_to_start_without_a_terminal() {
    let tmp = tempfile::tempdir().expect("tempdir");
    demo(tmp.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("needs a terminal"));
}

#[test]
fn status_json_follows_the_contract() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let v = status_json(tmp.path());
    for c in v["clusters"].as_array().expect("clusters") {
        for k in [
            "name",
            "provider",
            "failure_domain",
            "reachable",
            "cordoned",
        ] {
            assert!(c.get(k).is_some(), "cluster.{k}");
        }
    }
    let names: Vec<&str> = v["clusters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, ["a", "b", "c", "d"]);
    let tiers: Vec<&str> = v["tiers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(tiers, ["dev", "beta", "prod-beta", "prod", "prod-ha"]);
    for t in v["tiers"].as_array().expect("tiers") {
        for k in ["name", "level", "branch", "revision"] {
            assert!(t.get(k).is_some(), "tier.{k}");
        }
        assert_eq!(t["revision"].as_str().map(str::len), Some(40));
    }
    for s in v["shopsets"].as_array().expect("shopsets") {
        for k in [
            "name",
            "tier",
            "cluster",
            "configuration",
            "capacity",
            "shop_count",
        ] {
            assert!(s.get(k).is_some(), "shopset.{k}");
        }
    }
    let shops = v["shops"].as_array().expect("shops");
    assert_eq!(shops.len(), 600);
    for s in shops {
        let r = s["redundancy"].as_str().expect("redundancy");
        assert!(r == "single" || r == "dual");
        assert_eq!(
            s["shopsets"].as_array().map(Vec::len),
            Some(if r == "dual" { 2 } else { 1 })
        );
    }
    let legs: u64 = v["shopsets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["shop_count"].as_u64())
        .sum();
    let want: u64 = shops
        .iter()
        .filter_map(|s| s["shopsets"].as_array().map(|a| a.len() as u64))
        .sum();
    assert_eq!(legs, want, "shop_count adds up");
    for a in v["apps"].as_array().expect("apps") {
        for k in ["name", "shopset", "sync", "health", "revision"] {
            assert!(a.get(k).is_some(), "app.{k}");
        }
    }
    for a in v["alerts"].as_array().expect("alerts") {
        for k in ["name", "severity", "state", "labels"] {
            assert!(a.get(k).is_some(), "alert.{k}");
        }
    }
}

#[test]
fn status_table_is_readable() {
    let tmp = tempfile::tempdir().expect("tempdir");
    demo(tmp.path())
        .arg("status")
        .assert()
        .success()
        .stdout(predicate::str::contains("CLUSTERS").and(predicate::str::contains("prod-ha")))
        .stdout(predicate::str::contains("INVARIANTS all hold"));
}

/// Without the volatile parts (times, alerts that come and go, Argo progress).
fn stable(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        for k in ["generated_at", "alerts", "apps"] {
            o.remove(k);
        }
    }
    if let Some(sets) = v["shopsets"].as_array_mut() {
        for s in sets {
            if let Some(o) = s.as_object_mut() {
                o.remove("components");
            }
        }
    }
    if let Some(cs) = v["clusters"].as_array_mut() {
        for c in cs {
            if let Some(o) = c.as_object_mut() {
                o.remove("nodes_ready");
            }
        }
    }
    v
}

#[test]
fn two_processes_on_one_demo_directory_see_one_fleet() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // Two processes start at once on an empty directory: one creates, the other waits for it.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| status_json(tmp.path()));
        let b = s.spawn(|| status_json(tmp.path()));
        (a.join().expect("a"), b.join().expect("b"))
    });
    assert_eq!(stable(a.clone()), stable(b));

    // Another operator's change (a push to a tier branch) shows in the next process at once.
    let beta = a["tiers"][1]["revision"]
        .as_str()
        .expect("beta revision")
        .to_string();
    assert_ne!(a["tiers"][2]["revision"].as_str(), Some(beta.as_str()));
    common::push_gitlink(tmp.path(), "tier-2", &beta);
    let started = Instant::now();
    let c = status_json(tmp.path());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "seen within two seconds"
    );
    assert_eq!(c["tiers"][2]["revision"].as_str(), Some(beta.as_str()));
    let prod_beta_apps: Vec<&Value> = c["apps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|app| {
            c["shopsets"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|s| s["name"] == app["shopset"] && s["tier"] == "prod-beta")
        })
        .collect();
    assert!(!prod_beta_apps.is_empty());
    assert!(
        prod_beta_apps.iter().all(|a| a["sync"] == "OutOfSync"),
        "{prod_beta_apps:?}"
    );
}

#[test]
fn release_commands_through_the_binary_with_their_exit_codes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = demo(tmp.path())
        .args(["release", "status", "-o", "json"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let tiers = v["tiers"].as_array().expect("tiers");
    assert_eq!(tiers.len(), 5);
    assert!(
        tiers[0]["gate"].is_null(),
        "nothing promotes into the lowest tier"
    );
    let gate = &tiers[2]["gate"];
    assert_eq!(gate["passed"], true, "{gate}");
    let names: Vec<&str> = gate["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "revision_differs",
            "lower_tier_settled",
            "no_alerts",
            "soaked",
            "verified",
            "not_frozen",
            "not_halted",
            "release_not_failed",
            "approved",
            "lock_free"
        ]
    );
    for c in gate["conditions"].as_array().into_iter().flatten() {
        assert!(c["passed"].is_boolean() && c["detail"].is_string());
    }

    // Read-only: 3. No terminal and no --yes: 1. Someone else's lock: 4.
    demo(tmp.path())
        .args([
            "--readonly",
            "release",
            "step",
            "--tier",
            "prod-beta",
            "--yes",
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("read-only"));
    demo(tmp.path())
        .args(["release", "step", "--tier", "prod-beta"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--yes"));
    let lock = tmp.path().join("lock.json");
    let far = shopctl::domain::Ts::now().plus_secs(600);
    std::fs::write(
        &lock,
        format!(
            r#"{{"holder":"bob@ops","acquired_at":0,"expires_at":{}}}"#,
            far.0
        ),
    )
    .expect("lock");
    demo(tmp.path())
        .args(["release", "step", "--tier", "prod-beta", "--yes"])
        .assert()
        .code(4)
        .stderr(predicate::str::contains("bob@ops"));
    let status = demo(tmp.path()).arg("status").output().expect("runs");
    assert!(String::from_utf8_lossy(&status.stdout).contains("prod-beta"));
    std::fs::remove_file(&lock).expect("unlock");

    // Done: 0; the next tier right away: refused by the gate, 2; unknown tier: 1.
    demo(tmp.path())
        .env("SHOPCTL_OPERATOR", "carol@ops")
        .args(["release", "step", "--tier", "prod-beta", "--yes"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("pushed"));
    demo(tmp.path())
        .args(["release", "step", "--tier", "prod", "--yes"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("lower_tier_settled"));
    demo(tmp.path())
        .args(["release", "step", "--tier", "nope", "--yes"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown tier 'nope'"));
    demo(tmp.path())
        .args(["release", "rollback", "--tier", "prod-beta", "--yes"])
        .assert()
        .code(0);
    // The history, from the tier branches: carol's step, rolled back.
    let history = |args: &[&str]| {
        let out = demo(tmp.path())
            .args(["release", "history", "--tier", "prod-beta", "-o", "json"])
            .args(args)
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).expect("json")
    };
    let h = history(&[]);
    let events = h["events"].as_array().expect("events");
    let [.., step, back] = events.as_slice() else {
        panic!("{h}");
    };
    assert_eq!(
        (
            &step["action"],
            &step["by"],
            &step["from_tier"],
            &step["gate"],
            &step["outcome"]
        ),
        (
            &Value::from("promote"),
            &Value::from("carol@ops"),
            &Value::from("beta"),
            &Value::from("passed"),
            &Value::from("rolled-back")
        ),
        "{step}"
    );
    assert_eq!(back["action"], "rollback", "{back}");
    assert_eq!(back["from"], step["to"], "{back}");
    assert_eq!(back["to"], step["from"], "{back}");
    assert!(step["to"]["tag"].is_string(), "{step}");
    // Only the last hour: the two changes made now.
    assert_eq!(
        history(&["--since", "1h"])["events"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    demo(tmp.path())
        .args(["release", "history", "--tier", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown tier 'nope'"));
    demo(tmp.path())
        .args(["release", "history", "--since", "yesterday"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("neither a duration"));
    let table = demo(tmp.path())
        .args(["release", "history"])
        .output()
        .expect("runs");
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("carol@ops") && table.contains("rolled back"),
        "{table}"
    );

    let audit = std::fs::read_to_string(tmp.path().join("audit.jsonl")).expect("audit log");
    // Git alone says the same: without the audit log, the same history.
    std::fs::rename(
        tmp.path().join("audit.jsonl"),
        tmp.path().join("audit.moved"),
    )
    .expect("mv");
    assert_eq!(history(&[]), h);
    std::fs::rename(
        tmp.path().join("audit.moved"),
        tmp.path().join("audit.jsonl"),
    )
    .expect("mv");
    let lines = common::audit_outcomes(&audit);
    assert_eq!(lines.len(), 2, "{audit}");
    assert_eq!(lines[0]["operator"], "carol@ops");
    assert_eq!(lines[0]["action"], "promote");
    assert_eq!(lines[1]["action"], "rollback");
    for l in &lines {
        for k in ["time", "operator", "action", "tier", "from", "to", "result"] {
            assert!(l.get(k).is_some(), "audit.{k}");
        }
    }
}

#[test]
fn demo_silences_mute_matching_alerts_are_idempotent_and_a_damaged_file_loses_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    // Silence every alert the demo can fire on cluster A (regular expression on the name).
    let create = |comment: &str| {
        demo(dir)
            .args(["silence", "create", "alertname=~\".+\"", "cluster=\"a\""])
            .args(["--for", "1h", "--comment", comment, "--yes"])
            .output()
            .expect("runs")
    };
    let out = create("maintenance on A");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let again = create("maintenance on A");
    assert!(again.status.success(), "asking again is not an error");
    assert_eq!(String::from_utf8_lossy(&again.stdout).trim(), id);
    let list: Value = serde_json::from_slice(
        &demo(dir)
            .args(["silence", "list", "-o", "json"])
            .output()
            .expect("runs")
            .stdout,
    )
    .expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["state"], "active");
    assert_eq!(list[0]["matchers"], "alertname=~\".+\" cluster=\"a\"");
    // Every alert on A the demo shows now is muted by it; no other is.
    let status = status_json(dir);
    for a in status["alerts"].as_array().expect("alerts") {
        let on_a = a["labels"]["cluster"] == "a";
        assert_eq!(
            a["silenced_by"]
                .as_array()
                .is_some_and(|s| s.contains(&Value::from(id.as_str()))),
            on_a,
            "{a}"
        );
    }
    // Bad input is named and refused.
    demo(dir)
        .args([
            "silence",
            "create",
            "cluster!=\"a\"",
            "--comment",
            "x",
            "--yes",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("would match every alert"));
    demo(dir)
        .args([
            "silence",
            "create",
            "cluster=\"a\"",
            "--for",
            "40d",
            "--comment",
            "x",
            "--yes",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--for").and(predicate::str::contains("30 days")));
    demo(dir)
        .args(["silence", "expire", "no-such-id", "--yes"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no silence 'no-such-id'"));
    // A damaged silences.json: the alert state is unknown (the gate cannot pass on it), and
    // nothing overwrites the file.
    std::fs::write(dir.join("silences.json"), b"[{broken").expect("damaged");
    let status = status_json(dir);
    assert!(
        status["alerts_unknown"]
            .as_str()
            .is_some_and(|w| w.contains("silences.json")),
        "{status}"
    );
    demo(dir)
        .args([
            "silence",
            "create",
            "cluster=\"b\"",
            "--comment",
            "x",
            "--yes",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("silences.json"));
    // Expiring one names the damaged file, not a missing silence.
    demo(dir)
        .args(["silence", "expire", &id, "--yes"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("the silences cannot be read")
                .and(predicate::str::contains("silences.json"))
                .and(predicate::str::contains("no silence").not()),
        );
    assert_eq!(
        std::fs::read(dir.join("silences.json")).expect("kept"),
        b"[{broken"
    );
}
