//! An open-loop load generator: calls start at a fixed rate whatever the answers, as a crowd of
//! independent callers would, bounded by a duration, a call budget and a cap on calls
//! outstanding; every answer is sorted by what the caller got and how fast it came.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tonic::Code;
use tonic_types::StatusExt;

/// How calls are offered.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Calls started per second.
    pub rate: f64,
    pub duration: Duration,
    /// Calls offered in all, if that comes first (0: no budget).
    pub requests: u64,
    /// Calls the generator keeps outstanding at most; past it a due call is counted as not
    /// sent, so the generator's own memory stays bounded.
    pub outstanding: usize,
    /// The caller's deadline; an answer later than it counts as timed out.
    pub deadline: Duration,
}

/// What a caller got.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The answer the call was for.
    Served,
    /// Refused for load: which code, and whether it said when to retry.
    Refused {
        code: Code,
        retry_info: bool,
    },
    TimedOut,
    Failed(String),
}

impl Outcome {
    /// Sorts a failed call's status.
    pub fn from_status(status: &tonic::Status) -> Self {
        match status.code() {
            code @ (Code::ResourceExhausted | Code::Unavailable) => Outcome::Refused {
                code,
                retry_info: status.get_details_retry_info().is_some(),
            },
            Code::DeadlineExceeded | Code::Cancelled => Outcome::TimedOut,
            _ => Outcome::Failed(crate::report::describe(status)),
        }
    }
}

/// Latencies of one kind of outcome, µs.
pub struct Latencies {
    histogram: Option<Histogram<u64>>,
}

impl Latencies {
    fn new() -> Self {
        Self {
            histogram: Histogram::new_with_bounds(1, 60_000_000, 3).ok(),
        }
    }

    fn record(&mut self, d: Duration) {
        if let Some(h) = self.histogram.as_mut() {
            let _ = h.record(d.as_micros().clamp(1, 60_000_000) as u64);
        }
    }

    pub fn count(&self) -> u64 {
        self.histogram.as_ref().map_or(0, Histogram::len)
    }

    pub fn quantile(&self, q: f64) -> Duration {
        Duration::from_micros(
            self.histogram
                .as_ref()
                .map_or(0, |h| h.value_at_quantile(q)),
        )
    }
}

/// Everything one run saw.
pub struct Tally {
    pub served: Latencies,
    /// Served calls answered before the offering window closed: the goodput's numerator.
    pub served_in_window: u64,
    pub refused: Latencies,
    pub refused_by_code: BTreeMap<&'static str, u64>,
    pub refused_with_retry_info: u64,
    pub timed_out: u64,
    pub failed: u64,
    pub first_failure: Option<String>,
    pub not_sent: u64,
    pub window: Duration,
}

impl Tally {
    fn new(window: Duration) -> Self {
        Self {
            served: Latencies::new(),
            served_in_window: 0,
            refused: Latencies::new(),
            refused_by_code: BTreeMap::new(),
            refused_with_retry_info: 0,
            timed_out: 0,
            failed: 0,
            first_failure: None,
            not_sent: 0,
            window,
        }
    }

    fn record(&mut self, outcome: Outcome, took: Duration, in_window: bool) {
        match outcome {
            Outcome::Served => {
                self.served.record(took);
                self.served_in_window += u64::from(in_window);
            }
            Outcome::Refused { code, retry_info } => {
                self.refused.record(took);
                *self
                    .refused_by_code
                    .entry(crate::report::status::code_name(code))
                    .or_default() += 1;
                self.refused_with_retry_info += u64::from(retry_info);
            }
            Outcome::TimedOut => self.timed_out += 1,
            Outcome::Failed(why) => {
                self.failed += 1;
                self.first_failure.get_or_insert(why);
            }
        }
    }

    /// Calls served per second of the offering window.
    pub fn goodput(&self) -> f64 {
        self.served_in_window as f64 / self.window.as_secs_f64().max(1e-9)
    }

    pub fn offered(&self) -> u64 {
        self.served.count() + self.refused.count() + self.timed_out + self.failed + self.not_sent
    }
}

/// Offers `call(i)` at `pace` and waits for every answer (at most one deadline past the window).
pub async fn run<F, Fut>(pace: Pace, call: F) -> Tally
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    let call = Arc::new(call);
    let tally = Arc::new(Mutex::new(Tally::new(pace.duration)));
    let outstanding = Arc::new(AtomicUsize::new(0));
    let guard = pace.deadline + Duration::from_millis(500);
    let start = Instant::now();
    let end = start + pace.duration;
    let mut offered = 0u64;
    while Instant::now() < end && (pace.requests == 0 || offered < pace.requests) {
        let mut due = (start.elapsed().as_secs_f64() * pace.rate) as u64;
        if pace.requests > 0 {
            due = due.min(pace.requests);
        }
        for i in offered..due {
            if outstanding.load(Ordering::Relaxed) >= pace.outstanding {
                lock(&tally).not_sent += 1;
                continue;
            }
            outstanding.fetch_add(1, Ordering::Relaxed);
            let (call, tally, outstanding) = (call.clone(), tally.clone(), outstanding.clone());
            tokio::spawn(async move {
                let t = Instant::now();
                let outcome = tokio::time::timeout(guard, call(i))
                    .await
                    .unwrap_or(Outcome::TimedOut);
                let took = t.elapsed();
                // An answer after the caller's deadline is no use to the caller.
                let outcome = match outcome {
                    Outcome::Served if took > pace.deadline => Outcome::TimedOut,
                    other => other,
                };
                lock(&tally).record(outcome, took, Instant::now() <= end);
                outstanding.fetch_sub(1, Ordering::Relaxed);
            });
        }
        offered = offered.max(due);
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let drained_by = Instant::now() + guard + Duration::from_millis(500);
    while outstanding.load(Ordering::Relaxed) > 0 && Instant::now() < drained_by {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut tally = lock(&tally);
    std::mem::replace(&mut *tally, Tally::new(pace.duration))
}

fn lock(tally: &Mutex<Tally>) -> std::sync::MutexGuard<'_, Tally> {
    tally.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn offers_at_the_pace_and_sorts_the_answers() {
        let pace = Pace {
            rate: 2_000.0,
            duration: Duration::from_millis(200),
            requests: 300,
            outstanding: 1_000,
            deadline: Duration::from_millis(100),
        };
        let tally = run(pace, |i| async move {
            match i % 3 {
                0 => Outcome::Served,
                1 => Outcome::from_status(&tonic::Status::resource_exhausted("busy")),
                _ => Outcome::from_status(&tonic::Status::internal("broken")),
            }
        })
        .await;
        assert_eq!(tally.offered(), 300);
        assert_eq!(tally.served.count(), 100);
        assert_eq!(tally.refused_by_code.get("RESOURCE_EXHAUSTED"), Some(&100));
        assert_eq!(tally.refused_with_retry_info, 0);
        assert_eq!(tally.failed, 100);
        assert!(tally.first_failure.is_some_and(|f| f.contains("broken")));
    }
}
