//! Scenario (a): a Chengdu → Hangzhou charter train (复工专列) of 1,000 passengers checked by
//! its carrier before boarding, with a realistic colour mix from six issuing regions and a few
//! forged, stale and revoked codes.

use std::collections::BTreeMap;

use anyhow::Context as _;
use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::manifests_service_client::ManifestsServiceClient;
use huren_proto::v1::{Boarding, CheckManifestRequest, Manifest, Passenger, Verdict};
use huren_registry::doc::{Agreement, AgreementKind, Revocation};
use time::{Duration, OffsetDateTime};

use super::check::{Checks, Timer};
use super::codes::{Codes, forge};
use super::people::{People, Resident};
use super::stack::{Regions, Stack};
use crate::cli::client::timestamp;
use crate::report::{Table, answers, names};

pub const TRAIN: &str = "D8808";
pub const ORIGIN: &str = "510000";
pub const DESTINATION: &str = "330100";
const PASSENGERS: usize = 1_000;
/// Zhejiang's (demo) agreement with Guangdong: codes at most 12 hours old.
const ZJ_GD_MAX_AGE_HOURS: u64 = 12;

/// What is wrong with a code, on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Genuine,
    /// One signature character changed.
    Forged,
    /// Signed 18 hours ago, over the 12 hours Zhejiang accepts from Guangdong.
    Stale,
    /// Signed by Hunan's issuer after Hunan revoked it.
    Revoked,
}

/// One passenger as the demo made them, with what the gateway should decide.
#[derive(Debug, Clone)]
pub struct Rider {
    pub seat: String,
    pub payload: String,
    pub region: RegionCode,
    pub colour: Colour,
    pub kind: Kind,
    pub resident: Resident,
}

impl Rider {
    /// The verdict and boarding Zhejiang's rules give.
    pub fn expected(&self) -> (Verdict, Boarding) {
        match self.kind {
            Kind::Forged | Kind::Revoked => (Verdict::Reject, Boarding::Deny),
            Kind::Stale => (Verdict::Review, Boarding::Review),
            Kind::Genuine => match self.colour {
                Colour::Green => (Verdict::Pass, Boarding::Board),
                Colour::Yellow => (Verdict::HomeQuarantine, Boarding::Deny),
                Colour::Red => (Verdict::CentralQuarantine, Boarding::Deny),
                Colour::Pending | Colour::Unknown => (Verdict::Review, Boarding::Review),
            },
        }
    }
}

/// When Hunan's issuer key stopped being trusted in the demo's registry.
fn revoked_from(now: OffsetDateTime) -> OffsetDateTime {
    huren_registry::canonical::whole_seconds(now - Duration::hours(1))
}

/// The registry changes the train needs, signed and published before the gateway starts:
/// Hunan revokes its issuer from an hour ago (a leaked key), and Zhejiang and Guangdong agree
/// that Guangdong codes older than 12 hours are not accepted.
pub fn edit_registry(regions: &mut Regions, now: OffsetDateTime) -> anyhow::Result<Vec<String>> {
    let hunan_issuer = regions.manifest.region("430000")?.issuer.id.clone();
    let from = revoked_from(now);
    let reason = "demo: key leaked; codes signed after this time are forged".to_string();
    let issuer = hunan_issuer.clone();
    regions.dev.edit_region(
        "430000",
        |doc| {
            doc.revocations.push(Revocation {
                issuer,
                effective_from: from,
                reason,
            })
        },
        now,
    )?;
    let national = huren_registry::dev::agreements(now)
        .into_iter()
        .find(|a| a.kind == AgreementKind::National)
        .context("the dev registry has no national agreement")?;
    let zj_gd = Agreement {
        id: "330000-440000".into(),
        kind: AgreementKind::Bilateral,
        verifying: "330000".into(),
        issuing: "440000".into(),
        max_code_age_secs: ZJ_GD_MAX_AGE_HOURS * 3600,
        ..national
    };
    regions.dev.put_agreement(zj_gd, now)?;
    Ok(vec![
        format!(
            "regions/430000: issuer {hunan_issuer} revoked from {} (codes it signed later are refused)",
            names::time(Some(&timestamp(from)))
        ),
        format!(
            "agreements/330000-440000: Zhejiang takes Guangdong codes at most {ZJ_GD_MAX_AGE_HOURS} h old"
        ),
    ])
}

/// Issues the train's codes: six regions, mostly Sichuan, ~95 % green.
pub async fn make_riders(
    regions: &Regions,
    codes: &Codes,
    people: &mut People,
    now: OffsetDateTime,
) -> anyhow::Result<Vec<Rider>> {
    use rand::Rng as _;
    let region_mix: [(RegionCode, u32); 6] = [
        (RegionCode::SICHUAN, 880),
        (RegionCode::GUANGDONG, 30),
        (RegionCode::HUNAN, 25),
        (RegionCode::HENAN, 25),
        (RegionCode::HUBEI, 20),
        (RegionCode::NATIONAL, 20),
    ];
    let colours = [
        (Colour::Green, 955),
        (Colour::Yellow, 33),
        (Colour::Red, 12),
    ];
    let hubei = [(Colour::Green, 800), (Colour::Pending, 200)];
    // Seat index, issuing region and what is wrong, scattered through the train.
    let specials = [
        (97, RegionCode::SICHUAN, Kind::Forged),
        (211, RegionCode::GUANGDONG, Kind::Forged),
        (305, RegionCode::NATIONAL, Kind::Forged),
        (412, RegionCode::GUANGDONG, Kind::Stale),
        (523, RegionCode::GUANGDONG, Kind::Stale),
        (634, RegionCode::GUANGDONG, Kind::Stale),
        (745, RegionCode::HUNAN, Kind::Revoked),
        (856, RegionCode::HUNAN, Kind::Revoked),
    ];
    let mut riders = Vec::with_capacity(PASSENGERS);
    for i in 0..PASSENGERS {
        let (region, kind) = match specials.iter().find(|(at, _, _)| *at == i) {
            Some(&(_, region, kind)) => (region, kind),
            None => {
                let total: u32 = region_mix.iter().map(|(_, w)| w).sum();
                let mut pick = people.rng().gen_range(0..total);
                let mut region = RegionCode::SICHUAN;
                for (r, w) in region_mix {
                    if pick < w {
                        region = r;
                        break;
                    }
                    pick -= w;
                }
                (region, Kind::Genuine)
            }
        };
        let colour = match (kind, region) {
            (Kind::Genuine, RegionCode::HUBEI) => people.colour(&hubei),
            (Kind::Genuine, _) => people.colour(&colours),
            _ => Colour::Green,
        };
        let minutes = people.rng().gen_range(5..360);
        let signed_at = match (kind, region) {
            (Kind::Stale, _) => now - Duration::hours(18),
            (Kind::Revoked, _) => now - Duration::minutes(10),
            // Genuine Hunan codes were signed before the key was revoked.
            (_, RegionCode::HUNAN) => revoked_from(now) - Duration::minutes(minutes.min(600)),
            _ => now - Duration::minutes(minutes),
        };
        let resident = people.resident(region);
        let payload = codes
            .issue(regions, region, &resident, colour, signed_at)
            .await?;
        let payload = if kind == Kind::Forged {
            forge(&payload)
        } else {
            payload
        };
        riders.push(Rider {
            seat: seat(i),
            payload,
            region,
            colour,
            kind,
            resident,
        });
    }
    Ok(riders)
}

/// `03-12C`: car, row and seat letter of passenger `i` (16 cars of 64 seats).
fn seat(i: usize) -> String {
    let letters = ['A', 'B', 'C', 'D', 'F'];
    format!(
        "{:02}-{:02}{}",
        i / 64 + 1,
        (i % 64) / letters.len() + 1,
        letters[(i % 64) % letters.len()]
    )
}

pub fn manifest(riders: &[Rider], departs: OffsetDateTime) -> Manifest {
    Manifest {
        train_id: TRAIN.into(),
        origin_region: ORIGIN.into(),
        destination_region: DESTINATION.into(),
        departure_time: Some(timestamp(departs)),
        passengers: riders
            .iter()
            .map(|r| Passenger {
                seat: r.seat.clone(),
                payload: r.payload.clone(),
            })
            .collect(),
    }
}

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
