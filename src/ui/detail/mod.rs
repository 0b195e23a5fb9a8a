//! Detail views: what `enter` opens on a row, one file per kind of row. A ShopSet's detail and the
//! fleet-wide search list shops, virtualised and filterable.

mod alert;
mod app;
mod cluster;
mod shops;
mod shopset;
mod tier;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::panes::shopsets::components_line;
use super::state::View;
use super::symbols;
use super::theme::Theme;
use crate::domain::{Fleet, Redundancy};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DetailTarget {
    Cluster(String),
    Tier(String),
    ShopSet(String),
    App(String),
    Alert(String),
    /// Every shop of the fleet: the fleet-wide shop search.
    AllShops,
}

/// Selection and filter inside a detail view.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DetailList {
    pub selected: usize,
    pub offset: usize,
    pub filter: String,
}

#[derive(Debug, Clone)]
pub struct Detail {
    pub target: DetailTarget,
    pub list: DetailList,
    /// Indices into `fleet.shops` of the listed shops matching the filter: a ShopSet's shops,
    /// every shop, or the shops an unreachable cluster takes down or leaves on one leg.
    pub rows: Vec<u32>,
    /// How many shops the list holds before filtering.
    pub total: usize,
    /// For a ShopSet: how many of its shops (unfiltered) are dual.
    pub dual: usize,
    /// For an unreachable cluster: its shops that are down, and those on one leg.
    pub down: usize,
    pub one_leg: usize,
    /// The view lists shops below its info panel.
    listing: bool,
    /// The fleet generation `rows` were computed for.
    generation: Option<u64>,
}

impl Detail {
    pub fn open(target: DetailTarget, fleet: &Fleet) -> Detail {
        let mut d = Detail {
            target,
            list: DetailList::default(),
            rows: Vec::new(),
            total: 0,
            dual: 0,
            down: 0,
            one_leg: 0,
            listing: false,
            generation: None,
        };
        d.refresh(fleet);
        d
    }

    /// Recomputes the rows after the fleet or the filter changed.
    pub fn refresh(&mut self, fleet: &Fleet) {
        if self.generation == Some(fleet.generation()) {
            return;
        }
        self.generation = Some(fleet.generation());
        if let DetailTarget::Cluster(name) = &self.target {
            let (rows, down, one_leg) = outage_rows(fleet, name, &self.list.filter);
            self.listing = down + one_leg > 0;
            (self.rows, self.down, self.one_leg, self.total) =
                (rows, down, one_leg, down + one_leg);
            self.list.selected = self.list.selected.min(self.rows.len().saturating_sub(1));
            return;
        }
        if self.target == DetailTarget::AllShops {
            self.listing = true;
            self.total = fleet.shops.len();
            let needle = self.list.filter.trim().to_lowercase();
            self.rows = fleet
                .shops
                .iter()
                .enumerate()
                .filter(|(_, s)| {
                    needle.is_empty()
                        || s.name.contains(&needle)
                        || s.shopsets.iter().any(|x| x.to_lowercase() == needle)
                })
                .map(|(i, _)| i as u32)
                .collect();
            self.dual = 0;
            self.list.selected = self.list.selected.min(self.rows.len().saturating_sub(1));
            return;
        }
        if let DetailTarget::ShopSet(name) = &self.target {
            let needle = self.list.filter.trim().to_lowercase();
            self.listing = true;
            self.rows.clear();
            self.dual = 0;
            self.total = 0;
            for (i, s) in fleet.shops.iter().enumerate() {
                if !s.shopsets.iter().any(|x| x == name) {
                    continue;
                }
                self.total += 1;
                if s.redundancy == Redundancy::Dual {
                    self.dual += 1;
                }
                if needle.is_empty() || s.name.contains(&needle) || s.redundancy.as_str() == needle
                {
                    self.rows.push(i as u32);
                }
            }
            self.list.selected = self.list.selected.min(self.rows.len().saturating_sub(1));
        }
    }

    pub fn set_filter(&mut self, fleet: &Fleet, filter: String) {
        self.list.filter = filter;
        self.list.selected = 0;
        self.list.offset = 0;
        self.generation = None;
        self.refresh(fleet);
    }

    pub fn has_list(&self) -> bool {
        self.listing
    }

    pub fn page_rows(&self, size: Rect) -> usize {
        let (_, list) = areas(size, self.has_list());
        usize::from(list.height.saturating_sub(3)).max(1)
    }

    pub fn move_by(&mut self, delta: isize, page: usize) {
        let len = if self.has_list() {
            self.rows.len()
        } else {
            200
        };
        if len == 0 {
            return;
        }
        let next = (self.list.selected as isize)
            .saturating_add(delta)
            .clamp(0, len as isize - 1) as usize;
        self.list.selected = next;
        if next < self.list.offset {
            self.list.offset = next;
        } else if next >= self.list.offset + page {
            self.list.offset = next + 1 - page;
        }
    }
}

/// The shops an unreachable cluster affects (down first, then those on one leg) matching
/// `filter`, and how many are down and on one leg in all. Empty while the cluster is reachable.
fn outage_rows(fleet: &Fleet, cluster: &str, filter: &str) -> (Vec<u32>, usize, usize) {
    if fleet.cluster(cluster).is_none_or(|c| c.is_reachable()) {
        return (Vec::new(), 0, 0);
    }
    let sets: std::collections::HashSet<&str> = fleet
        .shopsets_of_cluster(cluster)
        .map(|s| s.name.as_str())
        .collect();
    let needle = filter.trim().to_lowercase();
    let (mut down, mut one_leg) = (Vec::new(), Vec::new());
    let (mut n_down, mut n_one_leg) = (0, 0);
    for (i, shop) in fleet.shops.iter().enumerate() {
        if !shop.shopsets.iter().any(|s| sets.contains(s.as_str())) {
            continue;
        }
        let serving = fleet.reachable_legs(shop);
        let list = if serving == 0 {
            n_down += 1;
            &mut down
        } else {
            n_one_leg += 1;
            &mut one_leg
        };
        if needle.is_empty() || shop.name.contains(&needle) {
            list.push(i as u32);
        }
    }
    down.extend(one_leg);
    (down, n_down, n_one_leg)
}

/// The info panel and the list below it (the list is empty for views without one).
fn areas(size: Rect, has_list: bool) -> (Rect, Rect) {
    let body = super::layout::body(size);
    if has_list {
        let info_h = if body.height < 24 { 9 } else { 12 };
        let [info, list] =
            Layout::vertical([Constraint::Length(info_h), Constraint::Fill(1)]).areas(body);
        (info, list)
    } else {
        (body, Rect::default())
    }
}

/// Draws a detail view over the body of the screen.
pub fn render(view: &View<'_>, detail: &Detail, theme: &Theme, frame: &mut Frame<'_>) {
    let fleet = view.fleet;
    let (info_area, list_area) = areas(view.size, detail.has_list());
    let (title, lines) = info(view, detail, theme);
    let scroll = if detail.has_list() {
        0
    } else {
        detail.list.selected as u16
    };
    let block = Block::bordered()
        .border_style(theme.border(true))
        .title(Line::from(vec![
            Span::styled(format!(" {title} "), theme.title(true)),
            Span::styled("esc back ", theme.muted()),
        ]))
        .style(theme.base());
    frame.render_widget(
        Paragraph::new(super::text::fit_lines(
            lines,
            info_area.width.saturating_sub(2),
        ))
        .block(block)
        .scroll((scroll, 0)),
        info_area,
    );
    if detail.has_list() {
        shops::render(fleet, detail, theme, frame, list_area);
    }
}

pub(super) fn kv<'a>(theme: &Theme, key: &str, value: impl Into<Line<'a>>) -> Line<'a> {
    let mut spans = vec![Span::styled(format!("{key:<14} "), theme.muted())];
    spans.extend(value.into().spans);
    Line::from(spans)
}

/// The title and the lines of the info panel.
fn info<'a>(view: &View<'a>, detail: &'a Detail, theme: &Theme) -> (String, Vec<Line<'a>>) {
    let (fleet, now) = (view.fleet, view.now);
    match &detail.target {
        DetailTarget::ShopSet(name) => shopset::info(fleet, name, detail.dual, theme),
        DetailTarget::Cluster(name) => {
            let id = crate::domain::freshness::SourceId::Cluster(name.clone());
            let error = view
                .sources
                .iter()
                .find(|(s, _)| **s == id)
                .and_then(|(_, s)| s.error.as_deref());
            cluster::info(
                fleet,
                detail,
                name,
                theme,
                now,
                view.readonly,
                error,
                view.size.width,
            )
        }
        DetailTarget::Tier(name) => tier::info(view, name, theme),
        DetailTarget::App(name) => app::info(fleet, name, theme, now, view.size.width),
        DetailTarget::Alert(key) => alert::info(fleet, key, theme, now),
        DetailTarget::AllShops => shops::all_info(fleet, theme, view.readonly),
    }
}

/// The panel of a row that has left the fleet.
fn missing<'a>(theme: &Theme, what: &str, name: &str) -> (String, Vec<Line<'a>>) {
    (
        format!("{what} {name}"),
        vec![Line::styled(
            format!("{what} '{name}' is no longer in the fleet"),
            theme.warn(),
        )],
    )
}

pub(super) fn shopset_line<'a>(
    fleet: &'a Fleet,
    ss: &'a crate::domain::ShopSet,
    theme: &Theme,
) -> Line<'a> {
    let mut spans = vec![Span::raw(format!(
        "  {:<6} {:<10} {:>5}/{:<5} ",
        ss.name,
        ss.tier,
        fleet.shop_count(&ss.name),
        ss.capacity
    ))];
    spans.extend(components_line(fleet.stack(ss), theme).spans);
    if let Some(app) = fleet.app_for(&ss.name) {
        spans.push(Span::raw("  "));
        spans.push(Span::styled(symbols::sync(app.sync), theme.sync(app.sync)));
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            symbols::health(app.health),
            theme.health(app.health),
        ));
    }
    Line::from(spans)
}
