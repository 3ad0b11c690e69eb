//! The latency fault's clock: how long the service held each answer after its request arrived,
//! so a benchmark can print the latency the service really added beside the nominal one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What the latency fault added to the answers recorded since the last [`AddedLatency::take`]:
/// from the request's arrival at its handler until its answer was released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddedSummary {
    pub answers: u64,
    pub min: Duration,
    pub mean: Duration,
    pub max: Duration,
}

/// Running totals, lock-free: every held answer records itself.
#[derive(Debug)]
pub struct AddedLatency {
    answers: AtomicU64,
    sum_ns: AtomicU64,
    min_ns: AtomicU64,
    max_ns: AtomicU64,
}

impl Default for AddedLatency {
    fn default() -> Self {
        Self {
            answers: AtomicU64::new(0),
            sum_ns: AtomicU64::new(0),
            min_ns: AtomicU64::new(u64::MAX),
            max_ns: AtomicU64::new(0),
        }
    }
}

impl AddedLatency {
    /// Records one answer that arrived at `arrived` and is released now.
    pub fn record_since(&self, arrived: Instant) {
        self.record(arrived.elapsed());
    }

    pub fn record(&self, held: Duration) {
        let ns = u64::try_from(held.as_nanos()).unwrap_or(u64::MAX);
        self.answers.fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
        self.min_ns.fetch_min(ns, Ordering::Relaxed);
        self.max_ns.fetch_max(ns, Ordering::Relaxed);
    }

    /// The summary since the last call, and a fresh start; `None` when nothing was held.
    pub fn take(&self) -> Option<AddedSummary> {
        summarise(
            self.answers.swap(0, Ordering::Relaxed),
            self.sum_ns.swap(0, Ordering::Relaxed),
            self.min_ns.swap(u64::MAX, Ordering::Relaxed),
            self.max_ns.swap(0, Ordering::Relaxed),
        )
    }
}

/// The summary of `answers` holds totalling `sum_ns`, the shortest `min_ns` and the longest
/// `max_ns`; `None` for no answers.
fn summarise(answers: u64, sum_ns: u64, min_ns: u64, max_ns: u64) -> Option<AddedSummary> {
    if answers == 0 {
        return None;
    }
    Some(AddedSummary {
        answers,
        min: Duration::from_nanos(min_ns),
        mean: Duration::from_nanos(sum_ns / answers),
        max: Duration::from_nanos(max_ns),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_held_summarises_to_none() {
        assert_eq!(AddedLatency::default().take(), None);
        assert_eq!(summarise(0, 0, u64::MAX, 0), None);
    }

    #[test]
    fn the_summary_has_the_shortest_the_mean_and_the_longest_hold() {
        let added = AddedLatency::default();
        for ms in [21, 20, 25] {
            added.record(Duration::from_millis(ms));
        }
        assert_eq!(
            added.take(),
            Some(AddedSummary {
                answers: 3,
                min: Duration::from_millis(20),
                mean: Duration::from_millis(22),
                max: Duration::from_millis(25),
            })
        );
    }

    #[test]
    fn taking_starts_afresh() {
        let added = AddedLatency::default();
        added.record(Duration::from_millis(30));
        assert!(added.take().is_some());
        added.record(Duration::from_millis(20));
        let again = added.take().unwrap();
        assert_eq!(
            (again.answers, again.min, again.max),
            (1, again.mean, again.mean)
        );
        assert_eq!(again.mean, Duration::from_millis(20));
    }
}
