//! The binary's exit status when its output or its demo directory fails, and the small argument
//! and theme rules, as an on-call engineer meets them.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use assert_cmd::assert::OutputAssertExt;
use predicates::prelude::*;

/// The environment every run gets: no colour preference, its own state directory, no terminal.
fn isolated(c: &mut Command) -> &mut Command {
    c.env_remove("NO_COLOR")
        .env_remove("SHOPCTL_OPERATOR")
        .env(
            "XDG_STATE_HOME",
            std::env::temp_dir().join("shopctl-test-state"),
        )
        .stdin(Stdio::null())
}

fn shopctl() -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("shopctl"));
    isolated(&mut c);
    c
}

fn demo(dir: &Path) -> Command {
    let mut c = shopctl();
    c.arg("--demo")
        .arg("--demo-dir")
        .arg(dir)
        .args(["--demo-seed", "7", "--demo-scale", "300"]);
    c
}

fn run(c: &mut Command) -> Output {
    c.output().expect("shopctl runs")
}

/// The headless commands that print something, each with the arguments it needs.
const PRINTING: [&[&str]; 5] = [
    &["status", "-o", "json"],
    &["release", "status"],
    &["drain", "plan", "b"],
    &["themes"],
    &["crds"],
];

#[test]
fn output_that_cannot_be_written_exits_1() {
    let tmp = tempfile::tempdir().expect("tempdir");
    demo(tmp.path()).arg("status").assert().success();
    for args in PRINTING {
        let full = File::options()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let out = run(demo(tmp.path()).args(args).stdout(full));
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        out.assert()
            .code(1)
            .stderr(predicate::str::contains("cannot write the output"));
        assert_eq!(
            stderr.matches("cannot write the output").count(),
            1,
            "{args:?}: said once: {stderr}"
        );
    }
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    demo(tmp.path()).arg("status").assert().success();
    for args in PRINTING {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        run(demo(tmp.path()).args(args).stdout(writer))
            .assert()
            .success()
            .stderr("");
    }
}

#[test]
fn a_theme_may_give_a_colour_index_as_an_integer() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let theme = tmp.path().join("indexed.toml");
    std::fs::write(&theme, "[base]\nfg = 5\n[state]\ndanger = 196\n").expect("theme written");
    run(demo(&tmp.path().join("demo"))
        .arg("--theme")
        .arg(&theme)
        .arg("status"))
    .assert()
    .success();
    std::fs::write(&theme, "[base]\nfg = 256\n").expect("theme written");
    run(demo(&tmp.path().join("demo"))
        .arg("--theme")
        .arg(&theme)
        .arg("status"))
    .assert()
    .code(1)
    .stderr(predicate::str::contains(
        "'base.fg' has invalid value '256'",
    ));
}

#[test]
fn a_fifo_or_a_device_as_theme_or_configuration_is_refused_without_waiting() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let fifo = tmp.path().join("theme.toml");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    // Nobody ever writes to the FIFO: reading it would wait forever.
    run(demo(&tmp.path().join("demo"))
        .arg("--theme")
        .arg(&fifo)
        .arg("status"))
    .assert()
    .code(1)
    .stderr(predicate::str::contains(format!(
        "cannot read theme file '{}': it is a FIFO, not a regular file",
        fifo.display()
    )));
    run(shopctl().arg("--config").arg(&fifo).arg("status"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("it is a FIFO, not a regular file"));
    run(shopctl().args(["--config", "/dev/zero", "status"]))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "it is a device, not a regular file",
        ));
}

#[test]
fn a_demo_cluster_is_drained_and_restored_while_git_and_alertmanager_are_down() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("demo");
    run(demo(&dir).arg("status")).assert().success();
    // The system repository gone, Alertmanager's silences unreadable.
    std::fs::rename(dir.join("git/system.git"), dir.join("git/system.gone")).expect("gone");
    std::fs::write(dir.join("silences.json"), "[{broken").expect("damaged");
    run(demo(&dir).args(["status", "-o", "json"]))
        .assert()
        .success()
        .stdout(predicate::str::contains("the system repository"));
    run(demo(&dir)
        .env("SHOPCTL_OPERATOR", "alice@ops")
        .args(["drain", "c", "--yes"]))
    .assert()
    .success()
    .stdout(predicate::str::contains("drained 'c'"));
    run(demo(&dir)
        .env("SHOPCTL_OPERATOR", "alice@ops")
        .args(["restore", "c", "--yes"]))
    .assert()
    .success()
    .stdout(predicate::str::contains("restored 'c'"));
    // A release still needs its repository: refused, nothing pretended.
    run(demo(&dir).env("SHOPCTL_OPERATOR", "alice@ops").args([
        "release",
        "step",
        "--tier",
        "beta",
        "--override-reason",
        "testing",
        "--yes",
    ]))
    .assert()
    .failure();
}

#[test]
fn demo_scale_out_of_range_is_an_argument_error() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for scale in ["0", "1000001"] {
        run(shopctl()
            .arg("--demo")
            .arg("--demo-dir")
            .arg(tmp.path())
            .args(["--demo-scale", scale, "status"]))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--demo-scale").and(predicate::str::contains(scale)));
    }
}

#[cfg(unix)]
#[test]
fn a_demo_directory_that_is_not_utf8_works() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp
        .path()
        .join(std::ffi::OsStr::from_bytes(b"demo-\xff\xfe-dir"));
    demo(&dir).args(["status", "-o", "json"]).assert().success();
    // The working clone fetches from and pushes to the remote in that directory.
    run(demo(&dir).args(["release", "rollback", "--tier", "prod-ha", "--yes"]))
        .assert()
        .success()
        .stdout(predicate::str::contains("pushed"));
}

/// Runs shopctl with writes to files limited to `kib` KiB: creation fails as on a full disk.
#[cfg(unix)]
fn with_small_disk(kib: u32, dir: &Path, args: &[&str]) -> Output {
    let mut c = Command::new("sh");
    isolated(&mut c)
        .arg("-c")
        .arg(format!(
            "trap '' XFSZ; ulimit -f {}; exec \"$0\" \"$@\"",
            kib * 2
        ))
        .arg(assert_cmd::cargo::cargo_bin("shopctl"))
        .args(["--demo", "--demo-seed", "7", "--demo-scale", "300"])
        .arg("--demo-dir")
        .arg(dir)
        .args(args);
    run(&mut c)
}

#[cfg(unix)]
#[test]
fn a_failed_creation_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // A directory that does not exist yet, and one that exists and is empty.
    let new = tmp.path().join("new");
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    for dir in [&new, &empty] {
        let out = with_small_disk(4, dir, &["status"]);
        out.assert()
            .code(1)
            .stderr(predicate::str::contains(dir.display().to_string()));
        let left: Vec<_> = std::fs::read_dir(dir)
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{}: left {left:?}", dir.display());
        assert_eq!(dir.exists(), dir == &empty, "{}", dir.display());
        // The next run creates the fleet.
        demo(dir).arg("status").assert().success();
    }
}

#[test]
fn an_unfinished_demo_directory_is_named_and_reset_recovers_it() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("demo");
    std::fs::create_dir_all(dir.join("git/app.git")).expect("mkdir");
    std::fs::write(dir.join("shops.json"), "[").expect("write");
    let out = run(demo(&dir).arg("status"));
    out.assert().code(1).stderr(
        predicate::str::contains("incomplete demo fleet")
            .and(predicate::str::contains("--demo-reset")),
    );
    demo(&dir)
        .args(["--demo-reset", "status"])
        .assert()
        .success();
    demo(&dir).arg("status").assert().success();
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .expect("clock after 1970")
}

/// Writes the operator lock as another operator's shopctl would.
fn hold_lock(dir: &Path, holder: &str, expires_in_secs: i64) {
    let now = now_ms();
    std::fs::write(
        dir.join("lock.json"),
        format!(
            r#"{{"holder":"{holder}","acquired_at":{now},"expires_at":{}}}"#,
            now + expires_in_secs * 1000
        ),
    )
    .expect("lock written");
}

/// The demo directory still holds its audit log: nothing was deleted.
fn kept(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("audit.jsonl")).is_ok_and(|s| s == "{}\n")
}

#[test]
fn demo_reset_is_refused_read_only_and_while_the_lock_is_held() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("demo");
    demo(&dir).arg("status").assert().success();
    std::fs::write(dir.join("audit.jsonl"), "{}\n").expect("audit log written");

    run(demo(&dir).args(["--readonly", "--demo-reset", "status"]))
        .assert()
        .code(3)
        .stderr(predicate::str::contains("--readonly"));
    assert!(kept(&dir), "read-only reset deleted nothing");

    hold_lock(&dir, "bob@elsewhere", 600);
    run(demo(&dir).args(["--demo-reset", "status"]))
        .assert()
        .code(4)
        .stderr(predicate::str::contains("'bob@elsewhere'"));
    assert!(kept(&dir), "a held lock keeps the fleet");

    std::fs::write(dir.join("lock.json"), "").expect("damaged lock");
    run(demo(&dir).args(["--demo-reset", "status"]))
        .assert()
        .code(4)
        .stderr(predicate::str::contains(
            dir.join("lock.json").display().to_string(),
        ));
    assert!(kept(&dir), "a damaged lock keeps the fleet");

    // An expired lock holds nothing: the reset goes ahead.
    hold_lock(&dir, "bob@elsewhere", -1);
    run(demo(&dir).args(["--demo-reset", "status"]))
        .assert()
        .success();
    assert!(!dir.join("lock.json").exists() && !kept(&dir));
}

#[test]
fn a_read_only_run_creates_no_fleet() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let new = tmp.path().join("new");
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    for dir in [&new, &empty] {
        run(demo(dir).args(["--readonly", "status"]))
            .assert()
            .code(1)
            .stderr(
                predicate::str::contains("no demo fleet")
                    .and(predicate::str::contains(dir.display().to_string()))
                    .and(predicate::str::contains("without --readonly")),
            );
        assert_eq!(dir.exists(), dir == &empty);
        let left: Vec<_> = std::fs::read_dir(dir)
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{left:?}");
    }
    // Once created, read-only runs read it.
    demo(&new).arg("status").assert().success();
    demo(&new).args(["--readonly", "status"]).assert().success();
}

#[test]
fn reassign_refuses_another_tier_or_configuration() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = run(demo(tmp.path()).args(["status", "-o", "json"]));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status JSON");
    let shopsets = status["shopsets"].as_array().expect("shopsets");
    let tier_of = |name: &str| {
        shopsets
            .iter()
            .find(|s| s["name"] == name)
            .and_then(|s| s["tier"].as_str())
            .map(str::to_string)
    };
    let shop = status["shops"]
        .as_array()
        .expect("shops")
        .iter()
        .find(|s| {
            s["redundancy"] == "dual"
                && tier_of(s["shopsets"][0].as_str().unwrap_or_default()).as_deref()
                    == Some("prod-ha")
        })
        .and_then(|s| s["name"].as_str())
        .expect("a dual prod-ha shop")
        .to_string();
    let dev: Vec<&str> = shopsets
        .iter()
        .filter(|s| s["tier"] == "dev")
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(dev.len() >= 2, "{dev:?}");
    let shops_before = std::fs::read(tmp.path().join("shops.json")).expect("shops.json");
    run(demo(tmp.path())
        .args(["reassign", &shop, "--to"])
        .arg(format!("{},{}", dev[0], dev[1]))
        .arg("--yes"))
    .assert()
    .code(2)
    .stderr(
        predicate::str::contains("is in tier 'dev', the shop in 'prod-ha'").and(
            predicate::str::contains("connects to 'staging', the shop to 'production'"),
        ),
    );
    assert_eq!(
        std::fs::read(tmp.path().join("shops.json")).expect("shops.json"),
        shops_before,
        "nothing moved"
    );
}
