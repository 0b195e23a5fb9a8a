//! The demo's Alertmanager silences: `silences.json` in the demo directory, changed under an OS
//! file lock and replaced atomically. Whether a silence is active follows the clock, as in
//! Alertmanager; the simulator mutes the alerts an active silence covers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::lock::Exclusive;
use crate::domain::{Matcher, Silence, SilenceState, Ts};
use crate::ops::atomic;
use crate::ops::silence::{NewSilence, SilenceStore};
use crate::ops::{OpsError, offload};

/// `[{"id", "matchers", "starts_at", "ends_at", "created_by", "comment"}]`, times in
/// milliseconds since the epoch.
pub const SILENCES_FILE: &str = "silences.json";
const SILENCES_MUTEX: &str = ".silences.lock";
/// Expired silences are kept this long, then forgotten (Alertmanager's default retention).
const RETENTION_SECS: i64 = 120 * 3600;
const PATIENCE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stored {
    id: String,
    matchers: Vec<Matcher>,
    starts_at: Ts,
    ends_at: Ts,
    created_by: String,
    comment: String,
}

impl Stored {
    fn at(&self, now: Ts) -> Silence {
        Silence {
            id: self.id.clone(),
            matchers: self.matchers.clone(),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            // Another tool may have written the file: nothing that acts on a terminal.
            created_by: crate::domain::printable(&self.created_by),
            comment: crate::domain::printable_lines(&self.comment),
            state: if now < self.starts_at {
                SilenceState::Pending
            } else if now < self.ends_at {
                SilenceState::Active
            } else {
                SilenceState::Expired
            },
        }
    }
}

fn load(path: &Path) -> Result<Vec<Stored>, String> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| format!("'{}' is damaged: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(format!("cannot read '{}': {e}", path.display())),
    }
}

/// The silences of the demo directory at `now`; a damaged file is an error naming it.
pub fn read(dir: &Path, now: Ts) -> Result<Vec<Silence>, String> {
    Ok(load(&dir.join(SILENCES_FILE))?
        .iter()
        .map(|s| s.at(now))
        .collect())
}

/// The demo's silence store.
#[derive(Debug, Clone)]
pub struct DemoSilences {
    pub dir: PathBuf,
}

impl DemoSilences {
    /// Reads, changes and writes back the file under the lock; a damaged file is never
    /// overwritten.
    fn change(&self, f: impl FnOnce(&mut Vec<Stored>, Ts)) -> Result<(), OpsError> {
        let _guard = Exclusive::take(&self.dir.join(SILENCES_MUTEX), PATIENCE)?;
        let path = self.dir.join(SILENCES_FILE);
        let mut all = load(&path).map_err(OpsError::Store)?;
        let now = Ts::now();
        f(&mut all, now);
        all.retain(|s| s.ends_at.plus_secs(RETENTION_SECS) > now);
        let bytes = serde_json::to_vec_pretty(&all).map_err(|e| OpsError::Store(e.to_string()))?;
        atomic::write(&path, &bytes)
            .map_err(|e| OpsError::Store(format!("cannot write '{}': {e}", path.display())))
    }
}

/// The file is read and written on a blocking thread.
#[async_trait::async_trait]
impl SilenceStore for DemoSilences {
    async fn silences(&self) -> Result<Vec<Silence>, OpsError> {
        let me = self.clone();
        offload(move || me.silences_now()).await
    }

    async fn create(&self, s: &NewSilence) -> Result<String, OpsError> {
        let (me, s) = (self.clone(), s.clone());
        offload(move || me.create_now(&s)).await
    }

    async fn expire(&self, id: &str) -> Result<(), OpsError> {
        let (me, id) = (self.clone(), id.to_string());
        offload(move || me.expire_now(&id)).await
    }
}

impl DemoSilences {
    fn silences_now(&self) -> Result<Vec<Silence>, OpsError> {
        read(&self.dir, Ts::now()).map_err(OpsError::Read)
    }

    fn create_now(&self, s: &NewSilence) -> Result<String, OpsError> {
        // Shaped like Alertmanager's ids (a random UUID).
        let id = format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            fastrand::u32(..),
            fastrand::u16(..),
            fastrand::u16(..0x1000),
            0x8000 | fastrand::u16(..0x4000),
            fastrand::u64(..1 << 48)
        );
        let stored = Stored {
            id: id.clone(),
            matchers: s.matchers.clone(),
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            created_by: s.created_by.clone(),
            comment: s.comment.clone(),
        };
        self.change(|all, _| all.push(stored))?;
        Ok(id)
    }

    fn expire_now(&self, id: &str) -> Result<(), OpsError> {
        let mut found = false;
        self.change(|all, now| {
            for s in all.iter_mut().filter(|s| s.id == id && s.ends_at > now) {
                s.ends_at = now;
                if s.starts_at > now {
                    s.starts_at = now;
                }
                found = true;
            }
        })?;
        if found {
            Ok(())
        } else {
            Err(OpsError::Changed(format!(
                "silence {id} is no longer active"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::silence::parse_matchers;

    fn new(m: &str, secs: i64) -> NewSilence {
        let now = Ts::now();
        NewSilence {
            matchers: parse_matchers(m).unwrap(),
            starts_at: now,
            ends_at: now.plus_secs(secs),
            created_by: "ana".into(),
            comment: "noisy".into(),
        }
    }

    #[test]
    fn created_silences_are_active_until_expired() {
        let dir = tempfile::tempdir().unwrap();
        let store = DemoSilences {
            dir: dir.path().into(),
        };
        let id = store.create_now(&new("alertname=X", 3600)).unwrap();
        let all = store.silences_now().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(
            (all[0].id.as_str(), all[0].state),
            (id.as_str(), SilenceState::Active)
        );
        store.expire_now(&id).unwrap();
        assert_eq!(
            store.silences_now().unwrap()[0].state,
            SilenceState::Expired
        );
        assert!(matches!(store.expire_now(&id), Err(OpsError::Changed(_))));
    }

    #[test]
    fn a_damaged_file_is_named_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SILENCES_FILE);
        std::fs::write(&path, b"{not json").unwrap();
        let store = DemoSilences {
            dir: dir.path().into(),
        };
        let e = store.create_now(&new("alertname=X", 60)).unwrap_err();
        assert!(e.to_string().contains(SILENCES_FILE), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), b"{not json");
        assert!(read(dir.path(), Ts::now()).is_err());
    }
}
