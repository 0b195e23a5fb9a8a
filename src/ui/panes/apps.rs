//! Argo CD: one Application per ShopSet, its sync, health, operation and revision.

use std::borrow::Cow;

use ratatui::text::Line;

use super::{Column, PaneView, state, styled, value};
use crate::domain::time::age;
use crate::domain::{AppStatus, Fleet, OperationPhase, Ts};
use crate::ui::state::Scope;
use crate::ui::symbols;
use crate::ui::theme::Theme;

pub struct AppsPane;

impl PaneView for AppsPane {
    type Item = AppStatus;
    const WIDE_FROM: u16 = 68;
    const EMPTY: &'static str = crate::ui::text::NO_APPS;

    fn items(fleet: &Fleet) -> Vec<&AppStatus> {
        // In ShopSet order, then applications whose ShopSet is unknown.
        fleet.apps_in_order().collect()
    }

    fn key(a: &AppStatus) -> Cow<'_, str> {
        Cow::Borrowed(&a.name)
    }

    fn haystack(a: &AppStatus) -> String {
        format!("{} {} {} {}", a.name, a.shopset, a.sync, a.health)
    }

    fn related(fleet: &Fleet, a: &AppStatus, scope: &Scope) -> bool {
        fleet.shopset(&a.shopset).is_some_and(|s| match scope {
            Scope::Cluster(c) => s.cluster == *c,
            Scope::Tier(t) => s.tier == *t,
        })
    }

    fn columns(narrow: bool, _view: &super::PanesView<'_>) -> Vec<Column> {
        if narrow {
            vec![
                value("SET", 0),
                state("SYNC", 0, 11),
                state("HEALTH", 0, 13),
            ]
        } else {
            vec![
                value("APP", 0),
                state("SYNC", 0, 11),
                state("HEALTH", 0, 13),
                state("OPERATION", 2, 11),
                value("REV", 3),
                value("SYNCED", 1),
            ]
        }
    }

    fn cells<'a>(
        fleet: &'a Fleet,
        a: &'a AppStatus,
        theme: &Theme,
        narrow: bool,
        now: Ts,
        _policy: &crate::domain::release::GatePolicy,
    ) -> Vec<Line<'a>> {
        let rev = a
            .app_revision
            .as_deref()
            .map(|id| {
                let tier = fleet.shopset(&a.shopset).and_then(|s| fleet.tier(&s.tier));
                let label = id.get(..7).unwrap_or(id).to_string();
                let current = tier
                    .and_then(|t| t.revision.as_ref())
                    .is_some_and(|r| r.id == id);
                (label, if current { theme.base() } else { theme.warn() })
            })
            .unwrap_or_else(|| ("-".into(), theme.muted()));
        let mut cells = vec![Line::from(if narrow {
            a.shopset.as_str()
        } else {
            a.name.as_str()
        })];
        cells.push(styled(symbols::sync(a.sync), theme.sync(a.sync)));
        cells.push(styled(symbols::health(a.health), theme.health(a.health)));
        if !narrow {
            let op_style = match a.operation {
                Some(OperationPhase::Running | OperationPhase::Terminating) => theme.progress(),
                Some(OperationPhase::Failed | OperationPhase::Error) => theme.danger(),
                _ => theme.muted(),
            };
            cells.push(styled(symbols::operation(a.operation), op_style));
        }
        if !narrow {
            cells.push(styled(rev.0, rev.1));
            let synced = a
                .last_sync_finished
                .map(|t| format!("{} ago", age(t.secs_until(now))))
                .unwrap_or_else(|| "-".into());
            cells.push(styled(synced, theme.muted()));
        }
        cells
    }
}
