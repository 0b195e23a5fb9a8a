//! The live stores' calls to the API server: each one bounded in time, so that an operation
//! never waits on a server that stopped answering.

use std::future::Future;
use std::time::Duration;

/// How long one store call may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `fut` to completion, or fails with a timeout error.
pub async fn bounded<T>(
    fut: impl Future<Output = Result<T, kube::Error>>,
) -> Result<T, kube::Error> {
    match tokio::time::timeout(TIMEOUT, fut).await {
        Ok(r) => r,
        Err(_) => Err(kube::Error::Service(
            format!("no answer within {} s", TIMEOUT.as_secs()).into(),
        )),
    }
}

/// A `409 Conflict` (a precondition failed, or the object exists already).
pub fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}
