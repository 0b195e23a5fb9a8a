//! A tier's detail: its branch and revision, how far its ShopSets are, the gate for promoting
//! into it.

use ratatui::text::{Line, Span};

use super::{kv, shopset_line};
use crate::domain::time::age;

use crate::domain::release::{Rollout, gate, rollout};
use crate::ui::dialogs::confirm::check_lines;
use crate::ui::state::View;
use crate::ui::theme::Theme;

/// Title and lines of a tier's info panel.
pub fn info<'a>(view: &View<'a>, name: &'a str, theme: &Theme) -> (String, Vec<Line<'a>>) {
    let (fleet, now) = (view.fleet, view.now);
    let Some(t) = fleet.tier(name) else {
        return super::missing(theme, "tier", name);
    };
    let Rollout { settled, total, .. } = rollout(fleet, t);
    let mut lines = vec![
        kv(theme, "level", t.level.to_string()),
        kv(theme, "branch", t.branch.clone()),
        kv(
            theme,
            "revision",
            t.revision
                .as_ref()
                .map(|r| format!("{}  {}", r.label(), r.subject))
                .unwrap_or_else(|| "?".into()),
        ),
        kv(
            theme,
            "full id",
            t.revision
                .as_ref()
                .map(|r| r.id.clone())
                .unwrap_or_default(),
        ),
        kv(
            theme,
            "updated",
            t.updated_at
                .map(|u| format!("{} ({} ago)", u.rfc3339(), age(u.secs_until(now))))
                .unwrap_or_else(|| "-".into()),
        ),
        kv(theme, "soak time", format!("{}s", t.soak_secs)),
        kv(
            theme,
            "settled",
            format!("{settled}/{total} ShopSets Synced and Healthy"),
        ),
    ];
    if let Some(below) = fleet.tier_below(name) {
        lines.push(kv(
            theme,
            "tier below",
            format!(
                "{} at {}",
                below.name,
                below
                    .revision
                    .as_ref()
                    .map(|r| r.label())
                    .unwrap_or_default()
            ),
        ));
    }
    match (&t.previous, &t.revision) {
        // The last change went back: a rollback would bring the newer release back, which only
        // a step may do.
        (Some(prev), Some(now)) if prev.seq > now.seq => lines.push(kv(
            theme,
            "rolled back",
            format!("from {} (no further rollback)", prev.label()),
        )),
        (Some(prev), _) => lines.push(kv(
            theme,
            "rollback to",
            format!("{}  {}", prev.label(), prev.subject),
        )),
        (None, _) => {}
    }
    if let Some(g) = gate(fleet, name, now, view.policy, fleet.lock.as_ref(), view.me) {
        lines.push(Line::raw(""));
        let verdict = if g.passed() {
            ("passes: s promotes", theme.ok())
        } else if g.passes_with_override() {
            ("fails; may be overridden with a reason", theme.warn())
        } else {
            ("fails", theme.danger())
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!("Gate {} → {}: ", g.from_tier, g.tier),
                theme.title(false),
            ),
            Span::styled(verdict.0, verdict.1),
        ]));
        lines.extend(check_lines(&g, theme));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("ShopSets", theme.title(false)));
    for ss in fleet.shopsets_of_tier(name) {
        lines.push(shopset_line(fleet, ss, theme));
    }
    (format!("Tier {name}"), lines)
}
