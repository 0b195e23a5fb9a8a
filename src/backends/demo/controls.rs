//! The demo's release controls — halts, failed releases, approval requests — in
//! `controls.json` in the demo directory, changed under an OS file lock and replaced atomically,
//! so every console and command on the directory sees them at its next read. "Who" is the
//! operator's name.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::lock::Exclusive;
use crate::domain::Ts;
use crate::domain::release::{ApprovalRequest, FailedRelease, Halt, ReleaseControls};
use crate::ops::atomic;
use crate::ops::controls::ControlStore;
use crate::ops::{OpsError, offload};

/// `{"halts": [...], "failed": [...], "requests": [...]}`, times in milliseconds since the epoch.
pub const CONTROLS_FILE: &str = "controls.json";
const CONTROLS_MUTEX: &str = ".controls.lock";
const PATIENCE: Duration = Duration::from_secs(10);
/// Approved or abandoned requests are kept this long, then forgotten.
const REQUEST_RETENTION_SECS: i64 = 7 * 24 * 3600;

/// The controls of the demo directory; a damaged file is an error naming it.
pub fn read(dir: &Path) -> Result<ReleaseControls, String> {
    let path = dir.join(CONTROLS_FILE);
    let mut c: ReleaseControls = match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| format!("'{}' is damaged: {e}", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => ReleaseControls::default(),
        Err(e) => return Err(format!("cannot read '{}': {e}", path.display())),
    };
    // Another tool may have written the file: nothing that acts on a terminal.
    let clean = |s: &mut String| *s = crate::domain::printable(s);
    for h in &mut c.halts {
        clean(&mut h.reason);
        clean(&mut h.by);
    }
    for f in &mut c.failed {
        clean(&mut f.reason);
        clean(&mut f.by);
    }
    for r in &mut c.requests {
        clean(&mut r.requested_by);
        if let Some(by) = &mut r.approved_by {
            clean(by);
        }
    }
    Ok(c)
}

/// The demo's control store, acting as `operator`.
#[derive(Debug, Clone)]
pub struct DemoControls {
    pub dir: PathBuf,
    pub operator: String,
}

impl DemoControls {
    /// Reads, changes and writes back the file under the lock; a damaged file is never
    /// overwritten.
    fn change<T>(
        &self,
        f: impl FnOnce(&mut ReleaseControls) -> Result<T, OpsError>,
    ) -> Result<T, OpsError> {
        let _guard = Exclusive::take(&self.dir.join(CONTROLS_MUTEX), PATIENCE)?;
        let path = self.dir.join(CONTROLS_FILE);
        let mut all = read(&self.dir).map_err(OpsError::Store)?;
        let out = f(&mut all)?;
        let now = Ts::now();
        all.requests
            .retain(|r| r.requested_at.plus_secs(REQUEST_RETENTION_SECS) > now);
        let bytes = serde_json::to_vec_pretty(&all).map_err(|e| OpsError::Store(e.to_string()))?;
        atomic::write(&path, &bytes)
            .map_err(|e| OpsError::Store(format!("cannot write '{}': {e}", path.display())))?;
        Ok(out)
    }

    async fn changing(
        &self,
        f: impl FnOnce(&mut ReleaseControls) -> Result<(), OpsError> + Send + 'static,
    ) -> Result<(), OpsError> {
        let me = self.clone();
        offload(move || me.change(f)).await
    }
}

#[async_trait::async_trait]
impl ControlStore for DemoControls {
    async fn identity(&self) -> Result<String, OpsError> {
        Ok(self.operator.clone())
    }

    async fn read(&self) -> Result<ReleaseControls, OpsError> {
        let dir = self.dir.clone();
        offload(move || read(&dir).map_err(OpsError::Read)).await
    }

    async fn halt(&self, h: &Halt) -> Result<(), OpsError> {
        let h = h.clone();
        self.changing(move |c| {
            // Under the file's lock: a halt made meanwhile by someone else stands, as theirs.
            if let Some(other) = c.halts.iter().find(|x| x.tier == h.tier) {
                return Err(OpsError::Changed(format!(
                    "someone halted it meanwhile ({})",
                    other.describe()
                )));
            }
            c.halts.push(h);
            Ok(())
        })
        .await
    }

    async fn resume(&self, tier: Option<&str>, halted_at: Option<Ts>) -> Result<(), OpsError> {
        let tier = tier.map(str::to_string);
        self.changing(move |c| {
            match c.halts.iter().find(|x| x.tier == tier) {
                None => return Err(OpsError::Changed("the halt was lifted meanwhile".into())),
                Some(h) if halted_at.is_some_and(|at| at != h.at) => {
                    return Err(OpsError::Changed(format!(
                        "the halt was lifted and made again since ({})",
                        h.describe()
                    )));
                }
                Some(_) => {}
            }
            c.halts.retain(|x| x.tier != tier);
            Ok(())
        })
        .await
    }

    async fn mark_failed(&self, f: &FailedRelease) -> Result<(), OpsError> {
        let f = f.clone();
        self.changing(move |c| {
            c.failed.retain(|x| x.tier != f.tier);
            c.failed.push(f);
            Ok(())
        })
        .await
    }

    async fn clear_failed(&self, tier: &str) -> Result<(), OpsError> {
        let tier = tier.to_string();
        self.changing(move |c| {
            c.failed.retain(|x| x.tier != tier);
            Ok(())
        })
        .await
    }

    async fn request(&self, r: &ApprovalRequest) -> Result<(), OpsError> {
        let r = r.clone();
        self.changing(move |c| {
            c.requests.push(r);
            Ok(())
        })
        .await
    }

    async fn approve(&self, name: &str, by: &str, at: Ts) -> Result<(), OpsError> {
        let (name, by) = (name.to_string(), by.to_string());
        self.changing(move |c| {
            let r = c
                .requests
                .iter_mut()
                .find(|r| r.name == name)
                .ok_or_else(|| OpsError::Changed(format!("the request '{name}' is gone")))?;
            if let Some(other) = &r.approved_by {
                return Err(OpsError::Changed(format!("{other} approved it meanwhile")));
            }
            r.approved_by = Some(by);
            r.approved_at = Some(at);
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn halts_and_approvals_persist_and_a_damaged_file_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let store = DemoControls {
            dir: dir.path().into(),
            operator: "ana".into(),
        };
        let halt = Halt {
            tier: None,
            reason: "incident".into(),
            by: "ana".into(),
            at: Ts(1000),
        };
        store.halt(&halt).await.unwrap();
        assert_eq!(read(dir.path()).unwrap().halts, vec![halt.clone()]);
        // A second halt does not overwrite the first: it was made meanwhile.
        let other = Halt {
            by: "bob".into(),
            ..halt.clone()
        };
        assert!(matches!(
            store.halt(&other).await,
            Err(OpsError::Changed(_))
        ));
        assert_eq!(read(dir.path()).unwrap().halts, vec![halt]);
        // Only the halt that was seen: one made since is not lifted.
        assert!(store.resume(None, Some(Ts(999))).await.is_err());
        store.resume(None, Some(Ts(1000))).await.unwrap();
        assert!(store.resume(None, None).await.is_err());
        assert!(read(dir.path()).unwrap().halts.is_empty());
        std::fs::write(dir.path().join(CONTROLS_FILE), b"{oops").unwrap();
        let e = store.clear_failed("prod").await.unwrap_err();
        assert!(e.to_string().contains(CONTROLS_FILE), "{e}");
        assert_eq!(
            std::fs::read(dir.path().join(CONTROLS_FILE)).unwrap(),
            b"{oops"
        );
    }
}
