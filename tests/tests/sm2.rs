//! Hunan's SM2 issuer end to end: the node's dev registry lists it beside the P-256 one, its codes
//! verify over real mTLS, and a forged one is REJECT with FORGED.

use huren_adapters::sim::IssueInput;
use huren_adapters::{Colour, RegionCode, ResidentId};
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{Verdict, VerifyCodeRequest};
use huren_tests::node::{TestNode, resident_id};

const SM2_ISSUER: &str = "hn-sm2-2026-01";

fn verify(payload: &str) -> VerifyCodeRequest {
    VerifyCodeRequest {
        payload: payload.to_string(),
        verifying_region: String::new(),
        purpose: "checkpoint-entry".into(),
    }
}

/// The payload with one hex digit of its signature changed.
fn flip_signature_digit(payload: &str) -> String {
    let mut bytes = payload.as_bytes().to_vec();
    let last = bytes.len() - 1;
    bytes[last] = if bytes[last] == b'0' { b'1' } else { b'0' };
    String::from_utf8(bytes).expect("hex stays ASCII")
}

#[tokio::test]
async fn an_sm2_hunan_code_verifies_and_a_forged_one_is_forged() {
    let node = TestNode::start().await;
    let id = ResidentId::parse(&resident_id("430102", 1)).expect("valid id");
    let mut input = IssueInput::new(id, "张三", Colour::Green);
    input.issuer = Some(SM2_ISSUER.into());
    let code = node
        .service(RegionCode::HUNAN)
        .issue(input)
        .await
        .expect("the SM2 issuer signs");
    assert!(code.payload.starts_with("EHC1:430000:"));

    let mut checkpoint = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
    let v = checkpoint
        .verify_code(verify(&code.payload))
        .await
        .expect("verified")
        .into_inner()
        .verification
        .expect("a verification");
    assert_ne!(v.verdict(), Verdict::Reject, "{v:?}");
    assert!(v.reasons.iter().all(|r| r.code != "FORGED"), "{v:?}");
    assert_eq!(v.status.expect("status").issuing_region, "430000");

    let v = checkpoint
        .verify_code(verify(&flip_signature_digit(&code.payload)))
        .await
        .expect("verified")
        .into_inner()
        .verification
        .expect("a verification");
    assert_eq!(v.verdict(), Verdict::Reject);
    assert_eq!(v.reasons[0].code, "FORGED", "{v:?}");
}
