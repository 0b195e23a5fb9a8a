//! Silencing alerts and expiring a silence. The silence dialog starts from the selected alert's
//! labels as matchers (editable), a duration and a comment, and shows live which firing alerts
//! it would mute; the expire dialog lists the silences, those muting the selected alert first.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};
use tui_textarea::TextArea;

use super::Outcome;
use crate::domain::silence::{
    all_match, format_duration, format_matchers, matchers_for, parse_duration, parse_matchers,
};
use crate::domain::{Alert, Fleet, Matcher, SilenceState, Ts};
use crate::ops::Mutation;
use crate::ui::keymap::{self, Action, Context};
use crate::ui::layout::centered;
use crate::ui::text;
use crate::ui::theme::Theme;

/// How long a silence lasts unless the operator says otherwise.
pub const DEFAULT_DURATION: &str = "2h";

/// The field that has the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Matchers,
    Duration,
    Comment,
}

/// A silence being written: matchers, duration, comment.
pub struct SilenceDialog {
    pub matchers: TextArea<'static>,
    pub duration: TextArea<'static>,
    pub comment: TextArea<'static>,
    pub field: Field,
}

/// What the dialog's fields say, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SilenceInput {
    pub matchers: Vec<Matcher>,
    pub duration_secs: i64,
    pub comment: String,
}

fn line(text: &str) -> TextArea<'static> {
    let mut ta = TextArea::new(vec![text.to_string()]);
    ta.move_cursor(tui_textarea::CursorMove::End);
    ta
}

impl SilenceDialog {
    /// Matchers from every label of `alert`; the comment has the keys.
    pub fn for_alert(alert: &Alert) -> SilenceDialog {
        let mut comment = TextArea::default();
        comment.set_placeholder_text(text::SILENCE_COMMENT_PLACEHOLDER);
        let mut matchers = line(&format_matchers(&matchers_for(alert)));
        // The start shows: `alertname=` first, not the end of a long line.
        matchers.move_cursor(tui_textarea::CursorMove::Head);
        SilenceDialog {
            matchers,
            duration: line(DEFAULT_DURATION),
            comment,
            field: Field::Comment,
        }
    }

    /// A silence written from scratch (ahead of maintenance, say), starting from `matchers`;
    /// the matchers have the keys.
    pub fn blank(matchers: &str) -> SilenceDialog {
        let mut comment = TextArea::default();
        comment.set_placeholder_text(text::SILENCE_COMMENT_PLACEHOLDER);
        let mut m = line(matchers);
        m.set_placeholder_text(text::MATCHERS_PLACEHOLDER);
        SilenceDialog {
            matchers: m,
            duration: line(DEFAULT_DURATION),
            comment,
            field: Field::Matchers,
        }
    }

    pub fn next_field(&mut self) {
        self.field = match self.field {
            Field::Matchers => Field::Duration,
            Field::Duration => Field::Comment,
            Field::Comment => Field::Matchers,
        };
    }

    /// A key for the field that has the keys. Matchers and duration are one line each; the
    /// comment takes a new line with alt-enter.
    pub fn input(&mut self, key: KeyEvent) -> bool {
        let enter = key.code == KeyCode::Enter;
        match self.field {
            Field::Matchers | Field::Duration if enter => false,
            Field::Matchers => self.matchers.input(key),
            Field::Duration => self.duration.input(key),
            Field::Comment if enter => {
                self.comment.insert_newline();
                true
            }
            Field::Comment => self.comment.input(key),
        }
    }

    /// Pasted text for the field that has the keys: one line for matchers and duration, as
    /// many as it has for the comment.
    pub fn paste(&mut self, text: &str) -> bool {
        let one_line = crate::domain::printable(text);
        match self.field {
            Field::Matchers => self.matchers.insert_str(one_line),
            Field::Duration => self.duration.insert_str(one_line.trim()),
            Field::Comment => self.comment.insert_str(text),
        }
    }

    fn text(ta: &TextArea<'_>) -> String {
        ta.lines().join("\n")
    }

    /// The silence the fields describe, or what is wrong with them (naming the field).
    pub fn parsed(&self) -> Result<SilenceInput, String> {
        let matchers = parse_matchers(&Self::text(&self.matchers))
            .map_err(|e| format!("{}: {e}", text::MATCHERS))?;
        let duration_secs = parse_duration(&Self::text(&self.duration))
            .map_err(|e| format!("{}: {e}", text::DURATION))?;
        // Lines stay lines; nothing else that would act on a terminal stays.
        let comment = crate::domain::printable_lines(&Self::text(&self.comment))
            .trim()
            .to_string();
        if comment.is_empty() {
            return Err(text::SILENCE_NEEDS_COMMENT.into());
        }
        Ok(SilenceInput {
            matchers,
            duration_secs,
            comment,
        })
    }

    pub fn render(&self, fleet: &Fleet, theme: &Theme, frame: &mut Frame<'_>, size: Rect, now: Ts) {
        let parsed = self.parsed();
        let hits: Vec<&Alert> = match &parsed {
            Ok(input) => fleet
                .alerts
                .iter()
                .filter(|a| all_match(&input.matchers, &a.labels))
                .collect(),
            Err(_) => Vec::new(),
        };
        // Fields, the verdict, up to six muted alerts, borders.
        let height = 10 + 1 + hits.len().min(6) as u16 + 2;
        let area = centered(size, 86.min(size.width), height.min(size.height));
        frame.render_widget(Clear, area);
        let block = Block::bordered()
            .border_style(theme.border(true))
            .title(Line::styled(text::SILENCE_TITLE, theme.title(true)))
            .title_bottom(Line::styled(
                keymap::hint(Context::Silence, false),
                theme.key(),
            ))
            .style(theme.base());
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [m, d, c, body] = Layout::vertical([
            Constraint::Length(3),
            Constraint::Length(3),
            Constraint::Length(4),
            Constraint::Fill(1),
        ])
        .areas(inner);
        let until = parse_duration(&Self::text(&self.duration))
            .map(|s| text::silence_until(&now.plus_secs(s).hhmm(), &format_duration(s)))
            .unwrap_or_default();
        for (ta, area, field, title) in [
            (
                &self.matchers,
                m,
                Field::Matchers,
                text::MATCHERS.to_string(),
            ),
            (
                &self.duration,
                d,
                Field::Duration,
                format!("{} {until}", text::DURATION),
            ),
            (
                &self.comment,
                c,
                Field::Comment,
                text::COMMENT_TITLE.to_string(),
            ),
        ] {
            let mut ta = ta.clone();
            let focused = field == self.field;
            if !focused {
                ta.set_cursor_style(theme.base());
            }
            ta.set_block(
                Block::bordered()
                    .border_style(theme.border(focused))
                    .title(Line::styled(title, theme.title(focused))),
            );
            frame.render_widget(&ta, area);
        }
        let mut lines = Vec::new();
        match parsed {
            Err(why) => lines.push(Line::styled(format!("✗ {why}"), theme.danger())),
            Ok(_) => {
                lines.push(Line::styled(
                    text::silence_mutes(hits.len()),
                    if hits.is_empty() {
                        theme.warn()
                    } else {
                        theme.ok()
                    },
                ));
                for a in hits.iter().take(body.height.saturating_sub(1) as usize) {
                    lines.push(Line::from(vec![
                        Span::raw(format!("  {:<28} ", a.name)),
                        Span::styled(a.scope(&fleet.scope_labels), theme.muted()),
                    ]));
                }
            }
        }
        frame.render_widget(Paragraph::new(lines), body);
    }
}

impl SilenceDialog {
    /// What a key does: the next field, confirm the silence (once it parses) or leave.
    pub fn on_action(&mut self, action: Action) -> Outcome {
        match action {
            Action::Quit => Outcome::Quit,
            Action::Back => Outcome::Close(None),
            Action::NextField => {
                self.next_field();
                Outcome::Stay
            }
            Action::Confirm => match self.parsed() {
                Ok(input) => {
                    let mutation = Mutation::Silence {
                        matchers: input.matchers,
                        duration_secs: input.duration_secs,
                        comment: input.comment,
                    };
                    Outcome::Run {
                        doing: text::silencing(&mutation),
                        mutation,
                        notes: false,
                    }
                }
                Err(why) => Outcome::Refuse(format!("✗ {why}")),
            },
            _ => Outcome::Stay,
        }
    }
}

/// Choosing a silence to expire: not-yet-expired ones, those muting the selected alert first.
pub struct ExpireDialog {
    pub ids: Vec<String>,
    pub cursor: usize,
    /// How many of `ids` (from the top) mute the selected alert.
    pub muting: usize,
}

impl ExpireDialog {
    pub fn open(fleet: &Fleet, alert: Option<&Alert>) -> ExpireDialog {
        let live = fleet
            .silences
            .iter()
            .filter(|s| s.state != SilenceState::Expired);
        let (mut first, rest): (Vec<_>, Vec<_>) =
            live.partition(|s| alert.is_some_and(|a| a.silenced_by.contains(&s.id)));
        let muting = first.len();
        first.extend(rest);
        ExpireDialog {
            ids: first.into_iter().map(|s| s.id.clone()).collect(),
            cursor: 0,
            muting,
        }
    }

    pub fn selected(&self) -> Option<&str> {
        self.ids.get(self.cursor).map(String::as_str)
    }

    pub fn render(&self, fleet: &Fleet, theme: &Theme, frame: &mut Frame<'_>, size: Rect, now: Ts) {
        let area = centered(
            size,
            96.min(size.width),
            (self.ids.len() as u16 + 8).min(size.height),
        );
        frame.render_widget(Clear, area);
        let block = Block::bordered()
            .border_style(theme.border(true))
            .title(Line::styled(text::EXPIRE_TITLE, theme.title(true)))
            .title_bottom(Line::styled(
                keymap::hint(Context::Expire, false),
                theme.key(),
            ))
            .style(theme.base());
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let mut lines = Vec::new();
        if self.ids.is_empty() {
            lines.push(Line::styled(text::NO_SILENCES, theme.muted()));
        }
        for (i, id) in self.ids.iter().enumerate() {
            let Some(s) = fleet.silences.iter().find(|s| s.id == *id) else {
                lines.push(Line::styled(
                    format!("  {id}  {}", text::GONE),
                    theme.muted(),
                ));
                continue;
            };
            // To the minute: the seconds would only make the row flicker.
            let secs = now.secs_until(s.ends_at).max(0);
            let left = format_duration(if secs > 60 { secs / 60 * 60 } else { secs });
            let mark = if i < self.muting { "●" } else { " " };
            let row = format!(
                "{mark} {:<8} {:<7} {:>8}  {:<16} {}",
                s.id.chars().take(8).collect::<String>(),
                s.state.as_str(),
                left,
                s.created_by.chars().take(16).collect::<String>(),
                format_matchers(&s.matchers)
            );
            lines.push(Line::styled(
                row,
                if i == self.cursor {
                    theme.selected()
                } else {
                    theme.base()
                },
            ));
        }
        let [rows, details] = Layout::vertical([
            Constraint::Length(lines.len() as u16 + 1),
            Constraint::Fill(1),
        ])
        .areas(inner);
        frame.render_widget(Paragraph::new(lines), rows);
        let mut lines = Vec::new();
        if let Some(s) = self
            .selected()
            .and_then(|id| fleet.silences.iter().find(|s| s.id == id))
        {
            lines.push(Line::styled(s.id.clone(), theme.muted()));
            lines.push(Line::raw(format_matchers(&s.matchers)));
            lines.push(Line::raw(s.comment.clone()));
            if self.cursor < self.muting {
                lines.push(Line::styled(text::MUTING_MARK, theme.muted()));
            }
        }
        frame.render_widget(
            Paragraph::new(lines).wrap(ratatui::widgets::Wrap { trim: false }),
            details,
        );
    }
}

impl ExpireDialog {
    /// What a key does: move the cursor, expire the silence at it, or leave.
    pub fn on_action(&mut self, action: Action, fleet: &Fleet) -> Outcome {
        match action {
            Action::Quit => return Outcome::Quit,
            Action::Back => return Outcome::Close(None),
            Action::Down => self.cursor = (self.cursor + 1).min(self.ids.len().saturating_sub(1)),
            Action::Up => self.cursor = self.cursor.saturating_sub(1),
            Action::Confirm => {
                let silence = self
                    .selected()
                    .and_then(|id| fleet.silences.iter().find(|s| s.id == id));
                return match silence {
                    Some(s) => {
                        let mutation = Mutation::ExpireSilence {
                            id: s.id.clone(),
                            matchers: s.matchers.clone(),
                        };
                        Outcome::Run {
                            doing: text::silencing(&mutation),
                            mutation,
                            notes: false,
                        }
                    }
                    None => Outcome::Close(Some((text::NOTHING_TO_EXPIRE.into(), false))),
                };
            }
            _ => {}
        }
        Outcome::Stay
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::release::testing::alert;
    use crate::domain::{Severity, Silence};
    use crossterm::event::KeyModifiers;

    #[test]
    fn the_dialog_starts_from_the_alerts_labels_and_needs_a_comment() {
        let a = alert("HighLatency", Severity::Warning, &[("cluster", "b")]);
        let mut d = SilenceDialog::for_alert(&a);
        assert_eq!(
            d.parsed().unwrap_err(),
            text::SILENCE_NEEDS_COMMENT,
            "no comment yet"
        );
        for c in "deploy in progress".chars() {
            d.input(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        let input = d.parsed().unwrap();
        assert_eq!(
            input.matchers,
            vec![Matcher::equal("cluster", "b")],
            "the alert's labels"
        );
        assert_eq!(input.duration_secs, 7200);
        assert_eq!(input.comment, "deploy in progress");
        d.next_field();
        assert_eq!(d.field, Field::Matchers);
        // The cursor is at the start of the matchers: a stray '=' breaks them.
        d.input(KeyEvent::new(KeyCode::Char('='), KeyModifiers::NONE));
        assert!(d.parsed().unwrap_err().starts_with(text::MATCHERS));
    }

    #[test]
    fn silences_muting_the_alert_come_first_and_expired_ones_are_left_out() {
        let mut a = alert("X", Severity::Warning, &[]);
        a.silenced_by = vec!["s2".into()];
        let s = |id: &str, state| Silence {
            id: id.into(),
            matchers: vec![Matcher::equal("a", "b")],
            starts_at: Ts::from_secs(0),
            ends_at: Ts::from_secs(10),
            created_by: "me".into(),
            comment: String::new(),
            state,
        };
        let mut fleet = Fleet::default();
        fleet.silences = vec![
            s("s1", SilenceState::Active),
            s("s2", SilenceState::Active),
            s("s3", SilenceState::Expired),
        ];
        let d = ExpireDialog::open(&fleet, Some(&a));
        assert_eq!(d.ids, vec!["s2", "s1"]);
        assert_eq!((d.muting, d.selected()), (1, Some("s2")));
    }
}
