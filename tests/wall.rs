//! The wall screen: every view when they fit, rotation when they do not, staleness shouted and
//! withdrawn by itself, and nothing that can change the fleet.

mod common;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

use common::{CREATED, demo_snapshot};
use shopctl::backends::demo::Scenario;
use shopctl::backends::{SourceEvent, SourceId, SourceInfo};
use shopctl::ui::app::{App, Msg};
use shopctl::ui::render::render;
use shopctl::ui::theme::Theme;
use shopctl::ui::update::update;
use shopctl::ui::wall::{WallState, WallView};

const AFTER: i64 = 150;

fn wall(w: u16, h: u16, rotate: u64, scenario: Scenario) -> (tempfile::TempDir, App) {
    let tmp = tempfile::tempdir().expect("tmp");
    let fleet = demo_snapshot(tmp.path(), 400, scenario, AFTER);
    let now = CREATED.plus_secs(AFTER);
    let info = SourceInfo {
        fleet: "demo-fleet".into(),
        context: "demo".into(),
        mode: "demo",
    };
    let mut app = App::new(info, None, now, Rect::new(0, 0, w, h));
    app.view.wall = Some(WallState::rotating(rotate));
    let mut events: Vec<SourceEvent> = fleet
        .as_updates()
        .into_iter()
        .map(SourceEvent::Update)
        .collect();
    events.extend(beats(now));
    update(&mut app, Msg::Sources(events));
    update(&mut app, Msg::Tick(now));
    (tmp, app)
}

/// Every source the demo has, answering at `at`.
fn beats(at: shopctl::domain::Ts) -> Vec<SourceEvent> {
    let mut v: Vec<SourceEvent> = [
        SourceId::ControlPlane,
        SourceId::ArgoCd("demo".into()),
        SourceId::Alertmanager,
        SourceId::Git,
    ]
    .into_iter()
    .map(|source| SourceEvent::Heartbeat { source, at })
    .collect();
    v.extend(
        ["a", "b", "c", "d"]
            .into_iter()
            .map(|c| SourceEvent::Heartbeat {
                source: SourceId::Cluster(c.into()),
                at,
            }),
    );
    v
}

fn screen(app: &App) -> String {
    let mut t =
        Terminal::new(TestBackend::new(app.view.size.width, app.view.size.height)).expect("term");
    let theme = Theme::load("default").expect("theme");
    t.draw(|f| render(app, &theme, f)).expect("drawn");
    t.backend().to_string()
}

fn key(app: &mut App, c: KeyCode) {
    update(app, Msg::Key(KeyEvent::new(c, KeyModifiers::NONE)));
}

#[test]
fn at_80x24_every_view_shows_at_once() {
    let (_t, app) = wall(80, 24, 20, Scenario::Calm);
    let s = screen(&app);
    for title in [
        "RELEASE",
        "FAILURE DOMAINS",
        "ALERTS",
        "PROD-HA",
        "? help",
        "q quit",
    ] {
        assert!(s.contains(title), "{title}:\n{s}");
    }
    assert!(!s.contains("next in"), "nothing rotates:\n{s}");
    insta::assert_snapshot!("wall_80x24", s);
}

#[test]
fn where_the_views_do_not_fit_they_rotate_and_keys_move_them() {
    let (_t, mut app) = wall(60, 16, 20, Scenario::Calm);
    let first = screen(&app);
    assert!(first.contains("next 20s"), "{first}");
    assert_eq!(
        app.view.wall.as_ref().map(WallState::current),
        Some(WallView::Ladder)
    );
    let now = app.data.now;
    update(&mut app, Msg::Tick(now.plus_secs(10)));
    assert!(screen(&app).contains("next 10s"));
    update(&mut app, Msg::Tick(now.plus_secs(20)));
    assert_eq!(
        app.view.wall.as_ref().map(WallState::current),
        Some(WallView::Map)
    );
    key(&mut app, KeyCode::Char('3'));
    assert_eq!(
        app.view.wall.as_ref().map(WallState::current),
        Some(WallView::Alerts)
    );
    key(&mut app, KeyCode::Tab);
    assert_eq!(
        app.view.wall.as_ref().map(WallState::current),
        Some(WallView::Ladder)
    );
    // Rotation off: the view stays.
    let (_t, mut app) = wall(60, 16, 0, Scenario::Calm);
    let now = app.data.now;
    update(&mut app, Msg::Tick(now.plus_secs(600)));
    assert_eq!(
        app.view.wall.as_ref().map(WallState::current),
        Some(WallView::Ladder)
    );
}

#[test]
fn stale_data_takes_the_whole_screen_counts_up_and_goes_away_by_itself() {
    let (_t, mut app) = wall(100, 30, 20, Scenario::Calm);
    let now = app.data.now;
    assert!(!screen(&app).contains("STALE"));
    update(&mut app, Msg::Tick(now.plus_secs(20)));
    let s = screen(&app);
    assert!(
        s.contains("DATA IS STALE") && s.contains("silent for 20s"),
        "{s}"
    );
    insta::assert_snapshot!("wall_stale_100x30", s);
    update(&mut app, Msg::Tick(now.plus_secs(21)));
    assert!(screen(&app).contains("silent for 21s"));
    // The sources answer again: back to normal, with no key pressed.
    update(&mut app, Msg::Sources(beats(now.plus_secs(22))));
    update(&mut app, Msg::Tick(now.plus_secs(22)));
    let s = screen(&app);
    assert!(!s.contains("STALE") && s.contains("● live"), "{s}");
}

#[test]
fn an_outage_shows_on_the_map_and_the_wall_changes_nothing() {
    let (_t, mut app) = wall(120, 40, 20, Scenario::ClusterOutage);
    let s = screen(&app);
    assert!(s.contains("✗ DOWN"), "{s}");
    let before = app.data.fleet.clone().shops.len();
    for c in ['s', 'd', 'u', 'r', 'b', 'S', 'E', 'x'] {
        let effects = update(
            &mut app,
            Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
        );
        assert!(effects.is_empty(), "{c} asked for {effects:?}");
        assert!(app.view.modals.top().is_none(), "{c} opened something");
    }
    assert_eq!(app.data.fleet.shops.len(), before);
    assert!(app.readonly());
}

#[test]
fn a_replayed_wall_says_it_is_a_replay() {
    let (_t, mut app) = wall(100, 30, 20, Scenario::Calm);
    app.session.replay = Some(shopctl::ui::state::ReplayView {
        name: "wall.jsonl".into(),
        speed: 10.0,
        paused: false,
        ended: false,
        len_ms: 60_000,
        cut_off: None,
    });
    let s = screen(&app);
    assert!(s.contains("REPLAY of wall.jsonl · ▶ ×10"), "{s}");
    assert!(s.contains("space pause"), "{s}");
}
