//! `huren.v1.FederationService`: ResolveStatus, the serving node's end of a forwarded read.

use std::sync::Arc;

use huren_proto::v1::federation_service_server::FederationService;
use huren_proto::v1::{ResolveStatusRequest, ResolveStatusResponse};
use tonic::{Request, Response, Status};

use crate::authz;
use crate::error::Error;
use crate::federation::serve::{self, RESOLVE_STATUS};
use crate::limits::Deadline;
use crate::recognition::Recognizer;

/// What the federation service needs: the node's [`Recognizer`] (none: UNIMPLEMENTED).
#[derive(Debug, Default)]
pub struct FederationState {
    pub recognizer: Option<Arc<Recognizer>>,
}

impl FederationState {
    pub fn new(recognizer: Arc<Recognizer>) -> Self {
        Self {
            recognizer: Some(recognizer),
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
        let fwd = match recognizer.federation.as_deref() {
            Some(peers) => {
                serve::authorise_indexed(&peers.routes(&registry).index, me, &node, req)?
            }
            None => serve::authorise(&registry, me, &node, req)?,
        };
        // The entry node's remaining deadline, less the share kept for the audit and the reply.
        let deadline = Deadline::of(&request)
            .and_then(|d| d.share_by(0.8))
            .unwrap_or_else(|| std::time::Instant::now() + recognizer.default_deadline);
        let answer = serve::resolve(recognizer, &registry, &fwd, req, deadline).await?;
        tracing::debug!(method = RESOLVE_STATUS, node = %fwd.node_id, caller = %fwd.caller, "forwarded read");
        Ok(Response::new(answer))
    }
}
