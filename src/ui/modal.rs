//! What covers the main panes, as one stack: a detail view, the guide, help, a filter being
//! typed, a dialog. The top of the stack decides where keys go, what the footer offers and what
//! is drawn last; nothing else encodes their priority.

use ratatui::Frame;
use tui_textarea::TextArea;

use super::detail::{self, Detail};
use super::dialogs::{
    ConfirmDialog, DecideDialog, ExpireDialog, PlanDialog, QuitDialog, ReassignDialog,
    SilenceDialog,
};
use super::guide::Guide;
use super::keymap::Context;
use super::state::{FilterTarget, View};
use super::theme::Theme;

/// Filter text being typed into a pane or a detail view's list.
pub struct FilterInput {
    pub textarea: TextArea<'static>,
    pub target: FilterTarget,
}

/// One layer over the main panes.
// A handful of layers at most, rebuilt only on keys: their size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Modal {
    /// A row's detail: replaces the panes.
    Detail(Detail),
    Guide(Guide),
    /// Help, scrolled down by this many lines.
    Help(u16),
    Filter(FilterInput),
    Confirm(ConfirmDialog),
    /// A decision about releases (halt, resume, clear, approval): keys as a confirmation's.
    Decide(DecideDialog),
    Plan(PlanDialog),
    Reassign(ReassignDialog),
    Silence(SilenceDialog),
    Expire(ExpireDialog),
    Quit(QuitDialog),
    /// Every data source with its freshness and last error.
    Sources,
    /// The footer's messages in full, scrolled down by this many lines.
    Messages(u16),
}

impl Modal {
    pub fn context(&self) -> Context {
        match self {
            Modal::Detail(_) => Context::Detail,
            Modal::Guide(g) if g.editing => Context::Notes,
            Modal::Guide(_) => Context::Guide,
            Modal::Help(_) => Context::Help,
            Modal::Filter(_) => Context::Filter,
            Modal::Confirm(_) | Modal::Decide(_) => Context::Confirm,
            Modal::Plan(_) => Context::Plan,
            Modal::Reassign(_) => Context::Reassign,
            Modal::Silence(_) => Context::Silence,
            Modal::Expire(_) => Context::Expire,
            Modal::Quit(_) => Context::Quit,
            Modal::Sources => Context::Sources,
            Modal::Messages(_) => Context::Messages,
        }
    }
}

/// The layers, bottom first.
#[derive(Default)]
pub struct Modals {
    stack: Vec<Modal>,
}

macro_rules! find {
    ($name:ident, $name_mut:ident, $variant:ident, $ty:ty) => {
        pub fn $name(&self) -> Option<&$ty> {
            self.stack.iter().rev().find_map(|m| match m {
                Modal::$variant(x) => Some(x),
                _ => None,
            })
        }

        pub fn $name_mut(&mut self) -> Option<&mut $ty> {
            self.stack.iter_mut().rev().find_map(|m| match m {
                Modal::$variant(x) => Some(x),
                _ => None,
            })
        }
    };
}

impl Modals {
    find!(detail, detail_mut, Detail, Detail);
    find!(guide, guide_mut, Guide, Guide);
    find!(dialog, dialog_mut, Confirm, ConfirmDialog);
    find!(plan, plan_mut, Plan, PlanDialog);
    find!(reassign, reassign_mut, Reassign, ReassignDialog);
    find!(filter, filter_mut, Filter, FilterInput);
    find!(quit, quit_mut, Quit, QuitDialog);
    find!(silence, silence_mut, Silence, SilenceDialog);
    find!(expire, expire_mut, Expire, ExpireDialog);

    /// Where keys go now.
    pub fn context(&self) -> Context {
        self.stack.last().map_or(Context::Main, Modal::context)
    }

    pub fn top(&self) -> Option<&Modal> {
        self.stack.last()
    }

    pub fn top_mut(&mut self) -> Option<&mut Modal> {
        self.stack.last_mut()
    }

    pub fn push(&mut self, modal: Modal) {
        self.stack.push(modal);
    }

    pub fn pop(&mut self) -> Option<Modal> {
        self.stack.pop()
    }

    pub fn is_empty(&self) -> bool {
        self.stack.is_empty()
    }

    pub fn help_open(&self) -> bool {
        matches!(self.top(), Some(Modal::Help(_)))
    }

    /// Help's scroll position, if help is open.
    pub fn help_scroll(&self) -> Option<u16> {
        match self.top() {
            Some(Modal::Help(s)) => Some(*s),
            _ => None,
        }
    }

    /// Draws the detail view in place of the panes (when there is one); `false` if there is none.
    pub fn render_body(&self, view: &View<'_>, theme: &Theme, frame: &mut Frame<'_>) -> bool {
        match self.detail() {
            Some(d) => {
                detail::render(view, d, theme, frame);
                true
            }
            None => false,
        }
    }

    /// Draws the overlays, bottom first; `app_drawn` draws those drawn from the whole console
    /// (help, the messages).
    pub fn render_overlays(
        &self,
        view: &View<'_>,
        theme: &Theme,
        frame: &mut Frame<'_>,
        app_drawn: &dyn Fn(&Modal, &mut Frame<'_>),
    ) {
        for m in &self.stack {
            match m {
                Modal::Detail(_) | Modal::Filter(_) => {}
                Modal::Help(_) | Modal::Messages(_) => app_drawn(m, frame),
                Modal::Guide(g) => g.render(view, theme, frame),
                Modal::Confirm(d) => d.render(theme, frame, view.size),
                Modal::Decide(d) => d.render(theme, frame, view.size),
                Modal::Plan(d) => d.render(view.fleet, theme, frame, view.size),
                Modal::Reassign(d) => d.render(view.fleet, theme, frame, view.size),
                Modal::Silence(d) => d.render(view.fleet, theme, frame, view.size, view.now),
                Modal::Expire(d) => d.render(view.fleet, theme, frame, view.size, view.now),
                Modal::Quit(d) => d.render(theme, frame, view.size),
                Modal::Sources => super::sources::render(view, theme, frame),
            }
        }
    }
}
