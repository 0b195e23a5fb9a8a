//! Keys: the action the key table gives in the current context, applied to the views, the
//! filter and the selection; text for the field that has the keys otherwise.

use crossterm::event::KeyEvent;
use tui_textarea::TextArea;

use super::dialogs::{self, quit};
use crate::ui::app::{App, Effect};
use crate::ui::detail::{Detail, DetailTarget};
use crate::ui::guide::Guide;
use crate::ui::keymap::{self, Action, Context};
use crate::ui::modal::{FilterInput, Modal};
use crate::ui::panes;
use crate::ui::state::{FilterTarget, PaneId, Scope};
use crate::ui::text;

pub(super) fn on_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let ctx = app.context();
    // The wall screen: its own view keys, then quit, help, the sources view and redraw; the
    // panes it does not show take no keys.
    if app.view.wall.is_some() && ctx == Context::Main {
        if crate::ui::wall::on_key(app, key) {
            return Vec::new();
        }
        if !matches!(
            keymap::action_for(key, ctx, true),
            Some(Action::Quit | Action::Help | Action::Sources | Action::Redraw)
        ) {
            return Vec::new();
        }
    }
    let Some(action) = keymap::action_for(key, ctx, app.readonly()) else {
        // A key that changes the fleet in a read-write console: say why nothing happens.
        if app.readonly() && keymap::action_for(key, ctx, false).is_some() {
            app.say(text::READ_ONLY_REFUSED, true);
            return Vec::new();
        }
        return type_text(app, key);
    };
    app.view.dirty = true;
    match ctx {
        Context::Main
        | Context::Detail
        | Context::Help
        | Context::Guide
        | Context::Sources
        | Context::Messages => on_view_action(app, ctx, action),
        // ctrl-c quits while typing too, as everywhere.
        Context::Notes | Context::Filter if action == Action::Quit => quit(app),
        Context::Notes => stop_notes(app),
        Context::Filter => on_filter_action(app, action),
        Context::Confirm
        | Context::Plan
        | Context::Reassign
        | Context::Silence
        | Context::Expire => dialogs::on_dialog_action(app, action),
        // Their keys are looked up by the wall and the player themselves.
        Context::Wall | Context::Replay => Vec::new(),
        Context::Quit => match action {
            Action::Confirm => vec![Effect::Quit],
            _ => {
                app.view.modals.pop();
                Vec::new()
            }
        },
    }
}

/// Pasted text: into the field that has the keys (one line where the field has one line);
/// without a text field, nothing — a paste never acts like keys.
pub(super) fn on_paste(app: &mut App, text: &str) {
    // Terminals send a pasted line break as CR (tmux, most), CRLF or LF.
    let text = &text.replace("\r\n", "\n").replace('\r', "\n");
    let one_line = crate::domain::printable(text);
    let typed = match app.view.modals.top_mut() {
        Some(Modal::Guide(g)) if g.editing => g.notes.insert_str(text),
        Some(Modal::Confirm(d)) => d.reason.as_mut().is_some_and(|ta| ta.insert_str(&one_line)),
        Some(Modal::Decide(d)) => d.reason.as_mut().is_some_and(|ta| ta.insert_str(&one_line)),
        Some(Modal::Plan(d)) => d.typed.insert_str(one_line.trim()),
        Some(Modal::Silence(d)) => d.paste(text),
        Some(Modal::Filter(input)) => {
            let changed = input.textarea.insert_str(&one_line);
            let target = input.target;
            let text = input.textarea.lines().first().cloned().unwrap_or_default();
            set_filter(app, target, text);
            changed
        }
        _ => false,
    };
    if typed {
        app.view.dirty = true;
    }
}

/// A key no binding claims: text for the field that has the keys, if any.
fn type_text(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let typed = match app.view.modals.top_mut() {
        Some(Modal::Guide(g)) if g.editing => g.notes.input(key),
        Some(Modal::Confirm(d)) => d.reason.as_mut().is_some_and(|ta| ta.input(key)),
        Some(Modal::Decide(d)) => d.reason.as_mut().is_some_and(|ta| ta.input(key)),
        Some(Modal::Plan(d)) => d.typed.input(key),
        Some(Modal::Silence(d)) => d.input(key),
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
        app.view.dirty = true;
    }
    Vec::new()
}

fn on_view_action(app: &mut App, ctx: Context, action: Action) -> Vec<Effect> {
    match action {
        Action::Quit => return quit(app),
        Action::Redraw => return vec![Effect::ClearScreen],
        Action::Help if ctx == Context::Help => {
            app.view.modals.pop();
        }
        Action::Help => app.view.modals.push(Modal::Help(0)),
        Action::Sources if ctx == Context::Sources => {
            app.view.modals.pop();
        }
        Action::Sources => app.view.modals.push(Modal::Sources),
        Action::Messages if ctx == Context::Messages => {
            app.view.modals.pop();
        }
        Action::Messages => app.view.modals.push(Modal::Messages(0)),
        Action::Step | Action::Rollback => dialogs::open_confirm(app, action),
        Action::Halt | Action::Approve | Action::ClearFailed => dialogs::open_decide(app, action),
        Action::Drain | Action::Restore => dialogs::open_plan(app, action),
        Action::Reassign => dialogs::open_reassign(app),
        Action::Silence => dialogs::open_silence(app),
        Action::Unsilence => dialogs::open_expire(app),
        Action::FindShop => app.view.modals.push(Modal::Detail(Detail::open(
            DetailTarget::AllShops,
            &app.data.fleet,
        ))),
        Action::Cancel => {
            if let Some(r) = &mut app.op.drain_run {
                r.cancelling = true;
                return vec![Effect::CancelDrain];
            }
            app.say(text::NO_DRAIN, false);
        }
        Action::Guide => app
            .view
            .modals
            .push(Modal::Guide(Guide::new(&app.view.notes))),
        Action::EditNotes => {
            if let Some(g) = app.view.modals.guide_mut() {
                g.editing = true;
            }
        }
        Action::Back => back(app),
        Action::NextPane => focus(app, app.view.focus.next()),
        Action::PrevPane => focus(app, app.view.focus.prev()),
        Action::FocusPane(p) => focus(app, p),
        Action::Up | Action::Down if matches!(ctx, Context::Help | Context::Messages) => {
            // The messages scroll no further than their last.
            let last = u16::try_from(app.view.said.len().saturating_sub(1)).unwrap_or(u16::MAX);
            let messages = ctx == Context::Messages;
            if let Some(Modal::Help(scroll) | Modal::Messages(scroll)) = app.view.modals.top_mut() {
                *scroll = if action == Action::Up {
                    scroll.saturating_sub(1)
                } else if messages {
                    scroll.saturating_add(1).min(last)
                } else {
                    scroll.saturating_add(1).min(app.view.help_end.get())
                };
            }
        }
        Action::PageUp | Action::PageDown if ctx == Context::Help => {
            let page = app.view.size.height.saturating_sub(4).max(1);
            let end = app.view.help_end.get();
            if let Some(Modal::Help(scroll)) = app.view.modals.top_mut() {
                *scroll = if action == Action::PageUp {
                    scroll.saturating_sub(page)
                } else {
                    scroll.saturating_add(page).min(end)
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
        // Dialogs', the wall's and the replay's keys: never given in a view.
        Action::Confirm
        | Action::Choose
        | Action::AcceptDegraded
        | Action::NextField
        | Action::NextView
        | Action::PrevView
        | Action::ShowView(_)
        | Action::Pause
        | Action::Forward
        | Action::Backward
        | Action::LongForward
        | Action::LongBackward
        | Action::Faster
        | Action::Slower => {}
    }
    Vec::new()
}

/// `esc`: close the top layer, else dismiss a failed step, else clear the filter, else the
/// highlight.
fn back(app: &mut App) {
    if let Some(m) = app.view.modals.pop() {
        if let Modal::Guide(g) = m {
            app.view.notes = g.text();
        }
    } else if app.op.failed_step.take().is_some() {
    } else if !app.pane(app.view.focus).filter.is_empty() {
        let focus = app.view.focus;
        app.pane_mut(focus).filter.clear();
    } else {
        app.view.scope = None;
    }
}

/// `esc` while writing notes: stop, and save them if they changed.
fn stop_notes(app: &mut App) -> Vec<Effect> {
    let Some(g) = app.view.modals.guide_mut() else {
        return Vec::new();
    };
    g.editing = false;
    let text = g.text();
    app.view.notes = text.clone();
    if text != g.saved
        && let Some(access) = app.session.access
    {
        g.saved = text.clone();
        return vec![Effect::SaveNotes { access, text }];
    }
    Vec::new()
}

fn open_filter(app: &mut App) {
    let target = if app.view.modals.detail().is_some() {
        FilterTarget::Detail
    } else {
        FilterTarget::Pane(app.view.focus)
    };
    let current = match target {
        FilterTarget::Detail => app
            .view
            .modals
            .detail()
            .map(|d| d.list.filter.clone())
            .unwrap_or_default(),
        FilterTarget::Pane(p) => app.pane(p).filter.clone(),
    };
    let mut textarea = TextArea::new(vec![current]);
    textarea.move_cursor(tui_textarea::CursorMove::End);
    app.view
        .modals
        .push(Modal::Filter(FilterInput { textarea, target }));
}

fn on_filter_action(app: &mut App, action: Action) -> Vec<Effect> {
    let Some(Modal::Filter(input)) = app.view.modals.pop() else {
        return Vec::new();
    };
    if action == Action::Back {
        set_filter(app, input.target, String::new());
    }
    Vec::new()
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
            if let Some(d) = app.view.modals.detail_mut() {
                d.set_filter(&app.data.fleet, text);
            }
        }
    }
}

fn focus(app: &mut App, pane: PaneId) {
    app.view.focus = pane;
    let key = app.selected_key(pane);
    app.pane_mut(pane).selected = key;
    update_scope(app);
}

/// Selecting a cluster or a tier highlights what belongs to it elsewhere.
fn update_scope(app: &mut App) {
    let key = app.selected_key(app.view.focus);
    match (app.view.focus, key) {
        (PaneId::Clusters, Some(k)) => app.view.scope = Some(Scope::Cluster(k)),
        (PaneId::Tiers, Some(k)) => app.view.scope = Some(Scope::Tier(k)),
        _ => {}
    }
}

fn page(app: &App) -> usize {
    if let Some(d) = app.view.modals.detail() {
        return d.page_rows(app.view.size);
    }
    panes::page_rows(app.areas().pane(app.view.focus).height)
}

fn move_by(app: &mut App, delta: isize) {
    let size = app.view.size;
    if let Some(d) = app.view.modals.detail_mut() {
        let page = d.page_rows(size);
        d.move_by(delta, page);
        return;
    }
    let pane = app.view.focus;
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
    let page = panes::page_rows(app.areas().pane(pane).height);
    let state = app.pane_mut(pane);
    if idx < state.offset {
        state.offset = idx;
    } else if idx >= state.offset + page {
        state.offset = idx + 1 - page;
    }
    state.offset = state.offset.min(keys.len().saturating_sub(page));
}

pub(super) fn clamp_all(app: &mut App) {
    for p in PaneId::ALL {
        ensure_visible(app, p);
    }
}

fn open_detail(app: &mut App) {
    let Some(key) = app.selected_key(app.view.focus) else {
        return;
    };
    let target = match app.view.focus {
        PaneId::Clusters => DetailTarget::Cluster(key),
        PaneId::Tiers => DetailTarget::Tier(key),
        PaneId::ShopSets => DetailTarget::ShopSet(key),
        PaneId::Apps => DetailTarget::App(key),
        PaneId::Alerts => DetailTarget::Alert(key),
    };
    app.view
        .modals
        .push(Modal::Detail(Detail::open(target, &app.data.fleet)));
}
