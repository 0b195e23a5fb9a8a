//! The console's plain state types, shared by `App`, the panes and the views: which pane, what is
//! highlighted, what a list shows, how fresh the data is.

use ratatui::layout::Rect;

use crate::domain::release::GatePolicy;
use crate::domain::{Fleet, Ts};

/// What drawing a view needs besides its own state.
pub struct View<'a> {
    pub fleet: &'a Fleet,
    pub now: Ts,
    pub policy: &'a GatePolicy,
    /// Who is operating (the gate's lock condition).
    pub me: &'a str,
    pub size: Rect,
    /// The console cannot change the fleet: views offer no key that would.
    pub readonly: bool,
    /// Every source's freshness and last error.
    pub sources: &'a crate::domain::freshness::Sources,
}

/// The panes of the main screen, in focus order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaneId {
    Clusters,
    Tiers,
    ShopSets,
    Apps,
    Alerts,
}

impl PaneId {
    pub const ALL: [PaneId; 5] = [
        PaneId::Clusters,
        PaneId::Tiers,
        PaneId::ShopSets,
        PaneId::Apps,
        PaneId::Alerts,
    ];

    /// The pane a number key focuses (`1` is Clusters).
    pub fn numbered(key: char) -> Option<PaneId> {
        match key {
            '1' => Some(PaneId::Clusters),
            '2' => Some(PaneId::Tiers),
            '3' => Some(PaneId::ShopSets),
            '4' => Some(PaneId::Apps),
            '5' => Some(PaneId::Alerts),
            _ => None,
        }
    }

    /// The number key that focuses the pane, as its title shows it.
    pub fn number(self) -> u8 {
        match self {
            PaneId::Clusters => 1,
            PaneId::Tiers => 2,
            PaneId::ShopSets => 3,
            PaneId::Apps => 4,
            PaneId::Alerts => 5,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            PaneId::Clusters => "Clusters",
            PaneId::Tiers => "Tiers",
            PaneId::ShopSets => "ShopSets",
            PaneId::Apps => "Argo CD",
            PaneId::Alerts => "Alerts",
        }
    }

    pub fn next(self) -> PaneId {
        match self {
            PaneId::Clusters => PaneId::Tiers,
            PaneId::Tiers => PaneId::ShopSets,
            PaneId::ShopSets => PaneId::Apps,
            PaneId::Apps => PaneId::Alerts,
            PaneId::Alerts => PaneId::Clusters,
        }
    }

    pub fn prev(self) -> PaneId {
        match self {
            PaneId::Clusters => PaneId::Alerts,
            PaneId::Tiers => PaneId::Clusters,
            PaneId::ShopSets => PaneId::Tiers,
            PaneId::Apps => PaneId::ShopSets,
            PaneId::Alerts => PaneId::Apps,
        }
    }
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

/// A short message in the footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub text: String,
    pub bad: bool,
    pub until: Ts,
}

/// Seconds between views by default.
pub const ROTATE_DEFAULT: u64 = crate::limits::WALL_ROTATE_SECS;

/// One of the wall screen's views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WallView {
    Ladder,
    Map,
    Alerts,
}

impl WallView {
    pub const ALL: [WallView; 3] = [WallView::Ladder, WallView::Map, WallView::Alerts];

    pub fn title(self) -> &'static str {
        match self {
            WallView::Ladder => "RELEASE",
            WallView::Map => "FAILURE DOMAINS",
            WallView::Alerts => "ALERTS",
        }
    }
}

/// Which view shows and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WallState {
    /// Seconds each view shows when they do not all fit; 0 never rotates.
    pub rotate_secs: u64,
    pub view: usize,
    /// When the current view came up (set on the first tick).
    pub since: Option<Ts>,
    /// The wall's own help is open until then (it closes by itself).
    pub help_until: Option<Ts>,
}

impl Default for WallState {
    fn default() -> Self {
        WallState::rotating(ROTATE_DEFAULT)
    }
}

impl WallState {
    pub fn rotating(secs: u64) -> WallState {
        WallState {
            rotate_secs: secs,
            view: 0,
            since: None,
            help_until: None,
        }
    }

    pub fn current(&self) -> WallView {
        WallView::ALL[self.view % WallView::ALL.len()]
    }

    /// Seconds until the next view, when rotating.
    pub fn next_in(&self, now: Ts) -> Option<i64> {
        let since = self.since?;
        (self.rotate_secs > 0).then(|| {
            i64::try_from(self.rotate_secs).unwrap_or(i64::MAX) - since.secs_until(now).abs()
        })
    }

    /// Moves `by` views on (back when negative), from `now`.
    pub fn step(&mut self, by: isize, now: Ts) {
        let n = WallView::ALL.len() as isize;
        self.view = ((self.view as isize + by).rem_euclid(n)) as usize;
        self.since = Some(now);
    }
}

/// Whether this session is being recorded (what the header says of it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Recording {
    /// Not asked for (`--no-record`, a replay, a test).
    #[default]
    Off,
    On,
    /// Asked for, and cannot be written (a full disk, an unwritable state directory).
    Stopped,
}

/// What the header shows of a replay.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayView {
    /// The recording's file name.
    pub name: String,
    pub speed: f64,
    pub paused: bool,
    /// Every recorded message has been replayed.
    pub ended: bool,
    /// How long the recording is, in milliseconds.
    pub len_ms: u64,
    /// The recording's last line was cut off (its number).
    pub cut_off: Option<usize>,
    /// The player's keys are shown (`?`), over the recorded screen.
    #[doc(hidden)]
    pub keys_shown: bool,
}
