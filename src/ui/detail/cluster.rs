//! A cluster's detail: where it runs, whether it is reachable, its ShopSets, and during an outage
//! the shops it takes down or leaves on one leg.

use ratatui::text::{Line, Span};

use super::{Detail, kv, shopset_line};
use crate::domain::time::age;
use crate::domain::{Fleet, Ts};
use crate::ui::theme::Theme;
use crate::ui::{symbols, text};

/// Title and lines of a cluster's info panel; `error` is why its probe last failed, said whole
/// (wrapped), `width` the panel's columns.
#[allow(clippy::too_many_arguments)]
pub fn info<'a>(
    fleet: &'a Fleet,
    detail: &Detail,
    name: &'a str,
    theme: &Theme,
    now: Ts,
    readonly: bool,
    error: Option<&str>,
    width: u16,
) -> (String, Vec<Line<'a>>) {
    let Some(c) = fleet.cluster(name) else {
        return super::missing(theme, "cluster", name);
    };
    let mut lines = vec![
        kv(theme, "provider", c.provider.clone()),
        kv(theme, "failure domain", c.failure_domain.clone()),
        kv(
            theme,
            "state",
            Span::styled(
                symbols::reachability(c.reachability),
                if c.is_reachable() {
                    theme.ok()
                } else {
                    theme.danger()
                },
            ),
        ),
        kv(
            theme,
            "since",
            c.reachability_since
                .map(|t| format!("{} ({} ago)", t.rfc3339(), age(t.secs_until(now))))
                .unwrap_or_else(|| "-".into()),
        ),
        kv(
            theme,
            "cordoned",
            if c.cordoned {
                "yes: receives no shops"
            } else {
                "no"
            },
        ),
        kv(
            theme,
            "version",
            c.server_version.clone().unwrap_or_else(|| "?".into()),
        ),
        kv(
            theme,
            "nodes ready",
            if c.is_reachable() {
                format!("{}/{}", c.nodes_ready, c.nodes_total)
            } else {
                "? (the cluster does not answer)".into()
            },
        ),
    ];
    if let Some(e) = error {
        let w = usize::from(width).saturating_sub(17).max(20);
        for (i, part) in text::wrap(e, w).into_iter().enumerate() {
            lines.push(kv(
                theme,
                if i == 0 { "last error" } else { "" },
                Span::styled(part, theme.danger()),
            ));
        }
    }
    lines.extend([Line::raw(""), Line::styled("ShopSets", theme.title(false))]);
    for ss in fleet.shopsets_of_cluster(name) {
        lines.push(shopset_line(fleet, ss, theme));
    }
    if !c.is_reachable() {
        let (down, one_leg) = fleet.shops_affected_by_outage();
        let here = text::cluster_outage(detail.down, detail.one_leg, down, one_leg, readonly);
        lines.insert(3, kv(theme, "outage", Span::styled(here, theme.danger())));
    }
    (format!("Cluster {name}"), lines)
}
