//! The demo's placement store: shops.json and state.json rewritten atomically, one writer at a
//! time (a lock file), so that a killed process never leaves half a batch behind.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::domain::placement::Move;
use crate::ops::OpsError;
use crate::ops::placement::{BatchOutcome, Capacities, PlacementStore, Record, apply_moves};

use super::store;

pub struct DemoPlacement {
    pub dir: PathBuf,
}

const WRITE_LOCK: &str = ".placement.lock";

/// Held while one process rewrites the placement files.
struct WriteLock(PathBuf);

impl WriteLock {
    fn take(dir: &Path) -> Result<WriteLock, OpsError> {
        let path = dir.join(WRITE_LOCK);
        let started = Instant::now();
        loop {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    if let Err(e) = write!(f, "{}", std::process::id()).and_then(|()| f.sync_all())
                    {
                        let _ = fs::remove_file(&path);
                        return Err(OpsError::Store(format!(
                            "cannot write '{}': {e}",
                            path.display()
                        )));
                    }
                    return Ok(WriteLock(path));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    // A writer that died holding it (killed, or the machine lost power): the
                    // files are whole thanks to atomic renames, so the lock can go.
                    let holder_gone = fs::read_to_string(&path)
                        .ok()
                        .and_then(|pid| pid.trim().parse::<u32>().ok())
                        .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
                    let stale = holder_gone
                        || fs::metadata(&path)
                            .and_then(|m| m.modified())
                            .ok()
                            .and_then(|t| SystemTime::now().duration_since(t).ok())
                            .is_some_and(|age| age > Duration::from_secs(30));
                    if stale {
                        let _ = fs::remove_file(&path);
                        continue;
                    }
                    if started.elapsed() > Duration::from_secs(10) {
                        return Err(OpsError::Store(format!(
                            "'{}' is held by another writer",
                            path.display()
                        )));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => {
                    return Err(OpsError::Store(format!(
                        "cannot create '{}': {e}",
                        path.display()
                    )));
                }
            }
        }
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

fn err(e: store::DemoError) -> OpsError {
    OpsError::Store(e.to_string())
}

impl PlacementStore for DemoPlacement {
    fn apply(
        &self,
        moves: &[Move],
        record: &Record,
        capacity: &Capacities,
    ) -> Result<BatchOutcome, OpsError> {
        let _guard = WriteLock::take(&self.dir)?;
        let mut shops = store::read_shops(&self.dir).map_err(err)?;
        let out = apply_moves(&mut shops, moves, record, capacity);
        if out.applied > 0 {
            store::write_shops(&self.dir, &shops).map_err(err)?;
        }
        Ok(out)
    }

    fn set_cordon(
        &self,
        cluster: &str,
        cordoned: bool,
        drain: Option<&str>,
    ) -> Result<(), OpsError> {
        let _guard = WriteLock::take(&self.dir)?;
        store::update_cluster(&self.dir, cluster, cordoned, drain).map_err(err)
    }
}
