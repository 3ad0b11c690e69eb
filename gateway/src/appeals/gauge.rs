//! `huren_appeals_open_over_24h{issuing}`: appeals in this node's review queues still open a day
//! after filing, by issuing region, recomputed at every scrape.

use std::sync::Arc;

use crate::appeals::Appeals;
use crate::metrics_catalog::APPEALS_OPEN_OVER_24H;

/// How long an appeal may wait before an operator should hear of it.
pub const OVERDUE: time::Duration = time::Duration::hours(24);

/// Reports `appeals` while they live.
pub fn follow(appeals: &Arc<Appeals>) {
    let held = Arc::downgrade(appeals);
    crate::metrics::on_scrape(move || {
        let Some(appeals) = held.upgrade() else {
            return false;
        };
        let Some(registry) = appeals.recognizer.registry.current() else {
            return true;
        };
        let overdue = appeals.open_longer_than(&registry, OVERDUE, time::OffsetDateTime::now_utc());
        // Every served province gets a series, 0 when nothing waits, so an alert can be written
        // before the first appeal.
        let served: Vec<String> = registry
            .nodes()
            .get(appeals.node_id())
            .map(|n| n.regions.clone())
            .unwrap_or_default();
        for region in served.iter().chain(overdue.keys()) {
            let n = overdue.get(region).copied().unwrap_or(0);
            metrics::gauge!(APPEALS_OPEN_OVER_24H, "issuing" => region.clone()).set(n as f64);
        }
        true
    });
}
