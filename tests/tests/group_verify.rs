//! Concurrent VerifyCode calls over real mTLS, whose Ed25519 signatures the node checks together:
//! one forged code among them is FORGED alone, whenever it arrives, and every other code passes.

use std::time::Duration;

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{Verdict, VerifyCodeRequest};
use huren_tests::node::{TestNode, extend_keeping_signature, resident_id, swap_signature};
use tonic::transport::Channel;

/// Sends every payload as its own VerifyCode call, all at once over `channels` (round robin),
/// the call at `late` only after `delay`; answers (verdict, first reason) in order.
async fn verify_all(
    channels: &[Channel],
    payloads: &[String],
    late: usize,
    delay: Duration,
) -> Vec<(Verdict, String)> {
    let calls: Vec<_> = payloads
        .iter()
        .enumerate()
        .map(|(i, payload)| {
            let mut client = RecognitionServiceClient::new(channels[i % channels.len()].clone());
            let request = VerifyCodeRequest {
                payload: payload.clone(),
                verifying_region: String::new(),
                purpose: "checkpoint-entry".into(),
            };
            tokio::spawn(async move {
                if i == late {
                    tokio::time::sleep(delay).await;
                }
                let v = client
                    .verify_code(request)
                    .await
                    .expect("every call is answered")
                    .into_inner()
                    .verification
                    .expect("a verification");
                let reason = v
                    .reasons
                    .first()
                    .map(|r| r.code.clone())
                    .unwrap_or_default();
                (v.verdict(), reason)
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(calls.len());
    for c in calls {
        answers.push(c.await.expect("the call's task ends"));
    }
    answers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_forged_code_among_concurrent_calls_fails_alone() {
    let node = TestNode::start().await;
    let good = node.ed25519_codes().await;
    let forged = swap_signature(&good[0], &good[3]);
    let mut channels = Vec::new();
    for _ in 0..4 {
        channels.push(node.channel_as("checkpoint", None).await);
    }
    let audited_before = node.audit_records().len();
    // A position that differs from run to run, without a random-number dependency.
    let anywhere = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(17, |d| d.subsec_nanos() as usize % 64);
    let mut calls = 0;
    for (at, delay) in [
        (0usize, Duration::ZERO),
        (31, Duration::ZERO),
        (63, Duration::ZERO),
        (anywhere, Duration::ZERO),
        // The forgery arrives while the others are being checked, or just after.
        (5, Duration::from_millis(2)),
        (40, Duration::from_millis(10)),
    ] {
        let mut payloads: Vec<String> = (0..64).map(|i| good[i % good.len()].clone()).collect();
        payloads[at] = forged.clone();
        // The forged call also waits: any call may be the late one.
        let answers = verify_all(&channels, &payloads, at, delay).await;
        for (i, (verdict, reason)) in answers.iter().enumerate() {
            if i == at {
                assert_eq!(*verdict, Verdict::Reject, "forged at {at}");
                assert_eq!(reason, "FORGED", "forged at {at}");
            } else {
                assert_eq!(*verdict, Verdict::Pass, "call {i}, forged at {at}");
            }
        }
        calls += payloads.len();
    }
    assert_eq!(
        node.audit_records().len() - audited_before,
        calls,
        "every decision is audited"
    );
}

/// A genuine code's own signature on an edited body (a day's more validity) is FORGED, also
/// when the genuine code's calls are checked in the same groups; every genuine call passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_genuine_signature_on_an_edited_body_is_forged_beside_its_code() {
    let node = TestNode::start().await;
    let good = node.ed25519_codes().await;
    let mut channels = Vec::new();
    for _ in 0..4 {
        channels.push(node.channel_as("checkpoint", None).await);
    }
    let payloads: Vec<String> = (0..64)
        .map(|i| {
            let genuine = &good[(i / 2) % good.len()];
            match i % 2 {
                0 => genuine.clone(),
                _ => extend_keeping_signature(genuine),
            }
        })
        .collect();
    let answers = verify_all(&channels, &payloads, usize::MAX, Duration::ZERO).await;
    for (i, (verdict, reason)) in answers.iter().enumerate() {
        if i % 2 == 1 {
            assert_eq!(*verdict, Verdict::Reject, "call {i}");
            assert_eq!(reason, "FORGED", "call {i}");
        } else {
            assert_eq!(*verdict, Verdict::Pass, "call {i}");
        }
    }
}

/// Callers that give up (a deadline far too short) do not stall or spoil the calls around them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn callers_that_give_up_do_not_stall_the_others() {
    let node = TestNode::start().await;
    let code = node
        .issue(
            RegionCode::GUANGDONG,
            &resident_id("440106", 1),
            "张三",
            Colour::Green,
        )
        .await
        .payload;
    // The patient calls share one connection; those that give up are spread over four, so that
    // no connection resets streams often enough to be told to calm down.
    let mut channels = Vec::new();
    for _ in 0..5 {
        channels.push(node.channel_as("checkpoint", None).await);
    }
    let calls: Vec<_> = (0..64)
        .map(|i| {
            let channel = if i % 2 == 1 { 0 } else { 1 + (i / 2) % 4 };
            let mut client = RecognitionServiceClient::new(channels[channel].clone());
            let payload = code.clone();
            tokio::spawn(async move {
                let request = VerifyCodeRequest {
                    payload,
                    verifying_region: String::new(),
                    purpose: "checkpoint-entry".into(),
                };
                if i % 2 == 0 {
                    // Dropped by the client mid-flight, at some point of the server's work.
                    let gone = tokio::time::timeout(
                        Duration::from_micros(50 * i as u64),
                        client.verify_code(request),
                    )
                    .await;
                    return gone.ok().map(|r| r.is_ok());
                }
                let v = tokio::time::timeout(Duration::from_secs(10), client.verify_code(request))
                    .await
                    .expect("no call stalls")
                    .expect("the call is answered")
                    .into_inner()
                    .verification
                    .expect("a verification");
                Some(v.verdict() == Verdict::Pass)
            })
        })
        .collect();
    for (i, c) in calls.into_iter().enumerate() {
        let answer = c.await.expect("the call's task ends");
        if i % 2 == 1 {
            assert_eq!(answer, Some(true), "call {i}");
        }
    }
}
