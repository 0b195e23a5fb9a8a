//! The five main panes. Each is a slice: its rows, its columns and its cells side by side.

pub mod alerts;
pub mod apps;
pub mod clusters;
pub mod shopsets;
pub mod tiers;

use std::borrow::Cow;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Block;

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
    /// The panes' column widths so far.
    pub steady: &'a SteadyWidths,
}

/// The widths of each pane's value columns, kept while its rows scroll by: a column is as wide
/// as its widest cell among all the pane's rows (not only those on the page), so scrolling
/// never moves a column. Measured again over every row when the filter or the number of rows
/// changes; a wider cell on the page widens its column at once.
#[derive(Debug, Default)]
pub struct SteadyWidths(std::cell::RefCell<std::collections::HashMap<(PaneId, bool), Steady>>);

#[derive(Debug)]
struct Steady {
    filter: String,
    rows: usize,
    widths: Vec<u16>,
}

impl SteadyWidths {
    /// Sets `form`'s steady widths: its value columns as wide as their widest cell in any of
    /// `rows`.
    fn hold<'a, V: PaneView<Item: 'a>>(
        &self,
        (pane, narrow): (PaneId, bool),
        filter: &str,
        rows: &[&'a V::Item],
        view: &PanesView<'a>,
        theme: &Theme,
        form: &mut Form<'_>,
    ) {
        let mut all = self.0.borrow_mut();
        let steady = all.entry((pane, narrow)).or_insert_with(|| Steady {
            filter: String::new(),
            rows: usize::MAX,
            widths: Vec::new(),
        });
        if steady.filter != filter
            || steady.rows != rows.len()
            || steady.widths.len() != form.natural.len()
        {
            let cells: Vec<Vec<Line<'_>>> = rows
                .iter()
                .map(|item| V::cells(view.fleet, item, theme, narrow, view.now, view.policy))
                .collect();
            *steady = Steady {
                filter: filter.to_string(),
                rows: rows.len(),
                widths: natural(&form.columns, &cells),
            };
        }
        for (((n, held), column), shown) in form
            .natural
            .iter()
            .zip(&mut steady.widths)
            .zip(&form.columns)
            .zip(&mut form.steady)
        {
            *held = (*held).max(*n);
            if column.text_min.is_none() {
                *shown = *held;
            }
        }
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
    /// The columns, left to right (see [`Column`]).
    fn columns(narrow: bool, view: &PanesView<'_>) -> Vec<Column>;
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

/// How many rows the Alerts pane shows after its filter (the layout gives it their height).
pub fn alert_rows(fleet: &Fleet, filter: &str) -> usize {
    filtered::<alerts::AlertsPane>(fleet, filter).len()
}

/// Draws the five panes: each pane's width first follows what its rows need — a pane with
/// room to spare gives it to its neighbour in the same row whose text would be cut — then its
/// columns share the width by their priorities. Each pane's rows and cells are made once per
/// frame; only the sharing of widths is computed again.
pub fn render_all<'s, 'v>(
    view: &PanesView<'v>,
    state: &dyn Fn(PaneId) -> &'s ListState,
    theme: &Theme,
    frame: &mut Frame<'_>,
    areas: &mut super::layout::MainAreas,
) {
    let prepared: Vec<Prepared<'v>> = PaneId::ALL
        .iter()
        .map(|&pane| {
            let f = match pane {
                PaneId::Clusters => prepare::<clusters::ClustersPane>,
                PaneId::Tiers => prepare::<tiers::TiersPane>,
                PaneId::ShopSets => prepare::<shopsets::ShopSetsPane>,
                PaneId::Apps => prepare::<apps::AppsPane>,
                PaneId::Alerts => prepare::<alerts::AlertsPane>,
            };
            f(view, state(pane), theme, areas.pane(pane), pane)
        })
        .collect();
    let of = |pane: PaneId| &prepared[usize::from(pane.number() - 1)];
    areas.share(|pane, area| of(pane).want(area.width.saturating_sub(2)));
    for pane in PaneId::ALL {
        render_prepared(
            view,
            of(pane),
            &state(pane).filter,
            theme,
            frame,
            areas.pane(pane),
            pane,
        );
    }
}

/// Rows of a table that fit in a pane of this outer height (border and header line excluded).
pub fn page_rows(height: u16) -> usize {
    usize::from(height.saturating_sub(3)).max(1)
}

/// One form of a pane's table (wide or narrow): its columns, the cells of the rows on the
/// page and each column's widest cell.
struct Form<'a> {
    columns: Vec<Column>,
    cells: Vec<Vec<Line<'a>>>,
    /// Each column's widest cell on the page.
    natural: Vec<u16>,
    /// Each value column's widest cell in all the pane's rows (see [`SteadyWidths`]).
    steady: Vec<u16>,
}

impl<'a> Form<'a> {
    fn new(columns: Vec<Column>, cells: Vec<Vec<Line<'a>>>) -> Self {
        let natural = natural(&columns, &cells);
        Form {
            columns,
            cells,
            steady: natural.clone(),
            natural,
        }
    }

    /// The columns' widths at `inner`: steady where every column fits whole at its steady
    /// width (scrolling then moves no column), else as the page needs (room matters more).
    fn widths(&self, inner: u16) -> Vec<Option<u16>> {
        let whole = |widths: &[u16]| widths.iter().map(|n| n + 1).sum::<u16>() < inner;
        if whole(&self.steady) {
            fit_columns(&self.columns, &self.steady, inner)
        } else {
            fit_columns(&self.columns, &self.natural, inner)
        }
    }

    /// Whether its kept columns fit `inner` at their least, how many it keeps, and how far it
    /// runs over when they do not (less is better).
    fn score(&self, inner: u16) -> (bool, usize, std::cmp::Reverse<u16>) {
        let widths = self.widths(inner);
        let used = 1 + widths
            .iter()
            .zip(self.columns.iter().zip(&self.natural))
            .filter(|(w, _)| w.is_some())
            .map(|(_, (c, n))| c.text_min.map_or(*n, |m| (*n).min(m)) + 1)
            .sum::<u16>();
        (
            used <= inner,
            widths.iter().filter(|w| w.is_some()).count(),
            std::cmp::Reverse(used.saturating_sub(inner)),
        )
    }
}

/// A row on the page, as drawing needs it.
struct Shown {
    selected: bool,
    related: bool,
}

/// A pane ready to draw at any width: its page of rows with their cells in both forms.
struct Prepared<'a> {
    wide: Form<'a>,
    /// Made only where it may be used: a pane whose wide form fits whole at its first width
    /// never narrows (sharing never takes a pane below what it wants).
    narrow: Option<Form<'a>>,
    wide_from: u16,
    rows: Vec<Shown>,
    /// Rows after the filter, and in all.
    matching: usize,
    total: usize,
    empty: (String, Which),
}

impl<'a> Prepared<'a> {
    /// The wide form when it keeps at least as many columns as the narrow form would (and
    /// fits), else the narrow form.
    fn form(&self, inner: u16) -> &Form<'a> {
        let wide = self.wide.score(inner);
        if inner >= self.wide_from || (wide.0 && wide.1 == self.wide.columns.len()) {
            return &self.wide;
        }
        match &self.narrow {
            Some(narrow) if wide < narrow.score(inner) => narrow,
            _ => &self.wide,
        }
    }

    /// The width the pane would like at about `inner`: the columns it keeps there, each whole
    /// (what a pane that drops columns leaves blank can go to a neighbour; cut text asks for
    /// more), borders included.
    fn want(&self, inner: u16) -> u16 {
        let form = self.form(inner);
        if form.cells.is_empty() {
            // The headers (text at its least) or the pane's message, whichever is wider.
            let headers: u16 = form
                .columns
                .iter()
                .map(|c| header_width(c).min(c.text_min.unwrap_or(u16::MAX)) + 1)
                .sum();
            let message = self.empty.0.chars().count() as u16 + 2;
            return 2 + (1 + headers).max(message);
        }
        2 + 1
            + form
                .natural
                .iter()
                .zip(form.widths(inner))
                .filter(|(_, w)| w.is_some())
                .map(|(n, _)| n + 1)
                .sum::<u16>()
    }
}

fn prepare<'a, V: PaneView<Item: 'a>>(
    view: &PanesView<'a>,
    state: &ListState,
    theme: &Theme,
    area: Rect,
    pane: PaneId,
) -> Prepared<'a> {
    let page = Page::<V>::of(view, state, area, pane);
    let rows = page
        .shown()
        .map(|(i, item)| Shown {
            selected: Some(i) == page.selected,
            related: view.scope.is_some_and(|s| V::related(view.fleet, item, s)),
        })
        .collect();
    let filter = &state.filter;
    let mut wide = Form::new(V::columns(false, view), page.cells(view, theme, false));
    view.steady
        .hold::<V>((pane, false), filter, &page.rows, view, theme, &mut wide);
    let inner = area.width.saturating_sub(2);
    let whole = wide.natural.iter().map(|n| n + 1).sum::<u16>() < inner;
    let narrow = (!whole && inner < V::WIDE_FROM).then(|| {
        let mut narrow = Form::new(V::columns(true, view), page.cells(view, theme, true));
        view.steady
            .hold::<V>((pane, true), filter, &page.rows, view, theme, &mut narrow);
        narrow
    });
    Prepared {
        wide,
        narrow,
        wide_from: V::WIDE_FROM,
        rows,
        matching: page.rows.len(),
        total: page.total,
        empty: page.empty_message(view),
    }
}

/// The rows a pane shows now: its filtered rows, the selection and the first row on screen.
struct Page<'a, V: PaneView> {
    rows: Vec<&'a V::Item>,
    total: usize,
    selected: Option<usize>,
    offset: usize,
    len: usize,
}

impl<'a, V: PaneView> Page<'a, V> {
    fn of(view: &PanesView<'a>, state: &ListState, area: Rect, pane: PaneId) -> Self {
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
        let page = page_rows(area.height);
        let mut offset = state.offset.min(rows.len().saturating_sub(1));
        // The rows related to the highlighted cluster or tier are scrolled into view in the
        // panes that do not have the keys.
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
        let len = page.min(rows.len().saturating_sub(offset));
        Page {
            rows,
            total,
            selected,
            offset,
            len,
        }
    }

    fn shown(&self) -> impl Iterator<Item = (usize, &'a V::Item)> + '_ {
        self.rows
            .iter()
            .copied()
            .enumerate()
            .skip(self.offset)
            .take(self.len)
    }

    fn cells(&self, view: &PanesView<'a>, theme: &Theme, narrow: bool) -> Vec<Vec<Line<'a>>> {
        self.shown()
            .map(|(_, item)| V::cells(view.fleet, item, theme, narrow, view.now, view.policy))
            .collect()
    }

    /// What an empty pane says, and in which style.
    fn empty_message(&self, view: &PanesView<'_>) -> (String, Which) {
        if self.total > 0 {
            (super::text::NO_MATCH.to_string(), Which::Muted)
        } else if let Some(why) = V::unknown(view.fleet) {
            (why, Which::Danger)
        } else if view.waiting {
            (super::text::WAITING_FOR_DATA.to_string(), Which::Progress)
        } else {
            (V::EMPTY.to_string(), Which::Ok)
        }
    }
}

#[derive(Clone, Copy)]
enum Which {
    Muted,
    Danger,
    Progress,
    Ok,
}

fn header_width(c: &Column) -> u16 {
    c.title.chars().count() as u16
}

/// Each column's widest cell on the page, its title included.
fn natural(columns: &[Column], cells: &[Vec<Line<'_>>]) -> Vec<u16> {
    columns
        .iter()
        .enumerate()
        .map(|(n, c)| {
            cells
                .iter()
                .filter_map(|row| row.get(n))
                .map(|l| l.width() as u16)
                .max()
                .unwrap_or(0)
                .max(header_width(c))
                .max(c.at_least)
        })
        .collect()
}

fn render_prepared(
    view: &PanesView<'_>,
    prepared: &Prepared<'_>,
    filter: &str,
    theme: &Theme,
    frame: &mut Frame<'_>,
    area: Rect,
    pane: PaneId,
) {
    let focused = view.focus == Some(pane);
    let block = pane_block(
        theme,
        view,
        pane,
        focused,
        (prepared.matching, prepared.total),
        filter,
        area.width,
    );
    let form = prepared.form(area.width.saturating_sub(2));
    let widths = form.widths(area.width.saturating_sub(2));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    draw_table(
        prepared,
        form,
        &widths,
        focused,
        theme,
        frame.buffer_mut(),
        inner,
    );
    if prepared.rows.is_empty() {
        let (msg, which) = &prepared.empty;
        let style = match which {
            Which::Muted => theme.muted(),
            Which::Danger => theme.danger(),
            Which::Progress => theme.progress(),
            Which::Ok => theme.ok(),
        };
        let inner = Rect {
            x: area.x + 3,
            y: area.y + 2,
            width: area.width.saturating_sub(4),
            height: 1,
        };
        if area.height > 3 {
            frame.render_widget(Line::styled(msg.clone(), style), inner);
        }
    }
}

/// A pane's table in its `inner` area: the headings, then each row's marker and cells, columns
/// one space apart after the marker's column. Drawn straight into the buffer: each cell once,
/// the selected row's style laid under its whole width.
fn draw_table(
    prepared: &Prepared<'_>,
    form: &Form<'_>,
    widths: &[Option<u16>],
    focused: bool,
    theme: &Theme,
    buf: &mut ratatui::buffer::Buffer,
    inner: Rect,
) {
    use ratatui::widgets::Widget;
    if inner.is_empty() {
        return;
    }
    let right = inner.right();
    let mut columns = Vec::new();
    let mut x = inner.x + 2;
    for w in widths.iter().flatten() {
        columns.push((x, *w));
        x = x.saturating_add(w + 1);
    }
    // The room of a cell at `x`, `w` wide, within the pane.
    let room = |x: u16, w: u16| Rect::new(x, 0, w.min(right.saturating_sub(x)), 1);
    let heading = Rect::new(inner.x, inner.y, inner.width, 1);
    buf.set_style(heading, theme.muted());
    for ((c, _), (x, w)) in form
        .columns
        .iter()
        .zip(widths)
        .filter(|(_, w)| w.is_some())
        .zip(&columns)
    {
        let at = room(*x, *w);
        if at.width > 0 {
            buf.set_stringn(at.x, inner.y, c.title, usize::from(at.width), Style::new());
        }
    }
    let rows = prepared.rows.iter().zip(&form.cells);
    for ((shown, lines), y) in rows.zip(inner.y + 1..inner.bottom()) {
        if shown.selected {
            let style = if focused {
                theme.selected()
            } else {
                theme.base().add_modifier(ratatui::style::Modifier::BOLD)
            };
            buf.set_style(Rect::new(inner.x, y, inner.width, 1), style);
        }
        // A row related to the highlighted cluster or tier is marked by its marker alone:
        // moving the highlight redraws one cell a row, not whole rows. On the selection bar,
        // in the bar's colours.
        let bar = shown.selected && focused;
        if shown.related {
            let style = if bar { Style::new() } else { theme.related() };
            buf.set_stringn(inner.x, y, super::symbols::RELATED, 1, style);
        }
        let kept = lines
            .iter()
            .zip(widths)
            .filter_map(|(line, w)| w.map(|w| (line, w)));
        for ((line, w), (x, _)) in kept.zip(&columns) {
            let mut at = room(*x, w);
            if at.width == 0 {
                break;
            }
            at.y = y;
            let has_bg = line.style.bg.is_some() || line.spans.iter().any(|s| s.style.bg.is_some());
            if bar {
                // The selection bar in one colour through every cell: each cell's own
                // colours would read poorly on it (grey on cyan); its symbols still say.
                put_line(
                    &super::text::fit_line(on_bar(line.clone()), at.width),
                    at,
                    buf,
                );
            } else if !has_bg && line.width() <= usize::from(at.width) {
                put_line(line, at, buf);
            } else {
                (&super::text::fit_line(on_row(line.clone()), w)).render(at, buf);
            }
        }
    }
}

/// Draws `line`, which fits `area`, as ratatui draws a line, printable ASCII spans straight
/// into the buffer's cells (a cell a byte: no grapheme segmentation, no width lookups).
fn put_line(line: &Line<'_>, area: Rect, buf: &mut ratatui::buffer::Buffer) {
    use ratatui::widgets::Widget;
    if line.width() > usize::from(area.width) {
        return line.render(area, buf);
    }
    if line.style != Style::new() {
        buf.set_style(area, line.style);
    }
    let mut x = area.x;
    for span in &line.spans {
        let text = span.content.as_ref();
        if text.bytes().all(|b| (b' '..=b'~').contains(&b)) {
            let start = buf.index_of(x, area.y);
            let cells = &mut buf.content[start..start + text.len()];
            for (cell, b) in cells.iter_mut().zip(text.bytes()) {
                cell.set_char(char::from(b)).set_style(span.style);
            }
            x += text.len() as u16;
        } else {
            let w = span.width() as u16;
            span.render(Rect::new(x, area.y, w, 1), buf);
            x += w;
        }
    }
}

/// A cell's line in the selection bar's colours.
fn on_bar(mut line: Line<'_>) -> Line<'_> {
    line.style.fg = None;
    line.style.bg = None;
    for span in &mut line.spans {
        span.style.fg = None;
        span.style.bg = None;
    }
    line
}

/// A cell's line without background colours of its own, so the row's highlight runs
/// unbroken through every cell.
fn on_row(mut line: Line<'_>) -> Line<'_> {
    line.style.bg = None;
    for span in &mut line.spans {
        span.style.bg = None;
    }
    line
}

#[allow(clippy::too_many_arguments)]
fn pane_block<'a>(
    theme: &Theme,
    view: &PanesView<'a>,
    pane: PaneId,
    focused: bool,
    (shown, total): (usize, usize),
    filter: &str,
    width: u16,
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
        // A title longer than the border is shortened at a word, and says so.
        .title(super::text::fit_line(
            Line::from(title),
            width.saturating_sub(2),
        ))
}

/// A column of a pane: what it is called and what gives way when the pane is short of room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub title: &'static str,
    /// Dropped whole when the pane is too narrow for every column, the highest first (ties:
    /// the rightmost first); 0 is never dropped.
    pub drop: u8,
    /// Free text (a subject, a summary), shortened at a word down to this width when room is
    /// short. `None`: a value shown whole or not at all — its widest cell is its width, so a
    /// symbol never loses its word.
    pub text_min: Option<u16>,
    /// At least this wide, whatever its cells: a state that changes (`● Healthy` to
    /// `◐ Progressing`) does not move the columns after it.
    pub at_least: u16,
}

/// A value column.
pub const fn value(title: &'static str, drop: u8) -> Column {
    Column {
        title,
        drop,
        text_min: None,
        at_least: 0,
    }
}

/// A value column at least `width` wide (see [`Column::at_least`]).
pub const fn state(title: &'static str, drop: u8, width: u16) -> Column {
    Column {
        title,
        drop,
        text_min: None,
        at_least: width,
    }
}

/// A free-text column.
pub const fn free_text(title: &'static str, drop: u8, min: u16) -> Column {
    Column {
        title,
        drop,
        text_min: Some(min),
        at_least: 0,
    }
}

/// The width each column gets in `inner` cells (`None`: dropped), from the widest cell of
/// each (`natural`, the title included). The marker column and one space before every
/// column are part of `inner`. Columns are dropped by their `drop` rank until the rest fit;
/// room left goes to the text columns cut short, then to the last text column.
pub fn fit_columns(columns: &[Column], natural: &[u16], inner: u16) -> Vec<Option<u16>> {
    let need = |i: usize| match columns[i].text_min {
        None => natural[i],
        Some(min) => natural[i].min(min),
    };
    let mut kept: Vec<usize> = (0..columns.len()).collect();
    let used = |kept: &[usize]| 1 + kept.iter().map(|&i| need(i) + 1).sum::<u16>();
    while used(&kept) > inner {
        let Some(pos) = kept
            .iter()
            .enumerate()
            .filter(|(_, i)| columns[**i].drop > 0)
            .max_by_key(|(n, i)| (columns[**i].drop, *n))
            .map(|(n, _)| n)
        else {
            break;
        };
        kept.remove(pos);
    }
    let mut widths: Vec<Option<u16>> = vec![None; columns.len()];
    for &i in &kept {
        widths[i] = Some(need(i));
    }
    // Even the columns never dropped do not fit: the widest give a cell at a time (a state's
    // steady width first), so every cell is shortened with its `…` rather than cut off.
    let mut over = used(&kept).saturating_sub(inner);
    while over > 0 {
        let Some(w) = widths
            .iter_mut()
            .flatten()
            .filter(|w| **w > 1)
            .max_by_key(|w| **w)
        else {
            break;
        };
        *w -= 1;
        over -= 1;
    }
    let mut extra = inner.saturating_sub(used(&kept));
    for &i in &kept {
        if columns[i].text_min.is_some()
            && let Some(w) = widths[i].as_mut()
        {
            let add = natural[i].saturating_sub(*w).min(extra);
            *w += add;
            extra -= add;
        }
    }
    if let Some(w) = kept
        .iter()
        .rev()
        .find(|i| columns[**i].text_min.is_some())
        .and_then(|&i| widths[i].as_mut())
    {
        *w += extra;
    }
    widths
}

/// A cell showing `text` in `style`.
pub fn styled<'a>(text: impl Into<String>, style: ratatui::style::Style) -> Line<'a> {
    Line::from(Span::styled(text.into(), style))
}
