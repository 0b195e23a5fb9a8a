//! Alertmanager silences as the executor writes them: the store a backend provides, and the
//! re-check that makes creating and expiring idempotent.

use super::OpsError;
use crate::domain::{Matcher, Silence, Ts};

/// A silence to create: who and why are required, as Alertmanager requires them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSilence {
    pub matchers: Vec<Matcher>,
    pub starts_at: Ts,
    pub ends_at: Ts,
    pub created_by: String,
    pub comment: String,
}

/// Where silences live (Alertmanager in live mode, the demo directory in the demo).
#[async_trait::async_trait]
pub trait SilenceStore: Send + Sync {
    /// Every silence, expired ones included, read now.
    async fn silences(&self) -> Result<Vec<Silence>, OpsError>;
    /// Creates a silence and returns its id.
    async fn create(&self, s: &NewSilence) -> Result<String, OpsError>;
    /// Expires the silence `id` now.
    async fn expire(&self, id: &str) -> Result<(), OpsError>;
}

/// How much earlier than asked an existing silence may end and still count as the same one
/// (a command retried a little later asks for a slightly later end).
pub const SAME_END_SLACK_SECS: i64 = 60;

/// An active silence with the same matchers that lasts (within a minute) at least until
/// `ends_at`: creating another would change nothing. (A pending one mutes nothing yet.)
pub fn covering<'a>(silences: &'a [Silence], new: &NewSilence) -> Option<&'a Silence> {
    silences
        .iter()
        .filter(|s| s.is_active() && s.starts_at <= new.starts_at)
        .find(|s| {
            s.same_matchers(&new.matchers)
                && s.ends_at.plus_secs(SAME_END_SLACK_SECS) >= new.ends_at
        })
}
