//! Scenario (c), last step: Guangdong withdraws a token when its holder's status changes; the
//! gateway learns it from the issuer-signed revocation list and refuses the token from then on.

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{Verdict, VerifyCodeRequest};
use time::{Duration, OffsetDateTime};

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
    client: &mut RecognitionServiceClient<tonic::transport::Channel>,
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
    let scan = |client: &mut RecognitionServiceClient<tonic::transport::Channel>| {
        let mut client = client.clone();
        let payload = token.clone();
        async move {
            client
                .verify_code(VerifyCodeRequest {
                    payload,
                    verifying_region: String::new(),
                    purpose: "checkpoint-entry".into(),
                })
                .await
                .map_err(|s| CallError::context("VerifyCode", s))
                .map(|r| r.into_inner().verification.unwrap_or_default())
        }
    };
    let before = scan(client).await?;
    stack
        .regions
        .service(gd)?
        .set_status(&who.id, Colour::Red)
        .await?;
    let timer = Timer::start();
    let mut after = before.clone();
    // Polls for at most 10 refresh periods.
    for _ in 0..50 {
        tokio::time::sleep(REVOCATION_REFRESH / 5).await;
        after = scan(client).await?;
        if after.verdict != Verdict::Pass as i32 {
            break;
        }
    }
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
