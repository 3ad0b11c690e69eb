//! Scenario (a): a Chengdu → Hangzhou charter train (复工专列) of 1,000 passengers checked by
//! its carrier before boarding, with a realistic colour mix from six issuing regions and a few
//! forged, stale and revoked codes (made in [`super::passengers`]).

use std::collections::BTreeMap;

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::manifests_service_client::ManifestsServiceClient;
use huren_proto::v1::{Boarding, CheckManifestRequest};
use time::{Duration, OffsetDateTime};

use super::check::{Checks, Timer};
pub use super::passengers::{Kind, Rider, TRAIN, edit_registry, make_riders, manifest};
use crate::loopback::stack::Stack;
use crate::report::{Table, answers, names};

/// Runs the check as the carrier and judges the answer.
pub async fn run(stack: &Stack, riders: &[Rider], checks: &mut Checks) -> anyhow::Result<()> {
    print_mix(riders);
    let channel = stack.channel("carrier", None).await?;
    let mut client = ManifestsServiceClient::new(channel);
    let manifest = manifest(riders, OffsetDateTime::now_utc() + Duration::hours(2));
    let timer = Timer::start();
    let response = client
        .check_manifest(super::check::bulk(CheckManifestRequest {
            manifest: Some(manifest),
        }))
        .await
        .map_err(|s| crate::report::status::CallError::context("CheckManifest", s))?
        .into_inner();
    let took = timer.elapsed();
    let totals = response.totals.unwrap_or_default();
    println!(
        "  CheckManifest answered in {}: {} BOARD, {} DENY, {} REVIEW of {} (registry version {})",
        super::check::show(took),
        totals.board,
        totals.deny,
        totals.review,
        totals.total,
        response.registry_version
    );

    let mut sources: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &response.decisions {
        *sources
            .entry(
                d.verification
                    .as_ref()
                    .map_or("-", |v| names::source(v.source)),
            )
            .or_default() += 1;
    }
    let sources: Vec<String> = sources.iter().map(|(s, n)| format!("{n} {s}")).collect();
    println!(
        "  status sources: {} (Zhejiang's agreement with Sichuan asks for a live check)",
        sources.join(", ")
    );
    let mut table = Table::new(answers::DECISION_HEADER);
    let mut wrong = Vec::new();
    let mut counts = [0i32; 3];
    let mut others_shown = 0;
    for (rider, decision) in riders.iter().zip(&response.decisions) {
        let (verdict, boarding) = rider.expected();
        let got_verdict = decision.verification.as_ref().map_or(0, |v| v.verdict);
        if decision.seat != rider.seat
            || decision.boarding != boarding as i32
            || (decision.error.is_none() && got_verdict != verdict as i32)
        {
            wrong.push(format!(
                "{} ({:?} {} {:?}): got {} {}, expected {} {}",
                rider.seat,
                rider.kind,
                rider.region,
                rider.colour,
                names::boarding(decision.boarding),
                names::verdict(got_verdict),
                names::boarding(boarding as i32),
                names::verdict(verdict as i32),
            ));
        }
        match boarding {
            Boarding::Board => counts[0] += 1,
            Boarding::Deny => counts[1] += 1,
            _ => counts[2] += 1,
        }
        let not_boarding = decision.boarding != Boarding::Board as i32;
        if rider.kind != Kind::Genuine || (not_boarding && others_shown < 10) {
            others_shown += usize::from(rider.kind == Kind::Genuine);
            table.row(answers::decision_row(decision));
        }
    }
    println!("  not boarding (every forged, stale and revoked code, and the first others):");
    print!("{table}");
    checks.equal(
        "one decision per passenger, in manifest order",
        response.decisions.len(),
        riders.len(),
    );
    checks.equal(
        "totals BOARD/DENY/REVIEW as the colour mix and the bad codes predict",
        (totals.board, totals.deny, totals.review),
        (counts[0], counts[1], counts[2]),
    );
    checks.expect(
        "every passenger's boarding and verdict as expected (forged and revoked DENY, stale REVIEW)",
        wrong.is_empty(),
        format!("{} differ, e.g. {}", wrong.len(), wrong.first().cloned().unwrap_or_default()),
    );
    let shown = response
        .decisions
        .iter()
        .filter_map(|d| d.verification.as_ref()?.subject.as_ref())
        .collect::<Vec<_>>();
    let masked = shown
        .iter()
        .all(|s| s.subject_ref.is_empty() && s.masked_name.chars().count() <= 2);
    let example = shown
        .first()
        .map(|s| s.masked_name.clone())
        .unwrap_or_default();
    let ids: std::collections::HashSet<String> = riders
        .iter()
        .map(|r| r.resident.id.expose().to_string())
        .collect();
    checks.expect(
        "no resident ID number anywhere in the carrier's answer",
        !super::check::shows_an_id(&format!("{response:?}"), &ids),
        "an ID number was sent to the carrier",
    );
    checks.saw(
        "carrier",
        format!("boarding, verdict, masked name \"{example}\""),
    );
    checks.expect(
        format!(
            "carrier sees masked names only (e.g. \"{example}\"), no subject_ref, no ID number"
        ),
        masked && !shown.is_empty(),
        "a subject carried more than surname + *",
    );
    Ok(())
}

/// Passengers by issuing region and colour, with the deliberately bad codes.
fn print_mix(riders: &[Rider]) {
    let mut by: BTreeMap<RegionCode, [usize; 5]> = BTreeMap::new();
    for r in riders {
        let row = by.entry(r.region).or_default();
        match (r.kind, r.colour) {
            (Kind::Genuine, Colour::Green) => row[0] += 1,
            (Kind::Genuine, Colour::Yellow) => row[1] += 1,
            (Kind::Genuine, Colour::Red) => row[2] += 1,
            (Kind::Genuine, _) => row[3] += 1,
            _ => row[4] += 1,
        }
    }
    let mut t = Table::new([
        "issuer", "", "green", "yellow", "red", "pending", "bad", "total",
    ]);
    for (region, row) in &by {
        t.row([
            region.as_str().to_string(),
            names::region(region.as_str()).to_string(),
            row[0].to_string(),
            row[1].to_string(),
            row[2].to_string(),
            row[3].to_string(),
            row[4].to_string(),
            row.iter().sum::<usize>().to_string(),
        ]);
    }
    println!("  passengers by issuing region (bad = forged, stale or revoked on purpose):");
    print!("{t}");
}
