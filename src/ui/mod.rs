//! The interactive console: one `App` owned by the main loop, changed only in `update`,
//! drawn by a pure `render` — and only when something changed.

pub mod app;
pub mod detail;
pub mod dialogs;
pub mod encode;
pub mod guide;
pub mod keymap;
pub mod layout;
pub mod modal;
pub mod panes;
pub mod placement;
pub mod recording;
pub mod render;
pub mod runtime;
pub mod sources;
pub mod state;
pub mod symbols;
pub mod terminal;
pub mod text;
pub mod theme;
pub mod update;
pub mod wall;

pub use self::runtime::{Options, Outcome, Record, run};
