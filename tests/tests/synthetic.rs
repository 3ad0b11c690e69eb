//! Synthetic test persons (the reverse-testing prober's): a code signed by an issuer the
//! registry flags synthetic, or an online region's test person (its service says so), is judged
//! like any other, but the national summary never counts it.

use std::time::Duration;

use huren::recognition::pipeline::SYNTHETIC_MARK;
use huren_adapters::sim::IssueInput;
use huren_adapters::{Colour, RegionCode, ResidentId};
use huren_proto::v1::coordination_service_client::CoordinationServiceClient;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{
    ConfirmWorkersRequest, GetNationalSummaryRequest, Verdict, VerifyCodeRequest, Worker, worker,
};
use huren_tests::node::{TestNode, resident_id};

/// Hunan's second dev issuer, flagged as its probe issuer here.
const PROBE_ISSUER: &str = "hn-sm2-2026-01";

#[tokio::test]
async fn a_synthetic_issuers_code_is_judged_but_never_counted_in_the_national_summary() {
    let mut node = TestNode::start().await;
    let now = time::OffsetDateTime::now_utc();
    node.dev
        .edit_region(
            "430000",
            |doc| {
                if let Some(issuer) = doc.issuers.get_mut(PROBE_ISSUER) {
                    issuer.synthetic = true;
                }
            },
            now,
        )
        .expect("Hunan flags its probe issuer");
    huren_registry::store::save(&node.registry_dir(), &node.dev.registry).expect("published");
    // The node looks for a new registry every 100 ms.
    tokio::time::sleep(Duration::from_millis(800)).await;

    let synthetic = IssueInput {
        issuer: Some(PROBE_ISSUER.into()),
        ..IssueInput::new(
            ResidentId::parse(&resident_id("430102", 1)).expect("valid ID"),
            "测一",
            Colour::Green,
        )
    };
    let probe = node
        .service(RegionCode::HUNAN)
        .issue(synthetic)
        .await
        .expect("synthetic code issued");
    let real = node
        .issue(
            RegionCode::HUNAN,
            &resident_id("430102", 2),
            "周二",
            Colour::Green,
        )
        .await;

    let mut checkpoint = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
    for payload in [&probe.payload, &real.payload] {
        let v = checkpoint
            .verify_code(VerifyCodeRequest {
                payload: payload.clone(),
                ..Default::default()
            })
            .await
            .expect("verified")
            .into_inner()
            .verification
            .expect("a verification");
        assert_eq!(v.verdict(), Verdict::Pass, "judged like any other code");
    }

    let summary = CoordinationServiceClient::new(node.channel_as("national", None).await)
        .get_national_summary(GetNationalSummaryRequest::default())
        .await
        .expect("summary")
        .into_inner();
    let hunan: u64 = summary
        .verifications
        .iter()
        .filter(|v| v.issuing_region == "430000")
        .map(|v| v.count)
        .sum();
    assert_eq!(hunan, 1, "only the real person is counted");
}

#[tokio::test]
async fn a_test_person_of_an_online_region_is_confirmed_but_counted_nowhere() {
    let node = TestNode::start().await;
    // Henan's codes are online code ids: its service's record says who is a test person.
    let person = |n: u32, name: &str| {
        IssueInput::new(
            ResidentId::parse(&resident_id("411302", n)).expect("valid ID"),
            name,
            Colour::Green,
        )
    };
    let henan = node.service(RegionCode::HENAN);
    let test_person = henan
        .issue(IssueInput {
            synthetic: true,
            ..person(1, "测二")
        })
        .await
        .expect("test person issued");
    let real = henan.issue(person(2, "吴三")).await.expect("issued");

    let mut province =
        RecognitionServiceClient::new(node.channel_as("province", Some("410000")).await);
    let answer = province
        .confirm_workers(ConfirmWorkersRequest {
            destination_region: "330000".into(),
            workers: [("test", &test_person), ("real", &real)]
                .map(|(worker_ref, code)| Worker {
                    worker_ref: worker_ref.into(),
                    identity: Some(worker::Identity::Payload(code.payload.clone())),
                })
                .to_vec(),
            purpose: "labour-export".into(),
        })
        .await
        .expect("confirmed")
        .into_inner();
    for row in &answer.confirmations {
        let verdict = row.verification.as_ref().map(|v| v.verdict());
        assert_eq!(
            verdict,
            Some(Verdict::Pass),
            "the verdict is shown: {row:?}"
        );
    }

    let summary = CoordinationServiceClient::new(node.channel_as("national", None).await)
        .get_national_summary(GetNationalSummaryRequest::default())
        .await
        .expect("summary")
        .into_inner();
    assert_eq!(
        summary.decisions_issued_in("410000"),
        1,
        "only the real worker's decision: {summary:?}"
    );
    let confirmed: u64 = summary
        .confirmations
        .iter()
        .map(|c| c.confirmed + c.not_confirmed)
        .sum();
    assert_eq!(
        confirmed, 1,
        "only the real worker's confirmation: {summary:?}"
    );
    let marked = node
        .audit_records()
        .iter()
        .filter(|r| r.entry.purpose.starts_with(SYNTHETIC_MARK))
        .count();
    assert_eq!(marked, 1, "the test person's decision is audited as one");
}
