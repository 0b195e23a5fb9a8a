//! The console's dialogs, one file each: each holds what the operator decides on and draws itself.

pub mod confirm;
pub mod plan;
pub mod quit;
pub mod reassign;
pub mod silence;

pub use confirm::ConfirmDialog;
pub use plan::PlanDialog;
pub use quit::QuitDialog;
pub use reassign::ReassignDialog;
pub use silence::{ExpireDialog, SilenceDialog};
