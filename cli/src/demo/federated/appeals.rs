//! Scene 7, an appeal (复核) across nodes: a Hubei worker's wrong yellow code, judged at the
//! Yuhang checkpoint (zhejiang), is appealed there; the appeal goes to Hubei's review queue at
//! south, Hubei's health commission corrects it, the checkpoint sees the answer, and the worker's
//! re-issued code passes. The phone number given is kept only as a keyed hash.

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::appeals_service_client::AppealsServiceClient;
use huren_proto::v1::coordination_service_client::CoordinationServiceClient;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{
    AnswerAppealRequest, AppealOutcome, AppealState, FileAppealRequest, GetAppealRequest,
    GetNationalSummaryRequest, ListAppealsRequest, Verdict, Verification, VerifyCodeRequest,
};
use tonic::transport::Channel;

use super::{SCAN_DEADLINE, Scene};
use crate::demo::check::Checks;
use crate::federation::issue::issue_code;
use crate::report::appeals::state;
use crate::report::names;
use crate::report::status::CallError;

fn timed<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.set_timeout(SCAN_DEADLINE);
    request
}

async fn scan(gate: &Channel, payload: &str) -> anyhow::Result<Verification> {
    RecognitionServiceClient::new(gate.clone())
        .verify_code(timed(VerifyCodeRequest {
            payload: payload.to_string(),
            verifying_region: String::new(),
            purpose: "checkpoint-entry".into(),
        }))
        .await
        .map_err(|s| CallError::context("VerifyCode at zhejiang", s))?
        .into_inner()
        .verification
        .ok_or_else(|| anyhow::anyhow!("VerifyCode answered without a verification"))
}

pub async fn run(scene: &mut Scene<'_>, checks: &mut Checks) -> anyhow::Result<()> {
    let (worker, yellow) = scene.issue(RegionCode::HUBEI, Colour::Yellow)?;
    let gate = scene
        .federation
        .channel("zhejiang", "checkpoint", None)
        .await?;
    let judged = scan(&gate, &yellow).await?;
    println!(
        "  a Hubei worker's yellow code at the Yuhang checkpoint: {} (audit #{} at zhejiang)",
        names::verdict(judged.verdict),
        judged.audit_seq
    );
    checks.expect(
        "the wrong yellow code is not a PASS in Zhejiang",
        judged.verdict() != Verdict::Pass,
        names::verdict(judged.verdict),
    );

    let mut appeals = AppealsServiceClient::new(gate.clone());
    let filed = appeals
        .file_appeal(timed(FileAppealRequest {
            decision_seq: judged.audit_seq,
            payload: yellow.clone(),
            verifying_region: String::new(),
            reason: "has not left Wuhan's green zone; the yellow is a data error".into(),
            contact: "138 0013 8000".into(),
        }))
        .await
        .map_err(|s| CallError::context("FileAppeal at zhejiang", s))?
        .into_inner()
        .appeal
        .ok_or_else(|| anyhow::anyhow!("FileAppeal answered without the appeal"))?;
    println!(
        "  the checkpoint files appeal {} at zhejiang; it goes to Hubei's review queue at south",
        filed.appeal_id
    );

    let hubei = scene
        .federation
        .channel_minted("south", "province", "420000", "hubei-health")
        .await?;
    let mut desk = AppealsServiceClient::new(hubei);
    let queue = desk
        .list_appeals(timed(ListAppealsRequest {
            issuing_region: "420000".into(),
            state: AppealState::Open as i32,
        }))
        .await
        .map_err(|s| CallError::context("ListAppeals at south", s))?
        .into_inner()
        .appeals;
    checks.expect(
        "the appeal filed at zhejiang waits in Hubei's queue at south",
        queue.iter().any(|a| a.appeal_id == filed.appeal_id),
        format!("{} open appeals", queue.len()),
    );
    desk.answer_appeal(timed(AnswerAppealRequest {
        appeal_id: filed.appeal_id.clone(),
        outcome: AppealOutcome::Corrected as i32,
        corrected_colour: huren_proto::v1::Colour::Green as i32,
        note: "checked again: green".into(),
    }))
    .await
    .map_err(|s| CallError::context("AnswerAppeal at south", s))?;
    let seen = appeals
        .get_appeal(timed(GetAppealRequest {
            appeal_id: filed.appeal_id.clone(),
        }))
        .await
        .map_err(|s| CallError::context("GetAppeal at zhejiang", s))?
        .into_inner()
        .appeal
        .unwrap_or_default();
    println!(
        "  Hubei's health commission answers at south; the checkpoint reads it at zhejiang: {} to {}",
        state(seen.state),
        names::colour(seen.corrected_colour)
    );
    checks.equal(
        "the checkpoint at zhejiang sees Hubei's correction",
        (seen.state(), seen.corrected_colour()),
        (AppealState::Corrected, huren_proto::v1::Colour::Green),
    );

    // Hubei's codes are offline-signed: the region re-issues the code with the corrected status.
    let green = issue_code(
        &scene.dir,
        RegionCode::HUBEI,
        &worker.id,
        &worker.name,
        Colour::Green,
    )?;
    let rescanned = scan(&gate, &green).await?;
    println!(
        "  the worker's re-issued code at the Yuhang checkpoint: {}",
        names::verdict(rescanned.verdict)
    );
    checks.equal(
        "the rescan after the correction passes",
        rescanned.verdict(),
        Verdict::Pass,
    );

    // National sees how many appeals went where and how they ended, never whose.
    let national = scene
        .federation
        .channel("national", "national", None)
        .await?;
    let summary = CoordinationServiceClient::new(national)
        .get_national_summary(timed(GetNationalSummaryRequest::default()))
        .await
        .map_err(|s| CallError::context("GetNationalSummary at national", s))?
        .into_inner();
    let corrected = summary
        .appeals
        .iter()
        .filter(|c| {
            (c.verifying_region.as_str(), c.issuing_region.as_str()) == ("330000", "420000")
                && c.state == AppealState::Corrected as i32
        })
        .map(|c| c.count)
        .sum::<u64>();
    println!(
        "  the national summary at national: {corrected} appeal(s) Zhejiang → Hubei corrected"
    );
    checks.equal(
        "the national summary counts the appeal by route and outcome",
        corrected,
        1,
    );
    Ok(())
}
