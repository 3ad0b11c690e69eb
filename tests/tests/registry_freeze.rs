//! A node frozen on an expired registry (issue 9, item 3): once the registry it holds expires
//! while it serves, no code passes (REVIEW, REGISTRY_EXPIRED), `/readyz` answers 503 and health
//! NOT_SERVING, the expiry gauge says so; the next registry published brings it back. Start-up
//! refuses the same expired registry, so runtime and start-up now agree.

use std::time::Duration;

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{Verdict, Verification, VerifyCodeRequest};
use huren_tests::node::{TestNode, resident_id};
use huren_tests::{counter, health};
use time::OffsetDateTime;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;

const EXPIRES_IN: &str = "huren_registry_expires_in_seconds";

async fn verify(channel: &Channel, payload: &str) -> Verification {
    RecognitionServiceClient::new(channel.clone())
        .verify_code(VerifyCodeRequest {
            payload: payload.to_string(),
            verifying_region: String::new(),
            purpose: "checkpoint-entry".into(),
        })
        .await
        .expect("answered")
        .into_inner()
        .verification
        .expect("verification")
}

/// Publishes a new registry version whose timestamp lives `lifetime`, as `huren registry
/// publish` would, and waits (up to 10 s) until the node judges under it.
async fn publish(node: &mut TestNode, lifetime: time::Duration, channel: &Channel, payload: &str) {
    let before = node.dev.registry.version();
    node.dev.options.timestamp_lifetime = lifetime;
    node.dev
        .refresh(OffsetDateTime::now_utc())
        .expect("published");
    node.dev.save(&node.registry_dir()).expect("saved");
    for _ in 0..100 {
        if verify(channel, payload).await.registry_version > before {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the node never reloaded registry version {}", before + 1);
}

/// Polls the expiry gauge (up to 5 s) until `until` holds; returns its last value.
async fn wait_gauge(node: &TestNode, until: impl Fn(f64) -> bool) -> f64 {
    let mut left = f64::NAN;
    for _ in 0..100 {
        left = counter(&node.gateway.metrics().await, EXPIRES_IN, &[]);
        if until(left) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    left
}

#[tokio::test]
async fn an_expired_registry_freezes_the_node_until_a_newer_one_is_published() {
    let mut node = TestNode::start().await;
    let code = node
        .issue(
            RegionCode::GUANGDONG,
            &resident_id("440106", 9),
            "张三",
            Colour::Green,
        )
        .await;
    let channel = node.channel_as("checkpoint", None).await;
    assert_eq!(
        verify(&channel, &code.payload).await.verdict(),
        Verdict::Pass
    );

    // A registry whose timestamp expires a few seconds from now, taken while serving.
    publish(
        &mut node,
        time::Duration::seconds(6),
        &channel,
        &code.payload,
    )
    .await;
    let left = wait_gauge(&node, |left| left <= 6.0).await;
    assert!(0.0 < left, "{EXPIRES_IN} = {left} before expiry");
    assert_eq!(node.gateway.admin_get("/readyz").await.0, 200);

    // Expired: 503 with the reason, NOT_SERVING, and the same green code is no longer PASS.
    let why = node.gateway.wait_readyz(503).await;
    assert!(
        why.contains("REGISTRY_EXPIRED"),
        "/readyz says why: {why:?}"
    );
    assert_eq!(health(&channel).await, [ServingStatus::NotServing; 2]);
    let frozen = verify(&channel, &code.payload).await;
    assert_eq!(frozen.verdict(), Verdict::Review, "{frozen:?}");
    assert_eq!(frozen.reasons[0].code, "REGISTRY_EXPIRED", "{frozen:?}");
    let left = counter(&node.gateway.metrics().await, EXPIRES_IN, &[]);
    assert!(left <= 0.0, "{EXPIRES_IN} = {left} after expiry");

    // The next registry published brings the node back, with no restart.
    publish(&mut node, time::Duration::days(1), &channel, &code.payload).await;
    node.gateway.wait_readyz(200).await;
    assert_eq!(health(&channel).await, [ServingStatus::Serving; 2]);
    assert_eq!(
        verify(&channel, &code.payload).await.verdict(),
        Verdict::Pass
    );
    let left = counter(&node.gateway.metrics().await, EXPIRES_IN, &[]);
    assert!(left > 23.0 * 3600.0, "{EXPIRES_IN} = {left}");
}
