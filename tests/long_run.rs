//! Measurements of long runs, run by hand (they print, they do not time-assert):
//!
//! `cargo test --release --test long_run -- --ignored --nocapture`
//!
//! - the wall screen's resident memory after 1 and after 24 simulated hours of the demo's events
//!   (the demo read every simulated second, as the console reads it, every change applied and
//!   drawn);
//! - a one-hour recording of the demo, and how long replaying it takes: the whole of it as fast as
//!   it goes, and in a real terminal at `--speed 1000`.

mod common;

use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use shopctl::backends::SourceInfo;
use shopctl::backends::demo::{DemoFleet, DemoSource, Scenario};
use shopctl::domain::Ts;
use shopctl::ui::app::{App, Msg};
use shopctl::ui::recording::Header;
use shopctl::ui::recording::file::Recording;
use shopctl::ui::recording::player::Replay;
use shopctl::ui::recording::writer::Recorder;
use shopctl::ui::render::render;
use shopctl::ui::theme::Theme;
use shopctl::ui::update::update;
use shopctl::ui::wall::WallState;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn wall_app(now: Ts) -> App {
    let info = SourceInfo {
        fleet: "demo-fleet".into(),
        context: "demo:long-run".into(),
        mode: "demo",
    };
    let mut app = App::new(info, None, now, Rect::new(0, 0, 200, 50));
    app.view.wall = Some(WallState::rotating(20));
    app
}

#[test]
#[ignore = "a measurement: minutes of work, printed"]
fn wall_screen_memory_over_a_simulated_day() {
    let tmp = tempfile::tempdir().expect("tmp");
    let fleet = DemoFleet::open(&common::demo_options(
        &tmp.path().join("demo"),
        2000,
        Scenario::Calm,
    ))
    .expect("demo");
    let mut source = DemoSource::new(fleet);
    let theme = Theme::load("high-contrast").expect("theme");
    let start = common::CREATED;
    let mut app = wall_app(start);
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    let (mut events, mut frames) = (0usize, 0usize);
    let began = Instant::now();
    let mut at_hour = Vec::new();
    for s in 0..24 * 3600 {
        let now = start.plus_secs(s);
        let batch = source.poll(now);
        events += batch.len();
        update(&mut app, Msg::Sources(batch));
        update(&mut app, Msg::Tick(now));
        if app.view.dirty {
            terminal.draw(|f| render(&app, &theme, f)).expect("drawn");
            app.view.dirty = false;
            frames += 1;
        }
        if (s + 1) % 3600 == 0 {
            at_hour.push(rss_kib());
        }
    }
    let (h1, h24) = (at_hour[0], at_hour[23]);
    println!(
        "wall screen, 24 simulated hours of the demo (2,000 shops): {events} source events, {frames} frames drawn in {:.0} s",
        began.elapsed().as_secs_f64()
    );
    println!(
        "RSS after 1 h: {} KiB; after 24 h: {} KiB ({:+.1} %); hourly: {:?}",
        h1,
        h24,
        (h24 as f64 - h1 as f64) * 100.0 / h1 as f64,
        at_hour
    );
}

/// Writes a recording of `hours` of the demo, read every second, to `file`.
fn simulated_recording(dir: &std::path::Path, file: &std::path::Path, hours: i64) -> usize {
    let fleet = DemoFleet::open(&common::demo_options(dir, 2000, Scenario::Calm)).expect("demo");
    let mut source = DemoSource::new(fleet);
    let start = common::CREATED;
    let app = {
        let info = SourceInfo {
            fleet: "demo-fleet".into(),
            context: "demo:long-run".into(),
            mode: "demo",
        };
        App::new(info, None, start, Rect::new(0, 0, 100, 30))
    };
    let mut recorder = Recorder::create(file, &Header::of(&app), false).expect("recording");
    let mut lines = 0;
    for s in 0..hours * 3600 {
        let now = start.plus_secs(s);
        let t = u64::try_from(s * 1000).expect("positive");
        let batch = source.poll(now);
        lines += batch.len() + 1;
        assert!(recorder.record_at(&Msg::Sources(batch), t).is_none());
        assert!(recorder.record_at(&Msg::Tick(now), t).is_none());
    }
    recorder.finish();
    lines
}

#[test]
#[ignore = "a measurement: a one-hour recording replayed, printed"]
fn replaying_an_hour() {
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("hour.jsonl");
    let lines = simulated_recording(&tmp.path().join("demo"), &file, 1);
    let size = std::fs::metadata(&file).expect("file").len();
    println!(
        "a one-hour recording of the demo: {lines} lines, {} KiB",
        size / 1024
    );
    let began = Instant::now();
    let rec = Recording::open(&file).expect("opens");
    let read = began.elapsed();
    let mut replay = Replay::new(rec, 1000.0);
    replay.to_end();
    println!(
        "read in {:.2} s; every message applied (a seek to the end) in {:.2} s",
        read.as_secs_f64(),
        (began.elapsed() - read).as_secs_f64()
    );
    let bin = env!("CARGO_BIN_EXE_shopctl");
    let out = tmp.path().join("hour.cast");
    let began = Instant::now();
    let status = std::process::Command::new(bin)
        .arg("replay")
        .arg(&file)
        .args(["--speed", "1000", "--export-cast"])
        .arg(&out)
        .status()
        .expect("runs");
    assert!(status.success());
    println!(
        "exported as a cast at --speed 1000 in {:.2} s ({} KiB)",
        began.elapsed().as_secs_f64(),
        std::fs::metadata(&out).map(|m| m.len() / 1024).unwrap_or(0)
    );
    // In a terminal: `script` gives the replay a pty; it ends when the recording does and `q`
    // arrives after the end is on screen.
    let began = Instant::now();
    let mut child = std::process::Command::new("script")
        .arg("-qec")
        .arg(format!(
            "stty rows 30 cols 100; {bin} replay '{}' --speed 1000",
            file.display()
        ))
        .arg("/dev/null")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("script runs");
    let mut stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = [0u8; 65536];
        let mut screen = vt100::Parser::new(30, 100, 0);
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            screen.process(&buf[..n]);
            if screen.screen().contents().contains("■ end") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(120))
        .expect("the replay reaches the end");
    println!(
        "replayed in a terminal at --speed 1000 to its end in {:.2} s",
        began.elapsed().as_secs_f64()
    );
    use std::io::Write;
    let _ = child.stdin.take().map(|mut i| i.write_all(b"q"));
    let _ = child.wait();
}
