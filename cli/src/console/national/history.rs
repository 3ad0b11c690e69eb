//! Decisions per minute over the last hour, kept by the console: the national summary counts a
//! window as one total, so a time series is the summaries of one-minute windows, side by side.
//!
//! Bounded: at most [`MINUTES`] minutes, each a handful of counters (five verdicts, five
//! colours), a few kilobytes in all; an older minute is dropped when a new one comes in.

use std::collections::BTreeMap;

use huren_proto::v1::GetNationalSummaryResponse;

use crate::report::names;

/// How many one-minute samples the console keeps: the chart's hour.
pub const MINUTES: i64 = 60;

/// One minute's decisions, by verdict and by colour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Minute {
    pub by_verdict: BTreeMap<&'static str, u64>,
    pub by_colour: BTreeMap<&'static str, u64>,
}

impl Minute {
    /// Sums a one-minute summary's rows by verdict and by colour.
    pub fn of_summary(summary: &GetNationalSummaryResponse) -> Self {
        let mut minute = Self::default();
        for row in &summary.verifications {
            *minute
                .by_verdict
                .entry(names::verdict(row.verdict))
                .or_default() += row.count;
            *minute
                .by_colour
                .entry(names::colour(row.colour))
                .or_default() += row.count;
        }
        minute
    }
}

/// Minutes since the Unix epoch → that minute's counts; at most [`MINUTES`] entries.
#[derive(Debug, Clone, Default)]
pub struct History {
    minutes: BTreeMap<i64, Minute>,
}

impl History {
    /// Stores `minute`'s counts (replacing what an earlier poll saw of it, which may have been
    /// a minute still being counted) and forgets minutes that fell out of the last hour.
    pub fn record(&mut self, minute: i64, counts: Minute) {
        self.minutes.insert(minute, counts);
        let newest = self.minutes.keys().next_back().copied().unwrap_or(minute);
        self.minutes.retain(|m, _| newest - m < MINUTES);
    }

    pub fn has(&self, minute: i64) -> bool {
        self.minutes.contains_key(&minute)
    }

    /// (minutes before `now_minute`, count) per minute for one verdict or colour, oldest
    /// first, with 0 for minutes that had no decision of that kind.
    pub fn series(
        &self,
        now_minute: i64,
        pick: impl Fn(&Minute) -> Option<u64>,
    ) -> Vec<(i64, u64)> {
        (now_minute - MINUTES + 1..=now_minute)
            .map(|m| {
                let n = self.minutes.get(&m).and_then(&pick).unwrap_or(0);
                (m - now_minute, n)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passes(n: u64) -> Minute {
        Minute {
            by_verdict: [("PASS", n)].into(),
            by_colour: [("GREEN", n)].into(),
        }
    }

    #[test]
    fn keeps_the_last_hour_and_the_latest_count_of_a_minute() {
        let mut h = History::default();
        for m in 0..200 {
            h.record(m, passes(1));
        }
        assert_eq!(h.minutes.len(), MINUTES as usize);
        assert!(!h.has(139) && h.has(140));
        h.record(199, passes(7));
        let series = h.series(199, |m| m.by_verdict.get("PASS").copied());
        assert_eq!(series.len(), MINUTES as usize);
        assert_eq!(series.first(), Some(&(-59, 1)));
        assert_eq!(series.last(), Some(&(0, 7)));
        assert!(
            h.series(199, |m| m.by_verdict.get("REJECT").copied())
                .iter()
                .all(|p| p.1 == 0)
        );
    }
}
