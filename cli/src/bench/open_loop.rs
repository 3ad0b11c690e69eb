//! An open-loop load generator: calls start at a fixed rate whatever the answers, as a crowd of
//! independent callers would, bounded by a duration, a call budget and a cap on calls
//! outstanding; every answer is sorted by what the caller got and how fast it came. A caller
//! told to back off (`RetryInfo`) holds its calls for that long, as a well-behaved client does.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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
    /// Independent callers; call `i` is caller `i mod callers`'s.
    pub callers: usize,
    /// Whether a caller refused with a `RetryInfo` delay holds its calls for that long (those
    /// that come due meanwhile are not sent); otherwise callers ignore it.
    pub honour_retry_info: bool,
}

/// What a caller got.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The answer the call was for.
    Served,
    /// Refused for load: which code, and when it said to retry.
    Refused {
        code: Code,
        retry_after: Option<Duration>,
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
                // A RetryInfo without a delay still asks for a backoff; the client picks it.
                retry_after: status.get_details_retry_info().map(|r| {
                    r.retry_delay
                        .unwrap_or(Duration::from_millis(100))
                        .min(Duration::from_secs(10))
                }),
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
    /// Served calls answered before the offering window closed (the goodput's numerator until
    /// 2026-12-01 23:00; it leaves out calls offered near the end and served in time after it).
    pub served_in_window: u64,
    pub refused: Latencies,
    pub refused_by_code: BTreeMap<&'static str, u64>,
    pub refused_with_retry_info: u64,
    pub timed_out: u64,
    pub failed: u64,
    pub first_failure: Option<String>,
    /// Came due while the generator had `outstanding` calls open.
    pub not_sent: u64,
    /// Came due while their caller was backing off as a refusal's `RetryInfo` asked.
    pub backed_off: u64,
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
            backed_off: 0,
            window,
        }
    }

    fn record(&mut self, outcome: Outcome, took: Duration, in_window: bool) {
        match outcome {
            Outcome::Served => {
                self.served.record(took);
                self.served_in_window += u64::from(in_window);
            }
            Outcome::Refused { code, retry_after } => {
                self.refused.record(took);
                *self
                    .refused_by_code
                    .entry(crate::report::status::code_name(code))
                    .or_default() += 1;
                self.refused_with_retry_info += u64::from(retry_after.is_some());
            }
            Outcome::TimedOut => self.timed_out += 1,
            Outcome::Failed(why) => {
                self.failed += 1;
                self.first_failure.get_or_insert(why);
            }
        }
    }

    /// Calls offered in the window and answered PASS within their deadline, whenever the
    /// answer came, per second of the window: every call is offered within it, so the calls
    /// offered in its last moments count as they would in a steady stream.
    pub fn goodput(&self) -> f64 {
        self.served.count() as f64 / self.window.as_secs_f64().max(1e-9)
    }

    /// [`Tally::goodput`] counting only the answers that came before the window closed, as
    /// the figures before 2026-12-01 23:00 did.
    pub fn goodput_in_window(&self) -> f64 {
        self.served_in_window as f64 / self.window.as_secs_f64().max(1e-9)
    }

    /// Calls that came due: sent, or held back by the generator or a backing-off caller.
    pub fn offered(&self) -> u64 {
        self.sent() + self.not_sent + self.backed_off
    }

    /// Calls that went to the node.
    pub fn sent(&self) -> u64 {
        self.served.count() + self.refused.count() + self.timed_out + self.failed
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
    let callers = pace.callers.max(1);
    // Per caller: until when (µs from the start) it holds its calls.
    let holds: Arc<Vec<AtomicU64>> = Arc::new((0..callers).map(|_| AtomicU64::new(0)).collect());
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
            let caller = (i % callers as u64) as usize;
            if holds[caller].load(Ordering::Relaxed) > micros(start.elapsed()) {
                lock(&tally).backed_off += 1;
                continue;
            }
            if outstanding.load(Ordering::Relaxed) >= pace.outstanding {
                lock(&tally).not_sent += 1;
                continue;
            }
            outstanding.fetch_add(1, Ordering::Relaxed);
            let (call, tally, outstanding) = (call.clone(), tally.clone(), outstanding.clone());
            let holds = holds.clone();
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
                if let Outcome::Refused {
                    retry_after: Some(delay),
                    ..
                } = &outcome
                    && pace.honour_retry_info
                {
                    holds[caller].fetch_max(micros(start.elapsed() + *delay), Ordering::Relaxed);
                }
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

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
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
            callers: 4,
            honour_retry_info: true,
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

    #[tokio::test]
    async fn a_call_offered_in_the_window_and_served_in_time_after_it_counts() {
        let pace = Pace {
            rate: 1_000.0,
            duration: Duration::from_millis(200),
            requests: 0,
            outstanding: 1_000,
            deadline: Duration::from_secs(1),
            callers: 4,
            honour_retry_info: true,
        };
        // Every answer takes 100 ms: the calls offered in the window's last 100 ms are served
        // in time, after it closes.
        let tally = run(pace, |_| async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Outcome::Served
        })
        .await;
        let served = tally.served.count();
        assert!(served > 100, "{served}");
        assert_eq!(tally.timed_out, 0);
        assert_eq!(tally.goodput(), served as f64 / 0.2);
        assert!(
            tally.served_in_window < served,
            "{}",
            tally.served_in_window
        );
        assert!(tally.goodput_in_window() < tally.goodput());
    }

    #[tokio::test]
    async fn a_caller_told_to_back_off_holds_its_calls() {
        let pace = |honour_retry_info| Pace {
            rate: 2_000.0,
            duration: Duration::from_millis(200),
            requests: 300,
            outstanding: 1_000,
            deadline: Duration::from_millis(100),
            callers: 1,
            honour_retry_info,
        };
        let busy = || {
            let details = tonic_types::ErrorDetails::with_retry_info(Some(Duration::from_secs(5)));
            tonic::Status::with_error_details(Code::ResourceExhausted, "busy", details)
        };
        let polite = run(
            pace(true),
            move |_| async move { Outcome::from_status(&busy()) },
        )
        .await;
        assert_eq!(polite.offered(), 300);
        assert!(polite.refused_with_retry_info >= 1);
        // Every call after the first answers came due while its one caller was holding.
        assert!(polite.backed_off > 0, "none held");
        assert_eq!(polite.sent() + polite.backed_off, 300);
        let rude = run(pace(false), move |_| async move {
            Outcome::from_status(&busy())
        })
        .await;
        assert_eq!(rude.backed_off, 0);
        assert_eq!(rude.refused_with_retry_info, 300);
    }
}
