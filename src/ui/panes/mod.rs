//! The five main panes. Each is a slice: its rows, its columns and its cells side by side.

pub mod alerts;
pub mod apps;
pub mod clusters;
pub mod shopsets;
pub mod tiers;

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Row, Table};

pub use super::state::PaneId;
use super::state::{ListState, Scope};
use super::theme::Theme;
use crate::domain::{Fleet, Ts};

/// What drawing the panes needs to know besides the fleet.
pub struct PanesView<'a> {
    pub fleet: &'a Fleet,
    pub now: Ts,
    /// The release policy (what freezes the tiers).
    pub policy: &'a crate::domain::release::GatePolicy,
    /// The focused pane, `None` while a detail view covers the panes.
    pub focus: Option<PaneId>,
    pub scope: Option<&'a Scope>,
    /// No data has arrived yet.
    pub waiting: bool,
    /// What the Tiers pane's title adds: the followed rollout or the failed step.
    pub tiers_note: Vec<Span<'a>>,
}

/// What every pane provides; [`rows_of`] and [`render`] do the rest generically.
pub trait PaneView {
    type Item;
    fn items(fleet: &Fleet) -> Vec<&Self::Item>;
    /// Stable identity of a row, kept across data updates.
    fn key(item: &Self::Item) -> Cow<'_, str>;
    /// Text the `/` filter searches (case-insensitively).
    fn haystack(item: &Self::Item) -> String;
    /// Does the row belong to the highlighted cluster or tier?
    fn related(fleet: &Fleet, item: &Self::Item, scope: &Scope) -> bool;
    fn columns(narrow: bool) -> Vec<(&'static str, Constraint)>;
    fn cells<'a>(
        fleet: &'a Fleet,
        item: &'a Self::Item,
        theme: &Theme,
        narrow: bool,
        now: Ts,
        policy: &crate::domain::release::GatePolicy,
    ) -> Vec<Line<'a>>;
    /// Narrow when the pane's inner width is below this.
    const WIDE_FROM: u16;
    /// Shown when the source has reported and the pane has no rows.
    const EMPTY: &'static str;

    /// Why the pane's data cannot be known now (shown instead of the empty message).
    fn unknown(_fleet: &Fleet) -> Option<String> {
        None
    }
}

/// The pane's rows after its filter, in display order.
pub fn filtered<'a, V: PaneView>(fleet: &'a Fleet, filter: &str) -> Vec<&'a V::Item> {
    let needle = filter.trim().to_lowercase();
    V::items(fleet)
        .into_iter()
        .filter(|i| needle.is_empty() || V::haystack(i).to_lowercase().contains(&needle))
        .collect()
}

/// The keys of a pane's visible rows (after `filter`), for selection handling in `update`.
pub fn keys_of(fleet: &Fleet, pane: PaneId, filter: &str) -> Vec<String> {
    fn keys<V: PaneView>(fleet: &Fleet, filter: &str) -> Vec<String> {
        filtered::<V>(fleet, filter)
            .into_iter()
            .map(|i| V::key(i).into_owned())
            .collect()
    }
    match pane {
        PaneId::Clusters => keys::<clusters::ClustersPane>(fleet, filter),
        PaneId::Tiers => keys::<tiers::TiersPane>(fleet, filter),
        PaneId::ShopSets => keys::<shopsets::ShopSetsPane>(fleet, filter),
        PaneId::Apps => keys::<apps::AppsPane>(fleet, filter),
        PaneId::Alerts => keys::<alerts::AlertsPane>(fleet, filter),
    }
}

pub fn render(
    view: &PanesView<'_>,
    state: &ListState,
    theme: &Theme,
    frame: &mut Frame<'_>,
    area: Rect,
    pane: PaneId,
) {
    let f = match pane {
        PaneId::Clusters => render_pane::<clusters::ClustersPane>,
        PaneId::Tiers => render_pane::<tiers::TiersPane>,
        PaneId::ShopSets => render_pane::<shopsets::ShopSetsPane>,
        PaneId::Apps => render_pane::<apps::AppsPane>,
        PaneId::Alerts => render_pane::<alerts::AlertsPane>,
    };
    f(view, state, theme, frame, area, pane);
}

/// Rows of a table that fit in a pane of this outer height (border and header line excluded).
pub fn page_rows(height: u16) -> usize {
    usize::from(height.saturating_sub(3)).max(1)
}

fn render_pane<V: PaneView>(
    view: &PanesView<'_>,
    state: &ListState,
    theme: &Theme,
    frame: &mut Frame<'_>,
    area: Rect,
    pane: PaneId,
) {
    let focused = view.focus == Some(pane);
    let rows = filtered::<V>(view.fleet, &state.filter);
    let total = if state.filter.is_empty() {
        rows.len()
    } else {
        V::items(view.fleet).len()
    };
    let selected = state
        .selected
        .as_ref()
        .and_then(|k| rows.iter().position(|i| V::key(i) == *k))
        .or(if rows.is_empty() { None } else { Some(0) });
    let narrow = area.width.saturating_sub(2) < V::WIDE_FROM;
    let block = pane_block(theme, view, pane, focused, rows.len(), total, &state.filter);
    let page = page_rows(area.height);
    let mut offset = state.offset.min(rows.len().saturating_sub(1));
    // The rows related to the highlighted cluster or tier are scrolled into view in the panes
    // that do not have the keys.
    if let Some(scope) = view.scope.filter(|s| !focused && pane != s.pane()) {
        let related: Vec<usize> = rows
            .iter()
            .enumerate()
            .filter(|(_, i)| V::related(view.fleet, i, scope))
            .map(|(n, _)| n)
            .collect();
        let shown = offset..offset + page;
        if let Some(first) = related.first()
            && !related.iter().any(|n| shown.contains(n))
        {
            offset = (*first).min(rows.len().saturating_sub(page));
        }
    }
    let columns = V::columns(narrow);
    let widths = column_widths(&columns, area.width.saturating_sub(2));
    let body: Vec<Row<'_>> = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(page)
        .map(|(i, item)| {
            let related = view.scope.is_some_and(|s| V::related(view.fleet, item, s));
            let lines = V::cells(view.fleet, item, theme, narrow, view.now, view.policy);
            let marker = if related {
                Span::styled(super::symbols::RELATED, theme.related())
            } else {
                Span::raw(" ")
            };
            let cells: Vec<Cell<'_>> = std::iter::once(Cell::from(marker))
                .chain(
                    lines
                        .into_iter()
                        .zip(widths.iter().skip(1).chain(std::iter::repeat(&u16::MAX)))
                        .map(|(line, w)| Cell::from(super::text::fit_line(line, *w))),
                )
                .collect();
            let row = Row::new(cells);
            if Some(i) == selected && focused {
                row.style(theme.selected())
            } else if Some(i) == selected {
                row.style(theme.base().add_modifier(ratatui::style::Modifier::BOLD))
            } else if related {
                row.style(theme.related())
            } else {
                row
            }
        })
        .collect();
    let widths: Vec<Constraint> = std::iter::once(Constraint::Length(1))
        .chain(columns.iter().map(|(_, w)| *w))
        .collect();
    let header = Row::new(std::iter::once(Cell::from(" ")).chain(header_cells(&columns)))
        .style(theme.muted());
    let table = Table::new(body, widths)
        .header(header)
        .block(block)
        .column_spacing(1);
    frame.render_widget(table, area);
    if rows.is_empty() {
        let (msg, style) = if total > 0 {
            (super::text::NO_MATCH.to_string(), theme.muted())
        } else if let Some(why) = V::unknown(view.fleet) {
            (why, theme.danger())
        } else if view.waiting {
            (super::text::WAITING_FOR_DATA.to_string(), theme.progress())
        } else {
            (V::EMPTY.to_string(), theme.ok())
        };
        let inner = Rect {
            x: area.x + 3,
            y: area.y + 2,
            width: area.width.saturating_sub(4),
            height: 1,
        };
        if area.height > 3 {
            frame.render_widget(Line::styled(msg, style), inner);
        }
    }
}

/// The widths the table gives its columns (the marker column first), as ratatui's `Table` lays
/// them out: so each cell can be shortened to its width at a word, never cut mid-word.
fn column_widths(columns: &[(&'static str, Constraint)], inner: u16) -> Vec<u16> {
    let widths = std::iter::once(Constraint::Length(1)).chain(columns.iter().map(|(_, w)| *w));
    ratatui::layout::Layout::horizontal(widths)
        .flex(ratatui::layout::Flex::Start)
        .spacing(1)
        .split(Rect::new(0, 0, inner, 1))
        .iter()
        .map(|r| r.width)
        .collect()
}

fn header_cells<'a>(
    columns: &'a [(&'static str, Constraint)],
) -> impl Iterator<Item = Cell<'static>> + 'a {
    columns.iter().map(|(t, _)| Cell::from(*t))
}

fn pane_block<'a>(
    theme: &Theme,
    view: &PanesView<'a>,
    pane: PaneId,
    focused: bool,
    shown: usize,
    total: usize,
    filter: &str,
) -> Block<'a> {
    let mut title = vec![
        Span::styled(pane.number().to_string(), theme.key()),
        Span::styled(format!(" {} ", pane.title()), theme.title(focused)),
    ];
    if filter.is_empty() {
        title.push(Span::styled(format!("{total} "), theme.muted()));
    } else {
        title.push(Span::styled(
            format!("/{filter} {shown}/{total} "),
            theme.related(),
        ));
    }
    if pane == PaneId::Tiers {
        title.extend(view.tiers_note.iter().cloned());
    }
    if let Some(scope) = view.scope
        && pane != scope.pane()
    {
        title.push(Span::styled(
            format!("{} {} ", super::symbols::RELATED, scope.label()),
            theme.related(),
        ));
    }
    Block::bordered()
        .border_style(theme.border(focused))
        .border_type(if focused {
            ratatui::widgets::BorderType::Thick
        } else {
            ratatui::widgets::BorderType::Plain
        })
        .title(Line::from(title))
}

/// A cell showing `text` in `style`.
pub fn styled<'a>(text: impl Into<String>, style: ratatui::style::Style) -> Line<'a> {
    Line::from(Span::styled(text.into(), style))
}
