//! Scenario (c): the Yuhang (330110) checkpoint scans one code from each of the seven regions
//! under Zhejiang's rules, scans one again (served from cache), and sends a batch with a forged
//! and an unreadable payload, which fail alone.

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{
    StatusSource, Verdict, VerifyCodeRequest, VerifyCodesRequest, verify_codes_result,
};
use time::{Duration, OffsetDateTime};

use super::check::{Checks, Timer};
use super::codes::{Codes, forge};
use super::people::People;
use super::stack::{REGIONS, Stack};
use crate::report::status::CallError;
use crate::report::{Table, answers, names};

/// What each region's code says and what Zhejiang decides.
fn plan(region: RegionCode) -> (Colour, Verdict, i32) {
    match region.as_str() {
        "430000" => (Colour::Yellow, Verdict::HomeQuarantine, 7),
        "420000" => (Colour::Pending, Verdict::Review, 0),
        "000000" => (Colour::Yellow, Verdict::HomeQuarantine, 7),
        _ => (Colour::Green, Verdict::Pass, 0),
    }
}

pub async fn run(
    stack: &Stack,
    codes: &Codes,
    people: &mut People,
    checks: &mut Checks,
) -> anyhow::Result<()> {
    let now = OffsetDateTime::now_utc();
    let mut client = RecognitionServiceClient::new(stack.channel("checkpoint", None).await?);
    let mut table = Table::new([
        "issuer", "system", "native", "colour", "verdict", "days", "source", "name", "ms",
    ]);
    let mut wrong = Vec::new();
    let mut leaks = 0;
    let mut henan_payload = None;
    for region in REGIONS {
        let (colour, verdict, days) = plan(region);
        let who = people.resident(region);
        // Hunan's issuer was revoked an hour ago in this demo: its genuine codes are older.
        let signed_at = if region == RegionCode::HUNAN {
            now - Duration::hours(2)
        } else {
            now - Duration::minutes(20)
        };
        let payload = codes
            .issue(&stack.regions, region, &who, colour, signed_at)
            .await?;
        if region == RegionCode::HENAN {
            henan_payload = Some(payload.clone());
        }
        let timer = Timer::start();
        let v = client
            .verify_code(VerifyCodeRequest {
                payload,
                verifying_region: String::new(),
                purpose: "checkpoint-entry".into(),
            })
            .await
            .map_err(|s| CallError::context("VerifyCode", s))?
            .into_inner()
            .verification
            .unwrap_or_default();
        let ms = timer.elapsed().as_millis();
        let status = v.status.clone().unwrap_or_default();
        let subject = v.subject.clone().unwrap_or_default();
        if !subject.subject_ref.is_empty() {
            leaks += 1;
        }
        if v.verdict != verdict as i32 || v.quarantine_days != days {
            wrong.push(format!(
                "{region}: got {} {} days, expected {} {days} days",
                names::verdict(v.verdict),
                v.quarantine_days,
                names::verdict(verdict as i32)
            ));
        }
        table.row([
            format!("{} {}", region.as_str(), names::region(region.as_str())),
            huren_adapters::vocabulary::vocabulary(region.as_str())
                .map_or("", |v| v.system)
                .to_string(),
            status.native_label.clone(),
            names::colour(status.colour).to_string(),
            names::verdict(v.verdict).to_string(),
            v.quarantine_days.to_string(),
            names::source(v.source).to_string(),
            subject.masked_name.clone(),
            ms.to_string(),
        ]);
    }
    print!("{table}");
    checks.expect(
        "seven regions' codes read and judged under Zhejiang's rules (yellow 7 days at home, Hubei grey REVIEW)",
        wrong.is_empty(),
        wrong.join("; "),
    );
    checks.equal(
        "checkpoint sees masked names, never a subject_ref",
        leaks,
        0,
    );

    if let Some(payload) = henan_payload {
        let again = client
            .verify_code(VerifyCodeRequest {
                payload,
                verifying_region: String::new(),
                purpose: "checkpoint-entry".into(),
            })
            .await
            .map_err(|s| CallError::context("VerifyCode", s))?
            .into_inner()
            .verification
            .unwrap_or_default();
        println!(
            "  the Henan code scanned again: {} from {}",
            names::verdict(again.verdict),
            names::source(again.source)
        );
        checks.equal(
            "a second scan within Henan's cache TTL is served from cache",
            names::source(again.source),
            names::source(StatusSource::Cached as i32),
        );
    }
    batch(&mut client, codes, stack, people, checks).await?;
    withdrawn(&mut client, codes, stack, people, checks).await
}

/// How often the demo's node fetches Guangdong's signed revocation list.
pub const REVOCATION_REFRESH: std::time::Duration = std::time::Duration::from_secs(1);

/// Guangdong withdraws a holder's token when their status changes; the gateway learns it from
/// the issuer-signed revocation list and refuses the old token from then on.
async fn withdrawn(
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

/// VerifyCodes with a good, a forged and an unreadable payload: each entry stands alone.
async fn batch(
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
