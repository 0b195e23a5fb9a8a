//! Recordings: a replay reaches exactly the screen the recorded console showed, seeking back
//! and forth included; a bad or cut-off recording is named with its line; an asciicast export
//! is a file asciinema reads.

mod common;

use std::io::Write;
use std::path::Path;

use assert_cmd::Command;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use predicates::prelude::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use shopctl::backends::demo::Scenario;
use shopctl::backends::{SourceEvent, SourceInfo};
use shopctl::domain::Ts;
use shopctl::ui::app::{App, Msg};
use shopctl::ui::recording::file::Recording;
use shopctl::ui::recording::player::Replay;
use shopctl::ui::recording::writer::Recorder;
use shopctl::ui::recording::{Header, cast};
use shopctl::ui::render::render;
use shopctl::ui::theme::Theme;
use shopctl::ui::update::update;

fn key(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

/// What a console showed, as text rows (the header and footer rows left out: a replay says so
/// there).
fn body(app: &App) -> Vec<String> {
    let mut t =
        Terminal::new(TestBackend::new(app.view.size.width, app.view.size.height)).expect("term");
    t.draw(|f| render(app, &Theme::load("default").expect("theme"), f))
        .expect("drawn");
    rows(t.backend().buffer())
        .into_iter()
        .skip(1)
        .take(usize::from(app.view.size.height) - 2)
        .collect()
}

fn rows(b: &Buffer) -> Vec<String> {
    (0..b.area.height)
        .map(|y| {
            (0..b.area.width)
                .map(|x| b[(x, y)].symbol().to_string())
                .collect()
        })
        .collect()
}

/// The messages of a short session: the fleet arrives, time passes, the operator moves.
fn session(dir: &Path) -> Vec<Msg> {
    let start = common::CREATED.plus_secs(60);
    let fleet = common::demo_snapshot(dir, 400, Scenario::ClusterOutage, 60);
    let later = common::demo_snapshot(dir, 400, Scenario::ClusterOutage, 120);
    let events = |f: &shopctl::domain::Fleet| {
        f.as_updates()
            .into_iter()
            .map(SourceEvent::Update)
            .collect::<Vec<_>>()
    };
    vec![
        Msg::Sources(events(&fleet)),
        Msg::Tick(start.plus_secs(1)),
        key(KeyCode::Tab),
        key(KeyCode::Char('j')),
        key(KeyCode::Char('j')),
        Msg::Tick(start.plus_secs(2)),
        Msg::Sources(events(&later)),
        key(KeyCode::Char('3')),
        key(KeyCode::Char('j')),
        Msg::Tick(start.plus_secs(62)),
    ]
}

fn new_app(now: Ts) -> App {
    let info = SourceInfo {
        fleet: "demo-fleet".into(),
        context: "demo:test".into(),
        mode: "demo",
    };
    App::new(info, None, now, Rect::new(0, 0, 100, 30))
}

/// Records `msgs` into `path` as the console does, and returns the console they led to.
fn record(path: &Path, msgs: Vec<Msg>) -> App {
    let start = common::CREATED.plus_secs(60);
    let mut t = 0;
    let mut app = new_app(start);
    let mut recorder = Recorder::create(path, &Header::of(&app), false).expect("recording");
    for msg in msgs {
        // The session's own clock: ticks carry it; everything else comes between them.
        if let Msg::Tick(now) = &msg {
            t = u64::try_from(now.0 - start.0).expect("later");
        } else {
            t += 10;
        }
        assert!(recorder.record_at(&msg, t).is_none());
        let _ = update(&mut app, msg);
    }
    assert_eq!(recorder.finish().as_deref(), Some(path));
    app
}

#[test]
fn a_replay_reaches_the_screen_the_recorded_console_showed_and_seeks_back_and_forth() {
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("s.jsonl");
    let live = record(&file, session(&tmp.path().join("demo")));
    let mut replay = Replay::new(Recording::open(&file).expect("opens"), 1.0);
    replay.advance_to(0);
    let start = body(&replay.app);
    replay.to_end();
    assert_eq!(body(&replay.app), body(&live));
    assert!(replay.ended());
    // Back to the start, and forward again: the same screens.
    replay.seek(0);
    assert_eq!(body(&replay.app), start);
    replay.seek(u64::MAX);
    assert_eq!(body(&replay.app), body(&live));
}

#[test]
fn an_asciicast_export_is_read_by_asciinema() {
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("s.jsonl");
    record(&file, session(&tmp.path().join("demo")));
    let out = tmp.path().join("s.cast");
    Command::cargo_bin("shopctl")
        .expect("bin")
        .env("XDG_STATE_HOME", tmp.path())
        .args(["replay", "--speed", "10", "--export-cast"])
        .arg(&out)
        .arg(&file)
        .assert()
        .success()
        .stderr(predicate::str::contains("asciinema play"));
    let text = std::fs::read_to_string(&out).expect("cast");
    let mut lines = text.lines();
    let header: serde_json::Value =
        serde_json::from_str(lines.next().expect("header")).expect("json header");
    assert_eq!(header["version"], 2);
    assert_eq!(header["width"], 100);
    let mut last = 0.0;
    let mut frames = 0;
    for line in lines {
        let ev: (f64, String, String) = serde_json::from_str(line).expect("an event");
        assert_eq!(ev.1, "o");
        assert!(ev.0 >= last, "time goes forward");
        last = ev.0;
        frames += 1;
    }
    assert!(frames >= 3, "{frames} frames");
    // The recorded minute at ten times: six seconds.
    assert!((5.0..=7.0).contains(&last), "{last}");
    // asciinema itself reads it (Debian package `asciinema`; `cat` wants a terminal, which
    // `script` gives it).
    let played = std::process::Command::new("script")
        .arg("-qec")
        .arg(format!("asciinema cat '{}'", out.display()))
        .arg("/dev/null")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script runs (util-linux)");
    assert!(
        played.status.success(),
        "{}",
        String::from_utf8_lossy(&played.stderr)
    );
    assert!(String::from_utf8_lossy(&played.stdout).contains("Clusters"));
    // The library call writes the same.
    let mut again = Vec::new();
    let exported = cast::export(
        Replay::new(Recording::open(&file).expect("opens"), 10.0),
        10.0,
        &Theme::load("default").expect("theme"),
        &mut again,
    )
    .expect("exported");
    assert_eq!(exported.frames, frames);
}

fn replay_cmd(dir: &Path, file: &Path) -> assert_cmd::assert::Assert {
    Command::cargo_bin("shopctl")
        .expect("bin")
        .env("XDG_STATE_HOME", dir)
        .arg("replay")
        .arg(file)
        .arg("--export-cast")
        .arg(dir.join("out.cast"))
        .assert()
}

#[test]
fn a_bad_recording_is_named_with_its_line() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let file = dir.join("r.jsonl");
    replay_cmd(dir, &file).code(1).stderr(
        predicate::str::contains("cannot read the recording")
            .and(predicate::str::contains(file.display().to_string())),
    );
    std::fs::write(&file, "").expect("w");
    replay_cmd(dir, &file)
        .code(1)
        .stderr(predicate::str::contains("is empty"));
    std::fs::write(&file, "{\"t\":1}\n").expect("w");
    replay_cmd(dir, &file)
        .code(1)
        .stderr(predicate::str::contains(
            "line 1 is not a shopctl recording header",
        ));
    std::fs::write(&file, "{\"shopctl_recording\":9}\n").expect("w");
    replay_cmd(dir, &file)
        .code(1)
        .stderr(predicate::str::contains("format version 9"));

    // A good recording, then damaged in the middle: the line is named, nothing is written.
    let good = dir.join("good.jsonl");
    record(&good, session(&dir.join("demo")));
    let text = std::fs::read_to_string(&good).expect("r");
    let mut lines: Vec<&str> = text.lines().collect();
    lines[3] = "{\"t\":5,\"kind\":\"key\",\"key\":42}";
    std::fs::write(&file, lines.join("\n") + "\n").expect("w");
    replay_cmd(dir, &file)
        .code(1)
        .stderr(predicate::str::contains("line 4"));
    assert!(
        !dir.join("out.cast").exists(),
        "no cast from a bad recording"
    );

    // A header of a terminal no one has (it would take gigabytes to draw), and a time past
    // anything a session lasts (it would be waited for forever): named, refused.
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let width = format!("\"width\":{}", 100);
    assert!(lines[0].contains(&width), "{}", lines[0]);
    lines[0] = lines[0].replacen(&width, "\"width\":60000", 1);
    std::fs::write(&file, lines.join("\n") + "\n").expect("w");
    replay_cmd(dir, &file)
        .code(1)
        .stderr(predicate::str::contains(
            "line 1: the terminal size 60000×30 is not one a terminal has",
        ));
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let last = lines.len() - 1;
    let t_at = lines[last].find("\"t\":").expect("t") + 4;
    let t_end = t_at + lines[last][t_at..].find(',').expect("t ends");
    lines[last].replace_range(t_at..t_end, &u64::MAX.to_string());
    std::fs::write(&file, lines.join("\n") + "\n").expect("w");
    replay_cmd(dir, &file)
        .code(1)
        .stderr(predicate::str::contains(
            "is more than a recording can last (400 days)",
        ));

    // Time going back is refused.
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[2] = lines[2].replacen("\"t\":", "\"t\":99999999", 1);
    std::fs::write(&file, lines.join("\n") + "\n").expect("w");
    replay_cmd(dir, &file)
        .code(1)
        .stderr(predicate::str::contains("goes back in time"));

    // Cut off mid-line (the session was killed while writing): replayed up to the line before.
    let cut = &text[..text.len() - 20];
    std::fs::write(&file, cut).expect("w");
    let n = cut.lines().count();
    replay_cmd(dir, &file).success().stderr(
        predicate::str::contains(format!("line {n} is cut off"))
            .and(predicate::str::contains(format!("up to line {}", n - 1))),
    );
    // A cast is never written over anything that exists: the one just written, or a device.
    let written = std::fs::read(dir.join("out.cast")).expect("cast");
    replay_cmd(dir, &file)
        .code(1)
        .stderr(predicate::str::contains("exists already; name a new file"));
    assert_eq!(std::fs::read(dir.join("out.cast")).expect("cast"), written);
    Command::cargo_bin("shopctl")
        .expect("bin")
        .env("XDG_STATE_HOME", dir)
        .arg("replay")
        .arg(&file)
        .args(["--export-cast", "/dev/full"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("'/dev/full' exists already"));
    assert!(std::fs::metadata("/dev/full").is_ok_and(|m| !m.is_file()));
    assert!(!dir.join("out.cast.partial").exists());
    // A partial file that exists (an export under way, or a link planted there) is not used.
    let victim = dir.join("victim");
    std::fs::write(&victim, "keep me").expect("w");
    std::os::unix::fs::symlink(&victim, dir.join("p.cast.partial")).expect("link");
    Command::cargo_bin("shopctl")
        .expect("bin")
        .env("XDG_STATE_HOME", dir)
        .arg("replay")
        .arg(&file)
        .arg("--export-cast")
        .arg(dir.join("p.cast"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("p.cast.partial' exists"));
    assert_eq!(std::fs::read_to_string(&victim).expect("r"), "keep me");
    // What is not a regular file is not read: a FIFO nobody writes, a device that never ends.
    let fifo = dir.join("fifo.jsonl");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo")
            .success()
    );
    for bad in [fifo.as_path(), Path::new("/dev/zero")] {
        Command::cargo_bin("shopctl")
            .expect("bin")
            .env("XDG_STATE_HOME", dir)
            .arg("replay")
            .arg(bad)
            .arg("--export-cast")
            .arg(dir.join("never.cast"))
            .assert()
            .code(1)
            .stderr(predicate::str::contains("not a regular file"));
    }
}

#[test]
fn recording_into_an_existing_file_is_refused_and_a_full_disk_stops_only_the_recording() {
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("r.jsonl");
    std::fs::write(&file, "keep me").expect("w");
    let app = new_app(common::CREATED);
    let err = Recorder::create(&file, &Header::of(&app), false)
        .err()
        .expect("refused");
    assert!(err.to_string().contains("exists already"), "{err}");
    assert_eq!(std::fs::read_to_string(&file).expect("r"), "keep me");

    // A disk that fills up after the first lines: the recording stops and says so once; the
    // console goes on.
    struct FillsUp(usize);
    impl Write for FillsUp {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0 < buf.len() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::StorageFull,
                    "No space left on device",
                ));
            }
            self.0 -= buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut r = Recorder::to_writer(&file, Box::new(FillsUp(20_000)), &Header::of(&app), false)
        .expect("header fits");
    let mut said = Vec::new();
    for msg in session(&tmp.path().join("demo")) {
        if let Some(why) = r.record(&msg) {
            said.push(why);
        }
    }
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].contains("recording stopped") && said[0].contains("No space left"),
        "{said:?}"
    );
    assert!(!r.is_recording());
}

#[test]
fn automatic_recordings_are_pruned_oldest_first_and_dropped_when_nothing_changed() {
    use shopctl::ui::recording::writer::{automatic_file, prune};
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    for i in 0..5 {
        std::fs::write(automatic_file(dir, common::CREATED.plus_secs(i * 60)), "{}").expect("w");
    }
    assert_eq!(prune(dir, 3), 2);
    let mut left: Vec<String> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("e").file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left.len(), 3);
    assert!(left[0].starts_with("20261122T160200Z"), "{left:?}");

    // A session that changed nothing leaves no automatic recording.
    let app = new_app(common::CREATED);
    let file = automatic_file(&dir.join("auto"), common::CREATED);
    let mut r = Recorder::create(&file, &Header::of(&app), true).expect("recording");
    r.record(&Msg::Tick(common::CREATED.plus_secs(1)));
    assert_eq!(r.finish(), None);
    assert!(!file.exists());
}

#[test]
fn automatic_recordings_take_at_most_their_share_of_the_disk() {
    use shopctl::ui::recording::writer::{automatic_file, prune_to};
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    // Three old recordings of 400 bytes: the oldest go until the rest take at most 900.
    for i in 0..3 {
        std::fs::write(
            automatic_file(dir, common::CREATED.plus_secs(i * 60)),
            vec![b'x'; 400],
        )
        .expect("w");
    }
    assert_eq!(prune_to(dir, 50, 900), (1, 800));
    assert!(
        !automatic_file(dir, common::CREATED).exists(),
        "the oldest went"
    );
    // A recording stops, saying why, when it would take more than its share.
    let app = new_app(common::CREATED);
    let file = dir.join("new.jsonl");
    let mut r = Recorder::create(&file, &Header::of(&app), true)
        .expect("recording")
        .limited_to(4096);
    let said = (1..10_000)
        .find_map(|i| r.record(&Msg::Tick(common::CREATED.plus_secs(i))))
        .expect("stopped at its limit");
    assert!(said.contains("recording.max_mib"), "{said}");
    assert!(!r.is_recording());
    let size = std::fs::metadata(&file).expect("kept").len();
    assert!((4096..4096 + 200).contains(&size), "{size}");
    // What it holds is a recording that replays.
    Recording::open(&file).expect("a readable recording");
}

#[test]
fn a_resized_session_exports_its_resizes_and_draws_each_size_whole() {
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("s.jsonl");
    let mut msgs = session(&tmp.path().join("demo"));
    let sizes = [
        (80, 24),
        (120, 40),
        (60, 16),
        (200, 50),
        (80, 24),
        (100, 30),
    ];
    let start = common::CREATED.plus_secs(60);
    for (i, (w, h)) in sizes.into_iter().enumerate() {
        msgs.push(Msg::Resize(w, h));
        msgs.push(key(KeyCode::Char('j')));
        // A second apart, as a person resizes a window.
        msgs.push(Msg::Tick(start.plus_secs(63 + i as i64)));
    }
    record(&file, msgs);
    let mut out = Vec::new();
    cast::export(
        Replay::new(Recording::open(&file).expect("opens"), 1.0),
        1.0,
        &Theme::load("default").expect("theme"),
        &mut out,
    )
    .expect("exported");
    let text = String::from_utf8(out).expect("utf-8");
    let resizes: Vec<String> = text
        .lines()
        .skip(1)
        .filter_map(|l| serde_json::from_str::<(f64, String, String)>(l).ok())
        .filter(|e| e.1 == "r")
        .map(|e| e.2)
        .collect();
    let wanted: Vec<String> = sizes.iter().map(|(w, h)| format!("{w}x{h}")).collect();
    assert_eq!(resizes, wanted);
    // After each resize, a frame drawn whole at that size: played on a blank 200×50 screen,
    // the frame after the resize to 200x50 draws every pane's border to column 200.
    let wide = text
        .lines()
        .skip_while(|l| !l.contains("\"200x50\""))
        .nth(1)
        .and_then(|l| serde_json::from_str::<(f64, String, String)>(l).ok())
        .expect("a frame after the resize to 200x50");
    let mut screen = vt100::Parser::new(50, 200, 0);
    screen.process(wide.2.as_bytes());
    let rows: Vec<String> = screen.screen().rows(0, 200).collect();
    assert!(
        rows[48].starts_with('└') && rows[48].ends_with('┘'),
        "{rows:#?}"
    );
    assert_eq!(rows[48].chars().count(), 200, "{rows:#?}");
}

#[test]
fn a_replay_shows_the_footer_the_operator_saw_and_the_players_keys_on_question_mark() {
    let tmp = tempfile::tempdir().expect("tmp");
    let file = tmp.path().join("s.jsonl");
    let mut msgs = session(&tmp.path().join("demo"));
    // A read-only console refuses a step: the footer says so.
    msgs.push(key(KeyCode::Char('2')));
    msgs.push(key(KeyCode::Char('s')));
    let live = record(&file, msgs);
    let footer = |app: &App| {
        let mut t = Terminal::new(TestBackend::new(100, 30)).expect("term");
        t.draw(|f| render(app, &Theme::load("default").expect("theme"), f))
            .expect("drawn");
        rows(t.backend().buffer()).join("\n")
    };
    let said = footer(&live);
    assert!(said.contains("read-only"), "{said}");
    let mut replay = Replay::new(Recording::open(&file).expect("opens"), 1.0);
    replay.to_end();
    let shown = footer(&replay.app);
    assert!(
        shown.contains("read-only"),
        "the recorded message:\n{shown}"
    );
    assert!(
        shown.contains("? keys"),
        "how to see the player's keys:\n{shown}"
    );
    assert!(!shown.contains("space pause"), "{shown}");
    if let Some(r) = replay.app.session.replay.as_mut() {
        r.keys_shown = true;
    }
    let keys = footer(&replay.app);
    assert!(
        keys.contains("pause") && keys.contains("leave the replay"),
        "{keys}"
    );
    assert!(keys.contains("read-only"), "the footer stays:\n{keys}");
}

#[test]
fn a_recording_that_cannot_be_made_names_its_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    // A file where a directory should be: the recording's folder cannot be made.
    let blocker = tmp.path().join("not-a-dir");
    std::fs::write(&blocker, "x").expect("w");
    let file = blocker.join("rec.jsonl");
    // The console needs a terminal; `script` gives it one (util-linux).
    let out = std::process::Command::new("script")
        .arg("-qec")
        .arg(format!(
            "'{}' --demo --demo-dir '{}' --record '{}'",
            env!("CARGO_BIN_EXE_shopctl"),
            tmp.path().join("demo").display(),
            file.display()
        ))
        .arg("/dev/null")
        .env("XDG_STATE_HOME", tmp.path().join("state"))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script runs");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!(
            "cannot record the session into '{}'",
            file.display()
        )),
        "{said}"
    );
}
