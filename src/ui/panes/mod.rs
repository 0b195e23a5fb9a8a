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

use super::app::{App, Scope};
use super::theme::Theme;
use crate::domain::{Fleet, Ts};

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

    pub fn title(self) -> &'static str {
        match self {
            PaneId::Clusters => "Clusters",
            PaneId::Tiers => "Tiers",
            PaneId::ShopSets => "ShopSets",
            PaneId::Apps => "Argo CD",
            PaneId::Alerts => "Alerts",
        }
    }

    pub fn index(self) -> usize {
        PaneId::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    pub fn next(self) -> PaneId {
        PaneId::ALL[(self.index() + 1) % PaneId::ALL.len()]
    }

    pub fn prev(self) -> PaneId {
        PaneId::ALL[(self.index() + PaneId::ALL.len() - 1) % PaneId::ALL.len()]
    }
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
    ) -> Vec<Cell<'a>>;
    /// Narrow when the pane's inner width is below this.
    const WIDE_FROM: u16;
    /// Shown when the source has reported and the pane has no rows.
    const EMPTY: &'static str;
}

/// The pane's rows after its filter, in display order.
pub fn filtered<'a, V: PaneView>(fleet: &'a Fleet, filter: &str) -> Vec<&'a V::Item> {
    let needle = filter.trim().to_lowercase();
    V::items(fleet)
        .into_iter()
        .filter(|i| needle.is_empty() || V::haystack(i).to_lowercase().contains(&needle))
        .collect()
}

/// The keys of a pane's visible rows, for selection handling in `update`.
pub fn keys_of(app: &App, pane: PaneId) -> Vec<String> {
    fn keys<V: PaneView>(app: &App, pane: PaneId) -> Vec<String> {
        filtered::<V>(&app.fleet, &app.pane(pane).filter)
            .into_iter()
            .map(|i| V::key(i).into_owned())
            .collect()
    }
    match pane {
        PaneId::Clusters => keys::<clusters::ClustersPane>(app, pane),
        PaneId::Tiers => keys::<tiers::TiersPane>(app, pane),
        PaneId::ShopSets => keys::<shopsets::ShopSetsPane>(app, pane),
        PaneId::Apps => keys::<apps::AppsPane>(app, pane),
        PaneId::Alerts => keys::<alerts::AlertsPane>(app, pane),
    }
}

pub fn render(app: &App, theme: &Theme, frame: &mut Frame<'_>, area: Rect, pane: PaneId) {
    match pane {
        PaneId::Clusters => render_pane::<clusters::ClustersPane>(app, theme, frame, area, pane),
        PaneId::Tiers => render_pane::<tiers::TiersPane>(app, theme, frame, area, pane),
        PaneId::ShopSets => render_pane::<shopsets::ShopSetsPane>(app, theme, frame, area, pane),
        PaneId::Apps => render_pane::<apps::AppsPane>(app, theme, frame, area, pane),
        PaneId::Alerts => render_pane::<alerts::AlertsPane>(app, theme, frame, area, pane),
    }
}

/// Rows of a table that fit in a pane of this outer height (border and header line excluded).
pub fn page_rows(height: u16) -> usize {
    usize::from(height.saturating_sub(3)).max(1)
}

fn render_pane<V: PaneView>(
    app: &App,
    theme: &Theme,
    frame: &mut Frame<'_>,
    area: Rect,
    pane: PaneId,
) {
    let state = app.pane(pane);
    let focused = app.focus == pane && app.detail.is_none();
    let rows = filtered::<V>(&app.fleet, &state.filter);
    let total = if state.filter.is_empty() {
        rows.len()
    } else {
        V::items(&app.fleet).len()
    };
    let selected = state
        .selected
        .as_ref()
        .and_then(|k| rows.iter().position(|i| V::key(i) == *k))
        .or(if rows.is_empty() { None } else { Some(0) });
    let narrow = area.width.saturating_sub(2) < V::WIDE_FROM;
    let block = pane_block(theme, app, pane, focused, rows.len(), total, &state.filter);
    let page = page_rows(area.height);
    let offset = state.offset.min(rows.len().saturating_sub(1));
    let columns = V::columns(narrow);
    let body: Vec<Row<'_>> = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(page)
        .map(|(i, item)| {
            let related = app
                .scope
                .as_ref()
                .is_some_and(|s| V::related(&app.fleet, item, s));
            let mut cells = V::cells(&app.fleet, item, theme, narrow, app.now);
            let marker = if related {
                Span::styled(super::symbols::RELATED, theme.related())
            } else {
                Span::raw(" ")
            };
            cells.insert(0, Cell::from(marker));
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
            ("no rows match the filter", theme.muted())
        } else if !app.has_data() {
            ("waiting for data…", theme.progress())
        } else {
            (V::EMPTY, theme.ok())
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

fn header_cells<'a>(
    columns: &'a [(&'static str, Constraint)],
) -> impl Iterator<Item = Cell<'static>> + 'a {
    columns.iter().map(|(t, _)| Cell::from(*t))
}

fn pane_block<'a>(
    theme: &Theme,
    app: &App,
    pane: PaneId,
    focused: bool,
    shown: usize,
    total: usize,
    filter: &str,
) -> Block<'a> {
    let mut title = vec![
        Span::styled(format!("{}", pane.index() + 1), theme.key()),
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
    if pane == PaneId::Tiers
        && let Some(failed) = &app.failed_step
    {
        title.push(Span::styled(format!("{failed} "), theme.danger()));
    }
    if pane == PaneId::Tiers
        && let Some(p) = &app.progress
    {
        let verb = if p.rollback {
            "rolling back"
        } else {
            "promoting"
        };
        let state = match p.state(&app.fleet) {
            crate::ui::release::ProgressState::Waiting => "pushed, waiting for Argo CD".to_string(),
            crate::ui::release::ProgressState::Syncing { settled, total } => {
                format!("{settled}/{total} synced")
            }
            crate::ui::release::ProgressState::Done => "done".to_string(),
            crate::ui::release::ProgressState::Failed(why) => why,
        };
        title.push(Span::styled(
            format!("◐ {verb} {}: {state} ", p.tier),
            theme.progress(),
        ));
    }
    if let Some(scope) = &app.scope
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
pub fn styled<'a>(text: impl Into<String>, style: ratatui::style::Style) -> Cell<'a> {
    Cell::from(Span::styled(text.into(), style))
}
