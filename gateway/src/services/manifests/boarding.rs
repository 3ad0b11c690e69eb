//! Boarding decisions for a manifest's passengers: each judged under the destination's agreement
//! through the shared pipeline, turned into BOARD / DENY / REVIEW, and totalled.
//!
//! Judging and recording are separate steps here: a watch re-judges passengers whenever a feed
//! says something may have changed, and only the decisions that change go out — so only those
//! are audited and counted ([`record`]).

use futures::StreamExt;
use huren_adapters::RegionCode;
use huren_proto::v1::{Boarding, ManifestTotals, Passenger, PassengerDecision, Verdict};

use crate::error::Error;
use crate::recognition::pipeline::{Call, Judged};
use crate::recognition::{Recognizer, shaping};
use crate::services::recognition::BATCH_CONCURRENCY;

/// One passenger's decision and what a change feed needs to find them again.
#[derive(Debug, Clone)]
pub struct Boarded {
    pub decision: PassengerDecision,
    /// The region whose adapter claimed the payload (none when no adapter did).
    pub issuing: Option<RegionCode>,
    /// The issuing region's handle for the person, when its service gave one.
    pub handle: Option<String>,
    /// The decision before shaping, until [`record`] has audited it.
    pub judged: Option<Judged>,
}

impl Boarded {
    /// What a carrier acts on; a new refresh time or reason wording is not a change.
    pub fn outcome(&self) -> (i32, i32, i32, i32, i32) {
        let d = &self.decision;
        let v = d.verification.as_ref();
        (
            d.boarding,
            v.map_or(0, |v| v.verdict),
            v.map_or(0, |v| v.quarantine_days),
            v.and_then(|v| v.status.as_ref()).map_or(0, |s| s.colour),
            d.error.as_ref().map_or(0, |e| e.code),
        )
    }
}

/// PASS boards; a quarantine or a rejection does not; anything a person must look at is REVIEW.
pub fn boarding(verdict: Verdict) -> Boarding {
    match verdict {
        Verdict::Pass => Boarding::Board,
        Verdict::HomeQuarantine | Verdict::CentralQuarantine | Verdict::Reject => Boarding::Deny,
        Verdict::Review | Verdict::Unspecified => Boarding::Review,
    }
}

/// Judges one passenger (nothing is recorded yet). A payload no adapter reads fails alone, as
/// REVIEW: staff at the platform must look at it.
pub async fn board(
    recognizer: &Recognizer,
    call: &Call,
    passenger: &Passenger,
) -> Result<Boarded, Error> {
    match recognizer.judge_payload(call, &passenger.payload).await {
        Ok(judged) => {
            let verification = shaping::verification(call, &judged);
            Ok(Boarded {
                decision: PassengerDecision {
                    seat: passenger.seat.clone(),
                    boarding: boarding(verification.verdict()) as i32,
                    verification: Some(verification),
                    error: None,
                },
                issuing: Some(judged.issuing),
                handle: judged.region_handle().map(str::to_string),
                judged: Some(judged),
            })
        }
        Err(e @ Error::AuditUnavailable(_)) => Err(e),
        Err(e) => Ok(Boarded {
            decision: PassengerDecision {
                seat: passenger.seat.clone(),
                boarding: Boarding::Review as i32,
                verification: None,
                error: Some(e.to_entry_error()),
            },
            issuing: recognizer
                .adapters
                .claim(&passenger.payload)
                .ok()
                .map(|a| a.region()),
            handle: None,
            judged: None,
        }),
    }
}

/// Judges the passengers at `indices`, in that order, a bounded number at once.
pub async fn board_all(
    recognizer: &Recognizer,
    call: &Call,
    passengers: &[Passenger],
    indices: &[usize],
) -> Result<Vec<Boarded>, Error> {
    // By index: a closure over `&Passenger` trips the compiler's higher-ranked Send check.
    futures::stream::iter(0..indices.len())
        .map(|i| board(recognizer, call, &passengers[indices[i]]))
        .buffered(BATCH_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// Audits (durably) and counts the decisions about to go out, a bounded number at once so the
/// audit log's group commit can batch them; each is recorded once.
pub async fn record(
    recognizer: &Recognizer,
    call: &Call,
    boarded: &mut [&mut Boarded],
) -> Result<(), Error> {
    let judged: Vec<Judged> = boarded.iter_mut().filter_map(|b| b.judged.take()).collect();
    futures::stream::iter(0..judged.len())
        .map(|i| recognizer.record(call, &judged[i]))
        .buffered(BATCH_CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

pub fn totals<'a>(decisions: impl IntoIterator<Item = &'a PassengerDecision>) -> ManifestTotals {
    let mut t = ManifestTotals::default();
    for d in decisions {
        t.total += 1;
        match d.boarding() {
            Boarding::Board => t.board += 1,
            Boarding::Deny => t.deny += 1,
            Boarding::Review | Boarding::Unspecified => t.review += 1,
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_pass_boards_and_a_person_looks_at_what_is_unclear() {
        assert_eq!(boarding(Verdict::Pass), Boarding::Board);
        for v in [
            Verdict::HomeQuarantine,
            Verdict::CentralQuarantine,
            Verdict::Reject,
        ] {
            assert_eq!(boarding(v), Boarding::Deny, "{v:?}");
        }
        assert_eq!(boarding(Verdict::Review), Boarding::Review);
        assert_eq!(boarding(Verdict::Unspecified), Boarding::Review);
    }

    #[test]
    fn totals_count_every_passenger_once() {
        let d = |b: Boarding| PassengerDecision {
            boarding: b as i32,
            ..Default::default()
        };
        let all = [
            d(Boarding::Board),
            d(Boarding::Board),
            d(Boarding::Deny),
            d(Boarding::Review),
            d(Boarding::Unspecified),
        ];
        let t = totals(&all);
        assert_eq!((t.total, t.board, t.deny, t.review), (5, 2, 1, 2));
    }
}
