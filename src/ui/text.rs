//! User-visible wording that appears in more than one place.

pub const READ_ONLY: &str = "read-only";
pub const READ_WRITE: &str = "read-write";
pub const READ_ONLY_HELP: &str =
    "This console is read-only: everything is visible, nothing can be changed.";

pub fn too_small(w: u16, h: u16) -> String {
    format!(
        "The terminal is {w}×{h}; shopctl needs at least {}×{}.\nEnlarge the window, or press q to quit.",
        super::layout::MIN_WIDTH,
        super::layout::MIN_HEIGHT
    )
}

/// Said when a mutating effect reaches a console without an executor.
pub const NO_EXECUTOR: &str = "read-only: nothing can be changed from this console";
