//! The national view on a full node: the summary counts exactly the decisions and confirmations
//! made, by region, colour, verdict and source, with each region's adapter health and no person
//! in it; ListRegions pages through the registry; other roles are refused.

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::coordination_service_client::CoordinationServiceClient;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{
    AdapterHealth, ConfirmWorkersRequest, GetNationalSummaryRequest, ListRegionsRequest,
    ResidentIdentity, StatusSource, Verdict, VerifyCodeRequest, Worker, worker,
};
use huren_tests::node::{TestNode, resident_id};
use prost::Message;
use tonic::Code;

fn verify(payload: &str) -> VerifyCodeRequest {
    VerifyCodeRequest {
        payload: payload.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_national_summary_counts_exactly_the_calls_made_and_names_nobody() {
    let node = TestNode::start().await;
    let ids: Vec<String> = (1..=3).map(|n| resident_id("330106", n)).collect();
    let zj1 = node
        .issue(RegionCode::ZHEJIANG, &ids[0], "钱一", Colour::Green)
        .await;
    let zj2 = node
        .issue(RegionCode::ZHEJIANG, &ids[1], "钱二", Colour::Green)
        .await;
    let hn = node
        .issue(RegionCode::HUNAN, &ids[2], "周三", Colour::Red)
        .await;
    let (henan_green, henan_red) = (resident_id("410102", 4), resident_id("410102", 5));
    node.issue(RegionCode::HENAN, &henan_green, "刘四", Colour::Green)
        .await;
    node.issue(RegionCode::HENAN, &henan_red, "刘五", Colour::Red)
        .await;

    let mut checkpoint = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
    for payload in [&zj1.payload, &zj2.payload, &hn.payload] {
        checkpoint
            .verify_code(verify(payload))
            .await
            .expect("verified");
    }
    // Not a decision: nothing to count.
    checkpoint
        .verify_code(verify("garbage"))
        .await
        .expect_err("unclaimed");
    let mut henan =
        RecognitionServiceClient::new(node.channel_as("province", Some("410000")).await);
    let resident = |id: &str, name: &str| Worker {
        worker_ref: id[14..].to_string(),
        identity: Some(worker::Identity::Resident(ResidentIdentity {
            id_number: id.into(),
            name: name.into(),
        })),
    };
    henan
        .confirm_workers(ConfirmWorkersRequest {
            destination_region: "330000".into(),
            workers: vec![resident(&henan_green, "刘四"), resident(&henan_red, "刘五")],
            purpose: String::new(),
        })
        .await
        .expect("confirmed");

    let mut national = CoordinationServiceClient::new(node.channel_as("national", None).await);
    let summary = national
        .get_national_summary(GetNationalSummaryRequest::default())
        .await
        .expect("summary")
        .into_inner();
    let bytes = summary.encode_to_vec();
    for id in ids.iter().chain([&henan_green, &henan_red]) {
        assert!(!bytes.windows(id.len()).any(|w| w == id.as_bytes()));
    }
    for name in ["钱", "周", "刘"] {
        assert!(
            !bytes.windows(name.len()).any(|w| w == name.as_bytes()),
            "no names, not even masked"
        );
    }
    let total: u64 = summary.verifications.iter().map(|v| v.count).sum();
    assert_eq!(total, 5, "three checkpoint scans and two workers");
    let count = |issuing: &str, verdict: Verdict, source: StatusSource| -> u64 {
        summary
            .verifications
            .iter()
            .filter(|v| {
                v.verifying_region == "330000"
                    && v.issuing_region == issuing
                    && v.verdict() == verdict
                    && v.source() == source
            })
            .map(|v| v.count)
            .sum()
    };
    assert_eq!(count("330000", Verdict::Pass, StatusSource::Online), 2);
    assert_eq!(
        count(
            "430000",
            Verdict::CentralQuarantine,
            StatusSource::OfflineSigned
        ),
        1
    );
    assert_eq!(count("410000", Verdict::Pass, StatusSource::Online), 1);
    assert_eq!(
        count("410000", Verdict::CentralQuarantine, StatusSource::Online),
        1
    );
    assert_eq!(summary.confirmations.len(), 1);
    let c = &summary.confirmations[0];
    assert_eq!(
        (
            c.origin_region.as_str(),
            c.destination_region.as_str(),
            c.confirmed,
            c.not_confirmed
        ),
        ("410000", "330000", 1, 1)
    );
    assert_eq!(summary.region_health.len(), 7);
    for h in &summary.region_health {
        let online = ["330000", "410000", "510000"].contains(&h.region.as_str());
        let expected = if online {
            AdapterHealth::Healthy
        } else {
            AdapterHealth::Offline
        };
        assert_eq!(h.health(), expected, "{h:?}");
    }
    assert!(summary.registry_version >= 1);
    let (start, end) = (
        summary.start_time.expect("start"),
        summary.end_time.expect("end"),
    );
    assert!(
        end.seconds - start.seconds >= 3600,
        "the last hour by default"
    );

    // A window in the past holds nothing.
    let earlier = national
        .get_national_summary(GetNationalSummaryRequest {
            start_time: Some(prost_time(-3 * 3600)),
            end_time: Some(prost_time(-2 * 3600)),
            window: None,
        })
        .await
        .expect("summary")
        .into_inner();
    assert!(earlier.verifications.is_empty());
}

fn prost_time(offset_secs: i64) -> huren::recognition::wire::Timestamp {
    huren::recognition::wire::timestamp(
        time::OffsetDateTime::now_utc() + time::Duration::seconds(offset_secs),
    )
}

#[tokio::test]
async fn a_region_whose_service_is_gone_reads_down_once_its_circuit_opens() {
    let mut node = TestNode::start().await;
    let ids: Vec<String> = (1..=6).map(|n| resident_id("410102", n)).collect();
    let mut payloads = Vec::new();
    for id in &ids {
        payloads.push(
            node.issue(RegionCode::HENAN, id, "刘六", Colour::Green)
                .await
                .payload,
        );
    }
    let henan = node.services.remove(&RegionCode::HENAN).expect("service");
    henan.shutdown().await;
    let mut checkpoint = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
    for payload in &payloads {
        let v = checkpoint
            .verify_code(verify(payload))
            .await
            .expect("answered, degraded")
            .into_inner()
            .verification
            .expect("verification");
        assert_eq!(v.verdict(), Verdict::Review, "never PASS without Henan");
        assert_eq!(v.source(), StatusSource::Degraded);
    }
    let mut national = CoordinationServiceClient::new(node.channel_as("national", None).await);
    let summary = national
        .get_national_summary(GetNationalSummaryRequest::default())
        .await
        .expect("summary")
        .into_inner();
    let henan = summary
        .region_health
        .iter()
        .find(|h| h.region == "410000")
        .expect("Henan listed");
    assert_eq!(henan.health(), AdapterHealth::Down, "{henan:?}");
}

#[tokio::test]
async fn list_regions_pages_through_the_registry() {
    let node = TestNode::start().await;
    let mut national = CoordinationServiceClient::new(node.channel_as("national", None).await);
    let mut codes = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    // Seven regions in pages of three: at most three pages.
    for _ in 0..5 {
        let page = national
            .list_regions(ListRegionsRequest {
                page_size: 3,
                page_token: token.clone(),
            })
            .await
            .expect("page")
            .into_inner();
        pages += 1;
        assert!(page.regions.len() <= 3);
        for r in &page.regions {
            assert_eq!(r.name, format!("regions/{}", r.code));
            assert!(!r.issuers.is_empty() || r.online, "{r:?}");
            assert!(!r.native_labels.is_empty());
            assert!(r.health.is_some());
            if r.code == "330000" {
                assert!(r.online);
                assert!(r.native_labels.contains(&"绿码".to_string()));
            }
            codes.push(r.code.clone());
        }
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        codes,
        [
            "000000", "330000", "410000", "420000", "430000", "440000", "510000"
        ]
    );
    let status = national
        .list_regions(ListRegionsRequest {
            page_size: 3,
            page_token: "not-a-token".into(),
        })
        .await
        .expect_err("invalid token");
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = national
        .list_regions(ListRegionsRequest {
            page_size: -1,
            page_token: String::new(),
        })
        .await
        .expect_err("negative size");
    assert_eq!(status.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn only_national_callers_see_the_national_view_and_windows_are_bounded() {
    let node = TestNode::start().await;
    for (role, region) in [
        ("checkpoint", None),
        ("carrier", None),
        ("province", Some("330000")),
    ] {
        let mut client = CoordinationServiceClient::new(node.channel_as(role, region).await);
        let status = client
            .get_national_summary(GetNationalSummaryRequest::default())
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::PermissionDenied, "{role}");
        let status = client
            .list_regions(ListRegionsRequest::default())
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::PermissionDenied, "{role}");
    }
    let mut national = CoordinationServiceClient::new(node.channel_as("national", None).await);
    // Counters are kept 14 days (a day by minute, then by hour): 15 days is too long.
    for (start, end) in [(-15 * 24 * 3600, 0), (0, -60)] {
        let status = national
            .get_national_summary(GetNationalSummaryRequest {
                start_time: Some(prost_time(start)),
                end_time: Some(prost_time(end)),
                window: None,
            })
            .await
            .expect_err("bad window");
        assert_eq!(status.code(), Code::InvalidArgument, "{start}..{end}");
    }
}
