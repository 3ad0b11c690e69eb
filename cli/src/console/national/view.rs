//! The dashboard's one JSON document: the four charts as SVG, health per region, and how fresh
//! it all is. The page polls it and swaps the pieces in.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::charts::{self, ChartError, over_time::Line, routes::Route};
use super::history::Minute;
use super::poller::Snapshot;
use crate::report::names;

const VERDICTS: [&str; 5] = [
    "PASS",
    "HOME_QUARANTINE",
    "CENTRAL_QUARANTINE",
    "REVIEW",
    "REJECT",
];
const COLOURS: [&str; 5] = ["GREEN", "YELLOW", "RED", "PENDING", "UNKNOWN"];

pub fn dashboard(snap: &Snapshot) -> Result<Value, ChartError> {
    let lines = |words: [&'static str; 5], pick: fn(&Minute, &str) -> Option<u64>| {
        words
            .into_iter()
            .map(|word| Line {
                word,
                points: snap.history.series(snap.now_minute, |m| pick(m, word)),
            })
            .collect::<Vec<_>>()
    };
    let by_verdict = lines(VERDICTS, |m, w| m.by_verdict.get(w).copied());
    let by_colour = lines(COLOURS, |m, w| m.by_colour.get(w).copied());
    let totals = snap.totals.as_ref();
    let mut regions = BTreeSet::new();
    let mut cells: BTreeMap<(String, String), u64> = BTreeMap::new();
    for row in totals.iter().flat_map(|t| &t.verifications) {
        regions.insert(row.verifying_region.clone());
        regions.insert(row.issuing_region.clone());
        *cells
            .entry((row.verifying_region.clone(), row.issuing_region.clone()))
            .or_default() += row.count;
    }
    regions.extend(
        totals
            .iter()
            .flat_map(|t| &t.region_health)
            .map(|h| h.region.clone()),
    );
    let regions: Vec<String> = regions.into_iter().collect();
    let routes: Vec<Route> = totals
        .iter()
        .flat_map(|t| &t.confirmations)
        .map(|c| Route {
            label: format!("{} → {}", c.origin_region, c.destination_region),
            confirmed: c.confirmed,
            not_confirmed: c.not_confirmed,
        })
        .collect();
    let health: Vec<Value> = totals
        .iter()
        .flat_map(|t| &t.region_health)
        .map(|h| {
            json!({
                "region": h.region,
                "region_en": names::region(&h.region),
                "health": names::health(h.health),
                "detail": h.detail,
            })
        })
        .collect();
    let decisions: u64 = totals
        .iter()
        .flat_map(|t| &t.verifications)
        .map(|v| v.count)
        .sum();
    Ok(json!({
        "charts": {
            "verdicts": charts::over_time::chart("decisions by verdict", &by_verdict)?,
            "colours": charts::over_time::chart("decisions by colour", &by_colour)?,
            "matrix": charts::matrix::chart(&regions, &cells)?,
            "routes": charts::routes::chart(&routes)?,
        },
        "health": health,
        "decisions": decisions,
        "registry_version": totals.map(|t| t.registry_version),
        // A federation's summary merges every node's share; a missing share makes the counts a
        // lower bound, and the page says so with the nodes and why.
        "partial": totals.is_some_and(|t| t.partial),
        "nodes": totals.map(|t| t.nodes.clone()).unwrap_or_default(),
        "missing_nodes": totals
            .iter()
            .flat_map(|t| &t.missing_nodes)
            .map(|m| json!({"node_id": m.node_id, "detail": m.detail}))
            .collect::<Vec<_>>(),
        "window_start": totals.map(|t| names::time(t.start_time.as_ref())),
        "window_end": totals.map(|t| names::time(t.end_time.as_ref())),
        "polled_at": snap.polled_at.map(|t| names::time(Some(&huren::recognition::wire::timestamp(t)))),
        "error": snap.error,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use huren_proto::v1::{
        ConfirmationCount, GetNationalSummaryResponse, RegionHealth, VerificationCount,
    };

    #[test]
    fn charts_carry_the_summary_numbers() {
        let totals = GetNationalSummaryResponse {
            verifications: vec![VerificationCount {
                verifying_region: "330000".into(),
                issuing_region: "440000".into(),
                colour: 1,
                verdict: 1,
                source: 2,
                count: 17,
            }],
            confirmations: vec![ConfirmationCount {
                origin_region: "410000".into(),
                destination_region: "330000".into(),
                confirmed: 3,
                not_confirmed: 1,
            }],
            region_health: vec![RegionHealth {
                region: "510000".into(),
                health: 1,
                detail: "answering".into(),
            }],
            ..Default::default()
        };
        let mut snap = Snapshot {
            totals: Some(totals.clone()),
            now_minute: 1000,
            ..Default::default()
        };
        snap.history.record(1000, Minute::of_summary(&totals));
        let view = dashboard(&snap).unwrap();
        let chart = |name: &str| view["charts"][name].as_str().unwrap().to_string();
        // The words a reader sees: the contents of the SVG's <text> elements.
        let texts = |name: &str| {
            chart(name)
                .split("<text")
                .skip(1)
                .filter_map(|t| {
                    Some(
                        t.split_once('>')?
                            .1
                            .split_once("</text>")?
                            .0
                            .trim()
                            .to_string(),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert!(chart("verdicts").starts_with("<svg"));
        for word in ["PASS", "REJECT", "HOME_QUARANTINE"] {
            assert!(texts("verdicts").iter().any(|t| t == word), "{word}");
        }
        assert!(texts("colours").iter().any(|t| t == "GREEN"));
        assert!(
            texts("matrix").iter().any(|t| t == "17"),
            "{}",
            chart("matrix")
        );
        assert!(texts("matrix").iter().any(|t| t == "510000"));
        assert!(texts("routes").iter().any(|t| t == "410000 → 330000"));
        assert_eq!(view["decisions"], 17);
        assert_eq!(view["health"][0]["health"], "HEALTHY");
        assert_eq!(view["partial"], false);
    }
}
