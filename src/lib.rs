//! shopctl: a terminal console for operating a multi-cluster Kubernetes e-commerce fleet.

/// Prints to stdout like `print!`. A closed pipe (`shopctl status | head`) is not an error; any
/// other failed write is remembered and reported by [`output::finish`], which decides the exit
/// status.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write(format_args!($($arg)*))
    };
}

/// `out!` with a newline.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Standard output of the headless commands: writes that stop at the first failure, and the
/// failure reported once when the command finishes.
pub mod output {
    use std::fmt;
    use std::io::{ErrorKind, Write};
    use std::sync::Mutex;

    use thiserror::Error;

    #[derive(Debug, Error)]
    #[error("cannot write the output: {0}")]
    pub struct OutputError(#[source] pub std::io::Error);

    enum State {
        Open,
        /// The reader went away (a closed pipe): nothing more is written, and that is fine.
        Closed,
        Failed(std::io::Error),
    }

    static STATE: Mutex<State> = Mutex::new(State::Open);

    fn settle(state: &mut State, e: std::io::Error) {
        *state = if e.kind() == ErrorKind::BrokenPipe {
            State::Closed
        } else {
            State::Failed(e)
        };
    }

    /// Writes to stdout unless an earlier write failed or the reader is gone.
    pub fn write(args: fmt::Arguments<'_>) {
        let mut state = STATE.lock().unwrap_or_else(|p| p.into_inner());
        if !matches!(*state, State::Open) {
            return;
        }
        if let Err(e) = std::io::stdout().lock().write_fmt(args) {
            settle(&mut state, e);
        }
    }

    /// Flushes stdout; the first write that failed (other than to a closed pipe) is the error.
    pub fn finish() -> Result<(), OutputError> {
        let mut state = STATE.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(*state, State::Open)
            && let Err(e) = std::io::stdout().lock().flush()
        {
            settle(&mut state, e);
        }
        match std::mem::replace(&mut *state, State::Closed) {
            State::Failed(e) => Err(OutputError(e)),
            State::Open | State::Closed => Ok(()),
        }
    }
}

pub mod backends;
pub mod cli;
pub mod commands;
pub mod domain;
pub mod git;
pub mod limits;
pub mod logging;
pub mod ops;
pub mod ui;

use std::path::PathBuf;

/// The user's state directory for shopctl: `$XDG_STATE_HOME/shopctl`, else `~/.local/state/shopctl`.
pub fn state_dir() -> PathBuf {
    dirs::state_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".local/state")))
        .unwrap_or_else(std::env::temp_dir)
        .join("shopctl")
}
