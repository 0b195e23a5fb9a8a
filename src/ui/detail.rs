//! Detail views: what `enter` opens on a row. A ShopSet's detail lists its shops, virtualised
//! (only visible rows are built) and filterable.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table};

use super::app::App;
use super::panes::alerts::alert_key;
use super::panes::shopsets::components_line;
use super::panes::tiers::rollout;
use super::symbols;
use super::theme::Theme;
use crate::domain::time::age;
use crate::domain::{Components, Fleet, Redundancy, Ts};

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
    /// For a ShopSet: indices into `fleet.shops` of its shops matching the filter.
    pub rows: Vec<u32>,
    /// For a ShopSet: how many of its shops (unfiltered) are dual.
    pub dual: usize,
    /// The fleet generation `rows` were computed for.
    generation: Option<u64>,
}

impl Detail {
    pub fn open(target: DetailTarget, fleet: &Fleet) -> Detail {
        let mut d = Detail {
            target,
            list: DetailList::default(),
            rows: Vec::new(),
            dual: 0,
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
        if self.target == DetailTarget::AllShops {
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
            self.rows.clear();
            self.dual = 0;
            for (i, s) in fleet.shops.iter().enumerate() {
                if !s.shopsets.iter().any(|x| x == name) {
                    continue;
                }
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
        matches!(
            self.target,
            DetailTarget::ShopSet(_) | DetailTarget::AllShops
        )
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

pub fn render(app: &App, detail: &Detail, theme: &Theme, frame: &mut Frame<'_>) {
    let (info_area, list_area) = areas(app.size, detail.has_list());
    let (title, lines) = info(&app.fleet, detail, theme, app.now, &app.operator);
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
        Paragraph::new(lines).block(block).scroll((scroll, 0)),
        info_area,
    );
    if detail.has_list() {
        render_shops(app, detail, theme, frame, list_area);
    }
}

fn render_shops(app: &App, detail: &Detail, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let fleet = &app.fleet;
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
            let reachable = shop
                .shopsets
                .iter()
                .filter(|s| {
                    fleet
                        .shopset(s)
                        .and_then(|ss| fleet.cluster(&ss.cluster))
                        .is_some_and(|c| c.is_reachable())
                })
                .count();
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
    let total = match &detail.target {
        DetailTarget::ShopSet(n) => fleet.shop_count(n) as usize,
        _ => fleet.shops.len(),
    };
    let mut title = vec![Span::styled(" Shops ", theme.title(true))];
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

fn kv<'a>(theme: &Theme, key: &str, value: impl Into<Line<'a>>) -> Line<'a> {
    let mut spans = vec![Span::styled(format!("{key:<14}"), theme.muted())];
    spans.extend(value.into().spans);
    Line::from(spans)
}

/// The title and the lines of the info panel.
fn info<'a>(
    fleet: &'a Fleet,
    detail: &'a Detail,
    theme: &Theme,
    now: Ts,
    me: &str,
) -> (String, Vec<Line<'a>>) {
    let target = &detail.target;
    let missing = |what: &str, name: &str| {
        (
            format!("{what} {name}"),
            vec![Line::styled(
                format!("{what} '{name}' is no longer in the fleet"),
                theme.warn(),
            )],
        )
    };
    match target {
        DetailTarget::ShopSet(name) => {
            let Some(ss) = fleet.shopset(name) else {
                return missing("ShopSet", name);
            };
            let count = fleet.shop_count(name);
            let dual = detail.dual;
            let fd = fleet.failure_domain_of(name).unwrap_or("?");
            let mut lines = vec![
                kv(
                    theme,
                    "tier",
                    format!("{}   configuration {}", ss.tier, ss.configuration),
                ),
                kv(
                    theme,
                    "cluster",
                    format!("{}   failure domain {fd}", ss.cluster),
                ),
                kv(
                    theme,
                    "shops",
                    format!(
                        "{count} of {} ({}%), {dual} dual",
                        ss.capacity,
                        (count * 100).checked_div(ss.capacity).unwrap_or(0)
                    ),
                ),
            ];
            let mut comp = Vec::new();
            for (n, h) in Components::NAMES.iter().zip(ss.components.as_array()) {
                comp.push(Span::styled(
                    format!("{n} {}  ", symbols::component_word(h)),
                    theme.component(h),
                ));
            }
            lines.push(kv(theme, "stack", Line::from(comp)));
            lines.push(kv(theme, "", components_line(ss, theme)));
            if let Some(app) = fleet.app_for(name) {
                lines.push(kv(
                    theme,
                    "argo cd",
                    Line::from(vec![
                        Span::raw(format!("{}  ", app.name)),
                        Span::styled(symbols::sync(app.sync), theme.sync(app.sync)),
                        Span::raw("  "),
                        Span::styled(symbols::health(app.health), theme.health(app.health)),
                        Span::raw(format!(
                            "  at {}",
                            app.app_revision
                                .as_deref()
                                .and_then(|r| r.get(..7))
                                .unwrap_or("-")
                        )),
                    ]),
                ));
            }
            let alerts: Vec<_> = fleet.active_alerts_for_shopset(ss).collect();
            if alerts.is_empty() {
                lines.push(kv(theme, "alerts", Span::styled("none active", theme.ok())));
            }
            for a in alerts {
                lines.push(kv(
                    theme,
                    "alert",
                    Span::styled(
                        format!(
                            "{} {}: {}",
                            symbols::severity(a.severity, a.state),
                            a.name,
                            a.summary
                        ),
                        theme.severity(a.severity, a.state),
                    ),
                ));
            }
            (format!("ShopSet {name}"), lines)
        }
        DetailTarget::Cluster(name) => {
            let Some(c) = fleet.cluster(name) else {
                return missing("cluster", name);
            };
            let mut lines = vec![
                kv(theme, "provider", c.provider.clone()),
                kv(theme, "failure domain", c.failure_domain.clone()),
                kv(
                    theme,
                    "state",
                    Span::styled(
                        symbols::reachability(c.reachability),
                        if c.is_reachable() {
                            theme.ok()
                        } else {
                            theme.danger()
                        },
                    ),
                ),
                kv(
                    theme,
                    "since",
                    c.reachability_since
                        .map(|t| format!("{} ({} ago)", t.rfc3339(), age(t.secs_until(now))))
                        .unwrap_or_else(|| "-".into()),
                ),
                kv(
                    theme,
                    "cordoned",
                    if c.cordoned {
                        "yes: receives no shops"
                    } else {
                        "no"
                    },
                ),
                kv(
                    theme,
                    "version",
                    c.server_version.clone().unwrap_or_else(|| "?".into()),
                ),
                kv(
                    theme,
                    "nodes ready",
                    format!("{}/{}", c.nodes_ready, c.nodes_total),
                ),
                Line::raw(""),
                Line::styled("ShopSets", theme.title(false)),
            ];
            for ss in fleet.shopsets_of_cluster(name) {
                lines.push(shopset_line(fleet, ss, theme));
            }
            let (down, one_leg) = fleet.shops_affected_by_outage();
            if !c.is_reachable() {
                lines.push(Line::raw(""));
                lines.push(Line::styled(
                    format!("fleet-wide: {down} shops down, {one_leg} dual shops on one leg — esc, then d plans their evacuation"),
                    theme.danger(),
                ));
            }
            (format!("Cluster {name}"), lines)
        }
        DetailTarget::Tier(name) => {
            let Some(t) = fleet.tier(name) else {
                return missing("tier", name);
            };
            let (settled, total) = rollout(fleet, t);
            let mut lines = vec![
                kv(theme, "level", t.level.to_string()),
                kv(theme, "branch", t.branch.clone()),
                kv(
                    theme,
                    "revision",
                    t.revision
                        .as_ref()
                        .map(|r| format!("{}  {}", r.label(), r.subject))
                        .unwrap_or_else(|| "?".into()),
                ),
                kv(
                    theme,
                    "full id",
                    t.revision
                        .as_ref()
                        .map(|r| r.id.clone())
                        .unwrap_or_default(),
                ),
                kv(
                    theme,
                    "updated",
                    t.updated_at
                        .map(|u| format!("{} ({} ago)", u.rfc3339(), age(u.secs_until(now))))
                        .unwrap_or_else(|| "-".into()),
                ),
                kv(theme, "soak time", format!("{}s", t.soak_secs)),
                kv(
                    theme,
                    "settled",
                    format!("{settled}/{total} ShopSets Synced and Healthy"),
                ),
            ];
            if let Some(below) = fleet.tier_below(name) {
                lines.push(kv(
                    theme,
                    "tier below",
                    format!(
                        "{} at {}",
                        below.name,
                        below
                            .revision
                            .as_ref()
                            .map(|r| r.label())
                            .unwrap_or_default()
                    ),
                ));
            }
            if let Some(prev) = &t.previous {
                lines.push(kv(
                    theme,
                    "rollback to",
                    format!("{}  {}", prev.label(), prev.subject),
                ));
            }
            if let Some(g) = crate::domain::release::gate(
                fleet,
                name,
                now,
                &Default::default(),
                fleet.lock.as_ref(),
                me,
            ) {
                lines.push(Line::raw(""));
                let verdict = if g.passed() {
                    ("passes: s promotes", theme.ok())
                } else if g.passes_with_override() {
                    ("fails; may be overridden with a reason", theme.warn())
                } else {
                    ("fails", theme.danger())
                };
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("Gate {} → {}: ", g.from_tier, g.tier),
                        theme.title(false),
                    ),
                    Span::styled(verdict.0, verdict.1),
                ]));
                lines.extend(super::release::check_lines(&g, theme));
            }
            lines.push(Line::raw(""));
            lines.push(Line::styled("ShopSets", theme.title(false)));
            for ss in fleet.shopsets_of_tier(name) {
                lines.push(shopset_line(fleet, ss, theme));
            }
            (format!("Tier {name}"), lines)
        }
        DetailTarget::App(name) => {
            let Some(a) = fleet.apps.iter().find(|a| a.name == *name) else {
                return missing("application", name);
            };
            let lines = vec![
                kv(theme, "shopset", a.shopset.clone()),
                kv(
                    theme,
                    "sync",
                    Span::styled(symbols::sync(a.sync), theme.sync(a.sync)),
                ),
                kv(
                    theme,
                    "health",
                    Span::styled(symbols::health(a.health), theme.health(a.health)),
                ),
                kv(theme, "operation", symbols::operation(a.operation)),
                kv(
                    theme,
                    "revision",
                    a.revision.clone().unwrap_or_else(|| "-".into()),
                ),
                kv(
                    theme,
                    "base",
                    a.app_revision.clone().unwrap_or_else(|| "-".into()),
                ),
                kv(
                    theme,
                    "last synced",
                    a.last_sync_finished
                        .map(|t| format!("{} ({} ago)", t.rfc3339(), age(t.secs_until(now))))
                        .unwrap_or_else(|| "-".into()),
                ),
            ];
            (format!("Application {name}"), lines)
        }
        DetailTarget::AllShops => {
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
                kv(
                    theme,
                    "search",
                    "/ filters by name or ShopSet; r reassigns the selected shop",
                ),
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
        DetailTarget::Alert(key) => {
            let Some(a) = fleet.alerts.iter().find(|a| alert_key(a) == *key) else {
                return (
                    "Alert".into(),
                    vec![Line::styled("this alert has resolved", theme.ok())],
                );
            };
            let mut lines = vec![
                kv(
                    theme,
                    "severity",
                    Span::styled(
                        symbols::severity(a.severity, a.state),
                        theme.severity(a.severity, a.state),
                    ),
                ),
                kv(theme, "summary", a.summary.clone()),
                kv(
                    theme,
                    "since",
                    format!(
                        "{} ({} ago)",
                        a.since.rfc3339(),
                        age(a.since.secs_until(now))
                    ),
                ),
                kv(theme, "scope", a.scope(&fleet.scope_labels)),
                Line::raw(""),
                Line::styled("Labels", theme.title(false)),
            ];
            for (k, v) in &a.labels {
                lines.push(kv(theme, k, v.clone()));
            }
            (format!("Alert {}", a.name), lines)
        }
    }
}

fn shopset_line<'a>(fleet: &'a Fleet, ss: &'a crate::domain::ShopSet, theme: &Theme) -> Line<'a> {
    let mut spans = vec![Span::raw(format!(
        "  {:<6} {:<10} {:>5}/{:<5} ",
        ss.name,
        ss.tier,
        fleet.shop_count(&ss.name),
        ss.capacity
    ))];
    spans.extend(components_line(ss, theme).spans);
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
