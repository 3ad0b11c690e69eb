//! National queries fanned out: the node the national office calls asks every other node the
//! registry lists for its own share (`NodeSummaryService.GetNodeSummary`, all at once, within
//! the caller's deadline, over the same pinned peer connections forwarded reads use) and
//! [`merge`]s the answers. A node that does not answer in time, cannot
//! be reached or refuses is named with the reason, and the answer is marked partial.

use std::time::Instant;

use huren_proto::v1::node_summary_service_client::NodeSummaryServiceClient;
use huren_proto::v1::{GetNodeSummaryRequest, GetNodeSummaryResponse, MissingNode, MissingReason};
use huren_registry::Registry;
use tonic::Code;

use crate::federation::peers::{PeerError, Peers};

pub mod merge;

/// What the other nodes answered.
#[derive(Debug, Default)]
pub struct Gathered {
    pub shares: Vec<GetNodeSummaryResponse>,
    pub missing: Vec<MissingNode>,
}

/// Asks every node `registry` lists other than `me` for its share of `request`, all at once, over
/// the node's pinned peer connections (`None`: this node has none, every share is missing); none
/// is waited for past `deadline`.
pub async fn gather(
    peers: Option<&Peers>,
    registry: &Registry,
    me: &str,
    request: GetNodeSummaryRequest,
    deadline: Instant,
) -> Gathered {
    let asks = registry
        .nodes()
        .keys()
        .filter(|id| id.as_str() != me)
        .map(|id| ask(peers, registry, id, request, deadline));
    let mut gathered = Gathered::default();
    for answer in futures::future::join_all(asks).await {
        match answer {
            Ok(share) => gathered.shares.push(share),
            Err(missing) => gathered.missing.push(missing),
        }
    }
    gathered
}

async fn ask(
    peers: Option<&Peers>,
    registry: &Registry,
    id: &str,
    request: GetNodeSummaryRequest,
    deadline: Instant,
) -> Result<GetNodeSummaryResponse, MissingNode> {
    let missing = |reason: MissingReason, detail: String| MissingNode {
        node_id: id.to_string(),
        reason: reason as i32,
        detail,
    };
    let peers = peers.ok_or_else(|| {
        missing(
            MissingReason::Unavailable,
            "this node has no connections to its peers".to_string(),
        )
    })?;
    let asked = peers
        .call(registry, id, deadline, |channel, time_left| {
            let mut call = tonic::Request::new(request);
            call.set_timeout(time_left);
            async move {
                NodeSummaryServiceClient::new(channel)
                    .get_node_summary(call)
                    .await
                    .map(tonic::Response::into_inner)
            }
        })
        .await;
    let share = asked.map_err(|e| {
        let why = match &e {
            PeerError::Deadline { .. } => MissingReason::Deadline,
            PeerError::Refused { code, .. } => reason(*code),
            PeerError::Unavailable { why, .. } => {
                return missing(MissingReason::Unavailable, why.clone());
            }
            _ => MissingReason::Unavailable,
        };
        missing(why, e.to_string())
    })?;
    if share.node_id != id {
        return Err(missing(
            MissingReason::Refused,
            format!("answered as node {:?}", share.node_id),
        ));
    }
    Ok(share)
}

/// Why a peer's share is missing, from the status its call ended with.
fn reason(code: Code) -> MissingReason {
    match code {
        Code::DeadlineExceeded | Code::Cancelled => MissingReason::Deadline,
        Code::PermissionDenied | Code::Unauthenticated | Code::Unimplemented => {
            MissingReason::Refused
        }
        _ => MissingReason::Unavailable,
    }
}
