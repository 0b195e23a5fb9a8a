//! The drain (or restore) plan, shown before anything moves and confirmed by typing the
//! cluster's name; blocked dual shops may be accepted as degraded.

use std::collections::HashSet;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use tui_textarea::TextArea;

use super::Outcome;
use crate::domain::placement::{DrainPlan, plan_drain, plan_restore};
use crate::domain::{Fleet, Redundancy};
use crate::ui::keymap::{self, Action, Context};
use crate::ui::layout::centered;
use crate::ui::placement::PlanKind;
use crate::ui::text;
use crate::ui::theme::Theme;

/// A drain or restore plan, shown before anything moves; confirmed by typing the cluster's name.
pub struct PlanDialog {
    pub kind: PlanKind,
    pub cluster: String,
    /// The drain id the moves are recorded under (drain) or undo (restore).
    pub drain: String,
    pub plan: DrainPlan,
    /// The blocked dual shops the operator accepted to run on one ShopSet.
    pub accepted: bool,
    /// Dual shops among the blockers of the plan as first made: the ones that may be accepted
    /// as degraded.
    pub acceptable: Vec<String>,
    pub typed: TextArea<'static>,
    pub offset: usize,
    /// The plan changed with the fleet while the dialog was open (the typed name was cleared).
    pub changed: bool,
}

impl PlanDialog {
    pub fn drain(fleet: &Fleet, cluster: &str, drain: String) -> PlanDialog {
        let plan = plan_drain(fleet, cluster, &HashSet::new());
        let blocked: HashSet<&str> = plan.blockers.iter().map(|b| b.shop.as_str()).collect();
        let acceptable = fleet
            .shops
            .iter()
            .filter(|s| s.redundancy == Redundancy::Dual && blocked.contains(s.name.as_str()))
            .map(|s| s.name.clone())
            .collect();
        let mut d = PlanDialog::new(PlanKind::Drain, cluster, drain, plan);
        d.acceptable = acceptable;
        d
    }

    pub fn restore(fleet: &Fleet, cluster: &str, drain: String) -> PlanDialog {
        let plan = plan_restore(fleet, cluster, &drain);
        PlanDialog::new(PlanKind::Restore, cluster, drain, plan)
    }

    fn new(kind: PlanKind, cluster: &str, drain: String, plan: DrainPlan) -> PlanDialog {
        let mut typed = TextArea::default();
        typed.set_placeholder_text(text::type_to_confirm(cluster));
        PlanDialog {
            kind,
            cluster: cluster.into(),
            drain,
            plan,
            accepted: false,
            acceptable: Vec::new(),
            typed,
            offset: 0,
            changed: false,
        }
    }

    /// Keys that would do nothing in this plan: accepting degraded redundancy when no blocked
    /// dual shop could be accepted.
    pub fn idle_keys(&self) -> &'static [keymap::Action] {
        if self.acceptable.is_empty() && !self.accepted {
            &[keymap::Action::AcceptDegraded]
        } else {
            &[]
        }
    }

    /// Makes the plan again from the fleet as it is now. A plan whose moves or blockers
    /// changed asks for the cluster's name again, so that nothing runs that was not seen.
    pub fn refresh(&mut self, fleet: &Fleet) {
        let plan = match self.kind {
            PlanKind::Drain => {
                let accept: HashSet<String> = if self.accepted {
                    self.acceptable.iter().cloned().collect()
                } else {
                    HashSet::new()
                };
                plan_drain(fleet, &self.cluster, &accept)
            }
            PlanKind::Restore => plan_restore(fleet, &self.cluster, &self.drain),
        };
        if plan.flows() != self.plan.flows() || plan.blockers != self.plan.blockers {
            self.plan = plan;
            self.changed = true;
            self.typed = TextArea::default();
            self.typed
                .set_placeholder_text(text::type_to_confirm(&self.cluster));
        }
    }

    /// Toggles acceptance of degraded redundancy for exactly the listed blocked dual shops.
    pub fn toggle_accept(&mut self, fleet: &Fleet) {
        if self.kind != PlanKind::Drain {
            return;
        }
        self.accepted = !self.accepted;
        let accept: HashSet<String> = if self.accepted {
            self.acceptable.iter().cloned().collect()
        } else {
            HashSet::new()
        };
        self.plan = plan_drain(fleet, &self.cluster, &accept);
    }

    /// The plan to execute, or why not yet.
    pub fn confirmed(&self) -> Result<DrainPlan, String> {
        let typed = self.typed.lines().join("");
        if !self.plan.blockers.is_empty() && self.kind == PlanKind::Drain {
            return Err(text::plan_blocked(self.plan.blockers.len()));
        }
        if typed.trim() != self.cluster {
            return Err(text::type_cluster_name(&self.cluster, typed.trim()));
        }
        Ok(self.plan.clone())
    }

    pub fn render(&self, fleet: &Fleet, theme: &Theme, frame: &mut Frame<'_>, size: Rect) {
        let area = centered(
            size,
            96.min(size.width),
            size.height.saturating_sub(2).max(10),
        );
        frame.render_widget(Clear, area);
        let keys = keymap::hint_without(Context::Plan, false, self.idle_keys());
        let block = Block::bordered()
            .border_style(theme.border(true))
            .title(Line::styled(
                text::plan_title(self.kind, &self.cluster),
                theme.title(true),
            ))
            .title_bottom(Line::styled(keys, theme.key()))
            .style(theme.base());
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [body, input] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(3)]).areas(inner);
        let mut lines = Vec::new();
        let resuming = fleet
            .cluster(&self.cluster)
            .is_some_and(|c| c.cordoned && c.drain.as_deref() == Some(self.drain.as_str()));
        lines.push(Line::raw(text::plan_intro(
            self.kind,
            &self.cluster,
            self.plan.moves.len(),
            resuming,
        )));
        if self.changed {
            lines.push(Line::styled(text::PLAN_CHANGED, theme.warn()));
        }
        if self.plan.blockers.is_empty() {
            lines.push(Line::styled(text::NO_BLOCKERS, theme.ok()));
        } else {
            lines.push(Line::styled(
                text::blockers_below(self.plan.blockers.len()),
                theme.danger(),
            ));
        }
        lines.push(Line::styled(text::MOVES_HEADING, theme.title(false)));
        for (from, to, n) in self.plan.flows() {
            lines.push(Line::raw(format!("  {from:>8} → {to:<16} {n:>6}")));
        }
        lines.push(Line::styled(text::LOAD_AFTER, theme.title(false)));
        for (ss, n, cap) in self.plan.loads_after(fleet) {
            let pct = (u64::from(n) * 100)
                .checked_div(u64::from(cap))
                .unwrap_or(0);
            let style = if pct > 90 { theme.warn() } else { theme.base() };
            lines.push(Line::styled(
                format!("  {ss:>8} {n:>6}/{cap:<6} {pct:>3}%"),
                style,
            ));
        }
        if !self.plan.degraded.is_empty() {
            lines.push(Line::styled(
                text::accepted_degraded(self.plan.degraded.len()),
                theme.warn(),
            ));
            lines.push(Line::raw(format!("  {}", self.plan.degraded.join(", "))));
        }
        if !self.plan.blockers.is_empty() {
            let acceptable = match self.kind {
                PlanKind::Drain => self.acceptable.len(),
                PlanKind::Restore => 0,
            };
            lines.push(Line::styled(
                text::blockers_heading(self.plan.blockers.len(), acceptable),
                theme.danger(),
            ));
            for b in &self.plan.blockers {
                lines.push(Line::from(vec![
                    Span::styled(format!("  {:<24} ", b.shop), theme.danger()),
                    Span::raw(b.reason.clone()),
                ]));
            }
        }
        frame.render_widget(
            Paragraph::new(text::fit_lines(lines, body.width)).scroll((self.offset as u16, 0)),
            body,
        );
        let mut ta = self.typed.clone();
        ta.set_block(
            Block::bordered()
                .border_style(theme.warn())
                .title(text::confirm_by_typing(&self.cluster)),
        );
        frame.render_widget(&ta, input);
    }
}

impl PlanDialog {
    /// What a key does to the plan: scroll it, accept degraded redundancy, confirm it (once the
    /// cluster's name is typed) or leave it.
    pub fn on_action(&mut self, action: Action, fleet: &Fleet) -> Outcome {
        match action {
            Action::Quit => return Outcome::Quit,
            Action::Back => return Outcome::Close(Some((text::NOTHING_MOVED.into(), false))),
            Action::AcceptDegraded => self.toggle_accept(fleet),
            Action::Down => self.offset += 1,
            Action::Up => self.offset = self.offset.saturating_sub(1),
            Action::PageDown => self.offset += 10,
            Action::PageUp => self.offset = self.offset.saturating_sub(10),
            Action::Confirm => {
                return match self.confirmed() {
                    Ok(plan) => Outcome::RunPlan {
                        kind: self.kind,
                        cluster: self.cluster.clone(),
                        drain: self.drain.clone(),
                        plan,
                    },
                    Err(why) => Outcome::Refuse(why),
                };
            }
            _ => {}
        }
        Outcome::Stay
    }
}
