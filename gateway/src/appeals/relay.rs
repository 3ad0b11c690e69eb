//! Appeals calls for a region another node serves: the entry node relays them with the original
//! caller's identity ([`relay`]); the serving node checks the relaying node and authorises that
//! caller with its own role × method table ([`authorise`]), as a forwarded status read is, and
//! only for callers of provinces the relaying node serves.

use std::time::Instant;

use huren_proto::v1::appeals_relay_service_client::AppealsRelayServiceClient;
use huren_proto::v1::{RelayAppealRequest, RelayAppealResponse, relay_appeal_request};
use huren_registry::Registry;

use crate::appeals::error::AppealError;
use crate::error::Error;
use crate::federation::index::NodeIndex;
use crate::federation::peers::{PeerError, Peers};
use crate::federation::relayed::{Relayed, relayed_caller, speaks_for};
use crate::identity::Peer;

/// Sends `request` to node `node_id`, by `deadline`.
pub async fn relay(
    peers: &Peers,
    registry: &Registry,
    node_id: &str,
    request: RelayAppealRequest,
    deadline: Instant,
) -> Result<RelayAppealResponse, Error> {
    let routes = peers.routes(registry);
    let answer = peers
        .call(&routes, node_id, deadline, |channel, time_left| {
            let mut call = tonic::Request::new(request.clone());
            call.set_timeout(time_left);
            async move {
                AppealsRelayServiceClient::new(channel)
                    .relay_appeal(call)
                    .await
                    .map(tonic::Response::into_inner)
            }
        })
        .await;
    answer.map_err(|e| match e {
        PeerError::Refused { node, status, code } => AppealError::Refused {
            node,
            code,
            message: status,
        }
        .into(),
        other => Error::Unavailable(other.to_string()),
    })
}

/// The method a relayed call stands for, as the policy table names it.
pub fn method(call: &relay_appeal_request::Call) -> &'static str {
    match call {
        relay_appeal_request::Call::File(_) => super::FILE_APPEAL,
        relay_appeal_request::Call::Get(_) => super::GET_APPEAL,
        relay_appeal_request::Call::List(_) => super::LIST_APPEALS,
        relay_appeal_request::Call::Answer(_) => super::ANSWER_APPEAL,
    }
}

/// The relaying node's registry id and the original caller, once both are allowed: the caller
/// is one `node` may carry and call the method by this node's table
/// ([`relayed_caller`], as for a forwarded read), and `node` serves the caller's province
/// ([`speaks_for`]): a node cannot name another province's filer or health commission.
pub fn authorise(
    index: &NodeIndex,
    node: &Peer,
    req: &RelayAppealRequest,
) -> Result<Relayed, Error> {
    let call = req
        .call
        .as_ref()
        .ok_or_else(|| Error::invalid("call", "a relayed appeals call names its method"))?;
    let method = method(call);
    let relayed = relayed_caller(index, node, &req.caller_spiffe_id, method)?;
    speaks_for(index, &relayed, method)?;
    Ok(relayed)
}
