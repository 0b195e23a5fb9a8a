//! The console's dialogs, one file each and each a self-contained slice: its state, what its
//! keys do to it (`on_action`, which answers an [`Outcome`]), and how it draws itself. Its keys
//! are its context's rows of the key table; `update` opens a dialog and carries out what its
//! outcome asks (close it, say something, run the confirmed change).

pub mod confirm;
pub mod decide;
pub mod plan;
pub mod quit;
pub mod reassign;
pub mod silence;

pub use confirm::ConfirmDialog;
pub use decide::DecideDialog;
pub use plan::PlanDialog;
pub use quit::QuitDialog;
pub use reassign::ReassignDialog;
pub use silence::{ExpireDialog, SilenceDialog};

use crate::domain::placement::DrainPlan;
use crate::ops::Mutation;
use crate::ops::drain::PlanKind;

/// What a key did to a dialog, for `update` to carry out.
#[derive(Debug)]
pub enum Outcome {
    /// It stays open (its own state may have changed).
    Stay,
    /// It stays open, and says why what was asked cannot be done.
    Refuse(String),
    /// It closes, saying something (and whether it is bad) when there is something to say.
    Close(Option<(String, bool)>),
    /// The operator asked to quit.
    Quit,
    /// It closes and the confirmed mutation runs; `doing` is said meanwhile. `notes`: the
    /// release guide's notes go into the audit line.
    Run {
        mutation: Mutation,
        doing: String,
        notes: bool,
    },
    /// It closes and the confirmed drain or restore runs.
    RunPlan {
        kind: PlanKind,
        cluster: String,
        drain: String,
        plan: DrainPlan,
    },
}
