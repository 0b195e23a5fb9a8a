//! The demo's placement store: shops.json and state.json rewritten atomically, one writer at a
//! time (an OS file lock), so that a killed process never leaves half a batch behind and no two
//! writers interleave.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::domain::placement::Move;
use crate::ops::placement::{BatchOutcome, Capacities, Moved, PlacementStore, Record, apply_moves};
use crate::ops::{OpsError, offload};

use super::lock::{Exclusive, PLACEMENT_MUTEX};
use super::store;

pub struct DemoPlacement {
    pub dir: PathBuf,
}

/// How long a writer waits for another to finish its batch.
const PATIENCE: Duration = Duration::from_secs(10);

fn write_lock(dir: &Path) -> Result<Exclusive, OpsError> {
    Exclusive::take(&dir.join(PLACEMENT_MUTEX), PATIENCE)
}

fn err(e: store::DemoError) -> OpsError {
    OpsError::Store(e.to_string())
}

/// The files are read and written on a blocking thread.
#[async_trait::async_trait]
impl PlacementStore for DemoPlacement {
    async fn apply(
        &self,
        moves: &[Move],
        record: &Record,
        capacity: &Capacities,
        _seen: &[crate::domain::Shop],
        moved: Moved<'_>,
    ) -> Result<BatchOutcome, OpsError> {
        let dir = self.dir.clone();
        let (moves, record, capacity) = (moves.to_vec(), record.clone(), capacity.clone());
        let (out, written) = offload(move || {
            // The shops are read afresh under the file lock: what the re-check saw is not needed.
            let _guard = write_lock(&dir)?;
            let mut shops = store::read_shops(&dir).map_err(err)?;
            let placed: std::collections::HashMap<String, Vec<String>> = shops
                .iter()
                .map(|s| (s.name.clone(), s.shopsets.clone()))
                .collect();
            let out = apply_moves(&mut shops, &moves, &record, &capacity);
            if out.applied > 0 {
                store::write_shops(&dir, &shops).map_err(err)?;
            }
            // One write for the whole batch: its shops moved together.
            let written: Vec<String> = shops
                .iter()
                .filter(|s| placed.get(&s.name).is_some_and(|p| *p != s.shopsets))
                .map(|s| s.name.clone())
                .collect();
            Ok::<_, OpsError>((out, written))
        })
        .await?;
        if !written.is_empty() {
            moved(written).await;
        }
        Ok(out)
    }

    async fn set_cordon(
        &self,
        cluster: &str,
        cordoned: bool,
        drain: Option<&str>,
    ) -> Result<(), OpsError> {
        let dir = self.dir.clone();
        let (cluster, drain) = (cluster.to_string(), drain.map(str::to_string));
        offload(move || {
            let _guard = write_lock(&dir)?;
            store::update_cluster(&dir, &cluster, cordoned, drain.as_deref()).map_err(err)
        })
        .await
    }
}
