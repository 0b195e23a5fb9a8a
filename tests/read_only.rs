//! A read-only console is read-only by construction: no mutating key is bound, help and footer
//! do not offer one, and `update` produces no effect that changes the fleet.

mod common;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

use common::{CREATED, demo_snapshot};
use shopctl::backends::demo::Scenario;
use shopctl::backends::{SourceEvent, SourceInfo};
use shopctl::domain::Fleet;
use shopctl::ui::app::{App, Effect, Msg};
use shopctl::ui::render::render;
use shopctl::ui::theme::Theme;
use shopctl::ui::update::update;

const NOW_AFTER: i64 = 150;

fn ch(c: char) -> Msg {
    key(KeyCode::Char(c))
}

fn key(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn read_only(fleet: &Fleet) -> App {
    let now = CREATED.plus_secs(NOW_AFTER);
    let info = SourceInfo {
        fleet: "demo-fleet".into(),
        context: "demo (test fleet)".into(),
        mode: "demo",
    };
    let mut app = App::new(info, None, now, Rect::new(0, 0, 200, 50));
    update(
        &mut app,
        Msg::Sources(
            fleet
                .as_updates()
                .into_iter()
                .map(SourceEvent::Update)
                .chain([SourceEvent::Heartbeat {
                    source: shopctl::backends::SourceId::ControlPlane,
                    at: now,
                }])
                .collect(),
        ),
    );
    app
}

/// Write access from an executor of a demo fleet in `dir`.
fn access(dir: &std::path::Path) -> shopctl::ops::access::WriteAccess {
    let fleet = shopctl::backends::demo::DemoFleet::open(&common::demo_options(
        &dir.join("rw"),
        300,
        Scenario::Calm,
    ))
    .expect("demo");
    let ex = fleet
        .executor(shopctl::ops::Holder::new_session("op"))
        .expect("executor");
    shopctl::ops::access::WriteAccess::of(&ex)
}

fn screen(app: &App) -> String {
    let mut t = Terminal::new(TestBackend::new(app.view.size.width, app.view.size.height))
        .expect("terminal");
    let theme = Theme::load("default").expect("theme");
    t.draw(|f| render(app, &theme, f)).expect("draw");
    t.backend().to_string()
}

fn mutating(e: &Effect) -> bool {
    matches!(
        e,
        Effect::Execute { .. } | Effect::RunPlan { .. } | Effect::SaveNotes { .. }
    )
}

/// Keys that change the fleet somewhere, and the keys that act inside their dialogs.
const KEYS: [char; 8] = ['s', 'b', 'd', 'u', 'r', 'x', ' ', 'e'];

/// Every place the console can be in, reached from the main view by these keys.
const PLACES: &[&[char]] = &[
    &['1'],
    &['1', 'j'],
    &['2'],
    &['2', 'j', 'j'],
    &['2', 'G'],
    &['3'],
    &['4'],
    &['5'],
    &['3', '\n'],
    &['f'],
    &['1', '\n'],
    &['2', '\n'],
    &['g'],
    &['?'],
];

fn go(app: &mut App, keys: &[char]) {
    for &k in keys {
        let msg = match k {
            '\n' => key(KeyCode::Enter),
            'G' => key(KeyCode::End),
            c => ch(c),
        };
        update(app, msg);
    }
}

#[test]
fn no_key_anywhere_opens_a_dialog_or_emits_a_change() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let f = demo_snapshot(tmp.path(), 300, Scenario::Calm, NOW_AFTER);
    for place in PLACES {
        for k in KEYS {
            let mut app = read_only(&f);
            go(&mut app, place);
            let mut effects = update(&mut app, ch(k));
            // Whatever opened, try to confirm it, choose in it and accept degraded shops.
            for then in [
                key(KeyCode::Char(' ')),
                key(KeyCode::Tab),
                key(KeyCode::Enter),
            ] {
                effects.extend(update(&mut app, then));
            }
            for c in "notes".chars() {
                effects.extend(update(&mut app, ch(c)));
            }
            effects.extend(update(&mut app, key(KeyCode::Esc)));
            assert!(
                !effects.iter().any(mutating),
                "{place:?} then {k:?}: {effects:?}"
            );
            assert!(
                app.view.modals.dialog().is_none()
                    && app.view.modals.plan().is_none()
                    && app.view.modals.reassign().is_none(),
                "{place:?} then {k:?} opened a dialog"
            );
        }
    }
}

#[test]
fn help_and_footer_offer_no_mutating_key() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let f = demo_snapshot(tmp.path(), 300, Scenario::Calm, NOW_AFTER);
    for place in PLACES {
        let mut app = read_only(&f);
        go(&mut app, place);
        let s = screen(&app);
        let footer = s.lines().last().unwrap_or_default().to_string();
        assert!(footer.contains("help"), "{place:?}: {footer}");
        for word in ["step", "rollback", "drain", "restore", "reassign", "cancel"] {
            assert!(
                !footer.contains(word),
                "{place:?}: footer offers {word}: {footer}"
            );
        }
    }
    // Help, tall enough to show every line: each mutating binding's own help text is absent
    // read-only, and present in a read-write console (so this can fail).
    let mut ro = read_only(&f);
    ro.view.size = Rect::new(0, 0, 200, 90);
    update(&mut ro, ch('?'));
    let s = screen(&ro);
    let mut rw = App::new(
        ro.session.info.clone(),
        Some(access(tmp.path())),
        ro.data.now,
        ro.view.size,
    );
    update(&mut rw, ch('?'));
    let rw_help = screen(&rw);
    let mutating: Vec<_> = shopctl::ui::keymap::bindings(false)
        .filter(|b| b.mutating)
        .collect();
    assert!(mutating.len() >= 6, "{}", mutating.len());
    for b in mutating {
        assert!(
            rw_help.contains(b.help),
            "read-write help lacks '{}'",
            b.help
        );
        assert!(
            !s.contains(b.help),
            "read-only help lists '{}':\n{s}",
            b.help
        );
    }
    assert!(s.contains("read-only"), "{s}");
}

#[test]
fn read_only_views_offer_no_mutating_key_in_their_text() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // Prod-beta degraded by the bad release (the guide's failed tier), cluster B unreachable.
    let bad = demo_snapshot(&tmp.path().join("bad"), 300, Scenario::BadRelease, 4 * 3600);
    let outage = demo_snapshot(&tmp.path().join("out"), 300, Scenario::ClusterOutage, 120);
    let offers = [
        "press s",
        "s overrides",
        "b rolls",
        "press b",
        "r reassigns",
        "d plans",
    ];
    let mut screens = Vec::new();
    for (f, keys) in [
        (&bad, &['g'][..]),
        (&outage, &['g'][..]),
        (&outage, &['1', 'j'][..]),
        (&outage, &['f'][..]),
    ] {
        let mut app = read_only(f);
        for k in keys {
            update(&mut app, ch(*k));
        }
        if keys == ['1', 'j'] {
            update(&mut app, key(KeyCode::Enter));
        }
        screens.push(screen(&app));
    }
    for s in &screens {
        for o in offers {
            assert!(!s.contains(o), "a read-only view offers '{o}':\n{s}");
        }
    }
}
