//! Charter-train manifests on a full node over real mTLS: CheckManifest boards, denies and
//! reviews under the destination's agreement with totals; WatchManifest streams a passenger
//! turning red (through the region's change feed) and ends at departure.

use std::time::Duration;

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::manifests_service_client::ManifestsServiceClient;
use huren_proto::v1::{
    Boarding, CheckManifestRequest, Manifest, Passenger, Verdict, WatchManifestRequest,
};
use huren_tests::node::{TestNode, resident_id};
use prost::Message;
use time::OffsetDateTime;
use tonic::Code;

fn manifest(passengers: Vec<(&str, &str)>, departure: OffsetDateTime) -> Manifest {
    Manifest {
        train_id: "D1234".into(),
        origin_region: "510000".into(),
        destination_region: "330100".into(),
        departure_time: Some(huren::recognition::wire::timestamp(departure)),
        passengers: passengers
            .into_iter()
            .map(|(seat, payload)| Passenger {
                seat: seat.into(),
                payload: payload.into(),
            })
            .collect(),
    }
}

#[tokio::test]
async fn a_carrier_gets_board_deny_or_review_for_every_passenger_under_the_destinations_rules() {
    let node = TestNode::start().await;
    let ids: Vec<String> = (1..=4).map(|n| resident_id("510104", n)).collect();
    let green = node
        .issue(RegionCode::SICHUAN, &ids[0], "张三", Colour::Green)
        .await;
    let turned = node
        .issue(RegionCode::SICHUAN, &ids[1], "李四", Colour::Green)
        .await;
    node.set_status(RegionCode::SICHUAN, &ids[1], Colour::Red)
        .await;
    let yellow = node
        .issue(RegionCode::ZHEJIANG, &ids[2], "王五", Colour::Yellow)
        .await;
    let passengers = vec![
        ("01A", green.payload.as_str()),
        ("01B", turned.payload.as_str()),
        ("01C", yellow.payload.as_str()),
        ("01D", "a photo of a code"),
    ];
    let mut carrier = ManifestsServiceClient::new(node.channel_as("carrier", None).await);
    let response = carrier
        .check_manifest(CheckManifestRequest {
            manifest: Some(manifest(passengers, OffsetDateTime::now_utc())),
        })
        .await
        .expect("checked")
        .into_inner();
    let bytes = response.encode_to_vec();
    for id in &ids {
        assert!(!bytes.windows(id.len()).any(|w| w == id.as_bytes()));
    }
    assert_eq!(response.train_id, "D1234");
    assert!(response.registry_version >= 1);
    let boarding: Vec<Boarding> = response.decisions.iter().map(|d| d.boarding()).collect();
    assert_eq!(
        boarding,
        [
            Boarding::Board,
            Boarding::Deny,
            Boarding::Deny,
            Boarding::Review
        ]
    );
    let seats: Vec<&str> = response.decisions.iter().map(|d| d.seat.as_str()).collect();
    assert_eq!(seats, ["01A", "01B", "01C", "01D"]);
    let v = response.decisions[1].verification.as_ref().expect("judged");
    assert_eq!(
        v.verdict(),
        Verdict::CentralQuarantine,
        "Sichuan's live red"
    );
    assert_eq!(v.verifying_region, "330000", "the destination's rules");
    assert_eq!(
        response.decisions[2]
            .verification
            .as_ref()
            .expect("judged")
            .quarantine_days,
        7
    );
    assert_eq!(
        response.decisions[3]
            .error
            .as_ref()
            .expect("unclaimed")
            .reason,
        "PAYLOAD_NOT_CLAIMED"
    );
    for d in &response.decisions {
        if let Some(v) = &d.verification {
            let subject = v.subject.as_ref().expect("subject");
            assert!(
                subject.subject_ref.is_empty(),
                "a carrier never links people"
            );
            assert!(subject.masked_name.ends_with('*'));
            let status = v.status.as_ref().expect("status");
            assert!(status.native_label.is_empty() && status.refresh_time.is_none());
        }
    }
    let totals = response.totals.expect("totals");
    assert_eq!(
        (totals.total, totals.board, totals.deny, totals.review),
        (4, 1, 2, 1)
    );
    assert_eq!(node.audit_records().len(), 3);
}

#[tokio::test]
async fn only_carriers_check_manifests_and_a_watch_needs_a_near_future_departure() {
    let node = TestNode::start().await;
    let code = node
        .issue(
            RegionCode::HUNAN,
            &resident_id("430102", 1),
            "周九",
            Colour::Green,
        )
        .await;
    let now = OffsetDateTime::now_utc();
    let m = |departure| manifest(vec![("1A", code.payload.as_str())], departure);
    for (role, region) in [
        ("checkpoint", None),
        ("province", Some("510000")),
        ("national", None),
    ] {
        let mut client = ManifestsServiceClient::new(node.channel_as(role, region).await);
        let status = client
            .check_manifest(CheckManifestRequest {
                manifest: Some(m(now)),
            })
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::PermissionDenied, "{role}");
        let status = client
            .watch_manifest(WatchManifestRequest {
                manifest: Some(m(now + time::Duration::hours(1))),
            })
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::PermissionDenied, "{role}");
    }
    let mut carrier = ManifestsServiceClient::new(node.channel_as("carrier", None).await);
    for departure in [
        now - time::Duration::minutes(1),
        now + time::Duration::hours(49),
    ] {
        let status = carrier
            .watch_manifest(WatchManifestRequest {
                manifest: Some(m(departure)),
            })
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{departure}");
    }
    assert!(node.audit_records().is_empty());
}

#[tokio::test]
async fn watch_manifest_sees_a_passenger_turn_red_and_ends_at_departure() {
    let node = TestNode::start().await;
    let (sc_id, zj_id) = (resident_id("510104", 7), resident_id("330106", 8));
    let sc = node
        .issue(RegionCode::SICHUAN, &sc_id, "张三", Colour::Green)
        .await;
    let zj = node
        .issue(RegionCode::ZHEJIANG, &zj_id, "钱七", Colour::Green)
        .await;
    let departure = OffsetDateTime::now_utc() + time::Duration::seconds(8);
    let mut carrier = ManifestsServiceClient::new(node.channel_as("carrier", None).await);
    let mut stream = carrier
        .watch_manifest(WatchManifestRequest {
            manifest: Some(manifest(
                vec![("3A", sc.payload.as_str()), ("3B", zj.payload.as_str())],
                departure,
            )),
        })
        .await
        .expect("watching")
        .into_inner();
    let first = stream
        .message()
        .await
        .expect("stream")
        .expect("first message");
    assert_eq!(first.changes.len(), 2, "the first message holds everyone");
    assert!(
        first
            .changes
            .iter()
            .all(|d| d.boarding() == Boarding::Board)
    );
    assert!(!first.departed);

    // A second train, watched while the first one's feeds already run, shares them.
    let mut second = carrier
        .watch_manifest(WatchManifestRequest {
            manifest: Some(manifest(vec![("9F", zj.payload.as_str())], departure)),
        })
        .await
        .expect("watching")
        .into_inner();
    let first_of_second = second.message().await.expect("stream").expect("first");
    assert_eq!(first_of_second.changes[0].boarding(), Boarding::Board);

    node.set_status(RegionCode::SICHUAN, &sc_id, Colour::Red)
        .await;
    node.set_status(RegionCode::ZHEJIANG, &zj_id, Colour::Yellow)
        .await;

    let mut denied = std::collections::BTreeSet::new();
    let mut departed = false;
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(event) = stream.message().await.expect("stream") {
            assert!(!departed, "nothing after the departed message");
            for change in &event.changes {
                assert_eq!(change.boarding(), Boarding::Deny, "{change:?}");
                denied.insert(change.seat.clone());
            }
            if event.departed {
                departed = true;
                assert!(event.changes.is_empty());
                let totals = event.totals.expect("totals");
                assert_eq!((totals.total, totals.deny), (2, 2));
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream ends after departure");
    assert!(departed, "the last message says the train departed");
    assert_eq!(denied.into_iter().collect::<Vec<_>>(), ["3A", "3B"]);
    assert!(
        OffsetDateTime::now_utc() >= departure,
        "not before the departure time"
    );
    let mut second_saw = Vec::new();
    while let Some(event) = second.message().await.expect("second stream") {
        second_saw.extend(event.changes.iter().map(|c| (c.seat.clone(), c.boarding())));
        if event.departed {
            break;
        }
    }
    assert_eq!(second_saw, [("9F".to_string(), Boarding::Deny)]);
    // Three first decisions and three changes went out; re-judgements that changed nothing
    // did not.
    assert_eq!(node.audit_records().len(), 6);
}

#[tokio::test]
async fn a_guangdong_token_withdrawn_after_its_holder_turns_red_is_seen_by_the_watch() {
    let mut options = huren_tests::node::NodeOptions::default();
    options.listed_services.push(RegionCode::GUANGDONG);
    let node = TestNode::start_with(options).await;
    let id = resident_id("440106", 1);
    let token = node
        .issue(RegionCode::GUANGDONG, &id, "王五", Colour::Green)
        .await;
    let departure = OffsetDateTime::now_utc() + time::Duration::seconds(6);
    let mut carrier = ManifestsServiceClient::new(node.channel_as("carrier", None).await);
    let mut stream = carrier
        .watch_manifest(WatchManifestRequest {
            manifest: Some(manifest(vec![("5C", token.payload.as_str())], departure)),
        })
        .await
        .expect("watching")
        .into_inner();
    let first = stream.message().await.expect("stream").expect("first");
    assert_eq!(first.changes[0].boarding(), Boarding::Board);

    // Lists are dated to the second and a list replaces only an older one: let the list the
    // node fetched at start-up be from an earlier second than the one that withdraws the token.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Guangdong withdraws the holder's signed token through its revocation list.
    node.set_status(RegionCode::GUANGDONG, &id, Colour::Red)
        .await;
    let mut seen = Vec::new();
    while let Some(event) = stream.message().await.expect("stream") {
        for change in &event.changes {
            let v = change.verification.as_ref().expect("judged");
            seen.push((change.boarding(), v.reasons[0].code.clone()));
        }
        if event.departed {
            break;
        }
    }
    assert_eq!(seen, [(Boarding::Deny, "REVOKED_CODE".to_string())]);

    // Its service only publishes lists: for the national office Guangdong stays offline-signed.
    let mut national = huren_proto::v1::coordination_service_client::CoordinationServiceClient::new(
        node.channel_as("national", None).await,
    );
    let summary = national
        .get_national_summary(huren_proto::v1::GetNationalSummaryRequest::default())
        .await
        .expect("summary")
        .into_inner();
    let gd = summary
        .region_health
        .iter()
        .find(|h| h.region == "440000")
        .expect("Guangdong");
    assert_eq!(gd.health(), huren_proto::v1::AdapterHealth::Offline);
}

#[tokio::test]
async fn a_watch_whose_carrier_went_away_stops_judging() {
    let node = TestNode::start().await;
    let id = resident_id("330106", 9);
    let zj = node
        .issue(RegionCode::ZHEJIANG, &id, "钱九", Colour::Green)
        .await;
    let departure = OffsetDateTime::now_utc() + time::Duration::hours(1);
    let mut carrier = ManifestsServiceClient::new(node.channel_as("carrier", None).await);
    let mut stream = carrier
        .watch_manifest(WatchManifestRequest {
            manifest: Some(manifest(vec![("7A", zj.payload.as_str())], departure)),
        })
        .await
        .expect("watching")
        .into_inner();
    stream.message().await.expect("stream").expect("first");
    drop(stream);
    drop(carrier);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = node.audit_records().len();
    node.set_status(RegionCode::ZHEJIANG, &id, Colour::Red)
        .await;
    // Long enough for a live watch to see the change and judge it (it settles for 200 ms).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        node.audit_records().len(),
        before,
        "nobody is watching, so nothing is judged or recorded"
    );
}
