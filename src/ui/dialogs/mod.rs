//! The console's dialogs, one file each and each a self-contained slice: its state, what its
//! keys do to it (`on_action`, which answers an [`Outcome`]), and how it draws itself. Its keys
//! are its context's rows of the key table; `update` opens a dialog and carries out what its
//! outcome asks (close it, say something, run the confirmed change).

pub mod confirm;
pub mod decide;
pub mod plan;
pub mod quit;
pub mod reassign;
pub mod silence;

pub use confirm::ConfirmDialog;
pub use decide::DecideDialog;
pub use plan::PlanDialog;
pub use quit::QuitDialog;
pub use reassign::ReassignDialog;
pub use silence::{ExpireDialog, SilenceDialog};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use tui_textarea::TextArea;

use crate::domain::placement::DrainPlan;
use crate::ops::Mutation;
use crate::ops::drain::PlanKind;
use crate::ui::theme::Theme;

/// What a key did to a dialog, for `update` to carry out.
#[derive(Debug)]
pub enum Outcome {
    /// It stays open (its own state may have changed).
    Stay,
    /// It stays open, and says why what was asked cannot be done.
    Refuse(String),
    /// It closes, saying something (and whether it is bad) when there is something to say.
    Close(Option<(String, bool)>),
    /// The operator asked to quit.
    Quit,
    /// It closes and the confirmed mutation runs; `doing` is said meanwhile. `notes`: the
    /// release guide's notes go into the audit line.
    Run {
        mutation: Mutation,
        doing: String,
        notes: bool,
    },
    /// It closes and the confirmed drain or restore runs.
    RunPlan {
        kind: PlanKind,
        cluster: String,
        drain: String,
        plan: DrainPlan,
    },
}

/// A screen's keys (the wall's, the player's) as lines: each key, aligned, and what it does.
pub fn key_lines(
    keys: Vec<(String, &'static str)>,
    theme: &Theme,
    indent: &str,
) -> Vec<Line<'static>> {
    let key_w = keys
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(4);
    keys.into_iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(format!("{indent}{k:<key_w$}{indent}"), theme.key()),
                Span::styled(what, theme.base()),
            ])
        })
        .collect()
}

/// A dialog's frame at `area`: its title, its keys on the bottom border, `lines` wrapped, and
/// below them the text field `reason` (with its own title) when it asks for one.
#[allow(clippy::too_many_arguments)]
pub fn render_framed(
    frame: &mut Frame<'_>,
    theme: &Theme,
    area: Rect,
    title: &str,
    keys: String,
    border: Style,
    lines: Vec<Line<'_>>,
    reason: Option<(&TextArea<'static>, &'static str)>,
) {
    frame.render_widget(Clear, area);
    let block = Block::bordered()
        .border_style(border)
        .title(Line::from(vec![Span::styled(
            format!(" {title} "),
            theme.title(true),
        )]))
        .title_bottom(Line::styled(keys, theme.key()))
        .style(theme.base());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let reason_h = if reason.is_some() { 3 } else { 0 };
    let [body, field] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(reason_h)]).areas(inner);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
    if let Some((ta, field_title)) = reason {
        let mut ta = ta.clone();
        ta.set_block(
            Block::bordered()
                .border_style(theme.warn())
                .title(field_title),
        );
        frame.render_widget(&ta, field);
    }
}
