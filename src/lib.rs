//! shopctl: a terminal console for operating a multi-cluster Kubernetes e-commerce fleet.

/// Prints to stdout like `print!`, but a closed pipe (`shopctl status | head`) is not an error
/// and a failed write is reported instead of panicking.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = write!(std::io::stdout(), $($arg)*) {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                eprintln!("shopctl: cannot write the output: {e}");
            }
        }
    }};
}

/// `out!` with a newline.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                eprintln!("shopctl: cannot write the output: {e}");
            }
        }
    }};
}

pub mod cli;
pub mod commands;
pub mod domain;
pub mod logging;
pub mod ops;
pub mod sources;
pub mod ui;

use std::path::PathBuf;

/// The user's state directory for shopctl: `$XDG_STATE_HOME/shopctl`, else `~/.local/state/shopctl`.
pub fn state_dir() -> PathBuf {
    dirs::state_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".local/state")))
        .unwrap_or_else(std::env::temp_dir)
        .join("shopctl")
}
