//! Merging the nodes' shares of a national query: counts are summed, and each region's adapter
//! health is the one reported by the node that serves it. Pure: no I/O.

use std::collections::BTreeMap;

use huren_proto::v1::{
    AdapterHealth, ConfirmationCount, GetNodeSummaryResponse, MissingNode, MissingReason,
    RegionHealth, VerificationCount,
};

use crate::federation::index::NodeIndex;

/// The verification and confirmation counts of every share, summed per key.
pub fn counts<'a>(
    shares: impl IntoIterator<Item = &'a GetNodeSummaryResponse>,
) -> (Vec<VerificationCount>, Vec<ConfirmationCount>) {
    let mut verifications = BTreeMap::new();
    let mut confirmations = BTreeMap::new();
    for share in shares {
        for v in &share.verifications {
            let key = (
                v.verifying_region.clone(),
                v.issuing_region.clone(),
                v.colour,
                v.verdict,
                v.source,
            );
            *verifications.entry(key).or_insert(0) += v.count;
        }
        for c in &share.confirmations {
            let key = (c.origin_region.clone(), c.destination_region.clone());
            let sum = confirmations.entry(key).or_insert((0, 0));
            sum.0 += c.confirmed;
            sum.1 += c.not_confirmed;
        }
    }
    let verifications = verifications
        .into_iter()
        .map(
            |((verifying_region, issuing_region, colour, verdict, source), count)| {
                VerificationCount {
                    verifying_region,
                    issuing_region,
                    colour,
                    verdict,
                    source,
                    count,
                }
            },
        )
        .collect();
    let confirmations = confirmations
        .into_iter()
        .map(
            |((origin_region, destination_region), (confirmed, not_confirmed))| ConfirmationCount {
                origin_region,
                destination_region,
                confirmed,
                not_confirmed,
            },
        )
        .collect();
    (verifications, confirmations)
}

/// One node's share from its replicas' shares: counts summed (each replica keeps its own
/// audit and counters), and each region's health the best any replica reports, since a peer
/// reaches the region through whichever replica is up.
pub fn replicas(node_id: &str, shares: Vec<GetNodeSummaryResponse>) -> GetNodeSummaryResponse {
    let (verifications, confirmations) = counts(&shares);
    let mut health: BTreeMap<String, RegionHealth> = BTreeMap::new();
    for reported in shares.iter().flat_map(|s| &s.region_health) {
        let better = health
            .get(&reported.region)
            .is_none_or(|held| rank(reported.health()) > rank(held.health()));
        if better {
            health.insert(reported.region.clone(), reported.clone());
        }
    }
    GetNodeSummaryResponse {
        node_id: node_id.to_string(),
        verifications,
        confirmations,
        region_health: health.into_values().collect(),
        registry_version: shares.iter().map(|s| s.registry_version).max().unwrap_or(0),
        // Each replica keeps the review queues' appeals it relayed or answered: summed as well.
        appeals: crate::appeals::summary::merge(shares.iter().map(|s| s.appeals.as_slice())),
        // A merged share is no one replica's.
        instance: String::new(),
    }
}

/// How well a region is reached, for picking the best of a node's replicas.
fn rank(health: AdapterHealth) -> u8 {
    match health {
        AdapterHealth::Healthy => 4,
        AdapterHealth::Offline => 3,
        AdapterHealth::Degraded => 2,
        AdapterHealth::Down => 1,
        AdapterHealth::Unspecified => 0,
    }
}

/// The node the registry lists as serving `region`, if any.
pub fn serving_node<'i>(index: &'i NodeIndex, region: &str) -> Option<&'i str> {
    index.serving(region).first().map(String::as_str)
}

/// Each entry of `local` (this node's view of every region) replaced by the health the serving
/// node reported, when another node serves the region; unknown, with why, when that node's
/// share is missing.
pub fn health(
    index: &NodeIndex,
    me: &str,
    local: Vec<RegionHealth>,
    shares: &[GetNodeSummaryResponse],
    missing: &[MissingNode],
) -> Vec<RegionHealth> {
    local
        .into_iter()
        .map(|mine| {
            let Some(serving) = serving_node(index, &mine.region).filter(|id| *id != me) else {
                return mine;
            };
            let reported = shares
                .iter()
                .filter(|s| s.node_id == serving)
                .flat_map(|s| &s.region_health)
                .find(|h| h.region == mine.region);
            if let Some(reported) = reported {
                return reported.clone();
            }
            let detail = match missing.iter().find(|m| m.node_id == serving) {
                Some(m) => format!(
                    "served by node {serving}, which did not answer ({}): {}",
                    reason_word(m.reason()),
                    m.detail
                ),
                None => format!("served by node {serving}, which reported no health for it"),
            };
            RegionHealth {
                region: mine.region,
                health: AdapterHealth::Unspecified as i32,
                detail,
            }
        })
        .collect()
}

/// The reason as an operator reads it.
pub fn reason_word(reason: MissingReason) -> &'static str {
    match reason {
        MissingReason::Deadline => "deadline",
        MissingReason::Unavailable => "unavailable",
        MissingReason::Refused => "refused",
        MissingReason::Unspecified => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(node: &str, count: u64) -> GetNodeSummaryResponse {
        GetNodeSummaryResponse {
            node_id: node.into(),
            verifications: vec![VerificationCount {
                verifying_region: "330000".into(),
                issuing_region: "510000".into(),
                colour: 1,
                verdict: 1,
                source: 1,
                count,
            }],
            confirmations: vec![ConfirmationCount {
                origin_region: "410000".into(),
                destination_region: "330000".into(),
                confirmed: count,
                not_confirmed: 1,
            }],
            region_health: Vec::new(),
            registry_version: 1,
            appeals: Vec::new(),
            instance: String::new(),
        }
    }

    #[test]
    fn two_replicas_make_one_share_with_summed_counts_and_the_best_health() {
        let health = |h: AdapterHealth| RegionHealth {
            region: "510000".into(),
            health: h as i32,
            detail: String::new(),
        };
        let mut up = share("west", 2);
        up.region_health = vec![health(AdapterHealth::Healthy)];
        let mut down = share("west", 3);
        down.region_health = vec![health(AdapterHealth::Down)];
        let merged = replicas("west", vec![down, up]);
        assert_eq!(merged.node_id, "west");
        assert_eq!(merged.verifications.len(), 1);
        assert_eq!(merged.verifications[0].count, 5);
        assert_eq!(merged.region_health.len(), 1);
        assert_eq!(merged.region_health[0].health(), AdapterHealth::Healthy);
    }

    #[test]
    fn the_same_key_from_two_nodes_is_summed_once() {
        let (v, c) = counts([&share("zhejiang", 2), &share("west", 3)]);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].count, 5);
        assert_eq!((c[0].confirmed, c[0].not_confirmed), (5, 2));
    }
}
