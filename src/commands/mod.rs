//! Headless commands: what scripts and CI gates run. Errors go to stderr; exit codes are stable.

pub mod export;
pub mod history;
pub mod placement;
pub mod release;
pub mod silence;
pub mod status;
pub mod watch;

pub use status::status;

use std::io::{BufRead, IsTerminal, Write};

use crate::backends::FleetSource;
use crate::domain::{Fleet, Ts};
use crate::ops::OpsError;

/// Exit status of every command (DESIGN.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Done = 0,
    Error = 1,
    /// Refused by a rule: a failed gate, blockers, a placement rule.
    Refused = 2,
    ReadOnly = 3,
    /// Another operator holds the lock.
    Locked = 4,
}

/// Reads the fleet, or says why not.
async fn snapshot(source: &mut dyn FleetSource, now: Ts) -> Result<Fleet, Exit> {
    source.snapshot(now).await.map_err(|e| {
        eprintln!("shopctl: {e}");
        Exit::Error
    })
}

/// Asks on the terminal and checks the answer is exactly `expected`. Without a terminal to ask on
/// it refuses (exit 1) and says to pass `--yes`.
fn ask(prompt: &str, expected: &str) -> Result<bool, Exit> {
    if !std::io::stdin().is_terminal() {
        eprintln!("shopctl: confirmation needed and there is no terminal to ask on; pass --yes");
        return Err(Exit::Error);
    }
    eprint!("{prompt} ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|_| Exit::Error)?;
    Ok(line.trim() == expected)
}

/// Reports a failed mutation: a lock held elsewhere is exit 4, a rule that refuses it on fresh
/// data exit 2, anything else exit 1.
fn ops_exit(e: OpsError) -> Exit {
    eprintln!("shopctl: {e}");
    exit_for(&e)
}

/// The exit status for a failed mutation.
pub fn exit_for(e: &OpsError) -> Exit {
    match e {
        OpsError::Partly { error, .. } => exit_for(error),
        OpsError::Locked(_) | OpsError::LockLost(_) | OpsError::Busy => Exit::Locked,
        // The credentials may not write what it needs: like a read-only session.
        OpsError::NotPermitted(_) => Exit::ReadOnly,
        OpsError::Api(f) | OpsError::Lease(f) if f.forbidden() => Exit::ReadOnly,
        // Refused by a rule, or the fleet changed under the confirmed change: nothing was done.
        e if e.is_refusal() || e.is_race() => Exit::Refused,
        _ => Exit::Error,
    }
}
