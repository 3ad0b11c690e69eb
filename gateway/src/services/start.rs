//! The start of every judging call, whatever its service: who asks, under which region's rules,
//! on which node, within which deadline; then the call's registry snapshot.

use std::sync::Arc;

use huren_adapters::RegionCode;
use tonic::Request;

use crate::authz::{self, Ask};
use crate::error::Error;
use crate::identity::Peer;
use crate::limits::Deadline;
use crate::recognition::{Call, Recognizer};

/// A call that passed the checks every judging method makes first.
#[derive(Debug)]
pub struct Start<'n> {
    pub recognizer: &'n Arc<Recognizer>,
    /// The connection's caller, shared: a call copies none of its strings.
    pub peer: Arc<Peer>,
    /// The province whose rules apply.
    pub verifying: RegionCode,
    /// Full gRPC path, as the audit log records it.
    pub method: &'static str,
    deadline: Option<Deadline>,
}

/// Who asks and under which rules (refused before the node is looked at), then the node;
/// `method` is the full gRPC path.
pub fn begin<'n, T>(
    recognizer: Option<&'n Arc<Recognizer>>,
    request: &Request<T>,
    method: &'static str,
    ask: Ask<'_>,
) -> Result<Start<'n>, Error> {
    let peer = authz::shared_peer(request)?;
    let verifying = authz::verifying_region(peer, ask)?;
    let recognizer = super::node(recognizer, method.rsplit('/').next().unwrap_or(method))?;
    Ok(Start {
        recognizer,
        peer: Arc::clone(peer),
        verifying,
        method,
        deadline: Deadline::of(request),
    })
}

impl Start<'_> {
    /// The call's fixed facts, audited under `purpose`: the registry of the moment and the
    /// caller's deadline.
    pub fn call(&self, purpose: &str) -> Result<Call, Error> {
        self.recognizer.call(
            &self.peer,
            self.deadline,
            self.method,
            purpose,
            self.verifying,
        )
    }
}
