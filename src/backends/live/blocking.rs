//! The live stores run under the synchronous executor (a headless command's main thread, or a
//! console's blocking threads). Each drives its Kubernetes client on a small runtime of its own,
//! with a timeout on every call, and lets that runtime go without blocking when it is dropped —
//! which may happen while an async runtime is winding down.

use std::future::Future;
use std::time::Duration;

/// How long one store call may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

pub struct BlockingRuntime(Option<tokio::runtime::Runtime>);

impl BlockingRuntime {
    pub fn new() -> std::io::Result<BlockingRuntime> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| BlockingRuntime(Some(rt)))
    }

    /// Runs `fut` to completion, or fails with a timeout error.
    pub fn call<T>(
        &self,
        fut: impl Future<Output = Result<T, kube::Error>>,
    ) -> Result<T, kube::Error> {
        let Some(rt) = &self.0 else {
            return Err(kube::Error::Service("the store was shut down".into()));
        };
        rt.block_on(async {
            match tokio::time::timeout(TIMEOUT, fut).await {
                Ok(r) => r,
                Err(_) => Err(kube::Error::Service(
                    format!("no answer within {} s", TIMEOUT.as_secs()).into(),
                )),
            }
        })
    }

    /// Runs a setup future (making a client) to completion.
    pub fn run<T>(&self, fut: impl Future<Output = T>) -> Option<T> {
        self.0.as_ref().map(|rt| rt.block_on(fut))
    }
}

impl Drop for BlockingRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// A `409 Conflict` (a precondition failed, or the object exists already).
pub fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}
