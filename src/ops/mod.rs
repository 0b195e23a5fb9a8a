//! The one place mutations happen. A `Mutation` is typed; only a confirmed one reaches the
//! `Executor`, which re-checks it against a fresh read of the fleet, holds the operator lock
//! through one guard and audits the result. A read-only session has no executor at all.
//!
//! `ops` defines the stores it writes through ([`FleetReader`], [`ReleaseStore`],
//! [`PlacementStore`], [`LockStore`], [`AuditSink`]); each backend implements them. Nothing here
//! knows which backend runs.

pub mod access;
pub mod atomic;
pub mod audit;
pub mod controls;
pub mod drain;
pub mod executor;
pub mod lock;
pub mod mutation;
pub mod placement;
pub mod release;
pub mod service;
pub mod silence;
pub mod verify;

use thiserror::Error;

pub use self::audit::AuditSink;
pub use self::executor::{
    Denial, Done, Executor, FleetReader, Pushed, ReleaseStore, Report, Scope, Stores,
};
pub use self::lock::{Holder, LockGuard, LockStore};
pub use self::mutation::{Capability, Mutation};
pub use self::placement::PlacementStore;
pub use self::service::{Operation, Operations, Progress};
use crate::domain::ReleaseLock;

/// Who is operating: `$SHOPCTL_OPERATOR`, else `user@host`.
pub fn operator() -> String {
    if let Ok(op) = std::env::var("SHOPCTL_OPERATOR")
        && !op.trim().is_empty()
    {
        return crate::domain::printable(op.trim());
    }
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "operator".into());
    crate::domain::printable(&format!("{user}@{}", hostname()))
}

/// This machine's host name.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// Why a mutation did not happen. Every variant names what to do next.
#[derive(Debug, Clone, PartialEq, Eq, Error, serde::Serialize, serde::Deserialize)]
pub enum OpsError {
    #[error("locked by {} until {}", .0.who(), .0.expires_at.hhmmss())]
    Locked(ReleaseLock),
    #[error("this session is already running an operation; wait for it to finish")]
    Busy,
    #[error("the operator lock cannot be used: {0}")]
    Lock(String),
    /// The lock this operation held is no longer this session's: it stopped before writing again.
    #[error("the operator lock was lost: {0}; stopped before the next write")]
    LockLost(String),
    #[error(
        "'{branch}' changed since the gate was evaluated (it now pins {found}); re-evaluate and try again"
    )]
    Moved { branch: String, found: String },
    #[error(
        "the push of '{branch}' was rejected: another push came first; re-evaluate and try again"
    )]
    Rejected { branch: String },
    #[error("shop '{shop}' {why}; look again and retry")]
    ShopMoved { shop: String, why: String },
    /// The fleet changed between confirmation and execution in a way that matters.
    #[error("{0}; nothing was changed — look again and retry")]
    Changed(String),
    /// A drain or restore plan changed since it was confirmed (the text says what to do).
    #[error("{0}")]
    PlanChanged(String),
    /// A rule refuses the mutation on the fleet as it is now.
    #[error("refused: {0}")]
    Refused(String),
    /// Failed gate conditions that may be overridden, but no reason was given for them.
    #[error("the gate now fails on {}; an override reason is needed", .0.join(", "))]
    NeedsOverride(Vec<String>),
    /// What the mutation would do is already so (the text says what is).
    #[error("{0}; nothing to do")]
    AlreadyDone(String),
    /// The shop is already where the reassignment would put it.
    #[error("shop '{shop}' is already on {}; nothing to do", .on.join(" + "))]
    AlreadyThere { shop: String, on: Vec<String> },
    #[error("cannot read the fleet: {0}")]
    Read(String),
    #[error("cannot write: {0}")]
    Store(String),
    /// The step's intent could not be written to the audit log: it was not made.
    #[error("the audit log cannot be written ({0}); nothing was done")]
    Unaudited(String),
    /// The step was made, but its outcome could not be written to the audit log.
    #[error("{0}")]
    NotAudited(String),
    /// A drain or restore stopped at a batch by `error`: what had moved before stays moved.
    #[error(
        "{error} (at this batch) — {moved} of {total} shops had moved before it; they stay moved, and running it again continues"
    )]
    Partly {
        error: Box<OpsError>,
        moved: usize,
        total: usize,
    },
    #[error("git: {0}")]
    Git(String),
    /// A store's request that the API server refused, or that it did not answer.
    #[error("cannot write: {}", .0.message)]
    Api(ApiFailure),
    /// The operator Lease could not be read or written.
    #[error("the operator lock cannot be used: the operator Lease cannot be used: {}", .0.message)]
    Lease(ApiFailure),
    /// libgit2 failed.
    #[error("git: {}", .0.message)]
    GitFailed(GitFailure),
    /// The credentials in use may not perform a write this mutation needs (checked at start).
    #[error("not permitted: this session may not {0}")]
    NotPermitted(String),
}

/// Runs blocking work — libgit2, or the demo's and the audit log's file I/O — on a thread meant
/// for it, so that the async operations core never holds up the runtime's workers. A panic in
/// the work is a panic here, as it would have been inline.
pub async fn offload<T, E>(f: impl FnOnce() -> Result<T, E> + Send + 'static) -> Result<T, E>
where
    T: Send + 'static,
    E: From<Stopped> + Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(E::from(Stopped)),
    }
}

/// Blocking work that was dropped unfinished (the runtime is shutting down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the process is shutting down")]
pub struct Stopped;

impl From<Stopped> for OpsError {
    fn from(e: Stopped) -> Self {
        OpsError::Store(e.to_string())
    }
}

impl From<Stopped> for std::io::Error {
    fn from(e: Stopped) -> Self {
        std::io::Error::other(e)
    }
}

/// What the API server answered a request — or why there was no answer — kept whole: callers
/// decide on the status (a `403` is a permission the session lacks), operators read the message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiFailure {
    /// The HTTP status of the API server's answer; `None` when it did not answer.
    pub status: Option<u16>,
    /// Its reason (`Forbidden`, `Conflict`, `TooManyRequests`), when it answered.
    pub reason: Option<String>,
    pub message: String,
}

impl ApiFailure {
    /// The credentials in use may not make the request.
    pub fn forbidden(&self) -> bool {
        self.status == Some(403)
    }
}

/// A libgit2 failure kept whole: its class (`Reference`, `Net`, `Odb`…), its code (`Locked`,
/// `NotFastForward`…) and its message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GitFailure {
    pub class: String,
    pub code: String,
    pub message: String,
}

impl From<git2::Error> for OpsError {
    fn from(e: git2::Error) -> Self {
        OpsError::GitFailed(GitFailure {
            class: format!("{:?}", e.class()),
            code: format!("{:?}", e.code()),
            message: e.message().to_string(),
        })
    }
}

impl OpsError {
    /// Conditions that call for re-reading the fleet and evaluating again.
    pub fn is_race(&self) -> bool {
        matches!(
            self,
            OpsError::Moved { .. }
                | OpsError::Rejected { .. }
                | OpsError::ShopMoved { .. }
                | OpsError::Changed(_)
                | OpsError::PlanChanged(_)
        )
    }

    /// Refused by a rule on fresh data (exit status 2), rather than failed.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            OpsError::Refused(_)
                | OpsError::NeedsOverride(_)
                | OpsError::AlreadyThere { .. }
                | OpsError::AlreadyDone(_)
        )
    }
}
