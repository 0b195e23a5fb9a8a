//! An alert's detail: severity, summary, scope and labels.

use ratatui::text::{Line, Span};

use super::kv;
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
    (format!("Alert {}", a.name), lines)
}
