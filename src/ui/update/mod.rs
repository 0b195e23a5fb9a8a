//! The one place the console's state changes: `update(app, msg)`. Keys go where the modal stack
//! says (`keys`, `dialogs`); data batches refresh what depends on them; effects go back to the
//! main loop.

mod dialogs;
mod keys;

use crossterm::event::KeyEventKind;

use super::app::{App, Effect, Msg};
use super::dialogs::confirm::Judge;
use super::text;
use crate::backends::SourceEvent;
use crate::domain::release::{Progress, ProgressState};
use crate::ops::{Done, Mutation, OpsError};

/// Applies one message. Returns the effects for the main loop; sets `app.view.dirty` when the screen
/// must be drawn again.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Tick(now) => {
            if app.data.tick(now) {
                app.view.dirty = true;
            }
            if app.view.toast.as_ref().is_some_and(|t| t.until <= now) {
                app.view.toast = None;
                app.view.dirty = true;
            }
            // Soak countdowns (Tiers pane, guide, dialog) move every second.
            let soaking = app.data.fleet.tiers.iter().any(|t| {
                crate::domain::release::settled_at(&app.data.fleet, t)
                    .is_some_and(|at| at.secs_until(now) <= i64::from(t.soak_secs) + 1)
            });
            if soaking || app.view.modals.guide().is_some() || app.view.modals.dialog().is_some() {
                app.view.dirty = true;
            }
            follow_gate(app);
            if crate::ui::wall::on_tick(app) {
                app.view.dirty = true;
            }
            Vec::new()
        }
        Msg::Executed { mutation, result } => on_executed(app, mutation, result),
        Msg::DrainProgress { done, total } => {
            if app.op.drain_progress(done, total) {
                app.view.dirty = true;
            }
            Vec::new()
        }
        Msg::DrainDone(result) => {
            let run = app.op.drain_run.take();
            if app.view.modals.quit().is_some() {
                app.view.modals.pop();
            }
            let kind = run.map(|r| r.kind);
            match result {
                Ok(r) => app.say(text::drain_done(kind, &r), r.stopped_early()),
                Err(e) => app.say(text::drain_failed(kind, &e.to_string()), true),
            }
            Vec::new()
        }
        Msg::Resize(w, h) => {
            app.view.size = ratatui::layout::Rect::new(0, 0, w, h);
            keys::clamp_all(app);
            app.view.dirty = true;
            Vec::new()
        }
        // The main loop stops a running drain after its batch and reports it.
        Msg::Terminate(_) => vec![Effect::Quit],
        Msg::Notice { text, bad } => {
            app.say(text, bad);
            Vec::new()
        }
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
            keys::on_key(app, key)
        }
        Msg::Paste(text) => {
            keys::on_paste(app, &text);
            Vec::new()
        }
    }
}

/// Derived facts are recomputed once per batch, not once per event; a followed step may have
/// finished.
fn after_sources(app: &mut App) -> Vec<Effect> {
    if !app.view.dirty {
        return Vec::new();
    }
    app.data.fleet.refresh();
    if let Some(d) = app.view.modals.detail_mut() {
        d.refresh(&app.data.fleet);
    }
    follow_gate(app);
    if let Some(d) = app.view.modals.plan_mut() {
        d.refresh(&app.data.fleet);
    }
    if !app.data.drains_checked && !app.data.fleet.shops.is_empty() {
        app.data.drains_checked = true;
        let left = crate::domain::drains::unfinished_drains(&app.data.fleet);
        if let Some(d) = left.first() {
            app.say_for(text::unfinished_drain(d, app.readonly()), true, 120);
        }
    }
    let Some(p) = &app.op.progress else {
        return Vec::new();
    };
    match p.state(&app.data.fleet) {
        ProgressState::Done => {
            let msg = text::progress_done(p);
            app.op.progress = None;
            app.say(msg, false);
            vec![Effect::Unlock]
        }
        ProgressState::Failed(why) => {
            let (msg, banner) = text::progress_failed(p, &why);
            app.op.failed_step = Some(banner);
            app.op.progress = None;
            app.say(msg, true);
            vec![Effect::Unlock]
        }
        ProgressState::Superseded { .. } => {
            let msg = text::progress_superseded(p);
            app.op.progress = None;
            app.say(msg, true);
            vec![Effect::Unlock]
        }
        ProgressState::Waiting | ProgressState::Syncing { .. } => Vec::new(),
    }
}

/// An open release dialog judges its change again on the fleet as it is now.
fn follow_gate(app: &mut App) {
    let judge = Judge {
        now: app.data.now,
        policy: &app.session.policy,
        me: &app.session.id,
    };
    if let Some(d) = app.view.modals.dialog_mut() {
        d.evaluate(&app.data.fleet, &judge);
        app.view.dirty = true;
    }
}

/// How long a release pushed with a warning keeps it in the footer.
const WARNING_SECS: i64 = 30;

fn on_executed(
    app: &mut App,
    mutation: Box<Mutation>,
    result: Result<Done, OpsError>,
) -> Vec<Effect> {
    app.op.busy = false;
    app.view.dirty = true;
    match (result, mutation.is_release()) {
        (Ok(done), true) => {
            let commit = done.commit.clone().unwrap_or_default();
            match done.warnings.first() {
                None => app.say(text::pushed(&commit, &done.summary), false),
                Some(w) => app.say_for(
                    // The warning first: a narrow footer cuts the end.
                    format!("⚠ {w} · {}", text::pushed(&commit, &done.summary)),
                    true,
                    WARNING_SECS,
                ),
            }
            let tier = mutation.subject().to_string();
            app.op.progress = Some(Progress {
                before: app.data.fleet.tier(&tier).and_then(|t| t.head.clone()),
                tier,
                commit,
                since: app.data.now,
                rollback: matches!(*mutation, Mutation::Rollback { .. }),
            });
            app.op.failed_step = None;
        }
        (Ok(_), false) if matches!(*mutation, Mutation::Notes { .. }) => {
            app.say(text::NOTES_SAVED, false);
        }
        (Ok(_), false) => app.say(text::moved(&mutation), false),
        (Err(e @ (OpsError::AlreadyThere { .. } | OpsError::AlreadyDone(_))), _) => {
            app.say(e.to_string(), false)
        }
        (Err(e), true) if e.is_race() || e.is_refusal() => {
            app.say(text::race(&e.to_string()), true);
        }
        (Err(e), _) => app.say(format!("✗ {e}"), true),
    }
    Vec::new()
}

fn on_source(app: &mut App, ev: SourceEvent) {
    if app.data.on_source(ev) {
        app.view.dirty = true;
    }
}
