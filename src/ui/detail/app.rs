//! An Argo CD application's detail: sync, health, operation (with its message and where it
//! synced to), revisions, the serving stack as its resources say, and the resources that are not
//! Synced and Healthy with what Argo CD says of them.

use ratatui::text::{Line, Span};

use super::kv;
use crate::domain::time::age;
use crate::domain::{ComponentHealth, Components, Fleet, Ts};
use crate::ui::symbols;
use crate::ui::text::wrap;
use crate::ui::theme::Theme;

/// Columns the key takes (see [`kv`]), and the indent of a resource's message.
const KEY_W: usize = 15;
const INDENT: usize = 4;

/// Title and lines of an application's info panel, `width` columns wide: messages wrap, never
/// cut.
pub fn info<'a>(
    fleet: &'a Fleet,
    name: &str,
    theme: &Theme,
    now: Ts,
    width: u16,
) -> (String, Vec<Line<'a>>) {
    let Some(a) = fleet.apps.iter().find(|a| a.name == *name) else {
        return super::missing(theme, "application", name);
    };
    let text_w = usize::from(width).saturating_sub(KEY_W + 2).max(20);
    let mut lines = vec![
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
    ];
    let mut operation = symbols::operation(a.operation).to_string();
    if a.argo.operation_pending {
        operation.push_str("  (a sync is asked for, not yet taken up)");
    }
    if !a.argo.synced_revisions.is_empty() {
        let short: Vec<&str> = a
            .argo
            .synced_revisions
            .iter()
            .map(|r| r.get(..7).unwrap_or(r))
            .collect();
        operation.push_str(&format!("  synced {}", short.join(", ")));
    }
    lines.push(kv(theme, "operation", operation));
    if let Some(message) = &a.argo.message {
        for (i, part) in wrap(message, text_w).into_iter().enumerate() {
            lines.push(kv(theme, if i == 0 { "message" } else { "" }, part));
        }
    }
    let revision = match (&a.revision, a.argo.revisions.is_empty()) {
        (Some(r), _) => r.clone(),
        (None, false) => a.argo.revisions.join(", "),
        (None, true) => "-".into(),
    };
    lines.push(kv(theme, "revision", revision));
    lines.push(kv(
        theme,
        "base",
        a.app_revision.clone().unwrap_or_else(|| "-".into()),
    ));
    lines.push(kv(
        theme,
        "last synced",
        a.last_sync_finished
            .map(|t| format!("{} ({} ago)", t.rfc3339(), age(t.secs_until(now))))
            .unwrap_or_else(|| "-".into()),
    ));
    if let Some(stack) = a.argo.components {
        let spans: Vec<Span<'a>> = Components::NAMES
            .iter()
            .zip(stack.as_array())
            .map(|(n, h)| {
                // What is up is a symbol; what is not says what it is.
                let state = match h {
                    ComponentHealth::Up => symbols::component(h),
                    _ => symbols::component_word(h),
                };
                Span::styled(format!("{n} {state}  "), theme.component(h))
            })
            .collect();
        lines.push(kv(theme, "stack", Line::from(spans)));
    }
    let not_ok = a.argo.resources_not_ok;
    if not_ok == 0 {
        lines.push(kv(
            theme,
            "resources",
            Span::styled("all Synced and Healthy (as listed)", theme.ok()),
        ));
    } else {
        lines.push(kv(
            theme,
            "resources",
            Span::styled(
                format!(
                    "{not_ok} not Synced and Healthy{}",
                    if not_ok > a.argo.resources.len() {
                        format!(" ({} worst shown)", a.argo.resources.len())
                    } else {
                        String::new()
                    }
                ),
                theme.warn(),
            ),
        ));
    }
    for r in &a.argo.resources {
        let mut spans = vec![Span::raw(format!("  {} {}  ", r.kind, r.name))];
        spans.push(Span::styled(symbols::sync(r.sync), theme.sync(r.sync)));
        if let Some(h) = r.health {
            spans.push(Span::raw("  "));
            spans.push(Span::styled(symbols::health(h), theme.health(h)));
        }
        lines.push(Line::from(spans));
        if let Some(m) = &r.message {
            let w = usize::from(width).saturating_sub(INDENT + 2).max(20);
            for part in wrap(m, w) {
                lines.push(Line::styled(format!("{:INDENT$}{part}", ""), theme.muted()));
            }
        }
    }
    (format!("Application {name}"), lines)
}
