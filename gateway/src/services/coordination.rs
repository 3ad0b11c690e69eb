//! `huren.v1.CoordinationService`: national aggregates and the list of regions; never a person.
//! In a federation both fan out to every node the registry lists ([`crate::fanout`]).

use std::sync::Arc;
use std::time::Instant;

use huren_proto::v1::coordination_service_server::CoordinationService;
use huren_proto::v1::{
    GetNationalSummaryRequest, GetNationalSummaryResponse, GetNodeSummaryRequest,
    ListRegionsRequest, ListRegionsResponse, Region,
};
use huren_registry::Registry;
use time::OffsetDateTime;
use tonic::{Request, Response, Status};

use crate::error::Error;
use crate::fanout::{Gathered, gather, merge};
use crate::limits::Deadline;
use crate::recognition::{Recognizer, wire};
use crate::summary::Source;

mod health;
mod page;
pub mod share;

/// Longest summary window: the counters keep a day by minute and 14 days by hour.
pub const MAX_WINDOW: time::Duration = time::Duration::days(14);
pub const DEFAULT_WINDOW: time::Duration = time::Duration::hours(1);

/// Share of the caller's deadline the peers may take; the rest is for merging and the reply.
const FAN_OUT_SHARE: f64 = 0.8;

/// What the service needs: the node's [`Recognizer`] (none: the methods answer UNIMPLEMENTED),
/// whose peer connections reach the other nodes of the federation.
#[derive(Debug, Default)]
pub struct CoordinationState {
    pub recognizer: Option<Arc<Recognizer>>,
    /// The node's review queues, counted in the summary; `None` counts no appeals.
    pub appeals: Option<Arc<crate::appeals::Appeals>>,
}

impl CoordinationState {
    pub fn new(recognizer: Arc<Recognizer>) -> Self {
        Self {
            recognizer: Some(recognizer),
            appeals: None,
        }
    }

    /// Counts the appeals of `appeals`' review queues too.
    pub fn with_appeals(mut self, appeals: Arc<crate::appeals::Appeals>) -> Self {
        self.appeals = Some(appeals);
        self
    }

    /// This node's appeals filed in `[start, end)`, by route and state.
    pub fn appeal_counts(
        &self,
        registry: &Registry,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Vec<huren_proto::v1::AppealCount> {
        self.appeals
            .as_deref()
            .map(|a| crate::appeals::summary::local(a, registry, start, end))
            .unwrap_or_default()
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

pub(crate) fn source(s: Source) -> huren_adapters::Source {
    match s {
        Source::Online => huren_adapters::Source::Online,
        Source::OfflineSigned => huren_adapters::Source::OfflineSigned,
        Source::Cached => huren_adapters::Source::Cached,
        Source::Degraded => huren_adapters::Source::Degraded,
    }
}

/// When the peers must have answered by: a share of the caller's deadline, or of the node's
/// default when the caller set none.
fn fan_out_deadline<T>(request: &Request<T>, recognizer: &Recognizer) -> Instant {
    Deadline::of(request)
        .and_then(|d| d.share_by(FAN_OUT_SHARE))
        .unwrap_or_else(|| Instant::now() + recognizer.default_deadline.mul_f64(FAN_OUT_SHARE))
}

impl Coordination {
    /// Every other node's share of `[start, end)`; nothing to ask on a single node.
    async fn gather(
        &self,
        recognizer: &Recognizer,
        reg: &Registry,
        window: (OffsetDateTime, OffsetDateTime),
        deadline: Instant,
    ) -> Gathered {
        let request = GetNodeSummaryRequest {
            start_time: Some(wire::timestamp(window.0)),
            end_time: Some(wire::timestamp(window.1)),
        };
        let me = recognizer.receipts.node_id();
        let peers = recognizer.federation.as_deref();
        gather(peers, reg, (me, &recognizer.instance), request, deadline).await
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
        let deadline = fan_out_deadline(&request, recognizer);
        let reg = registry(recognizer)?;
        let (mut local, (start, end)) = share::local(recognizer, &reg, start, end, None);
        local.appeals = self.state.appeal_counts(&reg, start, end);
        let mut gathered = self.gather(recognizer, &reg, (start, end), deadline).await;
        let me = recognizer.receipts.node_id().to_string();
        // This node id's other replicas keep their own counters: theirs and this one's make the
        // node's share.
        if !gathered.siblings.is_empty() {
            let siblings = std::mem::take(&mut gathered.siblings);
            local = merge::replicas(&me, std::iter::once(local).chain(siblings).collect());
        }
        let region_health = merge::health(
            &gathered.index,
            &me,
            local.region_health.clone(),
            &gathered.shares,
            &gathered.missing,
        );
        let federated = !gathered.shares.is_empty() || !gathered.missing.is_empty();
        let nodes = match federated {
            true => std::iter::once(me)
                .chain(gathered.shares.iter().map(|s| s.node_id.clone()))
                .collect(),
            false => Vec::new(),
        };
        let (verifications, confirmations) =
            merge::counts(std::iter::once(&local).chain(&gathered.shares));
        Ok(Response::new(GetNationalSummaryResponse {
            start_time: Some(wire::timestamp(start)),
            end_time: Some(wire::timestamp(end)),
            verifications,
            confirmations,
            region_health,
            registry_version: reg.version(),
            partial: !gathered.missing.is_empty(),
            missing_nodes: gathered.missing,
            nodes,
            missing_replicas: gathered.missing_replicas,
            appeals: crate::appeals::summary::merge(
                std::iter::once(local.appeals.as_slice())
                    .chain(gathered.shares.iter().map(|s| s.appeals.as_slice())),
            ),
        }))
    }

    async fn list_regions(
        &self,
        request: Request<ListRegionsRequest>,
    ) -> Result<Response<ListRegionsResponse>, Status> {
        let recognizer = self.recognizer("ListRegions")?;
        let deadline = fan_out_deadline(&request, recognizer);
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
        // Health only: a short window keeps the peers' counting cheap.
        let now = OffsetDateTime::now_utc();
        let window = (now - time::Duration::seconds(1), now);
        let gathered = self.gather(recognizer, &reg, window, deadline).await;
        let local = served
            .iter()
            .map(|r| health::region_health(&reg, r, &recognizer.status))
            .collect();
        let me = recognizer.receipts.node_id();
        let mut healths = merge::health(
            &gathered.index,
            me,
            local,
            &gathered.shares,
            &gathered.missing,
        )
        .into_iter();
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
                health: healths.next(),
            })
            .collect();
        Ok(Response::new(ListRegionsResponse {
            regions,
            next_page_token,
            partial: !gathered.missing.is_empty(),
            missing_nodes: gathered.missing,
            missing_replicas: gathered.missing_replicas,
        }))
    }
}
