//! Appeals in the national summary: each node counts the appeals in the review queues of the
//! regions it serves (so a fan-out sums every appeal once, whichever node it was filed at), by
//! route and state. Never a person, never an appeal id.

use std::collections::BTreeMap;

use huren_proto::v1::AppealCount;
use huren_registry::Registry;
use time::OffsetDateTime;

use crate::appeals::Appeals;

/// This node's count of the appeals filed in `[start, end)` into queues it serves.
pub fn local(
    appeals: &Appeals,
    registry: &Registry,
    start: OffsetDateTime,
    end: OffsetDateTime,
) -> Vec<AppealCount> {
    let served = registry.nodes().get(appeals.node_id()).cloned();
    let held = appeals.store.list(|a| {
        (start..end).contains(&a.filed_at)
            && served.as_ref().is_none_or(|n| n.serves(&a.issuing_region))
    });
    merge([held
        .iter()
        .map(|a| AppealCount {
            verifying_region: a.verifying_region.clone(),
            issuing_region: a.issuing_region.clone(),
            state: a.state.to_wire() as i32,
            count: 1,
        })
        .collect::<Vec<_>>()
        .as_slice()])
}

/// Counts summed per route and state.
pub fn merge<'a>(shares: impl IntoIterator<Item = &'a [AppealCount]>) -> Vec<AppealCount> {
    let mut sums: BTreeMap<(String, String, i32), u64> = BTreeMap::new();
    for share in shares {
        for c in share {
            let key = (
                c.verifying_region.clone(),
                c.issuing_region.clone(),
                c.state,
            );
            *sums.entry(key).or_insert(0) += c.count;
        }
    }
    sums.into_iter()
        .map(
            |((verifying_region, issuing_region, state), count)| AppealCount {
                verifying_region,
                issuing_region,
                state,
                count,
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use huren_proto::v1::AppealState;

    fn count(state: AppealState, n: u64) -> AppealCount {
        AppealCount {
            verifying_region: "330000".into(),
            issuing_region: "420000".into(),
            state: state as i32,
            count: n,
        }
    }

    #[test]
    fn shares_sum_per_route_and_state() {
        let south = [
            count(AppealState::Open, 2),
            count(AppealState::Corrected, 1),
        ];
        let west = [count(AppealState::Open, 3)];
        let merged = merge([south.as_slice(), west.as_slice()]);
        assert_eq!(
            merged,
            [
                count(AppealState::Open, 5),
                count(AppealState::Corrected, 1)
            ]
        );
    }
}
