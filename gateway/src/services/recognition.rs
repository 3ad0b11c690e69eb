//! `huren.v1.RecognitionService`: VerifyCode, VerifyCodes, ConfirmWorkers.

use std::sync::Arc;

use huren_proto::v1::recognition_service_server::RecognitionService;
use huren_proto::v1::{
    ConfirmWorkersRequest, ConfirmWorkersResponse, VerifyCodeRequest, VerifyCodeResponse,
    VerifyCodesRequest, VerifyCodesResponse,
};
use tonic::{Request, Response, Status};

use crate::authz::{self, Ask};
use crate::error::Error;

/// What the recognition service needs; adapters, registry and engine join it in issues 4/5.
#[derive(Debug, Default)]
pub struct RecognitionState {}

#[derive(Debug, Clone)]
pub struct Recognition {
    pub state: Arc<RecognitionState>,
}

impl Recognition {
    pub fn new(state: Arc<RecognitionState>) -> Self {
        Self { state }
    }
}

#[tonic::async_trait]
impl RecognitionService for Recognition {
    async fn verify_code(
        &self,
        request: Request<VerifyCodeRequest>,
    ) -> Result<Response<VerifyCodeResponse>, Status> {
        let peer = authz::peer(&request)?;
        let verifying_region = &request.get_ref().verifying_region;
        let _rules = authz::verifying_region(peer, Ask::Verify { verifying_region })?;
        Err(Error::Unimplemented {
            method: "VerifyCode",
            capability: "the region adapters and the recognition engine (issues 4 and 5)",
        }
        .into())
    }

    async fn verify_codes(
        &self,
        request: Request<VerifyCodesRequest>,
    ) -> Result<Response<VerifyCodesResponse>, Status> {
        let peer = authz::peer(&request)?;
        let verifying_region = &request.get_ref().verifying_region;
        let _rules = authz::verifying_region(peer, Ask::Verify { verifying_region })?;
        Err(Error::Unimplemented {
            method: "VerifyCodes",
            capability: "the region adapters and the recognition engine (issues 4 and 5)",
        }
        .into())
    }

    async fn confirm_workers(
        &self,
        request: Request<ConfirmWorkersRequest>,
    ) -> Result<Response<ConfirmWorkersResponse>, Status> {
        let peer = authz::peer(&request)?;
        let destination_region = &request.get_ref().destination_region;
        let _rules = authz::verifying_region(peer, Ask::ConfirmWorkers { destination_region })?;
        Err(Error::Unimplemented {
            method: "ConfirmWorkers",
            capability: "the recognition engine and signed recognition receipts (issue 5)",
        }
        .into())
    }
}
