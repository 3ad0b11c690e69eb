//! The huren.v1 gRPC services; each file owns one service and the state it needs.

use std::sync::Arc;

pub mod batch;
pub mod coordination;
pub mod manifests;
pub mod recognition;
pub mod registry;

/// The state every service is built from; extend a service's state struct in its own file and
/// construct it here (or hand a filled `Services` to `GatewayBuilder::services`).
#[derive(Debug, Clone, Default)]
pub struct Services {
    pub recognition: Arc<recognition::RecognitionState>,
    pub manifests: Arc<manifests::ManifestsState>,
    pub coordination: Arc<coordination::CoordinationState>,
    pub registry: Arc<registry::RegistryState>,
}
