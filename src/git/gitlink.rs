//! Promotion and rollback as git operations on the working clone of the system repository:
//! one commit that sets the `base` gitlink, then a push. Never a force-push.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use git2::{Oid, Repository, Signature};

use super::transport;
use crate::domain::Ts;
use crate::ops::OpsError;

/// The system repository through shopctl's working clone of it (demo and live alike).
pub struct GitReleases {
    pub clone: PathBuf,
}

/// libgit2 runs on a blocking thread.
#[async_trait::async_trait]
impl crate::ops::executor::ReleaseStore for GitReleases {
    async fn set_gitlink(
        &self,
        branch: &str,
        expected: Option<&str>,
        target: &str,
        message: &str,
        author: &str,
        now: Ts,
        _report: crate::ops::executor::Report<'_>,
    ) -> Result<crate::ops::executor::Pushed, OpsError> {
        let clone = self.clone.clone();
        let (branch, expected, target) = (
            branch.to_string(),
            expected.map(str::to_string),
            target.to_string(),
        );
        let (message, author) = (message.to_string(), author.to_string());
        let commit = crate::ops::offload(move || {
            set_gitlink(
                &clone,
                &branch,
                expected.as_deref(),
                &target,
                &message,
                &author,
                now,
            )
        })
        .await?;
        Ok(crate::ops::executor::Pushed {
            commit,
            warnings: Vec::new(),
        })
    }
}

/// Fetches, checks the branch still pins `expected` (when given), commits the new gitlink on top
/// of the remote branch and pushes it. Returns the new commit id.
pub fn set_gitlink(
    clone: &Path,
    branch: &str,
    expected: Option<&str>,
    target: &str,
    message: &str,
    operator: &str,
    now: Ts,
) -> Result<String, OpsError> {
    let commit = commit_gitlink(clone, branch, expected, target, message, operator, now)?;
    push(clone, branch)?;
    Ok(commit)
}

/// The first half of [`set_gitlink`]: fetch, check, and commit on the local branch.
pub fn commit_gitlink(
    clone: &Path,
    branch: &str,
    expected: Option<&str>,
    target: &str,
    message: &str,
    operator: &str,
    now: Ts,
) -> Result<String, OpsError> {
    let repo = Repository::open(clone)?;
    let mut remote = repo.find_remote("origin")?;
    let spec = format!("+refs/heads/{branch}:refs/remotes/origin/{branch}");
    match remote
        .url()
        .ok()
        .map(str::to_string)
        .filter(|u| transport::is_network(u))
    {
        Some(url) => transport::fetch_network(repo.path(), &url, &[&spec]).map_err(|e| {
            OpsError::Git(format!("cannot fetch '{}': {e}", transport::redact(&url)))
        })?,
        None => remote.fetch(&[spec.as_str()], None, None)?,
    }
    let parent = repo
        .find_reference(&format!("refs/remotes/origin/{branch}"))?
        .peel_to_commit()?;
    let tree = parent.tree()?;
    let pinned = tree.get_name("base").map(|e| e.id().to_string());
    if let Some(expected) = expected
        && pinned.as_deref() != Some(expected)
    {
        return Err(OpsError::Moved {
            branch: branch.into(),
            found: pinned.unwrap_or_else(|| "nothing".into()),
        });
    }
    let target_oid = Oid::from_str(target)?;
    let mut builder = repo.treebuilder(Some(&tree))?;
    builder.insert("base", target_oid, 0o160000)?;
    let new_tree = repo.find_tree(builder.write()?)?;
    let email = if operator.contains('@') {
        operator.to_string()
    } else {
        format!("{operator}@shopctl")
    };
    let sig = Signature::new(operator, &email, &git2::Time::new(now.secs(), 0))?;
    let commit = repo.commit(None, &sig, &sig, message, &new_tree, &[&parent])?;
    repo.reference(
        &format!("refs/heads/{branch}"),
        commit,
        true,
        "shopctl: set base gitlink",
    )?;
    Ok(commit.to_string())
}

/// The second half of [`set_gitlink`]: push the local branch; a non-fast-forward is `Rejected`.
pub fn push(clone: &Path, branch: &str) -> Result<(), OpsError> {
    let repo = Repository::open(clone)?;
    let mut remote = repo.find_remote("origin")?;
    if let Some(url) = remote
        .url()
        .ok()
        .map(str::to_string)
        .filter(|u| transport::is_network(u))
    {
        let spec = format!("refs/heads/{branch}:refs/heads/{branch}");
        return match transport::push_network(repo.path(), &url, &spec) {
            Ok(transport::Pushed::Done) => Ok(()),
            Ok(transport::Pushed::Rejected) => Err(OpsError::Rejected {
                branch: branch.into(),
            }),
            Err(e) => Err(OpsError::Git(format!(
                "cannot push to '{}': {e}",
                transport::redact(&url)
            ))),
        };
    }
    let rejected: RefCell<Option<String>> = RefCell::new(None);
    let mut callbacks = git2::RemoteCallbacks::new();
    callbacks.push_update_reference(|_, status| {
        if let Some(msg) = status {
            *rejected.borrow_mut() = Some(msg.to_string());
        }
        Ok(())
    });
    let mut opts = git2::PushOptions::new();
    opts.remote_callbacks(callbacks);
    let spec = format!("refs/heads/{branch}:refs/heads/{branch}");
    // Only a branch that moved on is a lost race (look again and retry); a ref that cannot
    // be locked or a hook that declines is named as what it is.
    let race = |msg: &str| {
        let m = msg.to_ascii_lowercase();
        m.contains("fast-forward") || m.contains("fastforward") || m.contains("fetch first")
    };
    match remote.push(&[spec.as_str()], Some(&mut opts)) {
        Ok(()) if rejected.borrow().is_none() => {}
        Ok(()) => {
            let msg = rejected.borrow().clone().unwrap_or_default();
            if race(&msg) {
                return Err(OpsError::Rejected {
                    branch: branch.into(),
                });
            }
            return Err(OpsError::Git(format!(
                "the push of '{branch}' was refused by the remote: {msg}"
            )));
        }
        Err(e)
            if e.code() == git2::ErrorCode::NotFastForward
                || e.message().contains("fast-forward") =>
        {
            return Err(OpsError::Rejected {
                branch: branch.into(),
            });
        }
        Err(e) => return Err(e.into()),
    }
    drop(opts);
    Ok(())
}
