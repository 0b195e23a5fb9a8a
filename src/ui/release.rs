//! The release side of the console: the confirmation dialog for a step or rollback, the
//! progress of a step, and the release guide. States are computed from the fleet, so every
//! console on the fleet — read-only ones too — shows the same progress.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use tui_textarea::TextArea;

use super::layout::centered;
use super::theme::Theme;
use crate::commands::release::rollback_mutation;
use crate::domain::release::{self, Gate, GatePolicy};
use crate::domain::time::countdown;
use crate::domain::{Fleet, HealthStatus, Revision, Ts};
use crate::ops::Mutation;

/// A mutation waiting for the operator's confirmation, with everything needed to decide.
pub struct ConfirmDialog {
    pub mutation: Option<Mutation>,
    pub title: String,
    pub gate: Option<Gate>,
    /// App commits the change brings (or, for a rollback, takes away).
    pub commits: Vec<Revision>,
    pub shopsets: Vec<String>,
    /// Why it cannot be done, when it cannot.
    pub refused: Option<String>,
    /// Present when failed conditions may be overridden with a typed reason.
    pub reason: Option<TextArea<'static>>,
}

impl ConfirmDialog {
    /// A dialog about `tier` with nothing decided yet.
    fn blank(fleet: &Fleet, tier: &str, title: String) -> ConfirmDialog {
        ConfirmDialog {
            mutation: None,
            title,
            gate: None,
            commits: Vec::new(),
            shopsets: fleet
                .shopsets_of_tier(tier)
                .map(|s| s.name.clone())
                .collect(),
            refused: None,
            reason: None,
        }
    }

    pub fn step(fleet: &Fleet, tier: &str, now: Ts, me: &str) -> ConfirmDialog {
        let mut d = ConfirmDialog::blank(fleet, tier, format!("Promote '{tier}'"));
        let Some(t) = fleet.tier(tier) else {
            d.refused = Some(format!("unknown tier '{tier}'"));
            return d;
        };
        let Some(g) = release::gate(
            fleet,
            tier,
            now,
            &GatePolicy::default(),
            fleet.lock.as_ref(),
            me,
        ) else {
            d.refused = Some(format!(
                "'{tier}' is the lowest tier: a release enters it by merging into '{}'",
                t.branch
            ));
            return d;
        };
        if let Some(target) = &g.target {
            d.commits = fleet
                .releases_between(g.current.as_ref(), target)
                .into_iter()
                .cloned()
                .collect();
        }
        let blocking: Vec<&str> = g.blocking().map(|c| c.condition.name()).collect();
        let overridable: Vec<String> = g
            .failed()
            .filter(|c| c.condition.overridable())
            .map(|c| c.condition.name().to_string())
            .collect();
        if !blocking.is_empty() {
            d.refused = Some(format!(
                "refused: {} cannot be overridden",
                blocking.join(", ")
            ));
        } else if let Some(target) = g.target.clone() {
            if !overridable.is_empty() {
                let mut ta = TextArea::default();
                ta.set_placeholder_text(
                    "why override? (required; goes into the commit and the audit log)",
                );
                d.reason = Some(ta);
            }
            d.mutation = Some(Mutation::Promote {
                tier: tier.into(),
                branch: t.branch.clone(),
                from_tier: g.from_tier.clone(),
                current: g.current.clone(),
                target,
                override_reason: None,
                overridden: overridable,
            });
        }
        d.gate = Some(g);
        d
    }

    pub fn rollback(fleet: &Fleet, tier: &str, now: Ts, me: &str) -> ConfirmDialog {
        let mut d = ConfirmDialog::blank(fleet, tier, format!("Roll back '{tier}'"));
        match rollback_mutation(fleet, tier, now, me) {
            Ok(m) => {
                if let Mutation::Rollback {
                    current, target, ..
                } = &m
                {
                    d.commits = fleet
                        .releases_between(Some(target), current)
                        .into_iter()
                        .cloned()
                        .collect();
                }
                d.mutation = Some(m);
            }
            Err((_, why)) => d.refused = Some(why),
        }
        d
    }

    /// The mutation to execute, with the typed reason; `Err` says what is missing.
    pub fn confirmed(&self) -> Result<Mutation, String> {
        if let Some(why) = &self.refused {
            return Err(why.clone());
        }
        let Some(m) = self.mutation.clone() else {
            return Err("nothing to do".into());
        };
        match (m, &self.reason) {
            (
                Mutation::Promote {
                    tier,
                    branch,
                    from_tier,
                    current,
                    target,
                    overridden,
                    ..
                },
                Some(ta),
            ) => {
                let reason = ta.lines().join(" ").trim().to_string();
                if reason.is_empty() {
                    return Err(format!(
                        "type a reason to override {}",
                        overridden.join(", ")
                    ));
                }
                Ok(Mutation::Promote {
                    tier,
                    branch,
                    from_tier,
                    current,
                    target,
                    override_reason: Some(reason),
                    overridden,
                })
            }
            (m, _) => Ok(m),
        }
    }

    pub fn render(&self, theme: &Theme, frame: &mut Frame<'_>, size: Rect) {
        let mut lines: Vec<Line<'_>> = Vec::new();
        match &self.mutation {
            Some(Mutation::Promote {
                current,
                target,
                from_tier,
                ..
            }) => {
                lines.push(rev_line(theme, "from", current.as_ref()));
                lines.push(rev_line(theme, "to", Some(target)));
                lines.push(Line::styled(
                    format!("      exactly the revision '{from_tier}' runs"),
                    theme.muted(),
                ));
            }
            Some(Mutation::Reassign { from, to, .. }) => {
                lines.push(Line::from(vec![
                    Span::styled("  before ", theme.muted()),
                    Span::raw(from.join(" + ")),
                ]));
                lines.push(Line::from(vec![
                    Span::styled("  after  ", theme.muted()),
                    Span::raw(to.join(" + ")),
                ]));
            }
            Some(Mutation::Rollback {
                current, target, ..
            }) => {
                lines.push(rev_line(theme, "from", Some(current)));
                lines.push(rev_line(theme, "to", Some(target)));
                lines.push(Line::styled(
                    "      a new commit; history is kept",
                    theme.muted(),
                ));
            }
            // The confirmation dialog holds only release mutations.
            Some(_) => {}
            None => {
                // Refused: still say what the step would have been.
                if let Some(g) = &self.gate {
                    lines.push(rev_line(theme, "from", g.current.as_ref()));
                    lines.push(rev_line(theme, "to", g.target.as_ref()));
                }
            }
        }
        if !self.commits.is_empty() {
            let heading = if matches!(self.mutation, Some(Mutation::Rollback { .. })) {
                "App commits taken back"
            } else {
                "App commits brought"
            };
            lines.push(Line::styled(heading, theme.title(false)));
            for r in self.commits.iter().rev().take(6) {
                lines.push(Line::raw(format!("  {} {}", r.label(), r.subject)));
            }
        }
        if let Some(g) = &self.gate {
            lines.push(Line::styled(
                format!("Gate {} → {}", g.from_tier, g.tier),
                theme.title(false),
            ));
            lines.extend(check_lines(g, theme));
        }
        lines.push(Line::from(vec![
            Span::styled("ShopSets that change: ", theme.muted()),
            Span::raw(format!(
                "{} ({})",
                self.shopsets.join(", "),
                self.shopsets.len()
            )),
        ]));
        if let Some(why) = &self.refused {
            lines.push(Line::styled(format!("✗ {why}"), theme.danger()));
        }
        let reason_h = if self.reason.is_some() { 3 } else { 0 };
        let h = (lines.len() as u16 + 4 + reason_h).min(size.height);
        let w = 90.min(size.width);
        let area = centered(size, w, h);
        frame.render_widget(Clear, area);
        let keys = if self.refused.is_some() {
            " esc close "
        } else {
            " enter confirm · esc cancel "
        };
        let block = Block::bordered()
            .border_style(theme.border(true))
            .title(Line::from(vec![Span::styled(
                format!(" {} ", self.title),
                theme.title(true),
            )]))
            .title_bottom(Line::styled(keys, theme.key()))
            .style(theme.base());
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [body, reason] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(reason_h)]).areas(inner);
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
        if let Some(ta) = &self.reason {
            let mut ta = ta.clone();
            ta.set_block(
                Block::bordered()
                    .border_style(theme.warn())
                    .title(" override reason (required) "),
            );
            frame.render_widget(&ta, reason);
        }
    }
}

/// The gate, one line per condition: ✓ passed, ▲ failed but overridable, ✗ failed.
pub fn check_lines<'a>(g: &Gate, theme: &Theme) -> Vec<Line<'a>> {
    g.checks
        .iter()
        .map(|c| {
            let (mark, style) = if c.passed {
                ("✓", theme.ok())
            } else if c.condition.overridable() {
                ("▲", theme.warn())
            } else {
                ("✗", theme.danger())
            };
            Line::from(vec![
                Span::styled(format!("  {mark} {:<18} ", c.condition.name()), style),
                Span::raw(c.detail.clone()),
            ])
        })
        .collect()
}

fn rev_line<'a>(theme: &Theme, label: &str, r: Option<&Revision>) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("  {label:<6}"), theme.muted()),
        Span::raw(
            r.map(|r| format!("{}  {}", r.label(), r.subject))
                .unwrap_or_else(|| "nothing".into()),
        ),
    ])
}

/// A step this console pushed, followed until its ShopSets settle or degrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub tier: String,
    pub commit: String,
    pub since: Ts,
    pub rollback: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgressState {
    /// The push is not yet seen by Argo CD.
    Waiting,
    Syncing {
        settled: usize,
        total: usize,
    },
    Done,
    Failed(String),
}

impl Progress {
    pub fn state(&self, fleet: &Fleet) -> ProgressState {
        let Some(t) = fleet.tier(&self.tier) else {
            return ProgressState::Failed(format!("tier '{}' disappeared", self.tier));
        };
        if t.head.as_deref() != Some(self.commit.as_str()) {
            return ProgressState::Waiting;
        }
        let sets: Vec<_> = fleet.shopsets_of_tier(&self.tier).collect();
        let mut settled = 0;
        for ss in &sets {
            let Some(app) = fleet.app_for(&ss.name) else {
                continue;
            };
            let at_head = app.revision.as_deref() == Some(self.commit.as_str());
            if at_head && app.health == HealthStatus::Degraded {
                return ProgressState::Failed(format!("{} is Degraded", ss.name));
            }
            if at_head && app.is_settled() {
                settled += 1;
            }
        }
        if settled == sets.len() {
            ProgressState::Done
        } else {
            ProgressState::Syncing {
                settled,
                total: sets.len(),
            }
        }
    }
}

/// Where one tier stands in the release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuideState {
    Done,
    Syncing { settled: usize, total: usize },
    Failed(String),
    Soaking { left: i64 },
    Next,
    Blocked(String),
    Waiting,
}

pub struct GuideRow {
    pub tier: String,
    pub revision: String,
    pub state: GuideState,
}

/// The tiers as a checklist, lowest first.
pub fn guide(fleet: &Fleet, now: Ts, me: &str) -> Vec<GuideRow> {
    let policy = GatePolicy::default();
    let mut rows: Vec<GuideRow> = Vec::new();
    // The release on its way up: what the lowest tier runs.
    let release = fleet
        .tiers
        .first()
        .and_then(|t| t.revision.as_ref())
        .map(|r| r.id.clone());
    for (i, t) in fleet.tiers.iter().enumerate() {
        let revision = t
            .revision
            .as_ref()
            .map(|r| r.label())
            .unwrap_or_else(|| "?".into());
        let below_done = i == 0 || rows.last().is_some_and(|r| r.state == GuideState::Done);
        let same_as_below = i == 0
            || fleet
                .tier_below(&t.name)
                .and_then(|b| b.revision.as_ref())
                .map(|r| &r.id)
                == t.revision.as_ref().map(|r| &r.id);
        let has_release = t.revision.as_ref().map(|r| &r.id) == release.as_ref();
        let state = if same_as_below && !has_release {
            GuideState::Waiting
        } else if same_as_below {
            let sets: Vec<_> = fleet.shopsets_of_tier(&t.name).collect();
            let settled = sets
                .iter()
                .filter(|s| {
                    fleet
                        .app_for(&s.name)
                        .is_some_and(|a| a.is_settled() && a.revision == t.head)
                })
                .count();
            let degraded = sets.iter().find(|s| {
                fleet
                    .app_for(&s.name)
                    .is_some_and(|a| a.health == HealthStatus::Degraded)
            });
            match degraded {
                Some(s) => GuideState::Failed(format!("{} Degraded — b rolls it back", s.name)),
                None if settled == sets.len() => GuideState::Done,
                None => GuideState::Syncing {
                    settled,
                    total: sets.len(),
                },
            }
        } else if !below_done {
            GuideState::Waiting
        } else {
            match release::gate(fleet, &t.name, now, &policy, fleet.lock.as_ref(), me) {
                Some(g) if g.passed() => GuideState::Next,
                Some(g) => match (g.soak_left, g.failed().count()) {
                    (Some(left), 1) => GuideState::Soaking { left },
                    _ => GuideState::Blocked(
                        g.failed()
                            .map(|c| c.detail.clone())
                            .next()
                            .unwrap_or_default(),
                    ),
                },
                None => GuideState::Waiting,
            }
        };
        rows.push(GuideRow {
            tier: t.name.clone(),
            revision,
            state,
        });
    }
    rows
}

/// The one thing to do next, and for which tier.
pub fn next_action(rows: &[GuideRow]) -> (Option<&str>, String) {
    let Some(row) = rows.iter().find(|r| r.state != GuideState::Done) else {
        return (
            None,
            "✓ every tier runs the release: nothing left to do".into(),
        );
    };
    let t = row.tier.as_str();
    let text = match &row.state {
        GuideState::Next => format!("▶ promote '{t}' — press s"),
        GuideState::Syncing { settled, total } => {
            format!("◐ wait: '{t}' is syncing ({settled}/{total})")
        }
        GuideState::Soaking { left } => format!(
            "◷ wait: soaking {} before '{t}' (s overrides with a reason)",
            countdown(*left)
        ),
        GuideState::Failed(why) => format!("✗ '{t}': {why}"),
        GuideState::Blocked(why) => format!("✗ '{t}' is blocked: {why}"),
        GuideState::Waiting | GuideState::Done => format!("· '{t}' waits for the tier below"),
    };
    (Some(t), text)
}

/// The guide overlay's own state: the notes field.
pub struct Guide {
    pub notes: TextArea<'static>,
    pub editing: bool,
    /// The notes as last saved to the audit log.
    pub saved: String,
}

impl Guide {
    pub fn new(notes: &str) -> Guide {
        let mut ta = TextArea::new(if notes.is_empty() {
            vec![String::new()]
        } else {
            notes.lines().map(str::to_string).collect()
        });
        ta.set_placeholder_text("notes for the postmortem: press e to write, esc to stop");
        Guide {
            notes: ta,
            editing: false,
            saved: notes.to_string(),
        }
    }

    pub fn text(&self) -> String {
        self.notes.lines().join("\n")
    }

    pub fn render(
        &self,
        fleet: &Fleet,
        theme: &Theme,
        frame: &mut Frame<'_>,
        size: Rect,
        now: Ts,
        me: &str,
    ) {
        let rows = guide(fleet, now, me);
        let (next, action) = next_action(&rows);
        let release = fleet
            .tiers
            .first()
            .and_then(|t| t.revision.as_ref())
            .map(|r| format!("{}  {}", r.label(), r.subject))
            .unwrap_or_default();
        let mut lines = vec![
            Line::from(vec![
                Span::styled("Release ", theme.muted()),
                Span::raw(release),
            ]),
            Line::raw(""),
        ];
        for r in &rows {
            let (mark, word, style) = match &r.state {
                GuideState::Done => ("✓", "done".to_string(), theme.ok()),
                GuideState::Syncing { settled, total } => {
                    ("◐", format!("syncing {settled}/{total}"), theme.progress())
                }
                GuideState::Failed(why) => ("✗", format!("failed: {why}"), theme.danger()),
                GuideState::Soaking { left } => (
                    "◷",
                    format!("soaking {}", countdown(*left)),
                    theme.progress(),
                ),
                GuideState::Next => ("▶", "next".to_string(), theme.selected()),
                GuideState::Blocked(why) => ("✗", format!("blocked: {why}"), theme.danger()),
                GuideState::Waiting => ("·", "waiting".to_string(), theme.muted()),
            };
            let line = Line::from(vec![
                Span::styled(
                    format!(" {mark} {:<10} {:<16} ", r.tier, r.revision),
                    if Some(r.tier.as_str()) == next {
                        theme.title(true)
                    } else {
                        theme.base()
                    },
                ),
                Span::styled(word, style),
            ]);
            lines.push(line);
        }
        lines.push(Line::raw(""));
        lines.push(Line::styled(action, theme.title(true)));
        let h = (lines.len() as u16 + 9).min(size.height);
        let area = centered(size, 90.min(size.width), h);
        frame.render_widget(Clear, area);
        let keys = if self.editing {
            " esc stop writing (saves) "
        } else {
            " s step · e notes · esc close "
        };
        let block = Block::bordered()
            .border_style(theme.border(true))
            .title(Line::styled(" Release guide ", theme.title(true)))
            .title_bottom(Line::styled(keys, theme.key()))
            .style(theme.base());
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [body, notes] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(5)]).areas(inner);
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
        let mut ta = self.notes.clone();
        ta.set_block(
            Block::bordered()
                .border_style(theme.border(self.editing))
                .title(" notes (saved with the audit log) "),
        );
        if !self.editing {
            ta.set_cursor_style(ratatui::style::Style::new());
        }
        frame.render_widget(&ta, notes);
    }
}
