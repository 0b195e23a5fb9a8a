//! A tier branch's changes of what the tier runs: every first-parent commit whose `base` gitlink
//! differs from its parent's, newest first, with the commit's author, time and message (which
//! shopctl writes self-describing: see `Mutation::commit_message`).

use std::path::Path;

use super::read::{GitError, gitlink, open};
use crate::domain::Ts;
use crate::domain::release::history::TierChange;

/// At most this many commits of one branch are looked at.
pub const MAX_COMMITS: usize = 20_000;

/// The changes on `branch` of the repository at `path` made at or after `since`, newest first.
/// A branch that does not exist has none.
pub fn tier_changes(
    path: &Path,
    branch: &str,
    since: Option<Ts>,
) -> Result<Vec<TierChange>, GitError> {
    let repo = open(path)?;
    let err = |source| GitError::Read {
        path: path.into(),
        source,
    };
    let Ok(reference) = repo.find_reference(&format!("refs/heads/{branch}")) else {
        return Ok(Vec::new());
    };
    let mut commit = reference.peel_to_commit().map_err(err)?;
    let mut out = Vec::new();
    for _ in 0..MAX_COMMITS {
        let at = Ts::from_secs(commit.time().seconds());
        if since.is_some_and(|s| at < s) {
            break;
        }
        let parent = commit.parent(0).ok();
        let to = gitlink(&repo, &commit).map_err(err)?;
        let from = match &parent {
            Some(p) => gitlink(&repo, p).map_err(err)?,
            None => None,
        };
        if to != from {
            let sig = commit.author();
            let author = match (sig.name().ok(), sig.email().ok()) {
                (Some(n), Some(e)) if !e.is_empty() => format!("{n} <{e}>"),
                (Some(n), _) => n.to_string(),
                (None, Some(e)) => e.to_string(),
                (None, None) => String::new(),
            };
            out.push(TierChange {
                commit: commit.id().to_string(),
                at,
                author,
                message: String::from_utf8_lossy(commit.message_bytes()).into_owned(),
                from,
                to,
            });
        }
        match parent {
            Some(p) => commit = p,
            None => break,
        }
    }
    Ok(out)
}
