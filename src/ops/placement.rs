//! Placement writes: moving shops and cordoning clusters. The demo store rewrites its files
//! atomically under a file lock; live mode patches `Shop.spec.shopSets` and
//! `FleetCluster.spec.unschedulable` with resourceVersion preconditions.

use std::collections::HashMap;

use futures::future::BoxFuture;

use crate::domain::placement::Move;

use super::OpsError;

/// What a batch of moves did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BatchOutcome {
    pub applied: usize,
    /// Already where the move wanted them (a resumed drain).
    pub already: usize,
    /// Moved by someone else meanwhile: left alone, with why.
    pub skipped: Vec<(String, String)>,
    /// Not moved because a target is full now: left alone, with why.
    pub full: Vec<(String, String)>,
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

/// The capacity of every ShopSet a batch may fill: checked by the store against the placement
/// as it is stored at the moment of writing, so no concurrent writer can push a ShopSet over.
pub type Capacities = HashMap<String, u32>;

/// Told the names of shops a batch has written, a group at a time, as they are written; the
/// store goes on with the next group once what it returns has finished (the group audited).
pub type Moved<'a> = &'a (dyn Fn(Vec<String>) -> BoxFuture<'a, ()> + Send + Sync);

/// Told nothing.
pub fn unheard(_: Vec<String>) -> BoxFuture<'static, ()> {
    Box::pin(async {})
}

#[async_trait::async_trait]
pub trait PlacementStore: Send + Sync {
    /// Applies the moves whose shop is still at `from`, all at once, skipping (with why) any
    /// move that would put a target over its capacity. `seen` are the moved shops as the
    /// re-check read them: a store that writes with preconditions writes over the versions
    /// they carry, and reads itself any shop they lack or that changed since. `moved` is told
    /// the shops written, a small group at a time as they are, before the next group.
    async fn apply(
        &self,
        moves: &[Move],
        record: &Record,
        capacity: &Capacities,
        seen: &[crate::domain::Shop],
        moved: Moved<'_>,
    ) -> Result<BatchOutcome, OpsError>;
    /// Cordons or uncordons a cluster and sets or clears its drain id.
    async fn set_cordon(
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
    capacity: &Capacities,
) -> BatchOutcome {
    let mut load: HashMap<&str, u32> = HashMap::new();
    for shop in shops.iter() {
        for ss in &shop.shopsets {
            if let Some((name, _)) = capacity.get_key_value(ss.as_str()) {
                *load.entry(name.as_str()).or_default() += 1;
            }
        }
    }
    let index: HashMap<&str, usize> = shops
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
            Some(&i) if shops[i].is_on(&m.to) => out.already += 1,
            Some(&i) if shops[i].is_on(&m.from) => {
                let incoming: Vec<&String> = m.to.iter().filter(|t| !m.from.contains(t)).collect();
                let full = incoming.iter().find_map(|t| {
                    let (name, cap) = capacity.get_key_value(t.as_str())?;
                    let n = load.get(name.as_str()).copied().unwrap_or(0);
                    (n >= *cap).then(|| format!("'{t}' is full ({n}/{cap})"))
                });
                match full {
                    Some(why) => out.full.push((m.shop.clone(), why)),
                    None => {
                        for t in incoming {
                            if let Some((name, _)) = capacity.get_key_value(t.as_str()) {
                                *load.entry(name.as_str()).or_default() += 1;
                            }
                        }
                        for f in m.from.iter().filter(|f| !m.to.contains(f)) {
                            if let Some((name, _)) = capacity.get_key_value(f.as_str()) {
                                let n = load.entry(name.as_str()).or_default();
                                *n = n.saturating_sub(1);
                            }
                        }
                        plan.push((i, m));
                    }
                }
            }
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
                // A shop moved again — by the same drain, or by the drain of another cluster
                // before the first was restored — keeps its first record: it goes home when that
                // drain is restored.
                if shop.previous.is_none() {
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
