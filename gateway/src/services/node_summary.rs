//! `huren.v1.NodeSummaryService`: this node's own share of a national query, for the peer node
//! that fans it out (gateway callers only). Aggregates and adapter health, never a person.

use std::sync::Arc;

use huren_proto::v1::node_summary_service_server::NodeSummaryService;
use huren_proto::v1::{GetNodeSummaryRequest, GetNodeSummaryResponse};
use tonic::{Request, Response, Status};

use crate::error::Error;
use crate::recognition::wire;
use crate::services::coordination::{CoordinationState, MAX_WINDOW, share};

#[derive(Debug, Clone)]
pub struct NodeSummary {
    state: Arc<CoordinationState>,
}

impl NodeSummary {
    pub fn new(state: Arc<CoordinationState>) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl NodeSummaryService for NodeSummary {
    async fn get_node_summary(
        &self,
        request: Request<GetNodeSummaryRequest>,
    ) -> Result<Response<GetNodeSummaryResponse>, Status> {
        let recognizer = super::node(self.state.recognizer.as_ref(), "GetNodeSummary")?;
        let req = request.get_ref();
        let time = |field: &'static str, t: &Option<prost_types::Timestamp>| {
            t.as_ref()
                .and_then(wire::from_timestamp)
                .ok_or_else(|| Error::invalid(field, "required, in range"))
        };
        let (start, end) = (
            time("start_time", &req.start_time)?,
            time("end_time", &req.end_time)?,
        );
        if start >= end || end - start > MAX_WINDOW {
            return Err(Error::invalid(
                "start_time",
                "the window is positive and at most 14 days long",
            )
            .into());
        }
        let registry = recognizer
            .registry
            .current()
            .ok_or_else(|| Error::Unavailable("no trust registry is loaded on this node".into()))?;
        let served = share::served(recognizer, &registry);
        let (mut share, _) = share::local(recognizer, &registry, start, end, served.as_deref());
        share.appeals = self.state.appeal_counts(&registry, start, end);
        Ok(Response::new(share))
    }
}
