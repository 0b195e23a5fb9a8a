//! Pure drawing: `render(&App, &Theme, &mut Frame)` changes nothing.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::app::App;
use super::app::Freshness;
use super::keymap;
use super::layout;
use super::panes::{self, PanesView};
use super::state::Recording;
use super::state::{FilterTarget, View};
use super::theme::Theme;
use super::{symbols, text};

pub fn render(app: &App, theme: &Theme, frame: &mut Frame<'_>) {
    let size = frame.area();
    if theme.paints_background() {
        frame.render_widget(Block::new().style(theme.base()), size);
    }
    if layout::too_small(size) {
        let msg = text::too_small(size.width, size.height);
        let msg = Paragraph::new(msg)
            .alignment(Alignment::Center)
            .wrap(ratatui::widgets::Wrap { trim: true });
        frame.render_widget(msg.style(theme.warn()), size);
        return;
    }
    let view = View {
        fleet: &app.data.fleet,
        now: app.data.now,
        policy: &app.session.policy,
        me: &app.session.id,
        size,
        readonly: app.readonly(),
        sources: &app.data.sources,
    };
    if app.view.wall.is_some() {
        super::wall::render(app, theme, frame);
        app.view
            .modals
            .render_overlays(&view, theme, frame, &|m, frame| {
                app_overlay(app, m, theme, frame, size)
            });
        player_keys(app, theme, frame, size);
        return;
    }
    let mut areas = app.areas();
    header(app, theme, frame, areas.header);
    if !app.view.modals.render_body(&view, theme, frame) {
        let panes = PanesView {
            fleet: &app.data.fleet,
            now: app.data.now,
            policy: &app.session.policy,
            focus: Some(app.view.focus),
            scope: app.view.scope.as_ref(),
            waiting: !app.has_data(),
            tiers_note: tiers_note(app, theme),
            steady: &app.view.steady,
        };
        panes::render_all(&panes, &|p| app.pane(p), theme, frame, &mut areas);
    }
    footer(app, theme, frame, areas.footer);
    app.view
        .modals
        .render_overlays(&view, theme, frame, &|m, frame| {
            app_overlay(app, m, theme, frame, size)
        });
    player_keys(app, theme, frame, size);
}

/// The overlays drawn from the whole console: help, the messages.
fn app_overlay(
    app: &App,
    m: &crate::ui::modal::Modal,
    theme: &Theme,
    frame: &mut Frame<'_>,
    size: Rect,
) {
    match m {
        crate::ui::modal::Modal::Help(scroll) => help(app, *scroll, theme, frame, size),
        crate::ui::modal::Modal::Messages(scroll) => messages(app, *scroll, theme, frame, size),
        _ => {}
    }
}

/// The footer's messages in full, newest first, each wrapped to the box's width.
fn messages(app: &App, scroll: u16, theme: &Theme, frame: &mut Frame<'_>, size: Rect) {
    let w = 100.min(size.width);
    let area = super::layout::centered(size, w, size.height.saturating_sub(4).max(6));
    frame.render_widget(ratatui::widgets::Clear, area);
    let lines: Vec<Line<'_>> = if app.view.said.is_empty() {
        vec![Line::styled(text::NO_MESSAGES, theme.muted())]
    } else {
        app.view
            .said
            .iter()
            .rev()
            .map(|s| {
                Line::from(vec![
                    Span::styled(format!("{} ", s.at.hhmmss()), theme.muted()),
                    Span::styled(
                        s.text.clone(),
                        if s.bad { theme.danger() } else { theme.ok() },
                    ),
                ])
            })
            .collect()
    };
    let block = ratatui::widgets::Block::bordered()
        .border_style(theme.border(true))
        .title(Line::styled(text::MESSAGES_TITLE, theme.title(true)))
        .title_bottom(Line::styled(
            keymap::hint(keymap::Context::Messages, app.readonly()),
            theme.key(),
        ))
        .style(theme.base());
    frame.render_widget(
        ratatui::widgets::Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: false })
            .scroll((scroll, 0))
            .block(block),
        area,
    );
}

/// What the Tiers pane's title says about this console's own rollout.
fn tiers_note<'a>(app: &App, theme: &Theme) -> Vec<Span<'a>> {
    let mut note = Vec::new();
    if let Some(failed) = &app.op.failed_step {
        note.push(Span::styled(format!("{failed} "), theme.danger()));
    }
    if let Some(p) = &app.op.progress {
        note.push(Span::styled(
            text::following(p, &p.state(&app.data.fleet)),
            theme.progress(),
        ));
    }
    note
}

/// A part of the header: its long and short forms, and when it gives way (0: never; the
/// highest rank is dropped first when even the short forms do not fit).
struct Part {
    long: String,
    short: String,
    style: ratatui::style::Style,
    drop: u8,
}

impl Part {
    fn new(
        long: impl Into<String>,
        short: impl Into<String>,
        style: ratatui::style::Style,
        drop: u8,
    ) -> Self {
        Part {
            long: long.into(),
            short: short.into(),
            style,
            drop,
        }
    }
}

/// The header's parts in the width, as spans: long forms while they fit; then the least
/// important parts take their short forms one by one (the highest `drop` first, the ones never
/// dropped last), then the least important are dropped until the rest fit. What matters in an
/// incident (a halt, the shops down, invariants, freshness) is never dropped.
fn header_spans(
    left: Vec<Part>,
    right: Vec<Part>,
    width: u16,
    theme: &Theme,
) -> (Vec<Span<'static>>, Vec<Span<'static>>) {
    let w = |p: &Part, long: bool| {
        unicode_width::UnicodeWidthStr::width(if long {
            p.long.as_str()
        } else {
            p.short.as_str()
        })
    };
    let n = left.len() + right.len();
    let part = |i: usize| {
        if i < left.len() {
            &left[i]
        } else {
            &right[i - left.len()]
        }
    };
    let total = |kept: &[bool], long: &[bool]| -> usize {
        let all_long = long.iter().all(|l| *l);
        let sep = if all_long { 3 } else { 1 };
        let shown: Vec<usize> = (0..left.len()).filter(|&i| kept[i]).collect();
        let lw: usize = shown.iter().map(|&i| w(part(i), long[i])).sum::<usize>()
            + shown.len().saturating_sub(1) * sep;
        let rw: usize = (left.len()..n).map(|i| w(part(i), long[i])).sum::<usize>() + right.len();
        lw + 1 + rw
    };
    let width = usize::from(width);
    let mut kept = vec![true; left.len()];
    let mut long = vec![true; n];
    // Shortened first: the right side's time, then the left's parts by their rank.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| {
        let p = part(i);
        (
            std::cmp::Reverse(if i >= left.len() { u8::MAX } else { p.drop }),
            std::cmp::Reverse(i),
        )
    });
    for &i in &order {
        if total(&kept, &long) <= width {
            break;
        }
        long[i] = false;
    }
    while total(&kept, &long) > width {
        let Some(i) = (0..left.len())
            .filter(|&i| kept[i] && left[i].drop > 0)
            .max_by_key(|&i| (left[i].drop, i))
        else {
            break;
        };
        kept[i] = false;
    }
    let all_long = long.iter().all(|l| *l);
    let text = |i: usize| {
        let p = part(i);
        if long[i] {
            p.long.clone()
        } else {
            p.short.clone()
        }
    };
    let mut l = Vec::new();
    for i in (0..left.len()).filter(|&i| kept[i]) {
        if !l.is_empty() {
            l.push(Span::styled(
                if all_long { " │ " } else { "│" },
                theme.header(),
            ));
        }
        l.push(Span::styled(text(i), left[i].style));
    }
    let r = (left.len()..n)
        .flat_map(|i| {
            [
                Span::styled(text(i), part(i).style),
                Span::styled(" ", theme.header()),
            ]
        })
        .collect();
    (l, r)
}

fn header(app: &App, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    let now = app.data.now;
    let bold = theme.header().add_modifier(ratatui::style::Modifier::BOLD);
    let mut left = vec![Part::new(
        format!(" shopctl {}", app.data.fleet.name),
        format!(" {}", app.data.fleet.name),
        bold,
        0,
    )];
    left.push(Part::new(
        app.session.info.mode,
        app.session.info.mode,
        theme.header(),
        5,
    ));
    if let Some(long) = text::replay_label(app.session.replay.as_ref(), now, false) {
        let short = text::replay_label(app.session.replay.as_ref(), now, true).unwrap_or_default();
        left.push(Part::new(
            long,
            short,
            theme
                .warn()
                .add_modifier(ratatui::style::Modifier::REVERSED),
            0,
        ));
    } else if app.readonly() {
        left.push(Part::new(text::READ_ONLY, "RO", theme.header(), 0));
    } else {
        left.push(Part::new(text::READ_WRITE, "RW", theme.header(), 4));
    }
    // A halt of every promotion is the first thing anyone looking should see.
    if let Some(h) = app.data.fleet.controls.fleet_halt() {
        left.push(Part::new(
            format!("✗ HALTED by {}: {}", h.by, h.reason),
            "✗ HALTED",
            theme
                .danger()
                .add_modifier(ratatui::style::Modifier::REVERSED),
            0,
        ));
    }
    match app.data.fleet.lock_holder(now) {
        _ if app.data.fleet.lock_problem.is_some() => left.push(Part::new(
            "✗ lock unreadable",
            "✗ lock?",
            theme.danger().patch(theme.header()),
            0,
        )),
        Some(l) => {
            let by = text::locked_by(l, &app.session.id, &app.session.operator);
            left.push(Part::new(
                by,
                format!("⚿ {}", l.holder),
                theme.warn().patch(theme.header()),
                2,
            ))
        }
        None => left.push(Part::new(
            text::LOCK_FREE,
            text::UNLOCKED,
            theme.header(),
            3,
        )),
    }
    match app.session.recording {
        Recording::Off => {}
        Recording::On => left.push(Part::new(
            "● rec",
            "rec",
            theme.muted().patch(theme.header()),
            6,
        )),
        // The audit trail an operator counts on is gone: never dropped.
        Recording::Stopped => left.push(Part::new(
            "✗ not recording",
            "✗ rec",
            theme.danger().patch(theme.header()),
            0,
        )),
    }
    let violations = app.data.fleet.violations().len();
    if violations > 0 {
        left.push(Part::new(
            format!(
                "✗ {violations} invariant{}",
                if violations == 1 { "" } else { "s" }
            ),
            format!("✗{violations} inv"),
            theme.danger(),
            0,
        ));
    }
    let (down, one_leg) = app.data.fleet.shops_affected_by_outage();
    if down + one_leg > 0 {
        left.push(Part::new(
            format!("✗ {down} shops down, {one_leg} on one leg"),
            format!("✗{down} down {one_leg} 1-leg"),
            theme.danger(),
            0,
        ));
    }
    let freshness = app.freshness();
    let fresh_style = match freshness {
        Freshness::Connecting | Freshness::Loading(_) => theme.progress(),
        Freshness::Live => theme.ok(),
        Freshness::Stale { .. } => theme.danger(),
    };
    let right = vec![
        Part::new(format!("{} UTC", now.hhmm()), now.hhmm(), theme.header(), 0),
        Part::new(
            format!(" {}", text::freshness(&freshness, true)),
            text::freshness(&freshness, true),
            fresh_style,
            0,
        ),
    ];
    let (mut left, right) = header_spans(left, right, area.width, theme);
    let right_w: u16 = right.iter().map(|s| s.width() as u16).sum();
    let left_w: u16 = left.iter().map(|s| s.width() as u16).sum();
    // The context in the room left, shortened if need be, else not at all.
    let room = usize::from(area.width.saturating_sub(left_w + right_w + 4));
    if room >= 12 {
        let sep = if left.iter().any(|s| s.content == " │ ") {
            " │ "
        } else {
            "│"
        };
        left.push(Span::styled(sep, theme.header()));
        left.push(Span::styled(
            text::fit(&app.session.info.context, room).into_owned(),
            theme.header(),
        ));
    }
    let left_w: u16 = left.iter().map(|s| s.width() as u16).sum();
    let [l, _, r] = Layout::horizontal([
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Length(right_w),
    ])
    .areas(area);
    frame.render_widget(Block::new().style(theme.header()), area);
    frame.render_widget(Paragraph::new(Line::from(left)).style(theme.header()), l);
    if left_w > l.width && l.width > 0 {
        // Cut text says so, rather than running into the clock.
        let last = Rect::new(l.x + l.width - 1, l.y, 1, 1);
        frame.render_widget(Span::styled("…", theme.header()), last);
    }
    frame.render_widget(Paragraph::new(Line::from(right)).style(theme.header()), r);
}

/// The replay player's keys over the bottom of the recorded screen (`?`), and a recording cut
/// off: the footer below stays what the operator saw.
fn player_keys(app: &App, theme: &Theme, frame: &mut Frame<'_>, size: Rect) {
    let Some(r) = &app.session.replay else {
        return;
    };
    let mut lines = Vec::new();
    if r.keys_shown {
        lines.extend(super::dialogs::key_lines(
            keymap::screen_help(keymap::Context::Replay),
            theme,
            " ",
        ));
    }
    if let Some(line) = r.cut_off {
        lines.push(Line::styled(
            format!(" the recording's line {line} is cut off: it ends before it"),
            theme.warn(),
        ));
    }
    if lines.is_empty() {
        return;
    }
    let w = (lines.iter().map(Line::width).max().unwrap_or(0) as u16 + 3).min(size.width);
    let h = (lines.len() as u16 + 2).min(size.height.saturating_sub(2));
    let area = Rect {
        x: size.width.saturating_sub(w),
        y: size.height.saturating_sub(h + 1),
        width: w,
        height: h,
    };
    super::dialogs::render_framed(
        frame,
        theme,
        area,
        "Replay",
        String::new(),
        theme.border(true),
        lines,
        None,
    );
}

fn footer(app: &App, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
    if let Some(input) = app.view.modals.filter() {
        let label = match input.target {
            FilterTarget::Pane(p) => text::filter_label(p.title()),
            FilterTarget::Detail => text::filter_label("shops"),
        };
        let [l, r, hint] = Layout::horizontal([
            Constraint::Length(label.len() as u16),
            Constraint::Fill(1),
            Constraint::Length(26),
        ])
        .areas(area);
        frame.render_widget(Span::styled(label, theme.key()), l);
        frame.render_widget(&input.textarea, r);
        frame.render_widget(Span::styled(" enter keep · esc clear", theme.muted()), hint);
        return;
    }
    // A refusal's only key is esc: no `enter confirm` under it.
    const REFUSED: &[keymap::Action] = &[keymap::Action::Confirm];
    let idle = match app.view.modals.top() {
        Some(crate::ui::modal::Modal::Plan(d)) => d.idle_keys(),
        Some(crate::ui::modal::Modal::Confirm(d)) if d.refused.is_some() => REFUSED,
        Some(crate::ui::modal::Modal::Decide(d)) if d.refused.is_some() => REFUSED,
        _ => &[],
    };
    let keys: Vec<&keymap::Binding> = if app.context() == keymap::Context::Main {
        keymap::pane_footer(app.view.focus, app.readonly())
    } else {
        keymap::footer(app.context(), app.readonly())
            .filter(|b| !idle.contains(&b.action))
            .collect()
    };
    // A problem, a running drain or a message takes the footer, but for how to get help and
    // quit at its end.
    let message = app
        .problem()
        .map(|p| (format!("✗ {p}"), theme.danger()))
        .or_else(|| {
            app.view
                .toast
                .as_ref()
                .filter(|_| app.op.drain_run.is_none())
                .map(|t| {
                    (
                        t.text.clone(),
                        if t.bad { theme.danger() } else { theme.ok() },
                    )
                })
        });
    if message.is_none() && app.op.drain_run.is_none() {
        frame.render_widget(Line::from(footer_keys(&keys, area.width, theme)), area);
        return;
    }
    // The exits in their shortest form (`q quit`, not `q ctrl-c quit`).
    let exits: Vec<Span<'_>> = keys
        .iter()
        .filter(|b| {
            matches!(
                b.action,
                keymap::Action::Help | keymap::Action::Quit | keymap::Action::Back
            )
        })
        .filter(|b| {
            b.action != keymap::Action::Back
                || !keys.iter().any(|k| k.action == keymap::Action::Quit)
        })
        .flat_map(|b| {
            [
                Span::styled(
                    keymap::label(b)
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                    theme.key(),
                ),
                Span::styled(format!(" {} ", b.short), theme.muted()),
            ]
        })
        .collect();
    let exits_w = exits.iter().map(Span::width).sum::<usize>() as u16;
    let [left, right] =
        Layout::horizontal([Constraint::Fill(1), Constraint::Length(exits_w)]).areas(area);
    match message {
        Some((said, style)) => {
            // A message longer than the line gets the rows above it (up to three in all, over
            // the panes' bottom edge), so a failure's reason is read whole; `m` has the rest.
            let room = usize::from(left.width.saturating_sub(1)).max(1);
            let mut lines = text::wrap(&said, room);
            let most = usize::from(area.y.min(2)) + 1;
            if lines.len() > most {
                let rest = lines[most - 1..].join(" ");
                lines.truncate(most - 1);
                lines.push(text::fit(&rest, room).into_owned());
            }
            let n = lines.len() as u16;
            let band = Rect {
                y: area.y + 1 - n,
                height: n,
                ..left
            };
            // The rows above the footer are the band's whole width, not a cut through a border.
            let above = Rect {
                y: band.y,
                height: n - 1,
                ..area
            };
            frame.render_widget(Clear, above);
            frame.render_widget(Block::new().style(theme.base()), above);
            frame.render_widget(Clear, band);
            frame.render_widget(
                Paragraph::new(
                    lines
                        .into_iter()
                        .map(|l| Line::styled(l, style))
                        .collect::<Vec<_>>(),
                )
                .style(theme.base()),
                band,
            );
        }
        None => {
            // A column apart from the keys, however long its label.
            if let Some(run) = &app.op.drain_run {
                let gauge = Rect {
                    width: left.width.saturating_sub(1),
                    ..left
                };
                run.render(theme, frame, gauge);
            }
        }
    }
    frame.render_widget(Line::from(exits), right);
}

/// The footer's keys in `width` cells: how to get help, quit or leave always show, at the
/// end; the others in order while they fit.
fn footer_keys<'a>(keys: &[&'a keymap::Binding], width: u16, theme: &Theme) -> Vec<Span<'a>> {
    use keymap::Action;
    // Help and quit; in a dialog, which has neither, how to leave it.
    let exits = keys
        .iter()
        .any(|b| matches!(b.action, Action::Help | Action::Quit));
    let pinned = |b: &keymap::Binding| {
        matches!(b.action, Action::Help | Action::Quit) || (!exits && b.action == Action::Back)
    };
    let cost = |b: &keymap::Binding| keymap::label(b).chars().count() + b.short.chars().count() + 3;
    let mut room = usize::from(width).saturating_sub(
        keys.iter()
            .filter(|b| pinned(b))
            .map(|b| cost(b))
            .sum::<usize>(),
    );
    let mut shown = Vec::new();
    for b in keys.iter().filter(|b| !pinned(b)) {
        if cost(b) > room {
            break;
        }
        room -= cost(b);
        shown.push(*b);
    }
    shown.extend(keys.iter().filter(|b| pinned(b)));
    shown
        .into_iter()
        .flat_map(|b| {
            [
                Span::styled(keymap::label(b), theme.key()),
                Span::styled(format!(" {}  ", b.short), theme.muted()),
            ]
        })
        .collect()
}

fn help(app: &App, scroll: u16, theme: &Theme, frame: &mut Frame<'_>, size: Rect) {
    let w = 84.min(size.width);
    // Where each key works goes beside its help when it fits, else on the line below: a narrow
    // terminal never cuts it off.
    let room = (w.saturating_sub(2) as usize).saturating_sub(16 + 50);
    let mut lines = vec![Line::styled("Keys", theme.title(true))];
    for b in keymap::bindings(app.readonly()) {
        let contexts: Vec<&str> = if b.contexts == keymap::ALL {
            vec![text::ANYWHERE]
        } else {
            b.contexts.iter().map(|c| c.name()).collect()
        };
        let contexts = contexts.join(",");
        let keys = Span::styled(format!("  {:<14}", keymap::label(b)), theme.key());
        if contexts.chars().count() <= room {
            lines.push(Line::from(vec![
                keys,
                Span::raw(format!("{:<50}", b.help)),
                Span::styled(contexts, theme.muted()),
            ]));
        } else {
            lines.push(Line::from(vec![keys, Span::raw(b.help)]));
            lines.push(Line::styled(
                format!("{:16}in {contexts}", ""),
                theme.muted(),
            ));
        }
    }
    // The header's fields and the column headings, each explained; beside the keys when the
    // terminal is wide enough for two columns.
    let keys_len = lines.len();
    for (title, rows) in [
        ("The header", &text::HEADER_HELP[..]),
        ("Columns", &text::COLUMNS_HELP[..]),
    ] {
        lines.push(Line::styled(title, theme.title(true)));
        for (what, means) in rows {
            let what = Span::styled(format!("  {what:<22}"), theme.key());
            if 24 + means.chars().count() <= usize::from(w.saturating_sub(2)) {
                lines.push(Line::from(vec![what, Span::raw(*means)]));
            } else {
                lines.push(Line::from(what));
                lines.push(Line::raw(format!("{:8}{means}", "")));
            }
        }
    }
    lines.push(Line::styled(text::SYMBOLS, theme.title(true)));
    let styles = [
        theme.ok(),
        theme.progress(),
        theme.warn(),
        theme.danger(),
        theme.unknown(),
        theme.warn(),
        theme.related(),
        theme.muted(),
    ];
    let legend: Vec<(&str, ratatui::style::Style, &str)> = text::LEGEND
        .iter()
        .zip(styles)
        .map(|((sym, what), style)| {
            let sym = if *sym == "›" { symbols::RELATED } else { sym };
            (sym, style, *what)
        })
        .collect();
    for chunk in legend.chunks(3).map(|c| c.to_vec()) {
        let mut spans = vec![Span::raw("  ")];
        for (sym, style, what) in chunk.into_iter().take(4) {
            spans.push(Span::styled(format!("{sym} "), style));
            spans.push(Span::raw(what));
        }
        lines.push(Line::from(spans));
    }
    if app.readonly() {
        lines.push(Line::raw(""));
        lines.push(Line::styled(text::READ_ONLY_HELP, theme.warn()));
    }
    if !app.session.denied.is_empty() {
        lines.push(Line::raw(""));
        for line in text::not_permitted_help(&app.session.denied) {
            lines.push(Line::styled(line, theme.warn()));
        }
    }
    let two = size.width > 2 * w;
    let (lines, right) = if two {
        let right = lines.split_off(keys_len);
        (lines, right)
    } else {
        (lines, Vec::new())
    };
    let tall = lines.len().max(right.len()) as u16;
    let h = (tall + 2).min(size.height);
    let area = layout::centered(size, if two { 2 * w + 1 } else { w }, h);
    frame.render_widget(Clear, area);
    let block = Block::bordered()
        .border_style(theme.border(true))
        .title(Line::from(vec![
            Span::styled(" Help ", theme.title(true)),
            Span::styled("esc/q/? close ", theme.muted()),
        ]))
        .style(theme.base());
    let hidden = (tall + 2).saturating_sub(area.height);
    app.view.help_end.set(hidden);
    let inner = block.inner(area);
    let block = if hidden > 0 {
        block.title_bottom(Line::styled(" j/k PgUp/PgDn scroll ", theme.key()))
    } else {
        block
    };
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((scroll.min(hidden), 0)),
        area,
    );
    if two {
        let [_, r] = Layout::horizontal([Constraint::Length(w), Constraint::Fill(1)]).areas(inner);
        frame.render_widget(Paragraph::new(right).scroll((scroll.min(hidden), 0)), r);
    }
}
