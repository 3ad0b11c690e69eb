//! What a node reports about its regions at every scrape: each region's status service as its
//! circuit breaker sees it, and how often the status cache answered.

use std::sync::{Arc, Mutex};

use huren_adapters::net::Health;
use huren_adapters::net::cache::CacheCounts;

use crate::metrics_catalog::{ADAPTER_HEALTH, CACHE_HITS, CACHE_MISSES};
use crate::recognition::Recognizer;

const STATES: [(Health, &str); 3] = [
    (Health::Healthy, "healthy"),
    (Health::Degraded, "degraded"),
    (Health::Down, "down"),
];

/// Reports `recognizer`'s regions and cache while it lives.
pub fn follow(recognizer: &Arc<Recognizer>) {
    let held = Arc::downgrade(recognizer);
    // Counters only go up: each scrape adds what this node's cache did since the last one, so
    // several nodes in one process add up instead of overwriting each other.
    let reported = Mutex::new(CacheCounts::default());
    crate::metrics::on_scrape(move || {
        let Some(recognizer) = held.upgrade() else {
            return false;
        };
        for region in recognizer.adapters.regions() {
            let now = recognizer.status.health(region);
            for (state, name) in STATES {
                metrics::gauge!(ADAPTER_HEALTH, "region" => region.to_string(), "state" => name)
                    .set(if state == now { 1.0 } else { 0.0 });
            }
        }
        let counts = recognizer.status.cache_counts();
        let mut last = reported.lock().unwrap_or_else(|p| p.into_inner());
        metrics::counter!(CACHE_HITS).increment(counts.hits.saturating_sub(last.hits));
        metrics::counter!(CACHE_MISSES).increment(counts.misses.saturating_sub(last.misses));
        *last = counts;
        true
    });
}
