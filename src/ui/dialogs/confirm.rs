//! The release confirmation: a step or rollback with everything needed to decide, and the
//! override reason when failed conditions may be overridden.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use tui_textarea::TextArea;

use crate::commands::release::rollback_mutation;
use crate::domain::release::{self, Gate, GatePolicy};
use crate::domain::{Fleet, Revision, Ts};
use crate::ops::Mutation;
use crate::ui::keymap::{self, Context};
use crate::ui::layout::centered;
use crate::ui::theme::Theme;

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
            " esc close ".to_string()
        } else {
            keymap::hint(Context::Confirm, false)
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
