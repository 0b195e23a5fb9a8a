//! An Argo CD application's detail: sync, health, operation and revisions.

use ratatui::text::{Line, Span};

use super::kv;
use crate::domain::time::age;
use crate::domain::{Fleet, Ts};
use crate::ui::symbols;
use crate::ui::theme::Theme;

/// Title and lines of an application's info panel.
pub fn info<'a>(fleet: &'a Fleet, name: &str, theme: &Theme, now: Ts) -> (String, Vec<Line<'a>>) {
    let Some(a) = fleet.apps.iter().find(|a| a.name == *name) else {
        return super::missing(theme, "application", name);
    };
    let lines = vec![
        kv(theme, "shopset", a.shopset.clone()),
        kv(
            theme,
            "sync",
            Span::styled(symbols::sync(a.sync), theme.sync(a.sync)),
        ),
        kv(
            theme,
            "health",
            Span::styled(symbols::health(a.health), theme.health(a.health)),
        ),
        kv(theme, "operation", symbols::operation(a.operation)),
        kv(
            theme,
            "revision",
            a.revision.clone().unwrap_or_else(|| "-".into()),
        ),
        kv(
            theme,
            "base",
            a.app_revision.clone().unwrap_or_else(|| "-".into()),
        ),
        kv(
            theme,
            "last synced",
            a.last_sync_finished
                .map(|t| format!("{} ({} ago)", t.rfc3339(), age(t.secs_until(now))))
                .unwrap_or_else(|| "-".into()),
        ),
    ];
    (format!("Application {name}"), lines)
}
