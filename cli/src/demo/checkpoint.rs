//! Scenario (c): the Yuhang (330110) checkpoint scans one code from each of the seven regions
//! under Zhejiang's rules and scans one again (served from cache); then [`super::batch`] and
//! [`super::withdrawn`].

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{StatusSource, Verdict, VerifyCodeRequest};
use time::{Duration, OffsetDateTime};

use super::check::{Checks, Timer};
use crate::loopback::codes::Codes;
use crate::loopback::people::People;
use crate::loopback::stack::{REGIONS, Stack};
use crate::report::status::CallError;
use crate::report::{Table, names};

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
        checks.saw(
            "checkpoint",
            format!("verdict, colour, masked name \"{}\"", subject.masked_name),
        );
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
    super::batch::run(&mut client, codes, stack, people, checks).await?;
    super::withdrawn::run(&mut client, codes, stack, people, checks).await
}
