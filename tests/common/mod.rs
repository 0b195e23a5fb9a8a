//! Shared test helpers: reproducible demo fleets in temporary directories.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use shopctl::backends::demo::{DemoFleet, DemoOptions, DemoSource, Scenario};
use shopctl::domain::{Fleet, Ts};

/// 2026-11-22T16:00:00Z: when test fleets are created.
pub const CREATED: Ts = Ts(1_795_363_200_000);

pub fn demo_options(dir: &Path, scale: u32, scenario: Scenario) -> DemoOptions {
    DemoOptions {
        dir: dir.to_path_buf(),
        scale: Some(scale),
        seed: Some(7),
        scenario: Some(scenario),
        reset: false,
        readonly: false,
        created_at: Some(CREATED),
    }
}

/// A demo fleet created at [`CREATED`] and read `after_secs` later.
pub fn demo_snapshot(dir: &Path, scale: u32, scenario: Scenario, after_secs: i64) -> Fleet {
    let fleet = DemoFleet::open(&demo_options(dir, scale, scenario)).expect("demo fleet opens");
    let mut source = DemoSource::new(fleet);
    source
        .snapshot(CREATED.plus_secs(after_secs))
        .expect("demo snapshot")
}

/// Runs git in `dir`, asserting success; returns trimmed stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Commits on `branch` of the system remote a new `base` gitlink, as an operator's clone would.
pub fn push_gitlink(demo: &Path, branch: &str, app_commit: &str) {
    push_gitlink_when(demo, branch, app_commit, None);
}

/// [`push_gitlink`] with the commit dated `at` (Argo CD in the demo reacts to commit times).
pub fn push_gitlink_at(demo: &Path, branch: &str, app_commit: &str, at: Ts) {
    push_gitlink_when(demo, branch, app_commit, Some(at));
}

fn push_gitlink_when(demo: &Path, branch: &str, app_commit: &str, at: Option<Ts>) {
    let work = demo.join("scratch-clone");
    let remote = demo.join("git/system.git");
    let out = Command::new("git")
        .args(["clone", "-q", "--branch", branch])
        .arg(&remote)
        .arg(&work)
        .output()
        .expect("git clone runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    git(
        &work,
        &[
            "update-index",
            "--cacheinfo",
            &format!("160000,{app_commit},base"),
        ],
    );
    let mut commit = Command::new("git");
    commit.arg("-C").arg(&work).args([
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.invalid",
        "commit",
        "-qm",
        "Promote by test",
    ]);
    if let Some(at) = at {
        let date = format!("@{} +0000", at.secs());
        commit
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date);
    }
    let out = commit.output().expect("git commit runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    git(&work, &["push", "-q", "origin", branch]);
    std::fs::remove_dir_all(&work).expect("scratch clone removed");
}

/// A live-mode configuration in `dir`: the control plane through `kubeconfig` (context `ops`),
/// Alertmanager at `alertmanager` (with `alertmanager_extra` TOML lines, such as credentials),
/// and the real git remote of the demo fleet in `dir/demo` (made if missing) as the system
/// repository. Returns the file.
pub fn live_config(
    dir: &Path,
    kubeconfig: &Path,
    alertmanager: &str,
    alertmanager_extra: &str,
) -> std::path::PathBuf {
    let demo = dir.join("demo");
    // A test that made its own demo fleet there keeps it.
    if !demo.exists() {
        DemoFleet::open(&demo_options(&demo, 100, Scenario::Calm)).expect("demo");
    }
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[control_plane]\ncontext = \"ops\"\nkubeconfig = \"{}\"\n[alertmanager]\nurl = \"{alertmanager}\"\n{alertmanager_extra}\n[git]\nremote = \"{}\"\ncache = \"{}\"\n",
            kubeconfig.display(),
            demo.join("git/system.git").display(),
            dir.join("cache/system.git").display()
        ),
    )
    .expect("config");
    config
}

/// The rows of `list` in a `status -o json` document, each cut to `fields`, in a stable order:
/// for comparing two readings of the same fleet.
pub fn status_rows(v: &serde_json::Value, list: &str, fields: &[&str]) -> Vec<serde_json::Value> {
    let mut rows: Vec<serde_json::Value> = v[list]
        .as_array()
        .expect("a list")
        .iter()
        .map(|row| {
            serde_json::Value::Object(
                fields
                    .iter()
                    .map(|f| (f.to_string(), row[*f].clone()))
                    .collect(),
            )
        })
        .collect();
    rows.sort_by_key(|r| r.to_string());
    rows
}

/// The lists and fields of `status -o json` that the demo and live mode must read the same.
pub const SAME_IN_BOTH_MODES: &[(&str, &[&str])] = &[
    (
        "clusters",
        &["name", "provider", "failure_domain", "cordoned"],
    ),
    (
        "tiers",
        &[
            "name",
            "level",
            "branch",
            "revision",
            "revision_tag",
            "soak_secs",
        ],
    ),
    (
        "shopsets",
        &[
            "name",
            "tier",
            "cluster",
            "configuration",
            "capacity",
            "shop_count",
            "components",
        ],
    ),
    ("shops", &["name", "redundancy", "shopsets"]),
    (
        "apps",
        &[
            "name",
            "shopset",
            "sync",
            "health",
            "operation",
            "revision",
            "app_revision",
        ],
    ),
    (
        "unfinished_drains",
        &["cluster", "drain", "shops_left", "shops_away"],
    ),
];

/// Runs `shopctl --config CONFIG ARGS` as alice@ops with its state in `state`, off the test's
/// runtime, with `vars` set in its environment (and no proxy from the test's own).
pub async fn shopctl_live_with(
    config: &Path,
    state: &Path,
    vars: &[(&str, String)],
    args: &[&str],
) -> std::process::Output {
    let (cfg, st) = (config.to_path_buf(), state.to_path_buf());
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_shopctl"));
        for v in [
            "HTTPS_PROXY",
            "https_proxy",
            "HTTP_PROXY",
            "http_proxy",
            "NO_PROXY",
            "no_proxy",
        ] {
            cmd.env_remove(v);
        }
        cmd.env("XDG_STATE_HOME", &st)
            .env("SHOPCTL_OPERATOR", "alice@ops")
            .envs(vars)
            .arg("--config")
            .arg(&cfg)
            .args(&args)
            .output()
            .expect("runs")
    })
    .await
    .expect("joined")
}

/// [`shopctl_live_with`] with nothing added to the environment.
pub async fn shopctl_live(config: &Path, state: &Path, args: &[&str]) -> std::process::Output {
    shopctl_live_with(config, state, &[], args).await
}

/// Applies what a live source says to `fleet` until `done` holds, collecting the problems of
/// `expected` (any other source's problem fails the test); fails after `within`.
pub async fn until_source(
    rx: &mut tokio::sync::mpsc::Receiver<shopctl::backends::SourceEvent>,
    fleet: &mut Fleet,
    problems: &mut Vec<String>,
    expected: shopctl::backends::SourceId,
    within: std::time::Duration,
    what: &str,
    done: impl Fn(&Fleet, &[String]) -> bool,
) {
    use shopctl::backends::SourceEvent;
    let started = std::time::Instant::now();
    while !done(fleet, problems) {
        let left = within.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some(SourceEvent::Update(u))) => {
                fleet.apply(u);
                fleet.refresh();
            }
            Ok(Some(SourceEvent::Problem { source, message })) => {
                assert_eq!(source, expected);
                problems.push(message);
            }
            Ok(Some(SourceEvent::Heartbeat { .. } | SourceEvent::Loading { .. })) => {}
            Ok(None) | Err(_) => panic!(
                "never saw {what}; fleet has {:?}; problems {problems:?}",
                shop_names(fleet)
            ),
        }
    }
}

/// The fleet's shop names, sorted.
pub fn shop_names(f: &Fleet) -> Vec<String> {
    let mut v: Vec<String> = f.shops.iter().map(|s| s.name.clone()).collect();
    v.sort();
    v
}

/// Starts the console on `config` in a 200×50 pseudo-terminal and waits for its first frame with
/// the whole fleet (`shops` shops, every source's first read in); returns the milliseconds from
/// start its log gives, and its peak RSS in KiB at that moment. The console's log is a FIFO read
/// line by line as it is written: no polling. `dir` holds the console's state.
pub fn console_whole_fleet(config: &Path, shops: usize, dir: &Path) -> (f64, u64) {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let log_dir = dir.join("console-state");
    std::fs::create_dir_all(log_dir.join("shopctl")).expect("state dir");
    let log = log_dir.join("shopctl/shopctl.log");
    let _ = std::fs::remove_file(&log);
    assert!(
        Command::new("mkfifo")
            .arg(&log)
            .status()
            .is_ok_and(|s| s.success()),
        "mkfifo"
    );
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    let fifo = log.clone();
    std::thread::spawn(move || {
        use std::io::BufRead;
        let Ok(f) = std::fs::File::open(&fifo) else {
            return;
        };
        for line in std::io::BufReader::new(f).lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                return;
            }
        }
    });
    let shopctl_bin = assert_cmd::cargo::cargo_bin("shopctl");
    let mut console = Command::new("script")
        .arg("-qfc")
        .arg(format!(
            "stty rows 50 cols 200; exec {} --config {}",
            shopctl_bin.display(),
            config.display()
        ))
        .arg("/dev/null")
        .env("XDG_STATE_HOME", &log_dir)
        .env("SHOPCTL_LOG", "shopctl=info")
        .env("TERM", "xterm-256color")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("script runs the console");
    let whole = format!("shops={shops}");
    let deadline = Instant::now() + Duration::from_secs(300);
    let line = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(l) if l.contains("first frame with the whole fleet drawn") => {
                assert!(l.contains(&whole), "the whole fleet is not every shop: {l}");
                break l;
            }
            Ok(_) => {}
            Err(_) => panic!("the console never showed the whole fleet"),
        }
    };
    let ms: f64 = line
        .split("ms=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .expect("ms in the log line");
    // The console is the child of `script`.
    let pid = Command::new("pgrep")
        .args(["-P", &console.id().to_string(), "-x", "shopctl"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|p| p.trim().to_string())
        .unwrap_or_default();
    let peak = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|k| k.parse().ok()))
        })
        .unwrap_or(0);
    if !pid.is_empty() {
        let _ = Command::new("kill").arg(&pid).status();
        // A console asked to stop logs that it stopped within seconds; one that does not is
        // said, then killed.
        let gone = Instant::now() + Duration::from_secs(10);
        let stopped = loop {
            match lines.recv_timeout(gone.saturating_duration_since(Instant::now())) {
                Ok(l) if l.contains("console stopped") => break true,
                Ok(_) => {}
                Err(_) => break false,
            }
        };
        if !stopped {
            eprintln!("the console (pid {pid}) did not stop within 10 s of SIGTERM; killed");
            let _ = Command::new("kill").args(["-9", &pid]).status();
        }
    }
    let _ = console.kill();
    let _ = console.wait();
    (ms, peak)
}

/// The outcome lines of an audit log's text, checked to follow their intents one for one (the
/// log is written ahead: each step's intent, then its outcome with the same id).
#[allow(dead_code)]
pub fn audit_outcomes(audit: &str) -> Vec<serde_json::Value> {
    let lines: Vec<serde_json::Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let (intents, outcomes): (Vec<serde_json::Value>, Vec<serde_json::Value>) =
        lines.into_iter().partition(|l| l["result"] == "intent");
    assert_eq!(
        intents.iter().map(|l| &l["id"]).collect::<Vec<_>>(),
        outcomes.iter().map(|l| &l["id"]).collect::<Vec<_>>(),
        "{audit}"
    );
    outcomes
}

/// Write access from a real (demo) executor, as a read-write console gets it.
pub fn console_access() -> shopctl::ops::access::WriteAccess {
    static ACCESS: std::sync::OnceLock<shopctl::ops::access::WriteAccess> =
        std::sync::OnceLock::new();
    *ACCESS.get_or_init(|| {
        let tmp = tempfile::tempdir().expect("tempdir");
        let demo = DemoFleet::open(&demo_options(tmp.path(), 50, Scenario::Calm)).expect("demo");
        let executor = demo
            .executor(shopctl::ops::Holder::new_session("op"))
            .expect("executor");
        shopctl::ops::access::WriteAccess::of(&executor)
    })
}

/// A `w`×`h` console at `now` fed `fleet` through source messages, as the real loop does.
pub fn console(
    fleet: &Fleet,
    access: Option<shopctl::ops::access::WriteAccess>,
    now: Ts,
    w: u16,
    h: u16,
) -> shopctl::ui::app::App {
    use shopctl::backends::{SourceEvent, SourceId, SourceInfo};
    use shopctl::ui::app::{App, Msg};
    use shopctl::ui::update::update;
    let info = SourceInfo {
        fleet: "demo-fleet".into(),
        context: "demo (test fleet)".into(),
        mode: "demo",
    };
    let mut app = App::new(info, access, now, ratatui::layout::Rect::new(0, 0, w, h));
    for u in fleet.as_updates() {
        update(&mut app, Msg::Source(SourceEvent::Update(u)));
    }
    update(
        &mut app,
        Msg::Source(SourceEvent::Heartbeat {
            source: SourceId::ControlPlane,
            at: now,
        }),
    );
    app
}
