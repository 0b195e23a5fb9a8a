//! Tiers: what revision each runs, whether its ShopSets have settled, and where a release stands.

use std::borrow::Cow;

use ratatui::text::Line;

use super::{Column, PaneView, free_text, state, styled, value};
use crate::domain::release::{Rollout, rollout, settled_at};
use crate::domain::time::{age, countdown};
use crate::domain::{Fleet, Tier, Ts};
use crate::ui::state::Scope;
use crate::ui::theme::Theme;

pub struct TiersPane;

impl PaneView for TiersPane {
    type Item = Tier;
    const WIDE_FROM: u16 = 56;
    const EMPTY: &'static str = crate::ui::text::NO_TIERS;

    fn items(fleet: &Fleet) -> Vec<&Tier> {
        fleet.tiers.iter().collect()
    }

    fn key(t: &Tier) -> Cow<'_, str> {
        Cow::Borrowed(&t.name)
    }

    fn haystack(t: &Tier) -> String {
        let rev = t
            .revision
            .as_ref()
            .map(|r| format!("{} {}", r.label(), r.subject))
            .unwrap_or_default();
        format!("{} {} {rev}", t.name, t.branch)
    }

    /// The highlighted tier, or a tier with a ShopSet on the highlighted cluster.
    fn related(fleet: &Fleet, t: &Tier, scope: &Scope) -> bool {
        match scope {
            Scope::Tier(name) => *name == t.name,
            Scope::Cluster(cluster) => fleet
                .shopsets_of_tier(&t.name)
                .any(|s| s.cluster == *cluster),
        }
    }

    fn columns(narrow: bool, view: &super::PanesView<'_>) -> Vec<Column> {
        // What people decided about a tier (a halt, a freeze…) takes the subject's place, and
        // is not dropped; nor is the soak beside it (narrow, the decision follows the soak).
        let decision = view
            .fleet
            .tiers
            .iter()
            .any(|t| decided(view.fleet, t, view.policy, view.now, true).is_some());
        if narrow {
            vec![
                value("TIER", 0),
                state("RELEASE", 0, 9),
                state("SETTLED", 1, 7),
                free_text("SOAK", if decision { 0 } else { 2 }, 9),
            ]
        } else {
            vec![
                value("L", 5),
                value("TIER", 0),
                // The commit goes before the soak does: the release's tag says what runs.
                value("COMMIT", 4),
                state("RELEASE", 0, 9),
                state("SETTLED", 1, 7),
                state("SOAK", if decision { 0 } else { 2 }, 9),
                if decision {
                    free_text("SUBJECT", 0, 24)
                } else {
                    free_text("SUBJECT", 3, 12)
                },
            ]
        }
    }

    fn cells<'a>(
        fleet: &'a Fleet,
        t: &'a Tier,
        theme: &Theme,
        narrow: bool,
        now: Ts,
        policy: &crate::domain::release::GatePolicy,
    ) -> Vec<Line<'a>> {
        let below = fleet.tier_below(&t.name);
        let behind = match (below.and_then(|b| b.revision.as_ref()), &t.revision) {
            (Some(b), Some(r)) => b.seq > r.seq,
            _ => false,
        };
        let ahead = match (below.and_then(|b| b.revision.as_ref()), &t.revision) {
            (Some(b), Some(r)) => r.seq > b.seq,
            _ => false,
        };
        // The release's tag (its commit id when it has none); wide, the commit beside it.
        let rev = t
            .revision
            .as_ref()
            .map(|r| r.tag.clone().unwrap_or_else(|| r.short().to_string()))
            .unwrap_or_else(|| "?".into());
        let commit = t.revision.as_ref().map_or("?", |r| r.short());
        let (rev, rev_style) = if ahead {
            (format!("{rev} ✗"), theme.danger())
        } else if behind {
            (format!("{rev} ↑"), theme.info())
        } else {
            (rev, theme.base())
        };
        let r = rollout(fleet, t);
        let done = r.is_settled();
        let Rollout {
            settled,
            total,
            degraded,
            unknown,
            missing,
        } = r;
        let degraded = degraded.is_some();
        // A ShopSet no Application deploys is not known to run anything.
        let unknown = unknown || missing.is_some();
        let (settled_text, settled_style) = if degraded {
            (format!("✗ {settled}/{total}"), theme.danger())
        } else if unknown {
            (format!("? {settled}/{total}"), theme.unknown())
        } else if done {
            (format!("✓ {settled}/{total}"), theme.ok())
        } else {
            (format!("◐ {settled}/{total}"), theme.progress())
        };
        let mut cells = Vec::new();
        if !narrow {
            cells.push(styled(t.level.to_string(), theme.muted()));
        }
        cells.push(Line::from(t.name.as_str()));
        if !narrow {
            cells.push(styled(commit.to_string(), rev_style));
        }
        cells.push(styled(rev, rev_style));
        cells.push(styled(settled_text, settled_style));
        {
            let soak = match settled_at(fleet, t) {
                Some(at) => {
                    let left = i64::from(t.soak_secs) - at.secs_until(now);
                    if left > 0 {
                        (format!("◷ {}", countdown(left)), theme.progress())
                    } else {
                        (format!("✓ {}", age(at.secs_until(now))), theme.muted())
                    }
                }
                None if degraded => ("✗ degraded".into(), theme.danger()),
                None if missing.is_some() => ("? no app".into(), theme.unknown()),
                None if unknown => ("? unknown".into(), theme.unknown()),
                None => ("◐ syncing".into(), theme.progress()),
            };
            cells.push(styled(soak.0, soak.1));
        }
        // What people decided about the tier says more than the release's subject.
        match (decided(fleet, t, policy, now, narrow), narrow) {
            (Some((text, bad)), true) => {
                let style = if bad { theme.danger() } else { theme.warn() };
                if let Some(soak) = cells.last_mut() {
                    soak.spans
                        .push(ratatui::text::Span::styled(format!(" {text}"), style));
                }
            }
            (Some((text, bad)), false) => cells.push(styled(
                text,
                if bad { theme.danger() } else { theme.warn() },
            )),
            (None, true) => {}
            (None, false) => cells.push(styled(
                t.revision
                    .as_ref()
                    .map(|r| r.subject.clone())
                    .unwrap_or_default(),
                theme.muted(),
            )),
        }
        cells
    }
}

/// The tier's halt, freeze, failed release or approval, most pressing first, and whether it
/// stops promotions into the tier (a request waiting is not bad, only pending).
pub(crate) fn decided(
    fleet: &Fleet,
    t: &Tier,
    policy: &crate::domain::release::GatePolicy,
    now: Ts,
    narrow: bool,
) -> Option<(String, bool)> {
    let c = &fleet.controls;
    if let Some(h) = c.halt_of(&t.name) {
        return Some(if narrow {
            ("halted".into(), true)
        } else {
            (format!("✗ halted by {}: {}", h.by, h.reason), true)
        });
    }
    let incoming = fleet.tier_below(&t.name).and_then(|b| b.revision.as_ref());
    if let Some(f) = incoming.and_then(|r| c.failed_on(&t.name, &r.id)) {
        return Some(if narrow {
            ("failed".into(), true)
        } else {
            (
                format!("✗ {} failed here: {}", f.revision.label(), f.reason),
                true,
            )
        });
    }
    if let Some(f) = crate::domain::release::frozen(&policy.freezes, &t.name, now) {
        return Some(if narrow {
            ("frozen".into(), true)
        } else {
            (format!("▲ {}", f.describe()), true)
        });
    }
    let to = incoming.filter(|r| Some(&r.id) != t.revision.as_ref().map(|x| &x.id))?;
    if t.approval != crate::domain::Approval::SecondPerson {
        return None;
    }
    Some(match c.request_for(t, &to.id) {
        Some(r) if r.approved() => (
            if narrow {
                "approved".into()
            } else {
                format!(
                    "✓ {} approved by {}",
                    to.label(),
                    r.approved_by.as_deref().unwrap_or_default()
                )
            },
            false,
        ),
        Some(r) => (
            if narrow {
                "asked".into()
            } else {
                format!("◇ approval of {} asked by {}", to.label(), r.requested_by)
            },
            false,
        ),
        None => (
            if narrow {
                "needs ok".into()
            } else {
                format!("◇ {} needs a second person's approval", to.label())
            },
            false,
        ),
    })
}
