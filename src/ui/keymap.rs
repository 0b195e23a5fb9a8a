//! Every key the console understands, in one table: dispatch, the footer and `?` help all come
//! from here, so they cannot disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::state::PaneId;

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    /// Every source with its freshness and last error.
    Sources,
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
            Context::Notes => "notes",
            Context::Filter => "filter",
            Context::Confirm => "confirm",
            Context::Plan => "plan",
            Context::Reassign => "reassign",
            Context::Silence => "silence",
            Context::Expire => "expire",
            Context::Quit => "quit?",
        }
    }
}

pub struct Binding {
    /// How the key is written in the footer and help.
    pub keys: &'static str,
    pub action: Action,
    pub contexts: &'static [Context],
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
];
const OVERLAYS: &[Context] = &[
    Context::Detail,
    Context::Help,
    Context::Guide,
    Context::Sources,
];
const SOURCES: &[Context] = &[Context::Main, Context::Sources];
const STEP: &[Context] = &[Context::Main, Context::Guide];
const GUIDE: &[Context] = &[Context::Guide];
const DETAIL: &[Context] = &[Context::Detail];
const SCROLLS: &[Context] = &[
    Context::Main,
    Context::Detail,
    Context::Help,
    Context::Reassign,
    Context::Expire,
];
const PAGES: &[Context] = &[Context::Main, Context::Detail, Context::Plan];
const ENTRY: &[Context] = &[
    Context::Notes,
    Context::Filter,
    Context::Confirm,
    Context::Plan,
    Context::Reassign,
    Context::Silence,
    Context::Expire,
    Context::Quit,
];
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
const SILENCE: &[Context] = &[Context::Silence];
const QUIT: &[Context] = &[Context::Quit];
const REASSIGN: &[Context] = &[Context::Reassign];
const CURSOR: &[Context] = &[Context::Reassign, Context::Expire];
const PLAN: &[Context] = &[Context::Plan];

pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: "tab",
        action: Action::NextPane,
        contexts: MAIN,
        help: "focus the next pane",
        short: "pane",
        footer: true,
        mutating: false,
    },
    Binding {
        keys: "S-tab",
        action: Action::PrevPane,
        contexts: MAIN,
        help: "focus the previous pane",
        short: "pane",
        footer: false,
        mutating: false,
    },
    Binding {
        keys: "1-5",
        action: Action::FocusPane(PaneId::Clusters),
        contexts: MAIN,
        help: "focus Clusters, Tiers, ShopSets, Argo CD, Alerts",
        short: "pane",
        footer: false,
        mutating: false,
    },
    Binding {
        keys: "j/k ↑/↓",
        action: Action::Down,
        contexts: SCROLLS,
        help: "move the selection (help: scroll)",
        short: "move",
        footer: false,
        mutating: false,
    },
    Binding {
        keys: "j/k",
        action: Action::Down,
        contexts: CURSOR,
        help: "move the cursor",
        short: "move",
        footer: true,
        mutating: false,
    },
    Binding {
        keys: "↑/↓",
        action: Action::Up,
        contexts: PLAN,
        help: "scroll the plan",
        short: "scroll",
        footer: true,
        mutating: false,
    },
    Binding {
        keys: "PgUp/PgDn",
        action: Action::PageDown,
        contexts: PAGES,
        help: "move a page",
        short: "page",
        footer: false,
        mutating: false,
    },
    Binding {
        keys: "Home/End G",
        action: Action::Top,
        contexts: LISTS,
        help: "first / last row",
        short: "ends",
        footer: false,
        mutating: false,
    },
    Binding {
        keys: "enter",
        action: Action::Open,
        contexts: MAIN,
        help: "open the selected row's detail",
        short: "open",
        footer: true,
        mutating: false,
    },
    Binding {
        keys: "s",
        action: Action::Step,
        contexts: STEP,
        help: "promote into the selected tier (guide: the next)",
        short: "step",
        footer: true,
        mutating: true,
    },
    Binding {
        keys: "b",
        action: Action::Rollback,
        contexts: STEP,
        help: "roll the selected (guide: the failed) tier back",
        short: "rollback",
        footer: true,
        mutating: true,
    },
    Binding {
        keys: "g",
        action: Action::Guide,
        contexts: MAIN,
        help: "release guide: checklist, next action, notes",
        short: "guide",
        footer: true,
        mutating: false,
    },
    Binding {
        keys: "e",
        action: Action::EditNotes,
        contexts: GUIDE,
        help: "write release notes for the audit log",
        short: "notes",
        footer: true,
        mutating: false,
    },
    Binding {
        keys: "d",
        action: Action::Drain,
        contexts: MAIN,
        help: "plan a drain of the selected cluster",
        short: "drain",
        footer: true,
        mutating: true,
    },
    Binding {
        keys: "u",
        action: Action::Restore,
        contexts: MAIN,
        help: "restore the selected drained cluster",
        short: "restore",
        footer: false,
        mutating: true,
    },
    Binding {
        keys: "x",
        action: Action::Cancel,
        contexts: MAIN,
        help: "cancel a running drain after its batch",
        short: "cancel",
        footer: false,
        mutating: true,
    },
    Binding {
        keys: "f",
        action: Action::FindShop,
        contexts: MAIN,
        help: "find any shop of the fleet",
        short: "find",
        footer: false,
        mutating: false,
    },
    Binding {
        keys: "r",
        action: Action::Reassign,
        contexts: DETAIL,
        help: "reassign the selected shop",
        short: "reassign",
        footer: true,
        mutating: true,
    },
    Binding {
        keys: "S",
        action: Action::Silence,
        contexts: LISTS,
        help: "silence the selected alert, or write a silence",
        short: "silence",
        footer: false,
        mutating: true,
    },
    Binding {
        keys: "E",
        action: Action::Unsilence,
        contexts: LISTS,
        help: "expire a silence (the alert's first)",
        short: "expire",
        footer: false,
        mutating: true,
    },
    Binding {
        keys: "tab",
        action: Action::NextField,
        contexts: SILENCE,
        help: "next field (comment: alt-enter new line)",
        short: "field",
        footer: true,
        mutating: true,
    },
    Binding {
        keys: "space",
        action: Action::Choose,
        contexts: REASSIGN,
        help: "choose / drop the ShopSet at the cursor",
        short: "choose",
        footer: true,
        mutating: true,
    },
    Binding {
        keys: "tab",
        action: Action::AcceptDegraded,
        contexts: PLAN,
        help: "accept degraded redundancy for blocked dual shops",
        short: "accept degraded",
        footer: true,
        mutating: true,
    },
    Binding {
        keys: "enter",
        action: Action::Confirm,
        contexts: CONFIRMS,
        help: "confirm the dialog (filter: keep it)",
        short: "confirm",
        footer: true,
        mutating: false,
    },
    Binding {
        keys: "y",
        action: Action::Confirm,
        contexts: QUIT,
        help: "quit; the running drain stops after its batch",
        short: "quit",
        footer: true,
        mutating: false,
    },
    Binding {
        keys: "n esc",
        action: Action::Back,
        contexts: QUIT,
        help: "keep the console and the drain running",
        short: "stay",
        footer: true,
        mutating: false,
    },
    Binding {
        keys: "/",
        action: Action::Filter,
        contexts: LISTS,
        help: "filter the focused list (enter keeps, esc clears)",
        short: "filter",
        footer: true,
        mutating: false,
    },
    Binding {
        keys: "esc",
        action: Action::Back,
        contexts: ALL,
        help: "close / clear the filter and highlight",
        short: "back",
        footer: true,
        mutating: false,
    },
    Binding {
        keys: "esc",
        action: Action::Back,
        contexts: DIALOGS,
        help: "cancel the dialog: nothing changes",
        short: "cancel",
        footer: true,
        mutating: false,
    },
    Binding {
        keys: "esc",
        action: Action::Back,
        contexts: &[Context::Notes, Context::Filter],
        help: "stop writing (notes: kept; filter: cleared)",
        short: "done",
        footer: true,
        mutating: false,
    },
    Binding {
        keys: "ctrl-l",
        action: Action::Redraw,
        contexts: ALL,
        help: "redraw the whole screen",
        short: "redraw",
        footer: false,
        mutating: false,
    },
    Binding {
        keys: "i",
        action: Action::Sources,
        contexts: SOURCES,
        help: "every data source: freshness, age, last error",
        short: "sources",
        footer: false,
        mutating: false,
    },
    Binding {
        keys: "?",
        action: Action::Help,
        contexts: ALL,
        help: "this help",
        short: "help",
        footer: true,
        mutating: false,
    },
    Binding {
        keys: "q ctrl-c",
        action: Action::Quit,
        contexts: ALL,
        help: "quit (asks first while a drain runs)",
        short: "quit",
        footer: true,
        mutating: false,
    },
    Binding {
        keys: "ctrl-c",
        action: Action::Quit,
        contexts: DIALOGS,
        help: "quit from a dialog",
        short: "quit",
        footer: false,
        mutating: false,
    },
];

/// Overlay-only meaning of `q`: close the overlay rather than quit.
const Q_CLOSES: &[Context] = OVERLAYS;

/// The action a key triggers in a context, if any. A read-only console binds no key that
/// changes the fleet. In contexts that take text, an unbound key is text.
pub fn action_for(key: KeyEvent, ctx: Context, readonly: bool) -> Option<Action> {
    let action = match ctx {
        Context::Main | Context::Detail | Context::Help | Context::Guide | Context::Sources => {
            view_key(key, ctx)?
        }
        Context::Notes
        | Context::Filter
        | Context::Confirm
        | Context::Plan
        | Context::Reassign
        | Context::Silence
        | Context::Expire => entry_key(key, ctx)?,
        Context::Quit => match key.code {
            KeyCode::Char('y') => Action::Confirm,
            KeyCode::Char('n') | KeyCode::Char('q') | KeyCode::Esc => Action::Back,
            _ => return None,
        },
    };
    let applies = bindings(readonly)
        .any(|b| same_family(b.action, action) && b.contexts.contains(&ctx))
        || (action == Action::Back && (Q_CLOSES.contains(&ctx) || ENTRY.contains(&ctx)));
    applies.then_some(action)
}

fn view_key(key: KeyEvent, ctx: Context) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    Some(match key.code {
        KeyCode::Char('c') if ctrl => Action::Quit,
        KeyCode::Char('l') if ctrl => Action::Redraw,
        KeyCode::Char('q') if Q_CLOSES.contains(&ctx) => Action::Back,
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Char('i') => Action::Sources,
        KeyCode::Esc => Action::Back,
        KeyCode::Tab => Action::NextPane,
        KeyCode::BackTab => Action::PrevPane,
        KeyCode::Char(c) if !ctrl && PaneId::numbered(c).is_some() => {
            Action::FocusPane(PaneId::numbered(c)?)
        }
        KeyCode::Char('j') | KeyCode::Down => Action::Down,
        KeyCode::Char('k') | KeyCode::Up => Action::Up,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::Char('f') if ctrl => Action::PageDown,
        KeyCode::Char('b') if ctrl => Action::PageUp,
        KeyCode::Home => Action::Top,
        KeyCode::Char('g') if ctx == Context::Guide => Action::Back,
        KeyCode::Char('g') => Action::Guide,
        KeyCode::Char('s') => Action::Step,
        KeyCode::Char('b') => Action::Rollback,
        KeyCode::Char('e') => Action::EditNotes,
        KeyCode::Char('d') => Action::Drain,
        KeyCode::Char('u') => Action::Restore,
        KeyCode::Char('r') => Action::Reassign,
        KeyCode::Char('S') => Action::Silence,
        KeyCode::Char('E') => Action::Unsilence,
        KeyCode::Char('f') => Action::FindShop,
        KeyCode::Char('x') => Action::Cancel,
        KeyCode::End | KeyCode::Char('G') => Action::Bottom,
        KeyCode::Enter => Action::Open,
        KeyCode::Char('/') => Action::Filter,
        _ => return None,
    })
}

/// Keys of dialogs and text entry; `None` leaves the key to the text field.
fn entry_key(key: KeyEvent, ctx: Context) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let text = !matches!(ctx, Context::Reassign | Context::Expire);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    Some(match key.code {
        KeyCode::Char('c') if ctrl && DIALOGS.contains(&ctx) => Action::Quit,
        KeyCode::Esc => Action::Back,
        // A new line in the silence's comment.
        KeyCode::Enter if alt && ctx == Context::Silence => return None,
        KeyCode::Enter => Action::Confirm,
        KeyCode::Tab if ctx == Context::Silence => Action::NextField,
        KeyCode::Char('y') if ctx == Context::Expire => Action::Confirm,
        KeyCode::Tab => Action::AcceptDegraded,
        KeyCode::Char(' ') if !text => Action::Choose,
        KeyCode::Char('j') if !text => Action::Down,
        KeyCode::Char('k') if !text => Action::Up,
        KeyCode::Down => Action::Down,
        KeyCode::Up => Action::Up,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::PageUp => Action::PageUp,
        _ => return None,
    })
}

/// Bindings of one table row cover related actions (j/k, PgUp/PgDn, Home/End, 1-5).
fn same_family(row: Action, a: Action) -> bool {
    use Action::*;
    matches!(
        (row, a),
        (Down, Up | Down)
            | (PageDown, PageUp | PageDown)
            | (Top, Top | Bottom)
            | (Up, Up | Down)
            | (FocusPane(_), FocusPane(_))
    ) || row == a
}

/// The bindings a console has: all of them, or, read-only, those that change nothing.
pub fn bindings(readonly: bool) -> impl Iterator<Item = &'static Binding> {
    BINDINGS
        .iter()
        .filter(move |b| !(readonly && (b.mutating || only_while_changing(b))))
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

/// The keys of a context in one line, as a dialog's bottom border shows them.
pub fn hint(ctx: Context, readonly: bool) -> String {
    hint_without(ctx, readonly, &[])
}

/// [`hint`], leaving out actions that would do nothing now.
pub fn hint_without(ctx: Context, readonly: bool, without: &[Action]) -> String {
    let keys: Vec<String> = footer(ctx, readonly)
        .filter(|b| !without.contains(&b.action))
        .map(|b| format!("{} {}", b.keys, b.short))
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
}
