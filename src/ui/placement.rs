//! A drain or restore as the console follows it: which kind, and its live counts.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Gauge;

use super::theme::Theme;

pub use crate::ops::drain::PlanKind;

/// A drain or restore being executed, with its live counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrainRun {
    pub kind: PlanKind,
    pub cluster: String,
    pub done: usize,
    pub total: usize,
    pub cancelling: bool,
}

impl DrainRun {
    pub fn render(&self, theme: &Theme, frame: &mut Frame<'_>, area: Rect) {
        let verb = if self.kind == PlanKind::Drain {
            "draining"
        } else {
            "restoring"
        };
        let ratio = if self.total == 0 {
            1.0
        } else {
            self.done as f64 / self.total as f64
        };
        let label = format!(
            "{verb} '{}': {}/{} shops{}",
            self.cluster,
            self.done,
            self.total,
            if self.cancelling {
                " — cancelling after this batch"
            } else {
                " — x cancels after the current batch"
            }
        );
        frame.render_widget(
            Gauge::default()
                .ratio(ratio.clamp(0.0, 1.0))
                .label(label)
                .gauge_style(theme.progress()),
            area,
        );
    }
}
