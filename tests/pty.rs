//! End-to-end tests of the real binary in a real pseudo-terminal: what an operator over SSH
//! sees and does, and the terminal left behind — raw mode off, the main screen back, the
//! cursor shown — after quitting, SIGTERM, SIGHUP and a panic. The screen is read with a
//! terminal emulator (vt100), the terminal's mode from the pty itself.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, SlavePty, native_pty_system};

/// How long any one wait may take before the test fails (CI machines are slow and shared).
const PATIENCE: Duration = Duration::from_secs(60);

struct Pty {
    master: Box<dyn MasterPty + Send>,
    /// Kept open so the terminal's mode can still be read after the program exits.
    _slave: Box<dyn SlavePty + Send>,
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    output: mpsc::Receiver<Vec<u8>>,
    screen: vt100::Parser,
    /// Every byte the program wrote.
    bytes: usize,
}

impl Pty {
    fn spawn(state: &Path, args: &[&str], cols: u16, rows: u16, env: &[(&str, &str)]) -> Pty {
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_shopctl"));
        cmd.args(args);
        Pty::spawn_command(cmd, state, cols, rows, env)
    }

    /// shopctl with every file it writes limited to `kib` KiB, as on a disk that fills up.
    fn spawn_on_small_disk(state: &Path, args: &[&str], cols: u16, rows: u16, kib: u32) -> Pty {
        let mut cmd = CommandBuilder::new("sh");
        cmd.args([
            "-c",
            &format!("trap '' XFSZ; ulimit -f {}; exec \"$0\" \"$@\"", kib * 2),
            env!("CARGO_BIN_EXE_shopctl"),
        ]);
        cmd.args(args);
        Pty::spawn_command(cmd, state, cols, rows, &[])
    }

    fn spawn_command(
        mut cmd: CommandBuilder,
        state: &Path,
        cols: u16,
        rows: u16,
        env: &[(&str, &str)],
    ) -> Pty {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pty");
        std::fs::create_dir_all(state).expect("state dir");
        cmd.cwd(state);
        cmd.env("TERM", "xterm-256color");
        cmd.env("XDG_STATE_HOME", state);
        cmd.env("XDG_CONFIG_HOME", state);
        cmd.env("HOME", state);
        cmd.env_remove("NO_COLOR");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair.slave.spawn_command(cmd).expect("shopctl starts");
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer = pair.master.take_writer().expect("pty writer");
        let (tx, output) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Pty {
            master: pair.master,
            _slave: pair.slave,
            child,
            writer,
            output,
            screen: vt100::Parser::new(rows, cols, 0),
            bytes: 0,
        }
    }

    fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).expect("keys sent");
        self.writer.flush().expect("keys sent");
    }

    /// Types `keys` as a person does: one at a time, the screen read between them, so a
    /// recording made this way draws every screen the keys pass through.
    fn type_slowly(&mut self, keys: &str) {
        for c in keys.chars() {
            self.send(&c.to_string());
            self.read_for(Duration::from_millis(450));
        }
    }

    /// Stays on the screen a while, as a person reading it does.
    fn linger(&mut self, secs: u64) {
        self.read_for(Duration::from_secs(secs));
    }

    /// Reads what arrives within `d`; returns how many bytes.
    fn read_for(&mut self, d: Duration) -> usize {
        let end = Instant::now() + d;
        let mut n = 0;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.output.recv_timeout(left) {
                Ok(chunk) => {
                    n += chunk.len();
                    self.screen.process(&chunk);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                // The terminal closed: nothing more can arrive.
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        self.bytes += n;
        n
    }

    fn text(&self) -> String {
        self.screen.screen().contents()
    }

    /// Waits until the screen shows `what`.
    fn wait_for(&mut self, what: &str) {
        let end = Instant::now() + PATIENCE;
        while !self.text().contains(what) {
            assert!(
                Instant::now() < end,
                "the screen never showed {what:?}; it shows:\n{}",
                self.text()
            );
            match self.output.recv_timeout(Duration::from_millis(200)) {
                Ok(chunk) => {
                    self.bytes += chunk.len();
                    self.screen.process(&chunk);
                }
                Err(_) if self.exited() => panic!(
                    "shopctl exited before showing {what:?}; the screen:\n{}",
                    self.text()
                ),
                Err(_) => {}
            }
        }
    }

    fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Waits until the screen no longer shows `what`.
    fn wait_gone(&mut self, what: &str) {
        let end = Instant::now() + PATIENCE;
        while self.text().contains(what) {
            assert!(
                Instant::now() < end,
                "the screen kept showing {what:?}:\n{}",
                self.text()
            );
            self.read_for(Duration::from_millis(100));
        }
    }

    /// Waits for the program to end, reading what it writes meanwhile; its exit code.
    fn wait_exit(&mut self) -> u32 {
        let end = Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                // What it wrote last (the restoring sequences) may still be in flight.
                self.read_for(Duration::from_millis(300));
                return status.exit_code();
            }
            assert!(
                Instant::now() < end,
                "shopctl did not exit:\n{}",
                self.text()
            );
            self.read_for(Duration::from_millis(100));
        }
    }

    fn signal(&mut self, sig: &str) {
        let pid = self.child.process_id().expect("a pid");
        let ok = std::process::Command::new("kill")
            .args([format!("-{sig}"), pid.to_string()])
            .status()
            .expect("kill runs")
            .success();
        assert!(ok, "kill -{sig} {pid}");
    }

    /// The terminal as the program left it: cooked mode (line editing and echo), the main
    /// screen, the cursor shown, bracketed paste off.
    fn assert_restored(&self) {
        let termios = self.master.get_termios().expect("the pty's mode");
        let local = termios.local_flags;
        use nix::sys::termios::LocalFlags;
        assert!(
            local.contains(LocalFlags::ICANON | LocalFlags::ECHO),
            "raw mode left on: {local:?}"
        );
        let screen = self.screen.screen();
        assert!(!screen.alternate_screen(), "left on the alternate screen");
        assert!(!screen.hide_cursor(), "the cursor is left hidden");
        assert!(!screen.bracketed_paste(), "bracketed paste left on");
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn demo_args(dir: &Path) -> Vec<String> {
    vec![
        "--demo".into(),
        "--demo-dir".into(),
        dir.display().to_string(),
        "--demo-seed".into(),
        "7".into(),
    ]
}

fn spawn_demo(tmp: &Path, extra: &[&str], cols: u16, rows: u16) -> Pty {
    spawn_demo_env(tmp, extra, cols, rows, &[])
}

fn spawn_demo_env(tmp: &Path, extra: &[&str], cols: u16, rows: u16, env: &[(&str, &str)]) -> Pty {
    let demo = tmp.join("demo");
    let mut args = demo_args(&demo);
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Pty::spawn(&tmp.join("state"), &args, cols, rows, env)
}

#[test]
fn an_operator_steps_a_release_drains_with_the_typed_name_and_quits() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut pty = spawn_demo(tmp.path(), &[], 80, 24);
    pty.wait_for("Clusters");
    pty.wait_for("prod-beta");
    // The footer says how to get help and how to quit, at 80 columns.
    pty.wait_for("? help");
    assert!(pty.text().contains("quit"), "{}", pty.text());

    // Step: the Tiers pane, prod-beta (the release waits there), s, confirm.
    pty.send("2jj");
    pty.send("s");
    pty.wait_for("Promote");
    // As an operator reads it: enter once the gate shows beta verified (measured a moment
    // after the console's first read; until then the gate fails closed).
    pty.wait_for("✓ verified");
    pty.send("\r");
    pty.wait_for("pushed");
    // The console follows the step until it settles (holding the lock); nothing else starts
    // meanwhile.
    pty.wait_for("done: every ShopSet Synced and Healthy");

    // Drain cluster b: the plan, the cluster's name typed, enter.
    pty.send("1j");
    pty.send("d");
    pty.wait_for("type 'b'");
    pty.send("b\r");
    pty.wait_for("drain done:");

    pty.send("q");
    let code = pty.wait_exit();
    assert_eq!(code, 0, "{}", pty.text());
    pty.assert_restored();

    // The session changed the fleet: it was recorded, and the audit names the recording.
    let recordings: Vec<_> = std::fs::read_dir(tmp.path().join("state/shopctl/recordings"))
        .expect("a recordings folder")
        .filter_map(|e| e.ok())
        .collect();
    assert_eq!(recordings.len(), 1, "one recording of this session");
    let audit = std::fs::read_to_string(tmp.path().join("demo/audit.jsonl")).expect("audit");
    let name = recordings[0].path().display().to_string();
    assert!(audit.contains(&name), "the audit names {name}:\n{audit}");
}

#[test]
fn sigterm_restores_the_terminal() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut pty = spawn_demo(tmp.path(), &["--no-record"], 80, 24);
    pty.wait_for("Clusters");
    pty.signal("TERM");
    pty.wait_exit();
    pty.assert_restored();
}

#[test]
fn sighup_restores_the_terminal() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut pty = spawn_demo(tmp.path(), &["--no-record"], 80, 24);
    pty.wait_for("Clusters");
    pty.signal("HUP");
    pty.wait_exit();
    pty.assert_restored();
}

#[test]
fn a_panic_restores_the_terminal_and_says_what_happened() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut pty = spawn_demo_env(
        tmp.path(),
        &["--no-record"],
        80,
        24,
        &[
            ("SHOPCTL_TEST_PANIC", "after-first-frame"),
            ("RUST_BACKTRACE", "0"),
        ],
    );
    let code = pty.wait_exit();
    assert_ne!(code, 0);
    pty.assert_restored();
    assert!(pty.text().contains("panicked"), "{}", pty.text());
}

#[test]
fn every_terminal_type_draws_the_console_without_stray_sequences() {
    for term in [
        "xterm",
        "xterm-256color",
        "screen",
        "tmux-256color",
        "linux",
        "vt100",
    ] {
        let tmp = tempfile::tempdir().expect("tmp");
        let mut pty = spawn_demo_env(tmp.path(), &["--no-record"], 80, 24, &[("TERM", term)]);
        pty.wait_for("Clusters");
        pty.wait_for("? help");
        let text = pty.text();
        // An escape sequence the emulator did not understand shows up as text.
        for stray in ["[?", "\u{1b}", "2026h", "[0m"] {
            assert!(
                !text.contains(stray),
                "TERM={term}: {stray:?} on screen:\n{text}"
            );
        }
        pty.send("q");
        pty.wait_exit();
        pty.assert_restored();
    }
}

#[test]
fn below_the_minimum_size_it_says_so_and_comes_back_when_the_terminal_grows() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut pty = spawn_demo(tmp.path(), &["--no-record"], 50, 12);
    pty.wait_for("needs at least");
    pty.master
        .resize(PtySize {
            rows: 24,
            cols: 80,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("resize");
    pty.screen.screen_mut().set_size(24, 80);
    pty.wait_for("Clusters");
    pty.send("q");
    pty.wait_exit();
    pty.assert_restored();
}

#[test]
fn keys_rebound_in_the_configuration_drive_the_console_and_are_recorded() {
    let tmp = tempfile::tempdir().expect("tmp");
    let config = tmp.path().join("state/shopctl/config.toml");
    std::fs::create_dir_all(config.parent().expect("dir")).expect("config dir");
    std::fs::write(
        &config,
        "[keys]\ndrain = \"D\"\nquit = [\"Q\", \"ctrl-c\"]\n",
    )
    .expect("config");
    let rec = tmp.path().join("session.jsonl");
    let rec_s = rec.display().to_string();
    let mut pty = spawn_demo(tmp.path(), &["--record", &rec_s], 120, 30);
    pty.wait_for("Clusters");
    pty.wait_for("D drain");
    // The old key does nothing: help, asked for after it, opens over the panes alone (keys are
    // read in order); the new one opens the plan.
    pty.send("1d?");
    pty.wait_for("Keys");
    assert!(!pty.text().contains("Drain cluster"), "{}", pty.text());
    pty.send("?");
    pty.wait_gone("Keys");
    pty.send("D");
    pty.wait_for("Drain cluster");
    // Closed before the next key (an ESC followed at once by a key reads as alt-key).
    pty.send("\x1b");
    pty.wait_gone("Drain cluster");
    // `q` no longer quits: help, asked for after it, still opens; `Q` quits.
    pty.send("q?");
    pty.wait_for("Keys");
    assert!(!pty.exited(), "q still quit");
    pty.send("?");
    pty.wait_gone("Keys");
    pty.send("Q");
    assert_eq!(pty.wait_exit(), 0);
    pty.assert_restored();
    // The recording keeps them, so that its key presses replay as they were meant.
    let header = std::fs::read_to_string(&rec).expect("recording");
    let header = header.lines().next().expect("a header");
    assert!(
        header.contains(r#""keys":{"drain":["D"],"quit":["Q","ctrl-c"]}"#),
        "{header}"
    );

    // A rebinding that gives a key two meanings is refused by name, before anything starts.
    std::fs::write(&config, "[keys]\ndrain = \"s\"\n").expect("config");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shopctl"))
        .args(demo_args(&tmp.path().join("demo")))
        .arg("status")
        .env("XDG_CONFIG_HOME", tmp.path().join("state"))
        .env("XDG_STATE_HOME", tmp.path().join("state"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("config.toml") && err.contains("'s' would both step and drain"),
        "{err}"
    );
}

#[test]
fn a_recorded_session_replays_and_exports_a_cast() {
    let tmp = tempfile::tempdir().expect("tmp");
    let rec = tmp.path().join("session.jsonl");
    let rec_s = rec.display().to_string();
    let mut pty = spawn_demo(tmp.path(), &["--record", &rec_s], 80, 24);
    pty.wait_for("Clusters");
    pty.wait_for("prod-beta");
    pty.send("2j");
    pty.wait_for("› tier beta");
    pty.send("q");
    assert_eq!(pty.wait_exit(), 0);

    // The replay shows the recorded selection, says it is a replay, and ends.
    let mut replay = Pty::spawn(
        &tmp.path().join("state"),
        &["replay", &rec_s, "--speed", "50"],
        100,
        30,
        &[],
    );
    replay.wait_for("REPLAY");
    replay.wait_for("■ end");
    assert!(replay.text().contains("› tier beta"), "{}", replay.text());
    replay.send("q");
    assert_eq!(replay.wait_exit(), 0);
    replay.assert_restored();
}

/// The header says a session is being recorded, and says it louder when the recording has
/// stopped (the disk filled up): the operator never believes in a recording that is not made.
#[test]
fn the_header_says_whether_the_session_is_recorded() {
    let tmp = tempfile::tempdir().expect("tmp");
    let rec = tmp.path().join("session.jsonl");
    let rec_s = rec.display().to_string();
    let mut pty = spawn_demo(tmp.path(), &["--record", &rec_s], 120, 30);
    pty.wait_for("prod-beta");
    pty.wait_for("● rec");
    pty.send("q");
    assert_eq!(pty.wait_exit(), 0);

    // The demo fleet made whole first; then a disk on which files stop growing at 48 KiB.
    let rec = tmp.path().join("cut.jsonl");
    let rec_s = rec.display().to_string();
    let mut args: Vec<String> = demo_args(&tmp.path().join("demo"));
    args.extend(["--record".to_string(), rec_s]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut pty = Pty::spawn_on_small_disk(&tmp.path().join("state"), &args, 120, 30, 48);
    pty.wait_for("prod-beta");
    for _ in 0..40 {
        pty.send("jk");
    }
    pty.wait_for("✗ not recording");
    assert!(!pty.text().contains("● rec"), "{}", pty.text());
    pty.send("q");
    assert_eq!(pty.wait_exit(), 0);
}

mod common;
#[path = "support/fake_kube.rs"]
mod fake_kube;

/// A live session recorded with credentials all around it: a kubeconfig token and an
/// Alertmanager password. The recording holds the fleet and what the operator did, never a
/// credential nor the kubeconfig.
#[test]
fn a_recorded_live_session_holds_no_secret() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let fake = rt.block_on(fake_kube::FakeKube::start("shopset.dev", "v1alpha1"));
    fake.put(
        "fleetclusters",
        "FleetCluster",
        serde_json::json!({"metadata": {"name": "a"}, "spec": {"provider": "eks", "context": "ops"}}),
    );
    fake.put(
        "shopsets",
        "ShopSet",
        serde_json::json!({"metadata": {"name": "a-1"}, "spec": {"tier": "dev", "cluster": "a", "configuration": "staging", "capacity": 10}}),
    );
    let tmp = tempfile::tempdir().expect("tmp");
    let token = "planted-token-7f3a9c";
    let password = "planted-password-41be";
    let kubeconfig = fake.kubeconfig(tmp.path(), "ops", token);
    let secret = tmp.path().join("am-password");
    std::fs::write(&secret, password).expect("secret");
    let config = common::live_config(
        tmp.path(),
        &kubeconfig,
        "http://127.0.0.1:1",
        &format!(
            "basic_auth = {{ username = \"shopctl\", password_file = \"{}\" }}",
            secret.display()
        ),
    );
    let rec = tmp.path().join("live.jsonl");
    let (config_s, rec_s) = (config.display().to_string(), rec.display().to_string());
    let mut pty = Pty::spawn(
        &tmp.path().join("state"),
        &["--config", &config_s, "--record", &rec_s, "--readonly"],
        100,
        30,
        &[],
    );
    pty.wait_for("a-1");
    pty.wait_for("Alertmanager");
    // The operator pastes a token into a filter by mistake, then clears it.
    pty.send("3/");
    pty.send("\u{1b}[200~token=planted-paste-99\u{1b}[201~");
    pty.wait_for("esc clear");
    pty.send("\u{1b}");
    // A lone escape is told from the start of a key sequence only by the pause after it.
    pty.wait_for("? help");
    pty.send("q");
    pty.wait_exit();
    pty.assert_restored();
    let text = std::fs::read_to_string(&rec).expect("recording");
    assert!(text.contains("\"a-1\""), "the fleet is recorded");
    let kube = std::fs::read_to_string(&kubeconfig).expect("kubeconfig");
    for secret in [token, password, "planted-paste-99", kube.as_str()] {
        assert!(!text.contains(secret), "{secret:?} is in the recording");
    }
    drop(fake);
    drop(rt);
}

/// Waits until one line of the screen contains every one of `words`.
fn wait_for_line(pty: &mut Pty, words: &[&str]) {
    let end = Instant::now() + Duration::from_secs(600);
    loop {
        if pty
            .text()
            .lines()
            .any(|l| words.iter().all(|w| l.contains(w)))
        {
            return;
        }
        assert!(
            Instant::now() < end,
            "no line showed {words:?}:\n{}",
            pty.text()
        );
        pty.read_for(Duration::from_millis(200));
    }
}

/// A demo console recording into `recordings/NAME.jsonl`.
fn journey(name: &str, scenario: &str) -> (tempfile::TempDir, Pty) {
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("recordings");
    let tmp = tempfile::tempdir().expect("tmp");
    let file = out.join(format!("{name}.jsonl"));
    let _ = std::fs::remove_file(&file);
    let demo = tmp.path().join("demo").display().to_string();
    let file_s = file.display().to_string();
    let args = [
        "--demo",
        "--demo-dir",
        &demo,
        "--demo-seed",
        "7",
        "--demo-scale",
        "300",
        "--demo-scenario",
        scenario,
        "--record",
        &file_s,
    ];
    let pty = Pty::spawn(&tmp.path().join("state"), &args, 100, 30, &[]);
    (tmp, pty)
}

// The demo journeys of `recordings/`, recorded again by hand (minutes of real time each):
// `cargo test --test pty -- --ignored record_journey`.

/// A guided release: the guide open, each tier stepped when the guide says it is next.
#[test]
#[ignore = "writes recordings/; run by hand to record the journey again"]
fn record_journey_guided_release() {
    let (tmp, mut pty) = journey("guided-release", "calm");
    pty.wait_for("prod-beta");
    pty.type_slowly("g");
    pty.wait_for("Release guide");
    pty.linger(3);
    for tier in ["prod-beta", "prod "] {
        wait_for_line(&mut pty, &[tier, "next"]);
        pty.type_slowly("s");
        pty.wait_for("Promote");
        pty.linger(3);
        pty.type_slowly("\r");
        pty.wait_for("pushed");
    }
    // prod-ha takes a second person's approval: asked for from the console, given by bob.
    wait_for_line(&mut pty, &["prod", "done"]);
    pty.type_slowly("\u{1b}");
    pty.wait_for("1 Clusters");
    pty.type_slowly("2G");
    pty.linger(2);
    pty.type_slowly("a");
    pty.wait_for("Ask for approval");
    pty.linger(3);
    pty.type_slowly("\r");
    pty.wait_for("asked");
    pty.linger(3);
    let demo = tmp.path().join("demo");
    let approved = std::process::Command::new(env!("CARGO_BIN_EXE_shopctl"))
        .env("XDG_STATE_HOME", tmp.path().join("state"))
        .env("SHOPCTL_OPERATOR", "bob@ops")
        .arg("--demo")
        .arg("--demo-dir")
        .arg(&demo)
        .args(["release", "approve", "--tier", "prod-ha", "--yes"])
        .output()
        .expect("approve runs");
    assert!(
        approved.status.success(),
        "{}",
        String::from_utf8_lossy(&approved.stderr)
    );
    pty.wait_for("approved");
    pty.linger(3);
    pty.type_slowly("g");
    pty.wait_for("Release guide");
    wait_for_line(&mut pty, &["prod-ha", "next"]);
    pty.type_slowly("s");
    pty.wait_for("Promote");
    pty.linger(3);
    pty.type_slowly("\r");
    pty.wait_for("pushed");
    wait_for_line(&mut pty, &["prod-ha", "done"]);
    pty.linger(3);
    pty.type_slowly("\u{1b}");
    pty.wait_for("? help");
    pty.type_slowly("q");
    assert_eq!(pty.wait_exit(), 0);
}

/// A drain of cluster b, then its restore.
#[test]
#[ignore = "writes recordings/; run by hand to record the journey again"]
fn record_journey_drain_and_restore() {
    let (_tmp, mut pty) = journey("drain-and-restore", "calm");
    pty.wait_for("prod-beta");
    pty.type_slowly("1j");
    pty.type_slowly("d");
    pty.wait_for("type 'b'");
    pty.linger(3);
    pty.type_slowly("b\r");
    pty.wait_for("drain done:");
    // The restore is planned from the fleet as read: once the moves show.
    wait_for_line(&mut pty, &["b-3", " 0/"]);
    pty.type_slowly("u");
    pty.wait_for("type 'b'");
    pty.linger(3);
    pty.type_slowly("b\r");
    pty.wait_for("restore done:");
    // Back home and uncordoned, as read from the fleet.
    wait_for_line(&mut pty, &["b ", "● up"]);
    pty.type_slowly("q");
    assert_eq!(pty.wait_exit(), 0);
}

/// Cluster b goes down; its shops are evacuated onto the other clusters.
#[test]
#[ignore = "writes recordings/; run by hand to record the journey again"]
fn record_journey_cluster_outage() {
    let (_tmp, mut pty) = journey("cluster-outage", "cluster-outage");
    pty.wait_for("prod-beta");
    pty.wait_for("DOWN");
    pty.linger(3);
    pty.type_slowly("1j");
    pty.type_slowly("\r");
    pty.wait_for("shops down");
    pty.linger(4);
    pty.type_slowly("\u{1b}");
    pty.wait_for("1 Clusters");
    pty.type_slowly("d");
    pty.wait_for("type 'b'");
    pty.linger(3);
    pty.type_slowly("b\r");
    pty.wait_for("drain done:");
    wait_for_line(&mut pty, &["b-3", " 0/"]);
    pty.type_slowly("q");
    assert_eq!(pty.wait_exit(), 0);
}

/// Counts the frames in what a terminal received: each is one synchronized update.
fn frames_in(bytes: &[u8]) -> usize {
    bytes.windows(8).filter(|w| *w == b"\x1b[?2026h").count()
}

/// Bytes a real terminal receives, at 200×50 on the demo fleet (2,000 shops), printed:
/// `cargo test --release --test pty -- --ignored --nocapture measure_terminal_bytes`.
#[test]
#[ignore = "a measurement of four idle minutes, printed"]
fn measure_terminal_bytes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut pty = spawn_demo(tmp.path(), &["--readonly"], 200, 50);
    // `--readonly` needs the fleet: create it first.
    drop(pty);
    let demo = tmp.path().join("demo").display().to_string();
    let created = std::process::Command::new(env!("CARGO_BIN_EXE_shopctl"))
        .env("XDG_STATE_HOME", tmp.path().join("state"))
        .args(["--demo", "--demo-dir", &demo, "--demo-seed", "7", "status"])
        .output()
        .expect("runs");
    assert!(created.status.success());
    pty = spawn_demo(tmp.path(), &["--readonly"], 200, 50);
    pty.wait_for("prod-beta");
    let start = pty.bytes;
    pty.read_for(Duration::from_secs(2));
    println!(
        "the first screens (the fleet arriving): {} bytes",
        pty.bytes
    );
    let _ = start;
    let idle = |pty: &mut Pty, view: &str| {
        let (tx_bytes, frames) = {
            let before = pty.bytes;
            let mut raw = Vec::new();
            let end = Instant::now() + Duration::from_secs(60);
            while let Some(left) = end.checked_duration_since(Instant::now()) {
                if let Ok(chunk) = pty.output.recv_timeout(left) {
                    pty.bytes += chunk.len();
                    pty.screen.process(&chunk);
                    raw.extend_from_slice(&chunk);
                }
            }
            (pty.bytes - before, frames_in(&raw))
        };
        println!("{view}: {tx_bytes} bytes in 60 s, {frames} frames (each a visible change)");
    };
    pty.send("3");
    pty.read_for(Duration::from_millis(500));
    let moves: Vec<usize> = (0..10)
        .map(|_| {
            pty.send("j");
            pty.read_for(Duration::from_millis(300))
        })
        .collect();
    println!("one selection move in the ShopSets pane at 200×50: {moves:?} bytes");
    idle(&mut pty, "main view, idle");
    pty.send("?");
    pty.wait_for("Keys");
    pty.read_for(Duration::from_millis(500));
    idle(&mut pty, "help open");
    pty.send("q");
    pty.wait_for("1 Clusters");
    pty.send("g");
    pty.wait_for("Release guide");
    pty.read_for(Duration::from_millis(500));
    idle(&mut pty, "release guide open");
    pty.signal("TERM");
    pty.wait_exit();
}
