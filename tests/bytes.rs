//! What the console writes to the terminal, through the same output path it uses (staged
//! frames, synchronized updates, ratatui's cell diff): nothing while nothing visible changes —
//! in every view, dialogs and the guide included — and bytes in proportion to what changed.

mod common;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

use common::{CREATED, demo_snapshot};
use shopctl::backends::demo::Scenario;
use shopctl::backends::{SourceEvent, SourceId, SourceInfo};
use shopctl::domain::{Alert, AlertState, FleetUpdate, Severity};
use shopctl::ops::access::WriteAccess;
use shopctl::ui::app::{App, Msg};
use shopctl::ui::render::render;
use shopctl::ui::terminal::{ConsoleBackend, Staged, draw_frame};
use shopctl::ui::theme::Theme;
use shopctl::ui::update::update;
use shopctl::ui::wall::WallState;

/// When the console is looked at: every alert older than a minute, no soak running.
const AFTER: i64 = 3 * 3600 + 5;

type Term = Terminal<ConsoleBackend<Vec<u8>>>;

struct Console {
    app: App,
    term: Term,
    out: Staged<Vec<u8>>,
    theme: Theme,
}

impl Console {
    fn new(w: u16, h: u16, scale: u32) -> (tempfile::TempDir, Console) {
        Console::in_scenario(w, h, scale, Scenario::Calm)
    }

    fn in_scenario(w: u16, h: u16, scale: u32, scenario: Scenario) -> (tempfile::TempDir, Console) {
        let tmp = tempfile::tempdir().expect("tmp");
        let fleet = demo_snapshot(tmp.path(), scale, scenario, AFTER);
        let now = CREATED.plus_secs(AFTER);
        let info = SourceInfo {
            fleet: "demo-fleet".into(),
            context: "demo".into(),
            mode: "demo",
        };
        let mut app = App::new(
            info,
            Some(WriteAccess::for_replay()),
            now,
            Rect::new(0, 0, w, h),
        );
        let mut events: Vec<SourceEvent> = fleet
            .as_updates()
            .into_iter()
            .map(SourceEvent::Update)
            .collect();
        events.push(SourceEvent::Heartbeat {
            source: SourceId::ControlPlane,
            at: now,
        });
        update(&mut app, Msg::Sources(events));
        let out = Staged::new(Vec::new());
        let term = Terminal::with_options(
            ConsoleBackend::new(out.clone()),
            TerminalOptions {
                viewport: Viewport::Fixed(Rect::new(0, 0, w, h)),
            },
        )
        .expect("terminal");
        let theme = Theme::load("default").expect("theme");
        (
            tmp,
            Console {
                app,
                term,
                out,
                theme,
            },
        )
    }

    /// Draws if the console asks to, as the main loop does; the bytes sent.
    fn frame(&mut self) -> usize {
        if !self.app.view.dirty {
            return 0;
        }
        let (app, theme) = (&self.app, &self.theme);
        let n = draw_frame(&mut self.term, &self.out, |f| render(app, theme, f)).expect("drawn");
        self.app.view.dirty = false;
        n
    }

    fn send(&mut self, msg: Msg) -> usize {
        let _ = update(&mut self.app, msg);
        self.frame()
    }

    fn key(&mut self, c: KeyCode) -> usize {
        self.send(Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)))
    }

    /// `n` alerts firing, on ShopSets of every tier.
    fn alerts(&mut self, n: usize) -> usize {
        let now = self.app.data.now;
        let alerts: Vec<Alert> = self
            .app
            .data
            .fleet
            .shopsets
            .iter()
            .take(n)
            .enumerate()
            .map(|(n, s)| Alert {
                name: [
                    "CheckoutErrorRateHigh",
                    "PodCrashLooping",
                    "CartLatencyHigh",
                ][n % 3]
                    .into(),
                severity: if n % 4 == 0 {
                    Severity::Critical
                } else {
                    Severity::Warning
                },
                state: AlertState::Active,
                labels: [("shopset".to_string(), s.name.clone())].into(),
                since: now.plus_secs(-(n as i64) * 600),
                summary: format!("{} is not well: number {n}", s.name),
                silenced_by: Vec::new(),
            })
            .collect();
        self.send(Msg::Source(SourceEvent::Update(FleetUpdate::Alerts(
            alerts,
        ))))
    }

    /// Seconds of nothing happening but the clock (and every source saying it is there).
    fn idle(&mut self, secs: i64) -> usize {
        let start = self.app.data.now;
        (1..=secs)
            .map(|s| {
                let now = start.plus_secs(s);
                let beat = Msg::Sources(vec![SourceEvent::Heartbeat {
                    source: SourceId::ControlPlane,
                    at: now,
                }]);
                self.send(beat) + self.send(Msg::Tick(now))
            })
            .sum()
    }
}

#[test]
fn nothing_is_written_while_nothing_changes_in_any_view() {
    let (_tmp, mut c) = Console::new(200, 50, 2000);
    assert!(c.frame() > 1000, "the first frame draws the screen");
    // Within one minute of the clock (the header shows hours and minutes).
    assert_eq!(c.idle(20), 0, "main view");
    c.key(KeyCode::Char('?'));
    assert_eq!(c.idle(5), 0, "help");
    c.key(KeyCode::Esc);
    c.key(KeyCode::Char('g'));
    let before = c.out.with_out(|o| o.len());
    let n = c.idle(5);
    let sent = c
        .out
        .with_out(|o| String::from_utf8_lossy(&o[before..]).into_owned());
    assert_eq!(n, 0, "the release guide: {sent:?}");
    c.key(KeyCode::Esc);
    c.key(KeyCode::Char('1'));
    c.key(KeyCode::Char('d'));
    assert!(matches!(
        c.app.view.modals.top(),
        Some(shopctl::ui::modal::Modal::Plan(_))
    ));
    assert_eq!(c.idle(5), 0, "a drain plan waiting for its confirmation");
    c.key(KeyCode::Esc);
    c.key(KeyCode::Char('2'));
    c.key(KeyCode::Char('j'));
    c.key(KeyCode::Char('j'));
    c.key(KeyCode::Char('s'));
    assert!(
        matches!(
            c.app.view.modals.top(),
            Some(shopctl::ui::modal::Modal::Confirm(_))
        ),
        "the step's confirmation is open"
    );
    assert_eq!(c.idle(5), 0, "a release confirmation");
    c.key(KeyCode::Esc);
    c.app.view.wall = Some(WallState::rotating(0));
    c.app.view.dirty = true;
    c.frame();
    assert_eq!(c.idle(10), 0, "the wall screen");
}

#[test]
fn a_selection_move_costs_bytes_in_proportion_to_the_cells_that_changed() {
    let (_tmp, mut c) = Console::new(200, 50, 20_000);
    let whole = c.frame();
    c.key(KeyCode::Char('3'));
    let moves: Vec<usize> = (0..10).map(|_| c.key(KeyCode::Char('j'))).collect();
    let worst = moves.iter().copied().max().unwrap_or(0);
    println!("a whole 200×50 screen: {whole} bytes; one selection move: {moves:?} bytes");
    assert!(worst > 0 && worst <= 1024, "{moves:?}");
    // One application turning Degraded: a few cells in a few panes.
    let mut app = c
        .app
        .data
        .fleet
        .apps_in_order()
        .next()
        .cloned()
        .expect("an app");
    app.health = shopctl::domain::HealthStatus::Degraded;
    let changed = c.send(Msg::Source(SourceEvent::Update(FleetUpdate::AppUpserted(
        app,
    ))));
    println!("one application turning Degraded: {changed} bytes");
    assert!(changed > 0 && changed < whole / 10, "{changed} of {whole}");
}

/// The bytes of one selection move in every pane (alerts firing, so the Alerts pane has rows to
/// move through) and of one help scroll, at 80×24 and 200×50, each within 1 KiB — a tier move
/// scrolling three panes to the tier's rows included (printed for the performance notes).
#[test]
fn every_selection_move_and_help_scroll_is_measured() {
    let mut report = Vec::new();
    let (mut panes, mut help) = (0, 0);
    for (w, h) in [(80, 24), (200, 50)] {
        let (_tmp, mut c) = Console::new(w, h, 2000);
        c.alerts(12);
        c.frame();
        for pane in ['1', '2', '3', '4', '5'] {
            c.key(KeyCode::Char(pane));
            let mut moves: Vec<usize> = (0..3).map(|_| c.key(KeyCode::Char('j'))).collect();
            moves.extend((0..3).map(|_| c.key(KeyCode::Char('k'))));
            panes = panes.max(moves.iter().copied().max().unwrap_or(0));
            assert!(
                moves.iter().all(|n| *n > 0 && *n <= 1024),
                "{w}×{h} pane {pane}: {moves:?}"
            );
            report.push(format!("{w}×{h} pane {pane}: {moves:?}"));
        }
        c.key(KeyCode::Char('?'));
        let scrolls: Vec<usize> = (0..3).map(|_| c.key(KeyCode::Char('j'))).collect();
        report.push(format!("{w}×{h} help: {scrolls:?}"));
        help = help.max(scrolls.iter().copied().max().unwrap_or(0));
        c.key(KeyCode::Esc);
    }
    println!("{}", report.join("\n"));
    assert!(panes <= 1024 && help <= 1024, "{}", report.join("\n"));
}

/// The built-in 16-colour themes go out as 16-colour SGR (`ESC[32m`), never the 256-colour form
/// (`ESC[38;5;2m`) that terminals limited to 16 colours misread.
#[test]
fn sixteen_colour_themes_are_sent_as_sixteen_colour_sgr() {
    let (_tmp, mut c) = Console::new(100, 30, 300);
    c.frame();
    let sent = c.out.with_out(|o| String::from_utf8_lossy(o).into_owned());
    let sgrs = regex::Regex::new(r"\x1b\[([0-9;]*)m").expect("regex");
    let mut colours = 0;
    for sgr in sgrs.captures_iter(&sent) {
        let params: Vec<u32> = sgr[1].split(';').filter_map(|p| p.parse().ok()).collect();
        let mut i = 0;
        while i < params.len() {
            match params[i] {
                38 | 48 if params.get(i + 1) == Some(&5) => {
                    let n = params.get(i + 2).copied().unwrap_or(0);
                    assert!(
                        n >= 16,
                        "{:?}: a base colour in its 256-colour form",
                        &sgr[0]
                    );
                    i += 3;
                }
                38 | 48 => i += 5,
                30..=37 | 40..=47 | 90..=97 | 100..=107 => {
                    colours += 1;
                    i += 1;
                }
                _ => i += 1,
            }
        }
    }
    assert!(colours > 10, "colours are sent: {colours}");
}
