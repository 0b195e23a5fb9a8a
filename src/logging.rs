//! Logs go to a file under the user's state directory, never to the terminal.

use std::path::PathBuf;

use tracing_subscriber::EnvFilter;

/// Starts logging to `<state dir>/shopctl.log` (level from `SHOPCTL_LOG`, default `info`, with
/// the Kubernetes client's own lines at `off`: every failure it logs, shopctl reports in words of
/// its own — a connection that keeps failing would otherwise write a line per retry, with debug
/// dumps).
/// Returns the log file's path, or `None` if it cannot be opened (then nothing is logged).
pub fn init() -> Option<PathBuf> {
    let dir = crate::state_dir();
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join("shopctl.log");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    let filter = EnvFilter::try_from_env("SHOPCTL_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,kube_client=off,kube_runtime=off"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(path)
}
