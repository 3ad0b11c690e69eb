//! `huren.v1.FederationService`: ResolveStatus, the serving node's end of a forwarded read, and
//! ListStatusLists / GetStatusList, the carrying node's end of status lists travelling node to
//! node.

use std::sync::Arc;

use huren_proto::v1::federation_service_server::FederationService;
use huren_proto::v1::{
    GetStatusListRequest, GetStatusListResponse, ListStatusListsRequest, ListStatusListsResponse,
    ResolveStatusRequest, ResolveStatusResponse,
};
use tonic::{Request, Response, Status};

use crate::authz;
use crate::error::Error;
use crate::federation::index::IndexPerVersion;
use crate::federation::list_serve;
use crate::federation::serve::{self, RESOLVE_STATUS};
use crate::limits::Deadline;
use crate::recognition::Recognizer;

/// What the federation service needs: the node's [`Recognizer`] (none: UNIMPLEMENTED).
#[derive(Debug, Default)]
pub struct FederationState {
    pub recognizer: Option<Arc<Recognizer>>,
    /// The node index when this node has no peers of its own to keep one per version.
    index: IndexPerVersion,
}

impl FederationState {
    pub fn new(recognizer: Arc<Recognizer>) -> Self {
        Self {
            recognizer: Some(recognizer),
            index: IndexPerVersion::default(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Federation {
    pub state: Arc<FederationState>,
}

impl Federation {
    pub fn new(state: Arc<FederationState>) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl FederationService for Federation {
    async fn resolve_status(
        &self,
        request: Request<ResolveStatusRequest>,
    ) -> Result<Response<ResolveStatusResponse>, Status> {
        let node = authz::peer(&request)?.clone();
        let recognizer = super::node(self.state.recognizer.as_ref(), "ResolveStatus")?;
        let registry = recognizer
            .registry
            .current()
            .ok_or_else(|| Error::Unavailable("no trust registry is loaded on this node".into()))?;
        let req = request.get_ref();
        let me = recognizer.receipts.node_id();
        let index = match recognizer.federation.as_deref() {
            Some(peers) => peers.routes(&registry).index.clone(),
            None => self.state.index.of(&registry),
        };
        let fwd = serve::authorise_indexed(&index, me, &node, req)?;
        // The entry node's remaining deadline, less the share kept for the audit and the reply.
        let deadline = Deadline::of(&request)
            .and_then(|d| d.share_by(0.8))
            .unwrap_or_else(|| std::time::Instant::now() + recognizer.default_deadline);
        let answer = serve::resolve(recognizer, &registry, &fwd, req, deadline).await?;
        tracing::debug!(method = RESOLVE_STATUS, node = %fwd.node_id, caller = %fwd.caller, "forwarded read");
        Ok(Response::new(answer))
    }

    async fn list_status_lists(
        &self,
        request: Request<ListStatusListsRequest>,
    ) -> Result<Response<ListStatusListsResponse>, Status> {
        let node = authz::peer(&request)?;
        let recognizer = super::node(self.state.recognizer.as_ref(), "ListStatusLists")?;
        let answer = list_serve::index(&recognizer.status_lists, request.get_ref())?;
        tracing::debug!(node = %node.spiffe_id, region = %request.get_ref().issuing_region,
            lists = answer.lists.len(), "status lists indexed for a peer");
        Ok(Response::new(answer))
    }

    async fn get_status_list(
        &self,
        request: Request<GetStatusListRequest>,
    ) -> Result<Response<GetStatusListResponse>, Status> {
        let node = authz::peer(&request)?;
        let recognizer = super::node(self.state.recognizer.as_ref(), "GetStatusList")?;
        let answer = list_serve::list(&recognizer.status_lists, request.get_ref())?;
        tracing::debug!(node = %node.spiffe_id, region = %request.get_ref().issuing_region,
            "status list carried to a peer");
        Ok(Response::new(answer))
    }
}
