//! How long a caller refused for load is told to wait (`RetryInfo`): about the time this node
//! needs to work through the calls it has lately turned away, at the rate it lately served them,
//! never before it has caught up, bounded, and spread with jitter so a crowd refused together
//! does not come back together. A fixed delay sends every refused caller back at once and leaves
//! the node idle in between; this one grows with how far over its limit the node is.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Never less: a refusal is a message that the node is full, and an immediate retry is a second
/// refusal for both sides to pay for.
pub const MIN_RETRY: Duration = Duration::from_millis(20);
/// Never more: a checkpoint's queue cannot wait longer, and the estimate is a guess past it.
pub const MAX_RETRY: Duration = Duration::from_secs(2);
/// The span over which refused and served calls are counted: long enough to hold many calls at
/// a node's rate, short enough to follow a crowd that comes and goes.
pub const WINDOW: Duration = Duration::from_millis(250);

/// The delay for a caller refused now, given the calls `refused` and `served` over the last
/// `window`, how far `behind` the node is, and `jitter` drawn uniformly from [0, 1).
///
/// Centre: `refused ÷ (served ÷ window)`, the time to serve the refused calls at the rate the
/// node serves, but at least `behind`; bounded to [`MIN_RETRY`, `MAX_RETRY`]. The caller gets
/// 0.5–1.5× the centre, bounded again, so the returns spread over a whole centre's length.
pub fn retry_delay(
    refused: u64,
    served: u64,
    window: Duration,
    behind: Duration,
    jitter: f64,
) -> Duration {
    let (min, max) = (MIN_RETRY.as_secs_f64(), MAX_RETRY.as_secs_f64());
    // A node that served nothing lately serves at most one call a window, as far as it knows.
    let rate = served.max(1) as f64 / window.as_secs_f64().max(1e-6);
    let centre = (refused as f64 / rate)
        .max(behind.as_secs_f64())
        .clamp(min, max);
    let jitter = if jitter.is_finite() {
        jitter.clamp(0.0, 1.0)
    } else {
        0.5
    };
    Duration::from_secs_f64((centre * (0.5 + jitter)).clamp(min, max))
}

/// Calls refused and served lately, for [`retry_delay`]: the window now filling and the one
/// before it. Lock-free: every admitted call bumps one counter.
#[derive(Debug)]
pub struct Pressure {
    epoch: Instant,
    /// When the window now filling began, µs from `epoch`.
    started: AtomicU64,
    refused: AtomicU64,
    served: AtomicU64,
    last_refused: AtomicU64,
    last_served: AtomicU64,
}

impl Default for Pressure {
    fn default() -> Self {
        Self {
            epoch: Instant::now(),
            started: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            served: AtomicU64::new(0),
            last_refused: AtomicU64::new(0),
            last_served: AtomicU64::new(0),
        }
    }
}

impl Pressure {
    /// A call let through to the service.
    pub fn served(&self) {
        self.served_at(self.now());
    }

    /// [`Pressure::served`] at `now` µs from the epoch.
    fn served_at(&self, now: u64) {
        self.roll(now);
        self.served.fetch_add(1, Ordering::Relaxed);
    }

    /// A call refused for load; returns the delay to tell its caller.
    pub fn refused(&self, behind: Duration) -> Duration {
        self.refused_with(behind, rand::random::<f64>())
    }

    /// [`Pressure::refused`] with the jitter given.
    fn refused_with(&self, behind: Duration, jitter: f64) -> Duration {
        self.refused_at(self.now(), behind, jitter)
    }

    /// [`Pressure::refused_with`] at `now` µs from the epoch.
    fn refused_at(&self, now: u64, behind: Duration, jitter: f64) -> Duration {
        let span = self.roll(now);
        let refused = self.refused.fetch_add(1, Ordering::Relaxed) + 1;
        let refused = refused + self.last_refused.load(Ordering::Relaxed);
        let served = self.served.load(Ordering::Relaxed) + self.last_served.load(Ordering::Relaxed);
        retry_delay(refused, served, span, behind, jitter)
    }

    /// µs from the epoch, now.
    fn now(&self) -> u64 {
        micros(self.epoch.elapsed())
    }

    /// Starts a new window when the current one is full at `now`; returns the span the counts
    /// cover. Racing callers may each miss a count or two across a roll: the estimate is a rate.
    fn roll(&self, now: u64) -> Duration {
        let started = self.started.load(Ordering::Relaxed);
        let window = micros(WINDOW);
        let filling = now.saturating_sub(started);
        if filling < window {
            return Duration::from_micros(window + filling);
        }
        if self
            .started
            .compare_exchange(started, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            // A window that ended long ago says nothing about now.
            let fresh = filling < 2 * window;
            let (refused, served) = (
                self.refused.swap(0, Ordering::Relaxed),
                self.served.swap(0, Ordering::Relaxed),
            );
            self.last_refused
                .store(if fresh { refused } else { 0 }, Ordering::Relaxed);
            self.last_served
                .store(if fresh { served } else { 0 }, Ordering::Relaxed);
        }
        WINDOW
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MID: f64 = 0.5;
    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn the_delay_is_the_time_to_serve_the_refused_calls() {
        // 500 refused while 1,000 were served in 250 ms: 4,000 a second, so 125 ms of work.
        assert_eq!(
            retry_delay(500, 1_000, WINDOW, Duration::ZERO, MID),
            MS(125)
        );
        // Twice as far over the limit: twice as long.
        assert_eq!(
            retry_delay(1_000, 1_000, WINDOW, Duration::ZERO, MID),
            MS(250)
        );
        // Serving twice as fast: half as long.
        assert_eq!(
            retry_delay(1_000, 2_000, WINDOW, Duration::ZERO, MID),
            MS(125)
        );
        // The same counts over a longer span are a slower rate: longer.
        assert_eq!(
            retry_delay(500, 1_000, MS(500), Duration::ZERO, MID),
            MS(250)
        );
    }

    #[test]
    fn never_before_the_node_has_caught_up() {
        assert_eq!(retry_delay(1, 1_000, WINDOW, MS(300), MID), MS(300));
        // Behind less than the work waiting: the work counts.
        assert_eq!(retry_delay(1_000, 1_000, WINDOW, MS(100), MID), MS(250));
    }

    #[test]
    fn bounded_both_ways() {
        assert_eq!(
            retry_delay(1, 1_000_000, WINDOW, Duration::ZERO, MID),
            MIN_RETRY
        );
        assert_eq!(retry_delay(0, 0, WINDOW, Duration::ZERO, MID), MIN_RETRY);
        assert_eq!(
            retry_delay(u64::MAX, 0, WINDOW, Duration::ZERO, MID),
            MAX_RETRY
        );
        assert_eq!(
            retry_delay(10, 1, WINDOW, Duration::from_secs(60), 0.99),
            MAX_RETRY
        );
        // A node that served nothing counts as one call a window: 3 refused, 750 ms.
        assert_eq!(retry_delay(3, 0, WINDOW, Duration::ZERO, MID), MS(750));
        // Jitter cannot push past a bound either.
        assert_eq!(retry_delay(0, 1, WINDOW, Duration::ZERO, 0.0), MIN_RETRY);
        assert_eq!(
            retry_delay(u64::MAX, 1, WINDOW, Duration::ZERO, 0.99),
            MAX_RETRY
        );
        // An empty span does not divide by zero: it reads as a fast node.
        assert_eq!(
            retry_delay(5, 1, Duration::ZERO, Duration::ZERO, MID),
            MIN_RETRY
        );
    }

    #[test]
    fn jitter_spreads_half_to_one_and_a_half_times_the_centre() {
        let at = |j| retry_delay(1_000, 1_000, WINDOW, Duration::ZERO, j);
        assert_eq!(at(0.0), MS(125));
        assert_eq!(at(0.25), Duration::from_micros(187_500));
        assert_eq!(at(1.0), MS(375));
        // Out-of-range or broken jitter stays within the spread.
        assert_eq!(at(-3.0), MS(125));
        assert_eq!(at(7.0), MS(375));
        assert_eq!(at(f64::NAN), MS(250));
        assert_eq!(at(f64::INFINITY), MS(250));
    }

    #[test]
    fn pressure_counts_what_the_node_refused_and_served_lately() {
        let pressure = Pressure::default();
        // Nothing served yet: one refusal against one call a window (and the little of the
        // first window that has passed).
        let first = pressure.refused_with(Duration::ZERO, MID);
        assert!(first >= WINDOW && first < WINDOW + MS(20), "{first:?}");
        for _ in 0..1_000 {
            pressure.served();
        }
        // Within the first window the span is one window and the little it has filled.
        assert_eq!(pressure.refused_with(Duration::ZERO, MID), MIN_RETRY);
        for _ in 0..1_997 {
            pressure.refused_with(Duration::ZERO, MID);
        }
        // 2,000 refused against 1,000 served over a bit more than 250 ms: a bit over 500 ms.
        let crowded = pressure.refused_with(Duration::ZERO, MID);
        assert!(crowded >= MS(500) && crowded < MS(540), "{crowded:?}");
        // Behind by more than that: the lag counts.
        let behind = pressure.refused_with(Duration::from_millis(700), MID);
        assert_eq!(behind, MS(700));
    }

    #[test]
    fn the_window_before_still_counts_and_an_old_one_is_forgotten() {
        let pressure = Pressure::default();
        for _ in 0..1_000 {
            pressure.served();
            pressure.refused_with(Duration::ZERO, MID);
        }
        // One window and a bit later the counts move to the window before, and still count:
        // 1,001 refused against 1,000 served over one window.
        std::thread::sleep(WINDOW + MS(50));
        let next = pressure.refused_with(Duration::ZERO, MID);
        assert_eq!(next, Duration::from_micros(250_250));
        // More than two windows without a call: all of it is forgotten.
        std::thread::sleep(WINDOW * 2 + MS(20));
        for _ in 0..1_000 {
            pressure.served();
        }
        assert_eq!(pressure.refused_with(Duration::ZERO, MID), MIN_RETRY);
    }

    #[test]
    fn a_refusal_draws_its_jitter() {
        // Nothing served yet: one refusal against one call a window, so the centre is about a
        // window, and each caller gets 0.5-1.5 times it.
        let first = || Pressure::default().refused(Duration::ZERO);
        let delays: Vec<Duration> = (0..20).map(|_| first()).collect();
        for d in &delays {
            assert!(*d >= WINDOW / 2 && *d <= WINDOW * 3 / 2 + MS(20), "{d:?}");
        }
        assert!(
            delays.iter().any(|d| *d != delays[0]),
            "no jitter: {delays:?}"
        );
    }

    const W: u64 = 250_000;

    /// A pressure with 1,000 calls served and 1,000 refused in its first window.
    fn busy_first_window() -> Pressure {
        assert_eq!(micros(WINDOW), W);
        let pressure = Pressure::default();
        for _ in 0..1_000 {
            pressure.served_at(0);
            pressure.refused_at(0, Duration::ZERO, MID);
        }
        pressure
    }

    #[test]
    fn a_window_rolls_when_it_is_full() {
        // A microsecond before the edge: still the first window, counted over twice its span
        // less that microsecond (1,001 refused against 1,000 served over 499.999 ms).
        let pressure = busy_first_window();
        let before = pressure.refused_at(W - 1, Duration::ZERO, MID);
        assert!(before > MS(500) && before < MS(501), "{before:?}");
        // At the edge: a new window; the first still counts, over one window's span.
        let pressure = busy_first_window();
        assert_eq!(
            pressure.refused_at(W, Duration::ZERO, MID),
            Duration::from_micros(250_250)
        );
    }

    #[test]
    fn a_window_two_spans_old_is_forgotten_at_its_edge() {
        // A microsecond before two windows have passed, the first still counts.
        let pressure = busy_first_window();
        assert_eq!(
            pressure.refused_at(2 * W - 1, Duration::ZERO, MID),
            Duration::from_micros(250_250)
        );
        // At two windows it is forgotten: one refusal against one call a window.
        let pressure = busy_first_window();
        assert_eq!(pressure.refused_at(2 * W, Duration::ZERO, MID), WINDOW);
    }
}
