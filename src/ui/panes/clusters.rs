//! Clusters: reachability, cordon, version, nodes and what runs there.

use std::borrow::Cow;

use ratatui::text::Line;

use super::{Column, PaneView, state, styled, value};
use crate::domain::{Cluster, Fleet, Ts};
use crate::ui::state::Scope;
use crate::ui::symbols;
use crate::ui::theme::Theme;

pub struct ClustersPane;

impl PaneView for ClustersPane {
    type Item = Cluster;
    const WIDE_FROM: u16 = 50;
    const EMPTY: &'static str = crate::ui::text::NO_CLUSTERS;

    fn items(fleet: &Fleet) -> Vec<&Cluster> {
        let mut v: Vec<&Cluster> = fleet.clusters.iter().collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    fn key(c: &Cluster) -> Cow<'_, str> {
        Cow::Borrowed(&c.name)
    }

    fn haystack(c: &Cluster) -> String {
        format!("{} {} {}", c.name, c.provider, c.failure_domain)
    }

    /// The highlighted cluster, or a cluster running a ShopSet of the highlighted tier.
    fn related(fleet: &Fleet, c: &Cluster, scope: &Scope) -> bool {
        match scope {
            Scope::Cluster(name) => *name == c.name,
            Scope::Tier(tier) => fleet.shopsets_of_tier(tier).any(|s| s.cluster == c.name),
        }
    }

    fn columns(narrow: bool, _view: &super::PanesView<'_>) -> Vec<Column> {
        if narrow {
            vec![
                value("NAME", 0),
                value("PROV", 3),
                state("STATE", 0, 10),
                value("NODES", 2),
                value("SETS", 1),
            ]
        } else {
            vec![
                value("NAME", 0),
                value("PROVIDER", 3),
                value("FD", 4),
                state("STATE", 0, 10),
                value("NODES", 2),
                value("SETS", 1),
                value("VERSION", 5),
            ]
        }
    }

    fn cells<'a>(
        fleet: &'a Fleet,
        c: &'a Cluster,
        theme: &Theme,
        narrow: bool,
        _now: Ts,
        _policy: &crate::domain::release::GatePolicy,
    ) -> Vec<Line<'a>> {
        let (state, style) = if !c.is_reachable() {
            (
                symbols::reachability(c.reachability).to_string(),
                theme.danger(),
            )
        } else if c.cordoned {
            ("⊘ cordoned".to_string(), theme.warn())
        } else {
            (
                symbols::reachability(c.reachability).to_string(),
                theme.ok(),
            )
        };
        let nodes_style = if c.nodes_ready < c.nodes_total {
            theme.warn()
        } else {
            theme.base()
        };
        let sets = fleet.shopset_count_on(&c.name).to_string();
        let mut cells = vec![Line::from(c.name.as_str())];
        cells.push(Line::from(c.provider.as_str()));
        if !narrow {
            cells.push(Line::from(c.failure_domain.as_str()));
        }
        cells.push(styled(state, style));
        // An unreachable cluster's nodes are not known: never `0/0`.
        cells.push(if c.is_reachable() {
            styled(format!("{}/{}", c.nodes_ready, c.nodes_total), nodes_style)
        } else {
            styled("?", theme.muted())
        });
        cells.push(Line::from(sets));
        if !narrow {
            // The release alone (`v1.32.2` of `v1.32.2-eks-8f1a2c`); the detail has it whole.
            let version = c.server_version.as_deref().unwrap_or("?");
            let short = version.split(['-', '+']).next().unwrap_or(version);
            cells.push(styled(short.to_string(), theme.muted()));
        }
        cells
    }
}
