//! A frame's changed cells as terminal bytes, as few as say the same thing.
//!
//! ratatui finds the cells that changed; this writes them. Where ratatui's own backend moves
//! the cursor to every run of changed cells and sets colours in their 256-colour form, this
//! writes the few unchanged cells between two runs when that is shorter than a cursor move,
//! moves forward on a row with `CUF`, sets every attribute and colour of a cell in one SGR
//! (from the terminal's current attributes, or from a reset when that is shorter), and sends
//! the 16 base colours in their 16-colour form (`ESC[32m`, not `ESC[38;5;2m`), which terminals
//! limited to 16 colours read right.

use std::io::Write as _;

use ratatui::buffer::{Buffer, Cell, CellDiffOption};
use ratatui::style::{Color, Modifier};
use unicode_width::UnicodeWidthStr;

/// The attributes the terminal draws with.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Pen {
    fg: Color,
    bg: Color,
    modifier: Modifier,
}

impl Pen {
    const RESET: Pen = Pen {
        fg: Color::Reset,
        bg: Color::Reset,
        modifier: Modifier::empty(),
    };

    fn of(cell: &Cell) -> Pen {
        Pen {
            fg: cell.fg,
            bg: cell.bg,
            modifier: cell.modifier,
        }
    }
}

/// The cursor and attributes as the terminal has them while a frame is written.
#[derive(Clone, Copy)]
struct Terminal {
    /// Where the next symbol goes; unknown at the start of a frame.
    at: Option<(u16, u16)>,
    pen: Pen,
}

/// Appends to `out` what turns the screen showing `last` into `buf`, given the cells that changed
/// (`changed`, in row order, as ratatui's diff gives them; `last` is the previous frame as the
/// terminal shows it, if known). Where a band of whole rows moved up or down (a scrolled help,
/// two side-by-side panes scrolled together), the terminal scrolls them itself and only what
/// differs after that is written.
pub fn frame(last: Option<&Buffer>, buf: &Buffer, changed: &[(u16, u16)], out: &mut Vec<u8>) {
    let scroll = last
        .filter(|last| last.area == buf.area)
        .and_then(|last| Scroll::find(last, buf, changed).map(|s| (last, s)));
    match scroll {
        Some((last, scroll)) => {
            scroll.write(out);
            let moved = scroll.apply(last);
            let changed: Vec<(u16, u16)> = moved
                .diff(buf)
                .iter()
                .map(|(x, y, _)| (*x, *y))
                .filter(|at| !looks_alike(&moved, buf, *at))
                .collect();
            encode(buf, Some(&moved), &changed, out);
        }
        None => match last.filter(|last| last.area == buf.area) {
            Some(last) => {
                let changed: Vec<(u16, u16)> = changed
                    .iter()
                    .copied()
                    .filter(|at| !looks_alike(last, buf, *at))
                    .collect();
                encode(buf, Some(last), &changed, out)
            }
            None => encode(buf, None, changed, out),
        },
    }
}

/// Whether the terminal, showing `shown`, already shows what `next` has at `at`: two blanks
/// with the same background and no modifier that shows on a blank (a foreground colour does
/// not show on a blank), the cell before a narrow one (a wide symbol's second half is not
/// blank).
fn looks_alike(shown: &Buffer, next: &Buffer, (x, y): (u16, u16)) -> bool {
    let (Some(a), Some(b)) = (shown.cell((x, y)), next.cell((x, y))) else {
        return false;
    };
    let blank = |c: &Cell| c.symbol() == " " && !c.modifier.intersects(SHOWN_ON_BLANK);
    let narrow_before = |buf: &Buffer| {
        x == 0
            || buf
                .cell((x - 1, y))
                .is_some_and(|c| c.symbol().width() <= 1)
    };
    blank(a) && blank(b) && a.bg == b.bg && narrow_before(shown) && narrow_before(next)
}

/// Rows `top..=bottom` (0-based, a scroll region) moved up (`by` > 0) or down by `by` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scroll {
    top: u16,
    bottom: u16,
    by: i16,
}

/// Changed cells below which a frame is written as it is, without looking for a scroll.
const SCROLL_FROM_CELLS: usize = 120;

/// A row's cells hashed: rows that hash alike are (almost certainly) alike.
fn row_hash(cells: &[Cell]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    for c in cells {
        c.symbol().hash(&mut h);
        c.fg.hash(&mut h);
        c.bg.hash(&mut h);
        c.modifier.hash(&mut h);
    }
    h.finish()
}

/// Cells a scroll must save (its own bytes and the rows it leaves blank counted) to be worth it.
const SCROLL_SAVES_CELLS: i64 = 60;

impl Scroll {
    /// The band of rows whose moving saves the most cells, if any saves enough.
    fn find(last: &Buffer, next: &Buffer, changed: &[(u16, u16)]) -> Option<Scroll> {
        if changed.len() < SCROLL_FROM_CELLS {
            return None;
        }
        let (w, h) = (next.area.width as usize, next.area.height as usize);
        let mut per_row = vec![0i64; h];
        for (_, y) in changed {
            if let Some(n) = per_row.get_mut(*y as usize) {
                *n += 1;
            }
        }
        fn row(b: &Buffer, w: usize, y: usize) -> &[Cell] {
            &b.content[y * w..(y + 1) * w]
        }
        let differing = |a: &[Cell], b: &[Cell]| a.iter().zip(b).filter(|(a, b)| a != b).count();
        let drawn = |y: usize| row(next, w, y).iter().filter(|c| c.symbol() != " ").count() as i64;
        // The distances worth weighing: those at which at least two changed rows are found
        // whole in the last frame.
        let (was, now): (Vec<u64>, Vec<u64>) = (0..h)
            .map(|y| (row_hash(row(last, w, y)), row_hash(row(next, w, y))))
            .unzip();
        let mut votes = std::collections::HashMap::<i16, usize>::new();
        for y in (0..h).filter(|y| per_row[*y] > 0) {
            for from in (0..h).filter(|from| *from != y && was[*from] == now[y]) {
                *votes.entry(from as i16 - y as i16).or_default() += 1;
            }
        }
        let mut best: Option<(i64, Scroll)> = None;
        for by in votes.into_iter().filter(|(_, n)| *n >= 2).map(|(by, _)| by) {
            let k = by.unsigned_abs() as usize;
            // Each row's saving if it came from `k` rows below (above): what ratatui would
            // write less what still differs.
            let saving: Vec<Option<i64>> = (0..h)
                .map(|y| {
                    let from = if by > 0 { y + k } else { y.checked_sub(k)? };
                    if from >= h || per_row[y] == 0 {
                        return None;
                    }
                    let left = differing(row(next, w, y), row(last, w, from)) as i64;
                    (left < per_row[y]).then_some(per_row[y] - left)
                })
                .collect();
            // The best run of consecutive rows that gain.
            let mut y = 0;
            while y < h {
                if saving[y].is_none() {
                    y += 1;
                    continue;
                }
                let start = y;
                let mut gained = 0;
                while y < h
                    && let Some(g) = saving[y]
                {
                    gained += g;
                    y += 1;
                }
                let end = y - 1;
                if end == start {
                    continue;
                }
                // The rows the scroll leaves blank are written whole.
                let (top, bottom, blank) = if by > 0 {
                    (start, end + k, end + 1..=end + k)
                } else {
                    (start - k, end, start - k..=start - 1)
                };
                let lost: i64 = blank.map(|y| drawn(y) - per_row[y]).sum();
                let net = gained - lost;
                let scroll = Scroll {
                    top: top as u16,
                    bottom: bottom as u16,
                    by,
                };
                if net >= SCROLL_SAVES_CELLS && best.is_none_or(|(b, _)| net > b) {
                    best = Some((net, scroll));
                }
            }
        }
        best.map(|(_, s)| s)
    }

    /// The terminal scrolling the region itself: margins set, the cursor at the margin the
    /// rows leave by, line feeds (up) or reverse indexes (down), margins reset. Attributes are
    /// reset, so the rows scrolled in are blank.
    fn write(&self, out: &mut Vec<u8>) {
        let _ = write!(out, "\x1b[{};{}r", self.top + 1, self.bottom + 1);
        let k = self.by.unsigned_abs() as usize;
        if self.by > 0 {
            let _ = write!(out, "\x1b[{};1H", self.bottom + 1);
            out.extend(std::iter::repeat_n(b'\n', k));
        } else {
            let _ = write!(out, "\x1b[{};1H", self.top + 1);
            for _ in 0..k {
                out.extend_from_slice(b"\x1bM");
            }
        }
        out.extend_from_slice(b"\x1b[r");
    }

    /// `last` as the terminal shows it after the scroll.
    fn apply(&self, last: &Buffer) -> Buffer {
        let mut moved = last.clone();
        let w = last.area.width as usize;
        let (top, bottom) = (self.top as usize, self.bottom as usize);
        let k = self.by.unsigned_abs() as usize;
        let rows = &mut moved.content[top * w..(bottom + 1) * w];
        if self.by > 0 {
            rows.rotate_left(k * w);
            let len = rows.len();
            rows[len - k * w..].fill(Cell::EMPTY);
        } else {
            rows.rotate_right(k * w);
            rows[..k * w].fill(Cell::EMPTY);
        }
        moved
    }
}

/// Appends to `out` what turns the screen showing the previous frame into `buf`, given the cells
/// that changed (`changed`, in row order, as ratatui's diff gives them). The terminal's
/// attributes are taken to be reset before, and are reset after (if anything was written).
pub fn encode(buf: &Buffer, shown: Option<&Buffer>, changed: &[(u16, u16)], out: &mut Vec<u8>) {
    if changed.is_empty() {
        return;
    }
    let mut term = Terminal {
        at: None,
        pen: Pen::RESET,
    };
    let mut gap = Vec::new();
    let mut n = 0;
    while n < changed.len() {
        let (x, y) = changed[n];
        n += 1;
        let Some(cell) = buf.cell((x, y)) else {
            continue;
        };
        move_to(buf, &mut term, (x, y), &mut gap, out);
        let run = shown.map_or(0, |shown| blank_run(shown, buf, &changed[n - 1..]));
        if run >= ERASE_FROM {
            // A long run of blanks: erased in place (ECH), the cursor left where it is.
            if term.pen.bg != Color::Reset || term.pen.modifier.intersects(SHOWN_ON_BLANK) {
                out.extend_from_slice(b"\x1b[0m");
                term.pen = Pen::RESET;
            }
            let _ = write!(out, "\x1b[{run}X");
            n += run - 1;
            continue;
        }
        put(&mut term, (x, y), cell, out);
    }
    if term.pen != Pen::RESET {
        out.extend_from_slice(b"\x1b[0m");
    }
}

/// Blanks in a row at least this long are erased (ECH) rather than written.
const ERASE_FROM: usize = 12;

/// How many of `changed`, from the first, are consecutive cells of one row that `next` has
/// blank on the default background, over narrow symbols in `shown` (what the terminal shows
/// now; erasing half of a wide symbol is not defined).
fn blank_run(shown: &Buffer, next: &Buffer, changed: &[(u16, u16)]) -> usize {
    let Some(&(x0, y)) = changed.first() else {
        return 0;
    };
    let blank = |c: &Cell| {
        c.symbol() == " " && c.bg == Color::Reset && !c.modifier.intersects(SHOWN_ON_BLANK)
    };
    let narrow = |x: u16| shown.cell((x, y)).is_none_or(|c| c.symbol().width() <= 1);
    if x0 > 0 && !narrow(x0 - 1) {
        return 0;
    }
    changed
        .iter()
        .enumerate()
        .take_while(|(i, (x, yy))| {
            *yy == y && *x == x0 + *i as u16 && next.cell((*x, y)).is_some_and(blank) && narrow(*x)
        })
        .count()
}

/// Brings the cursor to `to`: by writing the cells between (they are on screen already, so
/// writing them again changes nothing) when that is shorter, else by a cursor move.
fn move_to(
    buf: &Buffer,
    term: &mut Terminal,
    to: (u16, u16),
    gap: &mut Vec<u8>,
    out: &mut Vec<u8>,
) {
    let (x, y) = to;
    let Some((cx, cy)) = term.at.replace(to) else {
        cup(x, y, out);
        return;
    };
    if (cx, cy) == (x, y) {
        return;
    }
    if cy == y && cx < x {
        let forward = x - cx;
        let cuf = if forward == 1 { 3 } else { 3 + digits(forward) };
        gap.clear();
        let mut ahead = *term;
        ahead.at = Some((cx, cy));
        if forward <= 16 && write_between(buf, &mut ahead, x, gap) && gap.len() <= cuf {
            out.extend_from_slice(gap);
            *term = ahead;
        } else if forward == 1 {
            out.extend_from_slice(b"\x1b[C");
        } else {
            let _ = write!(out, "\x1b[{forward}C");
        }
        return;
    }
    cup(x, y, out);
}

/// Writes the unchanged cells from the cursor up to column `x` into `gap`; false where they
/// cannot be written whole (a cell ratatui skips, a wide symbol running past `x`).
fn write_between(buf: &Buffer, term: &mut Terminal, x: u16, gap: &mut Vec<u8>) -> bool {
    while let Some((cx, cy)) = term.at.filter(|(cx, _)| *cx < x) {
        let Some(cell) = buf.cell((cx, cy)) else {
            return false;
        };
        let width = cell.symbol().width() as u16;
        if cell.diff_option != CellDiffOption::None || width == 0 || cx + width > x {
            return false;
        }
        put(term, (cx, cy), cell, gap);
    }
    true
}

/// Modifiers that show on a blank cell.
const SHOWN_ON_BLANK: Modifier = Modifier::REVERSED
    .union(Modifier::UNDERLINED)
    .union(Modifier::SLOW_BLINK)
    .union(Modifier::RAPID_BLINK)
    .union(Modifier::CROSSED_OUT);

/// Writes one cell at the cursor, which is at `at`.
fn put(term: &mut Terminal, at: (u16, u16), cell: &Cell, out: &mut Vec<u8>) {
    let pen = Pen::of(cell);
    // A blank looks the same in any foreground colour, bold or not: only its background and
    // the modifiers that show on a blank need to be right.
    let blank_as_is = cell.symbol() == " "
        && pen.bg == term.pen.bg
        && !(pen.modifier | term.pen.modifier).intersects(SHOWN_ON_BLANK);
    if pen != term.pen && !blank_as_is {
        sgr(term.pen, pen, out);
        term.pen = pen;
    }
    let symbol = cell.symbol();
    out.extend_from_slice(symbol.as_bytes());
    let width = symbol.width() as u16;
    // After a symbol of no width the terminal's cursor is anyone's guess: move next time.
    term.at = (width > 0).then_some((at.0 + width, at.1));
}

fn cup(x: u16, y: u16, out: &mut Vec<u8>) {
    let _ = write!(out, "\x1b[{};{}H", y + 1, x + 1);
}

fn digits(n: u16) -> usize {
    n.to_string().len()
}

/// One SGR taking the terminal from `from` to `to`: the changes alone, or a reset and what
/// `to` has, whichever is shorter.
fn sgr(from: Pen, to: Pen, out: &mut Vec<u8>) {
    let mut changes = Vec::new();
    let removed = from.modifier - to.modifier;
    let mut add = to.modifier - from.modifier;
    if removed.intersects(Modifier::BOLD | Modifier::DIM) {
        changes.push(22);
        // 22 ends both bold and dim: what stays is set again.
        add |= to.modifier & (Modifier::BOLD | Modifier::DIM);
    }
    for (modifier, off) in [
        (Modifier::ITALIC, 23),
        (Modifier::UNDERLINED, 24),
        (Modifier::SLOW_BLINK | Modifier::RAPID_BLINK, 25),
        (Modifier::REVERSED, 27),
        (Modifier::HIDDEN, 28),
        (Modifier::CROSSED_OUT, 29),
    ] {
        if removed.intersects(modifier) {
            changes.push(off);
            add |= to.modifier & modifier;
        }
    }
    let mut incremental = params(&changes, add, from, to);
    let whole = params(&[0], to.modifier, Pen::RESET, to);
    if whole.len() < incremental.len() {
        incremental = whole;
    }
    out.extend_from_slice(b"\x1b[");
    out.extend_from_slice(incremental.as_bytes());
    out.push(b'm');
}

/// The SGR parameters: `first`, then the modifiers in `add`, then each colour that differs
/// from `from`.
fn params(first: &[u16], add: Modifier, from: Pen, to: Pen) -> String {
    let mut p: Vec<String> = first.iter().map(u16::to_string).collect();
    for (modifier, on) in [
        (Modifier::BOLD, 1),
        (Modifier::DIM, 2),
        (Modifier::ITALIC, 3),
        (Modifier::UNDERLINED, 4),
        (Modifier::SLOW_BLINK, 5),
        (Modifier::RAPID_BLINK, 6),
        (Modifier::REVERSED, 7),
        (Modifier::HIDDEN, 8),
        (Modifier::CROSSED_OUT, 9),
    ] {
        if add.contains(modifier) {
            p.push(on.to_string());
        }
    }
    if to.fg != from.fg {
        p.push(colour(to.fg, false));
    }
    if to.bg != from.bg {
        p.push(colour(to.bg, true));
    }
    p.join(";")
}

/// A colour's SGR parameters, the 16 base colours in their short form.
fn colour(c: Color, background: bool) -> String {
    let base: u8 = if background { 40 } else { 30 };
    let short = |n: u8| {
        if n < 8 {
            (base + n).to_string()
        } else {
            (base + 60 + n - 8).to_string()
        }
    };
    match c {
        Color::Reset => (base + 9).to_string(),
        Color::Black => short(0),
        Color::Red => short(1),
        Color::Green => short(2),
        Color::Yellow => short(3),
        Color::Blue => short(4),
        Color::Magenta => short(5),
        Color::Cyan => short(6),
        Color::Gray => short(7),
        Color::DarkGray => short(8),
        Color::LightRed => short(9),
        Color::LightGreen => short(10),
        Color::LightYellow => short(11),
        Color::LightBlue => short(12),
        Color::LightMagenta => short(13),
        Color::LightCyan => short(14),
        Color::White => short(15),
        Color::Indexed(n) if n < 16 => short(n),
        Color::Indexed(n) => format!("{};5;{n}", base + 8),
        Color::Rgb(r, g, b) => format!("{};2;{r};{g};{b}", base + 8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    fn written(prev: &Buffer, next: &Buffer) -> String {
        let changed: Vec<(u16, u16)> = prev.diff(next).iter().map(|(x, y, _)| (*x, *y)).collect();
        let mut out = Vec::new();
        encode(next, None, &changed, &mut out);
        String::from_utf8(out).expect("utf-8")
    }

    /// What a terminal shows after `bytes`, drawn over `prev`'s screen.
    fn shown(prev: &Buffer, bytes: &str) -> Vec<String> {
        screen(prev, bytes).rows(0, prev.area.width).collect()
    }

    fn screen(prev: &Buffer, bytes: &str) -> vt100::Screen {
        let (w, h) = (prev.area.width, prev.area.height);
        let mut parser = vt100::Parser::new(h, w, 0);
        let mut whole = Vec::new();
        let first: Vec<(u16, u16)> = Buffer::empty(prev.area)
            .diff(prev)
            .iter()
            .map(|(x, y, _)| (*x, *y))
            .collect();
        encode(prev, None, &first, &mut whole);
        parser.process(&whole);
        parser.process(bytes.as_bytes());
        parser.screen().clone()
    }

    /// Each cell's symbol, colour and boldness, as `buf` has them and as `screen` shows them.
    /// A cell as seen: its symbol, foreground colour and boldness.
    type Seen = (String, u8, bool);

    fn cells(buf: &Buffer, screen: &vt100::Screen) -> Vec<(Seen, Seen)> {
        let index = |c: Color| match c {
            Color::Indexed(n) => n,
            _ => 255,
        };
        let shown = |c: vt100::Color| match c {
            vt100::Color::Idx(n) => n,
            _ => 255,
        };
        let mut out = Vec::new();
        for y in 0..buf.area.height {
            let mut x = 0;
            while x < buf.area.width {
                let c = &buf[(x, y)];
                let s = screen.cell(y, x).expect("a cell");
                // A blank shows no colour or boldness (ratatui's diff leaves them stale).
                let seen = |t: &str, fg: u8, bold: bool| match t {
                    "" | " " => (String::new(), 0, false),
                    _ => (t.to_string(), fg, bold),
                };
                out.push((
                    seen(c.symbol(), index(c.fg), c.modifier.contains(Modifier::BOLD)),
                    seen(s.contents(), shown(s.fgcolor()), s.bold()),
                ));
                x += c.symbol().width().max(1) as u16;
            }
        }
        out
    }

    fn text(buf: &Buffer) -> Vec<String> {
        (0..buf.area.height)
            .map(|y| {
                let mut row = String::new();
                let mut x = 0;
                while x < buf.area.width {
                    let s = buf[(x, y)].symbol();
                    row.push_str(s);
                    x += s.width().max(1) as u16;
                }
                row.trim_end().to_string()
            })
            .collect()
    }

    #[test]
    fn a_short_gap_is_written_over_and_a_long_one_moved_across() {
        let area = Rect::new(0, 0, 40, 2);
        let mut prev = Buffer::empty(area);
        prev.set_string(0, 0, "a-1  dev   3/50  ok", Style::new());
        let mut next = prev.clone();
        next.set_string(0, 0, "b", Style::new());
        next.set_string(5, 0, "beta", Style::new());
        next.set_string(30, 0, "x", Style::new());
        let bytes = written(&prev, &next);
        assert_eq!(bytes, "\x1b[1;1Hb-1  beta\x1b[21Cx");
        let screen: Vec<String> = shown(&prev, &bytes)
            .into_iter()
            .map(|r| r.trim_end().to_string())
            .collect();
        assert_eq!(screen, text(&next));
    }

    #[test]
    fn rows_that_moved_are_scrolled_by_the_terminal() {
        let area = Rect::new(0, 0, 30, 12);
        const WORDS: [&str; 14] = [
            "s step a release",
            "b roll it back",
            "g the guide",
            "enter open one",
            "d drain cluster",
            "u uncordon it",
            "/ filter rows",
            "? this help",
            "q quit shopctl",
            "H halt a tier",
            "C clear a halt",
            "S silence one",
            "i the incident",
            "f freeze tiers",
        ];
        let line = |n: usize| format!("│ {:<26} │", WORDS[n]);
        let page = |from: usize| {
            let mut b = Buffer::empty(area);
            b.set_string(0, 0, "┌ Help ──────────────────────┐", Style::new());
            for y in 1..11 {
                b.set_string(0, y, line(from + y as usize), Style::new());
            }
            b.set_string(0, 11, "└────────────────────────────┘", Style::new());
            b
        };
        for (prev, next) in [(page(0), page(1)), (page(3), page(1))] {
            let changed: Vec<(u16, u16)> =
                prev.diff(&next).iter().map(|(x, y, _)| (*x, *y)).collect();
            let mut plain = Vec::new();
            encode(&next, None, &changed, &mut plain);
            let mut out = Vec::new();
            frame(Some(&prev), &next, &changed, &mut out);
            let bytes = String::from_utf8(out).expect("utf-8");
            assert!(bytes.starts_with("\x1b[2;11r"), "{bytes:?}");
            assert!(
                bytes.len() * 2 < plain.len(),
                "{} of {}",
                bytes.len(),
                plain.len()
            );
            for (want, got) in cells(&next, &screen(&prev, &bytes)) {
                assert_eq!(want, got, "{bytes:?}");
            }
        }
    }

    #[test]
    fn colours_go_out_short_and_together() {
        let area = Rect::new(0, 0, 10, 1);
        let prev = Buffer::empty(area);
        let mut next = prev.clone();
        next.set_string(
            0,
            0,
            "ok",
            Style::new()
                .fg(Color::Green)
                .bg(Color::Indexed(9))
                .add_modifier(Modifier::BOLD),
        );
        next.set_string(2, 0, "!", Style::new().fg(Color::Indexed(200)));
        let bytes = written(&prev, &next);
        assert_eq!(bytes, "\x1b[1;1H\x1b[1;32;101mok\x1b[0;38;5;200m!\x1b[0m");
    }

    #[test]
    fn a_modifier_removed_keeps_the_others() {
        let area = Rect::new(0, 0, 10, 1);
        let prev = Buffer::empty(area);
        let mut next = prev.clone();
        let both = Style::new().add_modifier(Modifier::BOLD | Modifier::DIM | Modifier::ITALIC);
        next.set_string(0, 0, "ab", both.fg(Color::Yellow));
        next.set_string(
            2,
            0,
            "c",
            Style::new()
                .add_modifier(Modifier::DIM | Modifier::ITALIC)
                .fg(Color::Yellow),
        );
        let bytes = written(&prev, &next);
        assert_eq!(bytes, "\x1b[1;1H\x1b[1;2;3;33mab\x1b[22;2mc\x1b[0m");
    }

    #[test]
    fn wide_symbols_are_never_written_half() {
        let area = Rect::new(0, 0, 12, 1);
        let mut prev = Buffer::empty(area);
        prev.set_string(0, 0, "aコbcd", Style::new());
        let mut next = prev.clone();
        next.set_string(0, 0, "x", Style::new());
        next.set_string(4, 0, "y", Style::new());
        let bytes = written(&prev, &next);
        let screen: Vec<String> = shown(&prev, &bytes)
            .into_iter()
            .map(|r| r.trim_end().to_string())
            .collect();
        assert_eq!(screen, text(&next));
    }

    /// Random frames over random frames: the terminal always ends up showing the new frame.
    #[test]
    fn any_frame_over_any_frame_shows_the_new_frame() {
        use proptest::prelude::*;
        let cell = (
            prop::sample::select(vec!["a", "b", " ", "●", "コ", "✓"]),
            0u8..4,
            any::<bool>(),
        );
        let rows = prop::collection::vec(prop::collection::vec(cell, 0..8), 3);
        proptest!(|(before in rows.clone(), after in rows)| {
            let area = Rect::new(0, 0, 16, 3);
            let paint = |rows: &Vec<Vec<(&str, u8, bool)>>| {
                let mut b = Buffer::empty(area);
                for (y, row) in rows.iter().enumerate() {
                    let mut x = 0u16;
                    for (s, c, bold) in row {
                        let mut style = Style::new().fg(Color::Indexed(*c));
                        if *bold {
                            style = style.add_modifier(Modifier::BOLD);
                        }
                        let (nx, _) = b.set_stringn(x, y as u16, *s, (16 - x) as usize, style);
                        x = nx;
                        if x >= 16 {
                            break;
                        }
                    }
                }
                b
            };
            let (prev, next) = (paint(&before), paint(&after));
            let bytes = written(&prev, &next);
            for (want, got) in cells(&next, &screen(&prev, &bytes)) {
                prop_assert_eq!(&want, &got, "{:?}", bytes);
            }

        });
    }

    /// A band of rows scrolled by any amount, with cells changed here and there: the terminal
    /// shows the new frame, scrolled or not.
    #[test]
    fn any_band_scrolled_any_way_shows_the_new_frame() {
        use proptest::prelude::*;
        let cell = (prop::sample::select(vec!["a", "b", "c", "●", "コ"]), 0u8..3);
        let screen_cells = prop::collection::vec(cell.clone(), 20 * 20);
        let edits = prop::collection::vec((0u16..20, 0u16..20, cell), 0..30);
        let scrolled = std::sync::atomic::AtomicUsize::new(0);
        proptest!(|(
            before in screen_cells,
            band in (0u16..20, 0u16..20),
            by in -9i16..10,
            edits in edits,
            blanks in prop::collection::vec((0u16..20, 0u16..20, 1usize..20), 0..4),
        )| {
            let area = Rect::new(0, 0, 20, 20);
            let mut prev = Buffer::empty(area);
            for (y, row) in before.chunks(20).enumerate() {
                let mut x = 0;
                for (s, c) in row {
                    if x >= 20 {
                        break;
                    }
                    let style = Style::new().fg(Color::Indexed(*c));
                    x = prev.set_stringn(x, y as u16, *s, (20 - x) as usize, style).0;
                }
            }
            let (top, bottom) = (band.0.min(band.1), band.0.max(band.1));
            let mut next = prev.clone();
            let w = 20usize;
            let rows = &mut next.content[top as usize * w..(bottom as usize + 1) * w];
            let k = (by.unsigned_abs() as usize).min(rows.len() / w);
            if by > 0 { rows.rotate_left(k * w) } else { rows.rotate_right(k * w) }
            for (x, y, (s, c)) in edits {
                next.set_stringn(x, y, s, (20 - x) as usize, Style::new().fg(Color::Indexed(c)));
            }
            for (x, y, len) in blanks {
                let run = " ".repeat(len);
                next.set_stringn(x, y, run, (20 - x) as usize, Style::new().fg(Color::Indexed(1)));
            }
            // A wide symbol cut by the band's edge is not a well-formed buffer: mend it as
            // ratatui's own drawing would.
            let mut mended = Buffer::empty(area);
            for y in 0..20 {
                let mut x = 0;
                while x < 20 {
                    let c = next[(x, y)].clone();
                    let width = c.symbol().width().max(1) as u16;
                    mended.set_stringn(x, y, c.symbol(), (20 - x) as usize, c.style());
                    x += width;
                }
            }
            let next = mended;
            let changed: Vec<(u16, u16)> =
                prev.diff(&next).iter().map(|(x, y, _)| (*x, *y)).collect();
            let mut out = Vec::new();
            frame(Some(&prev), &next, &changed, &mut out);
            let bytes = String::from_utf8(out).expect("utf-8");
            if bytes.contains("\x1b[r") {
                scrolled.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            for (want, got) in cells(&next, &screen(&prev, &bytes)) {
                prop_assert_eq!(&want, &got, "{:?}", bytes);
            }
        });
        let scrolled = scrolled.into_inner();
        assert!(scrolled > 20, "the terminal scrolled in {scrolled} cases");
    }
}
