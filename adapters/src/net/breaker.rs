//! A circuit breaker per region: after repeated failures the region is not asked for a while,
//! then one probe decides whether it is back. Pure state over injected instants.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failed lookups that open the circuit.
    pub failure_threshold: u32,
    /// How long an open circuit refuses calls before letting one probe through.
    pub open_for: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_for: Duration::from_secs(5),
        }
    }
}

/// A region's status service as health reporting sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Health {
    /// Answering.
    Healthy,
    /// Recent failures, or a probe after an outage is under way.
    Degraded,
    /// The circuit is open: lookups degrade at once without asking the region.
    Down,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe is out since `since`; if it never reports (its caller gave up), another may go
    /// after `open_for`.
    HalfOpen {
        since: Instant,
    },
}

/// Whether a call may go to the region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Allowed,
    /// The one call that tests a region that was down.
    Probe,
    Refused,
}

#[derive(Debug)]
pub struct Breaker {
    config: BreakerConfig,
    state: Mutex<State>,
}

impl Breaker {
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn state(&self) -> State {
        *self.lock()
    }

    pub fn admit(&self, now: Instant) -> Admission {
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => Admission::Allowed,
            State::Open { until } if now < until => Admission::Refused,
            State::HalfOpen { since } if now < since + self.config.open_for => Admission::Refused,
            State::Open { .. } | State::HalfOpen { .. } => {
                *state = State::HalfOpen { since: now };
                Admission::Probe
            }
        }
    }

    /// Records the outcome of an admitted call.
    pub fn record(&self, success: bool, now: Instant) {
        let mut state = self.lock();
        *state = match (*state, success) {
            (_, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false) => {
                let failures = failures.saturating_add(1);
                if failures >= self.config.failure_threshold {
                    State::Open {
                        until: now + self.config.open_for,
                    }
                } else {
                    State::Closed { failures }
                }
            }
            (State::HalfOpen { .. }, false) | (State::Open { .. }, false) => State::Open {
                until: now + self.config.open_for,
            },
        };
    }

    pub fn health(&self) -> Health {
        match *self.lock() {
            State::Closed { failures: 0 } => Health::Healthy,
            State::Closed { .. } | State::HalfOpen { .. } => Health::Degraded,
            State::Open { .. } => Health::Down,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(BreakerConfig {
            failure_threshold: 3,
            open_for: Duration::from_secs(10),
        })
    }

    #[test]
    fn opens_after_the_threshold_and_refuses_until_it_cools_down() {
        let b = breaker();
        let t0 = Instant::now();
        for _ in 0..2 {
            assert_eq!(b.admit(t0), Admission::Allowed);
            b.record(false, t0);
        }
        assert_eq!(b.health(), Health::Degraded);
        b.record(false, t0);
        assert_eq!(b.health(), Health::Down);
        assert_eq!(b.admit(t0 + Duration::from_secs(9)), Admission::Refused);
        assert_eq!(b.admit(t0 + Duration::from_secs(10)), Admission::Probe);
        // Only one probe at a time.
        assert_eq!(b.admit(t0 + Duration::from_secs(10)), Admission::Refused);
    }

    #[test]
    fn a_good_probe_closes_and_a_bad_one_reopens() {
        let b = breaker();
        let t0 = Instant::now();
        for _ in 0..3 {
            b.record(false, t0);
        }
        let t1 = t0 + Duration::from_secs(11);
        assert_eq!(b.admit(t1), Admission::Probe);
        b.record(false, t1);
        assert_eq!(
            b.state(),
            State::Open {
                until: t1 + Duration::from_secs(10)
            }
        );
        let t2 = t1 + Duration::from_secs(10);
        assert_eq!(b.admit(t2), Admission::Probe);
        b.record(true, t2);
        assert_eq!(b.health(), Health::Healthy);
        assert_eq!(b.admit(t2), Admission::Allowed);
    }

    #[test]
    fn a_probe_that_never_reports_does_not_wedge_the_circuit() {
        let b = breaker();
        let t0 = Instant::now();
        for _ in 0..3 {
            b.record(false, t0);
        }
        let t1 = t0 + Duration::from_secs(10);
        assert_eq!(b.admit(t1), Admission::Probe);
        assert_eq!(b.admit(t1 + Duration::from_secs(10)), Admission::Probe);
    }

    #[test]
    fn a_success_resets_the_failure_count() {
        let b = breaker();
        let t0 = Instant::now();
        b.record(false, t0);
        b.record(false, t0);
        b.record(true, t0);
        b.record(false, t0);
        b.record(false, t0);
        assert_eq!(
            b.health(),
            Health::Degraded,
            "two failures since the success, not four"
        );
    }
}
