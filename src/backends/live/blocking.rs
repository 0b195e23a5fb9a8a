//! The live stores run under the synchronous executor (a headless command's main thread, or a
//! console's blocking threads). Their requests run on one runtime per session with a thread of
//! its own, shared by every store: a client made on it keeps working between calls (its
//! connection tasks run on that thread), so one client per kubeconfig context serves every
//! store, and an exec credential plugin runs once for all of them. Every call has a timeout, and
//! the runtime is let go without blocking when the last store drops it — which may happen while
//! an async runtime is winding down.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How long one store call may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A handle on the stores' runtime; clones share it.
#[derive(Clone)]
pub struct BlockingRuntime(Arc<Shared>);

struct Shared(Option<tokio::runtime::Runtime>);

impl BlockingRuntime {
    pub fn new() -> std::io::Result<BlockingRuntime> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("shopctl-store")
            .enable_all()
            .build()
            .map(|rt| BlockingRuntime(Arc::new(Shared(Some(rt)))))
    }

    /// Runs `fut` to completion, or fails with a timeout error.
    pub fn call<T>(
        &self,
        fut: impl Future<Output = Result<T, kube::Error>>,
    ) -> Result<T, kube::Error> {
        let Some(rt) = &self.0.0 else {
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
        self.0.0.as_ref().map(|rt| rt.block_on(fut))
    }

    /// Runs `fut` on the runtime's own thread, in the background; `None` once shut down.
    pub fn spawn(
        &self,
        fut: impl Future<Output = ()> + Send + 'static,
    ) -> Option<tokio::task::JoinHandle<()>> {
        self.0.0.as_ref().map(|rt| rt.spawn(fut))
    }

    /// A client for `config`, made on this runtime so that it can be shared by its stores.
    pub fn client(&self, config: kube::Config) -> Result<kube::Client, String> {
        self.run(async { super::kubeconfig::client(config) })
            .ok_or_else(|| "the store was shut down".to_string())?
            .map_err(|e| super::errors::say(&e))
    }
}

impl Drop for Shared {
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
