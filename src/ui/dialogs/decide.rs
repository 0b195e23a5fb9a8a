//! A decision about releases — halt or resume promotions, offer a failed release again, ask
//! for or give a second person's approval — with what it means and, where it is required, the
//! reason typed for everyone to read. A decision that cannot be made is titled as a refusal and
//! only closes.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use tui_textarea::TextArea;

use super::Outcome;
use crate::domain::Fleet;
use crate::domain::release::ApprovalRequest;
use crate::ops::Mutation;
use crate::ui::keymap::{self, Action, Context};
use crate::ui::layout::centered;
use crate::ui::text;
use crate::ui::theme::Theme;

pub struct DecideDialog {
    pub title: String,
    /// What enter writes (its reason filled in from the field).
    pub mutation: Option<Mutation>,
    /// What the decision means.
    pub lines: Vec<String>,
    /// The reason, where the decision needs one.
    pub reason: Option<TextArea<'static>>,
    /// Why it cannot be made, when it cannot: the dialog then only closes.
    pub refused: Option<String>,
}

fn reason_field() -> TextArea<'static> {
    let mut ta = TextArea::default();
    ta.set_placeholder_text(text::DECISION_PLACEHOLDER);
    ta
}

impl DecideDialog {
    /// A refusal, titled as one.
    pub fn refused(title: String, why: String) -> DecideDialog {
        DecideDialog {
            title,
            mutation: None,
            lines: Vec::new(),
            reason: None,
            refused: Some(why),
        }
    }

    /// `H`: halt the fleet, or resume it when it is halted; on a halted tier (and a fleet that
    /// is not), resume that tier.
    pub fn halt_or_resume(fleet: &Fleet, tier: Option<&str>) -> DecideDialog {
        let c = &fleet.controls;
        let tier_halt = tier.and_then(|t| c.halts.iter().find(|h| h.tier.as_deref() == Some(t)));
        if let Some(h) = c.fleet_halt().or(tier_halt) {
            return DecideDialog {
                title: match &h.tier {
                    None => "Resume promotions on the fleet".into(),
                    Some(t) => format!("Resume promotions into '{t}'"),
                },
                mutation: Some(Mutation::Resume {
                    tier: h.tier.clone(),
                    reason: String::new(),
                    halted_at: Some(h.at),
                }),
                lines: vec![h.describe(), text::RESUME_MEANS.into()],
                reason: Some(reason_field()),
                refused: None,
            };
        }
        DecideDialog {
            title: "Halt every promotion".into(),
            mutation: Some(Mutation::Halt {
                tier: None,
                reason: String::new(),
            }),
            lines: vec![text::HALT_MEANS.into()],
            reason: Some(reason_field()),
            refused: None,
        }
    }

    /// `C`: offer the release that failed on `tier` for it again.
    pub fn clear(fleet: &Fleet, tier: &str) -> DecideDialog {
        let Some(f) = fleet.controls.failed.iter().find(|f| f.tier == tier) else {
            return DecideDialog::refused(
                format!("Cannot clear '{tier}'"),
                format!("no release is marked failed on '{tier}'"),
            );
        };
        DecideDialog {
            title: format!("Offer {} for '{tier}' again", f.revision.label()),
            mutation: Some(Mutation::ClearFailed {
                tier: tier.into(),
                revision: f.revision.clone(),
                reason: String::new(),
            }),
            lines: vec![
                format!(
                    "{} failed on '{tier}': {} ({} at {})",
                    f.revision.label(),
                    f.reason,
                    f.by,
                    f.at.hhmmss()
                ),
                text::CLEAR_MEANS.into(),
            ],
            reason: Some(reason_field()),
            refused: None,
        }
    }

    /// `a`: ask a second person to approve the next step into `tier`, or approve someone
    /// else's request for it. `me` is this session's identity.
    pub fn approval(fleet: &Fleet, tier: &str, me: &str) -> DecideDialog {
        let refuse = |why: String| DecideDialog::refused(format!("Cannot approve '{tier}'"), why);
        let (from, to) = match crate::domain::release::controls::approval_change(fleet, tier) {
            Ok(change) => change,
            Err(why) => return refuse(why),
        };
        let change = format!(
            "'{tier}' from {} to {}",
            from.as_ref()
                .map(|r| r.label())
                .unwrap_or_else(|| "nothing".into()),
            to.label()
        );
        let request = fleet
            .tier(tier)
            .and_then(|t| fleet.controls.request_for(t, &to.id));
        match request {
            None => DecideDialog {
                title: format!("Ask for approval of '{tier}'"),
                mutation: Some(Mutation::RequestApproval {
                    tier: tier.into(),
                    from,
                    to,
                }),
                lines: vec![
                    format!("A second person approves exactly this change: {change}."),
                    text::REQUEST_MEANS.into(),
                ],
                reason: None,
                refused: None,
            },
            Some(r) if r.approved() => refuse(approved_by(r)),
            Some(r) if r.requested_by == me => refuse(format!(
                "you asked for this approval at {}; a second person must give it",
                r.requested_at.hhmmss()
            )),
            Some(r) => DecideDialog {
                title: format!("Approve '{tier}'"),
                mutation: Some(Mutation::Approve {
                    tier: tier.into(),
                    request: r.name.clone(),
                    from,
                    to,
                }),
                lines: vec![
                    format!(
                        "{} asked at {} to step {change}.",
                        r.requested_by,
                        r.requested_at.hhmmss()
                    ),
                    text::APPROVE_MEANS.into(),
                ],
                reason: None,
                refused: None,
            },
        }
    }

    fn typed(&self) -> String {
        self.reason
            .as_ref()
            .map(|ta| {
                crate::domain::printable(&ta.lines().join(" "))
                    .trim()
                    .to_string()
            })
            .unwrap_or_default()
    }

    /// What enter writes, with the typed reason; `Err` says why not.
    fn confirmed(&self) -> Result<Mutation, String> {
        if let Some(why) = &self.refused {
            return Err(why.clone());
        }
        let reason = match &self.reason {
            Some(_) => crate::domain::reason(&self.typed())
                .map_err(|why| format!("{why}: {}", text::DECISION_NEEDS_REASON))?,
            None => String::new(),
        };
        let m = self.mutation.clone().ok_or_else(String::new)?;
        Ok(match m {
            Mutation::Halt { tier, .. } => Mutation::Halt { tier, reason },
            Mutation::Resume {
                tier, halted_at, ..
            } => Mutation::Resume {
                tier,
                reason,
                halted_at,
            },
            Mutation::ClearFailed { tier, revision, .. } => Mutation::ClearFailed {
                tier,
                revision,
                reason,
            },
            other => other,
        })
    }

    pub fn on_action(&mut self, action: Action) -> Outcome {
        match action {
            Action::Quit => Outcome::Quit,
            Action::Confirm => match self.confirmed() {
                Ok(mutation) => Outcome::Run {
                    doing: text::deciding(&mutation),
                    mutation,
                    notes: false,
                },
                Err(why) if self.refused.is_some() => Outcome::Close(Some((why, true))),
                Err(why) => Outcome::Refuse(why),
            },
            _ => Outcome::Close(None),
        }
    }

    pub fn render(&self, theme: &Theme, frame: &mut Frame<'_>, size: Rect) {
        let w = 76.min(size.width);
        let mut lines: Vec<Line<'_>> = self.lines.iter().map(|l| Line::raw(l.clone())).collect();
        if let Some(why) = &self.refused {
            lines.push(Line::styled(format!("✗ {why}"), theme.danger()));
        }
        // Wrapped lines take the rows they need.
        let inner_w = usize::from(w.saturating_sub(2)).max(1);
        let body_h: usize = lines
            .iter()
            .map(|l| l.width().div_ceil(inner_w).max(1))
            .sum();
        let reason_h = if self.reason.is_some() { 3 } else { 0 };
        let h = (body_h as u16 + 2 + reason_h).min(size.height);
        let area = centered(size, w, h);
        let keys = if self.refused.is_some() {
            text::ESC_CLOSE.to_string()
        } else {
            keymap::hint(Context::Confirm, false)
        };
        let border = if self.refused.is_some() {
            theme.danger()
        } else {
            theme.border(true)
        };
        super::render_framed(
            frame,
            theme,
            area,
            &self.title,
            keys,
            border,
            lines,
            self.reason
                .as_ref()
                .map(|ta| (ta, text::DECISION_REASON_TITLE)),
        );
    }
}

fn approved_by(r: &ApprovalRequest) -> String {
    format!(
        "{} approved this change at {}",
        r.approved_by.as_deref().unwrap_or_default(),
        r.approved_at.map(|t| t.hhmmss()).unwrap_or_default()
    )
}
