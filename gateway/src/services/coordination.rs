//! `huren.v1.CoordinationService`: national aggregates and the list of regions; never a person.

use std::sync::Arc;

use huren_proto::v1::coordination_service_server::CoordinationService;
use huren_proto::v1::{
    ConfirmationCount, GetNationalSummaryRequest, GetNationalSummaryResponse, ListRegionsRequest,
    ListRegionsResponse, Region, VerificationCount,
};
use huren_registry::Registry;
use time::OffsetDateTime;
use tonic::{Request, Response, Status};

use crate::error::Error;
use crate::recognition::{Recognizer, wire};
use crate::summary::Source;

mod health;
mod page;

/// Longest summary window: the counters keep a day by minute and 14 days by hour.
pub const MAX_WINDOW: time::Duration = time::Duration::days(14);
pub const DEFAULT_WINDOW: time::Duration = time::Duration::hours(1);

/// What the service needs: the node's [`Recognizer`] (none: the methods answer UNIMPLEMENTED).
#[derive(Debug, Default)]
pub struct CoordinationState {
    pub recognizer: Option<Arc<Recognizer>>,
}

impl CoordinationState {
    pub fn new(recognizer: Arc<Recognizer>) -> Self {
        Self {
            recognizer: Some(recognizer),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Coordination {
    pub state: Arc<CoordinationState>,
}

impl Coordination {
    pub fn new(state: Arc<CoordinationState>) -> Self {
        Self { state }
    }

    fn recognizer(&self, method: &'static str) -> Result<&Arc<Recognizer>, Error> {
        super::node(self.state.recognizer.as_ref(), method)
    }
}

fn registry(recognizer: &Recognizer) -> Result<Arc<Registry>, Error> {
    recognizer
        .registry
        .current()
        .ok_or_else(|| Error::Unavailable("no trust registry is loaded on this node".into()))
}

/// `[start, end)` from the request: defaults to the last hour, at most 14 days long.
fn window(req: &GetNationalSummaryRequest) -> Result<(OffsetDateTime, OffsetDateTime), Error> {
    let time = |field: &'static str, t: &Option<prost_types::Timestamp>| {
        t.as_ref()
            .map(|t| wire::from_timestamp(t).ok_or_else(|| Error::invalid(field, "out of range")))
            .transpose()
    };
    let end = time("end_time", &req.end_time)?.unwrap_or_else(OffsetDateTime::now_utc);
    let length = req
        .window
        .map(|w| {
            if req.start_time.is_some() {
                return Err(Error::invalid(
                    "window",
                    "set start_time or window, not both",
                ));
            }
            let nanos = i128::from(w.seconds) * 1_000_000_000 + i128::from(w.nanos);
            Ok(time::Duration::nanoseconds_i128(nanos))
        })
        .transpose()?;
    let start = match length {
        Some(length) => end - length,
        None => time("start_time", &req.start_time)?.unwrap_or(end - DEFAULT_WINDOW),
    };
    let field = if length.is_some() {
        "window"
    } else {
        "start_time"
    };
    if start >= end {
        return Err(Error::invalid(
            field,
            "must end after it starts (start_time before end_time, a positive window)",
        ));
    }
    if end - start > MAX_WINDOW {
        return Err(Error::invalid(
            field,
            "the window is at most 14 days (counters are kept a day by minute, 14 days by hour)",
        ));
    }
    Ok((start, end))
}

fn source(s: Source) -> huren_adapters::Source {
    match s {
        Source::Online => huren_adapters::Source::Online,
        Source::OfflineSigned => huren_adapters::Source::OfflineSigned,
        Source::Cached => huren_adapters::Source::Cached,
        Source::Degraded => huren_adapters::Source::Degraded,
    }
}

#[tonic::async_trait]
impl CoordinationService for Coordination {
    async fn get_national_summary(
        &self,
        request: Request<GetNationalSummaryRequest>,
    ) -> Result<Response<GetNationalSummaryResponse>, Status> {
        let recognizer = self.recognizer("GetNationalSummary")?;
        let (start, end) = window(request.get_ref())?;
        let reg = registry(recognizer)?;
        let summary = recognizer.summary.query(start, end);
        let verifications = summary
            .decisions
            .iter()
            .map(|row| VerificationCount {
                verifying_region: row.key.verifying.to_string(),
                issuing_region: row.key.issuing.to_string(),
                colour: wire::colour(row.key.colour) as i32,
                verdict: wire::verdict(row.key.verdict) as i32,
                source: wire::source(source(row.key.source)) as i32,
                count: row.count,
            })
            .collect();
        let confirmations = summary
            .confirmations
            .iter()
            .map(|row| ConfirmationCount {
                origin_region: row.route.origin.to_string(),
                destination_region: row.route.destination.to_string(),
                confirmed: row.counts.confirmed,
                not_confirmed: row.counts.not_confirmed,
            })
            .collect();
        let region_health = reg
            .regions()
            .map(|r| health::region_health(&reg, r, &recognizer.status))
            .collect();
        Ok(Response::new(GetNationalSummaryResponse {
            start_time: Some(wire::timestamp(summary.start)),
            end_time: Some(wire::timestamp(summary.end)),
            verifications,
            confirmations,
            region_health,
            registry_version: reg.version(),
        }))
    }

    async fn list_regions(
        &self,
        request: Request<ListRegionsRequest>,
    ) -> Result<Response<ListRegionsResponse>, Status> {
        let recognizer = self.recognizer("ListRegions")?;
        let req = request.get_ref();
        let size = page::size(req.page_size)?;
        let after = page::after(&req.page_token)?;
        let reg = registry(recognizer)?;
        // Regions come in code order, so "after the last code served" survives a registry
        // reload between pages.
        let mut rest = reg.regions().filter(|r| after.is_none_or(|a| r.code > a));
        let served: Vec<_> = rest.by_ref().take(size).collect();
        let next_page_token = match (rest.next(), served.last()) {
            (Some(_), Some(last)) => page::token(last.code),
            _ => String::new(),
        };
        let regions = served
            .into_iter()
            .map(|r| Region {
                name: format!("regions/{}", r.code),
                code: r.code.to_string(),
                display_name: r.delegation.name.clone(),
                issuers: r
                    .document
                    .issuers
                    .keys()
                    .map(|id| format!("regions/{}/issuers/{id}", r.code))
                    .collect(),
                native_labels: r.document.concept_map.labels.keys().cloned().collect(),
                online: r.document.status_service.is_some(),
                document_version: r.document.version,
                health: Some(health::region_health(&reg, r, &recognizer.status)),
            })
            .collect();
        Ok(Response::new(ListRegionsResponse {
            regions,
            next_page_token,
        }))
    }
}
