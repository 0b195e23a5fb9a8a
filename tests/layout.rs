//! The console as people see it at four sizes: nothing that matters cut, whole columns
//! dropped rather than symbols cut from their words, the room given to the text that needs it,
//! the footer following the focused pane, and long messages read whole.

mod common;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use common::{CREATED, demo_snapshot};
use shopctl::backends::demo::Scenario;
use shopctl::backends::{SourceEvent, SourceId};
use shopctl::domain::{ClusterSpec, Fleet, FleetUpdate};
use shopctl::ui::app::{App, Msg};
use shopctl::ui::render::render;
use shopctl::ui::theme::Theme;
use shopctl::ui::update::update;

const NOW_AFTER: i64 = 150;
const SIZES: [(u16, u16); 4] = [(60, 16), (80, 24), (120, 40), (200, 50)];

fn app(fleet: &Fleet, w: u16, h: u16) -> App {
    common::console(
        fleet,
        Some(common::console_access()),
        CREATED.plus_secs(NOW_AFTER),
        w,
        h,
    )
}

fn ch(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn screen(app: &App) -> String {
    let mut t = Terminal::new(TestBackend::new(app.view.size.width, app.view.size.height))
        .expect("terminal");
    let theme = Theme::load("mono").expect("theme");
    t.draw(|f| render(app, &theme, f)).expect("draw");
    t.backend().to_string()
}

/// A fleet in trouble: cluster `b` down, cluster `c` cordoned.
fn troubled() -> (tempfile::TempDir, Fleet) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut f = demo_snapshot(tmp.path(), 600, Scenario::ClusterOutage, NOW_AFTER);
    let c = f.cluster("c").expect("c").clone();
    f.apply(FleetUpdate::ClusterSpec(ClusterSpec {
        name: c.name.clone(),
        provider: c.provider.clone(),
        failure_domain: c.failure_domain.clone(),
        cordoned: true,
        drain: None,
    }));
    f.refresh();
    (tmp, f)
}

/// A symbol cut from its word (`⊘…`, `✓…`) says nothing.
fn symbol_cut_from_its_word(s: &str) -> Option<String> {
    let symbols = ['✓', '⊘', '●', '✗', '◐', '◷', '▲', '◌', '?', '↑'];
    s.lines()
        .find(|l| {
            let chars: Vec<char> = l.chars().collect();
            chars
                .windows(2)
                .any(|w| symbols.contains(&w[0]) && w[1] == '…')
        })
        .map(str::to_string)
}

#[test]
fn snapshots_at_four_sizes_cut_nothing_that_matters() {
    let (_d, f) = troubled();
    let (down, one_leg) = f.shops_affected_by_outage();
    assert!(down > 0 && one_leg > 0);
    for (w, h) in SIZES {
        let app = app(&f, w, h);
        let s = screen(&app);
        insta::assert_snapshot!(format!("main_{w}x{h}"), s);
        assert_eq!(symbol_cut_from_its_word(&s), None, "at {w}×{h}:\n{s}");
        let header = s.lines().next().expect("header");
        // The outage's counts are whole in the header at every size.
        assert!(
            header.contains(&format!("✗{down} down {one_leg} 1-leg"))
                || header.contains(&format!("✗ {down} shops down, {one_leg} on one leg")),
            "at {w}×{h}: {header}"
        );
        // The down and the cordoned cluster say so whole.
        assert!(s.contains("✗ DOWN"), "at {w}×{h}:\n{s}");
        if h >= 24 {
            assert!(s.contains("⊘ cordoned"), "at {w}×{h}:\n{s}");
        }
    }
}

#[test]
fn wide_terminals_give_the_room_to_the_text_that_was_cut() {
    let (_d, f) = troubled();
    let s = screen(&app(&f, 200, 50));
    // Every tier's subject and every alert's summary whole.
    for t in &f.tiers {
        let subject = &t.revision.as_ref().expect("revision").subject;
        assert!(s.contains(subject.as_str()), "{subject}:\n{s}");
    }
    for a in f.alerts.iter().take(3) {
        assert!(s.contains(a.summary.as_str()), "{}:\n{s}", a.summary);
    }
}

#[test]
fn the_footer_shows_the_focused_panes_keys() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let f = demo_snapshot(tmp.path(), 300, Scenario::Calm, NOW_AFTER);
    let mut app = app(&f, 80, 24);
    let footer = |app: &App| screen(app).lines().last().expect("footer").to_string();
    for (pane, wanted, not) in [
        ('1', "d drain", "s step"),
        ('2', "s step", "d drain"),
        ('3', "f find", "s step"),
        ('5', "S silence", "d drain"),
    ] {
        update(&mut app, ch(pane));
        let line = footer(&app);
        assert!(line.contains(wanted), "pane {pane}: {line}");
        assert!(!line.contains(not), "pane {pane}: {line}");
        assert!(line.contains("? help"), "pane {pane}: {line}");
    }
}

#[test]
fn a_long_message_is_read_whole_above_the_footer() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let f = demo_snapshot(tmp.path(), 300, Scenario::Calm, NOW_AFTER);
    let mut app = app(&f, 60, 16);
    let why = "Alertmanager at http://127.0.0.1:9093 refused the connection: is it running? the alerts shown are the last read";
    update(
        &mut app,
        Msg::Source(SourceEvent::Problem {
            source: SourceId::Alertmanager,
            message: why.into(),
        }),
    );
    let s = screen(&app);
    let words: String = s
        .lines()
        .rev()
        .take(3)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join(" ");
    for word in ["refused", "running?", "last"] {
        assert!(words.contains(word), "{word} missing:\n{s}");
    }
}

#[test]
fn the_sources_view_shows_each_error_whole_at_60_columns() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let f = demo_snapshot(tmp.path(), 300, Scenario::Calm, NOW_AFTER);
    let mut app = app(&f, 60, 20);
    let why = "Alertmanager at http://127.0.0.1:9093 refused the connection: is it running?";
    update(
        &mut app,
        Msg::Source(SourceEvent::Problem {
            source: SourceId::Alertmanager,
            message: why.into(),
        }),
    );
    update(&mut app, ch('i'));
    let s = screen(&app);
    // Inside the sources box only (the footer says it too).
    let boxed: Vec<&str> = s
        .lines()
        .skip_while(|l| !l.contains("Sources"))
        .take_while(|l| !l.contains("close"))
        .collect();
    // The LAST ERROR column, read down: the whole message, wrapped.
    let header: Vec<char> = boxed.get(1).expect("the header row").chars().collect();
    let at = (0..header.len())
        .find(|&i| {
            header[i..]
                .iter()
                .collect::<String>()
                .starts_with("LAST ERROR")
        })
        .expect("the LAST ERROR column");
    let column: String = boxed
        .iter()
        .skip(2)
        .map(|l| {
            let chars: Vec<char> = l.chars().collect();
            chars[at.min(chars.len())..chars.len().saturating_sub(2)]
                .iter()
                .collect::<String>()
        })
        .collect::<String>()
        .split_whitespace()
        .collect();
    let whole: String = why.split_whitespace().collect();
    assert!(column.contains(&whole), "{column}\n{s}");
}

/// Scrolling a pane moves no column where there is room: each column is as wide as its widest
/// cell among all the pane's rows, not only those on the page.
#[test]
fn scrolling_moves_no_column() {
    let (_tmp, f) = troubled();
    let mut a = app(&f, 80, 24);
    update(&mut a, ch('3'));
    let header = |a: &App| {
        screen(a)
            .lines()
            .find(|l| l.contains("NAME") && l.contains("SHOPS"))
            .map(|l| l.to_string())
            .expect("the ShopSets pane's headings")
    };
    let first = header(&a);
    for _ in 0..16 {
        update(&mut a, ch('j'));
        assert_eq!(header(&a), first, "{}", screen(&a));
    }
}

/// A halted tier's row keeps its soak beside the halt at every width: the halt takes the
/// subject's place (or follows the soak, narrow), and the commit goes first.
#[test]
fn a_halted_tier_keeps_its_soak_beside_the_halt() {
    use shopctl::domain::release::{Halt, ReleaseControls};
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut f = demo_snapshot(tmp.path(), 600, Scenario::Calm, 3 * 3600);
    f.apply(FleetUpdate::Controls(ReleaseControls {
        halts: vec![Halt {
            tier: Some("prod".into()),
            reason: "checkout errors under investigation".into(),
            by: "alice@ops".into(),
            at: CREATED.plus_secs(3 * 3600),
        }],
        ..Default::default()
    }));
    for w in [60, 66, 72, 80, 100, 110, 120, 140, 200] {
        let a = app(&f, w, 30);
        let s = screen(&a);
        let heading = s
            .lines()
            .find(|l| l.contains("TIER") && l.contains("RELEASE"))
            .unwrap_or_else(|| panic!("the Tiers pane's headings at {w}:\n{s}"));
        assert!(heading.contains("SOAK"), "{w} columns:\n{s}");
        let prod = s
            .lines()
            .find(|l| l.contains(" prod ") && l.contains("v1."))
            .unwrap_or_else(|| panic!("prod's row at {w}:\n{s}"));
        assert!(prod.contains("halted"), "{w} columns:\n{s}");
    }
}
