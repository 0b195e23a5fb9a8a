//! The wall screen (`--wall`): read from across a room, no keyboard needed, running for weeks.
//! Three views — the release ladder, the failure-domain map and the firing alerts — shown
//! together when they fit, otherwise one at a time, rotating. Stale data turns the whole screen
//! into a warning that counts up until the data flows again.

use std::collections::BTreeMap;

use crossterm::event::KeyEvent;

use super::keymap::{self, Action, Context};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};

use super::app::{App, Freshness};
pub use super::state::{ROTATE_DEFAULT, WallState, WallView};
use super::theme::Theme;
use crate::domain::release::{GuideState, guide, rollout};
use crate::domain::{AlertState, Fleet, Reachability};

/// The clock moved: rotate when the current view has had its time. Returns whether the screen
/// changed.
pub fn on_tick(app: &mut App) -> bool {
    let now = app.data.now;
    let all_fit = fits_all(&app.data.fleet, app.view.size);
    let Some(wall) = &mut app.view.wall else {
        return false;
    };
    if let Some(until) = wall.help_until {
        if until <= now {
            wall.help_until = None;
        }
        // Closed, or its countdown moved.
        return true;
    }
    match wall.since {
        None => {
            wall.since = Some(now);
            false
        }
        Some(_) if all_fit || wall.rotate_secs == 0 => false,
        Some(since) => {
            if since.secs_until(now).abs() >= i64::try_from(wall.rotate_secs).unwrap_or(i64::MAX) {
                wall.step(1, now);
            }
            // The countdown in the header moves every second.
            true
        }
    }
}

/// A key pressed by someone standing at the wall. Returns false for keys the wall does not use.
pub fn on_key(app: &mut App, key: KeyEvent) -> bool {
    let now = app.data.now;
    let Some(wall) = &mut app.view.wall else {
        return false;
    };
    app.view.dirty = true;
    // `?` opens the wall's own help, which closes by itself; any key closes it first.
    if wall.help_until.take().is_some() {
        return true;
    }
    if keymap::action_for(key, Context::Main, true) == Some(Action::Help) {
        wall.help_until = Some(now.plus_secs(HELP_SECS));
        return true;
    }
    match keymap::action_for(key, Context::Wall, true) {
        Some(Action::NextView) => wall.step(1, now),
        Some(Action::PrevView) => wall.step(-1, now),
        Some(Action::ShowView(n)) => {
            wall.view = usize::from(n);
            wall.since = Some(now);
        }
        _ => return false,
    }
    app.view.dirty = true;
    true
}

/// Seconds the wall's help stays up.
pub const HELP_SECS: i64 = 10;

/// Rows each view needs to show everything.
fn needs(fleet: &Fleet, view: WallView) -> u16 {
    let n = match view {
        WallView::Ladder => fleet.tiers.len(),
        WallView::Map => fleet.clusters.len() + domain_rows(fleet).len() + 1,
        WallView::Alerts => active_alerts(fleet).len().max(1),
    };
    u16::try_from(n).unwrap_or(u16::MAX).saturating_add(2)
}

/// How tall the stale banner is on a screen `height` rows high.
fn banner_rows(height: u16) -> u16 {
    match height {
        h if h >= 40 => 5,
        h if h >= 24 => 3,
        _ => 2,
    }
}

/// The three views fit on one screen (then nothing rotates).
pub fn fits_all(fleet: &Fleet, size: Rect) -> bool {
    // The stale banner's rows are kept free: the layout does not jump when data goes stale.
    let body = size.height.saturating_sub(2 + banner_rows(size.height));
    let (l, m, a) = (
        needs(fleet, WallView::Ladder),
        needs(fleet, WallView::Map),
        needs(fleet, WallView::Alerts).min(5),
    );
    if size.width >= 150 {
        l.max(m) + a <= body || (l + a <= body && m <= body)
    } else {
        l + m + a <= body && size.width >= 80
    }
}

/// The failure domains that get a row of their own: those grouping several clusters or named
/// differently from their one cluster (a domain that is just its cluster needs no header).
fn domain_rows(fleet: &Fleet) -> Vec<&str> {
    let mut domains: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in &fleet.clusters {
        domains
            .entry(c.failure_domain.as_str())
            .or_default()
            .push(&c.name);
    }
    domains
        .into_iter()
        .filter(|(d, cs)| cs.len() > 1 || cs.first().is_some_and(|c| c != d))
        .map(|(d, _)| d)
        .collect()
}

fn active_alerts(fleet: &Fleet) -> Vec<&crate::domain::Alert> {
    let mut v: Vec<_> = fleet
        .alerts
        .iter()
        .filter(|a| a.state == AlertState::Active)
        .collect();
    v.sort_by_key(|a| (a.severity, std::cmp::Reverse(a.since)));
    v
}

/// Draws the wall screen.
pub fn render(app: &App, theme: &Theme, frame: &mut Frame<'_>) {
    let Some(wall) = &app.view.wall else {
        return;
    };
    let size = frame.area();
    let stale = match app.freshness() {
        Freshness::Stale {
            secs,
            source,
            error,
        } => Some((secs, source, error)),
        _ => None,
    };
    // The banner's rows are always kept: the views do not move when data goes stale.
    let banner_h = banner_rows(size.height);
    let [head, banner, body, foot] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner_h),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(size);
    let all = fits_all(&app.data.fleet, app.view.size);
    header(app, wall, all, theme, frame, head);
    // The stale warning goes over everything, so it is drawn last.
    let band = |frame: &mut Frame<'_>| status_band(app, stale.as_ref(), theme, frame, banner, body);
    // Stale data is framed in the warning colour too: every part of the screen says so.
    let frame_style = if stale.is_some() {
        theme.danger()
    } else {
        theme.border(false)
    };
    if all {
        if size.width >= 150 {
            let [left, right] =
                Layout::horizontal([Constraint::Percentage(50), Constraint::Fill(1)]).areas(body);
            let ladder_h = needs(&app.data.fleet, WallView::Ladder);
            let [top, bottom] =
                Layout::vertical([Constraint::Length(ladder_h), Constraint::Fill(1)]).areas(left);
            view(app, WallView::Ladder, frame_style, theme, frame, top);
            view(app, WallView::Alerts, frame_style, theme, frame, bottom);
            view(app, WallView::Map, frame_style, theme, frame, right);
        } else {
            let (ln, mn) = (
                needs(&app.data.fleet, WallView::Ladder),
                needs(&app.data.fleet, WallView::Map),
            );
            let spare = body.height.saturating_sub(ln + mn + 8);
            let ladder_h = ln + spare.min(u16::try_from(app.data.fleet.tiers.len()).unwrap_or(0));
            let [l, m, a] = Layout::vertical([
                Constraint::Length(ladder_h),
                Constraint::Length(mn),
                Constraint::Fill(1),
            ])
            .areas(body);
            view(app, WallView::Ladder, frame_style, theme, frame, l);
            view(app, WallView::Map, frame_style, theme, frame, m);
            view(app, WallView::Alerts, frame_style, theme, frame, a);
        }
    } else {
        view(app, wall.current(), frame_style, theme, frame, body);
    }
    // A replay's footer has the replay's keys.
    let keys = keymap::screen_footer(if app.session.replay.is_some() {
        Context::Replay
    } else {
        Context::Wall
    });
    let mut spans = Vec::new();
    for (k, what) in keys {
        spans.push(Span::styled(k, theme.key()));
        spans.push(Span::styled(format!(" {what}  "), theme.muted()));
    }
    frame.render_widget(Line::from(spans), foot);
    if wall.help_until.is_some() {
        help(app, wall, theme, frame, body);
    }
    band(frame);
}

/// The rows under the header: the stale warning, its whole text wrapped; otherwise a quiet
/// line saying the data is live.
fn status_band(
    app: &App,
    stale: Option<&(i64, crate::domain::freshness::SourceId, Option<String>)>,
    theme: &Theme,
    frame: &mut Frame<'_>,
    area: Rect,
    below: Rect,
) {
    let Some((secs, source, error)) = stale else {
        let (text, style) = match app.freshness() {
            Freshness::Live => ("● every source live".to_string(), theme.ok()),
            f => (super::text::freshness(&f, true), theme.progress()),
        };
        let mid = Rect {
            y: area.y + area.height / 2,
            height: 1.min(area.height),
            ..area
        };
        frame.render_widget(
            Paragraph::new(Line::styled(text, style)).alignment(ratatui::layout::Alignment::Center),
            mid,
        );
        return;
    };
    let text = format!(
        "▲ DATA IS STALE — {source} silent for {}{}",
        crate::domain::time::age(*secs),
        error.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
    );
    let style = theme
        .danger()
        .add_modifier(Modifier::REVERSED | Modifier::BOLD);
    let mut lines = super::text::wrap(&text, usize::from(area.width.saturating_sub(2)));
    // Its text whole: a warning longer than its rows runs over the top of the views (up to
    // half of them) rather than moving them.
    let rows = lines
        .len()
        .max(usize::from(area.height))
        .min(usize::from(area.height + below.height / 2))
        .max(1);
    if lines.len() > rows {
        let rest = lines[rows - 1..].join(" ");
        lines.truncate(rows - 1);
        lines.push(super::text::fit(&rest, usize::from(area.width.saturating_sub(2))).into_owned());
    }
    let area = Rect {
        height: rows as u16,
        ..area
    };
    frame.render_widget(ratatui::widgets::Clear, area);
    let pad = (rows - lines.len()) / 2;
    let lines: Vec<Line> = std::iter::repeat_n(Line::raw(""), pad)
        .chain(lines.into_iter().map(|l| Line::styled(l, style)))
        .collect();
    frame.render_widget(
        Paragraph::new(lines)
            .style(style)
            .alignment(ratatui::layout::Alignment::Center),
        area,
    );
}

/// The wall's own keys, over the views (never over the stale warning); it closes by itself.
fn help(app: &App, wall: &WallState, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let mut lines = vec![Line::styled(" Wall keys", theme.title(true))];
    lines.extend(super::dialogs::key_lines(
        keymap::screen_help(Context::Wall),
        theme,
        "  ",
    ));
    let left = wall
        .help_until
        .map_or(0, |until| app.data.now.secs_until(until).max(0));
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!(" closes in {left}s, or press any key"),
        theme.muted(),
    ));
    let w = (lines.iter().map(Line::width).max().unwrap_or(20) as u16 + 4).min(area.width);
    let h = (lines.len() as u16 + 2).min(area.height);
    let at = super::layout::centered(area, w, h);
    super::dialogs::render_framed(
        frame,
        theme,
        at,
        "Help",
        String::new(),
        theme.border(true),
        lines,
        None,
    );
}

fn header(
    app: &App,
    wall: &WallState,
    all: bool,
    theme: &Theme,
    frame: &mut Frame<'_>,
    area: Rect,
) {
    let bold = theme.header().add_modifier(Modifier::BOLD);
    // Narrow: the fleet and the current view alone (the others are one key away).
    let narrow = area.width < 100;
    let mut left = vec![
        Span::styled(if narrow { " " } else { " shopctl wall " }, bold),
        Span::styled(format!("{} ", app.data.fleet.name), theme.header()),
    ];
    if let Some(label) =
        super::text::replay_label(app.session.replay.as_ref(), app.data.now, narrow)
    {
        left.push(Span::styled(
            label,
            theme.warn().add_modifier(Modifier::REVERSED),
        ));
    }
    // A halt of every promotion, readable from across the room.
    if let Some(h) = app.data.fleet.controls.fleet_halt() {
        left.push(Span::styled(
            if narrow {
                " HALTED ".to_string()
            } else {
                format!(" HALTED by {}: {} ", h.by, h.reason)
            },
            theme
                .danger()
                .add_modifier(Modifier::REVERSED | Modifier::BOLD),
        ));
        left.push(Span::styled(" ", theme.header()));
    }
    // An outage, counted: shops with no ShopSet serving, and dual shops left on one.
    let (down, one_leg) = app.data.fleet.shops_affected_by_outage();
    if down + one_leg > 0 {
        left.push(Span::styled(
            if narrow {
                format!(" ✗ {down} down {one_leg} 1-leg ")
            } else {
                format!(" ✗ {down} shops down, {one_leg} on one leg ")
            },
            theme.danger().add_modifier(Modifier::BOLD),
        ));
        left.push(Span::styled(" ", theme.header()));
    }
    let mut tabs: Vec<Span> = Vec::new();
    if !all {
        let views: Vec<Span> = WallView::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| !narrow || *i == wall.view % WallView::ALL.len())
            .flat_map(|(i, v)| {
                let style = if i == wall.view % WallView::ALL.len() {
                    bold.add_modifier(Modifier::REVERSED)
                } else {
                    theme.header()
                };
                [
                    Span::styled(format!(" {} ", v.title()), style),
                    Span::styled(" ", theme.header()),
                ]
            })
            .collect();
        tabs.push(Span::styled("│ ", theme.header()));
        tabs.extend(views);
        if let Some(n) = wall.next_in(app.data.now).filter(|_| wall.rotate_secs > 0) {
            tabs.push(Span::styled(
                if narrow {
                    format!("next {}s", n.max(0))
                } else {
                    format!("next in {}s", n.max(0))
                },
                theme.header(),
            ));
        }
    }
    let freshness = app.freshness();
    let fresh = super::text::freshness(&freshness, false);
    let style = match freshness {
        Freshness::Connecting | Freshness::Loading(_) => theme.progress(),
        Freshness::Live => theme.ok(),
        Freshness::Stale { .. } => theme.danger().add_modifier(Modifier::REVERSED),
    };
    let right = vec![
        Span::styled(format!("{} UTC ", app.data.now.hhmm()), bold),
        Span::styled(format!(" {fresh} "), style),
    ];
    let right_w = right.iter().map(Span::width).sum::<usize>() as u16;
    // Which view shows goes when the fleet, the halt and the outage need the room.
    let width = |v: &[Span]| v.iter().map(Span::width).sum::<usize>();
    if width(&left) + width(&tabs) + usize::from(right_w) <= usize::from(area.width) {
        left.extend(tabs);
    }
    let [l, r] = Layout::horizontal([Constraint::Fill(1), Constraint::Length(right_w)]).areas(area);
    frame.render_widget(Block::new().style(theme.header()), area);
    frame.render_widget(Line::from(left), l);
    frame.render_widget(Line::from(right), r);
}

fn view(app: &App, v: WallView, border: Style, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let block = Block::bordered()
        .border_type(BorderType::Thick)
        .border_style(border)
        .title(Span::styled(format!(" {} ", v.title()), theme.title(true)));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines = match v {
        WallView::Ladder => ladder(app, theme, inner.width, inner.height),
        WallView::Map => map(&app.data.fleet, theme, inner.width),
        WallView::Alerts => alerts(app, theme, inner.width),
    };
    frame.render_widget(Paragraph::new(lines), inner);
}

/// A bar of `width` cells, `done` of `total` full.
fn bar(done: usize, total: usize, width: usize) -> (String, String) {
    let full = (done * width).checked_div(total).unwrap_or(0).min(width);
    ("█".repeat(full), "░".repeat(width - full))
}

/// The tiers as rungs, the highest on top: what each runs, how far its rollout is, the soak.
fn ladder<'a>(app: &App, theme: &Theme, width: u16, height: u16) -> Vec<Line<'a>> {
    // A blank row between rungs when there is room: easier to read from afar.
    let spaced = usize::from(height) >= app.data.fleet.tiers.len() * 2;
    let rows = guide(
        &app.data.fleet,
        app.data.now,
        &app.session.policy,
        &app.session.id,
    );
    let name_w = app
        .data
        .fleet
        .tiers
        .iter()
        .map(|t| t.name.len())
        .max()
        .unwrap_or(4);
    let rev_w = rows
        .iter()
        .map(|r| r.revision.chars().count())
        .max()
        .unwrap_or(7);
    let states: Vec<(String, Style)> = rows
        .iter()
        .zip(&app.data.fleet.tiers)
        .map(|(row, tier)| match &row.state {
            GuideState::Done => ("✓ done".to_string(), theme.ok()),
            GuideState::Syncing { settled, total } => {
                (format!("⟳ syncing {settled}/{total}"), theme.progress())
            }
            GuideState::Failed { shopset } => (format!("✗ {shopset} degraded"), theme.danger()),
            GuideState::Soaking { left } => (
                format!("◷ soaking {}", crate::domain::time::age(*left)),
                theme.progress(),
            ),
            // What people decided (a halt, a failed release, a freeze) is what a tier that
            // is not moving shows.
            GuideState::Next | GuideState::Blocked(_) | GuideState::Waiting
                if let Some((said, _)) = super::panes::tiers::decided(
                    &app.data.fleet,
                    tier,
                    &app.session.policy,
                    app.data.now,
                    true,
                ) =>
            {
                (format!("⊘ {said}"), theme.danger())
            }
            GuideState::Next => (
                format!(
                    "▶ ready: promote {}",
                    app.data
                        .fleet
                        .tier_below(&tier.name)
                        .and_then(|b| b.revision.as_ref())
                        // The release by its tag (its commit when it has none): the rung's
                        // revision column has the commit.
                        .map_or_else(
                            || "?".into(),
                            |r| r.tag.clone().unwrap_or_else(|| r.short().to_string())
                        )
                ),
                theme.warn(),
            ),
            GuideState::Blocked(why) => (format!("⊘ {why}"), theme.warn()),
            GuideState::Waiting => ("· waiting".to_string(), theme.muted()),
        })
        .collect();
    let state_w = states
        .iter()
        .map(|(s, _)| s.chars().count())
        .max()
        .unwrap_or(0);
    // The bar takes what the words leave (the words are what must be read).
    let bar_w = usize::from(width)
        .saturating_sub(name_w + rev_w + state_w + 12)
        .clamp(1, 40);
    let mut lines = Vec::new();
    for ((row, tier), (state, style)) in rows.iter().zip(&app.data.fleet.tiers).zip(states).rev() {
        let r = rollout(&app.data.fleet, tier);
        let (full, empty) = bar(r.settled, r.total, bar_w);
        let count = format!(" {}/{} ", r.settled, r.total);
        // Where the rung is wider than the screen, its state is shortened, and says so.
        let before = name_w + 2 + rev_w + 1 + bar_w + count.chars().count();
        let state =
            super::text::fit(&state, usize::from(width).saturating_sub(before)).into_owned();
        lines.push(Line::from(vec![
            Span::styled(
                format!(" {:<name_w$} ", tier.name.to_uppercase()),
                theme.title(true).add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                format!("{:<rev_w$} ", row.revision),
                theme.base().add_modifier(Modifier::BOLD),
            ),
            Span::styled(full, style),
            Span::styled(empty, theme.muted()),
            Span::styled(count, theme.muted()),
            Span::styled(state, style.add_modifier(Modifier::BOLD)),
        ]));
        if spaced {
            lines.push(Line::raw(""));
        }
    }
    if spaced {
        lines.pop();
    }
    lines
}

/// Failure domains, their clusters, and per tier the ShopSets each cluster holds.
fn map<'a>(fleet: &Fleet, theme: &Theme, width: u16) -> Vec<Line<'a>> {
    let mut domains: BTreeMap<&str, Vec<&crate::domain::Cluster>> = BTreeMap::new();
    for c in &fleet.clusters {
        domains
            .entry(c.failure_domain.as_str())
            .or_default()
            .push(c);
    }
    let widest = |names: &mut dyn Iterator<Item = usize>| names.max().unwrap_or(4).max(6);
    let name_w = widest(&mut fleet.clusters.iter().map(|c| c.name.len()));
    let full_w = widest(&mut fleet.tiers.iter().map(|t| t.name.len()));
    let fit_in = |cell_w: usize| usize::from(width).saturating_sub(name_w + 16) / (cell_w + 1);
    // Every tier, its name shortened if need be (`p-beta` for `prod-beta`, while the short
    // names stay distinct); when even that does not fit, the map says which tiers it leaves out.
    let short: Vec<String> = fleet.tiers.iter().map(|t| abbreviated(&t.name)).collect();
    let distinct = short
        .iter()
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        == short.len();
    let short_w = widest(&mut short.iter().map(|n| n.chars().count()));
    let (cell_w, labels) = if fit_in(full_w) >= fleet.tiers.len() || !distinct {
        (full_w, fleet.tiers.iter().map(|t| t.name.clone()).collect())
    } else {
        (short_w, short)
    };
    let shown = fit_in(cell_w).max(1).min(fleet.tiers.len());
    let tiers: Vec<_> = fleet.tiers.iter().take(shown).collect();
    let mut head = vec![Span::raw(format!("   {:<name_w$} {:<12}", "", ""))];
    for label in labels.iter().take(shown) {
        head.push(Span::styled(format!("{label:>cell_w$} "), theme.muted()));
    }
    let mut lines = vec![Line::from(head)];
    if shown < fleet.tiers.len() {
        let cut: Vec<&str> = fleet.tiers[shown..]
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        lines.push(Line::styled(
            format!("   not shown (too narrow): {}", cut.join(", ")),
            theme.warn(),
        ));
    }
    let headed = domain_rows(fleet);
    for (domain, clusters) in domains {
        if headed.contains(&domain) {
            lines.push(Line::styled(
                format!(" failure domain {domain}"),
                theme.title(true).add_modifier(Modifier::BOLD),
            ));
        }
        for c in clusters {
            let (state, style) = match (c.reachability, c.cordoned) {
                (Reachability::Unreachable, _) => {
                    ("✗ DOWN", theme.danger().add_modifier(Modifier::REVERSED))
                }
                (_, true) => ("⊘ cordoned", theme.warn()),
                (Reachability::Unknown, _) => ("? unknown", theme.unknown()),
                (Reachability::Reachable, false) => ("● up", theme.ok()),
            };
            let mut spans = vec![
                Span::styled(
                    format!("   {:<name_w$} ", c.name),
                    theme.base().add_modifier(Modifier::BOLD),
                ),
                Span::styled(format!("{state:<12}"), style),
            ];
            for t in &tiers {
                let sets: Vec<_> = fleet
                    .shopsets_of_cluster(&c.name)
                    .filter(|s| s.tier == t.name)
                    .collect();
                let bad = sets
                    .iter()
                    .filter(|s| {
                        fleet
                            .app_for(&s.name)
                            .is_none_or(|a| !crate::domain::release::app_settled(a, t))
                    })
                    .count();
                let (text, style) = match (sets.len(), bad) {
                    (0, _) => ("·".to_string(), theme.muted()),
                    (n, 0) => (format!("{n} ✓"), theme.ok()),
                    (n, b) => (format!("{n} ({b}✗)"), theme.warn()),
                };
                spans.push(Span::styled(format!("{text:>cell_w$} "), style));
            }
            lines.push(Line::from(spans));
        }
    }
    lines
}

/// A tier's name shortened for a narrow map: every part but the last by its first letter
/// (`prod-beta` → `p-beta`).
fn abbreviated(name: &str) -> String {
    let parts: Vec<&str> = name.split('-').collect();
    match parts.split_last() {
        Some((last, rest)) if !rest.is_empty() => rest
            .iter()
            .filter_map(|p| p.chars().next())
            .map(String::from)
            .chain(std::iter::once((*last).to_string()))
            .collect::<Vec<_>>()
            .join("-"),
        _ => name.to_string(),
    }
}

/// An alert's severity, name, scope and age as the wall writes them.
type AlertRow<'a> = (String, String, String, String, &'a crate::domain::Alert);

fn alerts<'a>(app: &App, theme: &Theme, width: u16) -> Vec<Line<'a>> {
    let active = active_alerts(&app.data.fleet);
    if app.data.fleet.alerts_unknown.is_some() {
        return vec![Line::styled(
            " ? the alert state is unknown: Alertmanager cannot be read",
            theme.danger().add_modifier(Modifier::BOLD),
        )];
    }
    if active.is_empty() {
        return vec![Line::styled(
            " ✓ no alert is firing",
            theme.ok().add_modifier(Modifier::BOLD),
        )];
    }
    let labels = &app.data.fleet.scope_labels;
    let rows: Vec<AlertRow<'_>> = active
        .into_iter()
        .map(|a| {
            (
                format!("{:?}", a.severity).to_uppercase(),
                a.name.clone(),
                a.scope(labels),
                crate::domain::time::age(a.since.secs_until(app.data.now).abs()),
                a,
            )
        })
        .collect();
    let w = |f: &dyn Fn(&AlertRow<'_>) -> usize| rows.iter().map(f).max().unwrap_or(0);
    let (sev_w, name_w, scope_w) = (
        w(&|r| r.0.chars().count()),
        w(&|r| r.1.chars().count()),
        w(&|r| r.2.chars().count()),
    );
    rows.iter()
        .map(|(sev, name, scope, age, a)| {
            let line = format!(" {sev:<sev_w$}  {name:<name_w$}  {scope:<scope_w$}  {age:>3}");
            Line::styled(
                super::text::fit(&line, usize::from(width)).into_owned(),
                theme
                    .severity(a.severity, a.state)
                    .add_modifier(Modifier::BOLD),
            )
        })
        .collect()
}
