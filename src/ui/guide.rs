//! The release guide overlay: the checklist, the next action and the notes for the postmortem.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use tui_textarea::TextArea;

use super::keymap::{self, Context};
use super::layout::centered;
use super::state::View;
use super::text;
use super::theme::Theme;
use crate::domain::release::{GuideState, guide, next_action};

/// The guide overlay's own state: the notes field.
pub struct Guide {
    pub notes: TextArea<'static>,
    pub editing: bool,
    /// The notes as last saved to the audit log.
    pub saved: String,
}

impl Guide {
    pub fn new(notes: &str) -> Guide {
        let mut ta = TextArea::new(if notes.is_empty() {
            vec![String::new()]
        } else {
            notes.lines().map(str::to_string).collect()
        });
        ta.set_placeholder_text(text::NOTES_PLACEHOLDER);
        Guide {
            notes: ta,
            editing: false,
            saved: notes.to_string(),
        }
    }

    pub fn text(&self) -> String {
        self.notes.lines().join("\n")
    }

    pub fn render(&self, view: &View<'_>, theme: &Theme, frame: &mut Frame<'_>) {
        let (fleet, size) = (view.fleet, view.size);
        let rows = guide(fleet, view.now, view.policy, view.me);
        let next_row = next_action(&rows);
        let next = next_row.map(|r| r.tier.as_str());
        let action = text::next_action(next_row, view.readonly);
        let release = fleet
            .tiers
            .first()
            .and_then(|t| t.revision.as_ref())
            .map(|r| format!("{}  {}", r.label(), r.subject))
            .unwrap_or_default();
        let mut lines = vec![
            Line::from(vec![
                Span::styled(text::RELEASE_LABEL, theme.muted()),
                Span::raw(release),
            ]),
            Line::raw(""),
        ];
        if let Some(h) = fleet.controls.fleet_halt() {
            lines.push(Line::styled(format!(" ✗ {}", h.describe()), theme.danger()));
            lines.push(Line::raw(""));
        }
        for r in &rows {
            let (mark, word, style) = match &r.state {
                GuideState::Done => ("✓", "done".to_string(), theme.ok()),
                GuideState::Syncing { settled, total } => {
                    ("◐", text::syncing(*settled, *total), theme.progress())
                }
                GuideState::Failed { shopset } => (
                    "✗",
                    format!("failed: {}", text::guide_failed(shopset, view.readonly)),
                    theme.danger(),
                ),
                GuideState::Soaking { left } => ("◷", text::soaking(*left), theme.progress()),
                GuideState::Next => ("▶", "next".to_string(), theme.selected()),
                GuideState::Blocked(why) => ("✗", text::blocked(why), theme.danger()),
                GuideState::Waiting => ("·", text::WAITING.to_string(), theme.muted()),
            };
            let line = Line::from(vec![
                Span::styled(
                    format!(" {mark} {:<10} {:<16} ", r.tier, r.revision),
                    if Some(r.tier.as_str()) == next {
                        theme.title(true)
                    } else {
                        theme.base()
                    },
                ),
                Span::styled(word, style),
            ]);
            lines.push(line);
            // The tier's halt, freeze, approval and verification, one line each.
            for n in &r.notes {
                let (mark, style) = if n.waiting {
                    ("◷", theme.progress())
                } else if n.ok {
                    ("✓", theme.muted())
                } else {
                    ("✗", theme.danger())
                };
                lines.push(Line::from(vec![
                    Span::raw("     "),
                    Span::styled(format!("{mark} {}", n.text), style),
                ]));
            }
        }
        lines.push(Line::raw(""));
        lines.push(Line::styled(action, theme.title(true)));
        let h = (lines.len() as u16 + 9).min(size.height);
        let area = centered(size, 90.min(size.width), h);
        frame.render_widget(Clear, area);
        let ctx = if self.editing {
            Context::Notes
        } else {
            Context::Guide
        };
        let keys = keymap::hint(ctx, view.readonly);
        let block = Block::bordered()
            .border_style(theme.border(true))
            .title(Line::styled(" Release guide ", theme.title(true)))
            .title_bottom(Line::styled(keys, theme.key()))
            .style(theme.base());
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [body, notes] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(5)]).areas(inner);
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
        let mut ta = self.notes.clone();
        ta.set_block(
            Block::bordered()
                .border_style(theme.border(self.editing))
                .title(text::notes_title(view.readonly)),
        );
        if !self.editing {
            ta.set_cursor_style(ratatui::style::Style::new());
        }
        frame.render_widget(&ta, notes);
    }
}
