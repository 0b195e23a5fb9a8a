//! Placement writes: moving shops and cordoning clusters. The demo store rewrites its files
//! atomically under a file lock; live mode patches `Shop.spec.shopSets` and
//! `FleetCluster.spec.unschedulable` with resourceVersion preconditions.

use crate::domain::placement::Move;

use super::OpsError;

/// What a batch of moves did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    pub applied: usize,
    /// Already where the move wanted them (a resumed drain).
    pub already: usize,
    /// Moved by someone else meanwhile: left alone, with why.
    pub skipped: Vec<(String, String)>,
}

/// How a batch records previous placements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A reassignment: nothing recorded.
    Nothing,
    /// A drain: each moved shop remembers where it was and which drain moved it.
    Drain(String),
    /// A restore: the recorded placement is cleared.
    Clear,
}

pub trait PlacementStore: Send + Sync {
    /// Applies the moves whose shop is still at `from`, all at once.
    fn apply(&self, moves: &[Move], record: &Record) -> Result<BatchOutcome, OpsError>;
    /// Cordons or uncordons a cluster and sets or clears its drain id.
    fn set_cordon(
        &self,
        cluster: &str,
        cordoned: bool,
        drain: Option<&str>,
    ) -> Result<(), OpsError>;
}

/// Applies moves to a list of shops in memory (the demo store's core, also used in tests).
pub fn apply_moves(
    shops: &mut [crate::domain::Shop],
    moves: &[Move],
    record: &Record,
) -> BatchOutcome {
    let index: std::collections::HashMap<&str, usize> = shops
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let mut plan: Vec<(usize, &Move)> = Vec::new();
    let mut out = BatchOutcome::default();
    for m in moves {
        match index.get(m.shop.as_str()) {
            None => out
                .skipped
                .push((m.shop.clone(), "the shop no longer exists".into())),
            Some(&i) if shops[i].shopsets == m.to => out.already += 1,
            Some(&i) if shops[i].shopsets == m.from => plan.push((i, m)),
            Some(&i) => out.skipped.push((
                m.shop.clone(),
                format!(
                    "moved meanwhile: now on {}, not {}",
                    shops[i].shopsets.join(","),
                    m.from.join(",")
                ),
            )),
        }
    }
    for (i, m) in plan {
        let shop = &mut shops[i];
        match record {
            Record::Nothing => {}
            Record::Drain(id) => {
                // A shop moved twice by one drain keeps its first recorded placement.
                if shop.previous.as_ref().is_none_or(|p| p.drain != *id) {
                    shop.previous = Some(crate::domain::PreviousPlacement {
                        shopsets: shop.shopsets.clone(),
                        drain: id.clone(),
                    });
                }
            }
            Record::Clear => shop.previous = None,
        }
        shop.shopsets = m.to.clone();
        out.applied += 1;
    }
    out
}
