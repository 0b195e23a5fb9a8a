//! Reading a recording: the header, then every line in order, each error naming its line.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::{Header, Line, VERSION};

/// Why a recording cannot be replayed.
#[derive(Debug, Error)]
pub enum RecordingError {
    #[error("cannot read the recording '{path}': {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("'{path}' is empty: it holds no recorded session")]
    Empty { path: PathBuf },
    #[error(
        "'{path}' line 1 is not a shopctl recording header ({why}); recordings are written by 'shopctl --record FILE'"
    )]
    NotARecording { path: PathBuf, why: String },
    #[error(
        "'{path}' is a recording of format version {found}; this shopctl replays version {VERSION}"
    )]
    Version { path: PathBuf, found: u32 },
    #[error("'{path}' line {line}: {why}")]
    BadLine {
        path: PathBuf,
        line: usize,
        why: String,
    },
    #[error("'{path}' line {line}: goes back in time ({t} ms after {before} ms)")]
    OutOfOrder {
        path: PathBuf,
        line: usize,
        t: u64,
        before: u64,
    },
}

/// The largest terminal side a recording may give (columns or rows): larger is damage, not a
/// terminal, and would take the memory of a frame that size.
pub const MAX_SIDE: u16 = 1000;

/// How long after its start a recorded line may come: 400 days, in milliseconds.
pub const MAX_T: u64 = 400 * 86_400_000;

/// Why a recorded terminal size cannot be one, if it cannot.
fn bad_size(width: u16, height: u16) -> Option<String> {
    (width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE)
        .then(|| format!("{width}×{height} is not one a terminal has (each side 1 to {MAX_SIDE})"))
}

/// The longest line a recording may hold: 16 MiB (a pasted text, a batch of a fleet's updates).
pub const MAX_LINE: usize = 16 << 20;

/// The lines of a reader without their newline, each read only up to [`MAX_LINE`]: a longer one
/// is an error, never a line held whole in memory.
struct BoundedLines<R>(R);

impl<R: BufRead> Iterator for BoundedLines<R> {
    type Item = std::io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<Self::Item> {
        use std::io::Read;
        let mut line = Vec::new();
        match (&mut self.0)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
        {
            Ok(0) => None,
            Ok(_) if line.last() == Some(&b'\n') => {
                line.pop();
                Some(Ok(line))
            }
            Ok(n) if n > MAX_LINE => Some(Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("a line longer than {} MiB", MAX_LINE >> 20),
            ))),
            Ok(_) => Some(Ok(line)),
            Err(e) => Some(Err(e)),
        }
    }
}

/// A recording read into memory.
#[derive(Debug)]
pub struct Recording {
    pub path: PathBuf,
    pub header: Header,
    pub lines: Vec<Line>,
    /// The last line was cut off (the session ended while writing it): its number. Everything
    /// before it is replayed.
    pub cut_off: Option<usize>,
}

impl Recording {
    pub fn open(path: &Path) -> Result<Recording, RecordingError> {
        let io = |source| RecordingError::Io {
            path: path.to_path_buf(),
            source,
        };
        crate::ops::atomic::regular_file(path).map_err(io)?;
        let file = std::fs::File::open(path).map_err(io)?;
        Recording::read(path, std::io::BufReader::new(file))
    }

    /// Reads a recording from `reader`; `path` names it in messages.
    pub fn read(path: &Path, reader: impl BufRead) -> Result<Recording, RecordingError> {
        let path = path.to_path_buf();
        let mut raw = BoundedLines(reader).enumerate().peekable();
        let header = match raw.next() {
            None => return Err(RecordingError::Empty { path }),
            Some((_, line)) => {
                let line = line.map_err(|source| RecordingError::Io {
                    path: path.clone(),
                    source,
                })?;
                let value: serde_json::Value =
                    serde_json::from_slice(&line).map_err(|e| RecordingError::NotARecording {
                        path: path.clone(),
                        why: e.to_string(),
                    })?;
                match value.get("shopctl_recording").and_then(|v| v.as_u64()) {
                    None => {
                        return Err(RecordingError::NotARecording {
                            path,
                            why: "no 'shopctl_recording' field".into(),
                        });
                    }
                    Some(v) if v != u64::from(VERSION) => {
                        return Err(RecordingError::Version {
                            path,
                            found: u32::try_from(v).unwrap_or(u32::MAX),
                        });
                    }
                    Some(_) => {}
                }
                let header = serde_json::from_value::<Header>(value).map_err(|e| {
                    RecordingError::NotARecording {
                        path: path.clone(),
                        why: e.to_string(),
                    }
                })?;
                if let Some(why) = bad_size(header.width, header.height) {
                    return Err(RecordingError::BadLine {
                        path,
                        line: 1,
                        why: format!("the terminal size {why}"),
                    });
                }
                header
            }
        };
        let mut lines = Vec::new();
        let mut cut_off = None;
        let mut last_t = 0;
        while let Some((i, line)) = raw.next() {
            let number = i + 1;
            let bytes = line.map_err(|source| RecordingError::Io {
                path: path.clone(),
                source,
            })?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let last = raw.peek().is_none();
            match serde_json::from_slice::<Line>(&bytes) {
                Ok(l) if l.t > MAX_T => {
                    return Err(RecordingError::BadLine {
                        path,
                        line: number,
                        why: format!(
                            "{} ms after the start is more than a recording can last ({} days)",
                            l.t,
                            MAX_T / 86_400_000
                        ),
                    });
                }
                Ok(Line {
                    entry: super::Entry::Resize { width, height },
                    ..
                }) if bad_size(width, height).is_some() => {
                    return Err(RecordingError::BadLine {
                        path,
                        line: number,
                        why: format!(
                            "the terminal resized to {}",
                            bad_size(width, height).unwrap_or_default()
                        ),
                    });
                }
                Ok(l) if l.t < last_t => {
                    return Err(RecordingError::OutOfOrder {
                        path,
                        line: number,
                        t: l.t,
                        before: last_t,
                    });
                }
                Ok(l) => {
                    last_t = l.t;
                    lines.push(l);
                }
                // A session killed while writing leaves its last line incomplete.
                Err(e) if last && e.is_eof() => cut_off = Some(number),
                Err(e) => {
                    return Err(RecordingError::BadLine {
                        path,
                        line: number,
                        why: e.to_string(),
                    });
                }
            }
        }
        Ok(Recording {
            path,
            header,
            lines,
            cut_off,
        })
    }

    /// How long the recorded session ran, in milliseconds.
    pub fn duration_ms(&self) -> u64 {
        self.lines.last().map_or(0, |l| l.t)
    }
}
