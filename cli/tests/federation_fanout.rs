//! National queries on a federation of four `huren serve` processes: the summary and the list
//! of regions merge every node's share, and a SIGKILLed node makes them partial, naming it,
//! within the caller's deadline. Restarted, it is counted again.

#[path = "support/federation.rs"]
mod federation;

use std::time::{Duration, Instant};

use huren_proto::v1::coordination_service_client::CoordinationServiceClient;
use huren_proto::v1::{
    AdapterHealth, GetNationalSummaryRequest, GetNationalSummaryResponse, ListRegionsRequest,
    MissingReason,
};
use tonic::transport::Channel;

const DEADLINE: Duration = Duration::from_secs(2);

async fn summary(channel: &Channel) -> (GetNationalSummaryResponse, Duration) {
    let mut request = tonic::Request::new(GetNationalSummaryRequest::default());
    request.set_timeout(DEADLINE);
    let started = Instant::now();
    let answer = CoordinationServiceClient::new(channel.clone())
        .get_national_summary(request)
        .await
        .expect("a summary, partial or not")
        .into_inner();
    (answer, started.elapsed())
}

fn health_of(summary: &GetNationalSummaryResponse, region: &str) -> AdapterHealth {
    summary
        .region_health
        .iter()
        .find(|h| h.region == region)
        .map(|h| h.health())
        .unwrap_or_else(|| panic!("no health for {region}"))
}

#[tokio::test]
async fn a_killed_node_makes_the_national_answers_partial_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut federation, _dir) = federation::start(&tmp).await;
    // Asked at zhejiang: any node fans out, not only national.
    let channel = federation
        .channel("zhejiang", "national", None)
        .await
        .unwrap();

    let (whole, _) = summary(&channel).await;
    assert!(!whole.partial, "{:?}", whole.missing_nodes);
    assert_eq!(whole.nodes, ["zhejiang", "national", "south", "west"]);
    assert_eq!(whole.region_health.len(), 7);
    // Sichuan's health comes from west, the node that serves it and calls its service.
    assert_eq!(health_of(&whole, "510000"), AdapterHealth::Healthy);

    federation.kill_node("west").unwrap();
    let (partial, took) = summary(&channel).await;
    assert!(took < DEADLINE, "answered after {took:?}");
    assert!(partial.partial);
    assert_eq!(
        partial.missing_nodes.len(),
        1,
        "{:?}",
        partial.missing_nodes
    );
    let missing = &partial.missing_nodes[0];
    assert_eq!(missing.node_id, "west");
    assert_eq!(missing.reason(), MissingReason::Unavailable);
    assert!(!partial.nodes.contains(&"west".to_string()));
    for region in ["510000", "410000"] {
        assert_eq!(health_of(&partial, region), AdapterHealth::Unspecified);
    }
    assert_eq!(health_of(&partial, "330000"), AdapterHealth::Healthy);

    let mut request = tonic::Request::new(ListRegionsRequest::default());
    request.set_timeout(DEADLINE);
    let regions = CoordinationServiceClient::new(channel.clone())
        .list_regions(request)
        .await
        .unwrap()
        .into_inner();
    assert!(regions.partial);
    assert_eq!(regions.missing_nodes[0].node_id, "west");
    assert_eq!(regions.regions.len(), 7);

    federation.restart_node("west").await.unwrap();
    let (again, _) = summary(&channel).await;
    assert!(!again.partial, "{:?}", again.missing_nodes);
    assert_eq!(health_of(&again, "510000"), AdapterHealth::Healthy);
}
