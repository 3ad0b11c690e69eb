//! Boarding decisions for a manifest's passengers: each judged under the destination's agreement
//! through the shared pipeline and turned into board / deny / review. Decisions stay domain
//! values ([`Boarded`], [`Outcome`]) and become wire messages only as they go out
//! ([`Boarded::decision`], [`totals`]).
//!
//! Judging and recording are separate steps here: a watch re-judges passengers whenever a feed
//! says something may have changed, and only the decisions that change go out — so only those
//! are audited and counted ([`record`]).

use std::sync::Arc;

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::{self, ManifestTotals, Passenger, PassengerDecision};
use huren_registry::Verdict;

use crate::error::Error;
use crate::recognition::pipeline::{Call, Judged};
use crate::recognition::{Recognizer, shaping};
use crate::services::batch;

/// What the carrier does with a passenger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boarding {
    Board,
    Deny,
    /// Staff at the platform must look.
    Review,
}

impl Boarding {
    fn wire(self) -> v1::Boarding {
        match self {
            Boarding::Board => v1::Boarding::Board,
            Boarding::Deny => v1::Boarding::Deny,
            Boarding::Review => v1::Boarding::Review,
        }
    }
}

/// PASS boards; a quarantine or a rejection does not; anything a person must look at is REVIEW.
pub fn boarding(verdict: Verdict) -> Boarding {
    match verdict {
        Verdict::Pass => Boarding::Board,
        Verdict::HomeQuarantine | Verdict::CentralQuarantine | Verdict::Reject => Boarding::Deny,
        Verdict::Review => Boarding::Review,
    }
}

/// What a carrier acts on; a new refresh time or reason wording is not a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub boarding: Boarding,
    pub verdict: Option<Verdict>,
    pub quarantine_days: u32,
    pub colour: Option<Colour>,
    /// The code of the error a passenger whose payload could not be judged is answered with.
    pub error: Option<tonic::Code>,
}

/// One passenger judged; nothing is recorded yet.
#[derive(Debug)]
pub struct Boarded {
    pub seat: String,
    /// The decision, or why the payload could not be judged (it fails alone, as REVIEW).
    pub judged: Result<Judged, Error>,
}

impl Boarded {
    pub fn outcome(&self) -> Outcome {
        match &self.judged {
            Ok(j) => Outcome {
                boarding: boarding(j.decision.verdict),
                verdict: Some(j.decision.verdict),
                quarantine_days: j.decision.quarantine_days,
                colour: Some(j.colour),
                error: None,
            },
            Err(e) => Outcome {
                boarding: Boarding::Review,
                verdict: None,
                quarantine_days: 0,
                colour: None,
                error: Some(e.code()),
            },
        }
    }

    /// The region whose adapter claimed the payload (none when no adapter did).
    pub fn issuing(&self) -> Option<RegionCode> {
        self.judged.as_ref().ok().map(|j| j.issuing)
    }

    /// The issuing region's handle for the person, when its service gave one.
    pub fn handle(&self) -> Option<&str> {
        self.judged.as_ref().ok()?.region_handle()
    }

    /// The decision as the carrier may see it.
    pub fn decision(&self, call: &Call) -> PassengerDecision {
        let (verification, error) = match &self.judged {
            Ok(judged) => (Some(shaping::verification(call, judged)), None),
            Err(e) => (None, Some(e.to_entry_error())),
        };
        PassengerDecision {
            seat: self.seat.clone(),
            boarding: self.outcome().boarding.wire() as i32,
            verification,
            error,
        }
    }
}

/// Judges one passenger (nothing is recorded yet). A payload no adapter reads fails alone, as
/// REVIEW: staff at the platform must look at it. Judging fails only when no adapter claims the
/// payload, so a failed passenger has no issuing region.
pub async fn board(recognizer: &Recognizer, call: &Call, passenger: Passenger) -> Boarded {
    Boarded {
        judged: recognizer.judge_payload(call, &passenger.payload).await,
        seat: passenger.seat,
    }
}

/// Judges `passengers` on the batch engine, in their order.
pub async fn board_all(
    recognizer: &Arc<Recognizer>,
    call: &Call,
    passengers: Vec<Passenger>,
) -> Result<Vec<Boarded>, Error> {
    batch::judge_all(
        recognizer,
        call,
        passengers,
        |r, call, p: Passenger| async move { board(&r, &call, p).await },
    )
    .await
}

/// Audits (durably) and counts the decisions about to go out, on the batch engine so the audit
/// log's group commit can batch them; taking them by value records each once.
pub async fn record(
    recognizer: &Arc<Recognizer>,
    call: &Call,
    boarded: Vec<Boarded>,
) -> Result<(), Error> {
    let judged: Vec<Judged> = boarded.into_iter().filter_map(|b| b.judged.ok()).collect();
    batch::judge_all(recognizer, call, judged, |r, call, j: Judged| async move {
        r.record(&call, &j).await
    })
    .await?
    .into_iter()
    .collect()
}

pub fn totals(boardings: impl IntoIterator<Item = Boarding>) -> ManifestTotals {
    let mut t = ManifestTotals::default();
    for b in boardings {
        t.total += 1;
        match b {
            Boarding::Board => t.board += 1,
            Boarding::Deny => t.deny += 1,
            Boarding::Review => t.review += 1,
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
    }

    #[test]
    fn totals_count_every_passenger_once() {
        let all = [
            Boarding::Board,
            Boarding::Board,
            Boarding::Deny,
            Boarding::Review,
            Boarding::Review,
        ];
        let t = totals(all);
        assert_eq!((t.total, t.board, t.deny, t.review), (5, 2, 1, 2));
    }

    #[test]
    fn each_boarding_has_its_own_wire_value() {
        assert_eq!(Boarding::Board.wire(), v1::Boarding::Board);
        assert_eq!(Boarding::Deny.wire(), v1::Boarding::Deny);
        assert_eq!(Boarding::Review.wire(), v1::Boarding::Review);
    }
}
