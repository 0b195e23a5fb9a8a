//! Every key the console understands, in one table: dispatch, the footer and `?` help all come
//! from here, so they cannot disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    NextPane,
    PrevPane,
    FocusPane(usize),
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
}

/// Where the operator is: decides which bindings apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Main,
    Detail,
    Help,
    Guide,
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
const ALL: &[Context] = &[
    Context::Main,
    Context::Detail,
    Context::Help,
    Context::Guide,
];
const OVERLAYS: &[Context] = &[Context::Detail, Context::Help, Context::Guide];
const STEP: &[Context] = &[Context::Main, Context::Guide];
const GUIDE: &[Context] = &[Context::Guide];
const DETAIL: &[Context] = &[Context::Detail];

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
        action: Action::FocusPane(0),
        contexts: MAIN,
        help: "focus Clusters, Tiers, ShopSets, Argo CD, Alerts",
        short: "pane",
        footer: false,
        mutating: false,
    },
    Binding {
        keys: "j/k ↑/↓",
        action: Action::Down,
        contexts: LISTS,
        help: "move the selection",
        short: "move",
        footer: false,
        mutating: false,
    },
    Binding {
        keys: "PgUp/PgDn",
        action: Action::PageDown,
        contexts: LISTS,
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
        contexts: MAIN,
        help: "roll the selected tier back (a new commit)",
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
        help: "write release notes (saved with the audit log)",
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
        keys: "ctrl-l",
        action: Action::Redraw,
        contexts: ALL,
        help: "redraw the whole screen",
        short: "redraw",
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
        help: "quit",
        short: "quit",
        footer: true,
        mutating: false,
    },
];

/// Overlay-only meaning of `q`: close the overlay rather than quit.
const Q_CLOSES: &[Context] = OVERLAYS;

/// The action a key triggers in a context, if any. A read-only console binds no key that
/// changes the fleet.
pub fn action_for(key: KeyEvent, ctx: Context, readonly: bool) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let action = match key.code {
        KeyCode::Char('c') if ctrl => Action::Quit,
        KeyCode::Char('l') if ctrl => Action::Redraw,
        KeyCode::Char('q') if Q_CLOSES.contains(&ctx) => Action::Back,
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char('?') => Action::Help,
        KeyCode::Esc => Action::Back,
        KeyCode::Tab => Action::NextPane,
        KeyCode::BackTab => Action::PrevPane,
        KeyCode::Char(c @ '1'..='5') if !ctrl => Action::FocusPane(c as usize - '1' as usize),
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
        KeyCode::Char('f') => Action::FindShop,
        KeyCode::Char('x') => Action::Cancel,
        KeyCode::End | KeyCode::Char('G') => Action::Bottom,
        KeyCode::Enter => Action::Open,
        KeyCode::Char('/') => Action::Filter,
        _ => return None,
    };
    let applies = bindings(readonly)
        .any(|b| same_family(b.action, action) && b.contexts.contains(&ctx))
        || (action == Action::Back && Q_CLOSES.contains(&ctx));
    applies.then_some(action)
}

/// Bindings of one table row cover related actions (j/k, PgUp/PgDn, Home/End, 1-5).
fn same_family(row: Action, a: Action) -> bool {
    use Action::*;
    matches!(
        (row, a),
        (Down, Up | Down)
            | (PageDown, PageUp | PageDown)
            | (Top, Top | Bottom)
            | (FocusPane(_), FocusPane(_))
    ) || row == a
}

/// The bindings a console has: all of them, or, read-only, those that change nothing.
pub fn bindings(readonly: bool) -> impl Iterator<Item = &'static Binding> {
    BINDINGS.iter().filter(move |b| !(readonly && b.mutating))
}

/// The footer's bindings for a context.
pub fn footer(ctx: Context, readonly: bool) -> impl Iterator<Item = &'static Binding> {
    bindings(readonly).filter(move |b| b.footer && b.contexts.contains(&ctx))
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
            Some(Action::FocusPane(2))
        );
        assert_eq!(
            action_for(key(KeyCode::Char('3')), Context::Detail, false),
            None
        );
        assert_eq!(action_for(key(KeyCode::Tab), Context::Help, false), None);
    }

    #[test]
    fn read_only_binds_no_mutating_key() {
        for b in BINDINGS.iter().filter(|b| b.mutating) {
            for ctx in b.contexts {
                let c = b.keys.chars().next().expect("a key");
                assert_eq!(
                    action_for(key(KeyCode::Char(c)), *ctx, true),
                    None,
                    "{}",
                    b.keys
                );
                assert!(footer(*ctx, true).all(|f| f.action != b.action));
            }
        }
    }
}
