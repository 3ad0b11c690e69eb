//! The short-TTL status cache: a region's answer may be served again until the registry's TTL for
//! that region runs out, or until the region's change feed says the person's status changed.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::lookup::LookupQuery;
use crate::model::{NativeReading, RegionCode, Source};

/// What a cached answer is filed under. Residents are filed under a digest so the cache never
/// holds an ID number as a key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CacheKey {
    Code(String),
    Resident([u8; 32]),
}

impl CacheKey {
    pub fn of(query: &LookupQuery) -> Self {
        match query {
            LookupQuery::CodeId { code_id, .. } => CacheKey::Code(code_id.clone()),
            LookupQuery::Resident { id, name } => {
                let mut h = Sha256::new();
                h.update(id.expose().as_bytes());
                h.update([0]);
                h.update(name.as_bytes());
                CacheKey::Resident(h.finalize().into())
            }
        }
    }
}

struct Entry {
    reading: NativeReading,
    expires: Instant,
}

pub struct StatusCache {
    capacity: usize,
    entries: Mutex<HashMap<(RegionCode, CacheKey), Entry>>,
    /// Look-ups answered and not answered, for the operator's hit ratio.
    hits: AtomicU64,
    misses: AtomicU64,
}

/// How often the cache answered since the node started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheCounts {
    pub hits: u64,
    pub misses: u64,
}

impl StatusCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(HashMap::new()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(RegionCode, CacheKey), Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A fresh cached answer, marked [`Source::Cached`].
    pub fn get(&self, region: RegionCode, key: &CacheKey, now: Instant) -> Option<NativeReading> {
        if self.capacity == 0 {
            // No cache: every read asks the region, without taking the lock the readers of a
            // cache would share.
            self.misses.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let map = self.lock();
        // An empty cache (its TTL is zero, or nothing is held yet) answers without building the
        // lookup key, which copies the code id.
        let fresh = (!map.is_empty())
            .then(|| map.get(&(region, key.clone())))
            .flatten()
            .filter(|entry| entry.expires > now);
        let counter = if fresh.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let entry = fresh?;
        let mut reading = entry.reading.clone();
        reading.source = Source::Cached;
        reading.notes.push(format!(
            "served from cache: the region answered at {}",
            reading.refreshed_at
        ));
        Some(reading)
    }

    pub fn put(
        &self,
        region: RegionCode,
        key: CacheKey,
        reading: &NativeReading,
        ttl: Duration,
        now: Instant,
    ) {
        if ttl.is_zero() || self.capacity == 0 {
            return;
        }
        let mut map = self.lock();
        if map.len() >= self.capacity {
            map.retain(|_, e| e.expires > now);
            if map.len() >= self.capacity {
                return; // full of fresh answers: serve this one uncached
            }
        }
        map.insert(
            (region, key),
            Entry {
                reading: reading.clone(),
                expires: now + ttl,
            },
        );
    }

    /// Drops every answer about the person `handle` or any of `code_ids` in `region`.
    pub fn invalidate(&self, region: RegionCode, handle: &str, code_ids: &[String]) {
        let mut map = self.lock();
        map.retain(|(r, key), e| {
            if *r != region {
                return true;
            }
            let same_person = e.reading.subject.region_handle.as_deref() == Some(handle);
            let same_code = matches!(key, CacheKey::Code(c) if code_ids.contains(c));
            !(same_person || same_code)
        });
    }

    /// Drops every answer about `region` (its service renumbered its feed: anything may have
    /// changed).
    pub fn invalidate_region(&self, region: RegionCode) {
        self.lock().retain(|(r, _), _| *r != region);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn counts(&self) -> CacheCounts {
        CacheCounts {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
