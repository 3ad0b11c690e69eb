//! The load generator's own runtime: one thread, one current-thread tokio runtime, so the
//! generator's calls, timers and connection drivers never hop between threads (no work-stealing
//! wake-ups) and stay apart from the parent's samplers, whose work is not the generator's.

use std::future::Future;
use std::thread::JoinHandle;

use anyhow::Context as _;
use tokio::sync::oneshot;

/// The generator's thread name, as `/proc` shows it.
pub const GENERATOR_THREAD: &str = "huren-gen";

/// A running generator runtime; it stops when dropped.
pub struct Generator {
    handle: tokio::runtime::Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Generator {
    pub fn start() -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the generator's runtime")?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(GENERATOR_THREAD.to_string())
            .spawn(move || {
                let _ = runtime.block_on(stopped);
            })
            .context("cannot start the generator's thread")?;
        Ok(Self {
            handle,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Runs `work` on the generator's runtime and waits for it from the caller's.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = T> + Send + 'static,
    ) -> anyhow::Result<T> {
        self.handle
            .spawn(work)
            .await
            .context("the generator's task failed")
    }
}

impl Drop for Generator {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
