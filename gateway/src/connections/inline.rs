//! hyper's executor for the calls of a connection, which answers a refused call on the
//! connection's own task instead of spawning a task for it.
//!
//! hyper hands every request's future to its executor right after calling the connection's
//! service, on the same thread (`hyper::proto::h2::server`: `service.call`, then
//! `execute_h2stream`). [`answer_here`], called by the service for a call whose answer is ready,
//! marks the next future handed over on this thread; that one is polled once in place, which
//! writes its answer into the connection, and spawned only if it is not done. Every other
//! future is spawned, as `hyper_util`'s `TokioExecutor` does.
//!
//! Polling a future once with a waker that does nothing, then spawning it, is sound: a future
//! must wake the waker of its latest poll, and the spawned task polls it again with its own.
//! So a mark that is left over can only make the next call run its first step here: never a
//! lost call or a lost wake-up.

use std::cell::Cell;
use std::pin::Pin;
use std::task::{Context, Waker};

thread_local! {
    /// Whether the next future handed to the executor on this thread has its answer ready.
    static READY: Cell<bool> = const { Cell::new(false) };
}

/// The next call's future handed to [`Executor`] on this thread is answered in place.
pub fn answer_here() {
    READY.set(true);
}

/// Spawns a connection's call futures on tokio, except one marked by [`answer_here`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Executor;

impl<F> hyper::rt::Executor<F> for Executor
where
    F: Future<Output = ()> + Send + 'static,
{
    fn execute(&self, future: F) {
        if READY.replace(false) {
            let mut future: Pin<Box<F>> = Box::pin(future);
            if future
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_ready()
            {
                return;
            }
            tokio::spawn(future);
        } else {
            tokio::spawn(future);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use hyper::rt::Executor as _;

    /// Counts its polls, on whichever thread: ready at once, or after one wake-up.
    fn counted(polls: Arc<AtomicUsize>, ready_at: usize) -> impl Future<Output = ()> + Send {
        futures::future::poll_fn(move |cx| {
            let n = polls.fetch_add(1, Ordering::SeqCst) + 1;
            if n >= ready_at {
                std::task::Poll::Ready(())
            } else {
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            }
        })
    }

    /// The polls counted once they reach `at_least`, or after half a second if they never do.
    async fn polled(polls: &AtomicUsize, at_least: usize) -> usize {
        for _ in 0..100 {
            if polls.load(Ordering::SeqCst) >= at_least {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        polls.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn a_marked_future_that_is_ready_is_done_before_execute_returns() {
        let polls = Arc::new(AtomicUsize::new(0));
        answer_here();
        Executor.execute(counted(polls.clone(), 1));
        assert_eq!(polls.load(Ordering::SeqCst), 1, "polled in place, once");
        // The mark is used up: the next future is spawned, not polled in place.
        let later = Arc::new(AtomicUsize::new(0));
        Executor.execute(counted(later.clone(), 1));
        assert_eq!(later.load(Ordering::SeqCst), 0, "spawned, not yet run");
        assert_eq!(polled(&later, 1).await, 1, "the spawned future ran");
    }

    #[tokio::test]
    async fn a_marked_future_that_is_not_ready_is_spawned_and_finishes() {
        let polls = Arc::new(AtomicUsize::new(0));
        answer_here();
        Executor.execute(counted(polls.clone(), 2));
        assert_eq!(polls.load(Ordering::SeqCst), 1, "one poll in place");
        assert_eq!(polled(&polls, 2).await, 2, "finished on its own task");
    }
}
