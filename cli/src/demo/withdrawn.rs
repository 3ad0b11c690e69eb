//! Scenario (c), last step: Guangdong withdraws a token when its holder's status changes; the
//! gateway learns it from the issuer-signed revocation list and refuses the token from then on.

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{Verdict, Verification, VerifyCodeRequest};
use time::{Duration, OffsetDateTime};
use tonic::transport::Channel;

use super::check::{Checks, Timer};
use crate::loopback::codes::Codes;
use crate::loopback::people::People;
use crate::loopback::stack::Stack;
use crate::report::status::CallError;
use crate::report::{answers, names};

/// How often the demo's node fetches Guangdong's signed revocation list.
pub const REVOCATION_REFRESH: std::time::Duration = std::time::Duration::from_secs(1);

/// Guangdong withdraws a holder's token when their status changes; the gateway learns it from
/// the issuer-signed revocation list and refuses the old token from then on.
pub async fn run(
    client: &mut RecognitionServiceClient<Channel>,
    codes: &Codes,
    stack: &Stack,
    people: &mut People,
    checks: &mut Checks,
) -> anyhow::Result<()> {
    let gd = RegionCode::GUANGDONG;
    let who = people.resident(gd);
    let token = codes
        .issue(
            &stack.regions,
            gd,
            &who,
            Colour::Green,
            OffsetDateTime::now_utc() - Duration::minutes(30),
        )
        .await?;
    let before = scan(client, &token).await?;
    stack
        .regions
        .service(gd)?
        .set_status(&who.id, Colour::Red)
        .await?;
    let timer = Timer::start();
    let (after, _) = rescan_until_refused(client, &token, &before).await?;
    println!(
        "  a Guangdong token scanned {}; Guangdong turns its holder red and withdraws the token; {} later the same token: {} ({})",
        names::verdict(before.verdict),
        timer.show(),
        names::verdict(after.verdict),
        answers::first_reason(Some(&after))
    );
    checks.expect(
        "a withdrawn Guangdong token is refused once the signed revocation list arrives (REVOKED_CODE)",
        before.verdict == Verdict::Pass as i32
            && after.verdict == Verdict::Reject as i32
            && answers::first_reason(Some(&after)) == "REVOKED_CODE",
        format!(
            "before {}, after {} ({})",
            names::verdict(before.verdict),
            names::verdict(after.verdict),
            answers::first_reason(Some(&after))
        ),
    );
    Ok(())
}

/// Scans a refresh period a fifth at a time, for at most ten periods, until `payload` is no
/// longer PASS: the last answer, and how many scans that took.
pub(super) async fn rescan_until_refused(
    client: &mut RecognitionServiceClient<Channel>,
    payload: &str,
    before: &Verification,
) -> anyhow::Result<(Verification, u64)> {
    let mut after = before.clone();
    let mut scans = 0;
    while scans < 50 {
        tokio::time::sleep(REVOCATION_REFRESH / 5).await;
        after = scan(client, payload).await?;
        scans += 1;
        if after.verdict != Verdict::Pass as i32 {
            break;
        }
    }
    Ok((after, scans))
}

/// One VerifyCode of `payload` at the checkpoint, under its own region's rules.
pub(super) async fn scan(
    client: &mut RecognitionServiceClient<Channel>,
    payload: &str,
) -> anyhow::Result<Verification> {
    Ok(client
        .verify_code(VerifyCodeRequest {
            payload: payload.to_string(),
            verifying_region: String::new(),
            purpose: "checkpoint-entry".into(),
        })
        .await
        .map_err(|s| CallError::context("VerifyCode", s))?
        .into_inner()
        .verification
        .unwrap_or_default())
}
