//! `huren.v1.CoordinationService`: national aggregates and the list of regions.

use std::sync::Arc;

use huren_proto::v1::coordination_service_server::CoordinationService;
use huren_proto::v1::{
    GetNationalSummaryRequest, GetNationalSummaryResponse, ListRegionsRequest, ListRegionsResponse,
};
use tonic::{Request, Response, Status};

use crate::error::Error;
use crate::recognition::Recognizer;

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
}

#[tonic::async_trait]
impl CoordinationService for Coordination {
    async fn get_national_summary(
        &self,
        _request: Request<GetNationalSummaryRequest>,
    ) -> Result<Response<GetNationalSummaryResponse>, Status> {
        Err(Error::Unimplemented {
            method: "GetNationalSummary",
            capability: "verification counters from the recognition capability (issue 5)",
        }
        .into())
    }

    async fn list_regions(
        &self,
        _request: Request<ListRegionsRequest>,
    ) -> Result<Response<ListRegionsResponse>, Status> {
        Err(Error::Unimplemented {
            method: "ListRegions",
            capability: "the signed trust registry (issue 3)",
        }
        .into())
    }
}
