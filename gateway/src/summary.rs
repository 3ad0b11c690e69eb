//! National summary counters: decisions and worker confirmations in 1-minute buckets for 24 h,
//! rolled up into 1-hour buckets ([`crate::summary_hours`]) for 14 days.
//!
//! No per-person data: a bucket holds counts keyed by regions, colour, verdict and source only.
//! Memory is bounded by two rings: 1440 minute buckets (one per minute of a day) and 336 hour
//! buckets (one per hour of 14 days). When the clock comes round to a minute slot a day later,
//! the slot's counts are added to their hour before the slot is reused; an hour slot is reused,
//! and its counts dropped, 14 days later. Each bucket's size is bounded by the distinct keys
//! (verifying × issuing region × colour × verdict × source) seen in it, whatever the traffic.
//! Measured (`footprint`, test `memory_is_bounded_by_the_two_rings`): 125 distinct keys in every
//! one of the 1776 buckets hold 3.4 MB, about 27 KB per distinct key, and the footprint stops
//! growing once both rings have come round. Each bucket has its own mutex, held for one map
//! update, so recording costs a hash-map increment.

use std::sync::{Arc, Mutex, MutexGuard};

use huren_adapters::{Colour, RegionCode};
use huren_registry::Verdict;
use time::OffsetDateTime;

use crate::summary_hours::{Counts, HOUR_MINUTES, HourRing};

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
    /// The window counted: within the last 24 h the asked window widened to whole minutes;
    /// further back, narrowed to the whole hours inside it; cut to the 14 days kept.
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
    counts: Counts,
}

/// 24 hours of counts by minute and 14 days by hour. Share it behind an `Arc`.
pub struct SummaryStore {
    buckets: Box<[Mutex<Bucket>]>,
    hours: HourRing,
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
        SummaryStore {
            buckets,
            hours: HourRing::default(),
            clock,
        }
    }

    fn lock_slot(&self, minute: i64) -> MutexGuard<'_, Bucket> {
        let slot = minute.rem_euclid(BUCKETS as i64) as usize;
        // A panic while holding the lock cannot leave a count half-written; keep counting.
        self.buckets[slot]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Moves a bucket's counts into its hour and empties it. The move happens under the
    /// bucket's lock, so no count is rolled up twice or lost.
    fn roll_up(&self, b: &mut Bucket) {
        if b.minute != i64::MIN && !b.counts.is_empty() {
            self.hours.roll_up(b.minute, &b.counts);
        }
        b.counts.clear();
    }

    /// The bucket for `minute`, its older minute rolled up into hours first.
    fn bucket(&self, minute: i64) -> MutexGuard<'_, Bucket> {
        let mut b = self.lock_slot(minute);
        if b.minute != minute {
            self.roll_up(&mut b);
            b.minute = minute;
        }
        b
    }

    /// Rolls up every minute bucket that has left the day but whose slot no recording has
    /// reused yet (a quiet night), so a query finds its counts among the hours.
    fn roll_up_stale(&self, oldest_minute: i64) {
        for slot in &self.buckets {
            let mut b = slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if b.minute < oldest_minute && !b.counts.is_empty() {
                self.roll_up(&mut b);
            }
        }
    }

    pub fn record_decision(&self, key: DecisionKey) {
        let minute = minute_of(self.clock.now());
        *self.bucket(minute).counts.decisions.entry(key).or_default() += 1;
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
            .counts
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

    /// Counts in `[start, end)`. Within the last 24 h the window is widened to whole minutes
    /// (start rounded down, end rounded up); further back it is narrowed to the whole hours
    /// inside it, and cut to the 14 days kept. An empty or inverted window counts nothing.
    pub fn query(&self, start: OffsetDateTime, end: OffsetDateTime) -> Summary {
        let now_minute = minute_of(self.clock.now());
        let oldest = now_minute - (BUCKETS as i64 - 1);
        self.roll_up_stale(oldest);
        let window = Window::plan(start, end, now_minute);
        let mut counts = Counts::default();
        self.hours
            .sum(window.first_hour, window.last_hour_excl, &mut counts);
        for minute in window.first_minute..window.last_minute_excl {
            let b = self.lock_slot(minute);
            if b.minute == minute {
                counts.add(&b.counts);
            }
        }
        let Counts {
            decisions,
            confirmations,
        } = counts;
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
            start: window.start,
            end: window.end,
            decisions,
            confirmations,
        }
    }

    /// Bytes the counts hold now (see the module's memory bound).
    pub fn footprint(&self) -> usize {
        crate::summary_hours::footprint(&self.buckets, |b| &b.counts) + self.hours.footprint()
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

/// Which hour buckets and which minute buckets a query reads, and the window they make up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    first_hour: i64,
    last_hour_excl: i64,
    first_minute: i64,
    last_minute_excl: i64,
    start: OffsetDateTime,
    end: OffsetDateTime,
}

impl Window {
    fn plan(start: OffsetDateTime, end: OffsetDateTime, now_minute: i64) -> Self {
        let ceil = |m: i64, unit: i64| -> i64 { m.div_euclid(unit) + i64::from(m % unit != 0) };
        let oldest = now_minute - (BUCKETS as i64 - 1);
        // Minutes since the epoch, exact at the start and rounded up at the end.
        let start_minute = minute_of(start) + i64::from(minute_start(minute_of(start)) != start);
        let end_minute = {
            let m = minute_of(end);
            if minute_start(m) == end { m } else { m + 1 }
        };
        // Older than the day: whole hours inside the window, up to the hour the oldest minute
        // is in (its earlier minutes were rolled up into it, its later ones are still minutes).
        let oldest_hour =
            now_minute.div_euclid(HOUR_MINUTES) - (crate::summary_hours::HOURS as i64 - 1);
        let first_hour = ceil(start_minute, HOUR_MINUTES).max(oldest_hour);
        // That hour holds exactly the minutes before the oldest one, so a window reaching the
        // oldest minute holds it whole.
        let last_hour_excl = if end_minute >= oldest {
            oldest.div_euclid(HOUR_MINUTES) + 1
        } else {
            end_minute.div_euclid(HOUR_MINUTES)
        };
        let hours = first_hour < last_hour_excl;
        // Within the day: whole minutes around the window.
        let first_minute = minute_of(start).max(oldest);
        let last_minute_excl = end_minute.min(now_minute + 1).max(first_minute);
        let minutes = first_minute < last_minute_excl;
        let hour_start = |h: i64| minute_start(h.saturating_mul(HOUR_MINUTES));
        let window_start = if hours {
            hour_start(first_hour)
        } else {
            minute_start(first_minute)
        };
        let window_end = match (minutes, hours) {
            (true, _) => minute_start(last_minute_excl),
            // The hour the oldest minute is in ends, as far as hours go, at that minute.
            (false, true) => minute_start((last_hour_excl * HOUR_MINUTES).min(oldest)),
            (false, false) => window_start,
        };
        Self {
            first_hour,
            last_hour_excl: last_hour_excl.max(first_hour),
            first_minute,
            last_minute_excl,
            start: window_start,
            end: window_end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
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

    #[test]
    fn after_a_day_minutes_roll_up_into_hours_kept_fourteen_days() {
        let t0 = datetime!(2020-02-03 08:00 UTC);
        let clock = TestClock::at(t0);
        let store = SummaryStore::with_clock(clock.clone());
        let red = key("420000", Colour::Red, Verdict::CentralQuarantine);
        // Two decisions in each of the first three minutes of 08:00, one at 09:30.
        for m in 0..3 {
            clock.set(t0 + time::Duration::minutes(m));
            store.record_decision(red);
            store.record_decision(red);
        }
        store.record_confirmation(r("420000"), r("330000"), true);
        clock.set(t0 + time::Duration::minutes(90));
        store.record_decision(red);

        // Ten days later the minutes are gone, the hours are there: the window that covers
        // them is narrowed to whole hours and says so.
        clock.set(t0 + time::Duration::days(10));
        let since = t0 - time::Duration::minutes(30);
        let s = store.query(since, clock.now());
        assert_eq!(count(&s, red), 7);
        assert_eq!(s.confirmations.len(), 1);
        assert_eq!((s.start, s.end), (t0, clock.now()));
        let first_hour = store.query(t0, t0 + time::Duration::hours(1));
        assert_eq!(count(&first_hour, red), 6);
        assert_eq!(first_hour.end, t0 + time::Duration::hours(1));
        // Part of an hour is not an hour: nothing is counted, and the window says it is empty.
        let part = store.query(
            t0 + time::Duration::minutes(1),
            t0 + time::Duration::minutes(2),
        );
        assert_eq!(part.total_decisions(), 0);
        assert_eq!(part.start, part.end);

        // Fourteen days after, the hours are gone too.
        clock.set(t0 + time::Duration::days(14) + time::Duration::hours(2));
        let s = store.query(t0 - time::Duration::days(1), clock.now());
        assert_eq!(s.total_decisions(), 0);
        assert!(s.confirmations.is_empty());
        assert!(s.start > t0 + time::Duration::hours(1));
    }

    #[test]
    fn a_window_across_the_day_boundary_counts_each_decision_once() {
        let t0 = datetime!(2020-02-03 08:00 UTC);
        let clock = TestClock::at(t0);
        let store = SummaryStore::with_clock(clock.clone());
        let green = key("410000", Colour::Green, Verdict::Pass);
        // One decision every 10 minutes for two days.
        for i in 0..(2 * 24 * 6) {
            clock.set(t0 + time::Duration::minutes(10 * i));
            store.record_decision(green);
        }
        let now = clock.now();
        let all = store.query(t0, now + time::Duration::minutes(1));
        assert_eq!(count(&all, green), 2 * 24 * 6);
        assert_eq!(all.start, t0);
        // The last day alone, at minute resolution, and the rest by hours: they add up.
        let day = store.last_24h();
        let before = store.query(t0, day.start);
        assert_eq!(count(&day, green) + count(&before, green), 2 * 24 * 6);
        assert_eq!(before.end, day.start);
    }

    #[test]
    fn memory_is_bounded_by_the_two_rings() {
        let t0 = datetime!(2020-02-03 00:00 UTC);
        let clock = TestClock::at(t0);
        let store = SummaryStore::with_clock(clock.clone());
        let regions: Vec<RegionCode> = ["330000", "440000", "510000", "410000", "420000"]
            .map(r)
            .to_vec();
        let keys: Vec<DecisionKey> = regions
            .iter()
            .flat_map(|v| regions.iter().map(move |i| (*v, *i)))
            .flat_map(|(verifying, issuing)| {
                Colour::ALL.into_iter().map(move |colour| DecisionKey {
                    verifying,
                    issuing,
                    colour,
                    verdict: Verdict::Review,
                    source: Source::Online,
                })
            })
            .take(200)
            .collect();
        // 20 days of traffic, one minute in five, 200 distinct keys each: far more than the rings
        // hold, and the footprint must stop growing once both rings have come round.
        let mut after_fifteen_days = 0;
        for step in 0..(20 * 24 * 12) {
            clock.set(t0 + time::Duration::minutes(5 * step));
            for k in &keys {
                store.record_decision(*k);
            }
            if step == 15 * 24 * 12 {
                after_fifteen_days = store.footprint();
            }
        }
        let full = store.footprint();
        assert!(
            full <= after_fifteen_days * 11 / 10,
            "{after_fifteen_days} -> {full}"
        );
        // The stated bound: a bucket holds at most its distinct keys (see the module doc).
        let per_bucket = Counts {
            decisions: keys.iter().map(|k| (*k, 1)).collect(),
            ..Counts::default()
        }
        .footprint();
        assert!(
            full <= per_bucket * (BUCKETS + crate::summary_hours::HOURS),
            "{full}"
        );
    }
}
