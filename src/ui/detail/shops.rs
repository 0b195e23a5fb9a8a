//! Shop lists: a ShopSet's shops and the fleet-wide shop search, virtualised (only visible rows
//! are built), with each shop's legs and whether it serves.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Row, Table};

use super::{Detail, DetailTarget, kv};
use crate::domain::{Fleet, Redundancy};
use crate::ui::theme::Theme;

/// Title and lines of the fleet-wide shop search's info panel.
pub fn all_info<'a>(fleet: &'a Fleet, theme: &Theme, readonly: bool) -> (String, Vec<Line<'a>>) {
    let dual = fleet
        .shops
        .iter()
        .filter(|s| s.redundancy == Redundancy::Dual)
        .count();
    let (down, one_leg) = fleet.shops_affected_by_outage();
    let mut lines = vec![
        kv(
            theme,
            "shops",
            format!(
                "{} ({dual} dual, {} single)",
                fleet.shops.len(),
                fleet.shops.len() - dual
            ),
        ),
        kv(theme, "search", crate::ui::text::shop_search_hint(readonly)),
    ];
    if down + one_leg > 0 {
        lines.push(kv(
            theme,
            "outage",
            Span::styled(
                format!("{down} shops down, {one_leg} dual shops on one leg"),
                theme.danger(),
            ),
        ));
    }
    ("All shops".into(), lines)
}

/// The shop list of a ShopSet or of the whole fleet: only the visible rows are built.
pub fn render(fleet: &Fleet, detail: &Detail, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let page = usize::from(area.height.saturating_sub(3)).max(1);
    let rows: Vec<Row<'_>> = detail
        .rows
        .iter()
        .enumerate()
        .skip(detail.list.offset)
        .take(page)
        .map(|(i, &idx)| {
            let shop = &fleet.shops[idx as usize];
            let legs: Vec<String> = shop
                .shopsets
                .iter()
                .map(|s| format!("{s}@{}", fleet.failure_domain_of(s).unwrap_or("?")))
                .collect();
            let reachable = fleet.reachable_legs(shop);
            let (state, style) = match (reachable, shop.shopsets.len()) {
                (0, _) => ("✗ down", theme.danger()),
                (r, n) if r < n => ("▲ one leg", theme.warn()),
                _ => ("● serving", theme.ok()),
            };
            let red = match shop.redundancy {
                Redundancy::Dual => Span::styled("dual", theme.info()),
                Redundancy::Single => Span::styled("single", theme.muted()),
            };
            let row = Row::new(vec![
                Cell::from(shop.name.as_str()),
                Cell::from(red),
                Cell::from(legs.join("  ")),
                Cell::from(Span::styled(state, style)),
            ]);
            if i == detail.list.selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let total = detail.total;
    let heading = match detail.target {
        DetailTarget::Cluster(_) => " Shops down or on one leg ",
        _ => " Shops ",
    };
    let mut title = vec![Span::styled(heading, theme.title(true))];
    if detail.list.filter.is_empty() {
        title.push(Span::styled(format!("{total} "), theme.muted()));
    } else {
        title.push(Span::styled(
            format!("/{} {}/{total} ", detail.list.filter, detail.rows.len()),
            theme.related(),
        ));
    }
    let table = Table::new(
        rows,
        [
            Constraint::Length(24),
            Constraint::Length(6),
            Constraint::Fill(1),
            Constraint::Length(10),
        ],
    )
    .header(Row::new(["SHOP", "REDUN", "SHOPSETS@FAILURE-DOMAIN", "STATE"]).style(theme.muted()))
    .block(
        Block::bordered()
            .border_style(theme.border(true))
            .title(Line::from(title))
            .style(theme.base()),
    );
    frame.render_widget(table, area);
    if detail.rows.is_empty() && area.height > 3 {
        let msg = if total == 0 {
            "no shops on this ShopSet"
        } else {
            "no shops match the filter"
        };
        frame.render_widget(
            Line::styled(msg, theme.muted()),
            Rect {
                x: area.x + 2,
                y: area.y + 2,
                width: area.width.saturating_sub(4),
                height: 1,
            },
        );
    }
}
