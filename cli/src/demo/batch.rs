//! Scenario (c), second step: one VerifyCodes call with a good, a forged and an unreadable
//! payload; each entry is judged alone and a bad one fails with its own error.

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{Verdict, VerifyCodesRequest, verify_codes_result};
use time::{Duration, OffsetDateTime};

use super::check::Checks;
use crate::loopback::codes::{Codes, forge};
use crate::loopback::people::People;
use crate::loopback::stack::Stack;
use crate::report::status::CallError;
use crate::report::{answers, names};

/// VerifyCodes with a good, a forged and an unreadable payload: each entry stands alone.
pub async fn run(
    client: &mut RecognitionServiceClient<tonic::transport::Channel>,
    codes: &Codes,
    stack: &Stack,
    people: &mut People,
    checks: &mut Checks,
) -> anyhow::Result<()> {
    let now = OffsetDateTime::now_utc() - Duration::minutes(5);
    let good = codes
        .issue(
            &stack.regions,
            RegionCode::GUANGDONG,
            &people.resident(RegionCode::GUANGDONG),
            Colour::Green,
            now,
        )
        .await?;
    let forged = forge(&good);
    let payloads = vec![good, forged, "not a health code".to_string()];
    let results = client
        .verify_codes(VerifyCodesRequest {
            payloads,
            verifying_region: String::new(),
            purpose: "checkpoint-entry".into(),
        })
        .await
        .map_err(|s| CallError::context("VerifyCodes", s))?
        .into_inner()
        .results;
    let mut shown = Vec::new();
    for r in &results {
        shown.push(match &r.outcome {
            Some(verify_codes_result::Outcome::Verification(v)) => format!(
                "#{} {} ({})",
                r.index,
                names::verdict(v.verdict),
                answers::first_reason(Some(v))
            ),
            Some(verify_codes_result::Outcome::Error(e)) => {
                format!("#{} error {}", r.index, e.reason)
            }
            None => format!("#{} nothing", r.index),
        });
    }
    println!(
        "  VerifyCodes [good, forged, \"not a health code\"]: {}",
        shown.join(", ")
    );
    let verdict_of = |i: usize| match results.get(i).and_then(|r| r.outcome.as_ref()) {
        Some(verify_codes_result::Outcome::Verification(v)) => Some(v.verdict),
        _ => None,
    };
    let unclaimed = matches!(
        results.get(2).and_then(|r| r.outcome.as_ref()),
        Some(verify_codes_result::Outcome::Error(_))
    );
    checks.expect(
        "a batch judges each entry alone: PASS, REJECT (forged), and an error for the unreadable one",
        verdict_of(0) == Some(Verdict::Pass as i32)
            && verdict_of(1) == Some(Verdict::Reject as i32)
            && unclaimed,
        shown.join(", "),
    );
    Ok(())
}
