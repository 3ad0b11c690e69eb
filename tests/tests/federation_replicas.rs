//! A node's replicas in the national fan-out: every replica of `west` is asked and their shares
//! merge into one per node id; a replica down is named as a replica while the answer stays
//! whole; the node is missing only when all its replicas are. And each peer replica's circuit
//! breaker shows in the metrics.

use std::time::Duration;

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::coordination_service_client::CoordinationServiceClient;
use huren_proto::v1::{GetNationalSummaryRequest, GetNationalSummaryResponse, Verdict};
use huren_tests::federation::{Federation, verify};
use huren_tests::node::resident_id;
use tonic::transport::Channel;

async fn federation() -> Federation {
    Federation::zhejiang_and_west(2).await
}

async fn summary(channel: &Channel) -> GetNationalSummaryResponse {
    let mut request = tonic::Request::new(GetNationalSummaryRequest::default());
    request.set_timeout(Duration::from_secs(3));
    CoordinationServiceClient::new(channel.clone())
        .get_national_summary(request)
        .await
        .expect("summary")
        .into_inner()
}

#[tokio::test]
async fn every_replica_of_a_node_is_counted_once_under_its_node_id() {
    let mut fed = federation().await;
    let code = fed
        .issue(
            RegionCode::HENAN,
            &resident_id("410105", 31),
            "钱七",
            Colour::Green,
        )
        .await;
    // One Henan read local to each replica of west: two audit chains, two sets of counters.
    for replica in 0..2 {
        let at_west = fed.channel_as("west", replica, "checkpoint", None).await;
        let v = verify(&at_west, &code.payload, Duration::from_secs(5)).await;
        assert_eq!(v.verdict(), Verdict::Pass, "{v:?}");
    }
    let national = fed.channel_as("zhejiang", 0, "national", None).await;
    let whole = summary(&national).await;
    assert!(!whole.partial, "{:?}", whole.missing_nodes);
    assert_eq!(
        whole.nodes,
        ["zhejiang", "west"],
        "west once, its replicas merged"
    );
    assert_eq!(
        whole.decisions_issued_in("410000"),
        2,
        "{:?}",
        whole.verifications
    );
    assert!(
        whole.missing_replicas.is_empty(),
        "{:?}",
        whole.missing_replicas
    );

    // One replica down: west's share comes from the other, the answer is not partial, and the
    // replica is named with its endpoint.
    let down = format!("https://{}", fed.replicas["west"][1].addr);
    fed.kill("west", 1).await;
    let one = summary(&national).await;
    assert!(!one.partial, "{:?}", one.missing_nodes);
    assert!(one.missing_nodes.is_empty(), "{:?}", one.missing_nodes);
    assert_eq!(one.nodes, ["zhejiang", "west"]);
    assert_eq!(
        one.decisions_issued_in("410000"),
        1,
        "{:?}",
        one.verifications
    );
    assert_eq!(one.missing_replicas.len(), 1, "{:?}", one.missing_replicas);
    assert_eq!(one.missing_replicas[0].node_id, "west");
    assert_eq!(one.missing_replicas[0].endpoint, down);
    let sichuan = one.region_health.iter().find(|h| h.region == "510000");
    assert_eq!(
        sichuan.map(|h| h.health()),
        Some(huren_proto::v1::AdapterHealth::Healthy),
        "health from the replica that is up: {:?}",
        one.region_health
    );

    // Both down: now west is missing, and the answer partial.
    fed.kill("west", 0).await;
    let none = summary(&national).await;
    assert!(none.partial);
    assert_eq!(none.missing_nodes.len(), 1, "{:?}", none.missing_nodes);
    assert_eq!(none.missing_nodes[0].node_id, "west");
    assert!(none.missing_nodes[0].endpoint.is_empty());
}

#[tokio::test]
async fn a_peer_replicas_open_breaker_shows_in_the_metrics() {
    let mut fed = federation().await;
    let code = fed
        .issue(
            RegionCode::HENAN,
            &resident_id("410105", 32),
            "孙八",
            Colour::Green,
        )
        .await;
    let down = format!("https://{}", fed.replicas["west"][1].addr);
    let at_zhejiang = fed.channel_as("zhejiang", 0, "checkpoint", None).await;
    let v = verify(&at_zhejiang, &code.payload, Duration::from_secs(5)).await;
    assert_eq!(v.verdict(), Verdict::Pass, "{v:?}");
    let open = format!("huren_peer_breaker_open{{node=\"west\",endpoint=\"{down}\"}}");
    let trips = format!("huren_peer_breaker_trips_total{{node=\"west\",endpoint=\"{down}\"}}");
    let text = huren::metrics::render();
    assert!(text.contains("# HELP huren_peer_breaker_open "), "{text}");
    assert!(
        text.contains("# TYPE huren_peer_breaker_open gauge"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE huren_peer_breaker_trips_total counter"),
        "{text}"
    );
    assert!(text.contains(&format!("{open} 0")), "{text}");

    // The replica goes away; the calls that pick it fail over to the other and trip its
    // breaker (five failures in a row, the default).
    fed.kill("west", 1).await;
    for _ in 0..40 {
        let v = verify(&at_zhejiang, &code.payload, Duration::from_secs(5)).await;
        assert_eq!(v.verdict(), Verdict::Pass, "{v:?}");
        if huren::metrics::render().contains(&format!("{open} 1")) {
            break;
        }
    }
    let text = huren::metrics::render();
    assert!(text.contains(&format!("{open} 1")), "{text}");
    assert!(text.contains(&format!("{trips} 1")), "{text}");
    let up = format!("https://{}", fed.replicas["west"][0].addr);
    assert!(
        text.contains(&format!(
            "huren_peer_breaker_open{{node=\"west\",endpoint=\"{up}\"}} 0"
        )),
        "{text}"
    );
}

#[tokio::test]
async fn a_replica_asked_for_the_national_summary_counts_its_other_replicas_once() {
    let mut fed = federation().await;
    let code = fed
        .issue(
            RegionCode::HENAN,
            &resident_id("410105", 47),
            "孙八",
            Colour::Green,
        )
        .await;
    // Two reads at replica 1 of west, one at replica 0: separate counters.
    for replica in [1, 1, 0] {
        let at_west = fed.channel_as("west", replica, "checkpoint", None).await;
        let v = verify(&at_west, &code.payload, Duration::from_secs(5)).await;
        assert_eq!(v.verdict(), Verdict::Pass, "{v:?}");
    }
    // Asked at replica 0 of west, the summary holds replica 1's reads as well, and its own once.
    let at_west0 = fed.channel_as("west", 0, "national", None).await;
    let whole = summary(&at_west0).await;
    assert!(!whole.partial, "{:?}", whole.missing_nodes);
    assert_eq!(whole.nodes, ["west", "zhejiang"], "west once");
    assert_eq!(
        whole.decisions_issued_in("410000"),
        3,
        "{:?}",
        whole.verifications
    );
    assert!(
        whole.missing_replicas.is_empty(),
        "{:?}",
        whole.missing_replicas
    );

    // Replica 1 down: named as west's missing replica, replica 0's own reads still counted.
    fed.kill("west", 1).await;
    let without = summary(&at_west0).await;
    assert_eq!(
        without.decisions_issued_in("410000"),
        1,
        "{:?}",
        without.verifications
    );
    assert!(
        without.missing_replicas.iter().any(|m| m.node_id == "west"),
        "{:?}",
        without.missing_replicas
    );
}
