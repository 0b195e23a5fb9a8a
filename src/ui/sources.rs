//! The sources view (`i`): every source the fleet's data comes from — control plane, each
//! cluster, each Argo CD, Alertmanager, git — with its state, the age of its last answer and its
//! last error, so that a stale header can be traced to the peer behind it.

use ratatui::Frame;
use ratatui::layout::Constraint;
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Clear, Row, Table};

use super::layout::centered;
use super::state::View;
use super::text;
use super::theme::Theme;
use crate::domain::time::age;

pub fn render(view: &View<'_>, theme: &Theme, frame: &mut Frame<'_>) {
    let size = view.size;
    let area = centered(
        size,
        100.min(size.width),
        size.height.saturating_sub(4).max(6),
    );
    frame.render_widget(Clear, area);
    let mut state_w = 10u16;
    let mut errors = Vec::new();
    let cells: Vec<Vec<Cell<'_>>> = view
        .sources
        .iter()
        .map(|(id, s)| {
            let since = s.last_ok.or(s.failing_since);
            let secs = since.map(|t| t.secs_until(view.now));
            let (state, style) = match (&s.error, secs, &s.loading) {
                (Some(_), _, _) => (text::SOURCE_FAILING.to_string(), theme.danger()),
                (None, _, Some(l)) if s.last_ok.is_none() => {
                    (text::source_loading(l), theme.progress())
                }
                (None, Some(a), _) if a > id.stale_after_secs() => {
                    (text::SOURCE_STALE.to_string(), theme.warn())
                }
                (None, Some(_), _) => (text::SOURCE_LIVE.to_string(), theme.ok()),
                (None, None, _) => (text::SOURCE_WAITING.to_string(), theme.progress()),
            };
            state_w = state_w.max(ratatui::text::Span::raw(state.as_str()).width() as u16);
            errors.push(s.error.clone().unwrap_or_default());
            vec![
                Cell::from(id.to_string()),
                Cell::from(state).style(style),
                Cell::from(secs.map(age).unwrap_or_else(|| "—".into())),
            ]
        })
        .collect();
    // Each error whole, wrapped in its column: a row is as tall as its error needs.
    let error_w = usize::from(area.width.saturating_sub(2 + 22 + state_w + 6 + 3)).max(10);
    let rows: Vec<Row<'_>> = cells
        .into_iter()
        .zip(errors)
        .map(|(mut row, error)| {
            let lines: Vec<Line<'_>> = text::wrap(&error, error_w)
                .into_iter()
                .map(Line::from)
                .collect();
            let height = lines.len().max(1) as u16;
            row.push(Cell::from(ratatui::text::Text::from(lines)));
            Row::new(row).height(height)
        })
        .collect();
    let empty = rows.is_empty();
    let block = Block::bordered()
        .border_style(theme.border(true))
        .title(Line::styled(text::SOURCES_TITLE, theme.title(true)))
        .title_bottom(Line::styled(text::SOURCES_KEYS, theme.key()))
        .style(theme.base());
    let table = Table::new(
        rows,
        [
            Constraint::Length(22),
            Constraint::Length(state_w),
            Constraint::Length(6),
            Constraint::Fill(1),
        ],
    )
    .header(Row::new(text::SOURCES_COLUMNS.iter().copied().map(Cell::from)).style(theme.muted()))
    .block(block)
    .column_spacing(1);
    frame.render_widget(table, area);
    if empty && area.height > 3 {
        let inner = ratatui::layout::Rect {
            x: area.x + 2,
            y: area.y + 2,
            width: area.width.saturating_sub(4),
            height: 1,
        };
        frame.render_widget(
            Line::styled(text::WAITING_FOR_DATA, theme.progress()),
            inner,
        );
    }
}
