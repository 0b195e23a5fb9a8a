//! Drain, restore and reassign end to end on the demo fleet, through the binary and the library.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command as Proc;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn demo(dir: &Path, scale: u32) -> Command {
    let mut c = Command::cargo_bin("shopctl").expect("binary");
    c.env(
        "XDG_STATE_HOME",
        std::env::temp_dir().join("shopctl-test-state"),
    )
    .arg("--demo")
    .arg("--demo-dir")
    .arg(dir)
    .args(["--demo-seed", "7", "--demo-scale", &scale.to_string()]);
    c
}

fn placement(dir: &Path, scale: u32) -> HashMap<String, Vec<String>> {
    let out = demo(dir, scale)
        .args(["status", "-o", "json"])
        .output()
        .expect("status");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    v["shops"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let sets = s["shopsets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect();
            (s["name"].as_str().unwrap_or_default().to_string(), sets)
        })
        .collect()
}

fn shopsets_on(dir: &Path, scale: u32, cluster: &str) -> Vec<String> {
    let out = demo(dir, scale)
        .args(["status", "-o", "json"])
        .output()
        .expect("status");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    v["shopsets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["cluster"] == cluster)
        .filter_map(|s| s["name"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn drain_then_restore_gives_back_the_same_placement() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let before = placement(tmp.path(), 2000);
    let plan = demo(tmp.path(), 2000)
        .args(["drain", "plan", "d", "-o", "json"])
        .output()
        .expect("plan");
    let plan: Value = serde_json::from_slice(&plan.stdout).expect("plan json");
    assert_eq!(plan["cluster"], "d");
    assert_eq!(plan["blockers"].as_array().map(Vec::len), Some(0));
    let moves = plan["moves"].as_array().map(Vec::len).unwrap_or(0);
    assert!(moves > 100, "{moves} moves");
    assert_eq!(placement(tmp.path(), 2000), before, "a plan moves nothing");

    demo(tmp.path(), 2000)
        .args(["drain", "d", "--yes"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("{moves} shops moved")));
    let drained = placement(tmp.path(), 2000);
    let on_d = shopsets_on(tmp.path(), 2000, "d");
    assert!(
        drained.values().flatten().all(|s| !on_d.contains(s)),
        "nothing left on D"
    );
    assert_eq!(drained.len(), before.len(), "no shop lost or duplicated");
    assert!(drained.values().all(|s| !s.is_empty()));
    let status = demo(tmp.path(), 2000)
        .arg("status")
        .output()
        .expect("status");
    let text = String::from_utf8_lossy(&status.stdout).to_string();
    assert!(
        text.contains("cordoned") && text.contains("INVARIANTS all hold"),
        "{text}"
    );

    demo(tmp.path(), 2000)
        .args(["restore", "d", "--yes"])
        .assert()
        .success();
    assert_eq!(placement(tmp.path(), 2000), before);
    let text = String::from_utf8_lossy(
        &demo(tmp.path(), 2000)
            .arg("status")
            .output()
            .expect("status")
            .stdout,
    )
    .to_string();
    assert!(!text.contains("cordoned"), "uncordoned after restore");
    let audit = std::fs::read_to_string(tmp.path().join("audit.jsonl")).expect("audit");
    assert!(
        audit.contains("\"cordon\"")
            && audit.contains("\"drain batch\"")
            && audit.contains("\"restore\"")
    );
}

#[test]
fn a_drain_killed_midway_continues_where_it_stopped() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let scale = 20_000;
    let before = placement(tmp.path(), scale);
    let bin = assert_cmd::cargo::cargo_bin("shopctl");
    let mut child = Proc::new(&bin)
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("shopctl-test-state"),
        )
        .arg("--demo")
        .arg("--demo-dir")
        .arg(tmp.path())
        .args([
            "--demo-seed",
            "7",
            "--demo-scale",
            &scale.to_string(),
            "drain",
            "b",
            "--yes",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("drain starts");
    // Once the drain reports its first batch written, hold the placement write lock so that it
    // cannot write another one, then kill it: the kill lands mid-drain, by construction.
    let stderr = child.stderr.take().expect("stderr piped");
    let first_batch = std::io::BufRead::lines(std::io::BufReader::new(stderr))
        .map_while(Result::ok)
        .find(|l| {
            // The progress lines, `  done/total shops`; the first says 0 before any batch.
            l.trim()
                .strip_suffix(" shops")
                .and_then(|p| p.split_once('/'))
                .and_then(|(done, _)| done.parse::<u32>().ok())
                .is_some_and(|done| done > 0)
        });
    assert!(
        first_batch.is_some(),
        "the drain ended without writing a batch"
    );
    let write_lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(tmp.path().join(".placement.lock"))
        .expect("the placement write lock file");
    // Waits for the batch being written, if any, to finish.
    write_lock.lock().expect("the placement write lock");
    let _ = child.kill(); // SIGKILL: no cleanup at all
    let _ = child.wait();
    write_lock.unlock().expect("write lock released");

    let midway = placement(tmp.path(), scale);
    assert_eq!(
        midway.len(),
        before.len(),
        "no shop lost or duplicated mid-drain"
    );
    assert!(midway.values().all(|s| !s.is_empty()));
    let on_b = shopsets_on(tmp.path(), scale, "b");
    let still_on_b = midway
        .values()
        .filter(|s| s.iter().any(|x| on_b.contains(x)))
        .count();
    let moved = midway
        .iter()
        .filter(|(shop, s)| before.get(*shop) != Some(*s))
        .count();
    assert!(
        moved > 0 && still_on_b > 0,
        "killed mid-drain: {moved} shops moved, {still_on_b} still on B"
    );
    // The killed process's lock is recovered (its process is gone); running again continues.
    demo(tmp.path(), scale)
        .args(["drain", "b", "--yes"])
        .assert()
        .success();
    let done = placement(tmp.path(), scale);
    assert!(done.values().flatten().all(|s| !on_b.contains(s)));
    assert_eq!(done.len(), before.len());
    demo(tmp.path(), scale)
        .args(["restore", "b", "--yes"])
        .assert()
        .success();
    assert_eq!(
        placement(tmp.path(), scale),
        before,
        "restore returns every shop, killed or not"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blockers_refuse_the_drain_unless_accepted_by_name() {
    use shopctl::backends::demo::{DemoFleet, DemoSource, Scenario};
    use shopctl::commands::Exit;
    use shopctl::commands::placement::drain;

    // Cluster B died two minutes ago: draining A has nowhere to put some dual prod-beta legs.
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut opts = common::demo_options(tmp.path(), 2000, Scenario::ClusterOutage);
    opts.created_at = Some(shopctl::domain::Ts::now().plus_secs(-120));
    let fleet = DemoFleet::open(&opts).expect("demo");
    let ex = shopctl::ops::Operations::new(
        fleet
            .executor(shopctl::ops::Holder::new_session("alice@ops"))
            .expect("executor"),
    );
    let mut source = DemoSource::new(fleet);
    let snapshot = source
        .snapshot(shopctl::domain::Ts::now())
        .expect("snapshot");
    let plan = shopctl::domain::placement::plan_drain(&snapshot, "a", &Default::default());
    assert!(
        !plan.blockers.is_empty(),
        "the outage leaves no second failure domain for some shops"
    );
    for m in &plan.moves {
        for s in m.to.iter().filter(|s| !m.from.contains(s)) {
            assert!(
                snapshot.shopset(s).is_some_and(|ss| ss.cluster != "b"),
                "{} goes to the dead cluster",
                m.shop
            );
        }
    }
    let before = snapshot.shops.clone();
    let shops_now = |source: &mut DemoSource| {
        source
            .snapshot(shopctl::domain::Ts::now())
            .expect("snapshot")
            .shops
    };
    assert_eq!(
        drain(&mut source, Some(&ex), "a", true, &[]).await,
        Exit::Refused
    );
    assert_eq!(shops_now(&mut source), before, "nothing moved");
    let names: Vec<String> = plan.blockers.iter().map(|b| b.shop.clone()).collect();
    // A name that is no shop of the cluster (a typo) is refused, not taken as accepted.
    let mut typo = names.clone();
    typo.push(format!("{}x", names[0]));
    assert_eq!(
        drain(&mut source, Some(&ex), "a", true, &typo).await,
        Exit::Refused
    );
    assert_eq!(shops_now(&mut source), before, "nothing moved");
    assert_eq!(
        drain(&mut source, Some(&ex), "a", true, &names).await,
        Exit::Done
    );
    let after = source
        .snapshot(shopctl::domain::Ts::now())
        .expect("snapshot");
    for name in &names {
        let shop = after.shops.iter().find(|s| s.name == *name).expect("shop");
        assert!(!shop.shopsets.is_empty(), "{name} keeps a ShopSet");
    }
    // Read-only and locked are refused like releases.
    assert_eq!(
        drain(&mut source, None, "c", true, &[]).await,
        Exit::ReadOnly
    );
}

#[test]
fn reassign_checks_the_rules_and_audits() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let shops = placement(tmp.path(), 600);
    let (name, sets) = shops
        .iter()
        .find(|(_, s)| s.len() == 1 && s[0].starts_with('a'))
        .map(|(n, s)| (n.clone(), s.clone()))
        .expect("a single shop on A");
    let out = demo(tmp.path(), 600)
        .args(["status", "-o", "json"])
        .output()
        .expect("status");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let tier = v["shopsets"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"] == sets[0].as_str())
        .and_then(|s| s["tier"].as_str())
        .expect("tier")
        .to_string();
    let other_tier = v["shopsets"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["tier"] != tier.as_str())
        .and_then(|s| s["name"].as_str())
        .expect("other")
        .to_string();
    let same_tier = v["shopsets"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["tier"] == tier.as_str() && s["name"] != sets[0].as_str())
        .and_then(|s| s["name"].as_str())
        .expect("same tier")
        .to_string();
    demo(tmp.path(), 600)
        .args([
            "reassign",
            &name,
            "--to",
            &format!("{same_tier},{other_tier}"),
            "--yes",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("needs 1 ShopSet"));
    demo(tmp.path(), 600)
        .args(["reassign", &name, "--to", "Z-9", "--yes"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("'Z-9' does not exist"));
    demo(tmp.path(), 600)
        .args(["--readonly", "reassign", &name, "--to", &same_tier, "--yes"])
        .assert()
        .code(3);
    demo(tmp.path(), 600)
        .args(["reassign", &name, "--to", &same_tier, "--yes"])
        .assert()
        .success();
    assert_eq!(placement(tmp.path(), 600)[&name], vec![same_tier.clone()]);
    let audit = std::fs::read_to_string(tmp.path().join("audit.jsonl")).expect("audit");
    assert!(
        audit.contains("\"reassign\"") && audit.contains(&name),
        "{audit}"
    );
}

#[test]
fn a_second_drain_before_the_first_is_restored_keeps_every_shops_way_home() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let before = placement(dir, 300);
    demo(dir, 300)
        .args(["drain", "a", "--yes"])
        .assert()
        .success();
    // With a away, some dual shops of b have no second failure domain left: accepted degraded.
    let plan = demo(dir, 300)
        .args(["drain", "plan", "b", "-o", "json"])
        .output()
        .expect("plan");
    let plan: Value = serde_json::from_slice(&plan.stdout).expect("json");
    let degraded: Vec<&str> = plan["blockers"]
        .as_array()
        .expect("blockers")
        .iter()
        .filter_map(|b| b["shop"].as_str())
        .collect();
    let mut drain_b = demo(dir, 300);
    drain_b.args(["drain", "b", "--yes"]);
    if !degraded.is_empty() {
        drain_b.arg("--accept-degraded").arg(degraded.join(","));
    }
    drain_b.assert().success();
    // Shops of a that the first drain put on b were moved on by the second, keeping the first
    // record. Restoring a first brings home all but those whose way home goes through b (still
    // cordoned): it says so and keeps its record; once b is back, restoring a again finishes.
    demo(dir, 300)
        .args(["restore", "a", "--yes"])
        .assert()
        .success()
        .stderr(predicate::str::contains("not back yet").and(predicate::str::contains("'b'")));
    demo(dir, 300)
        .args(["restore", "b", "--yes"])
        .assert()
        .success();
    demo(dir, 300)
        .args(["restore", "a", "--yes"])
        .assert()
        .success();
    let after = placement(dir, 300);
    let mut moved: Vec<&String> = before
        .iter()
        .filter(|(shop, sets)| {
            let mut a = after.get(*shop).cloned().unwrap_or_default();
            let mut b = (*sets).clone();
            a.sort();
            b.sort();
            a != b
        })
        .map(|(shop, _)| shop)
        .collect();
    moved.sort();
    assert!(moved.is_empty(), "not home: {moved:?}");
}
