//! How long a call that finds every permit taken may wait for one before it is refused, and the
//! count of calls waiting, capped: a short wait absorbs a burst that a permit freed a moment
//! later would have served, so the node does not refuse a crowd and then idle while it backs off.
//! Bounded by the node's budget, by the caller's deadline and by how many may wait at once, so
//! overload still ends in a quick refusal, never in a queue of calls that time out.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How long a call may wait for a permit: the node's `budget`, but at most half of what its
/// caller has left (its deadline `asked` less the `lag` it already waited to start), so the call
/// itself keeps the other half. Zero: refuse at once.
pub fn patience(budget: Duration, asked: Option<Duration>, lag: Duration) -> Duration {
    match asked {
        Some(asked) => budget.min(asked.saturating_sub(lag) / 2),
        None => budget,
    }
}

/// Calls waiting for a permit now; at most `cap` at once.
#[derive(Debug)]
pub struct Waiters {
    waiting: AtomicUsize,
    cap: usize,
}

impl Waiters {
    /// Room for `cap` calls waiting at once.
    pub fn new(cap: usize) -> Self {
        Self {
            waiting: AtomicUsize::new(0),
            cap,
        }
    }

    /// A place among the waiters, or `None` when `cap` already wait: that call is refused at
    /// once, so what the node holds for waiting calls stays bounded.
    pub fn seat(&self) -> Option<Seat<'_>> {
        let before = self.waiting.fetch_add(1, Ordering::AcqRel);
        if before < self.cap {
            Some(Seat { waiters: self })
        } else {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            None
        }
    }

    /// How many wait now.
    #[cfg(test)]
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }
}

/// One call's place among the waiters; given back when dropped, whether it got a permit or not.
#[derive(Debug)]
pub struct Seat<'a> {
    waiters: &'a Waiters,
}

impl Drop for Seat<'_> {
    fn drop(&mut self) {
        self.waiters.waiting.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn a_caller_without_a_deadline_waits_the_budget() {
        assert_eq!(patience(MS(5), None, Duration::ZERO), MS(5));
        assert_eq!(patience(MS(5), None, MS(300)), MS(5));
        assert_eq!(
            patience(Duration::ZERO, None, Duration::ZERO),
            Duration::ZERO
        );
    }

    #[test]
    fn a_caller_waits_at_most_half_of_what_it_has_left() {
        // Plenty left: the budget.
        assert_eq!(patience(MS(5), Some(MS(1_000)), MS(10)), MS(5));
        // 30 ms asked, 10 already spent waiting to start: 10 ms of the 20 left.
        assert_eq!(patience(MS(50), Some(MS(30)), MS(10)), MS(10));
        // The lag counts, not just the deadline: without it this would be 15 ms.
        assert_eq!(patience(MS(50), Some(MS(30)), MS(20)), MS(5));
        // Exactly twice the budget left: the budget.
        assert_eq!(patience(MS(5), Some(MS(10)), Duration::ZERO), MS(5));
        // Nothing left: refused at once, not a wait that could only end too late.
        assert_eq!(patience(MS(5), Some(MS(10)), MS(10)), Duration::ZERO);
        assert_eq!(patience(MS(5), Some(MS(10)), MS(40)), Duration::ZERO);
    }

    #[test]
    fn waiters_are_capped_and_a_seat_is_given_back() {
        let waiters = Waiters::new(2);
        assert_eq!(waiters.waiting(), 0);
        let a = waiters.seat().expect("room for the first");
        let b = waiters.seat().expect("room for the second");
        assert_eq!(waiters.waiting(), 2);
        // Full: refused, and the refused one is not counted as waiting.
        assert!(waiters.seat().is_none());
        assert_eq!(waiters.waiting(), 2);
        drop(a);
        assert_eq!(waiters.waiting(), 1);
        let c = waiters.seat().expect("room again");
        assert_eq!(waiters.waiting(), 2);
        drop((b, c));
        assert_eq!(waiters.waiting(), 0);
    }

    #[test]
    fn no_room_means_no_waiting() {
        let waiters = Waiters::new(0);
        assert!(waiters.seat().is_none());
        assert_eq!(waiters.waiting(), 0);
    }
}
