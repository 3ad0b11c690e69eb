//! Cross-region appeals (复核) on the four-node dev federation of `huren federation init`, as
//! separate `huren serve` processes: a Hubei code judged at zhejiang is appealed there, routed to
//! south (the node serving Hubei), answered by Hubei's province and seen by the filer; each role
//! is refused where it should be; the appeal survives a restart of south; no phone number is
//! stored. A Henan (online) code corrected at west changes the next scan of the same code.

#[path = "support/federation.rs"]
mod shared;

use std::time::{Duration, Instant};

use huren_adapters::{Colour, RegionCode, ResidentId};
use huren_cli::federation::issue::{KNOWN_AFTER, issue_code};
use huren_proto::v1::appeals_service_client::AppealsServiceClient;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{
    AnswerAppealRequest, Appeal, AppealOutcome, AppealState, FileAppealRequest, GetAppealRequest,
    ListAppealsRequest, Verdict, Verification, VerifyCodeRequest,
};
use shared::files_holding;
use tonic::Code;
use tonic::transport::Channel;

const PHONE: &str = "138-0013-8000";
const DEADLINE: Duration = Duration::from_secs(5);

fn request<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.set_timeout(DEADLINE);
    request
}

async fn verify(channel: &Channel, payload: &str) -> Verification {
    RecognitionServiceClient::new(channel.clone())
        .verify_code(request(VerifyCodeRequest {
            payload: payload.to_string(),
            verifying_region: String::new(),
            purpose: "checkpoint-entry".into(),
        }))
        .await
        .expect("verified")
        .into_inner()
        .verification
        .expect("a verification")
}

fn filing(seq: u64, payload: &str) -> FileAppealRequest {
    FileAppealRequest {
        decision_seq: seq,
        payload: payload.to_string(),
        verifying_region: String::new(),
        reason: "I have not been to any risk area; my code turned yellow by mistake".into(),
        contact: PHONE.into(),
    }
}

async fn file(channel: &Channel, req: FileAppealRequest) -> Result<Appeal, tonic::Status> {
    AppealsServiceClient::new(channel.clone())
        .file_appeal(request(req))
        .await
        .map(|r| r.into_inner().appeal.expect("an appeal"))
}

async fn get(channel: &Channel, id: &str) -> Result<Appeal, tonic::Status> {
    AppealsServiceClient::new(channel.clone())
        .get_appeal(request(GetAppealRequest {
            appeal_id: id.to_string(),
        }))
        .await
        .map(|r| r.into_inner().appeal.expect("an appeal"))
}

async fn answer(
    channel: &Channel,
    id: &str,
    outcome: AppealOutcome,
    colour: huren_proto::v1::Colour,
) -> Result<Appeal, tonic::Status> {
    AppealsServiceClient::new(channel.clone())
        .answer_appeal(request(AnswerAppealRequest {
            appeal_id: id.to_string(),
            outcome: outcome as i32,
            corrected_colour: colour as i32,
            note: "checked again: the yellow was a data error".into(),
        }))
        .await
        .map(|r| r.into_inner().appeal.expect("an appeal"))
}

async fn queue(channel: &Channel, region: &str) -> Result<Vec<Appeal>, tonic::Status> {
    AppealsServiceClient::new(channel.clone())
        .list_appeals(request(ListAppealsRequest {
            issuing_region: region.to_string(),
            state: AppealState::Unspecified as i32,
        }))
        .await
        .map(|r| r.into_inner().appeals)
}

fn code<T: std::fmt::Debug>(result: Result<T, tonic::Status>) -> Code {
    result.expect_err("refused").code()
}

#[tokio::test]
async fn a_hubei_code_judged_in_zhejiang_is_appealed_corrected_by_hubei_and_rescanned() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut federation, dir) = shared::start(&tmp).await;
    let gate = shared::checkpoint_at_zhejiang(&federation).await;
    let zhejiang_health = federation
        .channel("zhejiang", "province", Some("330000"))
        .await
        .unwrap();
    let hubei_health = federation
        .channel_minted("south", "province", "420000", "hubei-health")
        .await
        .unwrap();

    // A Hubei worker's yellow code, judged at the Yuhang checkpoint under Zhejiang's rules.
    let worker = ResidentId::from_first17("42010519900101001").unwrap();
    let yellow = issue_code(&dir, RegionCode::HUBEI, &worker, "王芳", Colour::Yellow).unwrap();
    let judged = verify(&gate, &yellow).await;
    assert_ne!(judged.verdict(), Verdict::Pass, "{judged:?}");
    assert!(judged.audit_seq > 0, "the decision names its audit record");

    // Refused: a decision that does not exist, another caller's decision, a PASS, a code that is
    // not the one decided, a carrier.
    let seq = judged.audit_seq;
    assert_eq!(
        code(file(&gate, filing(seq + 100_000, &yellow)).await),
        Code::NotFound
    );
    assert_eq!(
        code(file(&zhejiang_health, filing(seq, &yellow)).await),
        Code::PermissionDenied
    );
    let neighbour = ResidentId::from_first17("42010519900101002").unwrap();
    let green = issue_code(&dir, RegionCode::HUBEI, &neighbour, "李强", Colour::Green).unwrap();
    let passed = verify(&gate, &green).await;
    assert_eq!(passed.verdict(), Verdict::Pass);
    assert_eq!(
        code(file(&gate, filing(passed.audit_seq, &green)).await),
        Code::FailedPrecondition
    );
    assert_eq!(
        code(file(&gate, filing(seq, &green)).await),
        Code::InvalidArgument
    );
    let carrier = federation
        .channel("zhejiang", "carrier", None)
        .await
        .unwrap();
    assert_eq!(
        code(file(&carrier, filing(seq, &yellow)).await),
        Code::PermissionDenied
    );

    // Filed at zhejiang, into Hubei's queue at south.
    let filed = file(&gate, filing(seq, &yellow)).await.expect("filed");
    assert!(filed.appeal_id.starts_with("420000-"), "{filed:?}");
    assert_eq!(filed.state(), AppealState::Open);
    assert_eq!(filed.decision_node, "zhejiang");
    assert_eq!(filed.decision_seq, seq);
    let id = filed.appeal_id.clone();

    // Who may read and answer: the filer reads, Hubei reads and answers, nobody else.
    assert_eq!(get(&gate, &id).await.unwrap().state(), AppealState::Open);
    assert_eq!(
        code(get(&zhejiang_health, &id).await),
        Code::PermissionDenied
    );
    let national = federation
        .channel("zhejiang", "national", None)
        .await
        .unwrap();
    assert_eq!(code(get(&national, &id).await), Code::PermissionDenied);
    let corrected = huren_proto::v1::Colour::Green;
    for refused in [&gate, &zhejiang_health] {
        assert_eq!(
            code(answer(refused, &id, AppealOutcome::Corrected, corrected).await),
            Code::PermissionDenied
        );
    }
    assert_eq!(
        code(queue(&zhejiang_health, "420000").await),
        Code::PermissionDenied
    );
    let listed = queue(&hubei_health, "420000").await.unwrap();
    assert!(listed.iter().any(|a| a.appeal_id == id), "{listed:?}");

    // Hubei corrects it; the filer sees the answer at zhejiang.
    let answered = answer(&hubei_health, &id, AppealOutcome::Corrected, corrected)
        .await
        .expect("answered");
    assert_eq!(answered.state(), AppealState::Corrected);
    assert_eq!(
        code(answer(&hubei_health, &id, AppealOutcome::Upheld, corrected).await),
        Code::FailedPrecondition,
        "an appeal is answered once"
    );
    let seen = get(&gate, &id).await.unwrap();
    assert_eq!(seen.state(), AppealState::Corrected);
    assert_eq!(seen.corrected_colour(), corrected);
    assert!(seen.answered_by.contains("/region/420000/role/province/"));

    // Hubei's codes are offline-signed: Hubei re-issues the worker's code with the corrected
    // status, and the rescan passes.
    let reissued = issue_code(&dir, RegionCode::HUBEI, &worker, "王芳", Colour::Green).unwrap();
    assert_eq!(verify(&gate, &reissued).await.verdict(), Verdict::Pass);

    // The queue is on south's disk: a restart keeps the appeal and its answer.
    federation.kill_node("south").unwrap();
    federation.restart_node("south").await.unwrap();
    let hubei_health = federation
        .channel_minted("south", "province", "420000", "hubei-health")
        .await
        .unwrap();
    let after = queue(&hubei_health, "420000").await.unwrap();
    let kept = after.iter().find(|a| a.appeal_id == id).expect("kept");
    assert_eq!(kept.state(), AppealState::Corrected);

    // No phone number anywhere a node keeps anything (appeal files, audit chains).
    for needle in [PHONE, "13800138000"] {
        let holding = files_holding(&dir.join("nodes"), needle.as_bytes());
        assert!(holding.is_empty(), "{needle} stored in {holding:?}");
    }
}

#[tokio::test]
async fn a_correction_of_an_online_code_changes_the_next_scan_of_the_same_code() {
    let tmp = tempfile::tempdir().unwrap();
    let (federation, dir) = shared::start(&tmp).await;
    let gate = shared::checkpoint_at_zhejiang(&federation).await;
    // Henan's labour office is in the dev PKI; west serves Henan and its service.
    let henan = federation
        .channel("west", "province", Some("410000"))
        .await
        .unwrap();
    let worker = ResidentId::from_first17("41010519900101001").unwrap();
    let payload = issue_code(&dir, RegionCode::HENAN, &worker, "赵磊", Colour::Yellow).unwrap();
    tokio::time::sleep(KNOWN_AFTER).await;
    let judged = verify(&gate, &payload).await;
    assert_ne!(judged.verdict(), Verdict::Pass, "{judged:?}");

    let filed = file(&gate, filing(judged.audit_seq, &payload))
        .await
        .expect("filed");
    assert!(filed.appeal_id.starts_with("410000-"));
    let answered = answer(
        &henan,
        &filed.appeal_id,
        AppealOutcome::Corrected,
        huren_proto::v1::Colour::Green,
    )
    .await
    .expect("answered");
    assert!(
        answered.correction.contains("service now says"),
        "{answered:?}"
    );

    // The same code, scanned again at zhejiang: Henan's service says green now.
    let started = Instant::now();
    loop {
        let again = verify(&gate, &payload).await;
        if again.verdict() == Verdict::Pass {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "still {:?} after the correction",
            again.verdict()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
