//! The console's state: one `App`, owned by the main loop and changed only in
//! `update`; the messages it reacts to and the effects it asks for.

use std::collections::HashMap;

use crossterm::event::KeyEvent;
use ratatui::layout::Rect;

use super::dialogs::confirm::Judge;
use super::keymap::Context;
use super::modal::Modals;
use super::panes;
use super::placement::{DrainRun, PlanKind};
pub use super::state::{FilterTarget, ListState, PaneId, Scope, Toast};
use crate::backends::{SourceEvent, SourceInfo};
pub use crate::domain::freshness::Freshness;
use crate::domain::freshness::Sources;
use crate::domain::placement::DrainPlan;
use crate::domain::release::{GatePolicy, Progress};
use crate::domain::{Fleet, Ts};
use crate::ops::access::WriteAccess;
use crate::ops::drain::DrainReport;
use crate::ops::{Done, Mutation, OpsError};

/// Why the console is told to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Ending {
    /// SIGTERM.
    Terminate,
    /// SIGINT.
    Interrupt,
    /// SIGHUP: the terminal (an SSH session) is gone.
    Hangup,
    /// The terminal cannot be read any more.
    TerminalGone,
}

/// Everything that can happen to the console.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    /// Text pasted into the terminal (bracketed paste): text for the field that has the keys,
    /// never keys.
    Paste(String),
    Resize(u16, u16),
    Source(SourceEvent),
    /// Several source events that arrived together, applied as one batch.
    Sources(Vec<SourceEvent>),
    /// The clock moved on (sent about once a second).
    Tick(Ts),
    /// SIGTERM, SIGHUP or the like: leave cleanly.
    Terminate(Ending),
    /// Something the effect runner has to say (no executor, the lock lost).
    Notice {
        text: String,
        bad: bool,
    },
    /// A drain or restore made progress.
    DrainProgress {
        done: usize,
        total: usize,
    },
    /// A drain or restore ended.
    DrainDone(Result<DrainReport, OpsError>),
    /// A mutation finished (or failed) in the executor.
    Executed {
        mutation: Box<Mutation>,
        result: Result<Done, OpsError>,
    },
}

/// Work for the main loop that `update` cannot do itself. The variants that change the fleet
/// carry a [`WriteAccess`], so a read-only console cannot produce them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Leave the console (a running drain stops after its current batch).
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
    SaveNotes { access: WriteAccess, text: String },
}

/// How long a footer message stays.
const TOAST_SECS: i64 = 8;

/// How many footer messages the messages view keeps.
const SAID_KEPT: usize = 100;

/// A footer message as it was said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    pub at: Ts,
    pub text: String,
    pub bad: bool,
}

/// The console's state, in four parts, each with what changes it: what the sources say
/// (`data`, changed by source events and the clock), how this console runs (`session`, set when
/// it starts), what the operator sees (`view`, changed by keys and resizes), and the operation
/// this console runs or follows (`op`, changed by what the operations report).
pub struct App {
    pub data: Data,
    pub session: Session,
    pub view: ViewState,
    pub op: Running,
}

/// What the sources say, and when.
pub struct Data {
    pub fleet: Fleet,
    pub now: Ts,
    /// Freshness and the last error of every source.
    pub sources: Sources,
    /// Unfinished drains were looked for once the whole fleet arrived.
    pub drains_checked: bool,
}

impl Data {
    pub fn freshness(&self) -> Freshness {
        self.sources.freshness(self.now)
    }

    /// What the header shows that depends on the clock alone.
    pub fn clock_view(&self) -> (String, Freshness) {
        (self.now.hhmm(), self.freshness())
    }

    /// What a source says. Returns whether anything shown changed.
    pub fn on_source(&mut self, ev: SourceEvent) -> bool {
        match ev {
            SourceEvent::Update(u) => {
                if let crate::domain::FleetUpdate::ClusterRemoved(name) = &u {
                    self.sources
                        .remove(&crate::domain::freshness::SourceId::Cluster(name.clone()));
                }
                self.fleet.apply(u);
                true
            }
            SourceEvent::Heartbeat { source, at } => {
                let before = self.clock_view();
                self.sources.ok(source, at) || self.clock_view() != before
            }
            SourceEvent::Loading { source, progress } => self.sources.loading(source, progress),
            SourceEvent::Problem { source, message } => {
                self.sources.problem(source, message, self.now)
            }
        }
    }

    /// The clock moved on. Returns whether the header changed.
    pub fn tick(&mut self, now: Ts) -> bool {
        let before = self.clock_view();
        self.now = now;
        self.clock_view() != before
    }
}

impl Running {
    /// A drain's or restore's progress. Returns whether it is shown.
    pub fn drain_progress(&mut self, done: usize, total: usize) -> bool {
        match &mut self.drain_run {
            Some(r) => {
                r.done = done;
                r.total = total;
                true
            }
            None => false,
        }
    }
}

/// How this console runs: who operates it, against what, with which rights.
pub struct Session {
    pub info: SourceInfo,
    /// Who is operating (lock holder, commit author, audit).
    pub operator: String,
    /// Present when this console may change the fleet; `None` makes it read-only.
    pub access: Option<WriteAccess>,
    /// This console's lock session, when it can write.
    pub id: String,
    /// Who this session is to approvals (the API server's identity in live mode), when known.
    pub identity: String,
    /// The release policy the gate applies (from the backend's configuration).
    pub policy: GatePolicy,
    /// Writes this session's credentials may not make (live mode): the dialogs needing them do
    /// not open.
    pub denied: Vec<crate::ops::Denial>,
    /// This console replays a recording (what the header says about it).
    pub replay: Option<super::state::ReplayView>,
    /// Whether this session is being recorded.
    pub recording: super::state::Recording,
}

/// What the operator sees: focus, selections, the layers over the panes, the footer's words.
pub struct ViewState {
    pub focus: PaneId,
    panes: HashMap<PaneId, ListState>,
    pub scope: Option<Scope>,
    /// Detail, guide, help, filter entry and dialogs over the panes; the top one has the keys.
    pub modals: Modals,
    pub size: Rect,
    /// Something visible changed since the last draw.
    pub dirty: bool,
    /// The guide's notes, kept while the guide is closed.
    pub notes: String,
    pub toast: Option<Toast>,
    /// The footer's messages so far, newest last (the messages view shows them in full).
    pub said: std::collections::VecDeque<Said>,
    /// The wall-screen layout (read-only, rotating views), when `--wall` runs it.
    pub wall: Option<super::state::WallState>,
    /// How far help scrolls at most, as last drawn (scrolling stops there).
    pub help_end: std::cell::Cell<u16>,
    /// The panes' column widths, kept while rows scroll by.
    pub steady: super::panes::SteadyWidths,
}

/// The operation this console runs, or the release step it follows.
#[derive(Default)]
pub struct Running {
    /// The step or rollback this console pushed, followed until it settles.
    pub progress: Option<Progress>,
    /// A mutation is running.
    pub busy: bool,
    /// The last step this console followed failed: shown until rolled back or dismissed.
    pub failed_step: Option<String>,
    pub drain_run: Option<DrainRun>,
}

impl App {
    pub fn new(info: SourceInfo, access: Option<WriteAccess>, now: Ts, size: Rect) -> App {
        App {
            data: Data {
                fleet: Fleet::new(info.fleet.clone()),
                now,
                sources: {
                    let mut s = Sources::default();
                    s.expect(crate::domain::freshness::SourceId::ControlPlane);
                    s
                },
                drains_checked: false,
            },
            session: Session {
                info,
                operator: crate::ops::operator(),
                access,
                id: String::new(),
                identity: String::new(),
                policy: GatePolicy::default(),
                denied: Vec::new(),
                replay: None,
                recording: Default::default(),
            },
            view: ViewState {
                focus: PaneId::Clusters,
                panes: PaneId::ALL
                    .iter()
                    .map(|p| (*p, ListState::default()))
                    .collect(),
                scope: None,
                modals: Modals::default(),
                size,
                dirty: true,
                notes: String::new(),
                toast: None,
                said: std::collections::VecDeque::new(),
                help_end: std::cell::Cell::new(u16::MAX),
                steady: Default::default(),
                wall: None,
            },
            op: Running::default(),
        }
    }

    /// Nothing in this console can change the fleet.
    pub fn readonly(&self) -> bool {
        self.session.access.is_none()
    }

    pub fn say(&mut self, text: impl Into<String>, bad: bool) {
        self.say_for(text, bad, TOAST_SECS);
    }

    /// A footer message that stays `secs` seconds.
    pub fn say_for(&mut self, text: impl Into<String>, bad: bool, secs: i64) {
        let text = text.into();
        if self.view.said.back().is_none_or(|s| s.text != text) {
            if self.view.said.len() == SAID_KEPT {
                self.view.said.pop_front();
            }
            self.view.said.push_back(Said {
                at: self.data.now,
                text: text.clone(),
                bad,
            });
        }
        self.view.toast = Some(Toast {
            text,
            bad,
            until: self.data.now.plus_secs(secs),
        });
        self.view.dirty = true;
    }

    pub fn pane(&self, pane: PaneId) -> &ListState {
        static EMPTY: std::sync::OnceLock<ListState> = std::sync::OnceLock::new();
        self.view
            .panes
            .get(&pane)
            .unwrap_or_else(|| EMPTY.get_or_init(ListState::default))
    }

    pub(super) fn pane_mut(&mut self, pane: PaneId) -> &mut ListState {
        self.view.panes.entry(pane).or_default()
    }

    /// What the release dialogs are judged with, besides the fleet.
    pub fn judge(&self) -> Judge<'_> {
        Judge {
            now: self.data.now,
            policy: &self.session.policy,
            me: &self.session.id,
        }
    }

    /// Where keys go now.
    pub fn context(&self) -> Context {
        self.view.modals.context()
    }

    pub fn freshness(&self) -> Freshness {
        self.data.freshness()
    }

    /// The problems sources report now, as `source: message`.
    /// An unreachable cluster is shown in the Clusters pane and the header's freshness; the
    /// footer keeps its keys for it.
    pub fn problem(&self) -> Option<String> {
        let all: Vec<String> = self
            .data
            .sources
            .iter()
            .filter(|(id, _)| !matches!(id, crate::domain::freshness::SourceId::Cluster(_)))
            .filter_map(|(id, s)| s.error.as_ref().map(|e| format!("{id}: {e}")))
            .collect();
        (!all.is_empty()).then(|| all.join(" · "))
    }

    /// Some source has answered at least once.
    pub fn has_data(&self) -> bool {
        self.data.sources.iter().any(|(_, s)| s.last_ok.is_some())
    }

    /// The keys of a pane's visible rows.
    /// Where the main view's panes are now (the Alerts pane as tall as its rows need).
    pub fn areas(&self) -> super::layout::MainAreas {
        super::layout::main(
            self.view.size,
            panes::alert_rows(&self.data.fleet, &self.pane(PaneId::Alerts).filter),
        )
    }

    pub fn keys_of(&self, pane: PaneId) -> Vec<String> {
        panes::keys_of(&self.data.fleet, pane, &self.pane(pane).filter)
    }

    /// The selected row's key in a pane, defaulting to the first row.
    pub fn selected_key(&self, pane: PaneId) -> Option<String> {
        let keys = self.keys_of(pane);
        let sel = self.pane(pane).selected.clone();
        sel.filter(|k| keys.contains(k))
            .or_else(|| keys.first().cloned())
    }
}
