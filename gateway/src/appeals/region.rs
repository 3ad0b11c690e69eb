//! The issuing region's own review queue at its service: the node serving the region files each
//! appeal there and pushes the province's answer, so a correction changes the person's status
//! at the source (change feed, status lists, revocations) and every node sees it from there.
//!
//! A region whose registry entry lists no service (its codes are offline-signed only) has no
//! queue to reach: the node's index is its queue, and a correction takes effect when the region
//! re-issues the person's code, which carries the corrected status in its signature.

use std::time::Instant;

use huren_adapters::net::wire::{AppealAnswer, AppealFiling};
use huren_adapters::net::{NetError, StatusClient};
use huren_adapters::{Person, RegionCode, TrustView};

/// Where the region's queue stands on an appeal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Queued {
    /// Filed at the region's service.
    AtService,
    /// The region lists no service: the appeal waits in this node's index only.
    NoService,
}

/// Files `appeal_id` for `person` at `region`'s service: by the region's handle for online codes,
/// by resident ID for signed ones (this is the person's own region's service).
pub async fn file(
    status: &StatusClient,
    trust: &dyn TrustView,
    region: RegionCode,
    appeal_id: &str,
    person: &Person,
    reason: &str,
    deadline: Instant,
) -> Result<Queued, NetError> {
    if trust.status_service(region).is_none() {
        return Ok(Queued::NoService);
    }
    let filing = AppealFiling {
        appeal_id: appeal_id.to_string(),
        handle: match &person.id {
            Some(_) => None,
            None => person.region_handle.clone(),
        },
        resident_id: person.id.as_ref().map(|id| id.expose().to_string()),
        reason: reason.to_string(),
    };
    status.file_appeal(region, trust, &filing, deadline).await?;
    Ok(Queued::AtService)
}

/// Pushes the answer to `region`'s service; for a correction, what the service set, in words
/// for the filer.
pub async fn answer(
    status: &StatusClient,
    trust: &dyn TrustView,
    region: RegionCode,
    answer: &AppealAnswer,
    deadline: Instant,
) -> Result<String, NetError> {
    if trust.status_service(region).is_none() {
        return Ok(match answer.outcome.as_str() {
            "CORRECTED" => format!(
                "region {region} runs no status service: its offline codes carry their status, \
                 so region {region} re-issues the person's code with the corrected status"
            ),
            _ => String::new(),
        });
    }
    let answered = status
        .answer_appeal(region, trust, answer, deadline)
        .await?;
    Ok(match answer.outcome.as_str() {
        "CORRECTED" => format!(
            "region {region}'s service now says {} (its change feed carries it to every node; \
             {} earlier code(s) withdrawn or revoked)",
            answered.label, answered.withdrawn
        ),
        _ => String::new(),
    })
}
