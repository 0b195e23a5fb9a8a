//! Proof that the console may write: a value only an `Executor` can vouch for.
//!
//! Every effect that changes the fleet carries a [`WriteAccess`], so a console started without an
//! executor (read-only) cannot even describe a change, let alone ask for one.

use super::Executor;

/// The right to ask the executor for a change; only obtainable from an existing executor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteAccess {
    _private: (),
}

impl WriteAccess {
    /// The write access the executor grants to the console it belongs to.
    pub fn of(_: &Executor) -> WriteAccess {
        WriteAccess { _private: () }
    }

    /// The access a replayed read-write session had, so its dialogs show as the operator saw
    /// them. A replay has no executor and runs none of the effects it produces.
    pub fn for_replay() -> WriteAccess {
        WriteAccess { _private: () }
    }
}
