//! A served node whose audit writer stops (writes fail as on a full disk): calls fail closed,
//! `/readyz` and the health service say so for as long as it lasts, and once writes succeed
//! again the node serves with no restart and the chain verifies end to end.

use std::time::Duration;

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::VerifyCodeRequest;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_tests::health;
use huren_tests::node::{NodeOptions, TestNode, resident_id};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;

fn verify(payload: &str) -> VerifyCodeRequest {
    VerifyCodeRequest {
        payload: payload.to_string(),
        verifying_region: String::new(),
        purpose: "checkpoint-entry".into(),
    }
}

#[tokio::test]
async fn a_stopped_audit_writer_makes_the_node_unready_until_it_resumes_by_itself() {
    let node = TestNode::start_with(NodeOptions {
        configure: Box::new(|c| c.audit.retry_every = Duration::from_millis(50)),
        ..NodeOptions::default()
    })
    .await;
    let code = node
        .issue(
            RegionCode::SICHUAN,
            &resident_id("510104", 3),
            "张三",
            Colour::Green,
        )
        .await;
    let channel = node.channel_as("checkpoint", None).await;
    let mut checkpoint = RecognitionServiceClient::new(channel.clone());
    checkpoint
        .verify_code(verify(&code.payload))
        .await
        .expect("served");
    assert_eq!(node.gateway.admin_get("/readyz").await.0, 200);
    assert_eq!(health(&channel).await, [ServingStatus::Serving; 2]);

    huren_audit::fault::fail_writes(&node.audit_dir(), true);
    let refused = checkpoint
        .verify_code(verify(&code.payload))
        .await
        .expect_err("no answer goes out unrecorded");
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    assert_eq!(
        huren_tests::reason(&refused).as_deref(),
        Some("AUDIT_UNAVAILABLE")
    );
    let why = node.gateway.wait_readyz(503).await;
    assert!(why.contains("audit"), "/readyz says why: {why:?}");
    assert_eq!(health(&channel).await, [ServingStatus::NotServing; 2]);

    // Still stopped through several retries while writes keep failing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(node.gateway.admin_get("/readyz").await.0, 503);
    assert_eq!(health(&channel).await, [ServingStatus::NotServing; 2]);
    let still = checkpoint
        .verify_code(verify(&code.payload))
        .await
        .expect_err("still stopped");
    assert_eq!(still.code(), Code::Unavailable);

    // Space is back: no restart, the writer resumes and the node serves again.
    huren_audit::fault::fail_writes(&node.audit_dir(), false);
    node.gateway.wait_readyz(200).await;
    assert_eq!(health(&channel).await, [ServingStatus::Serving; 2]);
    checkpoint
        .verify_code(verify(&code.payload))
        .await
        .expect("served again");

    // The whole chain verifies, across the new segment, with no gap where calls were refused.
    let report = huren_audit::verify(&node.audit_dir()).expect("audit log readable");
    assert!(report.is_ok(), "{report}");
    let records = node.audit_records();
    assert_eq!(records.len(), 2, "one record per answered call");
    assert_eq!(
        records.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![1, 2]
    );
}
