//! Replaying a recording: the same `App`, `update` and `render` as the live console, driven by
//! the recorded messages instead of the world. A replay has no executor and runs no effect, so
//! it can change nothing; it shows the dialogs the operator saw because it replays their keys.

use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream, KeyEvent, KeyEventKind};
use futures::StreamExt;
use ratatui::layout::Rect;
use tokio::signal::unix::{SignalKind, signal};

use super::file::Recording;
use super::{Entry, Header};
use crate::ops::access::WriteAccess;
use crate::ui::app::{App, Msg};
use crate::ui::keymap::{self, Action, Context};
use crate::ui::render;
pub use crate::ui::state::ReplayView;
use crate::ui::terminal::TerminalGuard;
use crate::ui::theme::Theme;
use crate::ui::update::update;

/// Slowest and fastest replay speeds.
pub const MIN_SPEED: f64 = crate::limits::REPLAY_MIN_SPEED;
pub const MAX_SPEED: f64 = crate::limits::REPLAY_MAX_SPEED;
/// How far ←/→ move.
const SEEK_MS: u64 = 10_000;
/// How far shift-←/→ (and PgUp/PgDn) move.
const SEEK_LONG_MS: u64 = 60_000;
/// At most this many frames a second, however fast the replay.
const FRAME: Duration = Duration::from_millis(33);

/// A recording being replayed: the console's state at `pos` milliseconds into it.
pub struct Replay {
    rec: Recording,
    pub app: App,
    /// The next line to apply.
    next: usize,
    pos: u64,
    speed: f64,
    paused: bool,
}

/// A new console as the recorded one started.
fn start_app(header: &Header, name: &str) -> App {
    let access = header.writes.then(WriteAccess::for_replay);
    let mut app = App::new(
        header.info(),
        access,
        header.started,
        Rect::new(0, 0, header.width, header.height),
    );
    app.session.operator = header.operator.clone();
    app.session.id = header.session.clone();
    app.session.denied = header.denied.clone();
    app.session.policy = header.policy.clone();
    if header.wall {
        app.view.wall = Some(crate::ui::wall::WallState::default());
    }
    app.session.replay = Some(ReplayView {
        name: name.to_string(),
        speed: 1.0,
        paused: false,
        ended: false,
        len_ms: 0,
        cut_off: None,
        keys_shown: false,
    });
    app
}

impl Replay {
    pub fn new(rec: Recording, speed: f64) -> Replay {
        let app = start_app(&rec.header, &name_of(&rec));
        let mut replay = Replay {
            rec,
            app,
            next: 0,
            pos: 0,
            speed: speed.clamp(MIN_SPEED, MAX_SPEED),
            paused: false,
        };
        replay.show();
        replay
    }

    pub fn header(&self) -> &Header {
        &self.rec.header
    }

    pub fn len_ms(&self) -> u64 {
        self.rec.duration_ms()
    }

    pub fn pos_ms(&self) -> u64 {
        self.pos
    }

    pub fn ended(&self) -> bool {
        self.next >= self.rec.lines.len()
    }

    /// When the next recorded message is due, in milliseconds into the recording.
    pub fn next_at(&self) -> Option<u64> {
        self.rec.lines.get(self.next).map(|l| l.t)
    }

    /// Applies every recorded message up to `t` milliseconds; what they ask for is not run.
    pub fn advance_to(&mut self, t: u64) {
        let mut batch = Vec::new();
        while let Some(line) = self.rec.lines.get(self.next) {
            if line.t > t {
                break;
            }
            self.next += 1;
            match line.entry.clone() {
                // Source events that came together are applied as one batch, as recorded.
                Entry::Source { event } => batch.push(event),
                other => {
                    if !batch.is_empty() {
                        update(&mut self.app, Msg::Sources(std::mem::take(&mut batch)));
                    }
                    let _effects_never_run = update(&mut self.app, other.into_msg());
                }
            }
        }
        if !batch.is_empty() {
            update(&mut self.app, Msg::Sources(batch));
        }
        self.pos = t.min(self.len_ms());
        self.show();
    }

    /// Moves to `t` milliseconds into the recording; back means replaying from the start.
    pub fn seek(&mut self, t: u64) {
        let t = t.min(self.len_ms());
        if t < self.pos {
            self.app = start_app(&self.rec.header, &name_of(&self.rec));
            self.next = 0;
            self.pos = 0;
        }
        self.advance_to(t);
        self.app.view.dirty = true;
    }

    pub fn set_speed(&mut self, speed: f64) {
        self.speed = speed.clamp(MIN_SPEED, MAX_SPEED);
        self.show();
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
        self.show();
    }

    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Replays everything, as fast as it goes.
    pub fn to_end(&mut self) {
        self.advance_to(self.len_ms());
    }

    fn show(&mut self) {
        let view = ReplayView {
            name: name_of(&self.rec),
            speed: self.speed,
            paused: self.paused,
            ended: self.ended(),
            len_ms: self.len_ms(),
            cut_off: self.rec.cut_off,
            keys_shown: self
                .app
                .session
                .replay
                .as_ref()
                .is_some_and(|r| r.keys_shown),
        };
        if self.app.session.replay.as_ref() != Some(&view) {
            self.app.session.replay = Some(view);
            self.app.view.dirty = true;
        }
    }
}

fn name_of(rec: &Recording) -> String {
    rec.path.file_name().map_or_else(
        || rec.path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// What a key does to a replay.
enum Control {
    Quit,
    Pause,
    Seek(i64),
    Faster,
    Slower,
    Start,
    End,
    /// Show or hide the player's keys.
    Keys,
    Nothing,
}

fn control(key: KeyEvent) -> Control {
    if key.kind == KeyEventKind::Release {
        return Control::Nothing;
    }
    let seek = |ms: u64| i64::try_from(ms).unwrap_or(i64::MAX);
    match keymap::action_for(key, Context::Replay, true) {
        Some(Action::Quit) => Control::Quit,
        Some(Action::Pause) => Control::Pause,
        Some(Action::LongForward) => Control::Seek(seek(SEEK_LONG_MS)),
        Some(Action::LongBackward) => Control::Seek(-seek(SEEK_LONG_MS)),
        Some(Action::Forward) => Control::Seek(seek(SEEK_MS)),
        Some(Action::Backward) => Control::Seek(-seek(SEEK_MS)),
        Some(Action::Faster) => Control::Faster,
        Some(Action::Slower) => Control::Slower,
        Some(Action::Top) => Control::Start,
        Some(Action::Bottom) => Control::End,
        Some(Action::Help) => Control::Keys,
        _ => Control::Nothing,
    }
}

/// Replays `rec` in the terminal until the viewer quits.
pub async fn run(rec: Recording, speed: f64, theme: &Theme) -> anyhow::Result<()> {
    let mut guard = TerminalGuard::enter()?;
    let result = play(&mut guard, Replay::new(rec, speed), theme).await;
    drop(guard);
    result
}

async fn play(guard: &mut TerminalGuard, mut replay: Replay, theme: &Theme) -> anyhow::Result<()> {
    let mut events = EventStream::new();
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    // Position `anchor_pos` was reached at `anchor`; the replay moves on from there at `speed`.
    let mut anchor = (Instant::now(), 0u64);
    let mut last_draw = Instant::now() - FRAME;
    replay.advance_to(0);
    loop {
        let now_pos = |anchor: (Instant, u64), replay: &Replay| {
            if replay.paused() {
                anchor.1
            } else {
                anchor.1 + (anchor.0.elapsed().as_secs_f64() * 1000.0 * replay.speed()) as u64
            }
        };
        let pos = now_pos(anchor, &replay);
        if !replay.ended() && !replay.paused() {
            replay.advance_to(pos);
        }
        if replay.app.view.dirty && last_draw.elapsed() >= FRAME {
            draw(guard, &replay.app, theme)?;
            replay.app.view.dirty = false;
            last_draw = Instant::now();
        }
        // Sleep until the next message is due, or the next frame may be drawn.
        let wait = if replay.app.view.dirty {
            FRAME.saturating_sub(last_draw.elapsed())
        } else {
            match replay.next_at() {
                Some(t) if !replay.paused() => Duration::from_secs_f64(
                    (t.saturating_sub(pos) as f64 / 1000.0 / replay.speed()).max(0.0),
                )
                .max(Duration::from_millis(1)),
                _ => Duration::from_secs(3600),
            }
        };
        let key = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => Some(k),
                Some(Ok(Event::Resize(..))) => {
                    guard.terminal()?.autoresize()?;
                    replay.app.view.dirty = true;
                    None
                }
                Some(Ok(_)) => None,
                Some(Err(_)) | None => return Ok(()),
            },
            _ = tokio::time::sleep(wait) => None,
            _ = sigterm.recv() => return Ok(()),
            _ = sighup.recv() => return Ok(()),
            _ = sigint.recv() => return Ok(()),
        };
        let Some(key) = key else { continue };
        let pos = now_pos(anchor, &replay).min(replay.len_ms());
        let mut moved = false;
        match control(key) {
            Control::Quit => return Ok(()),
            Control::Pause => replay.set_paused(!replay.paused()),
            Control::Seek(by) => {
                replay.seek(pos.saturating_add_signed(by));
                moved = true;
            }
            Control::Faster => replay.set_speed(replay.speed() * 2.0),
            Control::Slower => replay.set_speed(replay.speed() / 2.0),
            Control::Start => {
                replay.seek(0);
                moved = true;
            }
            Control::End => {
                replay.seek(replay.len_ms());
                moved = true;
            }
            Control::Keys => {
                if let Some(r) = replay.app.session.replay.as_mut() {
                    r.keys_shown = !r.keys_shown;
                }
                replay.app.view.dirty = true;
            }
            Control::Nothing => continue,
        }
        anchor = (Instant::now(), if moved { replay.pos_ms() } else { pos });
    }
}

fn draw(guard: &mut TerminalGuard, app: &App, theme: &Theme) -> std::io::Result<()> {
    guard.frame(|f| render::render(app, theme, f)).map(|_| ())
}

/// The final screen of a recording, as text lines (for tests and `replay --print`).
pub fn final_screen(rec: Recording, theme: &Theme) -> ratatui::buffer::Buffer {
    let (w, h) = (rec.header.width, rec.header.height);
    let mut replay = Replay::new(rec, 1.0);
    replay.to_end();
    let mut terminal = match ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)) {
        Ok(t) => t,
        Err(never) => match never {},
    };
    let _ = terminal.draw(|f| render::render(&replay.app, theme, f));
    terminal.backend().buffer().clone()
}
