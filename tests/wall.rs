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
        keys_shown: false,
    });
    let s = screen(&app);
    assert!(s.contains("REPLAY of wall.jsonl · ▶ ×10"), "{s}");
    assert!(s.contains("space pause"), "{s}");
}

/// The row where a text first shows.
fn row_of(s: &str, text: &str) -> Option<usize> {
    s.lines().position(|l| l.contains(text))
}

#[test]
fn question_mark_shows_the_walls_own_keys_and_closes_by_itself() {
    let (_t, mut app) = wall(100, 30, 20, Scenario::Calm);
    let now = app.data.now;
    key(&mut app, KeyCode::Char('?'));
    let s = screen(&app);
    assert!(
        s.contains("Wall keys") && s.contains("the next view"),
        "{s}"
    );
    // The wall's keys only: nothing of the console's.
    for console in ["drain", "filter", "guide", "rollback"] {
        assert!(!s.contains(console), "{console}:\n{s}");
    }
    update(&mut app, Msg::Tick(now.plus_secs(3)));
    assert!(screen(&app).contains("closes in 7s"));
    update(&mut app, Msg::Tick(now.plus_secs(10)));
    assert!(!screen(&app).contains("Wall keys"), "closed by itself");
    // Any key closes it (and does nothing else).
    key(&mut app, KeyCode::Char('?'));
    assert!(screen(&app).contains("Wall keys"));
    key(&mut app, KeyCode::Char('3'));
    assert!(!screen(&app).contains("Wall keys"));
    assert_eq!(
        app.view.wall.as_ref().map(WallState::current),
        Some(WallView::Ladder)
    );
}

#[test]
fn the_stale_banner_is_whole_above_everything_and_moves_nothing() {
    for (w, h) in [(60, 16), (80, 24), (100, 30)] {
        let (_t, mut app) = wall(w, h, 0, Scenario::Calm);
        let now = app.data.now;
        let before = screen(&app);
        let release = row_of(&before, "RELEASE").expect("ladder");
        let why = "Alertmanager at http://127.0.0.1:9093 answered 503 Service Unavailable: the cluster is reloading its configuration";
        update(
            &mut app,
            Msg::Source(SourceEvent::Problem {
                source: SourceId::Alertmanager,
                message: why.into(),
            }),
        );
        update(&mut app, Msg::Tick(now.plus_secs(20)));
        key(&mut app, KeyCode::Char('?'));
        let s = screen(&app);
        // Every word of the reason, over the help.
        let all: String = s.lines().collect::<Vec<_>>().join(" ");
        let squeezed: String = all.split_whitespace().collect::<Vec<_>>().join(" ");
        for word in ["503", "Unavailable:", "reloading", "configuration"] {
            assert!(squeezed.contains(word), "{w}×{h}: {word}:\n{s}");
        }
        assert!(!squeezed.contains("configuration…"), "{w}×{h}:\n{s}");
        // The views stay where they were (the warning runs over them if it must).
        if let Some(r) = row_of(&s, "RELEASE") {
            assert_eq!(r, release, "{w}×{h}:\n{before}\n{s}");
        }
    }
}

#[test]
fn a_narrow_map_shows_every_tier_and_an_outage_is_counted() {
    let (_t, mut app) = wall(60, 16, 0, Scenario::ClusterOutage);
    key(&mut app, KeyCode::Char('2'));
    let s = screen(&app);
    for tier in ["dev", "beta", "p-beta", "prod", "p-ha"] {
        assert!(s.contains(tier), "{tier}:\n{s}");
    }
    let (down, one_leg) = app.data.fleet.shops_affected_by_outage();
    assert!(down + one_leg > 0);
    let header = s.lines().next().expect("header");
    assert!(
        header.contains(&format!("✗ {down} down {one_leg} 1-leg")),
        "{header}"
    );
    let (_t, app) = wall(120, 40, 0, Scenario::ClusterOutage);
    let s = screen(&app);
    assert!(
        s.contains(&format!("✗ {down} shops down, {one_leg} on one leg")),
        "{s}"
    );
}

#[test]
fn the_walls_alerts_line_up_in_columns() {
    let (_t, app) = wall(120, 40, 0, Scenario::ClusterOutage);
    let s = screen(&app);
    let start = row_of(&s, "ALERTS").expect("alerts view");
    let rows: Vec<&str> = s
        .lines()
        .skip(start + 1)
        .take_while(|l| l.contains("CRITICAL") || l.contains("WARNING") || l.contains("INFO"))
        .collect();
    assert!(rows.len() >= 2, "{s}");
    // The scope column starts at the same place on every row.
    let scope_at = |l: &str| {
        let chars: Vec<char> = l.chars().collect();
        let text: String = chars.iter().collect();
        text.find(" cluster=")
            .or_else(|| text.find(" shopset="))
            .map(|b| text[..b].chars().count())
    };
    let at: Vec<Option<usize>> = rows.iter().map(|l| scope_at(l)).collect();
    assert!(at.iter().all(|a| a.is_some() && *a == at[0]), "{rows:#?}");
}

/// A halted tier says so on the release ladder: the office screen never shows it as waiting.
#[test]
fn a_halted_tier_says_so_on_the_ladder() {
    use shopctl::domain::FleetUpdate;
    use shopctl::domain::release::{Halt, ReleaseControls};
    for (w, h) in [(60, 16), (100, 30)] {
        let (_tmp, mut app) = wall(w, h, 0, Scenario::Calm);
        let halt = ReleaseControls {
            halts: vec![Halt {
                tier: Some("prod".into()),
                reason: "checkout errors".into(),
                by: "alice@ops".into(),
                at: CREATED.plus_secs(AFTER),
            }],
            ..Default::default()
        };
        update(
            &mut app,
            Msg::Source(SourceEvent::Update(FleetUpdate::Controls(halt))),
        );
        let s = screen(&app);
        let prod = s
            .lines()
            .find(|l| l.contains("PROD ") && !l.contains("PROD-"))
            .unwrap_or_else(|| panic!("{w}×{h}: prod's rung\n{s}"));
        assert!(prod.contains("⊘ halted"), "{w}×{h}:\n{s}");
    }
}
