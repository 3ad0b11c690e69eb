//! The token bucket of lookups by ID card, one per caller (SPIFFE id): `burst` lookups at once,
//! refilled at `per_minute`; an empty bucket says how long until the next lookup is allowed.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Callers held before full buckets (callers who have not looked anyone up for a while) are
/// forgotten: a full bucket and a forgotten one allow the same.
const PRUNE_ABOVE: usize = 10_000;

/// How many lookups one caller may make: `per_minute` on average, `burst` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_minute: u32,
    pub burst: u32,
}

impl Rate {
    fn per_second(&self) -> f64 {
        f64::from(self.per_minute.max(1)) / 60.0
    }

    fn capacity(&self) -> f64 {
        f64::from(self.burst.max(1))
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

/// The bucket's tokens at `now`, never above `capacity`.
fn refilled(bucket: &Bucket, now: Instant, per_second: f64, capacity: f64) -> f64 {
    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
    (bucket.tokens + elapsed * per_second).min(capacity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_empties_the_bucket_and_the_rate_refills_it() {
        let buckets = Buckets::new(Rate {
            per_minute: 60,
            burst: 2,
        });
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
