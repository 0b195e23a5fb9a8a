//! A ShopSet's detail: its tier, cluster, capacity, stack, Argo CD application and alerts (its
//! shops are listed below, see `shops`).

use ratatui::text::{Line, Span};

use super::kv;
use crate::domain::{Components, Fleet};
use crate::ui::panes::shopsets::components_line;
use crate::ui::symbols;
use crate::ui::theme::Theme;

/// Title and lines of a ShopSet's info panel; `dual` is how many of its shops are dual.
pub fn info<'a>(
    fleet: &'a Fleet,
    name: &str,
    dual: usize,
    theme: &Theme,
) -> (String, Vec<Line<'a>>) {
    let Some(ss) = fleet.shopset(name) else {
        return super::missing(theme, "ShopSet", name);
    };
    let count = fleet.shop_count(name);
    let fd = fleet.failure_domain_of(name).unwrap_or("?");
    let mut lines = vec![
        kv(
            theme,
            "tier",
            format!("{}   configuration {}", ss.tier, ss.configuration),
        ),
        kv(
            theme,
            "cluster",
            format!("{}   failure domain {fd}", ss.cluster),
        ),
        kv(
            theme,
            "shops",
            format!(
                "{count} of {} ({}%), {dual} dual",
                ss.capacity,
                (count * 100).checked_div(ss.capacity).unwrap_or(0)
            ),
        ),
    ];
    let stack = fleet.stack(ss);
    let mut comp = Vec::new();
    for (n, h) in Components::NAMES.iter().zip(stack.as_array()) {
        comp.push(Span::styled(
            format!("{n} {}  ", symbols::component_word(h)),
            theme.component(h),
        ));
    }
    lines.push(kv(theme, "stack", Line::from(comp)));
    lines.push(kv(theme, "", components_line(stack, theme)));
    if fleet.app_for(name).is_none() {
        lines.push(kv(
            theme,
            "argo cd",
            Span::styled(
                "? no Argo CD application deploys this ShopSet",
                theme.unknown(),
            ),
        ));
    }
    if let Some(app) = fleet.app_for(name) {
        lines.push(kv(
            theme,
            "argo cd",
            Line::from(vec![
                Span::raw(format!("{}  ", app.name)),
                Span::styled(symbols::sync(app.sync), theme.sync(app.sync)),
                Span::raw("  "),
                Span::styled(symbols::health(app.health), theme.health(app.health)),
                Span::raw(format!(
                    "  at {}",
                    app.app_revision
                        .as_deref()
                        .and_then(|r| r.get(..7))
                        .unwrap_or("-")
                )),
            ]),
        ));
    }
    let alerts: Vec<_> = fleet.active_alerts_for_shopset(ss).collect();
    if alerts.is_empty() {
        lines.push(kv(theme, "alerts", Span::styled("none active", theme.ok())));
    }
    for a in alerts {
        lines.push(kv(
            theme,
            "alert",
            Span::styled(
                format!(
                    "{} {}: {}",
                    symbols::severity(a.severity, a.state),
                    a.name,
                    a.summary
                ),
                theme.severity(a.severity, a.state),
            ),
        ));
    }
    (format!("ShopSet {name}"), lines)
}
