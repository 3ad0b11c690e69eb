//! The token bucket of lookups by ID card (and of appeals filed), one per caller (SPIFFE id):
//! `burst` calls at once, refilled at the [`Rate`]; an empty bucket says how long until the next
//! call is allowed.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Callers held before full buckets (callers who have not looked anyone up for a while) are
/// forgotten: a full bucket and a forgotten one allow the same.
const PRUNE_ABOVE: usize = 10_000;

/// How many calls one caller may make: `permits` every `window` on average, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub permits: u32,
    pub window: Duration,
    pub burst: u32,
}

impl Rate {
    /// `per_minute` a minute, `burst` at once (lookups by ID card).
    pub fn per_minute(per_minute: u32, burst: u32) -> Self {
        Self {
            permits: per_minute,
            window: Duration::from_secs(60),
            burst,
        }
    }

    /// `per_hour` an hour, `burst` at once (appeals).
    pub fn per_hour(per_hour: u32, burst: u32) -> Self {
        Self {
            permits: per_hour,
            window: Duration::from_secs(3600),
            burst,
        }
    }

    fn per_second(&self) -> f64 {
        f64::from(self.permits.max(1)) / self.window.as_secs_f64().max(1.0)
    }

    fn capacity(&self) -> f64 {
        f64::from(self.burst.max(1))
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = if self.window >= Duration::from_secs(3600) {
            "an hour"
        } else {
            "a minute"
        };
        write!(f, "{} {unit}, {} at once", self.permits, self.burst)
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Every caller's bucket.
#[derive(Debug)]
pub struct Buckets {
    rate: Rate,
    callers: Mutex<HashMap<String, Bucket>>,
}

impl Buckets {
    pub fn new(rate: Rate) -> Self {
        Self {
            rate,
            callers: Mutex::new(HashMap::new()),
        }
    }

    pub fn rate(&self) -> Rate {
        self.rate
    }

    /// Takes one lookup from `caller`'s bucket at `now`, or says how long until one is there.
    pub fn take(&self, caller: &str, now: Instant) -> Result<(), Duration> {
        let mut callers = self.callers.lock().unwrap_or_else(PoisonError::into_inner);
        if callers.len() > PRUNE_ABOVE {
            let (rate, capacity) = (self.rate.per_second(), self.rate.capacity());
            callers.retain(|_, b| refilled(b, now, rate, capacity) < capacity);
        }
        let capacity = self.rate.capacity();
        let bucket = callers.entry(caller.to_string()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let tokens = refilled(bucket, now, self.rate.per_second(), capacity);
        if tokens >= 1.0 {
            *bucket = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            return Ok(());
        }
        *bucket = Bucket { tokens, at: now };
        let wait = (1.0 - tokens) / self.rate.per_second();
        // Rounded up to the millisecond, so a caller waiting exactly that long finds a token.
        Err(Duration::from_millis((wait * 1000.0).ceil() as u64))
    }
}

impl Buckets {
    /// Takes one of `caller`'s `what` (e.g. "lookups by ID card") now, or refuses with
    /// RESOURCE_EXHAUSTED and a RetryInfo of the time until the next one.
    pub fn admit(&self, caller: &str, what: &str) -> Result<(), crate::error::Error> {
        self.take(caller, Instant::now())
            .map_err(|retry_after| crate::error::Error::RateLimited {
                message: format!(
                    "{caller} has used its {what} ({}); try again in {} ms",
                    self.rate,
                    retry_after.as_millis()
                ),
                retry_after,
            })
    }
}

/// The bucket's tokens at `now`, never above `capacity`.
fn refilled(bucket: &Bucket, now: Instant, per_second: f64, capacity: f64) -> f64 {
    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
    (bucket.tokens + elapsed * per_second).min(capacity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_hourly_rate_refills_one_permit_per_its_share_of_the_hour() {
        let buckets = Buckets::new(Rate::per_hour(60, 1));
        let t0 = Instant::now();
        assert!(buckets.take("spiffe://a", t0).is_ok());
        assert_eq!(buckets.take("spiffe://a", t0), Err(Duration::from_secs(60)));
        assert!(
            buckets
                .take("spiffe://a", t0 + Duration::from_secs(60))
                .is_ok()
        );
    }

    #[test]
    fn a_burst_empties_the_bucket_and_the_rate_refills_it() {
        let buckets = Buckets::new(Rate::per_minute(60, 2));
        let t0 = Instant::now();
        assert!(buckets.take("spiffe://a", t0).is_ok());
        assert!(buckets.take("spiffe://a", t0).is_ok());
        let wait = buckets.take("spiffe://a", t0).expect_err("empty");
        assert_eq!(wait, Duration::from_secs(1));
        // Another caller has its own bucket.
        assert!(buckets.take("spiffe://b", t0).is_ok());
        let half = t0 + Duration::from_millis(500);
        assert_eq!(
            buckets.take("spiffe://a", half),
            Err(Duration::from_millis(500))
        );
        assert!(buckets.take("spiffe://a", t0 + wait).is_ok());
        // Idle for an hour: the bucket holds its burst, not an hour's worth.
        let later = t0 + Duration::from_secs(3600);
        assert!(buckets.take("spiffe://a", later).is_ok());
        assert!(buckets.take("spiffe://a", later).is_ok());
        assert!(buckets.take("spiffe://a", later).is_err());
    }
}
