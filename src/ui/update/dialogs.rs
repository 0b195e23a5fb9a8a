//! The dialogs' side of `update`: opening them (from what the operator has selected), and
//! carrying out what a dialog's own `on_action` says its key did. Only a confirmed dialog of a
//! console with write access yields a mutating effect.

use crate::domain::Alert;
use crate::domain::release::{GuideState, guide, next_action};
use crate::ops::Capability;
use crate::ops::executor::permits;
use crate::ui::app::{App, Effect};
use crate::ui::detail::DetailTarget;
use crate::ui::dialogs::confirm::ReleaseAction;
use crate::ui::dialogs::{
    ConfirmDialog, DecideDialog, ExpireDialog, Outcome, PlanDialog, QuitDialog, ReassignDialog,
    SilenceDialog,
};
use crate::ui::keymap::Action;
use crate::ui::modal::Modal;
use crate::ui::panes::alerts::alert_key;
use crate::ui::placement::DrainRun;
use crate::ui::state::{PaneId, Scope};
use crate::ui::text;

/// Whether this session may make the writes `needs`; when not, says which it may not make and
/// no dialog opens (the same refusal the executor would give after the confirmation).
fn permitted(app: &mut App, needs: &[Capability]) -> bool {
    match permits(&app.session.denied, needs) {
        Ok(()) => true,
        Err(e) => {
            app.say(format!("✗ {e}"), true);
            false
        }
    }
}

/// A key of the open dialog: the dialog says what it did, and this carries it out.
pub(super) fn on_dialog_action(app: &mut App, action: Action) -> Vec<Effect> {
    let judge = crate::ui::dialogs::confirm::Judge {
        now: app.data.now,
        policy: &app.session.policy,
        me: &app.session.id,
    };
    let fleet = &app.data.fleet;
    let outcome = match app.view.modals.top_mut() {
        Some(Modal::Plan(d)) => d.on_action(action, fleet),
        Some(Modal::Reassign(d)) => d.on_action(action, fleet),
        Some(Modal::Silence(d)) => d.on_action(action),
        Some(Modal::Expire(d)) => d.on_action(action, fleet),
        Some(Modal::Confirm(d)) => d.on_action(action, fleet, &judge),
        Some(Modal::Decide(d)) => d.on_action(action),
        _ => Outcome::Stay,
    };
    carry_out(app, outcome)
}

/// Does what a dialog's outcome asks. Only a console with write access runs anything.
fn carry_out(app: &mut App, outcome: Outcome) -> Vec<Effect> {
    match outcome {
        Outcome::Stay => {}
        Outcome::Refuse(why) => app.say(why, true),
        Outcome::Close(said) => {
            app.view.modals.pop();
            if let Some((text, bad)) = said {
                app.say(text, bad);
            }
        }
        Outcome::Quit => return quit(app),
        Outcome::Run {
            mutation,
            doing,
            notes,
        } => {
            app.view.modals.pop();
            let Some(access) = app.session.access else {
                return Vec::new();
            };
            app.op.busy = true;
            app.say(doing, false);
            let notes = notes
                .then(|| app.view.notes.clone())
                .filter(|n| !n.trim().is_empty());
            return vec![Effect::Execute {
                access,
                mutation: Box::new(mutation),
                notes,
            }];
        }
        Outcome::RunPlan {
            kind,
            cluster,
            drain,
            plan,
        } => {
            app.view.modals.pop();
            let Some(access) = app.session.access else {
                return Vec::new();
            };
            app.op.drain_run = Some(DrainRun {
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
    }
    Vec::new()
}

/// One operation at a time: while this console pushes a change or follows a release step (it
/// holds the lock until the step settles), no other dialog opens only to be refused.
fn idle(app: &mut App) -> bool {
    if app.op.busy || app.op.progress.is_some() {
        let msg = text::busy(app.op.progress.as_ref().map(|p| p.tier.as_str()));
        app.say(msg, true);
        return false;
    }
    true
}

/// `d` and `u` on a cluster: the plan, shown before anything moves.
pub(super) fn open_plan(app: &mut App, action: Action) {
    if !permitted(app, crate::ops::drain::PLAN_NEEDS) || !idle(app) {
        return;
    }
    if app.op.drain_run.is_some() {
        app.say(text::DRAIN_RUNNING, true);
        return;
    }
    if app.view.focus != PaneId::Clusters {
        app.say(text::SELECT_CLUSTER, true);
        return;
    }
    let Some(cluster) = app.selected_key(PaneId::Clusters) else {
        return;
    };
    let existing = app
        .data
        .fleet
        .cluster(&cluster)
        .and_then(|c| c.drain.clone());
    let dialog = match action {
        Action::Restore => {
            let Some(id) = existing else {
                app.say(text::nothing_to_restore(&cluster), true);
                return;
            };
            PlanDialog::restore(&app.data.fleet, &cluster, id)
        }
        _ => {
            let id = crate::ops::drain::drain_id(&cluster, existing.as_deref(), app.data.now);
            PlanDialog::drain(&app.data.fleet, &cluster, id)
        }
    };
    app.view.modals.push(Modal::Plan(dialog));
}

/// `r` on a shop in a shop list.
pub(super) fn open_reassign(app: &mut App) {
    if !permitted(app, &[Capability::Lock, Capability::Placement]) || !idle(app) {
        return;
    }
    let Some(d) = app.view.modals.detail() else {
        return;
    };
    let Some(&idx) = d.rows.get(d.list.selected) else {
        app.say(text::SELECT_SHOP, true);
        return;
    };
    let Some(shop) = app.data.fleet.shops.get(idx as usize) else {
        return;
    };
    let dialog = ReassignDialog::new(&app.data.fleet, shop);
    app.view.modals.push(Modal::Reassign(dialog));
}

/// The alert the operator points at: the alert detail's, else the Alerts pane's selection.
fn selected_alert(app: &App) -> Option<Alert> {
    let key = match app.view.modals.detail() {
        Some(d) => match &d.target {
            DetailTarget::Alert(k) => Some(k.clone()),
            _ => None,
        },
        None if app.view.focus == PaneId::Alerts => app.selected_key(PaneId::Alerts),
        None => None,
    }?;
    app.data
        .fleet
        .alerts
        .iter()
        .find(|a| alert_key(a) == key)
        .cloned()
}

/// `S`: the silence dialog — for the selected alert, its matchers taken from its labels;
/// otherwise from scratch (ahead of maintenance), starting from the highlighted cluster or tier.
pub(super) fn open_silence(app: &mut App) {
    let dialog = match selected_alert(app) {
        Some(alert) => SilenceDialog::for_alert(&alert),
        None => {
            let labels = &app.data.fleet.scope_labels;
            let start = match &app.view.scope {
                Some(Scope::Cluster(c)) => format!("{}=\"{c}\"", labels.cluster),
                Some(Scope::Tier(t)) => format!("{}=\"{t}\"", labels.tier),
                None => String::new(),
            };
            SilenceDialog::blank(&start)
        }
    };
    app.view.modals.push(Modal::Silence(dialog));
}

/// `E`: the silences that may be expired, the selected alert's first.
pub(super) fn open_expire(app: &mut App) {
    let alert = selected_alert(app);
    let dialog = ExpireDialog::open(&app.data.fleet, alert.as_ref());
    if dialog.ids.is_empty() {
        app.say(text::NOTHING_TO_EXPIRE, false);
        return;
    }
    app.view.modals.push(Modal::Expire(dialog));
}

/// The release guide's rows as this console computes them now.
fn guide_rows(app: &App) -> Vec<crate::domain::release::GuideRow> {
    guide(
        &app.data.fleet,
        app.data.now,
        &app.session.policy,
        &app.session.id,
    )
}

/// `s` and `b`: the confirmation dialog for the selected tier (in the guide: the next tier).
pub(super) fn open_confirm(app: &mut App, action: Action) {
    if !permitted(app, &[Capability::Lock]) || !idle(app) {
        return;
    }
    let tier = if app.view.modals.guide().is_some() {
        let rows = guide_rows(app);
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
    } else if app.view.focus == PaneId::Tiers {
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
    let dialog = ConfirmDialog::open(&app.data.fleet, action, &tier, &app.judge());
    app.view.modals.push(Modal::Confirm(dialog));
}

/// `H`, `a`, `C`: a decision about releases. A halt needs no operator lock: it opens while
/// this console follows a step (only not while it writes one).
pub(super) fn open_decide(app: &mut App, action: Action) {
    let needs = match action {
        Action::Approve => {
            // Which of the two depends on the state; either is refused without both rights
            // only when the session may make neither.
            let may = |c| permits(&app.session.denied, &[c]).is_ok();
            if may(Capability::Request) || may(Capability::Approve) {
                &[][..]
            } else {
                &[Capability::Approve][..]
            }
        }
        _ => &[Capability::Halt][..],
    };
    if !permitted(app, needs) {
        return;
    }
    if app.op.busy {
        let msg = text::busy(None);
        app.say(msg, true);
        return;
    }
    let tier = if app.view.modals.guide().is_some() {
        let rows = guide_rows(app);
        match action {
            Action::ClearFailed => rows
                .iter()
                .find(|r| {
                    app.data
                        .fleet
                        .controls
                        .failed
                        .iter()
                        .any(|f| f.tier == r.tier)
                })
                .map(|r| r.tier.clone()),
            _ => next_action(&rows).map(|r| r.tier.clone()),
        }
    } else if app.view.focus == PaneId::Tiers {
        app.selected_key(PaneId::Tiers)
    } else {
        None
    };
    let fleet = &app.data.fleet;
    let dialog = match (action, tier) {
        (Action::Halt, tier) => DecideDialog::halt_or_resume(fleet, tier.as_deref()),
        (Action::ClearFailed, Some(t)) => DecideDialog::clear(fleet, &t),
        (Action::Approve, Some(t)) => DecideDialog::approval(fleet, &t, &app.session.identity),
        (_, None) => {
            app.say(text::SELECT_TIER, true);
            return;
        }
        _ => return,
    };
    app.view.modals.push(Modal::Decide(dialog));
}

/// Quit, unless a drain runs: then ask first.
pub(super) fn quit(app: &mut App) -> Vec<Effect> {
    match &app.op.drain_run {
        Some(run) if app.view.modals.quit().is_none() => {
            let dialog = QuitDialog {
                kind: run.kind,
                cluster: run.cluster.clone(),
            };
            app.view.modals.push(Modal::Quit(dialog));
            Vec::new()
        }
        _ => vec![Effect::Quit],
    }
}
