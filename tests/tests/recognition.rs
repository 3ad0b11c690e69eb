//! VerifyCode and VerifyCodes on a full node over real mTLS: the verifying region's rules (with
//! Zhejiang's bilateral agreement for Sichuan), role shaping, batches whose bad entries fail
//! alone, and an audit record for every decision.

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{
    StatusSource, Verdict, Verification, VerifyCodeRequest, VerifyCodesRequest,
    VerifyCodesResponse, verify_codes_result,
};
use huren_tests::node::{TestNode, extend_keeping_signature, resident_id, swap_signature};
use prost::Message;
use tonic::Code;
use tonic::transport::Channel;

fn verify(payload: &str) -> VerifyCodeRequest {
    VerifyCodeRequest {
        payload: payload.to_string(),
        verifying_region: String::new(),
        purpose: "checkpoint-entry".into(),
    }
}

/// A VerifyCodes call of `payloads`, which must be answered.
async fn answered(
    client: &mut RecognitionServiceClient<Channel>,
    payloads: Vec<String>,
) -> VerifyCodesResponse {
    client
        .verify_codes(VerifyCodesRequest {
            payloads,
            ..Default::default()
        })
        .await
        .expect("the batch is answered")
        .into_inner()
}

/// Every entry of a batch's answer, each of which must be a verification.
fn verifications(response: &VerifyCodesResponse) -> Vec<&Verification> {
    response
        .results
        .iter()
        .enumerate()
        .map(|(i, r)| match &r.outcome {
            Some(verify_codes_result::Outcome::Verification(v)) => v,
            other => panic!("entry {i}: {other:?}"),
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn a_sichuan_code_at_a_yuhang_checkpoint_gets_zhejiangs_verdict() {
    let node = TestNode::start().await;
    let (green_id, red_id) = (resident_id("510104", 1), resident_id("510104", 2));
    let green = node
        .issue(RegionCode::SICHUAN, &green_id, "张三", Colour::Green)
        .await;
    let turned = node
        .issue(RegionCode::SICHUAN, &red_id, "李四", Colour::Green)
        .await;
    // Signed green, red since: only a live check can know.
    node.set_status(RegionCode::SICHUAN, &red_id, Colour::Red)
        .await;

    let mut checkpoint = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
    let response = checkpoint
        .verify_code(verify(&green.payload))
        .await
        .expect("verified")
        .into_inner();
    assert!(!contains(&response.encode_to_vec(), &green_id));
    let v = response.verification.expect("a verification");
    assert_eq!(v.verdict(), Verdict::Pass);
    assert_eq!(v.verifying_region, "330000", "Yuhang is judged by Zhejiang");
    assert_eq!(v.agreement, "agreements/330000-510000");
    assert_eq!(
        v.source(),
        StatusSource::Online,
        "the bilateral rule asks Sichuan live"
    );
    let subject = v.subject.expect("subject");
    assert_eq!(subject.masked_name, "张*");
    assert!(
        subject.subject_ref.is_empty(),
        "a checkpoint never links people"
    );
    assert_eq!(v.status.expect("status").issuing_region, "510000");
    assert!(v.registry_version >= 1);

    let v = checkpoint
        .verify_code(verify(&turned.payload))
        .await
        .expect("verified")
        .into_inner()
        .verification
        .expect("a verification");
    assert_eq!(v.verdict(), Verdict::CentralQuarantine, "{v:?}");
    assert_eq!(v.quarantine_days, 14);

    // Guangdong has no bilateral agreement with Sichuan: the national one, read offline, and
    // the signed green stands.
    let mut province =
        RecognitionServiceClient::new(node.channel_as("province", Some("510000")).await);
    let response = province
        .verify_code(VerifyCodeRequest {
            verifying_region: "440000".into(),
            ..verify(&turned.payload)
        })
        .await
        .expect("verified")
        .into_inner();
    assert!(!contains(&response.encode_to_vec(), &red_id));
    let v = response.verification.expect("a verification");
    assert_eq!(v.verdict(), Verdict::Pass);
    assert_eq!(v.agreement, "agreements/national");
    assert_eq!(v.source(), StatusSource::OfflineSigned);
    assert_eq!(v.verifying_region, "440000");
    let subject = v.subject.expect("subject");
    assert_eq!(
        subject.subject_ref.len(),
        64,
        "a province gets the keyed ref"
    );

    let audit = node.audit_records();
    assert_eq!(audit.len(), 3, "one record per decision");
    assert!(audit.iter().all(|r| r.entry.issuing_region == "510000"));
    assert_eq!(audit[1].entry.verdict, "CENTRAL_QUARANTINE");
    assert_eq!(
        audit[2].entry.subject_ref, subject.subject_ref,
        "the audit names the person as the verifying region knows them"
    );
    assert!(audit[0].entry.caller.contains("/role/checkpoint/"));
    assert_eq!(audit[0].entry.purpose, "checkpoint-entry");
}

#[tokio::test]
async fn a_batch_mixing_good_forged_and_unclaimed_payloads_answers_each_in_order() {
    let node = TestNode::start().await;
    let gd_a = node
        .issue(
            RegionCode::GUANGDONG,
            &resident_id("440106", 1),
            "王五",
            Colour::Green,
        )
        .await;
    let gd_b = node
        .issue(
            RegionCode::GUANGDONG,
            &resident_id("440106", 2),
            "赵六",
            Colour::Red,
        )
        .await;
    let zj = node
        .issue(
            RegionCode::ZHEJIANG,
            &resident_id("330106", 3),
            "钱七",
            Colour::Yellow,
        )
        .await;
    let hb = node
        .issue(
            RegionCode::HUBEI,
            &resident_id("420106", 4),
            "孙八",
            Colour::Green,
        )
        .await;
    let payloads = vec![
        gd_a.payload.clone(),
        swap_signature(&gd_a.payload, &gd_b.payload),
        "not a health code".to_string(),
        zj.payload.clone(),
        hb.payload.clone(),
        gd_b.payload.clone(),
    ];
    let mut checkpoint = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
    let response = checkpoint
        .verify_codes(VerifyCodesRequest {
            payloads,
            verifying_region: String::new(),
            purpose: "gate".into(),
        })
        .await
        .expect("the batch is answered")
        .into_inner();
    let bytes = response.encode_to_vec();
    for n in 1..=4 {
        let prefix = ["440106", "440106", "330106", "420106"][n - 1];
        assert!(!contains(&bytes, &resident_id(prefix, n as u32)));
    }
    let r = &response.results;
    assert_eq!(r.len(), 6);
    assert!(r.iter().enumerate().all(|(i, x)| x.index == i as i32));
    let verdict = |i: usize| match &r[i].outcome {
        Some(verify_codes_result::Outcome::Verification(v)) => v.verdict(),
        other => panic!("entry {i}: {other:?}"),
    };
    assert_eq!(verdict(0), Verdict::Pass);
    assert_eq!(
        verdict(1),
        Verdict::Reject,
        "the swapped signature is a forgery"
    );
    match &r[1].outcome {
        Some(verify_codes_result::Outcome::Verification(v)) => {
            assert_eq!(v.reasons[0].code, "FORGED");
            assert!(v.subject.as_ref().is_none_or(|s| s.masked_name.is_empty()));
        }
        other => panic!("{other:?}"),
    }
    match &r[2].outcome {
        Some(verify_codes_result::Outcome::Error(e)) => {
            assert_eq!(e.reason, "PAYLOAD_NOT_CLAIMED");
            assert_eq!(e.code, Code::InvalidArgument as i32);
        }
        other => panic!("entry 2: {other:?}"),
    }
    assert_eq!(verdict(3), Verdict::HomeQuarantine);
    assert_eq!(verdict(4), Verdict::Pass);
    assert_eq!(verdict(5), Verdict::CentralQuarantine);

    // The unclaimed payload decided nothing; the other five are on record.
    assert_eq!(node.audit_records().len(), 5);
}

#[tokio::test]
async fn an_oversized_or_empty_batch_is_refused_whole() {
    let node = TestNode::start().await;
    let mut checkpoint = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
    let status = checkpoint
        .verify_codes(VerifyCodesRequest {
            payloads: vec!["x".to_string(); 10_001],
            ..Default::default()
        })
        .await
        .expect_err("over the limit");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let status = checkpoint
        .verify_codes(VerifyCodesRequest::default())
        .await
        .expect_err("empty");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(node.audit_records().is_empty());
}

#[tokio::test]
async fn an_unclaimed_single_payload_is_an_invalid_argument_with_its_reason() {
    let node = TestNode::start().await;
    let mut checkpoint = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
    let status = checkpoint
        .verify_code(verify("https://example.com/?code=1"))
        .await
        .expect_err("nobody claims it");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert_eq!(
        huren_tests::reason(&status).as_deref(),
        Some("PAYLOAD_NOT_CLAIMED")
    );
}

#[tokio::test]
async fn roles_that_do_not_verify_codes_are_refused() {
    let node = TestNode::start().await;
    let code = node
        .issue(
            RegionCode::HUNAN,
            &resident_id("430102", 1),
            "周九",
            Colour::Green,
        )
        .await;
    for (role, region) in [("carrier", None), ("national", None)] {
        let mut client = RecognitionServiceClient::new(node.channel_as(role, region).await);
        let status = client
            .verify_code(verify(&code.payload))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::PermissionDenied, "{role}: {status:?}");
        let status = client
            .verify_codes(VerifyCodesRequest {
                payloads: vec![code.payload.clone()],
                ..Default::default()
            })
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::PermissionDenied, "{role}");
    }
    // A checkpoint asks only under its own province's rules.
    let mut checkpoint = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
    let status = checkpoint
        .verify_code(VerifyCodeRequest {
            verifying_region: "440000".into(),
            ..verify(&code.payload)
        })
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(node.audit_records().is_empty(), "no decision was made");
}

#[tokio::test]
async fn when_the_audit_log_cannot_record_no_decision_goes_out() {
    let node = TestNode::start().await;
    let code = node
        .issue(
            RegionCode::HUNAN,
            &resident_id("430102", 1),
            "周九",
            Colour::Green,
        )
        .await;
    let mut checkpoint = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
    checkpoint
        .verify_code(verify(&code.payload))
        .await
        .expect("recorded and answered");
    // Stop the writer, as a failed fsync would.
    node.node
        .recognizer()
        .audit
        .clone()
        .close()
        .await
        .expect("closed");
    let status = checkpoint
        .verify_code(verify(&code.payload))
        .await
        .expect_err("fails closed");
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(
        huren_tests::reason(&status).as_deref(),
        Some("AUDIT_UNAVAILABLE")
    );
    let status = checkpoint
        .verify_codes(VerifyCodesRequest {
            payloads: vec![code.payload.clone(), "unclaimed".into()],
            ..Default::default()
        })
        .await
        .expect_err("the whole batch fails closed");
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(node.audit_records().len(), 1);
}

#[tokio::test]
async fn a_slow_region_degrades_within_the_callers_deadline_instead_of_timing_out() {
    let node = TestNode::start().await;
    let code = node
        .issue(
            RegionCode::ZHEJIANG,
            &resident_id("330106", 1),
            "钱七",
            Colour::Green,
        )
        .await;
    node.service(RegionCode::ZHEJIANG)
        .set_faults(huren_adapters::sim::Faults {
            latency: std::time::Duration::from_secs(5),
            ..Default::default()
        });
    let mut checkpoint = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
    let mut request = tonic::Request::new(verify(&code.payload));
    request.set_timeout(std::time::Duration::from_millis(1500));
    let started = std::time::Instant::now();
    let v = checkpoint
        .verify_code(request)
        .await
        .expect("answered before the deadline")
        .into_inner()
        .verification
        .expect("verification");
    assert!(started.elapsed() < std::time::Duration::from_millis(1500));
    assert_eq!(v.source(), StatusSource::Degraded);
    assert_eq!(v.verdict(), Verdict::Review, "never PASS without Zhejiang");
    assert!(
        v.reasons
            .iter()
            .any(|r| r.code == "DEGRADED" && r.message.contains("status service")),
        "the reason says why Zhejiang was not reached: {:?}",
        v.reasons
    );
}

#[tokio::test]
async fn a_newly_published_registry_applies_to_the_next_call_without_a_restart() {
    let mut node = TestNode::start().await;
    let code = node
        .issue(
            RegionCode::HUBEI,
            &resident_id("420106", 1),
            "孙八",
            Colour::Green,
        )
        .await;
    let mut checkpoint = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
    let before = checkpoint
        .verify_code(verify(&code.payload))
        .await
        .expect("verified")
        .into_inner()
        .verification
        .expect("verification");
    assert_eq!(before.verdict(), Verdict::Pass);

    // Hubei revokes the issuer that signed the code, effective before it was signed.
    let issuer = node
        .pki()
        .manifest
        .region("420000")
        .expect("Hubei")
        .issuer
        .id
        .clone();
    let now = time::OffsetDateTime::now_utc();
    node.dev
        .edit_region(
            "420000",
            |doc| {
                doc.revocations
                    .push(huren_registry::doc::region::Revocation {
                        issuer,
                        effective_from: now - time::Duration::days(1),
                        reason: "key compromise".into(),
                    })
            },
            now,
        )
        .expect("published");
    node.dev.save(&node.registry_dir()).expect("saved");

    let mut after = before.clone();
    for _ in 0..50 {
        after = checkpoint
            .verify_code(verify(&code.payload))
            .await
            .expect("verified")
            .into_inner()
            .verification
            .expect("verification");
        if after.registry_version > before.registry_version {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(after.registry_version > before.registry_version, "reloaded");
    assert_eq!(after.verdict(), Verdict::Reject);
    assert_eq!(after.reasons[0].code, "REVOKED_ISSUER");
}

#[tokio::test]
async fn a_full_batch_of_ten_thousand_codes_is_answered_in_order() {
    let node = TestNode::start().await;
    let mut payloads = Vec::new();
    for (n, region, prefix) in [
        (1, RegionCode::GUANGDONG, "440106"),
        (2, RegionCode::HUNAN, "430102"),
        (3, RegionCode::HUBEI, "420106"),
        (4, RegionCode::NATIONAL, "110105"),
    ] {
        let code = node
            .issue(region, &resident_id(prefix, n), "张三", Colour::Green)
            .await;
        payloads.push(code.payload);
    }
    let batch: Vec<String> = (0..10_000).map(|i| payloads[i % 4].clone()).collect();
    let mut checkpoint = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
    let response = answered(&mut checkpoint, batch).await;
    assert_eq!(response.results.len(), 10_000);
    assert!(response.results.iter().enumerate().all(|(i, r)| {
        r.index == i as i32
            && matches!(&r.outcome, Some(verify_codes_result::Outcome::Verification(v)) if v.verdict() == Verdict::Pass)
    }));
    assert_eq!(node.audit_records().len(), 10_000);
}

/// The batch signature check bisects: one forged code anywhere in a batch of 64 Ed25519 codes is
/// FORGED alone and every other code still passes.
#[tokio::test]
async fn one_forged_code_anywhere_in_a_batch_fails_alone() {
    let node = TestNode::start().await;
    let good = node.ed25519_codes().await;
    let forged = swap_signature(&good[0], &good[3]);
    let mut checkpoint = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
    // A position that differs from run to run, without a random-number dependency.
    let anywhere = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(17, |d| d.subsec_nanos() as usize % 64);
    for at in [0usize, 31, 63, anywhere] {
        let mut payloads: Vec<String> = (0..64).map(|i| good[i % good.len()].clone()).collect();
        payloads[at] = forged.clone();
        let response = answered(&mut checkpoint, payloads).await;
        for (i, v) in verifications(&response).into_iter().enumerate() {
            if i == at {
                assert_eq!(v.verdict(), Verdict::Reject, "forged at {at}");
                assert_eq!(v.reasons[0].code, "FORGED");
            } else {
                assert_eq!(v.verdict(), Verdict::Pass, "entry {i}, forged at {at}");
            }
        }
    }
}

/// A batch holding genuine codes and forgeries that carry those codes' own signatures on edited
/// bodies (a day's more validity): the batch check passes the genuine codes, and a forgery, found
/// under the same signature, is still FORGED.
#[tokio::test]
async fn a_genuine_signature_on_an_edited_body_in_the_same_batch_is_forged() {
    let node = TestNode::start().await;
    let good = node.ed25519_codes().await;
    let mut checkpoint = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
    let payloads: Vec<String> = good
        .iter()
        .flat_map(|g| [g.clone(), extend_keeping_signature(g)])
        .collect();
    let response = answered(&mut checkpoint, payloads).await;
    assert_eq!(response.results.len(), 2 * good.len());
    for (i, v) in verifications(&response).into_iter().enumerate() {
        if i % 2 == 1 {
            assert_eq!(v.verdict(), Verdict::Reject, "entry {i}");
            assert_eq!(v.reasons[0].code, "FORGED", "entry {i}");
        } else {
            assert_eq!(v.verdict(), Verdict::Pass, "entry {i}");
        }
    }
}
