//! The dialogs' side of `update`: opening the release confirmation, the drain plan and the
//! reassign dialog, and what their keys do. Only a confirmed dialog of a console with write
//! access yields a mutating effect.

use crate::domain::Alert;
use crate::domain::release::{GuideState, guide, next_action};
use crate::ops::executor::permits;
use crate::ops::{Capability, Mutation};
use crate::ui::app::{App, Effect};
use crate::ui::detail::DetailTarget;
use crate::ui::dialogs::confirm::ReleaseAction;
use crate::ui::dialogs::{
    ConfirmDialog, ExpireDialog, PlanDialog, QuitDialog, ReassignDialog, SilenceDialog,
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
    match permits(&app.denied, needs) {
        Ok(()) => true,
        Err(e) => {
            app.say(format!("✗ {e}"), true);
            false
        }
    }
}

/// Closes the dialog and runs the confirmed `mutation`, saying what `doing` says of it meanwhile.
fn run(
    app: &mut App,
    access: crate::ops::access::WriteAccess,
    mutation: Mutation,
    doing: fn(&Mutation) -> String,
    notes: Option<String>,
) -> Vec<Effect> {
    app.modals.pop();
    app.busy = true;
    app.say(doing(&mutation), false);
    vec![Effect::Execute {
        access,
        mutation: Box::new(mutation),
        notes,
    }]
}

/// `d` and `u` on a cluster: the plan, shown before anything moves.
pub(super) fn open_plan(app: &mut App, action: Action) {
    if !permitted(app, crate::ops::drain::PLAN_NEEDS) {
        return;
    }
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

pub(super) fn on_plan_action(app: &mut App, action: Action) -> Vec<Effect> {
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
pub(super) fn open_reassign(app: &mut App) {
    if !permitted(app, &[Capability::Lock, Capability::Placement]) {
        return;
    }
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

pub(super) fn on_reassign_action(app: &mut App, action: Action) -> Vec<Effect> {
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
                app.say(text::refused(&b), true);
            } else if let Some(access) = app.access {
                let mutation = Mutation::Reassign {
                    shop: r.shop.name.clone(),
                    from: r.shop.shopsets.clone(),
                    to: r.chosen.clone(),
                    tier_change: false,
                };
                return run(app, access, mutation, text::moving, None);
            }
        }
        _ => {}
    }
    Vec::new()
}

/// The alert the operator points at: the alert detail's, else the Alerts pane's selection.
fn selected_alert(app: &App) -> Option<Alert> {
    let key = match app.modals.detail() {
        Some(d) => match &d.target {
            DetailTarget::Alert(k) => Some(k.clone()),
            _ => None,
        },
        None if app.focus == PaneId::Alerts => app.selected_key(PaneId::Alerts),
        None => None,
    }?;
    app.fleet
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
            let labels = &app.fleet.scope_labels;
            let start = match &app.scope {
                Some(Scope::Cluster(c)) => format!("{}=\"{c}\"", labels.cluster),
                Some(Scope::Tier(t)) => format!("{}=\"{t}\"", labels.tier),
                None => String::new(),
            };
            SilenceDialog::blank(&start)
        }
    };
    app.modals.push(Modal::Silence(dialog));
}

pub(super) fn on_silence_action(app: &mut App, action: Action) -> Vec<Effect> {
    let Some(d) = app.modals.silence_mut() else {
        return Vec::new();
    };
    match action {
        Action::Quit => return quit(app),
        Action::Back => {
            app.modals.pop();
        }
        Action::NextField => d.next_field(),
        Action::Confirm => match (d.parsed(), app.access) {
            (Ok(input), Some(access)) => {
                let mutation = Mutation::Silence {
                    matchers: input.matchers,
                    duration_secs: input.duration_secs,
                    comment: input.comment,
                };
                return run(app, access, mutation, text::silencing, None);
            }
            (Ok(_), None) => {
                app.modals.pop();
            }
            (Err(why), _) => app.say(format!("✗ {why}"), true),
        },
        _ => {}
    }
    Vec::new()
}

/// `E`: the silences that may be expired, the selected alert's first.
pub(super) fn open_expire(app: &mut App) {
    let alert = selected_alert(app);
    let dialog = ExpireDialog::open(&app.fleet, alert.as_ref());
    if dialog.ids.is_empty() {
        app.say(text::NOTHING_TO_EXPIRE, false);
        return;
    }
    app.modals.push(Modal::Expire(dialog));
}

pub(super) fn on_expire_action(app: &mut App, action: Action) -> Vec<Effect> {
    let Some(d) = app.modals.expire_mut() else {
        return Vec::new();
    };
    match action {
        Action::Quit => return quit(app),
        Action::Back => {
            app.modals.pop();
        }
        Action::Down => d.cursor = (d.cursor + 1).min(d.ids.len().saturating_sub(1)),
        Action::Up => d.cursor = d.cursor.saturating_sub(1),
        Action::Confirm => {
            let silence = d
                .selected()
                .and_then(|id| app.fleet.silences.iter().find(|s| s.id == id));
            match (silence, app.access) {
                (Some(s), Some(access)) => {
                    let mutation = Mutation::ExpireSilence {
                        id: s.id.clone(),
                        matchers: s.matchers.clone(),
                    };
                    return run(app, access, mutation, text::silencing, None);
                }
                (_, None) => {
                    app.modals.pop();
                }
                (None, _) => {
                    app.modals.pop();
                    app.say(text::NOTHING_TO_EXPIRE, false);
                }
            }
        }
        _ => {}
    }
    Vec::new()
}

/// `s` and `b`: the confirmation dialog for the selected tier (in the guide: the next tier).
pub(super) fn open_confirm(app: &mut App, action: Action) {
    if !permitted(app, &[Capability::Lock]) {
        return;
    }
    if app.busy || app.progress.is_some() {
        let msg = text::busy(app.progress.as_ref().map(|p| p.tier.as_str()));
        app.say(msg, true);
        return;
    }
    let tier = if app.modals.guide().is_some() {
        let rows = guide(&app.fleet, app.now, &app.policy, &app.session);
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

pub(super) fn on_confirm_action(app: &mut App, action: Action) -> Vec<Effect> {
    let Some(dialog) = app.modals.dialog() else {
        return Vec::new();
    };
    match action {
        Action::Quit => quit(app),
        Action::Confirm => match (dialog.confirmed(&app.fleet, &app.judge()), app.access) {
            (Ok(mutation), Some(access)) => {
                let notes = Some(app.notes.clone()).filter(|n| !n.trim().is_empty());
                run(app, access, mutation, text::pushing, notes)
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

/// Quit, unless a drain runs: then ask first.
pub(super) fn quit(app: &mut App) -> Vec<Effect> {
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
