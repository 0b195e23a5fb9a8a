//! A recording as an asciicast v2 file (`asciinema play OUT.cast`): the console's frames as the
//! terminal received them, drawn by the same renderer, timed by the recording (and `--speed`).
//!
//! asciicast v2: a JSON header line, then one `[seconds, "o", text]` line per frame, and a
//! `[seconds, "r", "COLSxROWS"]` line where the recorded terminal was resized.

use std::io::Write;

use ratatui::Terminal;
use ratatui::layout::Rect;
use ratatui::{TerminalOptions, Viewport};
use serde_json::json;

use super::player::Replay;
use crate::ui::render;
use crate::ui::terminal::{ConsoleBackend, Staged, draw_unsynchronized};
use crate::ui::theme::Theme;

/// Recorded messages closer together than this are drawn as one frame.
const FRAME_MS: u64 = 33;

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exported {
    pub frames: usize,
    pub bytes: usize,
}

/// Writes `replay` as an asciicast v2 to `out`, `speed` times faster than recorded.
pub fn export(
    mut replay: Replay,
    speed: f64,
    theme: &Theme,
    out: &mut dyn Write,
) -> anyhow::Result<Exported> {
    let (w, h) = (replay.header().width, replay.header().height);
    let header = json!({
        "version": 2,
        "width": w,
        "height": h,
        "timestamp": replay.header().started.0 / 1000,
        "title": format!("shopctl {} · {}", replay.header().fleet, replay.header().started.rfc3339()),
        "env": {"TERM": "xterm-256color"},
    });
    writeln!(out, "{header}")?;
    let written = Staged::new(Vec::new());
    let take = || written.with_out(std::mem::take);
    let mut terminal = Terminal::with_options(
        ConsoleBackend::new(written.clone()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, w, h)),
        },
    )?;
    terminal.hide_cursor()?;
    let mut exported = Exported {
        frames: 0,
        bytes: 0,
    };
    let speed = speed.max(f64::MIN_POSITIVE);
    let mut size = Rect::new(0, 0, w, h);
    let mut frame = |replay: &mut Replay, at: u64| -> anyhow::Result<()> {
        if !replay.app.view.dirty {
            return Ok(());
        }
        // The recorded terminal was resized: so is the cast's (an `r` event), and the frame is
        // drawn whole at the new size.
        if replay.app.view.size != size {
            size = replay.app.view.size;
            terminal.resize(size)?;
            let _ = take();
            let event = json!([
                at as f64 / 1000.0 / speed,
                "r",
                format!("{}x{}", size.width, size.height)
            ]);
            writeln!(out, "{event}")?;
        }
        draw_unsynchronized(&mut terminal, &written, |f| {
            render::render(&replay.app, theme, f)
        })?;
        replay.app.view.dirty = false;
        let bytes = take();
        if bytes.is_empty() {
            return Ok(());
        }
        exported.frames += 1;
        exported.bytes += bytes.len();
        let event = json!([
            at as f64 / 1000.0 / speed,
            "o",
            String::from_utf8_lossy(&bytes)
        ]);
        writeln!(out, "{event}")?;
        Ok(())
    };
    replay.advance_to(0);
    frame(&mut replay, 0)?;
    while let Some(t) = replay.next_at() {
        replay.advance_to(t + FRAME_MS - 1);
        frame(&mut replay, t)?;
    }
    out.flush()?;
    Ok(exported)
}

/// Writes `replay` as an asciicast v2 file at `out`, which must not exist: written to a partial
/// file of its own (never one that exists, or a link planted there), then linked into place only
/// if nothing took the name meanwhile — nothing is ever replaced.
pub fn export_file(
    replay: Replay,
    speed: f64,
    theme: &Theme,
    out: &std::path::Path,
) -> anyhow::Result<Exported> {
    // As with `--record`: nothing that exists is replaced — not a file, and not a
    // device or anything else that is not one.
    if std::fs::symlink_metadata(out).is_ok() {
        anyhow::bail!(
            "'{}' exists already; name a new file (a cast is never overwritten)",
            out.display()
        );
    }
    // A partial file of its own: never one that exists (another export of the same
    // name under way, or a link planted there).
    let tmp = out.with_extension("cast.partial");
    let mut w = std::io::BufWriter::new(
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)
                .map_err(|e| {
                    if e.kind() == std::io::ErrorKind::AlreadyExists {
                        anyhow::anyhow!(
                            "cannot write '{}': '{}' exists (another export of it under way, or one that was killed: remove it)",
                            out.display(),
                            tmp.display()
                        )
                    } else {
                        anyhow::anyhow!("cannot write '{}': {e}", out.display())
                    }
                })?,
        );
    let exported = export(replay, speed, theme, &mut w)
        .and_then(|e| {
            w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            Ok(e)
        })
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            anyhow::anyhow!("cannot write '{}': {e}", out.display())
        })?;
    // Linked into place only if nothing took the name meanwhile (never replaced).
    let placed = std::fs::hard_link(&tmp, out);
    let _ = std::fs::remove_file(&tmp);
    placed.map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                anyhow::anyhow!(
                    "'{}' appeared while the cast was written; it is left as it is (a cast is never written over anything)",
                    out.display()
                )
            } else {
                anyhow::anyhow!("cannot write '{}': {e}", out.display())
            }
        })?;
    Ok(exported)
}
