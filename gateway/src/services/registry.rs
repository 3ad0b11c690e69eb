//! `huren.v1.RegistryService`: the signed registry, its log checkpoints and proofs.

use std::sync::Arc;

use futures::stream::BoxStream;
use huren_proto::v1::registry_service_server::RegistryService;
use huren_proto::v1::{
    GetCheckpointRequest, GetCheckpointResponse, GetProofsRequest, GetProofsResponse,
    GetRegistryRequest, GetRegistryResponse, WatchRegistryRequest, WatchRegistryResponse,
};
use tonic::{Request, Response, Status};

use crate::error::Error;

const CAPABILITY: &str = "the signed trust registry and its transparency log (issue 3)";

/// What the registry service needs; the verified registry state joins it in issue 3.
#[derive(Debug, Default)]
pub struct RegistryState {}

#[derive(Debug, Clone)]
pub struct Registry {
    pub state: Arc<RegistryState>,
}

impl Registry {
    pub fn new(state: Arc<RegistryState>) -> Self {
        Self { state }
    }
}

fn unbuilt(method: &'static str) -> Status {
    Error::Unimplemented {
        method,
        capability: CAPABILITY,
    }
    .into()
}

#[tonic::async_trait]
impl RegistryService for Registry {
    async fn get_registry(
        &self,
        _request: Request<GetRegistryRequest>,
    ) -> Result<Response<GetRegistryResponse>, Status> {
        Err(unbuilt("GetRegistry"))
    }

    type WatchRegistryStream = BoxStream<'static, Result<WatchRegistryResponse, Status>>;

    async fn watch_registry(
        &self,
        _request: Request<WatchRegistryRequest>,
    ) -> Result<Response<Self::WatchRegistryStream>, Status> {
        Err(unbuilt("WatchRegistry"))
    }

    async fn get_checkpoint(
        &self,
        _request: Request<GetCheckpointRequest>,
    ) -> Result<Response<GetCheckpointResponse>, Status> {
        Err(unbuilt("GetCheckpoint"))
    }

    async fn get_proofs(
        &self,
        _request: Request<GetProofsRequest>,
    ) -> Result<Response<GetProofsResponse>, Status> {
        Err(unbuilt("GetProofs"))
    }
}
