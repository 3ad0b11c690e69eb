//! National queries fanned out: the node the national office calls asks every other node the
//! registry lists for its own share (`NodeSummaryService.GetNodeSummary`, all at once, within
//! the caller's deadline) and [`merge`]s the answers. A node that does not answer in time, cannot
//! be reached or refuses is named with the reason, and the answer is marked partial.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use huren_proto::v1::node_summary_service_client::NodeSummaryServiceClient;
use huren_proto::v1::{GetNodeSummaryRequest, GetNodeSummaryResponse, MissingNode, MissingReason};
use huren_registry::Registry;
use huren_registry::doc::Node;
use tonic::Code;
use tonic::transport::Channel;

use crate::connect::{ClientTls, lazy};

pub mod merge;

/// What the other nodes answered.
#[derive(Debug, Default)]
pub struct Gathered {
    pub shares: Vec<GetNodeSummaryResponse>,
    pub missing: Vec<MissingNode>,
}

/// This node's connections to its peers, made on first use and kept: a peer that was down is
/// reached again once it is back.
#[derive(Debug, Default)]
pub struct Peers {
    /// The node's own certificate and the national root; `None`: peers cannot be asked.
    tls: Option<ClientTls>,
    /// Node id → (URL, channel); a node whose URL changed in the registry is reconnected.
    channels: Mutex<HashMap<String, (String, Channel)>>,
}

impl Peers {
    pub fn new(tls: Option<ClientTls>) -> Self {
        Self {
            tls,
            channels: Mutex::default(),
        }
    }

    /// Asks every node `registry` lists other than `me` for its share of `request`, all at once;
    /// none is waited for past `deadline`.
    pub async fn gather(
        &self,
        registry: &Registry,
        me: &str,
        request: GetNodeSummaryRequest,
        deadline: Instant,
    ) -> Gathered {
        let asks = registry
            .nodes()
            .iter()
            .filter(|(id, _)| id.as_str() != me)
            .map(|(id, node)| self.ask(id, node, request, deadline));
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
        &self,
        id: &str,
        node: &Node,
        request: GetNodeSummaryRequest,
        deadline: Instant,
    ) -> Result<GetNodeSummaryResponse, MissingNode> {
        let missing = |reason: MissingReason, detail: String| MissingNode {
            node_id: id.to_string(),
            reason: reason as i32,
            detail,
        };
        let channel = self
            .channel(id, node)
            .map_err(|detail| missing(MissingReason::Unavailable, detail))?;
        let left = deadline.saturating_duration_since(Instant::now());
        let mut call = tonic::Request::new(request);
        call.set_timeout(left);
        let mut client = NodeSummaryServiceClient::new(channel);
        let asked = client.get_node_summary(call);
        let share = match tokio::time::timeout(left, asked).await {
            Err(_) => {
                return Err(missing(
                    MissingReason::Deadline,
                    format!("no answer within {} ms", left.as_millis()),
                ));
            }
            Ok(Err(status)) => {
                return Err(missing(reason(status.code()), status.message().to_string()));
            }
            Ok(Ok(answer)) => answer.into_inner(),
        };
        if share.node_id != id {
            return Err(missing(
                MissingReason::Refused,
                format!("answered as node {:?}", share.node_id),
            ));
        }
        Ok(share)
    }

    fn channel(&self, id: &str, node: &Node) -> Result<Channel, String> {
        let tls = self
            .tls
            .as_ref()
            .ok_or("this node has no client certificate to reach its peers with")?;
        let url = node
            .url
            .clone()
            .ok_or("the registry lists no endpoint for it")?;
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((known, channel)) = channels.get(id)
            && *known == url
        {
            return Ok(channel.clone());
        }
        let channel = lazy(&url, tls).map_err(|e| e.to_string())?;
        channels.insert(id.to_string(), (url, channel.clone()));
        Ok(channel)
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
