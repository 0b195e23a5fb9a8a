//! The release confirmation: a step or rollback with everything needed to decide, the override
//! reason when failed conditions may be overridden, judged again as the fleet changes.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use tui_textarea::TextArea;

use super::Outcome;
use crate::domain::release::{Gate, GatePolicy};
use crate::domain::{Fleet, Revision, Ts};
use crate::ops::Mutation;
use crate::ops::release::{self, Refusal};
use crate::ui::keymap::{self, Action, Context};
use crate::ui::layout::centered;
use crate::ui::text;
use crate::ui::theme::Theme;

/// Which release change the dialog is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseAction {
    Step,
    Rollback,
}

/// A step or rollback waiting for the operator's confirmation, with everything needed to decide.
/// It follows the fleet while open: [`ConfirmDialog::evaluate`] runs on every data batch and tick.
pub struct ConfirmDialog {
    pub action: ReleaseAction,
    pub tier: String,
    /// What enter would execute (for a step needing a reason: without the reason yet).
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

/// What a release dialog is judged with besides the fleet.
pub struct Judge<'a> {
    pub now: Ts,
    pub policy: &'a GatePolicy,
    pub me: &'a str,
}

impl ConfirmDialog {
    pub fn open(fleet: &Fleet, action: ReleaseAction, tier: &str, judge: &Judge<'_>) -> Self {
        let title = match action {
            ReleaseAction::Step => text::promote_title(tier),
            ReleaseAction::Rollback => text::rollback_title(tier),
        };
        let mut d = ConfirmDialog {
            action,
            tier: tier.into(),
            mutation: None,
            title,
            gate: None,
            commits: Vec::new(),
            shopsets: Vec::new(),
            refused: None,
            reason: None,
        };
        d.evaluate(fleet, judge);
        d
    }

    /// Judges the change again on the fleet as it is now: a gate that starts failing refuses,
    /// an override reason is asked for exactly while an overridable condition fails.
    pub fn evaluate(&mut self, fleet: &Fleet, judge: &Judge<'_>) {
        self.shopsets = fleet
            .shopsets_of_tier(&self.tier)
            .map(|s| s.name.clone())
            .collect();
        let built = match self.action {
            ReleaseAction::Step => {
                release::promotion(fleet, &self.tier, judge.now, judge.policy, judge.me, None)
                    .map(|(g, m)| (Some(g), m))
            }
            ReleaseAction::Rollback => {
                release::rollback(fleet, &self.tier, judge.now, judge.me).map(|m| (None, m))
            }
        };
        let (gate, mutation, needs_reason, refused) = match built {
            Ok((gate, m)) => (gate, Some(m), false, None),
            Err(Refusal::NeedsReason { gate, mutation, .. }) => {
                (Some(*gate), Some(*mutation), true, None)
            }
            Err(r) => (r.gate().cloned(), None, false, Some(r.to_string())),
        };
        self.commits = match (&mutation, &gate) {
            (
                Some(Mutation::Rollback {
                    current, target, ..
                }),
                _,
            ) => fleet.releases_between(Some(target), current),
            (
                _,
                Some(Gate {
                    current,
                    target: Some(target),
                    ..
                }),
            ) => fleet.releases_between(current.as_ref(), target),
            _ => Vec::new(),
        }
        .into_iter()
        .cloned()
        .collect();
        if !needs_reason {
            self.reason = None;
        } else if self.reason.is_none() {
            let mut ta = TextArea::default();
            ta.set_placeholder_text(text::OVERRIDE_PLACEHOLDER);
            self.reason = Some(ta);
        }
        // A refusal says so in its title; a confirmation names what enter does.
        self.title = match (&refused, self.action) {
            (Some(_), action) => text::refused_title(&self.tier, action == ReleaseAction::Rollback),
            (None, ReleaseAction::Step) => text::promote_title(&self.tier),
            (None, ReleaseAction::Rollback) => text::rollback_title(&self.tier),
        };
        self.gate = gate;
        self.mutation = mutation;
        self.refused = refused;
    }

    /// The typed override reason, if the dialog asks for one.
    pub fn typed_reason(&self) -> Option<String> {
        self.reason
            .as_ref()
            .map(|ta| ta.lines().join(" ").trim().to_string())
    }

    /// The mutation to execute, built again on the fleet as it is now with the typed reason;
    /// `Err` says why not.
    pub fn confirmed(&self, fleet: &Fleet, judge: &Judge<'_>) -> Result<Mutation, String> {
        if let Some(why) = &self.refused {
            return Err(why.clone());
        }
        let built = match self.action {
            ReleaseAction::Step => release::promotion(
                fleet,
                &self.tier,
                judge.now,
                judge.policy,
                judge.me,
                self.typed_reason().as_deref(),
            )
            .map(|(_, m)| m),
            ReleaseAction::Rollback => release::rollback(fleet, &self.tier, judge.now, judge.me),
        };
        built.map_err(|e| e.to_string())
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
                    text::exactly_what_runs(from_tier),
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
                lines.push(Line::styled(text::ROLLBACK_KEEPS_HISTORY, theme.muted()));
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
                text::COMMITS_TAKEN_BACK
            } else {
                text::COMMITS_BROUGHT
            };
            lines.push(Line::styled(heading, theme.title(false)));
            for r in self.commits.iter().rev().take(6) {
                lines.push(Line::raw(format!("  {} {}", r.label(), r.subject)));
            }
        }
        // Below the gate: what always shows.
        let after = 1 + usize::from(self.refused.is_some());
        let reason_rows = if self.reason.is_some() { 3 } else { 0 };
        if let Some(g) = &self.gate {
            lines.push(Line::styled(
                format!("Gate {} → {}", g.from_tier, g.tier),
                theme.title(false),
            ));
            // On a short terminal the passing conditions fold into one line; every failing
            // one keeps its own.
            let room =
                usize::from(size.height).saturating_sub(lines.len() + after + 4 + reason_rows);
            if g.checks.len() > room {
                lines.extend(failing_lines(g, theme));
            } else {
                lines.extend(check_lines(g, theme));
            }
        }
        lines.push(Line::from(vec![
            Span::styled(text::SHOPSETS_THAT_CHANGE, theme.muted()),
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
        let keys = if self.refused.is_some() {
            text::ESC_CLOSE.to_string()
        } else {
            keymap::hint(Context::Confirm, false)
        };
        super::render_framed(
            frame,
            theme,
            area,
            &self.title,
            keys,
            theme.border(true),
            lines,
            self.reason.as_ref().map(|ta| (ta, text::OVERRIDE_TITLE)),
        );
    }
}

impl ConfirmDialog {
    /// What a key does: confirm the step or rollback — built again on the fleet as it is now —
    /// or leave. A refusal closes once said; any other key leaves.
    pub fn on_action(&mut self, action: Action, fleet: &Fleet, judge: &Judge<'_>) -> Outcome {
        match action {
            Action::Quit => Outcome::Quit,
            Action::Confirm => match self.confirmed(fleet, judge) {
                Ok(mutation) => Outcome::Run {
                    doing: text::pushing(&mutation),
                    mutation,
                    notes: true,
                },
                Err(why) if self.refused.is_some() => Outcome::Close(Some((why, true))),
                Err(why) => Outcome::Refuse(why),
            },
            _ => Outcome::Close(None),
        }
    }
}

/// The failing conditions, one line each, and one line naming those that pass.
pub fn failing_lines<'a>(g: &Gate, theme: &Theme) -> Vec<Line<'a>> {
    let passing: Vec<&str> = g
        .checks
        .iter()
        .filter(|c| c.passed)
        .map(|c| c.condition.name())
        .collect();
    let mut out: Vec<Line<'a>> = check_lines(g, theme)
        .into_iter()
        .zip(&g.checks)
        .filter(|(_, c)| !c.passed)
        .map(|(l, _)| l)
        .collect();
    if !passing.is_empty() {
        out.push(Line::styled(
            format!("  ✓ {} more pass: {}", passing.len(), passing.join(", ")),
            theme.ok(),
        ));
    }
    out
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
