//! Quitting while a drain or restore runs: the console asks first, because quitting stops the
//! drain after its current batch.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::ui::keymap::{self, Context};
use crate::ui::layout::centered;
use crate::ui::placement::PlanKind;
use crate::ui::text;
use crate::ui::theme::Theme;

/// The question asked before quitting stops a running drain or restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuitDialog {
    pub kind: PlanKind,
    pub cluster: String,
}

impl QuitDialog {
    pub fn question(&self) -> String {
        text::quit_during_drain(self.kind, &self.cluster)
    }

    pub fn render(&self, theme: &Theme, frame: &mut Frame<'_>, size: Rect) {
        let area = centered(size, 70.min(size.width), 5.min(size.height));
        frame.render_widget(Clear, area);
        let block = Block::bordered()
            .border_style(theme.border(true).patch(theme.warn()))
            .title(Line::styled(text::QUIT_TITLE, theme.title(true)))
            .title_bottom(Line::styled(
                keymap::hint(Context::Quit, false),
                theme.key(),
            ))
            .style(theme.base());
        frame.render_widget(
            Paragraph::new(Line::styled(self.question(), theme.warn()))
                .wrap(Wrap { trim: true })
                .block(block),
            area,
        );
    }
}
