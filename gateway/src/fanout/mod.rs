//! National queries fanned out: the node the national office calls asks every replica of every
//! other node the registry lists for its own share (`NodeSummaryService.GetNodeSummary`, all at
//! once, within the caller's deadline, over the same pinned peer connections forwarded reads
//! use) and [`merge`]s the answers: a node's replicas into one share per node id, then the nodes.
//! A node none of whose replicas answers in time, can be reached or agrees is named with the
//! reason, and the answer is marked partial; a replica down beside an answering one is named
//! apart, and the answer stays whole.

use std::sync::Arc;
use std::time::Instant;

use huren_proto::v1::node_summary_service_client::NodeSummaryServiceClient;
use huren_proto::v1::{GetNodeSummaryRequest, GetNodeSummaryResponse, MissingNode, MissingReason};
use huren_registry::Registry;
use tonic::Code;

use crate::federation::index::NodeIndex;
use crate::federation::peers::{PeerError, Peers, Routes};

pub mod merge;

/// What the other nodes answered.
#[derive(Debug, Default)]
pub struct Gathered {
    /// The node lookups of the registry version asked under.
    pub index: Arc<NodeIndex>,
    /// One share per node id, its replicas' shares merged.
    pub shares: Vec<GetNodeSummaryResponse>,
    /// Nodes none of whose replicas gave a share.
    pub missing: Vec<MissingNode>,
    /// Replicas that gave no share, of nodes another replica answered for (this node's own
    /// other replicas included).
    pub missing_replicas: Vec<MissingNode>,
    /// The shares of this node id's other replicas: merged with this replica's own, they make
    /// the node's share.
    pub siblings: Vec<GetNodeSummaryResponse>,
}

/// A random id for a running replica (128 bits, hex): see [`Gathered::siblings`].
pub fn new_instance() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// Asks every replica of every node `registry` lists other than `me`, and `me`'s own other
/// replicas when it has any, for its share of `request`, all at once, over the node's pinned
/// peer connections (`None`: this node has none, every share is missing); none is waited for
/// past `deadline`. `instance` is this replica's own (its answer to itself is left out).
pub async fn gather(
    peers: Option<&Peers>,
    registry: &Registry,
    (me, instance): (&str, &str),
    request: GetNodeSummaryRequest,
    deadline: Instant,
) -> Gathered {
    let others = registry.nodes().keys().filter(|id| id.as_str() != me);
    let mut gathered = Gathered::default();
    let Some(peers) = peers else {
        gathered.index = Arc::new(NodeIndex::build(registry));
        gathered.missing = others
            .map(|id| MissingNode {
                node_id: id.clone(),
                reason: MissingReason::Unavailable as i32,
                detail: "this node has no connections to its peers".to_string(),
                endpoint: String::new(),
            })
            .collect();
        return gathered;
    };
    let routes = peers.routes(registry);
    gathered.index = routes.index.clone();
    let asks = others.map(|id| ask(peers, &routes, id, request, deadline));
    let has_siblings = registry
        .nodes()
        .get(me)
        .is_some_and(|n| n.replica_urls().len() > 1);
    let own = async {
        match has_siblings {
            true => Some(siblings(peers, &routes, me, instance, request, deadline).await),
            false => None,
        }
    };
    let (answers, own) = futures::future::join(futures::future::join_all(asks), own).await;
    if let Some((shares, missing_replicas)) = own {
        gathered.siblings = shares;
        gathered.missing_replicas.extend(missing_replicas);
    }
    for answer in answers {
        match answer {
            Ok((share, missing_replicas)) => {
                gathered.shares.push(share);
                gathered.missing_replicas.extend(missing_replicas);
            }
            Err(missing) => gathered.missing.push(missing),
        }
    }
    gathered
}

/// The shares of node `me`'s replicas other than the one asking (`instance`), and those of
/// its other replicas that gave none.
async fn siblings(
    peers: &Peers,
    routes: &Routes,
    me: &str,
    instance: &str,
    request: GetNodeSummaryRequest,
    deadline: Instant,
) -> (Vec<GetNodeSummaryResponse>, Vec<MissingNode>) {
    let answers = match each_share(peers, routes, me, request, deadline).await {
        Ok(answers) => answers,
        Err(e) => return (Vec::new(), vec![missing(me, "", &e)]),
    };
    let (mut shares, mut missing_replicas) = (Vec::new(), Vec::new());
    for (endpoint, answer) in answers {
        match answer {
            // This replica's own answer to itself: its share is already the local one.
            Ok(share) if share.node_id == me && share.instance == instance => {}
            Ok(share) if share.node_id == me => shares.push(share),
            Ok(share) => missing_replicas.push(answered_as(me, endpoint, &share)),
            Err(e) => missing_replicas.push(missing(me, &endpoint, &e)),
        }
    }
    (shares, missing_replicas)
}

/// Every replica of node `id`, asked for its share by `deadline`.
async fn each_share(
    peers: &Peers,
    routes: &Routes,
    id: &str,
    request: GetNodeSummaryRequest,
    deadline: Instant,
) -> Result<Vec<(String, Result<GetNodeSummaryResponse, PeerError>)>, PeerError> {
    peers
        .call_each(routes, id, deadline, |channel, time_left| {
            let mut call = tonic::Request::new(request);
            call.set_timeout(time_left);
            async move {
                NodeSummaryServiceClient::new(channel)
                    .get_node_summary(call)
                    .await
                    .map(tonic::Response::into_inner)
            }
        })
        .await
}

/// A replica of node `id` that answered as another node: refused, named as a replica.
fn answered_as(id: &str, endpoint: String, share: &GetNodeSummaryResponse) -> MissingNode {
    MissingNode {
        node_id: id.to_string(),
        reason: MissingReason::Refused as i32,
        detail: format!("answered as node {:?}", share.node_id),
        endpoint,
    }
}

/// Node `id`'s share, its replicas' merged, and the replicas that gave none; or the node as
/// missing when none did.
async fn ask(
    peers: &Peers,
    routes: &Routes,
    id: &str,
    request: GetNodeSummaryRequest,
    deadline: Instant,
) -> Result<(GetNodeSummaryResponse, Vec<MissingNode>), MissingNode> {
    let answers = each_share(peers, routes, id, request, deadline)
        .await
        .map_err(|e| missing(id, "", &e))?;
    let mut shares = Vec::new();
    let mut missing_replicas = Vec::new();
    for (endpoint, answer) in answers {
        match answer {
            Ok(share) if share.node_id == id => shares.push(share),
            Ok(share) => missing_replicas.push(answered_as(id, endpoint, &share)),
            Err(e) => missing_replicas.push(missing(id, &endpoint, &e)),
        }
    }
    if shares.is_empty() {
        // Named as a node: the first replica's reason, every replica's detail.
        let reason = missing_replicas
            .first()
            .map_or(MissingReason::Unavailable as i32, |m| m.reason);
        let detail = match missing_replicas.as_slice() {
            [only] => only.detail.clone(),
            all => all
                .iter()
                .map(|m| format!("{}: {}", m.endpoint, m.detail))
                .collect::<Vec<_>>()
                .join("; "),
        };
        return Err(MissingNode {
            node_id: id.to_string(),
            reason,
            detail,
            endpoint: String::new(),
        });
    }
    Ok((merge::replicas(id, shares), missing_replicas))
}

/// Node `id` (or its replica at `endpoint`) as missing, for `e`.
fn missing(id: &str, endpoint: &str, e: &PeerError) -> MissingNode {
    let (reason, detail) = match e {
        PeerError::Deadline { .. } => (MissingReason::Deadline, e.to_string()),
        PeerError::Refused { code, .. } => (reason(*code), e.to_string()),
        PeerError::Unavailable { why, .. } => (MissingReason::Unavailable, why.clone()),
        _ => (MissingReason::Unavailable, e.to_string()),
    };
    MissingNode {
        node_id: id.to_string(),
        reason: reason as i32,
        detail,
        endpoint: endpoint.to_string(),
    }
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
