//! Every git operation of shopctl, in one place: reading the system repository's tier branches
//! and the app repository's history (`read`, the demo's and live mode's alike), live mode's cache
//! of them (`cache`), committing and pushing a tier's `base` gitlink (`gitlink`, never forced),
//! and how clones reach their remotes (`transport`: libgit2 for local paths, the `git` command
//! for network remotes). libgit2 is blocking: the async core runs these on blocking threads.

pub mod cache;
pub mod gitlink;
pub mod history;
pub mod read;
pub mod transport;
