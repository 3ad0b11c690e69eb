//! A revocation's reason decides what a code's signing time is worth, over the real gRPC stack:
//! a code signed one minute before the effective time still verifies when the issuer was
//! `retired` or `superseded`, and is REJECT / REVOKED_ISSUER under `key_compromise` (a stolen key
//! can put any `signed_at` on a code, so its time proves nothing).

use std::time::Duration;

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{Verdict, Verification, VerifyCodeRequest};
use huren_registry::doc::region::{Revocation, RevocationReason};
use huren_tests::node::{TestNode, resident_id};
use tonic::transport::Channel;

async fn verify(client: &mut RecognitionServiceClient<Channel>, payload: &str) -> Verification {
    client
        .verify_code(VerifyCodeRequest {
            payload: payload.to_string(),
            verifying_region: String::new(),
            purpose: "checkpoint-entry".into(),
        })
        .await
        .expect("verified")
        .into_inner()
        .verification
        .expect("verification")
}

/// Publishes Hubei's issuer revoked for `reason` from one minute after the code was signed,
/// and waits until the node answers under it.
async fn revoke(
    node: &mut TestNode,
    client: &mut RecognitionServiceClient<Channel>,
    payload: &str,
    reason: RevocationReason,
) -> Verification {
    let issuer = node
        .pki()
        .manifest
        .region("420000")
        .expect("Hubei")
        .issuer
        .id
        .clone();
    let now = time::OffsetDateTime::now_utc();
    let version = node
        .dev
        .edit_region(
            "420000",
            |doc| {
                doc.revocations = vec![Revocation {
                    issuer,
                    // The code was signed just now: one minute before the effective time.
                    effective_from: huren_registry::canonical::whole_seconds(
                        now + time::Duration::minutes(1),
                    ),
                    reason,
                }]
            },
            now,
        )
        .expect("published")
        .version();
    node.dev.save(&node.registry_dir()).expect("saved");
    for _ in 0..100 {
        let v = verify(client, payload).await;
        if v.registry_version >= version {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the node never took registry version {version}");
}

#[tokio::test]
async fn a_code_signed_before_the_revocation_is_rejected_only_for_a_compromised_key() {
    let mut node = TestNode::start().await;
    let code = node
        .issue(
            RegionCode::HUBEI,
            &resident_id("420106", 7),
            "周九",
            Colour::Green,
        )
        .await;
    let mut client = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
    assert_eq!(
        verify(&mut client, &code.payload).await.verdict(),
        Verdict::Pass
    );

    for reason in [RevocationReason::Retired, RevocationReason::Superseded] {
        let v = revoke(&mut node, &mut client, &code.payload, reason.clone()).await;
        assert_eq!(
            v.verdict(),
            Verdict::Pass,
            "{reason}: a code signed before the effective time stays valid: {:?}",
            v.reasons
        );
    }

    let v = revoke(
        &mut node,
        &mut client,
        &code.payload,
        RevocationReason::KeyCompromise,
    )
    .await;
    assert_eq!(v.verdict(), Verdict::Reject, "{:?}", v.reasons);
    assert_eq!(v.reasons[0].code, "REVOKED_ISSUER");
}
