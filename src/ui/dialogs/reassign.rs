//! Choosing new ShopSets for one shop, before → after, with the rules it would break shown live.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::Outcome;
use crate::domain::placement::check_move;
use crate::domain::{Fleet, Redundancy, Shop};
use crate::ops::Mutation;
use crate::ui::keymap::{self, Action, Context};
use crate::ui::layout::centered;
use crate::ui::text;
use crate::ui::theme::Theme;

/// Choosing new ShopSets for one shop, with the rules it would break shown live.
pub struct ReassignDialog {
    pub shop: Shop,
    /// Candidate ShopSets: same tier, any cluster.
    pub candidates: Vec<String>,
    pub cursor: usize,
    pub chosen: Vec<String>,
}

impl ReassignDialog {
    pub fn new(fleet: &Fleet, shop: &Shop) -> ReassignDialog {
        let tier = shop
            .shopsets
            .first()
            .and_then(|s| fleet.shopset(s))
            .map(|s| s.tier.clone())
            .unwrap_or_default();
        let candidates = fleet
            .shopsets_in_order()
            .filter(|s| s.tier == tier)
            .map(|s| s.name.clone())
            .collect();
        ReassignDialog {
            shop: shop.clone(),
            candidates,
            cursor: 0,
            chosen: shop.shopsets.clone(),
        }
    }

    pub fn toggle(&mut self) {
        let Some(c) = self.candidates.get(self.cursor).cloned() else {
            return;
        };
        if let Some(i) = self.chosen.iter().position(|x| *x == c) {
            self.chosen.remove(i);
        } else {
            let want = if self.shop.redundancy == Redundancy::Dual {
                2
            } else {
                1
            };
            if self.chosen.len() >= want {
                self.chosen.remove(0);
            }
            self.chosen.push(c);
        }
    }

    pub fn render(&self, fleet: &Fleet, theme: &Theme, frame: &mut Frame<'_>, size: Rect) {
        let area = centered(
            size,
            80.min(size.width),
            (self.candidates.len() as u16 + 10).min(size.height),
        );
        frame.render_widget(Clear, area);
        let block = Block::bordered()
            .border_style(theme.border(true))
            .title(Line::styled(
                text::reassign_title(&self.shop.name, self.shop.redundancy.as_str()),
                theme.title(true),
            ))
            .title_bottom(Line::styled(
                keymap::hint(Context::Reassign, false),
                theme.key(),
            ))
            .style(theme.base());
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let broken = check_move(fleet, &self.shop, &self.chosen);
        let mut lines = vec![
            Line::from(vec![
                Span::styled(text::BEFORE, theme.muted()),
                Span::raw(self.shop.shopsets.join(" + ")),
            ]),
            Line::from(vec![
                Span::styled(text::AFTER, theme.muted()),
                Span::raw(self.chosen.join(" + ")),
            ]),
        ];
        if broken.is_empty() && self.chosen != self.shop.shopsets {
            lines.push(Line::styled(text::BREAKS_NO_RULE, theme.ok()));
        } else if self.chosen == self.shop.shopsets {
            lines.push(Line::styled(text::CHOOSE_WITH_SPACE, theme.muted()));
        }
        for b in &broken {
            lines.push(Line::styled(format!("✗ {b}"), theme.danger()));
        }
        lines.push(Line::raw(""));
        for (i, c) in self.candidates.iter().enumerate() {
            let ss = fleet.shopset(c);
            let mark = if self.chosen.contains(c) {
                "[x]"
            } else {
                "[ ]"
            };
            let text = format!(
                "{mark} {c:<8} cluster {:<3} fd {:<4} {:>6}/{:<6}",
                ss.map(|s| s.cluster.as_str()).unwrap_or("?"),
                fleet.failure_domain_of(c).unwrap_or("?"),
                fleet.shop_count(c),
                ss.map(|s| s.capacity).unwrap_or(0)
            );
            lines.push(Line::styled(
                text,
                if i == self.cursor {
                    theme.selected()
                } else {
                    theme.base()
                },
            ));
        }
        frame.render_widget(
            Paragraph::new(crate::ui::text::fit_lines(lines, inner.width)),
            inner,
        );
    }
}

impl ReassignDialog {
    /// What a key does: move the cursor, choose or drop a ShopSet, confirm the move (checked
    /// against the placement rules first) or leave.
    pub fn on_action(&mut self, action: Action, fleet: &Fleet) -> Outcome {
        match action {
            Action::Quit => return Outcome::Quit,
            Action::Back => return Outcome::Close(None),
            Action::Down => {
                self.cursor = (self.cursor + 1).min(self.candidates.len().saturating_sub(1))
            }
            Action::Up => self.cursor = self.cursor.saturating_sub(1),
            Action::Choose => self.toggle(),
            Action::Confirm => {
                if self.chosen == self.shop.shopsets {
                    return Outcome::Refuse(text::CHOOSE_OTHER.into());
                }
                if let Some(b) = check_move(fleet, &self.shop, &self.chosen).first() {
                    return Outcome::Refuse(text::refused(&b));
                }
                let mutation = Mutation::Reassign {
                    shop: self.shop.name.clone(),
                    from: self.shop.shopsets.clone(),
                    to: self.chosen.clone(),
                    tier_change: false,
                };
                return Outcome::Run {
                    doing: text::moving(&mutation),
                    mutation,
                    notes: false,
                };
            }
            _ => {}
        }
        Outcome::Stay
    }
}
