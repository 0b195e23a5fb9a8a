//! The interactive console: one `App` owned by the main loop, changed only in `update`,
//! drawn by a pure `render` — and only when something changed.

pub mod app;
pub mod detail;
pub mod keymap;
pub mod layout;
pub mod panes;
pub mod placement;
pub mod release;
pub mod render;
pub mod runtime;
pub mod symbols;
pub mod terminal;
pub mod text;
pub mod theme;

pub use self::runtime::{Outcome, run};
