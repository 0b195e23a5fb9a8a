//! Reads the system repository: tier branches, the `base` gitlink each pins, and the app
//! repository's history that names those revisions. Used by the demo and by live mode alike.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository};
use thiserror::Error;

use crate::domain::{Revision, Ts};

#[derive(Debug, Error)]
pub enum GitError {
    #[error("cannot open git repository '{path}': {}", .source.message())]
    Open { path: PathBuf, source: git2::Error },
    #[error("git error in '{path}': {}", .source.message())]
    Read { path: PathBuf, source: git2::Error },
}

/// Opens the repository at `path`, naming it when it cannot.
pub fn open(path: &Path) -> Result<Repository, GitError> {
    Repository::open(path).map_err(|source| GitError::Open {
        path: path.into(),
        source,
    })
}

/// The state of one tier branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchState {
    pub branch: String,
    pub head: String,
    pub head_time: Ts,
    /// The app commit the branch pins as gitlink `base`.
    pub base: Option<String>,
    /// The first parent of the head, and what it pinned: the state before the last change.
    pub previous_head: Option<String>,
    pub previous_head_time: Option<Ts>,
    pub previous_base: Option<String>,
}

/// Release commits of the app repository, oldest first along the first-parent chain.
#[derive(Debug, Clone, Default)]
pub struct AppHistory {
    by_id: HashMap<String, Revision>,
    tip: Option<String>,
}

impl AppHistory {
    /// Reads `branch` of the app repository at `path`.
    pub fn read(path: &Path, branch: &str) -> Result<AppHistory, GitError> {
        let repo = open(path)?;
        let err = |source| GitError::Read {
            path: path.into(),
            source,
        };
        let mut tags: HashMap<Oid, String> = HashMap::new();
        for name in repo
            .tag_names(None)
            .map_err(err)?
            .iter()
            .flatten()
            .flatten()
        {
            if let Ok(obj) = repo.revparse_single(&format!("refs/tags/{name}"))
                && let Ok(commit) = obj.peel_to_commit()
            {
                tags.insert(commit.id(), name.to_string());
            }
        }
        let tip = repo
            .find_reference(&format!("refs/heads/{branch}"))
            .and_then(|r| r.peel_to_commit())
            .map_err(err)?;
        let mut chain = vec![tip.clone()];
        while let Ok(parent) = chain[chain.len() - 1].parent(0) {
            chain.push(parent);
        }
        chain.reverse();
        let by_id = chain
            .iter()
            .enumerate()
            .map(|(seq, c)| {
                let id = c.id().to_string();
                let rev = Revision {
                    id: id.clone(),
                    tag: tags.get(&c.id()).cloned(),
                    subject: c.summary().ok().flatten().unwrap_or_default().to_string(),
                    seq: seq as u32,
                };
                (id, rev)
            })
            .collect();
        Ok(AppHistory {
            by_id,
            tip: Some(tip.id().to_string()),
        })
    }

    /// The named revision; an id outside the history is shown bare, ordered before everything.
    pub fn revision(&self, id: &str) -> Revision {
        self.by_id.get(id).cloned().unwrap_or_else(|| Revision {
            id: id.to_string(),
            tag: None,
            subject: String::new(),
            seq: 0,
        })
    }

    /// Every revision, oldest first.
    pub fn all(&self) -> Vec<Revision> {
        let mut revs: Vec<Revision> = self.by_id.values().cloned().collect();
        revs.sort_by_key(|r| r.seq);
        revs
    }

    pub fn tip(&self) -> Option<&str> {
        self.tip.as_deref()
    }

    /// Revisions strictly after `from` up to and including `to`, oldest first.
    pub fn between(&self, from: &str, to: &str) -> Vec<Revision> {
        let (a, b) = (self.revision(from).seq, self.revision(to).seq);
        let mut revs: Vec<Revision> = self
            .by_id
            .values()
            .filter(|r| r.seq > a && r.seq <= b)
            .cloned()
            .collect();
        revs.sort_by_key(|r| r.seq);
        revs
    }
}

/// Reads tier branches from a system repository (bare or not).
pub fn read_branches(
    path: &Path,
    branches: &[String],
) -> Result<Vec<Option<BranchState>>, GitError> {
    let repo = open(path)?;
    branches
        .iter()
        .map(|b| {
            read_branch(&repo, b).map_err(|source| GitError::Read {
                path: path.into(),
                source,
            })
        })
        .collect()
}

fn read_branch(repo: &Repository, branch: &str) -> Result<Option<BranchState>, git2::Error> {
    let Ok(reference) = repo.find_reference(&format!("refs/heads/{branch}")) else {
        return Ok(None);
    };
    let head = reference.peel_to_commit()?;
    let parent = head.parent(0).ok();
    Ok(Some(BranchState {
        branch: branch.to_string(),
        head: head.id().to_string(),
        head_time: Ts::from_secs(head.time().seconds()),
        base: gitlink(repo, &head)?,
        previous_head: parent.as_ref().map(|p| p.id().to_string()),
        previous_head_time: parent.as_ref().map(|p| Ts::from_secs(p.time().seconds())),
        previous_base: match &parent {
            Some(p) => gitlink(repo, p)?,
            None => None,
        },
    }))
}

/// The commit id of the `base` gitlink in a commit's tree.
pub fn gitlink(
    _repo: &Repository,
    commit: &git2::Commit<'_>,
) -> Result<Option<String>, git2::Error> {
    let tree = commit.tree()?;
    Ok(tree
        .get_name("base")
        .filter(|e| e.kind() == Some(ObjectType::Commit))
        .map(|e| e.id().to_string()))
}
