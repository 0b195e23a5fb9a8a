//! Raw mode and the alternate screen, restored on every way out: quit, error, panic, signals.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crossterm::{cursor, event, execute, terminal};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

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
}

impl<W: Write> Staged<W> {
    pub fn new(out: W) -> Staged<W> {
        Staged {
            state: Arc::new(Mutex::new(Stage {
                out,
                staging: false,
                frame: Vec::new(),
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
        let frame = sixteen_colours(&std::mem::take(&mut s.frame));
        if shows_nothing(&frame) {
            return Ok(0);
        }
        s.out.write_all(&frame)?;
        s.out.flush()?;
        Ok(frame.len())
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

/// Draws one frame on `terminal`, whose backend writes into `out`, as a synchronized update,
/// sent only if it changes what the terminal shows. Returns the bytes sent.
pub fn draw_frame<W: Write>(
    terminal: &mut Terminal<CrosstermBackend<Staged<W>>>,
    out: &Staged<W>,
    render: impl FnOnce(&mut ratatui::Frame<'_>),
) -> io::Result<usize> {
    out.begin();
    let drawn = (|| {
        execute!(terminal.backend_mut(), terminal::BeginSynchronizedUpdate)?;
        terminal.draw(render)?;
        execute!(terminal.backend_mut(), terminal::EndSynchronizedUpdate)
    })();
    let sent = out.commit();
    drawn?;
    sent
}

/// The frame with the 16 base colours in their 16-colour form: `ESC[38;5;2m` becomes `ESC[32m`,
/// `ESC[48;5;9m` becomes `ESC[101m` (the backend writes every indexed colour the long way, which
/// terminals limited to 16 colours misread, and which costs bytes). Other colours pass as
/// they are.
pub fn sixteen_colours(frame: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(frame.len());
    let mut i = 0;
    while i < frame.len() {
        let rest = &frame[i..];
        let layer = if rest.starts_with(b"\x1b[38;5;") {
            Some(30u8)
        } else if rest.starts_with(b"\x1b[48;5;") {
            Some(40u8)
        } else {
            None
        };
        if let Some(base) = layer {
            let digits = &rest[7..];
            let len = digits.iter().take_while(|b| b.is_ascii_digit()).count();
            let n = std::str::from_utf8(&digits[..len])
                .ok()
                .and_then(|d| d.parse::<u8>().ok());
            if let Some(n) = n.filter(|n| *n < 16 && (1..=2).contains(&len))
                && digits.get(len) == Some(&b'm')
            {
                let code = if n < 8 { base + n } else { base + 60 + n - 8 };
                out.extend_from_slice(format!("\x1b[{code}m").as_bytes());
                i += 7 + len + 1;
                continue;
            }
        }
        out.push(frame[i]);
        i += 1;
    }
    out
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
pub type ConsoleTerminal = Terminal<CrosstermBackend<Staged<io::Stdout>>>;

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
        match Terminal::new(CrosstermBackend::new(out.clone())) {
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

    #[test]
    fn the_sixteen_base_colours_go_out_in_their_short_form() {
        let cases: [(&[u8], &[u8]); 6] = [
            (b"\x1b[38;5;2mok", b"\x1b[32mok"),
            (b"\x1b[48;5;9m", b"\x1b[101m"),
            (b"\x1b[38;5;15m\x1b[48;5;0m", b"\x1b[97m\x1b[40m"),
            // Beyond the 16: as they are.
            (b"\x1b[38;5;16m", b"\x1b[38;5;16m"),
            (b"\x1b[38;2;1;2;3m", b"\x1b[38;2;1;2;3m"),
            // Not a colour, or cut short: untouched.
            (b"x\x1b[38;5;", b"x\x1b[38;5;"),
        ];
        for (from, to) in cases {
            assert_eq!(
                sixteen_colours(from),
                to,
                "{}",
                String::from_utf8_lossy(from)
            );
        }
    }
}
