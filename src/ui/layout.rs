//! Where things go on screen, as pure functions of the terminal size (used by render and by
//! update, which needs page sizes).

use ratatui::layout::{Constraint, Layout, Rect};

use super::state::PaneId;

/// Below this the console asks for a bigger terminal instead of drawing a broken layout.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

pub struct MainAreas {
    pub header: Rect,
    pub footer: Rect,
    panes: [Rect; 5],
    /// The panes side by side, row by row.
    rows: Vec<Vec<PaneId>>,
}

impl MainAreas {
    pub fn pane(&self, pane: PaneId) -> Rect {
        self.panes[usize::from(pane.number() - 1)]
    }

    /// Moves the borders between panes side by side so that a pane with room to spare (by
    /// `want`, the width it would like at about its area) gives it to a neighbour short of room.
    /// Heights never change: they decide page sizes, which key handling computes from the
    /// terminal's size alone.
    pub fn share(&mut self, mut want: impl FnMut(PaneId, Rect) -> u16) {
        // Twice: a pane that drops a column at its new width may spare what it now leaves
        // blank.
        for _ in 0..2 {
            self.share_once(&mut want);
        }
    }

    fn share_once(&mut self, want: &mut impl FnMut(PaneId, Rect) -> u16) {
        for row in &self.rows {
            let idx = |p: &PaneId| usize::from(p.number() - 1);
            let widths: Vec<u16> = row.iter().map(|p| self.panes[idx(p)].width).collect();
            let wants: Vec<u16> = row.iter().map(|p| want(*p, self.panes[idx(p)])).collect();
            let mut x = row.first().map_or(0, |p| self.panes[idx(p)].x);
            for (p, w) in row.iter().zip(share(&widths, &wants)) {
                let r = &mut self.panes[idx(p)];
                r.x = x;
                r.width = w;
                x += w;
            }
        }
    }
}

/// New widths for areas side by side (`widths`, summing to the row's width): each keeps what it
/// wants of its own, what is left is shared evenly among those wanting more (each up to its
/// want), and what nobody wants goes back to where it came from.
pub fn share(widths: &[u16], wants: &[u16]) -> Vec<u16> {
    let n = widths.len();
    let mut out: Vec<u16> = widths.iter().zip(wants).map(|(b, w)| *b.min(w)).collect();
    let mut pool: u16 = widths.iter().zip(&out).map(|(b, o)| b - o).sum();
    loop {
        let short: Vec<usize> = (0..n).filter(|&i| out[i] < wants[i]).collect();
        if short.is_empty() || pool == 0 {
            break;
        }
        let each = (pool / short.len() as u16).max(1);
        for i in short {
            let add = (wants[i] - out[i]).min(each).min(pool);
            out[i] += add;
            pool -= add;
        }
    }
    for i in 0..n {
        let back = widths[i].saturating_sub(out[i]).min(pool);
        out[i] += back;
        pool -= back;
    }
    out
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

/// The main view's areas when the Alerts pane has `alerts` rows: it is as tall as they need
/// (at least one row, at most a quarter of the screen or 12 rows); the ShopSets and Argo CD
/// panes get the rest.
pub fn main(size: Rect, alerts: usize) -> MainAreas {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(size);
    // Clusters and Tiers on top, ShopSets and Argo CD in the middle, the alerts across the
    // whole width at the bottom, where a summary is read whole. Every pane keeps at least one
    // row (border, column header, a row: 4 lines), down to the smallest terminal drawn.
    let alerts_h =
        (alerts.min(usize::from(u16::MAX - 3)) as u16 + 3).clamp(4, (body.height / 4).clamp(4, 12));
    let top_h = (if body.height >= 30 { 9 } else { 8 })
        .min(body.height.saturating_sub(alerts_h + 4))
        .max(4);
    let [top, mid, alerts] = Layout::vertical([
        Constraint::Length(top_h),
        Constraint::Fill(1),
        Constraint::Length(alerts_h),
    ])
    .areas(body);
    let [c, t] = Layout::horizontal([Constraint::Percentage(44), Constraint::Fill(1)]).areas(top);
    let [s, g] = Layout::horizontal([Constraint::Percentage(54), Constraint::Fill(1)]).areas(mid);
    let (panes, rows) = (
        [c, t, s, g, alerts],
        vec![
            vec![PaneId::Clusters, PaneId::Tiers],
            vec![PaneId::ShopSets, PaneId::Apps],
        ],
    );
    MainAreas {
        header,
        footer,
        panes,
        rows,
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
    fn room_to_spare_goes_to_the_neighbour_short_of_it() {
        // Clusters wants 30 of its 40; Tiers wants 60 of its 40: it gets the 10.
        assert_eq!(share(&[40, 40], &[30, 60]), vec![30, 50]);
        // Nobody short: nothing moves.
        assert_eq!(share(&[40, 40], &[30, 30]), vec![40, 40]);
        // Two short of room share evenly what the third spares, each up to its want.
        assert_eq!(share(&[50, 50, 50], &[20, 100, 60]), vec![20, 70, 60]);
        assert_eq!(share(&[50, 50, 50], &[20, 200, 200]), vec![20, 65, 65]);
        // Everyone short: nothing moves.
        assert_eq!(share(&[30, 30], &[50, 50]), vec![30, 30]);
        // The total never changes.
        for wants in [[0u16, 0, 0], [1, 2, 300], [300, 1, 2], [45, 45, 45]] {
            assert_eq!(share(&[56, 72, 72], &wants).iter().sum::<u16>(), 200);
        }
    }

    #[test]
    fn every_pane_keeps_a_row_at_every_size_drawn() {
        for w in (MIN_WIDTH..=300).step_by(7) {
            for h in MIN_HEIGHT..=80 {
                let areas = main(Rect::new(0, 0, w, h), usize::from(h % 20));
                for pane in PaneId::ALL {
                    let a = areas.pane(pane);
                    assert!(a.height >= 4, "{pane:?} at {w}×{h}: {a:?}");
                }
            }
        }
    }
}
