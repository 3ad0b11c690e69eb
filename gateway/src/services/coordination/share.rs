//! One node's own share of a national query: what it counted in the window and the adapter
//! health of the regions it serves. Answered to a peer that fans out, and merged locally.

use huren_proto::v1::{ConfirmationCount, GetNodeSummaryResponse, RegionHealth, VerificationCount};
use huren_registry::Registry;
use time::OffsetDateTime;

use super::{health, source};
use crate::recognition::{Recognizer, wire};

/// The counters of `recognizer` in `[start, end)` and the health of `regions` (`None`: every
/// region the registry delegates).
pub fn local(
    recognizer: &Recognizer,
    registry: &Registry,
    start: OffsetDateTime,
    end: OffsetDateTime,
    regions: Option<&[String]>,
) -> (GetNodeSummaryResponse, (OffsetDateTime, OffsetDateTime)) {
    let summary = recognizer.summary.query(start, end);
    let verifications = summary
        .decisions
        .iter()
        .map(|row| VerificationCount {
            verifying_region: row.key.verifying.to_string(),
            issuing_region: row.key.issuing.to_string(),
            colour: wire::colour(row.key.colour) as i32,
            verdict: wire::verdict(row.key.verdict) as i32,
            source: wire::source(source(row.key.source)) as i32,
            count: row.count,
        })
        .collect();
    let confirmations = summary
        .confirmations
        .iter()
        .map(|row| ConfirmationCount {
            origin_region: row.route.origin.to_string(),
            destination_region: row.route.destination.to_string(),
            confirmed: row.counts.confirmed,
            not_confirmed: row.counts.not_confirmed,
        })
        .collect();
    let region_health = region_health(recognizer, registry, regions);
    let share = GetNodeSummaryResponse {
        node_id: recognizer.receipts.node_id().to_string(),
        verifications,
        confirmations,
        region_health,
        registry_version: registry.version(),
        // The coordination state adds its review queues' counts.
        appeals: Vec::new(),
        instance: recognizer.instance.clone(),
    };
    (share, (summary.start, summary.end))
}

/// This node's view of the health of `regions` (`None`: every delegated region).
pub fn region_health(
    recognizer: &Recognizer,
    registry: &Registry,
    regions: Option<&[String]>,
) -> Vec<RegionHealth> {
    registry
        .regions()
        .filter(|r| regions.is_none_or(|only| only.iter().any(|c| *c == r.code.as_str())))
        .map(|r| health::region_health(registry, r, &recognizer.status))
        .collect()
}

/// The regions the registry lists for this node; `None` when it is not listed (it then speaks
/// for every region, as a single node does).
pub fn served(recognizer: &Recognizer, registry: &Registry) -> Option<Vec<String>> {
    registry
        .nodes()
        .get(recognizer.receipts.node_id())
        .map(|n| n.regions.clone())
}
