//! National summary counters: decisions and worker confirmations in 1-minute buckets kept 24 h.
//!
//! No per-person data: a bucket holds counts keyed by regions, colour, verdict and source only.
//! Memory is bounded by a ring of 1440 buckets (one per minute of a day); a bucket is reused,
//! and its old counts dropped, when the clock comes round to the same slot a day later. Each
//! bucket has its own mutex, held for one map update, so recording costs a hash-map increment.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use huren_adapters::{Colour, RegionCode};
use huren_registry::Verdict;
use time::OffsetDateTime;

/// One bucket per minute of a day.
pub const BUCKETS: usize = 1440;
const BUCKET_SECS: i64 = 60;

/// Where the gateway got the status it judged (the adapters' source, as counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    Online,
    OfflineSigned,
    Cached,
    Degraded,
}

impl From<huren_adapters::Source> for Source {
    fn from(s: huren_adapters::Source) -> Self {
        match s {
            huren_adapters::Source::Online => Source::Online,
            huren_adapters::Source::OfflineSigned => Source::OfflineSigned,
            huren_adapters::Source::Cached => Source::Cached,
            huren_adapters::Source::Degraded => Source::Degraded,
        }
    }
}

/// What one decision is counted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DecisionKey {
    pub verifying: RegionCode,
    pub issuing: RegionCode,
    pub colour: Colour,
    pub verdict: Verdict,
    pub source: Source,
}

impl DecisionKey {
    /// A total order for stable output (`Verdict` has none of its own).
    fn sort_key(&self) -> (RegionCode, RegionCode, Colour, &'static str, Source) {
        (
            self.verifying,
            self.issuing,
            self.colour,
            self.verdict.as_str(),
            self.source,
        )
    }
}

/// Worker confirmations (转码互认) from a labour-exporting province to a destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Route {
    pub origin: RegionCode,
    pub destination: RegionCode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Confirmations {
    /// Workers who got a PASS and a receipt.
    pub confirmed: u64,
    /// Workers who did not.
    pub not_confirmed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRow {
    pub key: DecisionKey,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmationRow {
    pub route: Route,
    pub counts: Confirmations,
}

/// The answer to a window query: rows sorted by key, and the window actually counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The asked window widened to whole minutes and cut to the 24 h kept.
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub decisions: Vec<DecisionRow>,
    pub confirmations: Vec<ConfirmationRow>,
}

impl Summary {
    pub fn total_decisions(&self) -> u64 {
        self.decisions.iter().map(|r| r.count).sum()
    }
}

/// Where the store reads the time; tests substitute their own.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

#[derive(Default)]
struct Bucket {
    /// The minute (seconds since the epoch / 60) these counts belong to.
    minute: i64,
    decisions: HashMap<DecisionKey, u64>,
    confirmations: HashMap<Route, Confirmations>,
}

/// The last 24 hours of counts. Share it behind an `Arc`.
pub struct SummaryStore {
    buckets: Box<[Mutex<Bucket>]>,
    clock: Arc<dyn Clock>,
}

impl Default for SummaryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for SummaryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SummaryStore").finish_non_exhaustive()
    }
}

fn minute_of(t: OffsetDateTime) -> i64 {
    t.unix_timestamp().div_euclid(BUCKET_SECS)
}

fn minute_start(minute: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(minute.saturating_mul(BUCKET_SECS))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

impl SummaryStore {
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        let buckets = (0..BUCKETS)
            .map(|_| {
                Mutex::new(Bucket {
                    // No real minute maps here, so an untouched slot never matches a query.
                    minute: i64::MIN,
                    ..Bucket::default()
                })
            })
            .collect();
        SummaryStore { buckets, clock }
    }

    /// The bucket for `minute`, emptied first if it still holds the same slot a day earlier.
    fn bucket(&self, minute: i64) -> MutexGuard<'_, Bucket> {
        let slot = minute.rem_euclid(BUCKETS as i64) as usize;
        // A panic while holding the lock cannot leave a count half-written; keep counting.
        let mut b = self.buckets[slot]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if b.minute != minute {
            b.minute = minute;
            b.decisions.clear();
            b.confirmations.clear();
        }
        b
    }

    pub fn record_decision(&self, key: DecisionKey) {
        let minute = minute_of(self.clock.now());
        *self.bucket(minute).decisions.entry(key).or_default() += 1;
    }

    pub fn record_confirmation(
        &self,
        origin: RegionCode,
        destination: RegionCode,
        confirmed: bool,
    ) {
        let minute = minute_of(self.clock.now());
        let mut b = self.bucket(minute);
        let c = b
            .confirmations
            .entry(Route {
                origin,
                destination,
            })
            .or_default();
        if confirmed {
            c.confirmed += 1;
        } else {
            c.not_confirmed += 1;
        }
    }

    /// Counts in `[start, end)`, widened to whole minutes (start rounded down, end rounded up)
    /// and cut to the last 24 h. An empty or inverted window counts nothing.
    pub fn query(&self, start: OffsetDateTime, end: OffsetDateTime) -> Summary {
        let now_minute = minute_of(self.clock.now());
        let oldest = now_minute - (BUCKETS as i64 - 1);
        let first = minute_of(start).max(oldest);
        let end_minute = {
            let m = minute_of(end);
            if minute_start(m) == end { m } else { m + 1 }
        };
        let last_excl = end_minute.min(now_minute + 1);
        let mut decisions: HashMap<DecisionKey, u64> = HashMap::new();
        let mut confirmations: HashMap<Route, Confirmations> = HashMap::new();
        for minute in first..last_excl.max(first) {
            let slot = minute.rem_euclid(BUCKETS as i64) as usize;
            let b = self.buckets[slot]
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if b.minute != minute {
                continue;
            }
            for (k, n) in &b.decisions {
                *decisions.entry(*k).or_default() += n;
            }
            for (r, c) in &b.confirmations {
                let t = confirmations.entry(*r).or_default();
                t.confirmed += c.confirmed;
                t.not_confirmed += c.not_confirmed;
            }
        }
        let mut decisions: Vec<DecisionRow> = decisions
            .into_iter()
            .map(|(key, count)| DecisionRow { key, count })
            .collect();
        decisions.sort_by_key(|r| r.key.sort_key());
        let mut confirmations: Vec<ConfirmationRow> = confirmations
            .into_iter()
            .map(|(route, counts)| ConfirmationRow { route, counts })
            .collect();
        confirmations.sort_by_key(|r| r.route);
        Summary {
            start: minute_start(first),
            end: minute_start(last_excl.max(first)),
            decisions,
            confirmations,
        }
    }

    /// The whole retained day.
    pub fn last_24h(&self) -> Summary {
        let now = self.clock.now();
        self.query(
            now - time::Duration::days(1),
            now + time::Duration::minutes(1),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    struct TestClock(Mutex<OffsetDateTime>);

    impl TestClock {
        fn at(t: OffsetDateTime) -> Arc<TestClock> {
            Arc::new(TestClock(Mutex::new(t)))
        }
        fn set(&self, t: OffsetDateTime) {
            *self.0.lock().unwrap() = t;
        }
    }

    impl Clock for TestClock {
        fn now(&self) -> OffsetDateTime {
            *self.0.lock().unwrap()
        }
    }

    fn r(code: &str) -> RegionCode {
        RegionCode::parse(code).unwrap()
    }

    fn key(issuing: &str, colour: Colour, verdict: Verdict) -> DecisionKey {
        DecisionKey {
            verifying: r("330000"),
            issuing: r(issuing),
            colour,
            verdict,
            source: Source::OfflineSigned,
        }
    }

    fn count(s: &Summary, k: DecisionKey) -> u64 {
        s.decisions
            .iter()
            .find(|row| row.key == k)
            .map_or(0, |row| row.count)
    }

    #[test]
    fn counts_equal_the_decisions_recorded() {
        let clock = TestClock::at(datetime!(2020-02-17 10:00 UTC));
        let store = SummaryStore::with_clock(clock.clone());
        let issuers = ["510000", "410000", "420000"];
        let mut expected: HashMap<DecisionKey, u64> = HashMap::new();
        for i in 0..600u32 {
            clock.set(datetime!(2020-02-17 10:00 UTC) + time::Duration::seconds(i64::from(i) * 7));
            let colour = Colour::ALL[(i % 5) as usize];
            let verdict = if colour == Colour::Green {
                Verdict::Pass
            } else {
                Verdict::Review
            };
            let k = key(issuers[(i % 3) as usize], colour, verdict);
            store.record_decision(k);
            *expected.entry(k).or_default() += 1;
        }
        let s = store.last_24h();
        assert_eq!(s.total_decisions(), 600);
        assert_eq!(s.decisions.len(), expected.len());
        for (k, n) in expected {
            assert_eq!(count(&s, k), n, "{k:?}");
        }
    }

    #[test]
    fn concurrent_recording_loses_nothing() {
        let store = Arc::new(SummaryStore::new());
        let k = key("510000", Colour::Green, Verdict::Pass);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let store = store.clone();
                std::thread::spawn(move || {
                    for _ in 0..5000 {
                        store.record_decision(k);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(count(&store.last_24h(), k), 20_000);
    }

    #[test]
    fn the_window_is_half_open_on_whole_minutes() {
        let clock = TestClock::at(datetime!(2020-02-17 10:00:30 UTC));
        let store = SummaryStore::with_clock(clock.clone());
        let k = key("510000", Colour::Green, Verdict::Pass);
        store.record_decision(k); // 10:00:30
        clock.set(datetime!(2020-02-17 10:01:00 UTC));
        store.record_decision(k);
        store.record_decision(k);
        clock.set(datetime!(2020-02-17 10:02:59 UTC));
        store.record_decision(k);
        clock.set(datetime!(2020-02-17 10:05 UTC));

        let s = store.query(
            datetime!(2020-02-17 10:01 UTC),
            datetime!(2020-02-17 10:02 UTC),
        );
        assert_eq!(count(&s, k), 2, "only the 10:01 minute");
        assert_eq!(
            (s.start, s.end),
            (
                datetime!(2020-02-17 10:01 UTC),
                datetime!(2020-02-17 10:02 UTC)
            )
        );

        // A window inside a minute takes the whole minute, and says so.
        let s = store.query(
            datetime!(2020-02-17 10:00:45 UTC),
            datetime!(2020-02-17 10:00:50 UTC),
        );
        assert_eq!(count(&s, k), 1);
        assert_eq!(
            (s.start, s.end),
            (
                datetime!(2020-02-17 10:00 UTC),
                datetime!(2020-02-17 10:01 UTC)
            )
        );

        let s = store.query(
            datetime!(2020-02-17 10:00 UTC),
            datetime!(2020-02-17 10:03 UTC),
        );
        assert_eq!(count(&s, k), 4);
        let empty = store.query(
            datetime!(2020-02-17 10:03 UTC),
            datetime!(2020-02-17 10:01 UTC),
        );
        assert_eq!(empty.total_decisions(), 0);
    }

    #[test]
    fn counts_older_than_a_day_are_gone_and_do_not_leak_into_the_reused_bucket() {
        let t0 = datetime!(2020-02-17 10:00:10 UTC);
        let clock = TestClock::at(t0);
        let store = SummaryStore::with_clock(clock.clone());
        let k = key("510000", Colour::Red, Verdict::CentralQuarantine);
        for _ in 0..3 {
            store.record_decision(k);
        }
        store.record_confirmation(r("410000"), r("330000"), true);

        clock.set(t0 + time::Duration::hours(23) + time::Duration::minutes(59));
        let s = store.last_24h();
        assert_eq!(count(&s, k), 3, "still inside the day");
        assert_eq!(s.confirmations.len(), 1);

        clock.set(t0 + time::Duration::days(1));
        let s = store.last_24h();
        assert_eq!(
            count(&s, k),
            0,
            "a day later the minute is out of the window"
        );
        assert!(s.confirmations.is_empty());
        // Asking explicitly for the old minute does not bring it back.
        let s = store.query(t0, t0 + time::Duration::minutes(1));
        assert_eq!(s.total_decisions(), 0);
        assert!(s.start > t0);

        // Same ring slot, new day: only the new count.
        store.record_decision(k);
        assert_eq!(count(&store.last_24h(), k), 1);
    }

    #[test]
    fn confirmations_are_counted_by_route() {
        let store = SummaryStore::new();
        for i in 0..500 {
            store.record_confirmation(r("410000"), r("330000"), i % 10 != 0);
        }
        store.record_confirmation(r("510000"), r("330000"), true);
        let s = store.last_24h();
        assert_eq!(s.confirmations.len(), 2);
        let henan = &s.confirmations[0];
        assert_eq!(henan.route.origin, r("410000"));
        assert_eq!(
            henan.counts,
            Confirmations {
                confirmed: 450,
                not_confirmed: 50
            }
        );
    }
}
