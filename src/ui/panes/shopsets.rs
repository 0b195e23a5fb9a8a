//! ShopSets: tier, cluster, configuration, load against capacity and the serving stack's health.

use std::borrow::Cow;

use ratatui::text::{Line, Span};

use super::{Column, PaneView, state, styled, value};
use crate::domain::{Components, Fleet, ShopSet, Ts};
use crate::ui::state::Scope;
use crate::ui::symbols;
use crate::ui::theme::Theme;

pub struct ShopSetsPane;

pub fn tier_level(fleet: &Fleet, tier: &str) -> u8 {
    fleet.tier(tier).map(|t| t.level).unwrap_or(u8::MAX)
}

/// The five component symbols (LB, proxy, shop page, cart, API) as one line.
pub fn components_line<'a>(stack: Components, theme: &Theme) -> Line<'a> {
    Line::from(
        stack
            .as_array()
            .into_iter()
            .map(|c| Span::styled(symbols::component(c), theme.component(c)))
            .collect::<Vec<_>>(),
    )
}

impl PaneView for ShopSetsPane {
    type Item = ShopSet;
    const WIDE_FROM: u16 = 58;
    const EMPTY: &'static str = crate::ui::text::NO_SHOPSETS;

    fn items(fleet: &Fleet) -> Vec<&ShopSet> {
        fleet.shopsets_in_order().collect()
    }

    fn key(s: &ShopSet) -> Cow<'_, str> {
        Cow::Borrowed(&s.name)
    }

    fn haystack(s: &ShopSet) -> String {
        format!("{} {} {} {}", s.name, s.tier, s.cluster, s.configuration)
    }

    fn related(_: &Fleet, s: &ShopSet, scope: &Scope) -> bool {
        match scope {
            Scope::Cluster(c) => s.cluster == *c,
            Scope::Tier(t) => s.tier == *t,
        }
    }

    fn columns(narrow: bool, _view: &super::PanesView<'_>) -> Vec<Column> {
        if narrow {
            vec![
                value("NAME", 0),
                value("TIER", 2),
                state("SHOPS", 1, 7),
                value("STACK", 0),
                state("AL", 0, 4),
            ]
        } else {
            vec![
                value("NAME", 0),
                state("TIER", 3, 9),
                value("CL", 4),
                value("CONFIG", 6),
                state("SHOPS/CAP", 1, 9),
                state("LOAD", 5, 4),
                value("STACK", 0),
                state("ALERTS", 0, 12),
            ]
        }
    }

    fn cells<'a>(
        fleet: &'a Fleet,
        s: &'a ShopSet,
        theme: &Theme,
        narrow: bool,
        _now: Ts,
        _policy: &crate::domain::release::GatePolicy,
    ) -> Vec<Line<'a>> {
        let count = fleet.shop_count(&s.name);
        let load = (count * 100).checked_div(s.capacity).unwrap_or(100);
        let load_style = match load {
            0..=84 => theme.base(),
            85..=100 => theme.warn(),
            _ => theme.danger(),
        };
        // One pass over the alerts: how many fire on the ShopSet, and the worst.
        let (alerts, worst) =
            fleet
                .active_alerts_for_shopset(s)
                .fold((0usize, None), |(n, worst), a| {
                    (
                        n + 1,
                        Some(
                            worst
                                .map_or(a.severity, |w: crate::domain::Severity| w.min(a.severity)),
                        ),
                    )
                });
        let alert_cell = match worst {
            None => styled("-", theme.muted()),
            Some(sev) => styled(
                if narrow {
                    // The worst severity's symbol and the count: never a bare number.
                    format!(
                        "{} {alerts}",
                        symbols::severity(sev, crate::domain::AlertState::Active)
                            .split(' ')
                            .next()
                            .unwrap_or_default()
                    )
                } else {
                    format!(
                        "{} {alerts}",
                        symbols::severity(sev, crate::domain::AlertState::Active)
                    )
                },
                theme.severity(sev, crate::domain::AlertState::Active),
            ),
        };
        let mut cells = vec![Line::from(s.name.as_str()), Line::from(s.tier.as_str())];
        if !narrow {
            cells.push(Line::from(s.cluster.as_str()));
            cells.push(styled(s.configuration.as_str(), theme.muted()));
        }
        cells.push(styled(format!("{count}/{}", s.capacity), load_style));
        if !narrow {
            cells.push(styled(format!("{load}%"), load_style));
        }
        cells.push(components_line(fleet.stack(s), theme));
        cells.push(alert_cell);
        cells
    }
}
