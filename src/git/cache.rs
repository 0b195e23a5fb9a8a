//! The system repository in live mode: fetched into shopctl's cache (a bare mirror of its
//! branches), then read with the same code as the demo. The app repository — the `base`
//! submodule, its URL taken from `.gitmodules` (relative URLs resolve against the remote) — is
//! fetched beside it, so that revisions carry their tags and history order.

use std::path::{Path, PathBuf};

use git2::{FetchOptions, Repository};
use thiserror::Error;

use crate::domain::{Revision, TierBranch};
use crate::git::read::{AppHistory, BranchState, read_branches};
use crate::git::transport;

/// Why the system repository could not be read. Never holds a credential.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LiveGitError {
    #[error("cannot fetch '{remote}' into '{cache}': {reason}")]
    Fetch {
        remote: String,
        cache: PathBuf,
        reason: String,
    },
    #[error("cannot read '{cache}': {reason}")]
    Read { cache: PathBuf, reason: String },
}

/// shopctl's caches of the system and app repositories.
pub struct GitCache {
    pub remote: String,
    pub cache: PathBuf,
}

impl GitCache {
    fn app_cache(&self) -> PathBuf {
        self.cache.with_extension("app.git")
    }

    /// Fetches every branch of the remote (and of the app repository, when `.gitmodules`
    /// names it) into the caches.
    pub fn fetch(&self) -> Result<(), LiveGitError> {
        mirror(&self.remote, &self.cache)?;
        if let Some(url) = self.app_url() {
            mirror(&url, &self.app_cache())?;
        }
        Ok(())
    }

    /// The app repository's URL, from `.gitmodules` of any tier branch.
    fn app_url(&self) -> Option<String> {
        let repo = Repository::open(&self.cache).ok()?;
        let mut refs = repo.references_glob("refs/heads/*").ok()?;
        let commit = refs.next()?.ok()?.peel_to_commit().ok()?;
        let entry = commit
            .tree()
            .ok()?
            .get_name(".gitmodules")?
            .to_object(&repo)
            .ok()?;
        let text = std::str::from_utf8(entry.as_blob()?.content())
            .ok()?
            .to_string();
        let url = text
            .lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix("url = ").or_else(|| l.strip_prefix("url=")))?
            .trim()
            .to_string();
        Some(resolve(&self.remote, &url))
    }

    /// What each tier branch pins now, with the revisions named by the app repository.
    pub fn tiers(&self, tiers: &[(String, String)]) -> Result<Vec<TierBranch>, LiveGitError> {
        let branches: Vec<String> = tiers.iter().map(|(_, b)| b.clone()).collect();
        let states = read_branches(&self.cache, &branches).map_err(|e| LiveGitError::Read {
            cache: self.cache.clone(),
            reason: e.to_string(),
        })?;
        let history = self.history();
        let repo = Repository::open(&self.cache).ok();
        Ok(tiers
            .iter()
            .zip(states)
            .map(|((name, branch_name), state)| {
                let mut b = branch(name, state.as_ref(), &history);
                if let Some(repo) = &repo {
                    b.pins = recent_pins(repo, branch_name, PINS_PER_BRANCH);
                }
                b
            })
            .collect())
    }

    /// The app repository's release history (empty when it cannot be read: revisions are then
    /// shown by id alone).
    pub fn history(&self) -> AppHistory {
        ["main", "master"]
            .iter()
            .find_map(|b| AppHistory::read(&self.app_cache(), b).ok())
            .unwrap_or_default()
    }
}

/// How far back a branch's commits are matched to the Applications synced to them.
const PINS_PER_BRANCH: usize = 50;

/// The newest `n` commits of `branch` (first parents) and the `base` gitlink each pins.
fn recent_pins(repo: &Repository, branch: &str, n: usize) -> Vec<(String, String)> {
    let Ok(mut commit) = repo
        .find_branch(branch, git2::BranchType::Local)
        .and_then(|b| b.get().peel_to_commit())
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for _ in 0..n {
        if let Some(base) = commit
            .tree()
            .ok()
            .and_then(|t| t.get_name("base").map(|e| e.id()))
        {
            out.push((commit.id().to_string(), base.to_string()));
        }
        match commit.parent(0) {
            Ok(p) => commit = p,
            Err(_) => break,
        }
    }
    out
}

fn branch(name: &str, state: Option<&BranchState>, history: &AppHistory) -> TierBranch {
    let rev = |id: Option<&String>| -> Option<Revision> { id.map(|id| history.revision(id)) };
    TierBranch {
        name: name.into(),
        revision: rev(state.and_then(|s| s.base.as_ref())),
        updated_at: state.map(|s| s.head_time),
        head: state.map(|s| s.head.clone()),
        previous: rev(state.and_then(|s| s.previous_base.as_ref())),
        pins: Vec::new(),
    }
}

/// A submodule URL relative to the superproject's remote (`../app.git`) resolves against it.
fn resolve(remote: &str, url: &str) -> String {
    if !url.starts_with("../") && !url.starts_with("./") {
        return url.to_string();
    }
    // As git does: the remote URL is the directory the relative URL starts from.
    let mut base: Vec<&str> = remote.trim_end_matches('/').split('/').collect();
    for part in url.split('/') {
        match part {
            ".." => {
                base.pop();
            }
            "." | "" => {}
            p => base.push(p),
        }
    }
    base.join("/")
}

/// Fetches every branch and tag of `remote` into the bare repository `cache` (created if need be).
fn mirror(remote: &str, cache: &Path) -> Result<(), LiveGitError> {
    let err = |e: git2::Error| LiveGitError::Fetch {
        remote: transport::redact(remote),
        cache: cache.into(),
        reason: e.message().to_string(),
    };
    let repo = match Repository::open_bare(cache) {
        Ok(r) => r,
        Err(_) => Repository::init_bare(cache).map_err(err)?,
    };
    if transport::is_network(remote) {
        return transport::fetch_network(
            cache,
            remote,
            &["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
        )
        .map_err(|reason| LiveGitError::Fetch {
            remote: transport::redact(remote),
            cache: cache.into(),
            reason,
        });
    }
    let mut r = repo.remote_anonymous(remote).map_err(err)?;
    let mut options = FetchOptions::new();
    options.prune(git2::FetchPrune::On);
    r.fetch(
        &["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
        Some(&mut options),
        None,
    )
    .map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_submodule_urls_resolve_against_the_remote() {
        assert_eq!(
            resolve(
                "ssh://git@git.example.com/platform/system.git",
                "../app.git"
            ),
            "ssh://git@git.example.com/platform/app.git"
        );
        assert_eq!(
            resolve("/srv/git/system.git", "../app.git"),
            "/srv/git/app.git"
        );
        assert_eq!(
            resolve("/srv/git/system.git", "https://example.com/app.git"),
            "https://example.com/app.git"
        );
    }
}
