//! The national summary's older counts: one bucket per hour for 14 days, filled by rolling up
//! each minute bucket of [`crate::summary`] as it leaves the last 24 hours.
//!
//! A 14-day quarantine question ("how many red codes from Hubei did Zhejiang see since the
//! 3rd?") needs two weeks, not minute detail: 336 hour buckets keep it at a fifth of the memory
//! of the minute ring's one day.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use crate::summary::{Confirmations, DecisionKey, Route};

/// Hour buckets kept: 14 days.
pub const HOURS: usize = 14 * 24;
pub const HOUR_MINUTES: i64 = 60;

/// Counts under one time slot, minute or hour.
#[derive(Debug, Default)]
pub struct Counts {
    pub decisions: HashMap<DecisionKey, u64>,
    pub confirmations: HashMap<Route, Confirmations>,
}

impl Counts {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Counts) {
        for (k, n) in &other.decisions {
            *self.decisions.entry(*k).or_default() += n;
        }
        for (r, c) in &other.confirmations {
            let t = self.confirmations.entry(*r).or_default();
            t.confirmed += c.confirmed;
            t.not_confirmed += c.not_confirmed;
        }
    }

    pub fn clear(&mut self) {
        self.decisions.clear();
        self.confirmations.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.decisions.is_empty() && self.confirmations.is_empty()
    }

    /// Bytes the two maps hold at their current capacity: keys, values and hashbrown's one
    /// control byte per slot. What the memory bound is measured with.
    pub fn footprint(&self) -> usize {
        let slot = |key: usize, value: usize| key + value + 1;
        self.decisions.capacity()
            * slot(
                std::mem::size_of::<DecisionKey>(),
                std::mem::size_of::<u64>(),
            )
            + self.confirmations.capacity()
                * slot(
                    std::mem::size_of::<Route>(),
                    std::mem::size_of::<Confirmations>(),
                )
    }
}

struct HourBucket {
    /// Hours since the epoch; `i64::MIN` for a slot never used.
    hour: i64,
    counts: Counts,
}

/// The ring of [`HOURS`] hour buckets.
pub struct HourRing {
    buckets: Box<[Mutex<HourBucket>]>,
}

impl Default for HourRing {
    fn default() -> Self {
        let buckets = (0..HOURS)
            .map(|_| {
                Mutex::new(HourBucket {
                    hour: i64::MIN,
                    counts: Counts::default(),
                })
            })
            .collect();
        Self { buckets }
    }
}

impl HourRing {
    fn slot(&self, hour: i64) -> MutexGuard<'_, HourBucket> {
        let slot = hour.rem_euclid(HOURS as i64) as usize;
        // A panic while holding the lock cannot leave a count half-written; keep counting.
        self.buckets[slot]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a minute's counts to its hour. An hour the ring has already moved past (older than
    /// 14 days) is dropped; a newer hour in the slot replaces the one 14 days before it.
    pub fn roll_up(&self, minute: i64, counts: &Counts) {
        let hour = minute.div_euclid(HOUR_MINUTES);
        let mut b = self.slot(hour);
        if b.hour > hour {
            return;
        }
        if b.hour < hour {
            b.hour = hour;
            b.counts.clear();
        }
        b.counts.add(counts);
    }

    /// Adds the counts of the hours in `[first, last_excl)` to `into`.
    pub fn sum(&self, first: i64, last_excl: i64, into: &mut Counts) {
        for hour in first..last_excl.max(first) {
            let b = self.slot(hour);
            if b.hour == hour {
                into.add(&b.counts);
            }
        }
    }

    pub fn footprint(&self) -> usize {
        footprint(&self.buckets, |b| &b.counts)
    }
}

/// Bytes the counts of a ring of buckets hold ([`Counts::footprint`]).
pub fn footprint<B>(ring: &[Mutex<B>], counts: impl Fn(&B) -> &Counts) -> usize {
    ring.iter()
        .map(|b| counts(&b.lock().unwrap_or_else(|poisoned| poisoned.into_inner())).footprint())
        .sum()
}
