//! Writing a recording while the console runs: one line per message, flushed every second, and
//! a failed write (a full disk) stops the recording — never the console.

use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{Entry, Header, Line, scrub};
use crate::domain::Ts;
use crate::ui::app::Msg;

/// How many automatic recordings the state directory keeps by default.
pub const KEEP_DEFAULT: usize = 50;

/// How much disk the automatic recordings may take together, by default: 1 GiB.
pub const MAX_MIB_DEFAULT: u64 = 1024;

/// The recording of a running console.
pub struct Recorder {
    path: PathBuf,
    out: Option<BufWriter<Box<dyn Write + Send>>>,
    started: Instant,
    /// An automatic recording is deleted when the session changed nothing.
    automatic: bool,
    /// A mutation ran in this session (it was executed, or a drain reported).
    mutated: bool,
    /// Bytes written so far.
    written: u64,
    /// Where it stops, for an automatic recording (its share of `recording.max_mib`).
    limit: Option<u64>,
}

impl Recorder {
    /// Starts recording into `path`, which must not exist yet (nothing is overwritten).
    pub fn create(path: &Path, header: &Header, automatic: bool) -> std::io::Result<Recorder> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    std::io::Error::new(
                        e.kind(),
                        format!(
                            "'{}' exists already; name a new file (a recording is never overwritten)",
                            path.display()
                        ),
                    )
                } else {
                    std::io::Error::new(e.kind(), format!("'{}': {e}", path.display()))
                }
            })?;
        Recorder::to_writer(path, Box::new(file), header, automatic)
    }

    /// Records into `out`; `path` names the recording in messages and the audit.
    pub fn to_writer(
        path: &Path,
        out: Box<dyn Write + Send>,
        header: &Header,
        automatic: bool,
    ) -> std::io::Result<Recorder> {
        let mut out = BufWriter::new(out);
        let line = serde_json::to_string(header).map_err(std::io::Error::other)?;
        writeln!(out, "{}", scrub(&line))?;
        out.flush()?;
        Ok(Recorder {
            path: path.to_path_buf(),
            out: Some(out),
            started: Instant::now(),
            automatic,
            mutated: false,
            written: line.len() as u64 + 1,
            limit: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops the recording, saying why, once it holds more than `bytes`.
    pub fn limited_to(mut self, bytes: u64) -> Recorder {
        self.limit = Some(bytes);
        self
    }

    /// Still writing (no write has failed).
    pub fn is_recording(&self) -> bool {
        self.out.is_some()
    }

    /// Records one message. A failed write ends the recording and returns what to tell the
    /// operator; the file keeps everything written before.
    pub fn record(&mut self, msg: &Msg) -> Option<String> {
        let t = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.record_at(msg, t)
    }

    /// [`Recorder::record`] at `t` milliseconds after the start (an explicit clock).
    pub fn record_at(&mut self, msg: &Msg, t: u64) -> Option<String> {
        let out = self.out.as_mut()?;
        if matches!(
            msg,
            Msg::Executed { .. } | Msg::DrainProgress { .. } | Msg::DrainDone(_)
        ) {
            self.mutated = true;
        }
        let mut result = Ok(());
        for entry in Entry::of(msg) {
            let line = Line { t, entry };
            result = serde_json::to_string(&line)
                .map_err(std::io::Error::other)
                .and_then(|text| {
                    let text = scrub(&text);
                    self.written += text.len() as u64 + 1;
                    writeln!(out, "{text}")
                });
            if result.is_err() {
                break;
            }
        }
        if let Some(limit) = self.limit.filter(|l| self.written > *l) {
            let _ = out.flush();
            self.out = None;
            tracing::warn!(path = %self.path.display(), "recording stopped at its size limit");
            return Some(format!(
                "recording stopped: '{}' reached the {} MiB the recordings may take (recording.max_mib)",
                self.path.display(),
                limit.div_ceil(1 << 20)
            ));
        }
        // A tick comes every second: what was recorded reaches the disk within a second.
        if result.is_ok() && matches!(msg, Msg::Tick(_) | Msg::Executed { .. }) {
            result = out.flush();
        }
        self.fail_on(result)
    }

    fn fail_on(&mut self, result: std::io::Result<()>) -> Option<String> {
        let e = result.err()?;
        self.out = None;
        tracing::error!(path = %self.path.display(), "recording stopped: {e}");
        Some(format!(
            "recording stopped: cannot write '{}': {e}",
            self.path.display()
        ))
    }

    /// Ends the recording. An automatic recording of a session that changed nothing is deleted.
    /// Returns the file if it is kept.
    pub fn finish(mut self) -> Option<PathBuf> {
        if let Some(mut out) = self.out.take()
            && let Err(e) = out.flush()
        {
            tracing::error!(path = %self.path.display(), "recording: {e}");
        }
        if self.automatic && !self.mutated {
            if let Err(e) = std::fs::remove_file(&self.path) {
                tracing::warn!(path = %self.path.display(), "removing an empty recording: {e}");
            }
            return None;
        }
        Some(self.path)
    }
}

/// Where automatic recordings are kept: `<state dir>/recordings`.
pub fn default_dir() -> PathBuf {
    crate::state_dir().join("recordings")
}

/// The file of a recording starting at `now` in `dir`: `20261124T004652Z-4242.jsonl`.
pub fn automatic_file(dir: &Path, now: Ts) -> PathBuf {
    let stamp: String = now
        .rfc3339()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    dir.join(format!("{stamp}-{}.jsonl", std::process::id()))
}

/// Deletes the oldest automatic recordings in `dir` so that at most `keep` remain and together
/// they take at most `max_bytes`. Returns how many were deleted and how many bytes those that
/// remain take.
pub fn prune_to(dir: &Path, keep: usize, max_bytes: u64) -> (usize, u64) {
    let mut deleted = prune(dir, keep);
    let Ok(read) = std::fs::read_dir(dir) else {
        return (deleted, 0);
    };
    let mut files: Vec<(PathBuf, u64)> = read
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "jsonl"))
        .map(|e| (e.path(), e.metadata().map(|m| m.len()).unwrap_or(0)))
        .collect();
    files.sort();
    let mut total: u64 = files.iter().map(|(_, n)| n).sum();
    for (p, n) in &files {
        if total <= max_bytes {
            break;
        }
        match std::fs::remove_file(p) {
            Ok(()) => {
                total -= n;
                deleted += 1;
            }
            Err(e) => tracing::warn!(path = %p.display(), "pruning recordings: {e}"),
        }
    }
    (deleted, total)
}

/// Deletes the oldest automatic recordings in `dir` so that at most `keep` remain (the new one
/// included). Returns how many were deleted.
pub fn prune(dir: &Path, keep: usize) -> usize {
    let Ok(read) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut files: Vec<PathBuf> = read
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    // The names start with the time: sorting them sorts by age.
    files.sort();
    let excess = files.len().saturating_sub(keep);
    files
        .iter()
        .take(excess)
        .filter(|p| match std::fs::remove_file(p) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(path = %p.display(), "pruning recordings: {e}");
                false
            }
        })
        .count()
}
