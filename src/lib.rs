//! shopctl: a terminal console for operating a multi-cluster Kubernetes e-commerce fleet.

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
