//! Where things go on screen, as pure functions of the terminal size (used by render and by
//! update, which needs page sizes).

use ratatui::layout::{Constraint, Layout, Rect};

use super::state::PaneId;

/// Below this the console asks for a bigger terminal instead of drawing a broken layout.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;
/// From this size up, three panes share the top row.
const WIDE_WIDTH: u16 = 160;
const WIDE_HEIGHT: u16 = 34;

pub struct MainAreas {
    pub header: Rect,
    pub footer: Rect,
    panes: [Rect; 5],
}

impl MainAreas {
    pub fn pane(&self, pane: PaneId) -> Rect {
        self.panes[usize::from(pane.number() - 1)]
    }
}

pub fn too_small(size: Rect) -> bool {
    size.width < MIN_WIDTH || size.height < MIN_HEIGHT
}

/// The area between header and footer.
pub fn body(size: Rect) -> Rect {
    let [_, body, _] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(size);
    body
}

pub fn main(size: Rect) -> MainAreas {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(size);
    let panes = if size.width >= WIDE_WIDTH && size.height >= WIDE_HEIGHT {
        let top_h = (body.height / 3).clamp(9, 14);
        let [top, bottom] =
            Layout::vertical([Constraint::Length(top_h), Constraint::Fill(1)]).areas(body);
        let [c, t, a] = Layout::horizontal([
            Constraint::Percentage(28),
            Constraint::Percentage(36),
            Constraint::Fill(1),
        ])
        .areas(top);
        let [s, g] =
            Layout::horizontal([Constraint::Percentage(52), Constraint::Fill(1)]).areas(bottom);
        [c, t, s, g, a]
    } else {
        // Every pane keeps at least one row (border, column header, a row: 4 lines), down to
        // the smallest terminal drawn.
        let alerts_h = (body.height / 4).clamp(4, 12);
        let top_h = (if body.height >= 30 { 9 } else { 8 })
            .min(body.height.saturating_sub(alerts_h + 4))
            .max(4);
        let [top, mid, alerts] = Layout::vertical([
            Constraint::Length(top_h),
            Constraint::Fill(1),
            Constraint::Length(alerts_h),
        ])
        .areas(body);
        let [c, t] =
            Layout::horizontal([Constraint::Percentage(44), Constraint::Fill(1)]).areas(top);
        let [s, g] =
            Layout::horizontal([Constraint::Percentage(54), Constraint::Fill(1)]).areas(mid);
        [c, t, s, g, alerts]
    };
    MainAreas {
        header,
        footer,
        panes,
    }
}

/// A `w`×`h` area in the middle of `size`, for dialogs.
pub fn centered(size: Rect, w: u16, h: u16) -> Rect {
    let [area] = Layout::vertical([Constraint::Length(h)])
        .flex(ratatui::layout::Flex::Center)
        .areas(size);
    let [area] = Layout::horizontal([Constraint::Length(w)])
        .flex(ratatui::layout::Flex::Center)
        .areas(area);
    area
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pane_keeps_a_row_at_every_size_drawn() {
        for w in (MIN_WIDTH..=300).step_by(7) {
            for h in MIN_HEIGHT..=80 {
                let areas = main(Rect::new(0, 0, w, h));
                for pane in PaneId::ALL {
                    let a = areas.pane(pane);
                    assert!(a.height >= 4, "{pane:?} at {w}×{h}: {a:?}");
                }
            }
        }
    }
}
