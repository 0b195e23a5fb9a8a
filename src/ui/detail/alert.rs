//! An alert's detail: severity, summary, scope and labels.

use ratatui::text::{Line, Span};

use super::kv;
use crate::domain::silence::format_matchers;
use crate::domain::time::age;
use crate::domain::{Fleet, Ts};
use crate::ui::panes::alerts::alert_key;
use crate::ui::symbols;
use crate::ui::theme::Theme;

/// Title and lines of an alert's info panel.
pub fn info<'a>(fleet: &'a Fleet, key: &str, theme: &Theme, now: Ts) -> (String, Vec<Line<'a>>) {
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
    if !a.silenced_by.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("Silenced by", theme.title(false)));
        for id in &a.silenced_by {
            lines.push(kv(theme, "silence", id.clone()));
            if let Some(s) = fleet.silences.iter().find(|s| s.id == *id) {
                lines.push(kv(theme, "matchers", format_matchers(&s.matchers)));
                lines.push(kv(
                    theme,
                    "until",
                    format!("{} (set by {})", s.ends_at.rfc3339(), s.created_by),
                ));
                lines.push(kv(theme, "comment", s.comment.clone()));
            }
        }
    }
    (format!("Alert {}", a.name), lines)
}
