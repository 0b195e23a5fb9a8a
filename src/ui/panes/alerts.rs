//! Alerts: what fires where, since when; silenced ones stay visible but muted.

use std::borrow::Cow;

use ratatui::text::Line;

use super::{Column, PaneView, free_text, state, styled, value};
use crate::domain::time::age;
use crate::domain::{Alert, Fleet, Ts};
use crate::ui::state::Scope;
use crate::ui::symbols;
use crate::ui::theme::Theme;

pub struct AlertsPane;

/// Stable identity of an alert: its name and labels.
pub fn alert_key(a: &Alert) -> String {
    let labels: Vec<String> = a.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{}{{{}}}", a.name, labels.join(","))
}

impl PaneView for AlertsPane {
    type Item = Alert;
    const WIDE_FROM: u16 = 70;
    const EMPTY: &'static str = crate::ui::text::NO_ALERTS;

    fn unknown(fleet: &Fleet) -> Option<String> {
        fleet
            .alerts_unknown
            .as_deref()
            .map(crate::ui::text::alerts_unknown)
    }

    fn items(fleet: &Fleet) -> Vec<&Alert> {
        let mut v: Vec<&Alert> = fleet.alerts.iter().collect();
        v.sort_by_key(|a| (a.state as u8, a.severity, std::cmp::Reverse(a.since)));
        v
    }

    fn key(a: &Alert) -> Cow<'_, str> {
        Cow::Owned(alert_key(a))
    }

    fn haystack(a: &Alert) -> String {
        format!("{} {} {}", alert_key(a), a.severity.as_str(), a.summary)
    }

    fn related(fleet: &Fleet, a: &Alert, scope: &Scope) -> bool {
        match scope {
            Scope::Cluster(c) => fleet.alert_touches_cluster(a, c),
            Scope::Tier(t) => fleet.alert_touches_tier(a, t),
        }
    }

    fn columns(narrow: bool, _view: &super::PanesView<'_>) -> Vec<Column> {
        if narrow {
            vec![
                state("SEVERITY", 0, 10),
                value("ALERT", 0),
                value("SCOPE", 1),
                value("AGE", 2),
            ]
        } else {
            vec![
                state("SEVERITY", 0, 10),
                value("ALERT", 0),
                value("SCOPE", 1),
                value("AGE", 2),
                free_text("SUMMARY", 3, 12),
            ]
        }
    }

    fn cells<'a>(
        fleet: &'a Fleet,
        a: &'a Alert,
        theme: &Theme,
        narrow: bool,
        now: Ts,
        _policy: &crate::domain::release::GatePolicy,
    ) -> Vec<Line<'a>> {
        let mut cells = vec![
            styled(
                symbols::severity(a.severity, a.state),
                theme.severity(a.severity, a.state),
            ),
            Line::from(a.name.as_str()),
            Line::from(a.scope(&fleet.scope_labels)),
            styled(age(a.since.secs_until(now)), theme.muted()),
        ];
        if !narrow {
            cells.push(styled(a.summary.as_str(), theme.muted()));
        }
        cells
    }
}
