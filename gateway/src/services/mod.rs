//! The huren.v1 gRPC services; each file owns one service and the state it needs.

use std::sync::Arc;

use crate::error::Error;
use crate::recognition::Recognizer;

pub mod appeals;
pub mod batch;
pub mod coordination;
pub mod federation;
pub mod lookup;
pub mod manifests;
pub mod node_summary;
pub mod recognition;
pub mod registry;
pub mod start;
pub mod witness;

/// The state every service is built from; extend a service's state struct in its own file and
/// construct it here (or hand a filled `Services` to `GatewayBuilder::services`).
#[derive(Debug, Clone, Default)]
pub struct Services {
    pub recognition: Arc<recognition::RecognitionState>,
    pub manifests: Arc<manifests::ManifestsState>,
    pub coordination: Arc<coordination::CoordinationState>,
    pub registry: Arc<registry::RegistryState>,
    pub federation: Arc<federation::FederationState>,
    /// This node as a registry witness (`WitnessService`).
    pub witness: Arc<witness::WitnessState>,
    pub appeals: Arc<appeals::AppealsState>,
    /// What `/readyz` and the health service follow besides starting and draining.
    pub readiness: crate::readiness::Readiness,
}

/// The node behind a service method, or UNIMPLEMENTED naming what is missing: a gateway started
/// without adapters, a registry and an audit log (e.g. with a bare PKI) serves no decisions.
pub(crate) fn node<'a>(
    recognizer: Option<&'a Arc<Recognizer>>,
    method: &'static str,
) -> Result<&'a Arc<Recognizer>, Error> {
    recognizer.ok_or(Error::Unimplemented {
        method,
        capability: "a node with adapters, a registry, an audit log and counters (huren::node)",
    })
}
