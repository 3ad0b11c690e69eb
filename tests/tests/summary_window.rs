//! GetNationalSummary over a 14-day window, the length a quarantine question needs: asked by
//! `window`, it counts today's decisions, says which window it counted, and refuses longer or
//! contradictory windows.

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::coordination_service_client::CoordinationServiceClient;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{GetNationalSummaryRequest, VerifyCodeRequest};
use huren_tests::node::{TestNode, resident_id};
use tonic::Code;

const DAY: i64 = 24 * 3600;

fn window(seconds: i64) -> Option<prost_types::Duration> {
    Some(prost_types::Duration { seconds, nanos: 0 })
}

#[tokio::test]
async fn a_fourteen_day_window_counts_today_and_says_what_it_counted() {
    let node = TestNode::start().await;
    let code = node
        .issue(
            RegionCode::HUNAN,
            &resident_id("430102", 1),
            "周一",
            Colour::Red,
        )
        .await;
    let mut checkpoint = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
    checkpoint
        .verify_code(VerifyCodeRequest {
            payload: code.payload.clone(),
            ..Default::default()
        })
        .await
        .expect("verified");

    let mut national = CoordinationServiceClient::new(node.channel_as("national", None).await);
    let asked_at = time::OffsetDateTime::now_utc().unix_timestamp();
    let summary = national
        .get_national_summary(GetNationalSummaryRequest {
            window: window(14 * DAY),
            ..Default::default()
        })
        .await
        .expect("a 14-day window is served")
        .into_inner();
    let counted: u64 = summary
        .verifications
        .iter()
        .filter(|v| v.issuing_region == "430000")
        .map(|v| v.count)
        .sum();
    assert_eq!(counted, 1, "{:?}", summary.verifications);
    // Older than a day, counts are kept by hour: the window starts on the first whole hour
    // inside the 14 days asked.
    let start = summary.start_time.expect("start").seconds;
    let end = summary.end_time.expect("end").seconds;
    assert!(start >= asked_at - 14 * DAY - 60, "{start} vs {asked_at}");
    assert!(start <= asked_at - 14 * DAY + 3600, "{start} vs {asked_at}");
    assert_eq!(start % 3600, 0, "whole hours before the last day");
    assert!(end >= asked_at, "{end} vs {asked_at}");

    for (request, field) in [
        (
            GetNationalSummaryRequest {
                window: window(15 * DAY),
                ..Default::default()
            },
            "window",
        ),
        (
            GetNationalSummaryRequest {
                window: window(DAY),
                start_time: summary.start_time,
                ..Default::default()
            },
            "window",
        ),
        (
            GetNationalSummaryRequest {
                window: window(-60),
                ..Default::default()
            },
            "window",
        ),
    ] {
        let status = national
            .get_national_summary(request)
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.message().contains(field), "{}", status.message());
    }
}
