//! `huren.v1.ManifestsService`: CheckManifest and WatchManifest for charter-train carriers.

use std::sync::Arc;

use futures::stream::BoxStream;
use huren_proto::v1::manifests_service_server::ManifestsService;
use huren_proto::v1::{
    CheckManifestRequest, CheckManifestResponse, Manifest, WatchManifestRequest,
    WatchManifestResponse,
};
use tonic::{Request, Response, Status};

use crate::authz::{self, Ask};
use crate::error::Error;
use crate::recognition::Recognizer;

/// What the service needs: the node's [`Recognizer`] (none: the methods answer UNIMPLEMENTED).
#[derive(Debug, Default)]
pub struct ManifestsState {
    pub recognizer: Option<Arc<Recognizer>>,
}

impl ManifestsState {
    pub fn new(recognizer: Arc<Recognizer>) -> Self {
        Self {
            recognizer: Some(recognizer),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Manifests {
    pub state: Arc<ManifestsState>,
}

impl Manifests {
    pub fn new(state: Arc<ManifestsState>) -> Self {
        Self { state }
    }
}

fn destination(manifest: Option<&Manifest>) -> &str {
    manifest.map_or("", |m| m.destination_region.as_str())
}

#[tonic::async_trait]
impl ManifestsService for Manifests {
    async fn check_manifest(
        &self,
        request: Request<CheckManifestRequest>,
    ) -> Result<Response<CheckManifestResponse>, Status> {
        let peer = authz::peer(&request)?;
        let destination_region = destination(request.get_ref().manifest.as_ref());
        let _rules = authz::verifying_region(peer, Ask::Manifest { destination_region })?;
        Err(Error::Unimplemented {
            method: "CheckManifest",
            capability: "the recognition capability for manifests (issue 5)",
        }
        .into())
    }

    type WatchManifestStream = BoxStream<'static, Result<WatchManifestResponse, Status>>;

    async fn watch_manifest(
        &self,
        request: Request<WatchManifestRequest>,
    ) -> Result<Response<Self::WatchManifestStream>, Status> {
        let peer = authz::peer(&request)?;
        let destination_region = destination(request.get_ref().manifest.as_ref());
        let _rules = authz::verifying_region(peer, Ask::Manifest { destination_region })?;
        Err(Error::Unimplemented {
            method: "WatchManifest",
            capability: "the recognition capability for manifests (issue 5)",
        }
        .into())
    }
}
