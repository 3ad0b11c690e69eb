//! Subject refs over real mTLS with three province callers: naming another region's rules never
//! yields that region's refs, and one caller under one set of rules always gets the same ref.

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::VerifyCodeRequest;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_tests::node::{TestNode, resident_id};

/// The ref `province` receives for `payload` when it asks under `verifying_region`'s rules.
async fn ref_for(node: &TestNode, province: &str, verifying_region: &str, payload: &str) -> String {
    let mut client =
        RecognitionServiceClient::new(node.channel_as("province", Some(province)).await);
    let v = client
        .verify_code(VerifyCodeRequest {
            payload: payload.to_string(),
            verifying_region: verifying_region.to_string(),
            purpose: "de-duplication".into(),
        })
        .await
        .expect("verified")
        .into_inner()
        .verification
        .expect("a verification");
    let r = v.subject.expect("a province sees the subject").subject_ref;
    assert_eq!(r.len(), 64, "{province} under {verifying_region}: {r:?}");
    r
}

#[tokio::test]
async fn three_provinces_under_one_set_of_rules_get_three_unrelated_refs() {
    let node = TestNode::start().await;
    // A Hunan resident: none of the three callers is the issuing province.
    let id = resident_id("430102", 7);
    let code = node
        .issue(RegionCode::HUNAN, &id, "王五", Colour::Green)
        .await;
    let callers = ["330000", "510000", "410000"];

    // Everyone asks under Zhejiang's rules: before the fix, Sichuan and Henan received exactly
    // Zhejiang's own ref and could join Zhejiang's records.
    let mut under_zhejiang = Vec::new();
    for caller in callers {
        under_zhejiang.push(ref_for(&node, caller, "330000", &code.payload).await);
    }
    for (i, a) in under_zhejiang.iter().enumerate() {
        for (j, b) in under_zhejiang.iter().enumerate().skip(i + 1) {
            assert_ne!(
                a, b,
                "{} and {} got the same ref for one person under 330000",
                callers[i], callers[j]
            );
        }
    }

    // Each caller under its own rules: unrelated to what it gets under Zhejiang's.
    for (caller, zj_ref) in callers.iter().zip(&under_zhejiang) {
        let own = ref_for(&node, caller, "", &code.payload).await;
        if *caller != "330000" {
            assert_ne!(&own, zj_ref, "{caller}: own rules vs Zhejiang's");
        }
        // The same caller under the same rules always gets the same ref (de-duplication).
        assert_eq!(
            &ref_for(&node, caller, "330000", &code.payload).await,
            zj_ref,
            "{caller} asked twice under 330000"
        );
        assert_eq!(ref_for(&node, caller, "", &code.payload).await, own);
    }

    // The audit names the person as each caller knows them, nothing shared between callers.
    let audit = node.audit_records();
    for (caller, zj_ref) in callers.iter().zip(&under_zhejiang) {
        assert!(
            audit
                .iter()
                .any(|r| r.entry.caller.contains(&format!("/region/{caller}/"))
                    && &r.entry.subject_ref == zj_ref),
            "{caller}'s ref is audited"
        );
    }
}
