//! Raw mode and the alternate screen, restored on every way out: quit, error, panic, signals.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crossterm::{cursor, event, execute, terminal};
use ratatui::Terminal;
use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};

static ACTIVE: AtomicBool = AtomicBool::new(false);

/// The start and end of a synchronized update: a frame between them shows at once.
const BEGIN_SYNC: &[u8] = b"\x1b[?2026h";
const END_SYNC: &[u8] = b"\x1b[?2026l";

/// The console's output: a frame is staged and sent only if it changes something on screen, so
/// a redraw that finds nothing different (a tick under an open dialog) writes not one byte.
pub struct Staged<W: Write> {
    state: Arc<Mutex<Stage<W>>>,
}

impl<W: Write> Clone for Staged<W> {
    fn clone(&self) -> Self {
        Staged {
            state: Arc::clone(&self.state),
        }
    }
}

struct Stage<W> {
    out: W,
    staging: bool,
    frame: Vec<u8>,
    /// The cells ratatui found changed in the frame being drawn, in row order.
    changed: Vec<(u16, u16)>,
    /// The last frame as the terminal shows it; none after the screen was cleared.
    last: Option<ratatui::buffer::Buffer>,
}

impl<W: Write> Staged<W> {
    pub fn new(out: W) -> Staged<W> {
        Staged {
            state: Arc::new(Mutex::new(Stage {
                out,
                staging: false,
                frame: Vec::new(),
                changed: Vec::new(),
                last: None,
            })),
        }
    }

    fn stage(&self) -> std::sync::MutexGuard<'_, Stage<W>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a frame: what is written until [`Staged::commit`] is held back.
    pub fn begin(&self) {
        let mut s = self.stage();
        s.staging = true;
        s.frame.clear();
    }

    /// Ends a frame: sends it if it holds more than the synchronized-update markers. Returns
    /// the bytes sent.
    pub fn commit(&self) -> io::Result<usize> {
        let mut s = self.stage();
        s.staging = false;
        s.changed.clear();
        let frame = std::mem::take(&mut s.frame);
        if shows_nothing(&frame) {
            return Ok(0);
        }
        s.out.write_all(&frame)?;
        s.out.flush()?;
        Ok(frame.len())
    }

    /// Writes the cells of `buf` that the frame changed (as the backend was told them).
    fn encode(&self, buf: &ratatui::buffer::Buffer) {
        let mut guard = self.stage();
        let s = &mut *guard;
        super::encode::frame(s.last.as_ref(), buf, &s.changed, &mut s.frame);
        s.changed.clear();
        match &mut s.last {
            Some(last) if last.area == buf.area => last.clone_from(buf),
            last => *last = Some(buf.clone()),
        }
    }

    /// The screen was cleared: what it showed is no longer known.
    fn cleared(&self) {
        self.stage().last = None;
    }

    /// The writer underneath (tests read what was sent).
    pub fn with_out<T>(&self, f: impl FnOnce(&mut W) -> T) -> T {
        f(&mut self.stage().out)
    }
}

impl<W: Write> Write for Staged<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut s = self.stage();
        if s.staging {
            s.frame.extend_from_slice(buf);
            Ok(buf.len())
        } else {
            s.out.write(buf)
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        let mut s = self.stage();
        if s.staging { Ok(()) } else { s.out.flush() }
    }
}

/// The console's backend: ratatui's crossterm backend for everything but the cells, which
/// [`crate::ui::encode`] writes once the frame is whole (it writes unchanged cells between two
/// changed ones where that is shorter than a cursor move, so it needs the whole frame).
/// Frames are drawn with [`draw_frame`].
pub struct ConsoleBackend<W: Write> {
    inner: CrosstermBackend<Staged<W>>,
    out: Staged<W>,
}

impl<W: Write> ConsoleBackend<W> {
    pub fn new(out: Staged<W>) -> ConsoleBackend<W> {
        ConsoleBackend {
            inner: CrosstermBackend::new(out.clone()),
            out,
        }
    }
}

impl<W: Write> Backend for ConsoleBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let mut stage = self.out.stage();
        if stage.staging {
            stage.changed.extend(content.map(|(x, y, _)| (x, y)));
            return Ok(());
        }
        // Outside a frame: ratatui clearing a viewport cell by cell. Written as it comes; what
        // the screen shows is no longer the last frame.
        stage.last = None;
        drop(stage);
        self.inner.draw(content)
    }

    fn append_lines(&mut self, n: u16) -> io::Result<()> {
        self.inner.append_lines(n)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.out.cleared();
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.out.cleared();
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        self.inner.size()
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(&mut self.inner)
    }
}

/// Draws one frame on `terminal`, whose backend writes into `out`, as a synchronized update,
/// sent only if it changes what the terminal shows. Returns the bytes sent.
pub fn draw_frame<W: Write>(
    terminal: &mut Terminal<ConsoleBackend<W>>,
    out: &Staged<W>,
    render: impl FnOnce(&mut ratatui::Frame<'_>),
) -> io::Result<usize> {
    draw(terminal, out, render, true)
}

/// Draws one frame as [`draw_frame`] does, without the synchronized-update markers (a frame
/// written to a file, not a terminal).
pub fn draw_unsynchronized<W: Write>(
    terminal: &mut Terminal<ConsoleBackend<W>>,
    out: &Staged<W>,
    render: impl FnOnce(&mut ratatui::Frame<'_>),
) -> io::Result<usize> {
    draw(terminal, out, render, false)
}

fn draw<W: Write>(
    terminal: &mut Terminal<ConsoleBackend<W>>,
    out: &Staged<W>,
    render: impl FnOnce(&mut ratatui::Frame<'_>),
    synchronized: bool,
) -> io::Result<usize> {
    out.begin();
    let drawn = (|| {
        if synchronized {
            execute!(
                terminal.backend_mut().inner,
                terminal::BeginSynchronizedUpdate
            )?;
        }
        let completed = terminal.draw(render)?;
        out.encode(completed.buffer);
        if synchronized {
            execute!(
                terminal.backend_mut().inner,
                terminal::EndSynchronizedUpdate
            )?;
        }
        Ok::<_, io::Error>(())
    })();
    let sent = out.commit();
    drawn?;
    sent
}

/// A frame that changes nothing on screen: only the synchronized-update markers and what a
/// frame always ends with (colours and attributes reset, the cursor hidden).
fn shows_nothing(frame: &[u8]) -> bool {
    const NO_EFFECT: [&[u8]; 7] = [
        BEGIN_SYNC,
        END_SYNC,
        b"\x1b[39m",
        b"\x1b[49m",
        b"\x1b[59m",
        b"\x1b[0m",
        b"\x1b[?25l",
    ];
    let mut rest = frame;
    while !rest.is_empty() {
        match NO_EFFECT.iter().find(|s| rest.starts_with(s)) {
            Some(s) => rest = &rest[s.len()..],
            None => return false,
        }
    }
    true
}

/// The console's terminal.
pub type ConsoleTerminal = Terminal<ConsoleBackend<io::Stdout>>;

/// Owns the terminal while the console runs; dropping it restores the terminal.
pub struct TerminalGuard {
    /// Always present until the guard is dropped.
    terminal: Option<ConsoleTerminal>,
    out: Staged<io::Stdout>,
}

impl TerminalGuard {
    pub fn enter() -> io::Result<TerminalGuard> {
        install_panic_hook();
        terminal::enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let mut stdout = io::stdout();
        // Bracketed paste: pasted text arrives as text, never as keys that would act.
        if let Err(e) = execute!(
            stdout,
            terminal::EnterAlternateScreen,
            cursor::Hide,
            event::EnableBracketedPaste
        ) {
            restore();
            return Err(e);
        }
        let out = Staged::new(stdout);
        match Terminal::new(ConsoleBackend::new(out.clone())) {
            Ok(terminal) => Ok(TerminalGuard {
                terminal: Some(terminal),
                out,
            }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

impl TerminalGuard {
    pub fn terminal(&mut self) -> io::Result<&mut ConsoleTerminal> {
        self.terminal
            .as_mut()
            .ok_or_else(|| io::Error::other("the terminal was released"))
    }

    /// Draws one frame with `render`, as a synchronized update, and sends it only if it changes
    /// what the terminal shows. Returns the bytes sent.
    pub fn frame(&mut self, render: impl FnOnce(&mut ratatui::Frame<'_>)) -> io::Result<usize> {
        let out = self.out.clone();
        draw_frame(self.terminal()?, &out, render)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        if let Some(mut terminal) = self.terminal.take()
            && terminal.show_cursor().is_err()
        {
            // The terminal is gone (a hangup): dropping the terminal would try to print that it
            // cannot show the cursor, on a stderr that is gone too. There is nothing to restore.
            std::mem::forget(terminal);
        }
        restore();
    }
}

/// Leaves raw mode and the alternate screen; safe to call more than once.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let mut stdout = io::stdout();
        let _ = execute!(
            stdout,
            terminal::EndSynchronizedUpdate,
            event::DisableBracketedPaste,
            cursor::Show,
            terminal::LeaveAlternateScreen
        );
        let _ = terminal::disable_raw_mode();
        let _ = stdout.flush();
    }
}

fn install_panic_hook() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        tracing::error!(
            "panic: {info}\n{}",
            std::backtrace::Backtrace::force_capture()
        );
        previous(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_that_changes_nothing_is_not_sent() {
        let out = Staged::new(Vec::new());
        let mut w = out.clone();
        out.begin();
        w.write_all(b"\x1b[?2026h\x1b[39m\x1b[49m\x1b[59m\x1b[0m\x1b[?25l\x1b[?2026l")
            .expect("staged");
        assert_eq!(out.commit().expect("committed"), 0);
        out.begin();
        w.write_all(b"\x1b[?2026h\x1b[3;4Hx\x1b[?2026l")
            .expect("staged");
        assert_eq!(out.commit().expect("committed"), 23);
        assert_eq!(out.with_out(|o| o.len()), 23);
        // Outside a frame (restoring the terminal), writes go straight through.
        w.write_all(b"\x1b[?25h").expect("written");
        assert_eq!(out.with_out(|o| o.len()), 29);
    }
}
