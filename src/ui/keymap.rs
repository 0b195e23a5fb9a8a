//! Every key shopctl understands — the console's views and dialogs, the wall screen and the
//! replay player — in one table of key events: dispatch looks keys up here, and the footer and
//! `?` help are drawn from it, so they cannot disagree. The `[keys]` section of the
//! configuration rebinds actions by name; a rebinding that would give one key two meanings in
//! one place is refused, naming both.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::state::PaneId;

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Help,
    /// Every source with its freshness and last error.
    Sources,
    /// The footer's messages, in full.
    Messages,
    NextPane,
    PrevPane,
    FocusPane(PaneId),
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    Filter,
    Redraw,
    /// Promote into the selected tier (or, in the guide, the next tier).
    Step,
    /// Roll the selected tier back.
    Rollback,
    /// Halt every promotion, or resume (the fleet, or the selected halted tier).
    Halt,
    /// Ask for, or give, a second person's approval of the next step into the selected tier.
    Approve,
    /// Offer a release that failed on the selected tier again.
    ClearFailed,
    Guide,
    EditNotes,
    /// Plan a drain of the selected cluster.
    Drain,
    /// Plan the restore of the selected (drained) cluster.
    Restore,
    /// Reassign the selected shop.
    Reassign,
    /// Search every shop of the fleet.
    FindShop,
    /// Cancel a running drain after its current batch.
    Cancel,
    /// Confirm the open dialog (or keep the typed filter).
    Confirm,
    /// Reassign dialog: choose or drop the ShopSet under the cursor.
    Choose,
    /// Drain plan: accept degraded redundancy for the blocked dual shops.
    AcceptDegraded,
    /// Silence the selected alert (Alerts pane, alert detail).
    Silence,
    /// Expire a silence (the selected alert's first).
    Unsilence,
    /// Silence dialog: the next field.
    NextField,
    /// The wall: the next, the previous, or the n-th view.
    NextView,
    PrevView,
    ShowView(u8),
    /// The replay: pause or go on.
    Pause,
    /// The replay: seek a little, or a long way.
    Forward,
    Backward,
    LongForward,
    LongBackward,
    /// The replay: play faster or slower.
    Faster,
    Slower,
}

impl Action {
    /// Every action, as the `[keys]` section names them.
    pub const NAMED: &'static [(&'static str, Action)] = &[
        ("quit", Action::Quit),
        ("help", Action::Help),
        ("sources", Action::Sources),
        ("messages", Action::Messages),
        ("next_pane", Action::NextPane),
        ("prev_pane", Action::PrevPane),
        ("pane_clusters", Action::FocusPane(PaneId::Clusters)),
        ("pane_tiers", Action::FocusPane(PaneId::Tiers)),
        ("pane_shopsets", Action::FocusPane(PaneId::ShopSets)),
        ("pane_argocd", Action::FocusPane(PaneId::Apps)),
        ("pane_alerts", Action::FocusPane(PaneId::Alerts)),
        ("up", Action::Up),
        ("down", Action::Down),
        ("page_up", Action::PageUp),
        ("page_down", Action::PageDown),
        ("top", Action::Top),
        ("bottom", Action::Bottom),
        ("open", Action::Open),
        ("back", Action::Back),
        ("filter", Action::Filter),
        ("redraw", Action::Redraw),
        ("step", Action::Step),
        ("rollback", Action::Rollback),
        ("halt", Action::Halt),
        ("approve", Action::Approve),
        ("clear_failed", Action::ClearFailed),
        ("guide", Action::Guide),
        ("edit_notes", Action::EditNotes),
        ("drain", Action::Drain),
        ("restore", Action::Restore),
        ("reassign", Action::Reassign),
        ("find_shop", Action::FindShop),
        ("cancel", Action::Cancel),
        ("confirm", Action::Confirm),
        ("choose", Action::Choose),
        ("accept_degraded", Action::AcceptDegraded),
        ("silence", Action::Silence),
        ("expire_silence", Action::Unsilence),
        ("next_field", Action::NextField),
        ("wall_next", Action::NextView),
        ("wall_prev", Action::PrevView),
        ("wall_ladder", Action::ShowView(0)),
        ("wall_map", Action::ShowView(1)),
        ("wall_alerts", Action::ShowView(2)),
        ("replay_pause", Action::Pause),
        ("replay_forward", Action::Forward),
        ("replay_backward", Action::Backward),
        ("replay_long_forward", Action::LongForward),
        ("replay_long_backward", Action::LongBackward),
        ("replay_faster", Action::Faster),
        ("replay_slower", Action::Slower),
    ];

    /// The action's name in the `[keys]` section.
    pub fn name(self) -> &'static str {
        Action::NAMED
            .iter()
            .find(|(_, a)| *a == self)
            .map_or("?", |(n, _)| n)
    }

    fn named(name: &str) -> Option<Action> {
        Action::NAMED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| *a)
    }
}

/// Where the operator is: decides which bindings apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Main,
    Detail,
    Help,
    Guide,
    /// The sources view.
    Sources,
    /// The footer's messages, in full.
    Messages,
    /// Writing the guide's notes: every other key is text.
    Notes,
    /// Typing a filter: every other key is text.
    Filter,
    /// The release confirmation (with its override reason: every other key is text).
    Confirm,
    /// The drain or restore plan (the cluster's name is typed: every other key is text).
    Plan,
    Reassign,
    /// Writing a silence (matchers, duration, comment: every other key is text).
    Silence,
    /// Choosing a silence to expire.
    Expire,
    /// Quitting while a drain runs.
    Quit,
    /// The wall screen's own keys (its other keys are the main view's, read-only).
    Wall,
    /// The replay player.
    Replay,
}

impl Context {
    /// The word help shows for the context.
    pub fn name(self) -> &'static str {
        match self {
            Context::Main => "main",
            Context::Detail => "detail",
            Context::Help => "help",
            Context::Guide => "guide",
            Context::Sources => "sources",
            Context::Messages => "messages",
            Context::Notes => "notes",
            Context::Filter => "filter",
            Context::Confirm => "confirm",
            Context::Plan => "plan",
            Context::Reassign => "reassign",
            Context::Silence => "silence",
            Context::Expire => "expire",
            Context::Quit => "quit?",
            Context::Wall => "wall",
            Context::Replay => "replay",
        }
    }
}

/// A key as the table names it: a key code and the modifiers that must be held. A character
/// carries its own case, so shift is only a modifier of keys that are not characters
/// (`S-right`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    code: KeyCode,
    ctrl: bool,
    alt: bool,
    shift: bool,
}

impl Key {
    const fn of_code(code: KeyCode) -> Key {
        Key {
            code,
            ctrl: false,
            alt: false,
            shift: false,
        }
    }

    const fn ch(c: char) -> Key {
        Key::of_code(KeyCode::Char(c))
    }

    const fn ctrl(c: char) -> Key {
        Key {
            ctrl: true,
            ..Key::ch(c)
        }
    }

    const fn shift(code: KeyCode) -> Key {
        Key {
            shift: true,
            ..Key::of_code(code)
        }
    }

    /// The key of a terminal event. With ctrl held, a letter is the letter (`ctrl-d` whether
    /// shift was held or not, as terminals send it).
    pub fn of(ev: &KeyEvent) -> Key {
        let m = ev.modifiers;
        let ctrl = m.contains(KeyModifiers::CONTROL);
        let code = match ev.code {
            KeyCode::Char(c) if ctrl => KeyCode::Char(c.to_ascii_lowercase()),
            other => other,
        };
        Key {
            code,
            ctrl: m.contains(KeyModifiers::CONTROL),
            alt: m.contains(KeyModifiers::ALT),
            shift: m.contains(KeyModifiers::SHIFT)
                && !matches!(ev.code, KeyCode::Char(_) | KeyCode::BackTab),
        }
    }

    /// A key as the configuration writes it: `d`, `D`, `ctrl-d`, `alt-enter`, `S-right`, `F5`,
    /// `space`, `tab`, `pgdn`, …
    pub fn parse(text: &str) -> Result<Key, String> {
        let mut rest = text.trim();
        let (mut ctrl, mut alt, mut shift) = (false, false, false);
        loop {
            let lower = rest.to_ascii_lowercase();
            let prefix = ["ctrl-", "alt-", "shift-", "s-"]
                .into_iter()
                .find(|p| lower.starts_with(p) && rest.len() > p.len());
            match prefix {
                Some("ctrl-") => ctrl = true,
                Some("alt-") => alt = true,
                Some(_) => shift = true,
                None => break,
            }
            rest = &rest[prefix.map_or(0, str::len)..];
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) if !c.is_control() => KeyCode::Char(c),
            _ => match rest.to_ascii_lowercase().as_str() {
                "space" => KeyCode::Char(' '),
                "enter" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" if shift => KeyCode::BackTab,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "backspace" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "insert" | "ins" => KeyCode::Insert,
                "up" | "↑" => KeyCode::Up,
                "down" | "↓" => KeyCode::Down,
                "left" | "←" => KeyCode::Left,
                "right" | "→" => KeyCode::Right,
                "pgup" | "pageup" => KeyCode::PageUp,
                "pgdn" | "pagedown" => KeyCode::PageDown,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                f if f.starts_with('f')
                    && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
                {
                    KeyCode::F(f[1..].parse().unwrap_or(1))
                }
                _ => {
                    return Err(format!(
                        "'{}' is not a key (a character, or ctrl-, alt-, S- with enter, esc, tab, space, up, down, left, right, pgup, pgdn, home, end, backspace, delete, insert, F1-F12)",
                        text.escape_debug()
                    ));
                }
            },
        };
        if let (true, KeyCode::Char(c)) = (shift, code) {
            return Err(format!(
                "'{}': write the character itself ('{}', not 'S-{c}')",
                text.escape_debug(),
                c.to_uppercase()
            ));
        }
        // Terminals send ctrl with a letter as the letter itself.
        let code = match code {
            KeyCode::Char(c) if ctrl => KeyCode::Char(c.to_ascii_lowercase()),
            other => other,
        };
        let mut key = Key {
            code,
            ctrl,
            alt,
            shift,
        };
        if key.code == KeyCode::BackTab {
            key.shift = false;
        }
        Ok(key)
    }

    /// A key that types a character into a text field.
    fn is_text(&self) -> bool {
        matches!(self.code, KeyCode::Char(_)) && !self.ctrl && !self.alt
    }

    /// How the footer and help write the key.
    pub fn label(&self) -> String {
        let name = match self.code {
            KeyCode::Char(' ') => "space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "enter".into(),
            KeyCode::Esc => "esc".into(),
            KeyCode::Tab => "tab".into(),
            KeyCode::BackTab => "S-tab".into(),
            KeyCode::Backspace => "backspace".into(),
            KeyCode::Delete => "del".into(),
            KeyCode::Insert => "ins".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        format!(
            "{}{}{}{name}",
            if self.ctrl { "ctrl-" } else { "" },
            if self.alt { "alt-" } else { "" },
            if self.shift { "S-" } else { "" }
        )
    }
}

/// One row of the table: the keys of one or more related actions (j/k, PgUp/PgDn), where they
/// apply, and how help and the footer describe them.
pub struct Binding {
    /// How the default keys are written in the footer and help.
    pub keys: &'static str,
    /// The action the row is known by.
    pub action: Action,
    /// The keys each action of the row answers to, by default.
    pub events: &'static [(Action, &'static [Key])],
    pub contexts: &'static [Context],
    /// Empty for a row that help and the footer do not show (a second meaning of a key shown
    /// elsewhere: `q` closes an overlay).
    pub help: &'static str,
    /// The footer's one-word label.
    pub short: &'static str,
    /// Shown in the footer (the rest only in help).
    pub footer: bool,
    /// Changes the fleet: neither bound nor shown in a read-only console.
    pub mutating: bool,
}

const MAIN: &[Context] = &[Context::Main];
const LISTS: &[Context] = &[Context::Main, Context::Detail];
/// The views (not dialogs, not text entry).
pub const ALL: &[Context] = &[
    Context::Main,
    Context::Detail,
    Context::Help,
    Context::Guide,
    Context::Sources,
    Context::Messages,
];
const OVERLAYS: &[Context] = &[
    Context::Detail,
    Context::Help,
    Context::Guide,
    Context::Sources,
    Context::Messages,
];
const MESSAGES: &[Context] = &[Context::Main, Context::Messages];
const SOURCES: &[Context] = &[Context::Main, Context::Sources];
const STEP: &[Context] = &[Context::Main, Context::Guide];
const GUIDE: &[Context] = &[Context::Guide];
const DETAIL: &[Context] = &[Context::Detail];
const SCROLLS: &[Context] = &[
    Context::Main,
    Context::Detail,
    Context::Help,
    Context::Messages,
    Context::Reassign,
    Context::Expire,
];
const PAGES: &[Context] = &[Context::Main, Context::Detail, Context::Help, Context::Plan];
const CONFIRMS: &[Context] = &[
    Context::Filter,
    Context::Confirm,
    Context::Plan,
    Context::Reassign,
    Context::Silence,
    Context::Expire,
];
const DIALOGS: &[Context] = &[
    Context::Confirm,
    Context::Plan,
    Context::Reassign,
    Context::Silence,
    Context::Expire,
];
/// The dialogs, and typing a filter or the guide's notes.
const DIALOGS_AND_TEXT: &[Context] = &[
    Context::Confirm,
    Context::Plan,
    Context::Reassign,
    Context::Silence,
    Context::Expire,
    Context::Filter,
    Context::Notes,
];
const SILENCE: &[Context] = &[Context::Silence];
const QUIT: &[Context] = &[Context::Quit];
const REASSIGN: &[Context] = &[Context::Reassign];
const CURSOR: &[Context] = &[Context::Reassign, Context::Expire];
const PLAN: &[Context] = &[Context::Plan];
const EXPIRE: &[Context] = &[Context::Expire];
/// Where keys are typed into a field: a rebinding may not take a character there.
const TEXT: &[Context] = &[
    Context::Notes,
    Context::Filter,
    Context::Confirm,
    Context::Plan,
    Context::Silence,
];
const WALL: &[Context] = &[Context::Wall];
const REPLAY: &[Context] = &[Context::Replay];

/// A row of the table; most rows have one action with its keys. One argument per column.
#[allow(clippy::too_many_arguments)]
const fn row(
    keys: &'static str,
    action: Action,
    events: &'static [(Action, &'static [Key])],
    contexts: &'static [Context],
    help: &'static str,
    short: &'static str,
    footer: bool,
    mutating: bool,
) -> Binding {
    Binding {
        keys,
        action,
        events,
        contexts,
        help,
        short,
        footer,
        mutating,
    }
}

use KeyCode as K;

pub const BINDINGS: &[Binding] = &[
    row(
        "tab",
        Action::NextPane,
        &[(Action::NextPane, &[Key::of_code(K::Tab)])],
        MAIN,
        "focus the next pane",
        "pane",
        true,
        false,
    ),
    row(
        "S-tab",
        Action::PrevPane,
        &[(Action::PrevPane, &[Key::of_code(K::BackTab)])],
        MAIN,
        "focus the previous pane",
        "pane",
        false,
        false,
    ),
    row(
        "1-5",
        Action::FocusPane(PaneId::Clusters),
        &[
            (Action::FocusPane(PaneId::Clusters), &[Key::ch('1')]),
            (Action::FocusPane(PaneId::Tiers), &[Key::ch('2')]),
            (Action::FocusPane(PaneId::ShopSets), &[Key::ch('3')]),
            (Action::FocusPane(PaneId::Apps), &[Key::ch('4')]),
            (Action::FocusPane(PaneId::Alerts), &[Key::ch('5')]),
        ],
        MAIN,
        "focus Clusters, Tiers, ShopSets, Argo CD, Alerts",
        "pane",
        false,
        false,
    ),
    row(
        "j/k ↑/↓",
        Action::Down,
        &[
            (Action::Down, &[Key::ch('j'), Key::of_code(K::Down)]),
            (Action::Up, &[Key::ch('k'), Key::of_code(K::Up)]),
        ],
        SCROLLS,
        "move the selection (help: scroll)",
        "move",
        false,
        false,
    ),
    row(
        "j/k",
        Action::Down,
        &[
            (Action::Down, &[Key::ch('j')]),
            (Action::Up, &[Key::ch('k')]),
        ],
        CURSOR,
        "move the cursor",
        "move",
        true,
        false,
    ),
    row(
        "↑/↓",
        Action::Up,
        &[
            (Action::Up, &[Key::of_code(K::Up)]),
            (Action::Down, &[Key::of_code(K::Down)]),
        ],
        PLAN,
        "scroll the plan",
        "scroll",
        true,
        false,
    ),
    row(
        "PgUp/PgDn",
        Action::PageDown,
        &[
            (
                Action::PageDown,
                &[Key::of_code(K::PageDown), Key::ctrl('f')],
            ),
            (Action::PageUp, &[Key::of_code(K::PageUp), Key::ctrl('b')]),
        ],
        PAGES,
        "move a page",
        "page",
        false,
        false,
    ),
    row(
        "Home/End G",
        Action::Top,
        &[
            (Action::Top, &[Key::of_code(K::Home)]),
            (Action::Bottom, &[Key::of_code(K::End), Key::ch('G')]),
        ],
        LISTS,
        "first / last row",
        "ends",
        false,
        false,
    ),
    row(
        "enter",
        Action::Open,
        &[(Action::Open, &[Key::of_code(K::Enter)])],
        MAIN,
        "open the selected row's detail",
        "open",
        true,
        false,
    ),
    row(
        "s",
        Action::Step,
        &[(Action::Step, &[Key::ch('s')])],
        STEP,
        "promote into the selected tier (guide: the next)",
        "step",
        true,
        true,
    ),
    row(
        "b",
        Action::Rollback,
        &[(Action::Rollback, &[Key::ch('b')])],
        STEP,
        "roll the selected (guide: the failed) tier back",
        "rollback",
        true,
        true,
    ),
    row(
        "H",
        Action::Halt,
        &[(Action::Halt, &[Key::ch('H')])],
        STEP,
        "halt all promotions; when halted, resume",
        "halt",
        false,
        true,
    ),
    row(
        "a",
        Action::Approve,
        &[(Action::Approve, &[Key::ch('a')])],
        STEP,
        "ask for / give approval of the selected tier",
        "approve",
        false,
        true,
    ),
    row(
        "C",
        Action::ClearFailed,
        &[(Action::ClearFailed, &[Key::ch('C')])],
        STEP,
        "offer a release failed on the tier again",
        "clear failed",
        false,
        true,
    ),
    // In the guide, its own key closes it.
    row(
        "g",
        Action::Back,
        &[(Action::Back, &[Key::ch('g')])],
        GUIDE,
        "",
        "",
        false,
        false,
    ),
    row(
        "g",
        Action::Guide,
        &[(Action::Guide, &[Key::ch('g')])],
        MAIN,
        "release guide: checklist, next action, notes",
        "guide",
        true,
        false,
    ),
    row(
        "e",
        Action::EditNotes,
        &[(Action::EditNotes, &[Key::ch('e')])],
        GUIDE,
        "write release notes for the audit log",
        "notes",
        true,
        false,
    ),
    row(
        "d",
        Action::Drain,
        &[(Action::Drain, &[Key::ch('d')])],
        MAIN,
        "plan a drain of the selected cluster",
        "drain",
        true,
        true,
    ),
    row(
        "u",
        Action::Restore,
        &[(Action::Restore, &[Key::ch('u')])],
        MAIN,
        "restore the selected drained cluster",
        "restore",
        false,
        true,
    ),
    row(
        "x",
        Action::Cancel,
        &[(Action::Cancel, &[Key::ch('x')])],
        MAIN,
        "cancel a running drain after its batch",
        "cancel",
        false,
        true,
    ),
    row(
        "f",
        Action::FindShop,
        &[(Action::FindShop, &[Key::ch('f')])],
        MAIN,
        "find any shop of the fleet",
        "find",
        false,
        false,
    ),
    row(
        "r",
        Action::Reassign,
        &[(Action::Reassign, &[Key::ch('r')])],
        DETAIL,
        "reassign the selected shop",
        "reassign",
        true,
        true,
    ),
    row(
        "S",
        Action::Silence,
        &[(Action::Silence, &[Key::ch('S')])],
        LISTS,
        "silence the selected alert, or write a silence",
        "silence",
        false,
        true,
    ),
    row(
        "E",
        Action::Unsilence,
        &[(Action::Unsilence, &[Key::ch('E')])],
        LISTS,
        "expire a silence (the alert's first)",
        "expire",
        false,
        true,
    ),
    row(
        "tab",
        Action::NextField,
        &[(Action::NextField, &[Key::of_code(K::Tab)])],
        SILENCE,
        "next field (comment: alt-enter new line)",
        "field",
        true,
        true,
    ),
    row(
        "space",
        Action::Choose,
        &[(Action::Choose, &[Key::ch(' ')])],
        REASSIGN,
        "choose / drop the ShopSet at the cursor",
        "choose",
        true,
        true,
    ),
    row(
        "tab",
        Action::AcceptDegraded,
        &[(Action::AcceptDegraded, &[Key::of_code(K::Tab)])],
        PLAN,
        "accept degraded redundancy for blocked dual shops",
        "accept degraded",
        true,
        true,
    ),
    row(
        "enter",
        Action::Confirm,
        &[(Action::Confirm, &[Key::of_code(K::Enter)])],
        CONFIRMS,
        "confirm the dialog (filter: keep it)",
        "confirm",
        true,
        false,
    ),
    row(
        "y",
        Action::Confirm,
        &[(Action::Confirm, &[Key::ch('y')])],
        EXPIRE,
        "",
        "",
        false,
        false,
    ),
    row(
        "y",
        Action::Confirm,
        &[(Action::Confirm, &[Key::ch('y'), Key::ctrl('c')])],
        QUIT,
        "quit; the running drain stops after its batch",
        "quit",
        true,
        false,
    ),
    row(
        "n esc",
        Action::Back,
        &[(
            Action::Back,
            &[Key::ch('n'), Key::ch('q'), Key::of_code(K::Esc)],
        )],
        QUIT,
        "keep the console and the drain running",
        "stay",
        true,
        false,
    ),
    row(
        "/",
        Action::Filter,
        &[(Action::Filter, &[Key::ch('/')])],
        LISTS,
        "filter the focused list (enter keeps, esc clears)",
        "filter",
        true,
        false,
    ),
    row(
        "esc",
        Action::Back,
        &[(Action::Back, &[Key::of_code(K::Esc)])],
        ALL,
        "close / clear the filter and highlight",
        "back",
        true,
        false,
    ),
    row(
        "esc",
        Action::Back,
        &[(Action::Back, &[Key::of_code(K::Esc)])],
        DIALOGS,
        "cancel the dialog: nothing changes",
        "cancel",
        true,
        false,
    ),
    row(
        "esc",
        Action::Back,
        &[(Action::Back, &[Key::of_code(K::Esc)])],
        &[Context::Notes, Context::Filter],
        "stop writing (notes: kept; filter: cleared)",
        "done",
        true,
        false,
    ),
    row(
        "ctrl-l",
        Action::Redraw,
        &[(Action::Redraw, &[Key::ctrl('l')])],
        ALL,
        "redraw the whole screen",
        "redraw",
        false,
        false,
    ),
    row(
        "i",
        Action::Sources,
        &[(Action::Sources, &[Key::ch('i')])],
        SOURCES,
        "every data source: freshness, age, last error",
        "sources",
        false,
        false,
    ),
    row(
        "m",
        Action::Messages,
        &[(Action::Messages, &[Key::ch('m')])],
        MESSAGES,
        "the footer's messages, in full, newest first",
        "messages",
        false,
        false,
    ),
    row(
        "?",
        Action::Help,
        &[(Action::Help, &[Key::ch('?')])],
        ALL,
        "this help",
        "help",
        true,
        false,
    ),
    // An overlay's `q` closes it (ctrl-c still quits).
    row(
        "q",
        Action::Back,
        &[(Action::Back, &[Key::ch('q')])],
        OVERLAYS,
        "",
        "",
        false,
        false,
    ),
    row(
        "q ctrl-c",
        Action::Quit,
        &[(Action::Quit, &[Key::ch('q'), Key::ctrl('c')])],
        ALL,
        "quit (asks first while a drain runs)",
        "quit",
        true,
        false,
    ),
    row(
        "ctrl-c",
        Action::Quit,
        &[(Action::Quit, &[Key::ctrl('c')])],
        DIALOGS_AND_TEXT,
        "quit from a dialog or while typing",
        "quit",
        false,
        false,
    ),
    // The wall screen.
    row(
        "tab → space",
        Action::NextView,
        &[(
            Action::NextView,
            &[
                Key::of_code(K::Tab),
                Key::of_code(K::Right),
                Key::ch('l'),
                Key::ch(' '),
            ],
        )],
        WALL,
        "the next view",
        "next view",
        true,
        false,
    ),
    row(
        "S-tab ←",
        Action::PrevView,
        &[(
            Action::PrevView,
            &[
                Key::of_code(K::BackTab),
                Key::of_code(K::Left),
                Key::ch('h'),
            ],
        )],
        WALL,
        "the previous view",
        "previous",
        false,
        false,
    ),
    row(
        "1-3",
        Action::ShowView(0),
        &[
            (Action::ShowView(0), &[Key::ch('1')]),
            (Action::ShowView(1), &[Key::ch('2')]),
            (Action::ShowView(2), &[Key::ch('3')]),
        ],
        WALL,
        "the release ladder, the failure domains, the alerts",
        "view",
        true,
        false,
    ),
    // The replay player.
    row(
        "space p",
        Action::Pause,
        &[(Action::Pause, &[Key::ch(' '), Key::ch('p')])],
        REPLAY,
        "pause / play",
        "pause",
        true,
        false,
    ),
    row(
        "←/→ h/l",
        Action::Forward,
        &[
            (Action::Forward, &[Key::of_code(K::Right), Key::ch('l')]),
            (Action::Backward, &[Key::of_code(K::Left), Key::ch('h')]),
        ],
        REPLAY,
        "seek 10 s",
        "seek 10s",
        true,
        false,
    ),
    row(
        "S-←/→ PgUp/PgDn",
        Action::LongForward,
        &[
            (
                Action::LongForward,
                &[Key::shift(K::Right), Key::of_code(K::PageDown)],
            ),
            (
                Action::LongBackward,
                &[Key::shift(K::Left), Key::of_code(K::PageUp)],
            ),
        ],
        REPLAY,
        "seek 60 s",
        "seek 60s",
        false,
        false,
    ),
    row(
        "+/-",
        Action::Faster,
        &[
            (Action::Faster, &[Key::ch('+'), Key::ch('=')]),
            (Action::Slower, &[Key::ch('-'), Key::ch('_')]),
        ],
        REPLAY,
        "faster / slower",
        "speed",
        true,
        false,
    ),
    row(
        "g/G Home/End",
        Action::Top,
        &[
            (Action::Top, &[Key::of_code(K::Home), Key::ch('g')]),
            (Action::Bottom, &[Key::of_code(K::End), Key::ch('G')]),
        ],
        REPLAY,
        "start / end",
        "ends",
        false,
        false,
    ),
    row(
        "q esc",
        Action::Quit,
        &[(
            Action::Quit,
            &[Key::ch('q'), Key::of_code(K::Esc), Key::ctrl('c')],
        )],
        REPLAY,
        "leave the replay",
        "quit",
        true,
        false,
    ),
    row(
        "?",
        Action::Help,
        &[(Action::Help, &[Key::ch('?')])],
        REPLAY,
        "show / hide the player's keys",
        "keys",
        true,
        false,
    ),
];

/// The keys in use: the table's, with the actions the configuration rebinds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys {
    rebound: HashMap<Action, Vec<Key>>,
    /// The replay player's own rows, when they follow other rebindings than the console's
    /// (a replay reads the recorded keys with the session's, and is driven with the viewer's).
    player: Option<HashMap<Action, Vec<Key>>>,
}

impl Keys {
    /// The `[keys]` section: `action = "key"` or `action = ["key", …]`. An unknown action, a
    /// key that is not one, or a key given two meanings in one place is refused by name.
    pub fn from_table(table: &toml::Table) -> Result<Keys, String> {
        let mut named = BTreeMap::new();
        for (name, value) in table {
            let keys: Vec<String> = match value {
                toml::Value::String(k) => vec![k.clone()],
                toml::Value::Array(a) => a
                    .iter()
                    .map(|v| {
                        v.as_str().map(str::to_string).ok_or_else(|| {
                            format!("keys.{name}: a list of keys, as strings (\"ctrl-d\")")
                        })
                    })
                    .collect::<Result<_, _>>()?,
                _ => return Err(format!("keys.{name}: a key (\"d\") or a list of keys")),
            };
            named.insert(name.clone(), keys);
        }
        Keys::from_names(&named)
    }

    /// Rebindings by action name, as the configuration and a recording's header keep them.
    pub fn from_names(named: &BTreeMap<String, Vec<String>>) -> Result<Keys, String> {
        let mut rebound = HashMap::new();
        for (name, keys) in named {
            let action = Action::named(name).ok_or_else(|| {
                format!(
                    "keys.{name}: no such action (actions: {})",
                    Action::NAMED
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            if keys.is_empty() {
                return Err(format!("keys.{name}: give at least one key"));
            }
            let keys = keys
                .iter()
                .map(|k| Key::parse(k).map_err(|e| format!("keys.{name}: {e}")))
                .collect::<Result<Vec<_>, _>>()?;
            rebound.insert(action, keys);
        }
        let keys = Keys {
            rebound,
            player: None,
        };
        keys.check()?;
        Ok(keys)
    }

    /// The rebindings by action name (for a recording's header).
    pub fn names(&self) -> BTreeMap<String, Vec<String>> {
        self.rebound
            .iter()
            .map(|(a, keys)| (a.name().to_string(), keys.iter().map(Key::label).collect()))
            .collect()
    }

    /// These rebindings for the console's rows, and `viewer`'s for the replay player's.
    pub fn with_player_keys_of(&self, viewer: &Keys) -> Keys {
        Keys {
            rebound: self.rebound.clone(),
            player: Some(viewer.rebound.clone()),
        }
    }

    /// The rebindings that apply to a row.
    fn rebound_for(&self, b: &Binding) -> &HashMap<Action, Vec<Key>> {
        match &self.player {
            Some(player) if b.contexts == REPLAY => player,
            _ => &self.rebound,
        }
    }

    /// The keys `action` answers to in a row whose default keys are `default`.
    fn of<'a>(&'a self, action: Action, default: &'static [Key]) -> &'a [Key] {
        self.rebound.get(&action).map_or(default, Vec::as_slice)
    }

    /// The keys `action` answers to in the row `b`.
    fn in_row<'a>(&'a self, b: &Binding, action: Action, default: &'static [Key]) -> &'a [Key] {
        self.rebound_for(b)
            .get(&action)
            .map_or(default, Vec::as_slice)
    }

    /// The action a key gives in a row, in `ctx`, if any. A rebound key that types a
    /// character is not bound where text is typed: it goes into the field.
    fn answer(&self, b: &Binding, key: Key, ctx: Context) -> Option<Action> {
        let typed = key.is_text() && TEXT.contains(&ctx);
        let rebound = self.rebound_for(b);
        b.events
            .iter()
            .filter(|(a, _)| !(typed && rebound.contains_key(a)))
            .find(|(a, keys)| self.in_row(b, *a, keys).contains(&key))
            .map(|(a, _)| *a)
    }

    /// Whether a row's keys are the table's own.
    fn is_default(&self, b: &Binding) -> bool {
        let rebound = self.rebound_for(b);
        !b.events.iter().any(|(a, _)| rebound.contains_key(a))
    }

    /// A rebound key must not mean two things in one place, and an action rebound where text is
    /// typed must keep a key that types nothing there (else the dialog could not be left).
    fn check(&self) -> Result<(), String> {
        let mut seen: HashMap<(Key, &'static str), Action> = HashMap::new();
        let mut conflicts = Vec::new();
        for b in BINDINGS {
            let typed = b.contexts.iter().find(|c| TEXT.contains(c));
            for (a, _) in b.events {
                // Leaving or confirming a dialog must stay possible where text is typed.
                if let (Some(c), Some(keys)) = (typed, self.rebound.get(a))
                    && matches!(a, Action::Back | Action::Confirm)
                    && keys.iter().all(Key::is_text)
                {
                    conflicts.push(format!(
                        "{} would have only keys that type in the {} view: keep one that types nothing (enter, esc, tab, ctrl-…)",
                        a.name(),
                        c.name()
                    ));
                }
            }
        }
        for b in BINDINGS {
            // The wall answers the main view's quit, help, sources and redraw besides its own.
            let wall = b.contexts.contains(&Context::Main)
                && matches!(
                    b.action,
                    Action::Quit | Action::Help | Action::Sources | Action::Redraw
                );
            let contexts: Vec<Context> = b
                .contexts
                .iter()
                .copied()
                .chain(wall.then_some(Context::Wall))
                .collect();
            for (a, default) in b.events {
                for k in self.of(*a, default) {
                    for c in &contexts {
                        match seen.get(&(*k, c.name())) {
                            Some(other)
                                if other != a
                                    && (self.rebound.contains_key(a)
                                        || self.rebound.contains_key(other)) =>
                            {
                                conflicts.push(format!(
                                    "'{}' would both {} and {} in the {} view",
                                    k.label(),
                                    other.name(),
                                    a.name(),
                                    c.name()
                                ));
                            }
                            Some(_) => {}
                            None => {
                                seen.insert((*k, c.name()), *a);
                            }
                        }
                    }
                }
            }
        }
        conflicts.sort();
        conflicts.dedup();
        match conflicts.first() {
            None => Ok(()),
            Some(_) => Err(format!("keys: {}", conflicts.join("; "))),
        }
    }
}

static KEYS: OnceLock<Keys> = OnceLock::new();

/// Puts the configuration's keys in use for this process (once, before anything is drawn).
pub fn install(keys: Keys) {
    let _ = KEYS.set(keys);
}

/// The keys in use.
pub fn keys() -> &'static Keys {
    KEYS.get_or_init(Keys::default)
}

/// How a row's keys are written: the table's label, or the rebound keys.
pub fn label(b: &Binding) -> Cow<'static, str> {
    label_with(keys(), b)
}

fn label_with(keys: &Keys, b: &Binding) -> Cow<'static, str> {
    if keys.is_default(b) {
        return Cow::Borrowed(b.keys);
    }
    let per_action: Vec<String> = b
        .events
        .iter()
        .map(|(a, default)| {
            keys.in_row(b, *a, default)
                .iter()
                .map(Key::label)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    Cow::Owned(per_action.join("/"))
}

/// The action a key triggers in a context, if any. A read-only console binds no key that
/// changes the fleet. In contexts that take text, an unbound key is text.
pub fn action_for(key: KeyEvent, ctx: Context, readonly: bool) -> Option<Action> {
    action_with(keys(), key, ctx, readonly)
}

fn action_with(keys: &Keys, key: KeyEvent, ctx: Context, readonly: bool) -> Option<Action> {
    let key = Key::of(&key);
    BINDINGS
        .iter()
        .filter(|b| !(readonly && (b.mutating || only_while_changing(b))))
        .filter(|b| b.contexts.contains(&ctx))
        .find_map(|b| keys.answer(b, key, ctx))
}

/// The bindings the console's help lists: all of its shown rows, or, read-only, those that
/// change nothing.
pub fn bindings(readonly: bool) -> impl Iterator<Item = &'static Binding> {
    BINDINGS
        .iter()
        .filter(|b| !b.help.is_empty())
        .filter(|b| {
            !b.contexts
                .iter()
                .all(|c| matches!(c, Context::Wall | Context::Replay))
        })
        .filter(move |b| !(readonly && (b.mutating || only_while_changing(b))))
}

/// The rows of one of the other screens (the wall, the replay), in table order.
pub fn bindings_of(ctx: Context) -> impl Iterator<Item = &'static Binding> {
    BINDINGS
        .iter()
        .filter(move |b| !b.help.is_empty() && b.contexts.contains(&ctx))
}

/// Bindings of the confirmation, plan, reassign and quit-during-drain dialogs only: a read-only
/// console never opens them, so its help does not list them.
fn only_while_changing(b: &Binding) -> bool {
    b.contexts.iter().all(|c| {
        matches!(
            c,
            Context::Confirm
                | Context::Plan
                | Context::Reassign
                | Context::Silence
                | Context::Expire
                | Context::Quit
        )
    })
}

/// The footer's bindings for a context.
pub fn footer(ctx: Context, readonly: bool) -> impl Iterator<Item = &'static Binding> {
    bindings(readonly).filter(move |b| b.footer && b.contexts.contains(&ctx))
}

/// What each pane's footer offers, most useful first; moving between panes, help and quit
/// follow. `?` shows every key.
fn pane_actions(pane: PaneId) -> &'static [Action] {
    match pane {
        PaneId::Clusters => &[
            Action::Open,
            Action::Drain,
            Action::Restore,
            Action::FindShop,
            Action::Filter,
        ],
        PaneId::Tiers => &[
            Action::Step,
            Action::Rollback,
            Action::Guide,
            Action::Open,
            Action::Approve,
            Action::Halt,
            Action::ClearFailed,
            Action::Filter,
        ],
        PaneId::ShopSets => &[Action::Open, Action::FindShop, Action::Filter],
        PaneId::Apps => &[Action::Open, Action::Filter],
        PaneId::Alerts => &[
            Action::Open,
            Action::Silence,
            Action::Unsilence,
            Action::Filter,
        ],
    }
}

/// The main view's footer with `pane` focused: that pane's keys (see [`pane_actions`]), then
/// `tab`, help and quit. A read-only console offers no key that changes the fleet.
pub fn pane_footer(pane: PaneId, readonly: bool) -> Vec<&'static Binding> {
    let main = |a: Action| {
        bindings(readonly).find(|b| b.action == a && b.contexts.contains(&Context::Main))
    };
    pane_actions(pane)
        .iter()
        .chain(&[Action::NextPane, Action::Help, Action::Quit])
        .filter_map(|a| main(*a))
        .collect()
}

/// The footer of the wall or the replay player: its keys in the table's order, each by its first
/// key (`tab next view`), as rebound; the wall ends with the main view's help and quit, which it
/// answers too.
pub fn screen_footer(ctx: Context) -> Vec<(String, &'static str)> {
    let first = |b: &Binding| {
        label(b)
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    let mut keys: Vec<(String, &'static str)> = bindings_of(ctx)
        .filter(|b| b.footer)
        .map(|b| (first(b), b.short))
        .collect();
    if ctx == Context::Wall {
        keys.extend(
            footer(Context::Main, true)
                .filter(|b| matches!(b.action, Action::Help | Action::Quit))
                .map(|b| (first(b), b.short)),
        );
    }
    keys
}

/// The wall's or the player's keys with what they do, for their own help; the wall's end with
/// help and quit, which it answers too.
pub fn screen_help(ctx: Context) -> Vec<(String, &'static str)> {
    let mut keys: Vec<(String, &'static str)> = bindings_of(ctx)
        .map(|b| (label(b).into_owned(), b.help))
        .collect();
    if ctx == Context::Wall {
        keys.extend(
            footer(Context::Main, true)
                .filter(|b| matches!(b.action, Action::Help | Action::Quit))
                .map(|b| (label(b).into_owned(), b.short)),
        );
    }
    keys
}

/// The keys of a context in one line, as a dialog's bottom border shows them.
pub fn hint(ctx: Context, readonly: bool) -> String {
    hint_without(ctx, readonly, &[])
}

/// [`hint`], leaving out actions that would do nothing now.
pub fn hint_without(ctx: Context, readonly: bool, without: &[Action]) -> String {
    let keys: Vec<String> = footer(ctx, readonly)
        .filter(|b| !without.contains(&b.action))
        .map(|b| format!("{} {}", label(b), b.short))
        .collect();
    format!(" {} ", keys.join(" · "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn q_quits_the_console_but_closes_overlays() {
        assert_eq!(
            action_for(key(KeyCode::Char('q')), Context::Main, false),
            Some(Action::Quit)
        );
        assert_eq!(
            action_for(key(KeyCode::Char('q')), Context::Help, false),
            Some(Action::Back)
        );
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(
            action_for(ctrl_c, Context::Detail, false),
            Some(Action::Quit)
        );
    }

    #[test]
    fn pane_keys_only_in_the_main_view() {
        assert_eq!(
            action_for(key(KeyCode::Char('3')), Context::Main, false),
            Some(Action::FocusPane(PaneId::ShopSets))
        );
        assert_eq!(
            action_for(key(KeyCode::Char('3')), Context::Detail, false),
            None
        );
        assert_eq!(action_for(key(KeyCode::Tab), Context::Help, false), None);
    }

    /// The keys a binding's label names.
    fn codes(keys: &str) -> Vec<KeyCode> {
        keys.split([' ', '/'])
            .filter_map(|k| match k {
                "space" => Some(KeyCode::Char(' ')),
                "tab" => Some(KeyCode::Tab),
                "enter" => Some(KeyCode::Enter),
                "esc" => Some(KeyCode::Esc),
                k if k.chars().count() == 1 => k.chars().next().map(KeyCode::Char),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn read_only_binds_no_mutating_key() {
        let mut checked = 0;
        for b in BINDINGS.iter().filter(|b| b.mutating) {
            let codes = codes(b.keys);
            assert!(!codes.is_empty(), "no key read from '{}'", b.keys);
            for ctx in b.contexts {
                for c in &codes {
                    assert_eq!(
                        action_for(key(*c), *ctx, false),
                        Some(b.action),
                        "'{}' is bound read-write",
                        b.keys
                    );
                    assert_eq!(action_for(key(*c), *ctx, true), None, "{}", b.keys);
                    checked += 1;
                }
                assert!(footer(*ctx, true).all(|f| f.action != b.action));
            }
        }
        assert!(checked >= 8, "{checked}");
    }

    fn rebound(text: &str) -> Result<Keys, String> {
        Keys::from_table(&toml::from_str::<toml::Table>(text).unwrap())
    }

    #[test]
    fn keys_are_parsed_as_written_and_labelled_back() {
        for (text, label) in [
            ("d", "d"),
            ("D", "D"),
            ("ctrl-d", "ctrl-d"),
            ("alt-enter", "alt-enter"),
            ("S-right", "S-→"),
            ("shift-tab", "S-tab"),
            ("space", "space"),
            ("pgdn", "PgDn"),
            ("F5", "F5"),
            ("-", "-"),
            ("ctrl--", "ctrl--"),
        ] {
            assert_eq!(
                Key::parse(text).map(|k| k.label()),
                Ok(label.into()),
                "{text}"
            );
        }
        for bad in ["", "ctrl-", "hyper-x", "S-d", "F13", "enterr"] {
            assert!(Key::parse(bad).is_err(), "{bad}");
        }
        // A terminal's shifted character is the character; a shifted arrow is S-arrow.
        let shifted = KeyEvent::new(KeyCode::Char('D'), KeyModifiers::SHIFT);
        assert_eq!(Key::of(&shifted), Key::ch('D'));
        let arrow = KeyEvent::new(KeyCode::Right, KeyModifiers::SHIFT);
        assert_eq!(Key::of(&arrow), Key::shift(KeyCode::Right));
    }

    #[test]
    fn a_rebound_action_answers_its_new_keys_only_and_help_says_so() {
        let keys = rebound("drain = \"D\"\nstep = [\"s\", \"ctrl-s\"]").unwrap();
        let d = key(KeyCode::Char('d'));
        let big_d = KeyEvent::new(KeyCode::Char('D'), KeyModifiers::SHIFT);
        assert_eq!(action_with(&keys, d, Context::Main, false), None);
        assert_eq!(
            action_with(&keys, big_d, Context::Main, false),
            Some(Action::Drain)
        );
        let ctrl_s = KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL);
        assert_eq!(
            action_with(&keys, ctrl_s, Context::Guide, false),
            Some(Action::Step)
        );
        // Read-only still binds nothing that changes the fleet, rebound or not.
        assert_eq!(action_with(&keys, big_d, Context::Main, true), None);
        let drain = BINDINGS.iter().find(|b| b.action == Action::Drain).unwrap();
        assert_eq!(label_with(&keys, drain), "D");
        let step = BINDINGS.iter().find(|b| b.action == Action::Step).unwrap();
        assert_eq!(label_with(&keys, step), "s ctrl-s");
        // Unchanged rows keep the table's own label.
        let quit = BINDINGS.iter().find(|b| b.action == Action::Quit).unwrap();
        assert_eq!(label_with(&keys, quit), "q ctrl-c");
        // What a recording keeps gives the same keys back.
        assert_eq!(Keys::from_names(&keys.names()), Ok(keys));
    }

    #[test]
    fn a_key_given_two_meanings_in_one_place_and_unknown_names_are_refused_by_name() {
        let e = rebound("drain = \"s\"").unwrap_err();
        assert!(
            e.contains("'s' would both step and drain in the main view"),
            "{e}"
        );
        let e = rebound("back = \"q\"").unwrap_err();
        assert!(e.contains("quit") && e.contains("back"), "{e}");
        let e = rebound("dran = \"D\"").unwrap_err();
        assert!(
            e.contains("keys.dran: no such action") && e.contains("drain"),
            "{e}"
        );
        let e = rebound("drain = \"ctrl-\"").unwrap_err();
        assert!(e.contains("keys.drain") && e.contains("'ctrl-'"), "{e}");
        let e = rebound("drain = 4").unwrap_err();
        assert!(e.contains("keys.drain"), "{e}");
        let e = rebound("drain = []").unwrap_err();
        assert!(e.contains("at least one key"), "{e}");
        // A dialog where text is typed could be neither left nor confirmed.
        let e = rebound("confirm = \"y\"\nback = \"n\"").unwrap_err();
        assert!(e.contains("back would have only keys that type"), "{e}");
        assert!(e.contains("confirm would have only keys that type"), "{e}");
        // The wall's own keys beside the main view's quit and help.
        let e = rebound("wall_next = \"q\"").unwrap_err();
        assert!(
            e.contains("'q' would both quit and wall_next in the wall view"),
            "{e}"
        );
        // The same key for one action in two places, or in places that never meet, is fine.
        assert!(rebound("drain = \"D\"\nwall_next = \"D\"").is_ok());
    }

    #[test]
    fn a_rebound_character_is_typed_where_text_is_typed() {
        let keys = rebound("confirm = [\"enter\", \"y\"]\nquit = [\"Q\", \"ctrl-c\"]").unwrap();
        let y = key(KeyCode::Char('y'));
        // Into an override reason or a drain's cluster name, `y` is a letter.
        assert_eq!(action_with(&keys, y, Context::Confirm, false), None);
        assert_eq!(action_with(&keys, y, Context::Plan, false), None);
        // Where nothing is typed, it confirms.
        assert_eq!(
            action_with(&keys, y, Context::Expire, false),
            Some(Action::Confirm)
        );
        let big_q = KeyEvent::new(KeyCode::Char('Q'), KeyModifiers::SHIFT);
        assert_eq!(action_with(&keys, big_q, Context::Silence, false), None);
        assert_eq!(
            action_with(&keys, big_q, Context::Main, false),
            Some(Action::Quit)
        );
        let enter = key(KeyCode::Enter);
        assert_eq!(
            action_with(&keys, enter, Context::Confirm, false),
            Some(Action::Confirm)
        );
    }

    #[test]
    fn a_replay_reads_recorded_keys_with_the_session_s_bindings_and_is_driven_with_the_viewer_s() {
        let recorded = rebound("quit = [\"Q\", \"ctrl-c\"]").unwrap();
        let viewer = rebound("replay_pause = \"P\"").unwrap();
        let keys = recorded.with_player_keys_of(&viewer);
        let q = key(KeyCode::Char('q'));
        // The recorded session quit with Q: its q did nothing.
        assert_eq!(action_with(&keys, q, Context::Main, false), None);
        // The viewer's player: q leaves the replay, P pauses it, space no longer does.
        assert_eq!(
            action_with(&keys, q, Context::Replay, true),
            Some(Action::Quit)
        );
        let big_p = KeyEvent::new(KeyCode::Char('P'), KeyModifiers::SHIFT);
        assert_eq!(
            action_with(&keys, big_p, Context::Replay, true),
            Some(Action::Pause)
        );
        assert_eq!(
            action_with(&keys, key(KeyCode::Char(' ')), Context::Replay, true),
            None
        );
    }

    #[test]
    fn the_wall_and_the_replay_keys_come_from_the_table() {
        assert_eq!(
            action_for(key(KeyCode::Char('2')), Context::Wall, true),
            Some(Action::ShowView(1))
        );
        assert_eq!(
            action_for(key(KeyCode::Char(' ')), Context::Replay, true),
            Some(Action::Pause)
        );
        let long = KeyEvent::new(KeyCode::Left, KeyModifiers::SHIFT);
        assert_eq!(
            action_for(long, Context::Replay, true),
            Some(Action::LongBackward)
        );
        // A second ctrl-c while asked whether to quit during a drain quits.
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(
            action_for(ctrl_c, Context::Quit, false),
            Some(Action::Confirm)
        );
        // Their rows are not the console's help.
        assert!(bindings(false).all(|b| !b.contexts.contains(&Context::Wall)));
    }
}
