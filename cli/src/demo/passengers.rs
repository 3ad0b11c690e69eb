//! The charter train's passengers: who they are, which region issued their codes, what is wrong
//! with a few of them on purpose, what Zhejiang's rules should decide for each, and the registry
//! changes the bad codes rely on (a revoked Hunan issuer, a 12-hour limit on Guangdong codes).

use anyhow::Context as _;
use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::{Boarding, Manifest, Passenger, Verdict};
use huren_registry::doc::region::RevocationReason;
use huren_registry::doc::{Agreement, AgreementKind, Revocation};
use time::{Duration, OffsetDateTime};

use crate::loopback::codes::{Codes, forge};
use crate::loopback::people::{People, Resident};
use crate::loopback::stack::Regions;
use crate::report::names;
use huren::recognition::wire::timestamp;

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
    // Superseded, not key_compromise: the demo's genuine Hunan codes, signed before this time,
    // stay valid (under key_compromise every code of the issuer would be refused).
    let reason = RevocationReason::Superseded;
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
