//! The original caller a node carries to another node — in a forwarded status read or a relayed
//! appeals call — checked at the receiving node by one function for both: the sending node is
//! listed, the caller is a client of its trust domain, and this node's own role × method table
//! lets that caller call the method ([`relayed_caller`]); for appeals, also that the sending
//! node serves the caller's province ([`speaks_for`]).

use crate::error::Error;
use crate::federation::index::NodeIndex;
use crate::identity::{IdentityError, Peer, Role, parse_spiffe_id};
use crate::policy::{Denial, Policy};

/// Who relayed, and for whom, once both are allowed.
#[derive(Debug, Clone)]
pub struct Relayed {
    /// The relaying node's id in the registry.
    pub node_id: String,
    /// The original caller, as this node's table authorised it.
    pub caller: Peer,
}

/// Checks a relayed call before anything is read: `node` (the admission layer already held its
/// certificate to the registry) is the node `index` lists under its SPIFFE id; `caller_spiffe_id`
/// names a client (never a node) in `node`'s trust domain; and that client may call `method` by
/// this node's own table, so no caller reaches through a relay what its own node would refuse.
pub fn relayed_caller(
    index: &NodeIndex,
    node: &Peer,
    caller_spiffe_id: &str,
    method: &str,
) -> Result<Relayed, Error> {
    let node_id = index
        .node_of(&node.spiffe_id)
        .map(str::to_string)
        .ok_or_else(|| IdentityError::NotARegisteredNode {
            spiffe_id: node.spiffe_id.clone(),
        })?;
    let caller = parse_spiffe_id(caller_spiffe_id, trust_domain_of(node))?;
    if caller.role == Role::Gateway {
        return Err(Error::invalid(
            "caller_spiffe_id",
            "a relayed call is for a client, not for another node",
        ));
    }
    Policy::default().check(&caller, method)?;
    Ok(Relayed { node_id, caller })
}

/// Whether the relaying node may speak for `relayed.caller` in an appeals call: it serves the
/// caller's province. An appeal acts on a person's case with the caller's own authority (the
/// filer's, or the issuing province's); the registry says which provinces' clients each node
/// serves, and a node naming another province's caller (west answering as Guangdong's health
/// commission) is refused. A status read is held to the rules it asks under instead
/// (`federation::serve`), because a carrier calls at the node of its train's destination.
pub fn speaks_for(index: &NodeIndex, relayed: &Relayed, method: &str) -> Result<(), Error> {
    let province = relayed.caller.province();
    if index.serves(&relayed.node_id, province.as_str()) {
        return Ok(());
    }
    Err(Denial::new(
        "NOT_THE_RELAYING_NODES_CALLER",
        &relayed.caller,
        method,
        format!(
            "node {} does not serve province {province}, so it does not speak for {}: call at \
             a node that serves {province}",
            relayed.node_id, relayed.caller.spiffe_id
        ),
    )
    .into())
}

/// The trust domain a node's SPIFFE id names: the original caller it carries must be in it.
pub fn trust_domain_of(node: &Peer) -> &str {
    node.spiffe_id
        .strip_prefix("spiffe://")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default()
}
