//! How far behind the node is: a probe task asks to wake every few milliseconds, and the time
//! it is overdue is the lag. Every call's task waits for a CPU in the same run queue as the
//! probe, so while the probe is overdue by X, a call starting now has been queued about that
//! long: the queue that forms in front of the permit count, which a count cannot see.
//!
//! Only the probe's current overdue time counts, never a past one: once the node catches up the
//! lag reads zero again at once, so a single long stall does not shed calls after it is over.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often the probe asks to wake: small against any budget, and a negligible cost.
const TICK: Duration = Duration::from_millis(5);

/// A handle on the probe; the probe stops once every handle is dropped.
#[derive(Debug, Clone)]
pub struct Lag {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    epoch: Instant,
    /// When the probe should next run, µs from `epoch`.
    due: AtomicU64,
}

impl Lag {
    /// Starts the probe on the current tokio runtime; outside one the lag always reads zero.
    pub fn start() -> Self {
        let epoch = Instant::now();
        let shared = Arc::new(Shared {
            epoch,
            due: AtomicU64::new(u64::MAX),
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let probe = Arc::downgrade(&shared);
            runtime.spawn(async move {
                loop {
                    let due = Instant::now() + TICK;
                    match probe.upgrade() {
                        Some(shared) => shared.due.store(micros(due - epoch), Ordering::Relaxed),
                        None => break,
                    }
                    tokio::time::sleep_until(due.into()).await;
                }
            });
        }
        Self { shared }
    }

    /// How long the probe is overdue now; zero while it is on time.
    pub fn now(&self) -> Duration {
        let now = micros(Instant::now().saturating_duration_since(self.shared.epoch));
        let due = self.shared.due.load(Ordering::Relaxed);
        Duration::from_micros(now.saturating_sub(due))
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_free_node_has_no_lag_and_a_stalled_one_does_until_it_catches_up() {
        let lag = Lag::start();
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(lag.now() < Duration::from_millis(50), "{:?}", lag.now());
        // This test's only thread is held: the probe cannot run, and is overdue.
        std::thread::sleep(Duration::from_millis(200));
        assert!(lag.now() >= Duration::from_millis(150), "{:?}", lag.now());
        // Once the thread is free again the probe runs and the lag is gone.
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(lag.now() < Duration::from_millis(150), "{:?}", lag.now());
    }

    #[test]
    fn outside_a_runtime_the_lag_is_zero() {
        assert_eq!(Lag::start().now(), Duration::ZERO);
    }
}
