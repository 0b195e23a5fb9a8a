//! The console's state and the one place it changes: `update(msg)`.

use std::collections::HashMap;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};
use ratatui::layout::Rect;
use tui_textarea::TextArea;

use super::detail::{Detail, DetailTarget};
use super::keymap::{self, Action, Context};
use super::layout;
use super::panes::{self, PaneId};
use super::placement::{DrainRun, PlanDialog, PlanKind, ReassignDialog};
use super::release::{ConfirmDialog, Guide, Progress, ProgressState};
use crate::domain::placement::DrainPlan;
use crate::domain::{Fleet, Ts};
use crate::ops::access::WriteAccess;
use crate::ops::drain::DrainReport;
use crate::ops::{Done, Mutation};
use crate::sources::{SourceEvent, SourceInfo};

/// Everything that can happen to the console.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Resize(u16, u16),
    Source(SourceEvent),
    /// Several source events that arrived together, applied as one batch.
    Sources(Vec<SourceEvent>),
    /// The clock moved on (sent about once a second).
    Tick(Ts),
    /// SIGTERM, SIGHUP or the like: leave cleanly.
    Terminate(&'static str),
    /// A drain or restore made progress.
    DrainProgress {
        done: usize,
        total: usize,
    },
    /// A drain or restore ended.
    DrainDone(Result<DrainReport, String>),
    /// A mutation finished (or failed) in the executor.
    Executed {
        mutation: Box<Mutation>,
        result: Result<Done, String>,
        race: bool,
    },
}

/// Work for the main loop that `update` cannot do itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Quit,
    /// Throw away what the terminal shows and draw everything again.
    ClearScreen,
    /// Run a confirmed mutation.
    Execute {
        access: WriteAccess,
        mutation: Box<Mutation>,
        notes: Option<String>,
    },
    /// Give the operator lock back.
    Unlock,
    /// Execute a confirmed drain or restore plan.
    RunPlan {
        access: WriteAccess,
        kind: PlanKind,
        plan: Box<DrainPlan>,
        drain: String,
    },
    /// Stop the running drain after its current batch.
    CancelDrain,
    /// Append the release guide's notes to the audit log.
    SaveNotes {
        access: WriteAccess,
        text: String,
    },
}

/// The cluster or tier whose ShopSets, apps and alerts the other panes highlight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Cluster(String),
    Tier(String),
}

impl Scope {
    pub fn pane(&self) -> PaneId {
        match self {
            Scope::Cluster(_) => PaneId::Clusters,
            Scope::Tier(_) => PaneId::Tiers,
        }
    }

    pub fn label(&self) -> String {
        match self {
            Scope::Cluster(c) => format!("cluster {c}"),
            Scope::Tier(t) => format!("tier {t}"),
        }
    }
}

/// Selection, scroll position and filter of one list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListState {
    /// Key of the selected row; survives reordering and data updates.
    pub selected: Option<String>,
    pub offset: usize,
    pub filter: String,
}

/// Where typed filter text goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterTarget {
    Pane(PaneId),
    Detail,
}

pub struct FilterInput {
    pub textarea: TextArea<'static>,
    pub target: FilterTarget,
}

/// How current the data is, as the header shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    Connecting,
    Live,
    Stale { secs: i64 },
}

/// Data older than this is shown as stale.
pub const STALE_AFTER_SECS: i64 = 5;
/// How long a footer message stays.
const TOAST_SECS: i64 = 8;

/// A short message in the footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub text: String,
    pub bad: bool,
    pub until: Ts,
}

pub struct App {
    pub fleet: Fleet,
    /// Who is operating (lock holder, commit author, audit).
    pub operator: String,
    pub info: SourceInfo,
    /// Present when this console may change the fleet; `None` makes it read-only.
    pub access: Option<WriteAccess>,
    pub focus: PaneId,
    panes: HashMap<PaneId, ListState>,
    pub scope: Option<Scope>,
    pub detail: Option<Detail>,
    pub help: bool,
    pub input: Option<FilterInput>,
    pub now: Ts,
    pub last_heartbeat: Option<Ts>,
    /// The last problem a source reported, until it reads again.
    pub problem: Option<String>,
    pub size: Rect,
    /// Something visible changed since the last draw.
    pub dirty: bool,
    pub dialog: Option<ConfirmDialog>,
    pub guide: Option<Guide>,
    /// The guide's notes, kept while the guide is closed.
    pub notes: String,
    pub toast: Option<Toast>,
    /// The step or rollback this console pushed, followed until it settles.
    pub progress: Option<Progress>,
    /// A mutation is running.
    pub busy: bool,
    /// The last step this console followed failed: shown until rolled back or dismissed.
    pub failed_step: Option<String>,
    pub plan_dialog: Option<PlanDialog>,
    pub reassign: Option<ReassignDialog>,
    pub drain_run: Option<DrainRun>,
    /// First line of the help shown (the help scrolls on small terminals).
    pub help_scroll: u16,
}

impl App {
    pub fn new(info: SourceInfo, access: Option<WriteAccess>, now: Ts, size: Rect) -> App {
        App {
            fleet: Fleet::new(info.fleet.clone()),
            info,
            access,
            focus: PaneId::Clusters,
            panes: PaneId::ALL
                .iter()
                .map(|p| (*p, ListState::default()))
                .collect(),
            scope: None,
            detail: None,
            help: false,
            input: None,
            now,
            last_heartbeat: None,
            problem: None,
            size,
            dirty: true,
            operator: crate::ops::operator(),
            dialog: None,
            guide: None,
            notes: String::new(),
            toast: None,
            progress: None,
            busy: false,
            failed_step: None,
            plan_dialog: None,
            reassign: None,
            drain_run: None,
            help_scroll: 0,
        }
    }

    /// Nothing in this console can change the fleet.
    pub fn readonly(&self) -> bool {
        self.access.is_none()
    }

    pub fn say(&mut self, text: impl Into<String>, bad: bool) {
        self.toast = Some(Toast {
            text: text.into(),
            bad,
            until: self.now.plus_secs(TOAST_SECS),
        });
        self.dirty = true;
    }

    pub fn pane(&self, pane: PaneId) -> &ListState {
        static EMPTY: std::sync::OnceLock<ListState> = std::sync::OnceLock::new();
        self.panes
            .get(&pane)
            .unwrap_or_else(|| EMPTY.get_or_init(ListState::default))
    }

    fn pane_mut(&mut self, pane: PaneId) -> &mut ListState {
        self.panes.entry(pane).or_default()
    }

    pub fn context(&self) -> Context {
        if self.help {
            Context::Help
        } else if self.guide.is_some() {
            Context::Guide
        } else if self.detail.is_some() {
            Context::Detail
        } else {
            Context::Main
        }
    }

    pub fn freshness(&self) -> Freshness {
        match self.last_heartbeat {
            None => Freshness::Connecting,
            Some(t) => {
                let secs = t.secs_until(self.now);
                if secs <= STALE_AFTER_SECS && self.problem.is_none() {
                    Freshness::Live
                } else {
                    Freshness::Stale { secs }
                }
            }
        }
    }

    /// What the header shows that depends on the clock alone.
    fn clock_view(&self) -> (String, Freshness) {
        (self.now.hhmm(), self.freshness())
    }

    /// The selected row's key in a pane, defaulting to the first row.
    pub fn selected_key(&self, pane: PaneId) -> Option<String> {
        let keys = panes::keys_of(self, pane);
        let sel = self.pane(pane).selected.clone();
        sel.filter(|k| keys.contains(k))
            .or_else(|| keys.first().cloned())
    }
}

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
            if soaking || app.guide.is_some() || app.dialog.is_some() {
                app.dirty = true;
            }
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
            let verb = if run.as_ref().is_some_and(|r| r.kind == PlanKind::Restore) {
                "restore"
            } else {
                "drain"
            };
            match result {
                Ok(r) => {
                    let skipped = if r.skipped.is_empty() {
                        String::new()
                    } else {
                        format!(", {} skipped (moved meanwhile)", r.skipped.len())
                    };
                    let state = if r.cancelled { "cancelled" } else { "done" };
                    app.say(
                        format!(
                            "{verb} {state}: {} shops moved{skipped}",
                            r.moved + r.already
                        ),
                        r.cancelled,
                    );
                }
                Err(e) => app.say(
                    format!("✗ {verb} stopped: {e}; run it again to continue"),
                    true,
                ),
            }
            Vec::new()
        }
        Msg::Resize(w, h) => {
            app.size = Rect::new(0, 0, w, h);
            clamp_all(app);
            app.dirty = true;
            Vec::new()
        }
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
    if let Some(d) = &mut app.detail {
        d.refresh(&app.fleet);
    }
    let Some(p) = &app.progress else {
        return Vec::new();
    };
    let verb = if p.rollback {
        "rollback of"
    } else {
        "step into"
    };
    match p.state(&app.fleet) {
        ProgressState::Done => {
            let text = format!(
                "✓ {verb} '{}' done: every ShopSet Synced and Healthy",
                p.tier
            );
            app.progress = None;
            app.say(text, false);
            vec![Effect::Unlock]
        }
        ProgressState::Failed(why) => {
            let text = format!(
                "✗ {verb} '{}' failed: {why}; press b on the tier to roll back",
                p.tier
            );
            app.failed_step = Some(format!(
                "✗ {verb} '{}' failed: {why} — b rolls back, esc dismisses",
                p.tier
            ));
            app.progress = None;
            app.say(text, true);
            vec![Effect::Unlock]
        }
        _ => Vec::new(),
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
            app.progress = Some(Progress {
                tier: mutation.tier().to_string(),
                commit: done.commit.clone(),
                since: app.now,
                rollback: matches!(*mutation, Mutation::Rollback { .. }),
            });
            app.failed_step = None;
            app.say(
                format!(
                    "pushed {}: {}",
                    &done.commit[..done.commit.len().min(7)],
                    done.summary
                ),
                false,
            );
            Vec::new()
        }
        Err(e) if race => {
            app.say(
                format!("{e}. The gate is evaluated again: press s to review."),
                true,
            );
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
    if app.input.is_some() {
        on_input_key(app, key);
        return Vec::new();
    }
    if app.dialog.is_some() {
        return on_dialog_key(app, key);
    }
    if app.plan_dialog.is_some() {
        return on_plan_key(app, key);
    }
    if app.help {
        match key.code {
            KeyCode::Char('j') | KeyCode::Down => {
                app.help_scroll = app.help_scroll.saturating_add(1);
                app.dirty = true;
                return Vec::new();
            }
            KeyCode::Char('k') | KeyCode::Up => {
                app.help_scroll = app.help_scroll.saturating_sub(1);
                app.dirty = true;
                return Vec::new();
            }
            _ => {}
        }
    }
    if app.reassign.is_some() {
        return on_reassign_key(app, key);
    }
    if let Some(g) = &mut app.guide
        && g.editing
    {
        app.dirty = true;
        if key.code == KeyCode::Esc {
            g.editing = false;
            let text = g.text();
            app.notes = text.clone();
            if text != g.saved
                && let Some(access) = app.access
            {
                g.saved = text.clone();
                return vec![Effect::SaveNotes { access, text }];
            }
        } else {
            g.notes.input(key);
        }
        return Vec::new();
    }
    let Some(action) = keymap::action_for(key, app.context(), app.readonly()) else {
        return Vec::new();
    };
    app.dirty = true;
    match action {
        Action::Quit => return vec![Effect::Quit],
        Action::Redraw => return vec![Effect::ClearScreen],
        Action::Help => app.help = !app.help,
        Action::Step | Action::Rollback => open_dialog(app, action),
        Action::Drain | Action::Restore => open_plan(app, action),
        Action::Reassign => open_reassign(app),
        Action::FindShop => app.detail = Some(Detail::open(DetailTarget::AllShops, &app.fleet)),
        Action::Cancel => {
            if let Some(r) = &mut app.drain_run {
                r.cancelling = true;
                return vec![Effect::CancelDrain];
            }
            app.say("no drain is running", false);
        }
        Action::Guide => app.guide = Some(Guide::new(&app.notes)),
        Action::EditNotes => {
            if let Some(g) = &mut app.guide {
                g.editing = true;
            }
        }
        Action::Back => {
            if app.help {
                app.help = false;
            } else if let Some(g) = app.guide.take() {
                app.notes = g.text();
            } else if app.detail.is_some() {
                app.detail = None;
            } else if app.failed_step.take().is_some() {
            } else if !app.pane(app.focus).filter.is_empty() {
                let focus = app.focus;
                app.pane_mut(focus).filter.clear();
            } else {
                app.scope = None;
            }
        }
        Action::NextPane => focus(app, app.focus.next()),
        Action::PrevPane => focus(app, app.focus.prev()),
        Action::FocusPane(i) => focus(app, PaneId::ALL[i.min(PaneId::ALL.len() - 1)]),
        Action::Up => move_by(app, -1),
        Action::Down => move_by(app, 1),
        Action::PageUp => move_by(app, -(page(app) as isize)),
        Action::PageDown => move_by(app, page(app) as isize),
        Action::Top => move_by(app, isize::MIN / 2),
        Action::Bottom => move_by(app, isize::MAX / 2),
        Action::Open => open_detail(app),
        Action::Filter => {
            let target = if app.detail.is_some() {
                FilterTarget::Detail
            } else {
                FilterTarget::Pane(app.focus)
            };
            let current = match target {
                FilterTarget::Detail => app
                    .detail
                    .as_ref()
                    .map(|d| d.list.filter.clone())
                    .unwrap_or_default(),
                FilterTarget::Pane(p) => app.pane(p).filter.clone(),
            };
            let mut textarea = TextArea::new(vec![current]);
            textarea.move_cursor(tui_textarea::CursorMove::End);
            app.input = Some(FilterInput { textarea, target });
        }
    }
    Vec::new()
}

/// `d` and `u` on a cluster: the plan, shown before anything moves.
fn open_plan(app: &mut App, action: Action) {
    if app.drain_run.is_some() {
        app.say("wait: a drain is running (x cancels it)", true);
        return;
    }
    if app.focus != PaneId::Clusters {
        app.say("select a cluster in the Clusters pane (1) first", true);
        return;
    }
    let Some(cluster) = app.selected_key(PaneId::Clusters) else {
        return;
    };
    let existing = app.fleet.cluster(&cluster).and_then(|c| c.drain.clone());
    app.plan_dialog = Some(match action {
        Action::Restore => {
            let Some(id) = existing else {
                app.say(format!("cluster '{cluster}' has no drain to restore"), true);
                return;
            };
            PlanDialog::restore(&app.fleet, &cluster, id)
        }
        _ => {
            let id = crate::ops::drain::drain_id(&cluster, existing.as_deref(), app.now);
            PlanDialog::drain(&app.fleet, &cluster, id)
        }
    });
}

fn on_plan_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let Some(d) = &mut app.plan_dialog else {
        return Vec::new();
    };
    app.dirty = true;
    match key.code {
        KeyCode::Esc => {
            app.plan_dialog = None;
            app.say("cancelled: nothing moved", false);
        }
        KeyCode::Char('c')
            if key
                .modifiers
                .contains(crossterm::event::KeyModifiers::CONTROL) =>
        {
            return vec![Effect::Quit];
        }
        KeyCode::Tab => d.toggle_accept(&app.fleet),
        KeyCode::Down => d.offset += 1,
        KeyCode::Up => d.offset = d.offset.saturating_sub(1),
        KeyCode::PageDown => d.offset += 10,
        KeyCode::PageUp => d.offset = d.offset.saturating_sub(10),
        KeyCode::Enter => match (d.confirmed(), app.access) {
            (Ok(plan), Some(access)) => {
                let (kind, cluster, drain) = (d.kind, d.cluster.clone(), d.drain.clone());
                app.plan_dialog = None;
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
            (Ok(_), None) => app.plan_dialog = None,
            (Err(why), _) => app.say(why, true),
        },
        _ => {
            d.typed.input(key);
        }
    }
    Vec::new()
}

/// `r` on a shop in a shop list.
fn open_reassign(app: &mut App) {
    let Some(d) = &app.detail else { return };
    let Some(&idx) = d.rows.get(d.list.selected) else {
        app.say("select a shop first", true);
        return;
    };
    let Some(shop) = app.fleet.shops.get(idx as usize) else {
        return;
    };
    app.reassign = Some(ReassignDialog::new(&app.fleet, shop));
}

fn on_reassign_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let Some(r) = &mut app.reassign else {
        return Vec::new();
    };
    app.dirty = true;
    match key.code {
        KeyCode::Esc => app.reassign = None,
        KeyCode::Char('j') | KeyCode::Down => {
            r.cursor = (r.cursor + 1).min(r.candidates.len().saturating_sub(1))
        }
        KeyCode::Char('k') | KeyCode::Up => r.cursor = r.cursor.saturating_sub(1),
        KeyCode::Char(' ') => r.toggle(),
        KeyCode::Enter => {
            let broken = crate::domain::placement::check_move(&app.fleet, &r.shop, &r.chosen);
            if r.chosen == r.shop.shopsets {
                app.say("choose other ShopSets with space first", true);
            } else if let Some(b) = broken.first() {
                app.say(format!("refused: {b}"), true);
            } else if let Some(access) = app.access {
                let mutation = Mutation::Reassign {
                    shop: r.shop.name.clone(),
                    from: r.shop.shopsets.clone(),
                    to: r.chosen.clone(),
                };
                app.reassign = None;
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
fn open_dialog(app: &mut App, action: Action) {
    if app.busy || app.progress.is_some() {
        let what = app
            .progress
            .as_ref()
            .map(|p| format!("'{}' is still rolling out", p.tier))
            .unwrap_or_else(|| "a change is being pushed".into());
        app.say(format!("wait: {what}"), true);
        return;
    }
    let tier = if app.guide.is_some() {
        let rows = super::release::guide(&app.fleet, app.now, &app.operator);
        super::release::next_action(&rows).0.map(str::to_string)
    } else if app.focus == PaneId::Tiers {
        app.selected_key(PaneId::Tiers)
    } else {
        app.say("select a tier in the Tiers pane (2) first", true);
        return;
    };
    let Some(tier) = tier else {
        app.say("nothing left to promote", false);
        return;
    };
    app.dialog = Some(match action {
        Action::Rollback => ConfirmDialog::rollback(&app.fleet, &tier, app.now, &app.operator),
        _ => ConfirmDialog::step(&app.fleet, &tier, app.now, &app.operator),
    });
}

fn on_dialog_key(app: &mut App, key: KeyEvent) -> Vec<Effect> {
    let Some(dialog) = &mut app.dialog else {
        return Vec::new();
    };
    app.dirty = true;
    match key.code {
        KeyCode::Esc => {
            app.dialog = None;
            Vec::new()
        }
        KeyCode::Char('c')
            if key
                .modifiers
                .contains(crossterm::event::KeyModifiers::CONTROL) =>
        {
            vec![Effect::Quit]
        }
        KeyCode::Enter => match (dialog.confirmed(), app.access) {
            (Ok(mutation), Some(access)) => {
                app.dialog = None;
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
                app.dialog = None;
                Vec::new()
            }
            (Err(why), _) => {
                if dialog.refused.is_some() {
                    app.dialog = None;
                }
                app.say(why, true);
                Vec::new()
            }
        },
        _ => {
            if let Some(ta) = &mut dialog.reason {
                ta.input(key);
            }
            Vec::new()
        }
    }
}

fn on_input_key(app: &mut App, key: KeyEvent) {
    let Some(input) = &mut app.input else { return };
    app.dirty = true;
    let target = input.target;
    match key.code {
        KeyCode::Enter => {
            app.input = None;
            return;
        }
        KeyCode::Esc => {
            app.input = None;
            set_filter(app, target, String::new());
            return;
        }
        _ => {
            input.textarea.input(key);
        }
    }
    let text = input.textarea.lines().first().cloned().unwrap_or_default();
    set_filter(app, target, text);
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
            if let Some(d) = &mut app.detail {
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
    if let Some(d) = &app.detail {
        return d.page_rows(app.size);
    }
    let areas = layout::main(app.size);
    panes::page_rows(areas.pane(app.focus).height)
}

fn move_by(app: &mut App, delta: isize) {
    if let Some(d) = &mut app.detail {
        let page = d.page_rows(app.size);
        d.move_by(delta, page);
        return;
    }
    let pane = app.focus;
    let keys = panes::keys_of(app, pane);
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
    let keys = panes::keys_of(app, pane);
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
    app.detail = Some(Detail::open(target, &app.fleet));
}
