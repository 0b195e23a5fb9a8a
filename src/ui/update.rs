//! The one place the console's state changes: `update(app, msg)`. Keys go where the modal stack
//! says; data batches refresh what depends on them; effects go back to the main loop.

use crossterm::event::{KeyEvent, KeyEventKind};
use tui_textarea::TextArea;

use super::app::{App, Effect, Msg};
use super::detail::{Detail, DetailTarget};
use super::dialogs::confirm::{Judge, ReleaseAction};
use super::dialogs::{ConfirmDialog, PlanDialog, QuitDialog, ReassignDialog};
use super::guide::Guide;
use super::keymap::{self, Action, Context};
use super::layout;
use super::modal::{FilterInput, Modal};
use super::panes;
use super::placement::DrainRun;
use super::state::{FilterTarget, PaneId, Scope};
use super::text;
use crate::domain::release::{GuideState, Progress, ProgressState, guide, next_action};
use crate::ops::{Done, Mutation};
use crate::sources::SourceEvent;

/// Applies one message. Returns the effects for the main loop; sets `app.dirty` when the screen
/// must be drawn again.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Tick(now) => {
            let before = app.clock_view();
            app.now = now;
            if app.clock_view() != before {
                app.dirty = true;
            }
            if app.toast.as_ref().is_some_and(|t| t.until <= now) {
                app.toast = None;
                app.dirty = true;
            }
            // Soak countdowns (Tiers pane, guide, dialog) move every second.
            let soaking = app.fleet.tiers.iter().any(|t| {
                crate::domain::release::settled_at(&app.fleet, t)
                    .is_some_and(|at| at.secs_until(now) <= i64::from(t.soak_secs) + 1)
            });
            if soaking || app.modals.guide().is_some() || app.modals.dialog().is_some() {
                app.dirty = true;
            }
            follow_gate(app);
            Vec::new()
        }
        Msg::Executed {
            mutation,
            result,
            race,
        } => on_executed(app, mutation, result, race),
        Msg::DrainProgress { done, total } => {
            if let Some(r) = &mut app.drain_run {
                r.done = done;
                r.total = total;
                app.dirty = true;
            }
            Vec::new()
        }
        Msg::DrainDone(result) => {
            let run = app.drain_run.take();
            if app.modals.quit().is_some() {
                app.modals.pop();
            }
            let kind = run.map(|r| r.kind);
            match result {
                Ok(r) => app.say(text::drain_done(kind, &r), r.cancelled),
                Err(e) => app.say(text::drain_failed(kind, &e), true),
            }
            Vec::new()
        }
        Msg::Resize(w, h) => {
            app.size = ratatui::layout::Rect::new(0, 0, w, h);
            clamp_all(app);
            app.dirty = true;
            Vec::new()
        }
        // The main loop stops a running drain after its batch and reports it.
        Msg::Terminate(_) => vec![Effect::Quit],
        Msg::Source(ev) => {
            on_source(app, ev);
            after_sources(app)
        }
        Msg::Sources(events) => {
            for ev in events {
                on_source(app, ev);
            }
            after_sources(app)
        }
        Msg::Key(key) => {
            if key.kind == KeyEventKind::Release {
                return Vec::new();
            }
            on_key(app, key)
        }
    }
}

/// Derived facts are recomputed once per batch, not once per event; a followed step may have
/// finished.
fn after_sources(app: &mut App) -> Vec<Effect> {
    if !app.dirty {
        return Vec::new();
    }
    app.fleet.refresh();
    if let Some(d) = app.modals.detail_mut() {
        d.refresh(&app.fleet);
    }
    follow_gate(app);
    let Some(p) = &app.progress else {
        return Vec::new();
    };
    match p.state(&app.fleet) {
        ProgressState::Done => {
            let msg = text::progress_done(p);
            app.progress = None;
            app.say(msg, false);
            vec![Effect::Unlock]
        }
        ProgressState::Failed(why) => {
            let (msg, banner) = text::progress_failed(p, &why);
            app.failed_step = Some(banner);
            app.progress = None;
            app.say(msg, true);
            vec![Effect::Unlock]
        }
        ProgressState::Superseded { .. } => {
            let msg = text::progress_superseded(p);
            app.progress = None;
            app.say(msg, true);
            vec![Effect::Unlock]
        }
        ProgressState::Waiting | ProgressState::Syncing { .. } => Vec::new(),
    }
}

/// An open release dialog judges its change again on the fleet as it is now.
fn follow_gate(app: &mut App) {
    let judge = Judge {
        now: app.now,
        policy: &app.policy,
        me: &app.operator,
    };
    if let Some(d) = app.modals.dialog_mut() {
        d.evaluate(&app.fleet, &judge);
        app.dirty = true;
    }
}

fn on_executed(
    app: &mut App,
    mutation: Box<Mutation>,
    result: Result<Done, String>,
    race: bool,
) -> Vec<Effect> {
    app.busy = false;
    app.dirty = true;
    if let (Mutation::Reassign { .. }, Ok(_)) = (&*mutation, &result) {
        app.say(format!("✓ {}", mutation.summary()), false);
        return vec![Effect::Unlock];
    }
    match result {
        Ok(done) => {
            let tier = mutation.tier().to_string();
            app.progress = Some(Progress {
                before: app.fleet.tier(&tier).and_then(|t| t.head.clone()),
                tier,
                commit: done.commit.clone(),
                since: app.now,
                rollback: matches!(*mutation, Mutation::Rollback { .. }),
            });
            app.failed_step = None;
            app.say(text::pushed(&done), false);
            Vec::new()
        }
        Err(e) if race => {
            app.say(text::race(&e), true);
            vec![Effect::Unlock]
        }
        Err(e) => {
            app.say(format!("✗ {e}"), true);
            vec![Effect::Unlock]
        }
    }
}

fn on_source(app: &mut App, ev: SourceEvent) {
    match ev {
        SourceEvent::Update(u) => {
            app.fleet.apply(u);
            app.dirty = true;
        }
        SourceEvent::Heartbeat(at) => {
            let before = app.clock_view();
            app.last_heartbeat = Some(at);
            if app.problem.take().is_some() || app.clock_view() != before {
                app.dirty = true;
            }
        }
        SourceEvent::Problem { source, message } => {
            let text = format!("{source}: {message}");
            if app.problem.as_deref() != Some(&text) {
                app.problem = Some(text);
                app.dirty = true;
            }
        }
    }
}

fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let ctx = app.context();
    let Some(action) = keymap::action_for(key, ctx, app.readonly()) else {
        return type_text(app, key);
    };
    app.dirty = true;
    match ctx {
        Context::Main | Context::Detail | Context::Help | Context::Guide => {
            on_view_action(app, ctx, action)
        }
        Context::Notes => stop_notes(app),
        Context::Filter => on_filter_action(app, action),
        Context::Confirm => on_confirm_action(app, action),
        Context::Plan => on_plan_action(app, action),
        Context::Reassign => on_reassign_action(app, action),
        Context::Quit => match action {
            Action::Confirm => vec![Effect::Quit],
            _ => {
                app.modals.pop();
                Vec::new()
            }
        },
    }
}

/// A key no binding claims: text for the field that has the keys, if any.
fn type_text(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let typed = match app.modals.top_mut() {
        Some(Modal::Guide(g)) if g.editing => g.notes.input(key),
        Some(Modal::Confirm(d)) => d.reason.as_mut().is_some_and(|ta| ta.input(key)),
        Some(Modal::Plan(d)) => d.typed.input(key),
        Some(Modal::Filter(input)) => {
            let changed = input.textarea.input(key);
            let target = input.target;
            let text = input.textarea.lines().first().cloned().unwrap_or_default();
            set_filter(app, target, text);
            changed
        }
        _ => false,
    };
    if typed {
        app.dirty = true;
    }
    Vec::new()
}

/// Quit, unless a drain runs: then ask first.
fn quit(app: &mut App) -> Vec<Effect> {
    match &app.drain_run {
        Some(run) if app.modals.quit().is_none() => {
            let dialog = QuitDialog {
                kind: run.kind,
                cluster: run.cluster.clone(),
            };
            app.modals.push(Modal::Quit(dialog));
            Vec::new()
        }
        _ => vec![Effect::Quit],
    }
}

fn on_view_action(app: &mut App, ctx: Context, action: Action) -> Vec<Effect> {
    match action {
        Action::Quit => return quit(app),
        Action::Redraw => return vec![Effect::ClearScreen],
        Action::Help if ctx == Context::Help => {
            app.modals.pop();
        }
        Action::Help => app.modals.push(Modal::Help(0)),
        Action::Step | Action::Rollback => open_confirm(app, action),
        Action::Drain | Action::Restore => open_plan(app, action),
        Action::Reassign => open_reassign(app),
        Action::FindShop => app.modals.push(Modal::Detail(Detail::open(
            DetailTarget::AllShops,
            &app.fleet,
        ))),
        Action::Cancel => {
            if let Some(r) = &mut app.drain_run {
                r.cancelling = true;
                return vec![Effect::CancelDrain];
            }
            app.say(text::NO_DRAIN, false);
        }
        Action::Guide => app.modals.push(Modal::Guide(Guide::new(&app.notes))),
        Action::EditNotes => {
            if let Some(g) = app.modals.guide_mut() {
                g.editing = true;
            }
        }
        Action::Back => back(app),
        Action::NextPane => focus(app, app.focus.next()),
        Action::PrevPane => focus(app, app.focus.prev()),
        Action::FocusPane(p) => focus(app, p),
        Action::Up | Action::Down if ctx == Context::Help => {
            if let Some(Modal::Help(scroll)) = app.modals.top_mut() {
                *scroll = if action == Action::Up {
                    scroll.saturating_sub(1)
                } else {
                    scroll.saturating_add(1)
                };
            }
        }
        Action::Up => move_by(app, -1),
        Action::Down => move_by(app, 1),
        Action::PageUp => move_by(app, -(page(app) as isize)),
        Action::PageDown => move_by(app, page(app) as isize),
        Action::Top => move_by(app, isize::MIN / 2),
        Action::Bottom => move_by(app, isize::MAX / 2),
        Action::Open => open_detail(app),
        Action::Filter => open_filter(app),
        Action::Confirm | Action::Choose | Action::AcceptDegraded => {}
    }
    Vec::new()
}

/// `esc`: close the top layer, else dismiss a failed step, else clear the filter, else the
/// highlight.
fn back(app: &mut App) {
    if let Some(m) = app.modals.pop() {
        if let Modal::Guide(g) = m {
            app.notes = g.text();
        }
    } else if app.failed_step.take().is_some() {
    } else if !app.pane(app.focus).filter.is_empty() {
        let focus = app.focus;
        app.pane_mut(focus).filter.clear();
    } else {
        app.scope = None;
    }
}

/// `esc` while writing notes: stop, and save them if they changed.
fn stop_notes(app: &mut App) -> Vec<Effect> {
    let Some(g) = app.modals.guide_mut() else {
        return Vec::new();
    };
    g.editing = false;
    let text = g.text();
    app.notes = text.clone();
    if text != g.saved
        && let Some(access) = app.access
    {
        g.saved = text.clone();
        return vec![Effect::SaveNotes { access, text }];
    }
    Vec::new()
}

fn open_filter(app: &mut App) {
    let target = if app.modals.detail().is_some() {
        FilterTarget::Detail
    } else {
        FilterTarget::Pane(app.focus)
    };
    let current = match target {
        FilterTarget::Detail => app
            .modals
            .detail()
            .map(|d| d.list.filter.clone())
            .unwrap_or_default(),
        FilterTarget::Pane(p) => app.pane(p).filter.clone(),
    };
    let mut textarea = TextArea::new(vec![current]);
    textarea.move_cursor(tui_textarea::CursorMove::End);
    app.modals
        .push(Modal::Filter(FilterInput { textarea, target }));
}

fn on_filter_action(app: &mut App, action: Action) -> Vec<Effect> {
    let Some(Modal::Filter(input)) = app.modals.pop() else {
        return Vec::new();
    };
    if action == Action::Back {
        set_filter(app, input.target, String::new());
    }
    Vec::new()
}

/// `d` and `u` on a cluster: the plan, shown before anything moves.
fn open_plan(app: &mut App, action: Action) {
    if app.drain_run.is_some() {
        app.say(text::DRAIN_RUNNING, true);
        return;
    }
    if app.focus != PaneId::Clusters {
        app.say(text::SELECT_CLUSTER, true);
        return;
    }
    let Some(cluster) = app.selected_key(PaneId::Clusters) else {
        return;
    };
    let existing = app.fleet.cluster(&cluster).and_then(|c| c.drain.clone());
    let dialog = match action {
        Action::Restore => {
            let Some(id) = existing else {
                app.say(text::nothing_to_restore(&cluster), true);
                return;
            };
            PlanDialog::restore(&app.fleet, &cluster, id)
        }
        _ => {
            let id = crate::ops::drain::drain_id(&cluster, existing.as_deref(), app.now);
            PlanDialog::drain(&app.fleet, &cluster, id)
        }
    };
    app.modals.push(Modal::Plan(dialog));
}

fn on_plan_action(app: &mut App, action: Action) -> Vec<Effect> {
    let Some(d) = app.modals.plan_mut() else {
        return Vec::new();
    };
    match action {
        Action::Quit => return quit(app),
        Action::Back => {
            app.modals.pop();
            app.say(text::NOTHING_MOVED, false);
        }
        Action::AcceptDegraded => d.toggle_accept(&app.fleet),
        Action::Down => d.offset += 1,
        Action::Up => d.offset = d.offset.saturating_sub(1),
        Action::PageDown => d.offset += 10,
        Action::PageUp => d.offset = d.offset.saturating_sub(10),
        Action::Confirm => match (d.confirmed(), app.access) {
            (Ok(plan), Some(access)) => {
                let (kind, cluster, drain) = (d.kind, d.cluster.clone(), d.drain.clone());
                app.modals.pop();
                app.drain_run = Some(DrainRun {
                    kind,
                    cluster,
                    done: 0,
                    total: plan.moves.len(),
                    cancelling: false,
                });
                return vec![Effect::RunPlan {
                    access,
                    kind,
                    plan: Box::new(plan),
                    drain,
                }];
            }
            (Ok(_), None) => {
                app.modals.pop();
            }
            (Err(why), _) => app.say(why, true),
        },
        _ => {}
    }
    Vec::new()
}

/// `r` on a shop in a shop list.
fn open_reassign(app: &mut App) {
    let Some(d) = app.modals.detail() else {
        return;
    };
    let Some(&idx) = d.rows.get(d.list.selected) else {
        app.say(text::SELECT_SHOP, true);
        return;
    };
    let Some(shop) = app.fleet.shops.get(idx as usize) else {
        return;
    };
    let dialog = ReassignDialog::new(&app.fleet, shop);
    app.modals.push(Modal::Reassign(dialog));
}

fn on_reassign_action(app: &mut App, action: Action) -> Vec<Effect> {
    let Some(r) = app.modals.reassign_mut() else {
        return Vec::new();
    };
    match action {
        Action::Quit => return quit(app),
        Action::Back => {
            app.modals.pop();
        }
        Action::Down => r.cursor = (r.cursor + 1).min(r.candidates.len().saturating_sub(1)),
        Action::Up => r.cursor = r.cursor.saturating_sub(1),
        Action::Choose => r.toggle(),
        Action::Confirm => {
            let broken = crate::domain::placement::check_move(&app.fleet, &r.shop, &r.chosen);
            if r.chosen == r.shop.shopsets {
                app.say(text::CHOOSE_OTHER, true);
            } else if let Some(b) = broken.first() {
                app.say(format!("refused: {b}"), true);
            } else if let Some(access) = app.access {
                let mutation = Mutation::Reassign {
                    shop: r.shop.name.clone(),
                    from: r.shop.shopsets.clone(),
                    to: r.chosen.clone(),
                };
                app.modals.pop();
                app.busy = true;
                app.say(format!("moving: {}", mutation.summary()), false);
                return vec![Effect::Execute {
                    access,
                    mutation: Box::new(mutation),
                    notes: None,
                }];
            }
        }
        _ => {}
    }
    Vec::new()
}

/// `s` and `b`: the confirmation dialog for the selected tier (in the guide: the next tier).
fn open_confirm(app: &mut App, action: Action) {
    if app.busy || app.progress.is_some() {
        let what = app
            .progress
            .as_ref()
            .map(|p| format!("'{}' is still rolling out", p.tier))
            .unwrap_or_else(|| "a change is being pushed".into());
        app.say(format!("wait: {what}"), true);
        return;
    }
    let tier = if app.modals.guide().is_some() {
        let rows = guide(&app.fleet, app.now, &app.policy, &app.operator);
        let tier = match action {
            Action::Rollback => rows
                .iter()
                .find(|r| matches!(r.state, GuideState::Failed { .. }))
                .map(|r| r.tier.clone()),
            _ => next_action(&rows).map(|r| r.tier.clone()),
        };
        if tier.is_none() && action == Action::Rollback {
            app.say(text::NO_FAILED_TIER, false);
            return;
        }
        tier
    } else if app.focus == PaneId::Tiers {
        app.selected_key(PaneId::Tiers)
    } else {
        app.say(text::SELECT_TIER, true);
        return;
    };
    let Some(tier) = tier else {
        app.say(text::NOTHING_TO_PROMOTE, false);
        return;
    };
    let action = match action {
        Action::Rollback => ReleaseAction::Rollback,
        _ => ReleaseAction::Step,
    };
    let dialog = ConfirmDialog::open(&app.fleet, action, &tier, &app.judge());
    app.modals.push(Modal::Confirm(dialog));
}

fn on_confirm_action(app: &mut App, action: Action) -> Vec<Effect> {
    let Some(dialog) = app.modals.dialog() else {
        return Vec::new();
    };
    match action {
        Action::Quit => quit(app),
        Action::Confirm => match (dialog.confirmed(&app.fleet, &app.judge()), app.access) {
            (Ok(mutation), Some(access)) => {
                app.modals.pop();
                app.busy = true;
                let notes = Some(app.notes.clone()).filter(|n| !n.trim().is_empty());
                app.say(format!("pushing: {}", mutation.summary()), false);
                vec![Effect::Execute {
                    access,
                    mutation: Box::new(mutation),
                    notes,
                }]
            }
            (Ok(_), None) => {
                app.modals.pop();
                Vec::new()
            }
            (Err(why), _) => {
                if dialog.refused.is_some() {
                    app.modals.pop();
                }
                app.say(why, true);
                Vec::new()
            }
        },
        _ => {
            app.modals.pop();
            Vec::new()
        }
    }
}

fn set_filter(app: &mut App, target: FilterTarget, text: String) {
    match target {
        FilterTarget::Pane(p) => {
            let state = app.pane_mut(p);
            state.filter = text;
            state.offset = 0;
            let key = app.selected_key(p);
            app.pane_mut(p).selected = key;
            ensure_visible(app, p);
        }
        FilterTarget::Detail => {
            if let Some(d) = app.modals.detail_mut() {
                d.set_filter(&app.fleet, text);
            }
        }
    }
}

fn focus(app: &mut App, pane: PaneId) {
    app.focus = pane;
    let key = app.selected_key(pane);
    app.pane_mut(pane).selected = key;
    update_scope(app);
}

/// Selecting a cluster or a tier highlights what belongs to it elsewhere.
fn update_scope(app: &mut App) {
    let key = app.selected_key(app.focus);
    match (app.focus, key) {
        (PaneId::Clusters, Some(k)) => app.scope = Some(Scope::Cluster(k)),
        (PaneId::Tiers, Some(k)) => app.scope = Some(Scope::Tier(k)),
        _ => {}
    }
}

fn page(app: &App) -> usize {
    if let Some(d) = app.modals.detail() {
        return d.page_rows(app.size);
    }
    let areas = layout::main(app.size);
    panes::page_rows(areas.pane(app.focus).height)
}

fn move_by(app: &mut App, delta: isize) {
    let size = app.size;
    if let Some(d) = app.modals.detail_mut() {
        let page = d.page_rows(size);
        d.move_by(delta, page);
        return;
    }
    let pane = app.focus;
    let keys = app.keys_of(pane);
    if keys.is_empty() {
        return;
    }
    let current = app
        .pane(pane)
        .selected
        .as_ref()
        .and_then(|k| keys.iter().position(|x| x == k))
        .unwrap_or(0);
    let next = (current as isize)
        .saturating_add(delta)
        .clamp(0, keys.len() as isize - 1) as usize;
    app.pane_mut(pane).selected = Some(keys[next].clone());
    ensure_visible(app, pane);
    update_scope(app);
}

fn ensure_visible(app: &mut App, pane: PaneId) {
    let keys = app.keys_of(pane);
    let idx = app
        .pane(pane)
        .selected
        .as_ref()
        .and_then(|k| keys.iter().position(|x| x == k))
        .unwrap_or(0);
    let page = panes::page_rows(layout::main(app.size).pane(pane).height);
    let state = app.pane_mut(pane);
    if idx < state.offset {
        state.offset = idx;
    } else if idx >= state.offset + page {
        state.offset = idx + 1 - page;
    }
    state.offset = state.offset.min(keys.len().saturating_sub(page));
}

fn clamp_all(app: &mut App) {
    for p in PaneId::ALL {
        ensure_visible(app, p);
    }
}

fn open_detail(app: &mut App) {
    let Some(key) = app.selected_key(app.focus) else {
        return;
    };
    let target = match app.focus {
        PaneId::Clusters => DetailTarget::Cluster(key),
        PaneId::Tiers => DetailTarget::Tier(key),
        PaneId::ShopSets => DetailTarget::ShopSet(key),
        PaneId::Apps => DetailTarget::App(key),
        PaneId::Alerts => DetailTarget::Alert(key),
    };
    app.modals
        .push(Modal::Detail(Detail::open(target, &app.fleet)));
}
