//! The release gates through the binary on a demo fleet: halt and resume, freeze windows from
//! the configuration, two-person approval, and the release watcher rolling back a bad release
//! during its soak — with real git, and real time where the demo's Argo CD needs it.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn shopctl(state: &Path) -> Command {
    let mut c = Command::cargo_bin("shopctl").expect("binary built");
    c.env_remove("NO_COLOR")
        .env_remove("SHOPCTL_OPERATOR")
        .env("XDG_STATE_HOME", state)
        .env("XDG_CONFIG_HOME", state.join("no-config"));
    c
}

fn demo(dir: &Path, scenario: &str) -> Command {
    let mut c = shopctl(&dir.join("state"));
    c.arg("--demo")
        .arg("--demo-dir")
        .arg(dir.join("demo"))
        .args([
            "--demo-seed",
            "7",
            "--demo-scale",
            "600",
            "--demo-scenario",
            scenario,
        ]);
    c
}

/// The demo fleet made by an earlier command, as it is.
fn existing(dir: &Path) -> Command {
    let mut c = shopctl(&dir.join("state"));
    c.arg("--demo").arg("--demo-dir").arg(dir.join("demo"));
    c
}

fn as_op(dir: &Path, who: &str) -> Command {
    let mut c = existing(dir);
    c.env("SHOPCTL_OPERATOR", who);
    c
}

fn status(dir: &Path) -> Value {
    let out = existing(dir)
        .args(["release", "status", "-o", "json"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn tier<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["tiers"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == name))
        .expect("tier")
}

fn condition<'a>(t: &'a Value, name: &str) -> &'a Value {
    t["gate"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == name))
        .expect("condition")
}

#[test]
fn a_halt_stops_every_promotion_until_resumed_and_no_reason_overrides_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    demo(d, "calm").arg("status").assert().code(0);
    // The demo verifies by its simulated series: measured and passing.
    let v = status(d);
    let verified = condition(tier(&v, "prod-beta"), "verified");
    assert_eq!(verified["passed"], true, "{verified}");
    let checks = tier(&v, "prod-beta")["gate"]["verifications"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(checks.len(), 2, "{v}");
    for c in &checks {
        assert!(c["value"].is_number() && c["threshold"].is_number() && c["query"].is_string());
        assert_eq!(c["status"], "passed");
    }

    as_op(d, "alice@ops")
        .args(["release", "halt", "--reason", "checkout incident", "--yes"])
        .assert()
        .code(0);
    // Twice: nothing to do, refused.
    as_op(d, "bob@ops")
        .args(["release", "halt", "--reason", "again", "--yes"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already").or(predicate::str::contains("halted")));
    let v = status(d);
    assert_eq!(v["halt"]["by"], "alice@ops");
    assert_eq!(v["halt"]["reason"], "checkout incident");
    let c = condition(tier(&v, "prod-beta"), "not_halted");
    assert_eq!(c["passed"], false);
    assert_eq!(c["overridable"], false);
    as_op(d, "bob@ops")
        .args([
            "release",
            "step",
            "--tier",
            "prod-beta",
            "--override-reason",
            "ship it",
            "--yes",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not_halted"));
    // A reason is required to halt and to resume.
    as_op(d, "bob@ops")
        .args(["release", "resume", "--reason", " ", "--yes"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--reason"));
    as_op(d, "bob@ops")
        .args(["release", "resume", "--reason", "incident over", "--yes"])
        .assert()
        .code(0);
    as_op(d, "bob@ops")
        .args(["release", "resume", "--reason", "again", "--yes"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not halted"));
    // One tier halted: only promotions into it stop.
    as_op(d, "bob@ops")
        .args([
            "release",
            "halt",
            "--tier",
            "prod-beta",
            "--reason",
            "db migration",
            "--yes",
        ])
        .assert()
        .code(0);
    let v = status(d);
    assert!(v["halt"].is_null());
    assert_eq!(tier(&v, "prod-beta")["halted"]["reason"], "db migration");
    assert!(tier(&v, "prod")["halted"].is_null());
    as_op(d, "bob@ops")
        .args(["release", "step", "--tier", "prod-beta", "--yes"])
        .assert()
        .code(2);
    as_op(d, "bob@ops")
        .args([
            "release", "halt", "--tier", "nope", "--reason", "x", "--yes",
        ])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("unknown tier 'nope'"));
    as_op(d, "bob@ops")
        .args([
            "release",
            "resume",
            "--tier",
            "prod-beta",
            "--reason",
            "migrated",
            "--yes",
        ])
        .assert()
        .code(0);
    as_op(d, "bob@ops")
        .args(["release", "step", "--tier", "prod-beta", "--yes"])
        .assert()
        .code(0);
    // Audited, with who and why; read-only refused.
    let audit = std::fs::read_to_string(d.join("demo/audit.jsonl")).expect("audit");
    let lines = common::audit_outcomes(&audit);
    let halts: Vec<&Value> = lines.iter().filter(|l| l["action"] == "halt").collect();
    assert_eq!(halts.len(), 2, "{audit}");
    assert_eq!(halts[0]["reason"], "checkout incident");
    assert_eq!(halts[0]["operator"], "alice@ops");
    existing(d)
        .args(["--readonly", "release", "halt", "--reason", "x", "--yes"])
        .assert()
        .code(3);
}

#[test]
fn a_freeze_window_holds_a_tier_until_a_typed_reason_overrides_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    // Demo mode reads the default configuration file's [[freeze]] (and [keys]).
    let config_home = d.join("config-home");
    std::fs::create_dir_all(config_home.join("shopctl")).expect("config dir");
    let config = config_home.join("shopctl/config.toml");
    let now = shopctl::domain::Ts::now();
    std::fs::write(
        &config,
        format!(
            "[[freeze]]\ntiers = [\"prod-beta\"]\nfrom = \"{}\"\nto = \"{}\"\nreason = \"Black Friday\"\n\n[[freeze]]\ntiers = [\"prod\"]\nfrom = \"Mon 00:00\"\nto = \"Sun 23:59\"\ntime_zone = \"Asia/Tokyo\"\nreason = \"all week\"\n",
            now.plus_secs(-60).rfc3339(),
            now.plus_secs(3600).rfc3339()
        ),
    )
    .expect("config");
    demo(d, "calm").arg("status").assert().code(0);
    let out = existing(d)
        .env("XDG_CONFIG_HOME", &config_home)
        .args(["release", "status", "-o", "json"])
        .output()
        .expect("runs");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let pb = tier(&v, "prod-beta");
    assert_eq!(pb["frozen"]["reason"], "Black Friday");
    let c = condition(pb, "not_frozen");
    assert_eq!(
        (c["passed"].clone(), c["overridable"].clone()),
        (false.into(), true.into())
    );
    assert!(
        c["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("frozen until"),
        "{c}"
    );
    assert!(tier(&v, "prod")["frozen"]["until"].is_string());
    assert!(tier(&v, "beta")["frozen"].is_null());
    existing(d)
        .env("XDG_CONFIG_HOME", &config_home)
        .args(["release", "step", "--tier", "prod-beta", "--yes"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not_frozen"));
    existing(d)
        .env("XDG_CONFIG_HOME", &config_home)
        .args([
            "release",
            "step",
            "--tier",
            "prod-beta",
            "--override-reason",
            "security fix INC-7",
            "--yes",
        ])
        .assert()
        .code(0);
    let msg = common::git(
        &d.join("demo/git/system.git"),
        &["log", "-1", "--format=%B", "tier-2"],
    );
    assert!(
        msg.contains("not_frozen") && msg.contains("security fix INC-7"),
        "{msg}"
    );
    // A bad window is named, with its key.
    std::fs::write(
        &config,
        "[[freeze]]\nfrom = \"Fri 16:00\"\nto = \"Mon 09:00\"\ntime_zone = \"Mars/Olympus\"\nreason = \"r\"\n",
    )
    .expect("config");
    existing(d)
        .env("XDG_CONFIG_HOME", &config_home)
        .args(["release", "status"])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("freeze[0]").and(predicate::str::contains("Mars/Olympus")),
        );
}

#[test]
fn a_step_into_prod_ha_needs_another_persons_approval_of_exactly_that_change() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    demo(d, "calm").arg("status").assert().code(0);
    // prod-ha runs what prod runs: move prod ahead so that there is something to approve.
    let v = status(d);
    assert_eq!(tier(&v, "prod-ha")["approval"]["required"], "second-person");
    let newer = tier(&v, "beta")["revision"]
        .as_str()
        .expect("beta")
        .to_string();
    // Committed an hour ago: the demo's Argo CD has synced it and prod has settled — the
    // commit's time is the clock, nothing is waited for.
    common::push_gitlink_at(
        &d.join("demo"),
        "tier-3",
        &newer,
        shopctl::domain::Ts::now().plus_secs(-3600),
    );
    let v = status(d);
    let c = condition(tier(&v, "prod-ha"), "lower_tier_settled");
    assert_eq!(c["passed"], true, "prod has settled: {c}");
    let c = condition(tier(&v, "prod-ha"), "approved");
    assert_eq!(c["passed"], false);
    assert!(
        c["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("release request"),
        "{c}"
    );
    // No request yet: nothing to approve.
    as_op(d, "bob@ops")
        .args(["release", "approve", "--tier", "prod-ha", "--yes"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no one asked"));
    as_op(d, "alice@ops")
        .args(["release", "request", "--tier", "prod-ha", "--yes"])
        .assert()
        .code(0);
    let v = status(d);
    assert_eq!(v["pending_requests"][0]["requested_by"], "alice@ops");
    assert_eq!(
        tier(&v, "prod-ha")["approval"]["request"]["to"],
        newer.as_str()
    );
    // Not one's own.
    as_op(d, "alice@ops")
        .args(["release", "approve", "--tier", "prod-ha", "--yes"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("second person"));
    // Approval is not a bypass: the step still needs the soak (and a reason cannot stand in for
    // the approval).
    as_op(d, "alice@ops")
        .args([
            "release",
            "step",
            "--tier",
            "prod-ha",
            "--override-reason",
            "urgent",
            "--yes",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("approved"));
    as_op(d, "bob@ops")
        .args(["release", "approve", "--tier", "prod-ha", "--yes"])
        .assert()
        .code(0);
    let v = status(d);
    let c = condition(tier(&v, "prod-ha"), "approved");
    assert_eq!(c["passed"], true, "{c}");
    assert!(
        v["pending_requests"]
            .as_array()
            .is_some_and(|p| p.is_empty())
    );
    // A different change (prod rolled back) is not what bob approved.
    as_op(d, "carol@ops")
        .args(["release", "rollback", "--tier", "prod", "--yes"])
        .assert()
        .code(0);
    let v = status(d);
    assert!(tier(&v, "prod-ha")["approval"]["request"].is_null());
    let audit = std::fs::read_to_string(d.join("demo/audit.jsonl")).expect("audit");
    let lines: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let actions: Vec<&str> = lines.iter().filter_map(|l| l["action"].as_str()).collect();
    assert!(
        actions.contains(&"request approval") && actions.contains(&"approve"),
        "{actions:?}"
    );
    let refused = lines
        .iter()
        .find(|l| l["action"] == "approve" && l["result"] == "refused")
        .expect("the refused approval is audited");
    assert_eq!(refused["operator"], "alice@ops");
}

#[test]
fn the_watcher_rolls_back_a_bad_release_during_its_soak_halts_the_tier_and_two_never_both_act() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let remote = d.join("demo/git/system.git");
    demo(d, "bad-release")
        .args(["release", "step", "--tier", "prod-beta", "--yes"])
        .assert()
        .code(0);
    let bad = common::git(&remote, &["rev-parse", "tier-2"]);
    let count = || common::git(&remote, &["rev-list", "--count", "tier-2"]);
    let before: u32 = count().parse().expect("count");

    // Two watchers look at once, again and again, until the release has gone bad and one of
    // them has rolled it back.
    let spawn = || {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("shopctl"));
        c.env("XDG_STATE_HOME", d.join("state"))
            .env("XDG_CONFIG_HOME", d.join("no-config"))
            .env("SHOPCTL_OPERATOR", "release-watcher")
            .arg("--demo")
            .arg("--demo-dir")
            .arg(d.join("demo"))
            .args(["release", "watch", "--interval", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c.spawn().expect("watcher starts")
    };
    let started = Instant::now();
    let (mut a, mut b) = (spawn(), spawn());
    // What the watchers say, line by line, as they say it.
    let (said_tx, said_rx) = std::sync::mpsc::channel::<String>();
    for w in [&mut a, &mut b] {
        let out = w.stdout.take().expect("stdout piped");
        let tx = said_tx.clone();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
    }
    drop(said_tx);
    let until = Instant::now() + Duration::from_secs(120);
    let mut said = String::new();
    while !said.contains("rolled back 'prod-beta'") {
        let left = until.saturating_duration_since(Instant::now());
        match said_rx.recv_timeout(left) {
            Ok(line) => said.push_str(&(line + "\n")),
            Err(_) => panic!("rolled back within 120 s; the watchers said:\n{said}"),
        }
    }
    let took = started.elapsed();
    assert_ne!(common::git(&remote, &["rev-parse", "tier-2"]), bad);
    for w in [&mut a, &mut b] {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &w.id().to_string()])
            .status();
    }
    let (oa, ob) = (
        a.wait_with_output().expect("a ends"),
        b.wait_with_output().expect("b ends"),
    );
    assert!(oa.status.success() && ob.status.success());
    said.extend(said_rx.iter().map(|l| l + "\n"));
    // Two more looks, each whole: the tier is rolled back, nothing is done again.
    for _ in 0..2 {
        let out = existing(d)
            .env("SHOPCTL_OPERATOR", "release-watcher")
            .args(["release", "watch", "--once"])
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        said.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    let after: u32 = count().parse().expect("count");
    assert_eq!(after, before + 1, "exactly one rollback commit");
    let msg = common::git(&remote, &["log", "-1", "--format=%B", "tier-2"]);
    assert!(
        msg.contains("Roll back prod-beta") && msg.contains("Cause: "),
        "{msg}"
    );
    assert_eq!(said.matches("rolled back 'prod-beta'").count(), 1, "{said}");
    eprintln!("the bad release was rolled back {took:?} after its step");

    // Audited with its cause; the tier halted and the release marked failed on it.
    let audit = std::fs::read_to_string(d.join("demo/audit.jsonl")).expect("audit");
    // Every line (the other watcher, refused by the lock, is audited without an intent).
    let lines: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let rollback = lines
        .iter()
        .find(|l| l["action"] == "rollback" && l["result"] == "pushed")
        .expect("the rollback is audited");
    assert_eq!(rollback["operator"], "release-watcher");
    // The cause — a verification that failed, or the alert that fired, whichever was seen
    // first — is the audit line's reason and the commit message's.
    let cause = rollback["reason"].as_str().unwrap_or_default();
    assert!(
        (cause.starts_with("verification failed: ") || cause.starts_with("alert "))
            && msg.contains(&format!("Cause: {cause}")),
        "{cause} / {msg}"
    );
    let v = status(d);
    let pb = tier(&v, "prod-beta");
    assert!(
        pb["halted"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("automatically")
    );
    assert!(pb["failed_release"]["revision"].is_string());
    // Once resumed, the failed release is still not offered; cleared, it is.
    existing(d)
        .args([
            "release",
            "resume",
            "--tier",
            "prod-beta",
            "--reason",
            "looked at it",
            "--yes",
        ])
        .assert()
        .code(0);
    let v = status(d);
    let c = condition(tier(&v, "prod-beta"), "release_not_failed");
    assert_eq!(c["passed"], false, "{c}");
    existing(d)
        .args([
            "release",
            "step",
            "--tier",
            "prod-beta",
            "--override-reason",
            "x",
            "--yes",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("release_not_failed"));
    existing(d)
        .args([
            "release",
            "clear",
            "--tier",
            "prod-beta",
            "--reason",
            "fixed upstream",
            "--yes",
        ])
        .assert()
        .code(0);
    let v = status(d);
    assert_eq!(
        condition(tier(&v, "prod-beta"), "release_not_failed")["passed"],
        true
    );
}
