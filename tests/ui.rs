//! The console without a terminal: `update()` driven by messages, screens snapshot-tested.

mod common;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

use common::{CREATED, demo_snapshot};
use shopctl::backends::SourceId;
use shopctl::backends::demo::Scenario;
use shopctl::backends::{SourceEvent, SourceInfo};
use shopctl::domain::freshness::{Loading, Sources};
use shopctl::domain::{Fleet, Ts};
use shopctl::ops::access::WriteAccess;
use shopctl::ui::app::{App, Effect, Freshness, Msg, Scope};
use shopctl::ui::detail::DetailTarget;
use shopctl::ui::panes::PaneId;
use shopctl::ui::render::render;
use shopctl::ui::theme::Theme;
use shopctl::ui::update::update;

const NOW_AFTER: i64 = 150;

fn info() -> SourceInfo {
    SourceInfo {
        fleet: "demo-fleet".into(),
        context: "demo (test fleet)".into(),
        mode: "demo",
    }
}

fn key(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn ch(c: char) -> Msg {
    key(KeyCode::Char(c))
}

fn access() -> WriteAccess {
    common::console_access()
}

/// An app fed a demo snapshot through source messages, as the real loop does.
fn app_with(fleet: &Fleet, w: u16, h: u16) -> App {
    app_as(fleet, Some(access()), w, h)
}

/// A read-only app fed a demo snapshot.
fn read_only_app(fleet: &Fleet, w: u16, h: u16) -> App {
    app_as(fleet, None, w, h)
}

fn app_as(fleet: &Fleet, access: Option<WriteAccess>, w: u16, h: u16) -> App {
    common::console(fleet, access, CREATED.plus_secs(NOW_AFTER), w, h)
}

fn fleet(scale: u32) -> (tempfile::TempDir, Fleet) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let f = demo_snapshot(tmp.path(), scale, Scenario::Calm, NOW_AFTER);
    (tmp, f)
}

fn screen(app: &App, theme: &str) -> String {
    let mut t = Terminal::new(TestBackend::new(app.view.size.width, app.view.size.height))
        .expect("terminal");
    let theme = Theme::load(theme).expect("theme");
    t.draw(|f| render(app, &theme, f)).expect("draw");
    t.backend().to_string()
}

#[test]
fn focus_moves_with_tab_and_numbers() {
    let (_d, f) = fleet(400);
    let mut app = app_with(&f, 100, 30);
    assert_eq!(app.view.focus, PaneId::Clusters);
    update(&mut app, key(KeyCode::Tab));
    assert_eq!(app.view.focus, PaneId::Tiers);
    update(&mut app, key(KeyCode::BackTab));
    update(&mut app, key(KeyCode::BackTab));
    assert_eq!(app.view.focus, PaneId::Alerts);
    update(&mut app, ch('3'));
    assert_eq!(app.view.focus, PaneId::ShopSets);
}

#[test]
fn selecting_a_cluster_or_tier_sets_the_highlight() {
    let (_d, f) = fleet(400);
    let mut app = app_with(&f, 100, 30);
    update(&mut app, ch('j'));
    assert_eq!(app.view.scope, Some(Scope::Cluster("b".into())));
    update(&mut app, ch('2'));
    update(&mut app, key(KeyCode::End));
    assert_eq!(app.view.scope, Some(Scope::Tier("prod-ha".into())));
    update(&mut app, key(KeyCode::Esc));
    assert_eq!(app.view.scope, None);
}

#[test]
fn selection_survives_data_updates_by_key() {
    let (_d, f) = fleet(400);
    let mut app = app_with(&f, 100, 30);
    update(&mut app, ch('3'));
    for _ in 0..4 {
        update(&mut app, ch('j'));
    }
    let selected = app.selected_key(PaneId::ShopSets);
    let keys = app.keys_of(PaneId::ShopSets);
    assert_eq!(selected.as_deref(), Some(keys[4].as_str()));
    for u in f.as_updates() {
        update(&mut app, Msg::Source(SourceEvent::Update(u)));
    }
    assert_eq!(app.selected_key(PaneId::ShopSets), selected);
}

#[test]
fn filtering_narrows_the_focused_list_and_esc_clears_it() {
    let (_d, f) = fleet(400);
    let mut app = app_with(&f, 100, 30);
    update(&mut app, ch('3'));
    update(&mut app, ch('/'));
    assert!(app.view.modals.filter().is_some());
    for c in "prod-ha".chars() {
        update(&mut app, ch(c));
    }
    let keys = app.keys_of(PaneId::ShopSets);
    assert_eq!(keys, ["a-3", "b-4", "c-3", "d-4"]);
    update(&mut app, key(KeyCode::Enter));
    assert!(app.view.modals.filter().is_none());
    assert_eq!(app.pane(PaneId::ShopSets).filter, "prod-ha");
    update(&mut app, key(KeyCode::Esc));
    assert_eq!(app.pane(PaneId::ShopSets).filter, "");
}

#[test]
fn enter_opens_a_shopset_with_its_shops_filterable() {
    let (_d, f) = fleet(400);
    let mut app = app_with(&f, 100, 30);
    update(&mut app, ch('3'));
    update(&mut app, key(KeyCode::Enter));
    let d = app.view.modals.detail().expect("detail open");
    assert_eq!(
        d.target,
        DetailTarget::ShopSet("a-4".into()),
        "dev's first ShopSet"
    );
    assert_eq!(d.rows.len() as u32, f.shop_count("a-4"));
    let first = f.shops[d.rows[0] as usize].name.clone();
    update(&mut app, ch('/'));
    for c in first.chars() {
        update(&mut app, ch(c));
    }
    update(&mut app, key(KeyCode::Enter));
    let d = app.view.modals.detail().expect("still open");
    assert!(
        !d.rows.is_empty()
            && d.rows
                .iter()
                .all(|&i| f.shops[i as usize].name.contains(&first))
    );
    update(&mut app, key(KeyCode::Esc));
    assert!(app.view.modals.detail().is_none());
    assert_eq!(app.view.focus, PaneId::ShopSets);
}

#[test]
fn quit_keys_and_signals_quit_and_q_closes_overlays_first() {
    let (_d, f) = fleet(200);
    let mut app = app_with(&f, 100, 30);
    update(&mut app, ch('?'));
    assert!(app.view.modals.help_open());
    assert_eq!(update(&mut app, ch('q')), Vec::<Effect>::new());
    assert!(!app.view.modals.help_open());
    assert_eq!(update(&mut app, ch('q')), vec![Effect::Quit]);
    assert_eq!(
        update(
            &mut app,
            Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL))
        ),
        vec![Effect::Quit]
    );
    assert_eq!(
        update(&mut app, Msg::Terminate(shopctl::ui::app::Ending::Hangup)),
        vec![Effect::Quit]
    );
    assert_eq!(
        update(
            &mut app,
            Msg::Key(KeyEvent::new(KeyCode::Char('l'), KeyModifiers::CONTROL))
        ),
        vec![Effect::ClearScreen]
    );
}

#[test]
fn nothing_is_redrawn_while_nothing_changes() {
    let (_d, f) = fleet(200);
    let mut app = app_with(&f, 100, 30);
    app.view.dirty = false;
    let now = app.data.now;
    // Ticks and heartbeats within the same minute, with fresh data: nothing visible changes.
    for s in 1..=3 {
        update(
            &mut app,
            Msg::Source(SourceEvent::Heartbeat {
                source: SourceId::ControlPlane,
                at: now.plus_secs(s),
            }),
        );
        update(&mut app, Msg::Tick(now.plus_secs(s)));
        assert!(!app.view.dirty, "redraw requested at +{s}s");
    }
    // An unknown key changes nothing either.
    update(&mut app, key(KeyCode::F(9)));
    assert!(!app.view.dirty);
}

#[test]
fn data_goes_stale_when_the_source_stops_reporting() {
    let (_d, f) = fleet(200);
    let mut app = app_with(&f, 100, 30);
    assert_eq!(app.freshness(), Freshness::Live);
    let hb = app.data.now;
    update(&mut app, Msg::Tick(hb.plus_secs(30)));
    assert!(
        matches!(app.freshness(), Freshness::Stale { secs: 30, .. }),
        "{:?}",
        app.freshness()
    );
    assert!(app.view.dirty);
    update(
        &mut app,
        Msg::Source(SourceEvent::Problem {
            source: SourceId::ControlPlane,
            message: "cannot read".into(),
        }),
    );
    assert!(screen(&app, "default").contains("cannot read"));
    update(
        &mut app,
        Msg::Source(SourceEvent::Heartbeat {
            source: SourceId::ControlPlane,
            at: hb.plus_secs(31),
        }),
    );
    assert_eq!(app.freshness(), Freshness::Live);
}

#[test]
fn snapshot_main_80x24() {
    let (_d, f) = fleet(2000);
    let app = app_with(&f, 80, 24);
    insta::assert_snapshot!(screen(&app, "default"));
}

#[test]
fn snapshot_main_200x50() {
    let (_d, f) = fleet(2000);
    let mut app = app_with(&f, 200, 50);
    update(&mut app, ch('2'));
    update(&mut app, ch('j'));
    update(&mut app, ch('j'));
    insta::assert_snapshot!(screen(&app, "default"));
}

#[test]
fn snapshot_shopset_detail_80x24_and_200x50() {
    let (_d, f) = fleet(2000);
    for (w, h) in [(80, 24), (200, 50)] {
        let mut app = app_with(&f, w, h);
        update(&mut app, ch('3'));
        for _ in 0..4 {
            update(&mut app, ch('j'));
        }
        update(&mut app, key(KeyCode::Enter));
        insta::assert_snapshot!(format!("shopset_detail_{w}x{h}"), screen(&app, "mono"));
    }
}

#[test]
fn snapshot_help_80x24_and_200x50() {
    let (_d, f) = fleet(200);
    for (w, h) in [(80, 24), (200, 50)] {
        let mut app = app_with(&f, w, h);
        update(&mut app, ch('?'));
        insta::assert_snapshot!(format!("help_{w}x{h}"), screen(&app, "default"));
    }
}

#[test]
fn a_tiny_terminal_gets_a_message_not_a_broken_layout() {
    let (_d, f) = fleet(200);
    let app = app_with(&f, 40, 10);
    let s = screen(&app, "default");
    assert!(s.contains("least 60×16"), "{s}");
}

#[test]
fn every_theme_renders_every_screen() {
    let (_d, f) = fleet(300);
    for theme in ["default", "light", "high-contrast", "mono"] {
        let mut app = app_with(&f, 120, 40);
        screen(&app, theme);
        update(&mut app, key(KeyCode::Enter));
        screen(&app, theme);
        update(&mut app, ch('?'));
        assert!(screen(&app, theme).contains("Keys"));
        // The header's fields, the columns and the legend are further down: a page at a time.
        for _ in 0..5 {
            update(&mut app, key(KeyCode::PageDown));
        }
        let s = screen(&app, theme);
        assert!(s.contains("Symbols"), "{s}");
        assert!(s.contains("AL, ALERTS"), "{s}");
    }
    let _ = Ts::now();
}

fn tiers_pane_on(app: &mut App, tier: &str) {
    update(app, ch('2'));
    update(app, key(KeyCode::Home));
    while app.selected_key(PaneId::Tiers).as_deref() != Some(tier) {
        update(app, ch('j'));
    }
}

/// The mutation of the one `Execute` effect, if that is what `effects` holds.
fn executed(effects: &[Effect]) -> Option<&shopctl::ops::Mutation> {
    match effects {
        [Effect::Execute { mutation, .. }] => Some(mutation),
        _ => None,
    }
}

#[test]
fn s_on_a_tier_opens_the_confirmation_and_enter_executes_the_promotion() {
    let (_d, f) = fleet(300);
    let mut app = app_with(&f, 100, 30);
    tiers_pane_on(&mut app, "prod-beta");
    assert!(
        update(&mut app, ch('s')).is_empty(),
        "nothing happens before confirmation"
    );
    let d = app.view.modals.dialog().expect("dialog");
    assert!(d.refused.is_none() && d.reason.is_none(), "the gate passes");
    assert_eq!(d.shopsets.len(), f.shopsets_of_tier("prod-beta").count());
    assert!(
        !d.commits.is_empty(),
        "the app commits it brings are listed"
    );
    let s = screen(&app, "default");
    assert!(
        s.contains("Promote 'prod-beta'") && s.contains("lower_tier_settled"),
        "{s}"
    );
    let effects = update(&mut app, key(KeyCode::Enter));
    match executed(&effects) {
        Some(shopctl::ops::Mutation::Promote {
            tier,
            target,
            override_reason: None,
            ..
        }) => {
            assert_eq!(tier, "prod-beta");
            assert_eq!(
                Some(target),
                f.tier("beta").and_then(|t| t.revision.as_ref())
            );
        }
        other => panic!("expected one promotion, got {other:?}"),
    }
    assert!(app.view.modals.dialog().is_none() && app.op.busy);
}

#[test]
fn a_step_pushed_with_a_warning_says_so_in_the_footer_and_follows_the_rollout() {
    let (_d, f) = fleet(300);
    let mut app = app_with(&f, 120, 30);
    tiers_pane_on(&mut app, "prod-beta");
    update(&mut app, ch('s'));
    let effects = update(&mut app, key(KeyCode::Enter));
    let mutation = executed(&effects).expect("a promotion").clone();
    let done = shopctl::ops::Done {
        commit: Some("0123456789abcdef".into()),
        summary: mutation.summary(),
        batch: None,
        warnings: vec!["Argo CD Application 'shopset-b-7' is running an operation".into()],
        silence: None,
    };
    update(
        &mut app,
        Msg::Executed {
            mutation: Box::new(mutation),
            result: Ok(done),
        },
    );
    let s = screen(&app, "default");
    assert!(s.contains("⚠ Argo CD Application 'shopset-b-7'"), "{s}");
    assert!(app.op.progress.is_some(), "the rollout is followed anyway");
}

#[test]
fn esc_cancels_and_a_refused_step_executes_nothing() {
    let (_d, f) = fleet(300);
    let mut app = app_with(&f, 100, 30);
    tiers_pane_on(&mut app, "prod");
    update(&mut app, ch('s'));
    let d = app.view.modals.dialog().expect("dialog");
    assert!(
        d.refused
            .as_deref()
            .is_some_and(|r| r.contains("revision_differs")),
        "prod already runs what prod-beta runs"
    );
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    tiers_pane_on(&mut app, "prod-beta");
    update(&mut app, ch('s'));
    assert!(update(&mut app, key(KeyCode::Esc)).is_empty());
    assert!(app.view.modals.dialog().is_none());
}

#[test]
fn overriding_the_soak_needs_a_typed_reason() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // Read when beta (changed 20 minutes before creation) has synced but not soaked 45 s: a
    // reason field is offered.
    let (_f, mut app) = soaking_dialog(tmp.path());
    assert!(
        update(&mut app, key(KeyCode::Enter)).is_empty(),
        "no reason, no promotion"
    );
    assert!(
        app.view
            .toast
            .as_ref()
            .is_some_and(|t| t.text.contains("reason"))
    );
    for c in "urgent fix".chars() {
        update(&mut app, ch(c));
    }
    match executed(&update(&mut app, key(KeyCode::Enter))) {
        Some(shopctl::ops::Mutation::Promote {
            override_reason,
            overridden,
            ..
        }) => {
            assert_eq!(override_reason.as_deref(), Some("urgent fix"));
            assert_eq!(overridden, &["soaked".to_string()]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_read_only_console_never_opens_a_mutation() {
    let (_d, f) = fleet(300);
    let mut app = read_only_app(&f, 100, 30);
    tiers_pane_on(&mut app, "prod-beta");
    for k in ['s', 'b'] {
        assert!(update(&mut app, ch(k)).is_empty());
        assert!(app.view.modals.dialog().is_none());
    }
    let s = screen(&app, "default");
    assert!(s.contains("│RO│") || s.contains("│ read-only │"), "{s}");
}

#[test]
fn the_guide_shows_the_release_as_a_checklist_with_the_next_action() {
    use shopctl::domain::release::{GatePolicy, GuideState, guide, next_action};
    let (_d, f) = fleet(300);
    let rows = guide(
        &f,
        CREATED.plus_secs(NOW_AFTER),
        &GatePolicy::default(),
        "me",
    );
    let states: Vec<&GuideState> = rows.iter().map(|r| &r.state).collect();
    assert_eq!(
        states,
        [
            &GuideState::Done,
            &GuideState::Done,
            &GuideState::Next,
            &GuideState::Waiting,
            &GuideState::Waiting
        ]
    );
    assert_eq!(
        next_action(&rows).map(|r| r.tier.as_str()),
        Some("prod-beta")
    );
    let mut app = app_with(&f, 100, 30);
    update(&mut app, ch('g'));
    let s = screen(&app, "default");
    assert!(
        s.contains("Release guide") && s.contains("promote 'prod-beta'"),
        "{s}"
    );
    update(&mut app, ch('e'));
    for c in "watching checkout".chars() {
        update(&mut app, ch(c));
    }
    assert_eq!(
        update(&mut app, key(KeyCode::Esc)),
        vec![Effect::SaveNotes {
            access: access(),
            text: "watching checkout".into()
        }]
    );
    // s in the guide opens the step for the next tier.
    update(&mut app, ch('s'));
    assert!(
        app.view
            .modals
            .dialog()
            .is_some_and(|d| d.title.contains("prod-beta"))
    );
}

fn clusters_pane_on(app: &mut App, cluster: &str) {
    update(app, ch('1'));
    update(app, key(KeyCode::Home));
    while app.selected_key(PaneId::Clusters).as_deref() != Some(cluster) {
        update(app, ch('j'));
    }
}

#[test]
fn a_drain_needs_the_cluster_name_typed_and_moves_nothing_before() {
    use shopctl::ui::placement::PlanKind;
    let (_d, f) = fleet(600);
    let mut app = app_with(&f, 100, 30);
    clusters_pane_on(&mut app, "c");
    assert!(update(&mut app, ch('d')).is_empty());
    let d = app.view.modals.plan().expect("plan shown");
    assert!(d.plan.blockers.is_empty() && !d.plan.moves.is_empty());
    let s = screen(&app, "default");
    assert!(
        s.contains("Drain cluster 'c'") && s.contains("Load after"),
        "{s}"
    );
    // The wrong name is refused; nothing runs.
    update(&mut app, ch('d'));
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    assert!(
        app.view
            .toast
            .as_ref()
            .is_some_and(|t| t.text.contains("type the cluster's name 'c'"))
    );
    update(&mut app, key(KeyCode::Backspace));
    update(&mut app, ch('c'));
    match update(&mut app, key(KeyCode::Enter)).as_slice() {
        [
            Effect::RunPlan {
                kind: PlanKind::Drain,
                plan,
                ..
            },
        ] => {
            assert_eq!(plan.cluster, "c");
            assert_eq!(plan.moves.len(), d_moves(&f, "c"));
        }
        other => panic!("{other:?}"),
    }
    assert!(app.op.drain_run.is_some());
    assert_eq!(update(&mut app, ch('x')), vec![Effect::CancelDrain]);
}

fn d_moves(f: &Fleet, cluster: &str) -> usize {
    shopctl::domain::placement::plan_drain(f, cluster, &Default::default())
        .moves
        .len()
}

#[test]
fn esc_cancels_a_drain_plan_and_read_only_never_opens_one() {
    let (_d, f) = fleet(300);
    let mut app = app_with(&f, 100, 30);
    clusters_pane_on(&mut app, "a");
    update(&mut app, ch('d'));
    assert!(update(&mut app, key(KeyCode::Esc)).is_empty());
    assert!(app.view.modals.plan().is_none());
    let mut ro = read_only_app(&f, 100, 30);
    clusters_pane_on(&mut ro, "a");
    update(&mut ro, ch('d'));
    update(&mut ro, ch('u'));
    assert!(ro.view.modals.plan().is_none());
}

#[test]
fn reassign_from_the_fleet_wide_search_shows_broken_rules() {
    let (_d, f) = fleet(300);
    let mut app = app_with(&f, 100, 30);
    update(&mut app, ch('f'));
    let first = f
        .shops
        .iter()
        .find(|s| s.redundancy == shopctl::domain::Redundancy::Dual)
        .expect("a dual shop")
        .name
        .clone();
    update(&mut app, ch('/'));
    for c in first.chars() {
        update(&mut app, ch(c));
    }
    update(&mut app, key(KeyCode::Enter));
    update(&mut app, ch('r'));
    let r = app.view.modals.reassign().expect("reassign dialog");
    assert_eq!(r.shop.name, first);
    // Dropping one leg of a dual shop breaks its redundancy: refused with the rule, nothing runs.
    let leg = r.chosen[0].clone();
    let i = r
        .candidates
        .iter()
        .position(|c| *c == leg)
        .expect("a leg is a candidate");
    while app.view.modals.reassign().expect("open").cursor < i {
        update(&mut app, ch('j'));
    }
    update(&mut app, ch(' '));
    assert_eq!(app.view.modals.reassign().expect("open").chosen.len(), 1);
    let s = screen(&app, "default");
    assert!(s.contains("✗"), "the broken rule is shown:\n{s}");
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
    let toast = app.view.toast.as_ref().expect("refused");
    assert!(toast.text.starts_with("refused:"), "{}", toast.text);
    assert!(
        app.view.modals.reassign().is_some(),
        "the dialog stays open"
    );
}

/// The app of `a_drain_needs_the_cluster_name_typed…`, with a drain of `cluster` running.
fn draining(f: &Fleet, cluster: &str) -> App {
    let mut app = app_with(f, 100, 30);
    clusters_pane_on(&mut app, cluster);
    update(&mut app, ch('d'));
    for c in cluster.chars() {
        update(&mut app, ch(c));
    }
    let effects = update(&mut app, key(KeyCode::Enter));
    assert!(
        matches!(effects.as_slice(), [Effect::RunPlan { .. }]),
        "{effects:?}"
    );
    app
}

#[test]
fn quitting_during_a_drain_asks_first() {
    let (_d, f) = fleet(600);
    let mut app = draining(&f, "c");
    assert!(
        update(&mut app, ch('q')).is_empty(),
        "q asks, it does not quit"
    );
    let question = app.view.modals.quit().expect("asked").question();
    assert!(
        question.contains("a drain of 'c' is running") && question.contains("quit? y/n"),
        "{question}"
    );
    assert!(screen(&app, "default").contains("a drain of 'c' is running"));
    assert!(update(&mut app, ch('n')).is_empty());
    assert!(app.view.modals.quit().is_none() && app.op.drain_run.is_some());
    let ctrl_c = Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert!(update(&mut app, ctrl_c).is_empty(), "ctrl-c asks too");
    assert_eq!(update(&mut app, ch('y')), vec![Effect::Quit]);
    // A signal does not ask: the main loop stops the drain after its batch.
    let mut app = draining(&f, "c");
    assert_eq!(
        update(
            &mut app,
            Msg::Terminate(shopctl::ui::app::Ending::Terminate)
        ),
        vec![Effect::Quit]
    );
}

#[test]
fn a_followed_step_superseded_by_another_change_stops_being_followed() {
    use shopctl::domain::FleetUpdate;
    use shopctl::domain::release::Progress;
    let (_d, f) = fleet(300);
    let mut app = app_with(&f, 100, 30);
    let head = f.tier("prod-beta").and_then(|t| t.head.clone());
    app.op.progress = Some(Progress {
        tier: "prod-beta".into(),
        commit: "pushed-by-this-console".into(),
        before: head,
        since: app.data.now,
        rollback: false,
    });
    let mut tiers = f.tiers.clone();
    let pb = tiers
        .iter_mut()
        .find(|t| t.name == "prod-beta")
        .expect("prod-beta");
    pb.head = Some("pushed-by-this-console".into());
    let effects = update(
        &mut app,
        Msg::Source(SourceEvent::Update(FleetUpdate::Tiers(tiers.clone()))),
    );
    assert!(effects.is_empty(), "still rolling out: {effects:?}");
    assert!(screen(&app, "default").contains("promoting prod-beta"));
    // Someone else rolls prod-beta back: its head moves past what this console pushed.
    let pb = tiers
        .iter_mut()
        .find(|t| t.name == "prod-beta")
        .expect("prod-beta");
    pb.head = Some("another-operators-rollback".into());
    let effects = update(
        &mut app,
        Msg::Source(SourceEvent::Update(FleetUpdate::Tiers(tiers))),
    );
    assert_eq!(effects, vec![Effect::Unlock]);
    assert!(app.op.progress.is_none());
    let toast = app.view.toast.as_ref().expect("said so");
    assert!(toast.text.contains("superseded"), "{}", toast.text);
    tiers_pane_on(&mut app, "prod-beta");
    update(&mut app, ch('s'));
    assert!(
        app.view.modals.dialog().is_some(),
        "the tier can be stepped again"
    );
}

/// prod-beta's confirmation opened while beta still soaks (a reason is required).
fn soaking_dialog(tmp: &std::path::Path) -> (Fleet, App) {
    let at = -20 * 60 + 30;
    let f = demo_snapshot(tmp, 300, Scenario::Calm, at);
    let mut app = App::new(
        info(),
        Some(access()),
        CREATED.plus_secs(at),
        Rect::new(0, 0, 100, 30),
    );
    update(
        &mut app,
        Msg::Sources(
            f.as_updates()
                .into_iter()
                .map(SourceEvent::Update)
                .collect(),
        ),
    );
    tiers_pane_on(&mut app, "prod-beta");
    update(&mut app, ch('s'));
    let d = app.view.modals.dialog().expect("dialog");
    assert!(d.refused.is_none() && d.reason.is_some(), "soaking");
    (f, app)
}

#[test]
fn the_open_dialog_follows_the_gate_live() {
    use shopctl::domain::{Alert, AlertState, FleetUpdate, Severity, SyncStatus};
    let tmp = tempfile::tempdir().expect("tempdir");
    let (f, mut app) = soaking_dialog(tmp.path());
    // The soak ends while the dialog is open: no reason is needed any more.
    let later = app.data.now.plus_secs(3600);
    update(&mut app, Msg::Tick(later));
    let d = app.view.modals.dialog().expect("still open");
    assert!(d.reason.is_none() && d.refused.is_none(), "soak over");
    // A critical alert on beta fires: a reason is needed again.
    let alert = Alert {
        name: "CheckoutErrorRateHigh".into(),
        severity: Severity::Critical,
        state: AlertState::Active,
        labels: [("tier".to_string(), "beta".to_string())].into(),
        since: later,
        summary: String::new(),
        silenced_by: Vec::new(),
    };
    update(
        &mut app,
        Msg::Source(SourceEvent::Update(FleetUpdate::Alerts(vec![alert]))),
    );
    let d = app.view.modals.dialog().expect("still open");
    assert!(d.reason.is_some(), "an alert asks for a reason");
    assert!(
        screen(&app, "default").contains("CheckoutErrorRateHigh"),
        "the dialog names the alert"
    );
    update(
        &mut app,
        Msg::Source(SourceEvent::Update(FleetUpdate::Alerts(Vec::new()))),
    );
    // A beta ShopSet goes OutOfSync (someone changed beta): the dialog turns into a refusal.
    let beta = f.shopsets_of_tier("beta").next().expect("a beta ShopSet");
    let mut app_status = f.app_for(&beta.name).cloned().expect("its app");
    app_status.sync = SyncStatus::OutOfSync;
    update(
        &mut app,
        Msg::Source(SourceEvent::Update(FleetUpdate::AppUpserted(app_status))),
    );
    let d = app.view.modals.dialog().expect("still open");
    let refused = d.refused.clone().expect("refused");
    assert!(refused.contains("lower_tier_settled"), "{refused}");
    // A refusal says so in its title, and offers only esc.
    assert!(d.title.starts_with("Cannot promote"), "{}", d.title);
    let s = screen(&app, "default");
    assert!(
        s.contains("Cannot promote") && s.contains("esc close"),
        "{s}"
    );
    assert!(
        update(&mut app, key(KeyCode::Enter)).is_empty(),
        "enter executes nothing"
    );
}

#[test]
fn b_in_the_guide_rolls_back_the_failed_tier() {
    use shopctl::domain::{FleetUpdate, HealthStatus};
    let (_d, f) = fleet(300);
    let mut app = app_with(&f, 100, 30);
    update(&mut app, ch('g'));
    assert!(update(&mut app, ch('b')).is_empty());
    assert!(
        app.view.modals.dialog().is_none(),
        "no tier failed: nothing to roll back"
    );
    let toast = app.view.toast.as_ref().expect("said why");
    assert!(toast.text.contains("no tier has failed"), "{}", toast.text);
    // A beta ShopSet degrades: the guide marks beta failed and b rolls beta back.
    let beta = f.shopsets_of_tier("beta").next().expect("a beta ShopSet");
    let mut degraded = f.app_for(&beta.name).cloned().expect("its app");
    degraded.health = HealthStatus::Degraded;
    update(
        &mut app,
        Msg::Source(SourceEvent::Update(FleetUpdate::AppUpserted(degraded))),
    );
    let s = screen(&app, "default");
    assert!(s.contains("b rolls it back"), "{s}");
    update(&mut app, ch('b'));
    let d = app.view.modals.dialog().expect("rollback dialog");
    assert_eq!(d.title, "Roll back 'beta'");
}

#[test]
fn an_unreachable_clusters_detail_lists_the_shops_down_and_on_one_leg() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let f = demo_snapshot(tmp.path(), 600, Scenario::ClusterOutage, 120);
    let (down, one_leg) = f.shops_affected_by_outage();
    assert!(down + one_leg > 0, "cluster B is down");
    let mut app = app_with(&f, 120, 40);
    clusters_pane_on(&mut app, "b");
    update(&mut app, key(KeyCode::Enter));
    let d = app.view.modals.detail().expect("detail");
    assert_eq!(
        d.down + d.one_leg,
        d.rows.len(),
        "every affected shop listed"
    );
    assert!(
        d.down > 0 && d.one_leg > 0,
        "{} down, {} on one leg",
        d.down,
        d.one_leg
    );
    let first = f.shops[d.rows[0] as usize].name.clone();
    let s = screen(&app, "default");
    assert!(
        s.contains("Shops down or on one leg") && s.contains("✗ down") && s.contains(&first),
        "{s}"
    );
    // The listed shops can be reassigned from there.
    update(&mut app, ch('r'));
    let r = app.view.modals.reassign().expect("reassign dialog");
    assert_eq!(r.shop.name, first);
    // A reachable cluster's detail lists no shops.
    let mut app = app_with(&f, 120, 40);
    clusters_pane_on(&mut app, "a");
    update(&mut app, key(KeyCode::Enter));
    let d = app.view.modals.detail().expect("detail");
    assert!(!d.has_list() && d.rows.is_empty());
}

/// The screen's text, then for each line the runs of cells sharing colours and modifiers, so a
/// colour regression changes the snapshot.
fn styled_screen(app: &App, theme: &str) -> String {
    use std::fmt::Write as _;
    let mut t = Terminal::new(TestBackend::new(app.view.size.width, app.view.size.height))
        .expect("terminal");
    let theme = Theme::load(theme).expect("theme");
    t.draw(|f| render(app, &theme, f)).expect("draw");
    let buf = t.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        let mut runs: Vec<(u16, u16, String)> = Vec::new();
        for x in 0..buf.area.width {
            let cell = &buf[(x, y)];
            line.push_str(cell.symbol());
            let style = format!("{:?}/{:?}/{:?}", cell.fg, cell.bg, cell.modifier);
            match runs.last_mut() {
                Some((_, end, s)) if *s == style => *end = x,
                _ => runs.push((x, x, style)),
            }
        }
        let _ = writeln!(out, "{line}");
        for (a, b, s) in runs {
            let _ = writeln!(out, "    {a}-{b} {s}");
        }
    }
    out
}

#[test]
fn snapshot_every_theme_with_styles() {
    let (_d, f) = fleet(300);
    for theme in ["default", "light", "high-contrast", "mono"] {
        let mut app = app_with(&f, 80, 24);
        tiers_pane_on(&mut app, "prod-beta");
        insta::assert_snapshot!(format!("styles_{theme}"), styled_screen(&app, theme));
    }
}

#[test]
fn snapshot_release_confirmation() {
    let (_d, f) = fleet(300);
    let mut app = app_with(&f, 100, 30);
    tiers_pane_on(&mut app, "prod-beta");
    update(&mut app, ch('s'));
    insta::assert_snapshot!(screen(&app, "default"));
}

#[test]
fn snapshot_override_reason() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (_f, mut app) = soaking_dialog(tmp.path());
    for c in "hotfix for checkout".chars() {
        update(&mut app, ch(c));
    }
    insta::assert_snapshot!(screen(&app, "default"));
}

#[test]
fn snapshot_drain_plan_with_blockers() {
    use shopctl::domain::FleetUpdate;
    let (_d, f) = fleet(300);
    let mut app = app_with(&f, 100, 30);
    // Every ShopSet off cluster C is full: none of C's shops has a place.
    let full: Vec<_> = f
        .shopsets
        .iter()
        .cloned()
        .map(|mut ss| {
            if ss.cluster != "c" {
                ss.capacity = f.shop_count(&ss.name);
            }
            ss
        })
        .collect();
    update(
        &mut app,
        Msg::Source(SourceEvent::Update(FleetUpdate::ShopSets(full))),
    );
    clusters_pane_on(&mut app, "c");
    update(&mut app, ch('d'));
    let d = app.view.modals.plan().expect("plan");
    assert!(!d.plan.blockers.is_empty(), "blocked");
    insta::assert_snapshot!(screen(&app, "default"));
    // Enter refuses while shops are blocked.
    for c in "c".chars() {
        update(&mut app, ch(c));
    }
    assert!(update(&mut app, key(KeyCode::Enter)).is_empty());
}

#[test]
fn snapshot_reassign() {
    let (_d, f) = fleet(300);
    let mut app = app_with(&f, 100, 30);
    let dual = f
        .shops
        .iter()
        .find(|s| s.redundancy == shopctl::domain::Redundancy::Dual)
        .expect("a dual shop")
        .name
        .clone();
    update(&mut app, ch('f'));
    update(&mut app, ch('/'));
    for c in dual.chars() {
        update(&mut app, ch(c));
    }
    update(&mut app, key(KeyCode::Enter));
    update(&mut app, ch('r'));
    update(&mut app, ch('j'));
    update(&mut app, ch('j'));
    insta::assert_snapshot!(screen(&app, "default"));
}

#[test]
fn snapshot_quit_during_drain() {
    let (_d, f) = fleet(600);
    let mut app = draining(&f, "c");
    update(&mut app, ch('q'));
    insta::assert_snapshot!(screen(&app, "default"));
}

#[test]
fn a_start_on_an_unfinished_drain_says_how_to_continue_and_an_unreadable_lock_shows() {
    let (_d, mut f) = fleet(200);
    let b = f.cluster("b").expect("b").clone();
    f.apply(shopctl::domain::FleetUpdate::ClusterSpec(
        shopctl::domain::ClusterSpec {
            name: b.name.clone(),
            provider: b.provider.clone(),
            failure_domain: b.failure_domain.clone(),
            cordoned: true,
            drain: Some("drain-b-1".into()),
        },
    ));
    f.apply(shopctl::domain::FleetUpdate::LockUnreadable(
        "the lock file 'lock.json' is damaged".into(),
    ));
    f.refresh();
    let app = read_only_app(&f, 160, 40);
    let s = screen(&app, "default");
    assert!(
        s.contains("cluster 'b' has an unfinished drain or restore"),
        "{s}"
    );
    assert!(s.contains("lock unreadable"), "{s}");
    // Read-write, at 80 columns: the keys that continue it fit.
    let app = app_with(&f, 80, 24);
    let s = screen(&app, "default");
    assert!(s.contains("d continues, u restores"), "{s}");
}

#[test]
fn an_open_drain_plan_follows_the_fleet_and_asks_for_the_name_again_when_it_changed() {
    let (_d, f) = fleet(600);
    let mut app = app_with(&f, 100, 30);
    clusters_pane_on(&mut app, "c");
    update(&mut app, ch('d'));
    for c in "c".chars() {
        update(&mut app, ch(c));
    }
    let first = app.view.modals.plan().expect("plan shown").plan.clone();
    // Someone moves the first planned shop to another ShopSet of its tier meanwhile.
    let m = first.moves.first().expect("a move").clone();
    let mut shop = f
        .shops
        .iter()
        .find(|s| s.name == m.shop)
        .expect("shop")
        .clone();
    let elsewhere = f
        .shopsets
        .iter()
        .find(|ss| {
            let now = f.shopset(&shop.shopsets[0]).expect("its ShopSet");
            ss.tier == now.tier
                && ss.configuration == now.configuration
                && ss.cluster != "c"
                && !m.to.contains(&ss.name)
                && !shop.shopsets.contains(&ss.name)
        })
        .expect("another ShopSet")
        .name
        .clone();
    shop.shopsets = shop
        .shopsets
        .iter()
        .map(|s| {
            if f.shopset(s).is_some_and(|ss| ss.cluster == "c") {
                elsewhere.clone()
            } else {
                s.clone()
            }
        })
        .collect();
    update(
        &mut app,
        Msg::Source(SourceEvent::Update(
            shopctl::domain::FleetUpdate::ShopUpserted(shop),
        )),
    );
    let d = app.view.modals.plan().expect("still open");
    assert!(d.changed, "the dialog noticed");
    assert_ne!(d.plan, first, "the plan is the fleet's as it is now");
    assert!(
        d.typed.lines().join("").is_empty(),
        "the typed name was cleared"
    );
    assert!(screen(&app, "default").contains("the fleet changed"));
    assert!(
        update(&mut app, key(KeyCode::Enter)).is_empty(),
        "nothing runs without the name typed again"
    );
}

#[test]
fn i_lists_every_source_with_its_state_age_and_last_error() {
    let (_d, f) = fleet(200);
    let mut app = app_with(&f, 120, 30);
    let now = app.data.now;
    update(
        &mut app,
        Msg::Source(SourceEvent::Problem {
            source: SourceId::Alertmanager,
            message: "'http://127.0.0.1:9093/api/v2/alerts' cannot be reached".into(),
        }),
    );
    update(&mut app, Msg::Tick(now.plus_secs(20)));
    update(&mut app, ch('i'));
    let s = screen(&app, "default");
    assert!(s.contains("Sources"), "{s}");
    assert!(s.contains("control plane") && s.contains("stale"), "{s}");
    assert!(s.contains("Alertmanager") && s.contains("failing"), "{s}");
    assert!(s.contains("cannot be reached"), "{s}");
    update(&mut app, ch('i'));
    assert!(
        !screen(&app, "default").contains("LAST ERROR"),
        "i closes it"
    );
    update(&mut app, ch('i'));
    update(&mut app, key(KeyCode::Esc));
    assert!(app.view.modals.is_empty(), "esc closes it");
}

#[test]
fn a_write_the_session_may_not_make_opens_no_dialog_and_says_why() {
    use shopctl::ops::{Capability, Denial};
    let (_d, f) = fleet(300);
    let mut app = app_with(&f, 120, 30);
    app.session.denied = vec![Denial {
        what: "patch shops.shopset.dev".into(),
        blocks: Some(Capability::Placement),
    }];
    clusters_pane_on(&mut app, "b");
    assert!(update(&mut app, ch('d')).is_empty());
    assert!(app.view.modals.is_empty(), "no drain plan opened");
    let s = screen(&app, "default");
    assert!(
        s.contains("✗ not permitted: this session may not patch shops.shopset.dev"),
        "{s}"
    );
    // Help says so too, at its end.
    update(&mut app, ch('?'));
    for _ in 0..100 {
        update(&mut app, ch('j'));
    }
    let s = screen(&app, "default");
    assert!(
        s.contains("patch shops.shopset.dev: d, u and r refused"),
        "{s}"
    );
    update(&mut app, key(KeyCode::Esc));
    // A release step needs no shop patch: its confirmation opens.
    tiers_pane_on(&mut app, "prod-beta");
    update(&mut app, ch('s'));
    assert!(app.view.modals.dialog().is_some());
}

#[test]
fn a_changing_key_in_a_read_only_console_says_why_nothing_happens() {
    let (_d, f) = fleet(300);
    let mut app = read_only_app(&f, 80, 24);
    tiers_pane_on(&mut app, "prod-beta");
    for k in ['s', 'b'] {
        assert!(update(&mut app, ch(k)).is_empty());
        assert!(
            app.view.modals.is_empty(),
            "no dialog in a read-only console"
        );
        let s = screen(&app, "default");
        assert!(
            s.contains("read-only: this console cannot change the fleet"),
            "{s}"
        );
    }
}

/// An app showing one warning alert on cluster B, muted or not by silence `s1`.
fn alerting_app(silenced: bool, access: Option<WriteAccess>) -> App {
    use shopctl::domain::{Alert, AlertState, FleetUpdate, Severity, Silence, SilenceState};
    let (_d, f) = fleet(300);
    let mut app = app_as(&f, access, 80, 24);
    let alert = Alert {
        name: "NodeNotReady".into(),
        severity: Severity::Warning,
        state: if silenced {
            AlertState::Suppressed
        } else {
            AlertState::Active
        },
        labels: [
            ("alertname".to_string(), "NodeNotReady".to_string()),
            ("cluster".to_string(), "b".to_string()),
        ]
        .into(),
        since: app.data.now,
        summary: "a node is not ready".into(),
        silenced_by: if silenced {
            vec!["s1".into()]
        } else {
            Vec::new()
        },
    };
    let silence = Silence {
        id: "s1".into(),
        matchers: vec![shopctl::domain::Matcher::equal("cluster", "b")],
        starts_at: app.data.now,
        ends_at: app.data.now.plus_secs(3600),
        created_by: "bob".into(),
        comment: "node replaced".into(),
        state: SilenceState::Active,
    };
    for u in [
        FleetUpdate::Alerts(vec![alert]),
        FleetUpdate::Silences(if silenced { vec![silence] } else { Vec::new() }),
    ] {
        update(&mut app, Msg::Source(SourceEvent::Update(u)));
    }
    update(&mut app, ch('5'));
    app
}

#[test]
fn shift_s_silences_the_selected_alert_with_its_labels_and_a_comment() {
    use shopctl::domain::Matcher;
    use shopctl::ops::Mutation;
    let mut app = alerting_app(false, Some(access()));
    update(&mut app, ch('S'));
    assert!(app.view.modals.silence().is_some(), "the dialog opens");
    insta::assert_snapshot!("silence_dialog_80x24", screen(&app, "default"));
    // No comment: nothing is executed, and the footer says why.
    assert!(executed(&update(&mut app, key(KeyCode::Enter))).is_none());
    assert!(app.view.modals.silence().is_some());
    for c in "replacing the node".chars() {
        update(&mut app, ch(c));
    }
    // The duration field: 2h becomes 45m.
    update(&mut app, key(KeyCode::Tab));
    update(&mut app, key(KeyCode::Tab));
    assert_eq!(
        app.view.modals.silence().expect("open").field,
        shopctl::ui::dialogs::silence::Field::Duration
    );
    update(&mut app, key(KeyCode::Backspace));
    update(&mut app, key(KeyCode::Backspace));
    for c in "45m".chars() {
        update(&mut app, ch(c));
    }
    let effects = update(&mut app, key(KeyCode::Enter));
    assert_eq!(
        executed(&effects),
        Some(&Mutation::Silence {
            matchers: vec![
                Matcher::equal("alertname", "NodeNotReady"),
                Matcher::equal("cluster", "b")
            ],
            duration_secs: 45 * 60,
            comment: "replacing the node".into(),
        })
    );
    assert!(app.view.modals.silence().is_none(), "the dialog closed");
}

#[test]
fn shift_e_expires_the_silence_muting_the_selected_alert() {
    use shopctl::ops::Mutation;
    let mut app = alerting_app(true, Some(access()));
    update(&mut app, ch('E'));
    assert!(app.view.modals.expire().is_some(), "the dialog opens");
    let shown = screen(&app, "default");
    assert!(
        shown.contains("node replaced") && shown.contains("cluster=\"b\""),
        "{shown}"
    );
    let effects = update(&mut app, ch('y'));
    match executed(&effects) {
        Some(Mutation::ExpireSilence { id, .. }) => assert_eq!(id, "s1"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_read_only_console_neither_silences_nor_expires() {
    let mut app = alerting_app(true, None);
    for c in ['S', 'E'] {
        assert!(update(&mut app, ch(c)).is_empty());
        assert!(app.view.modals.is_empty(), "no dialog for {c}");
    }
    assert!(!screen(&app, "default").contains("silence the selected"));
}

#[test]
fn shift_s_without_an_alert_writes_a_silence_for_the_highlighted_cluster() {
    use shopctl::domain::Matcher;
    use shopctl::ops::Mutation;
    let (_d, f) = fleet(300);
    let mut app = app_with(&f, 80, 24);
    clusters_pane_on(&mut app, "b");
    update(&mut app, ch('S'));
    assert!(app.view.modals.silence().is_some(), "the dialog opens");
    // The matchers have the keys; tab twice to the comment.
    update(&mut app, key(KeyCode::Tab));
    update(&mut app, key(KeyCode::Tab));
    for c in "kernel upgrade on b".chars() {
        update(&mut app, ch(c));
    }
    let effects = update(&mut app, key(KeyCode::Enter));
    assert_eq!(
        executed(&effects),
        Some(&Mutation::Silence {
            matchers: vec![Matcher::equal("cluster", "b")],
            duration_secs: 7200,
            comment: "kernel upgrade on b".into(),
        })
    );
}

#[test]
fn a_paste_is_text_and_never_keys() {
    use shopctl::ui::app::Msg;
    let mut app = alerting_app(false, Some(access()));
    update(&mut app, ch('S'));
    // Pasted into the comment: two lines, then what would be keys (focus Tiers, step).
    let effects = update(
        &mut app,
        Msg::Paste("INC-99 b outage\rsee runbook\r\n2jjs\n".into()),
    );
    assert!(effects.is_empty(), "a paste runs nothing");
    let d = app.view.modals.silence().expect("still open");
    assert_eq!(
        d.comment.lines(),
        ["INC-99 b outage", "see runbook", "2jjs", ""],
        "text, lines kept"
    );
    assert_eq!(
        app.view.focus,
        shopctl::ui::state::PaneId::Alerts,
        "no key acted"
    );
    let effects = update(&mut app, key(KeyCode::Enter));
    match executed(&effects) {
        Some(shopctl::ops::Mutation::Silence { comment, .. }) => {
            assert_eq!(comment, "INC-99 b outage\nsee runbook\n2jjs")
        }
        other => panic!("{other:?}"),
    }
    // Without a text field a paste does nothing at all.
    let mut app = alerting_app(false, Some(access()));
    assert!(update(&mut app, Msg::Paste("2jjs\n".into())).is_empty());
    assert_eq!(app.view.focus, shopctl::ui::state::PaneId::Alerts);
    assert!(app.view.modals.is_empty());
}

#[test]
fn a_first_read_still_arriving_shows_how_far_it_has_come_never_live() {
    let (_d, f) = fleet(200);
    let mut app = app_with(&f, 100, 30);
    let mut fresh = Sources::default();
    fresh.expect(SourceId::ControlPlane);
    std::mem::swap(&mut app.data.sources, &mut fresh);
    // Git answers first: nothing is live before the control plane has read.
    let now = app.data.now;
    update(
        &mut app,
        Msg::Source(SourceEvent::Heartbeat {
            source: SourceId::Git,
            at: now,
        }),
    );
    assert_eq!(app.freshness(), Freshness::Connecting);
    // Alertmanager does not answer: that does not hide that the fleet is still arriving.
    update(
        &mut app,
        Msg::Source(SourceEvent::Problem {
            source: SourceId::Alertmanager,
            message: "connection refused".into(),
        }),
    );
    update(
        &mut app,
        Msg::Source(SourceEvent::Loading {
            source: SourceId::ControlPlane,
            progress: Loading {
                done: 20_000,
                total: Some(100_000),
            },
        }),
    );
    let s = screen(&app, "default");
    assert!(s.contains("◌ loading 20,000/100,000"), "{s}");
    assert!(!s.contains("● live"), "{s}");
    // Once the control plane has read whole, the header says what is wrong elsewhere; and
    // live once Alertmanager answers too.
    let hb = app.data.now;
    update(
        &mut app,
        Msg::Source(SourceEvent::Heartbeat {
            source: SourceId::ControlPlane,
            at: hb,
        }),
    );
    assert!(
        matches!(
            app.freshness(),
            Freshness::Stale {
                source: SourceId::Alertmanager,
                ..
            }
        ),
        "{:?}",
        app.freshness()
    );
    update(
        &mut app,
        Msg::Source(SourceEvent::Heartbeat {
            source: SourceId::Alertmanager,
            at: hb,
        }),
    );
    assert_eq!(app.freshness(), Freshness::Live);
    assert!(screen(&app, "default").contains("● live"));
}

#[test]
fn an_application_detail_shows_argo_cds_message_and_the_resources_that_are_not_ok() {
    use shopctl::domain::{
        ComponentHealth, Components, FleetUpdate, HealthStatus, OperationPhase, ResourceProblem,
        SyncStatus,
    };
    let (_d, f) = fleet(400);
    let mut app = app_with(&f, 80, 24);
    // Argo CD's Application for dev's first ShopSet is Degraded, with what it says of it.
    let mut a = f.app_for("a-4").cloned().expect("app");
    a.health = HealthStatus::Degraded;
    a.operation = Some(OperationPhase::Failed);
    a.argo.message = Some(
        "one or more objects failed to apply, reason: Deployment.apps \"a-4-cart\" is invalid: spec.template.spec.containers[0].image: Required value".into(),
    );
    a.argo.components = Some(Components {
        cart: ComponentHealth::Degraded,
        ..Components::all(ComponentHealth::Up)
    });
    a.argo.resources = vec![ResourceProblem {
        kind: "Deployment".into(),
        name: "a-4-cart".into(),
        sync: SyncStatus::OutOfSync,
        health: Some(HealthStatus::Degraded),
        message: Some("Deployment \"a-4-cart\" exceeded its progress deadline".into()),
    }];
    a.argo.resources_not_ok = 1;
    update(
        &mut app,
        Msg::Source(SourceEvent::Update(FleetUpdate::AppUpserted(a.clone()))),
    );
    // The ShopSet's stack is what the Application's resources say.
    update(&mut app, ch('3'));
    assert!(
        screen(&app, "default").contains("●●●▲●"),
        "{}",
        screen(&app, "default")
    );
    update(&mut app, ch('4'));
    update(&mut app, key(KeyCode::Enter));
    let d = app.view.modals.detail().expect("detail open");
    assert_eq!(d.target, DetailTarget::App(a.name.clone()));
    let s = screen(&app, "default");
    // Every word of the message is on screen, wrapped, none cut.
    let shown: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    for word in a
        .argo
        .message
        .as_deref()
        .unwrap_or_default()
        .split_whitespace()
    {
        assert!(shown.contains(word), "{word} missing:\n{s}");
    }
    assert!(s.contains("shop page ●  cart ▲ degraded  API ●"), "{s}");
    assert!(s.contains("1 not Synced and Healthy"), "{s}");
    assert!(
        s.contains("Deployment a-4-cart  ≠ OutOfSync  ✗ Degraded"),
        "{s}"
    );
    assert!(s.contains("exceeded its progress deadline"), "{s}");
    assert!(!s.contains('…'), "nothing cut:\n{s}");
}

#[test]
fn a_clusters_detail_says_why_its_probe_failed_whole() {
    let (_d, f) = fleet(200);
    let mut app = app_with(&f, 80, 24);
    let why = "the API server did not answer within 5 s: cannot connect: the proxy http://127.0.0.1:3128 did not open a tunnel to the API server (tunnel error: unsuccessful)";
    update(
        &mut app,
        Msg::Source(SourceEvent::Problem {
            source: SourceId::Cluster("a".into()),
            message: why.into(),
        }),
    );
    update(&mut app, ch('1'));
    update(&mut app, key(KeyCode::Enter));
    let d = app.view.modals.detail().expect("detail open");
    assert_eq!(d.target, DetailTarget::Cluster("a".into()));
    let s = screen(&app, "default");
    assert!(s.contains("last error"), "{s}");
    let shown: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    for word in why.split_whitespace() {
        assert!(shown.contains(word), "{word} missing:\n{s}");
    }
}

#[test]
fn a_footer_message_cut_at_80_columns_reads_whole_in_the_messages_view() {
    let (_d, f) = fleet(300);
    let mut app = app_with(&f, 80, 24);
    let cause = "git: cannot push 'tier-2': the remote's pre-receive hook declined it because the branch is protected by the release freeze of the platform team";
    update(
        &mut app,
        Msg::Notice {
            text: format!("✗ step into 'prod-beta' failed: {cause}"),
            bad: true,
        },
    );
    update(
        &mut app,
        Msg::Notice {
            text: "pushed 457bcdc".into(),
            bad: false,
        },
    );
    let s = screen(&app, "default");
    assert!(!s.contains("platform"), "the footer cuts it: {s}");
    update(&mut app, ch('m'));
    let s = screen(&app, "default");
    assert!(s.contains("Messages"), "{s}");
    // Newest first, each whole (wrapped).
    let flat: String = s.split('"').collect::<Vec<_>>().join(" ");
    assert!(flat.contains("platform"), "{s}");
    let (newest, older) = (
        s.find("pushed 457bcdc").expect("the newest message"),
        s.find("step into 'prod-beta' failed")
            .expect("the older message"),
    );
    assert!(newest < older, "{s}");
    // Scrolled no further than the last message: one step back shows the newest again.
    for _ in 0..10 {
        update(&mut app, ch('j'));
    }
    update(&mut app, ch('k'));
    assert!(screen(&app, "default").contains("pushed 457bcdc"));
    update(&mut app, ch('m'));
    assert!(!screen(&app, "default").contains("Messages"));
}

#[test]
fn a_dialog_answers_what_its_keys_did_without_the_console() {
    use shopctl::ui::dialogs::{Outcome, PlanDialog};
    use shopctl::ui::keymap::Action;
    let (_d, f) = fleet(600);
    let mut d = PlanDialog::drain(&f, "c", "drain-c-1".into());
    // Not before the cluster's name is typed.
    assert!(matches!(
        d.on_action(Action::Confirm, &f),
        Outcome::Refuse(_)
    ));
    assert!(matches!(d.on_action(Action::Down, &f), Outcome::Stay));
    assert_eq!(d.offset, 1);
    d.typed.insert_str("c");
    match d.on_action(Action::Confirm, &f) {
        Outcome::RunPlan {
            cluster,
            drain,
            plan,
            ..
        } => {
            assert_eq!((cluster.as_str(), drain.as_str()), ("c", "drain-c-1"));
            assert!(!plan.moves.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        d.on_action(Action::Back, &f),
        Outcome::Close(Some((_, false)))
    ));
    assert!(matches!(d.on_action(Action::Quit, &f), Outcome::Quit));
}

#[test]
fn while_a_release_step_is_followed_no_other_change_opens_only_to_be_refused() {
    let (_d, f) = fleet(600);
    let mut app = app_with(&f, 100, 30);
    app.op.progress = Some(shopctl::domain::release::Progress {
        tier: "prod-beta".into(),
        commit: "457bcdc".into(),
        before: None,
        since: app.data.now,
        rollback: false,
    });
    clusters_pane_on(&mut app, "c");
    update(&mut app, ch('d'));
    let s = screen(&app, "default");
    assert!(s.contains("wait: 'prod-beta' is still rolling out"), "{s}");
    assert!(!s.contains("Drain cluster"), "{s}");
}
