//! `huren.v1.RecognitionService`: VerifyCode, VerifyCodes, ConfirmWorkers.

use std::sync::Arc;

use huren_proto::v1::recognition_service_server::RecognitionService;
use huren_proto::v1::{
    ConfirmWorkersRequest, ConfirmWorkersResponse, VerifyCodeRequest, VerifyCodeResponse,
    VerifyCodesRequest, VerifyCodesResponse, VerifyCodesResult, Worker, WorkerConfirmation,
    WorkerTotals, verify_codes_result, worker,
};
use tonic::{Request, Response, Status};

use crate::authz::Ask;
use crate::error::Error;
use crate::recognition::{Recognizer, shaping};
use crate::services::batch::{self, check_batch};
use crate::services::start::{self, Start};

mod confirm;

pub const VERIFY_CODE: &str = "/huren.v1.RecognitionService/VerifyCode";
pub const VERIFY_CODES: &str = "/huren.v1.RecognitionService/VerifyCodes";
pub const CONFIRM_WORKERS: &str = "/huren.v1.RecognitionService/ConfirmWorkers";

/// What the recognition service needs: the node's [`Recognizer`] (none: the methods answer
/// UNIMPLEMENTED, as a gateway without adapters or registry).
#[derive(Debug, Default)]
pub struct RecognitionState {
    pub recognizer: Option<Arc<Recognizer>>,
}

impl RecognitionState {
    pub fn new(recognizer: Arc<Recognizer>) -> Self {
        Self {
            recognizer: Some(recognizer),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Recognition {
    pub state: Arc<RecognitionState>,
}

impl Recognition {
    pub fn new(state: Arc<RecognitionState>) -> Self {
        Self { state }
    }

    /// The common start of every method, under `ask`.
    fn begin<T>(
        &self,
        request: &Request<T>,
        method: &'static str,
        ask: Ask<'_>,
    ) -> Result<Start<'_>, Error> {
        start::begin(self.state.recognizer.as_ref(), request, method, ask)
    }
}

#[tonic::async_trait]
impl RecognitionService for Recognition {
    async fn verify_code(
        &self,
        request: Request<VerifyCodeRequest>,
    ) -> Result<Response<VerifyCodeResponse>, Status> {
        let req = request.get_ref();
        let ask = Ask::Verify {
            verifying_region: &req.verifying_region,
        };
        let start = self.begin(&request, VERIFY_CODE, ask)?;
        let (recognizer, mut call) = (start.recognizer, start.call(&req.purpose)?);
        recognizer
            .check_signature_grouped(&mut call, &req.payload)
            .await;
        let judged = recognizer.verify(&call, &req.payload).await?;
        Ok(Response::new(VerifyCodeResponse {
            verification: Some(shaping::verification(&call, &judged)),
        }))
    }

    async fn verify_codes(
        &self,
        request: Request<VerifyCodesRequest>,
    ) -> Result<Response<VerifyCodesResponse>, Status> {
        let req = request.get_ref();
        let ask = Ask::Verify {
            verifying_region: &req.verifying_region,
        };
        let start = self.begin(&request, VERIFY_CODES, ask)?;
        let (recognizer, call) = (start.recognizer, start.call(&req.purpose)?);
        check_batch("payloads", req.payloads.len())?;
        let payloads = request.into_inner().payloads;
        let outcomes = batch::judge_all(
            recognizer,
            &call,
            payloads,
            |r, call, p: String| async move { r.verify(&call, &p).await },
        )
        .await?;
        let mut results = Vec::with_capacity(outcomes.len());
        for (index, outcome) in outcomes.into_iter().enumerate() {
            let outcome = match outcome {
                Ok(judged) => verify_codes_result::Outcome::Verification(shaping::verification(
                    &call, &judged,
                )),
                // The node cannot account for decisions: the whole call fails closed.
                Err(e @ Error::AuditUnavailable(_)) => return Err(e.into()),
                Err(e) => verify_codes_result::Outcome::Error(e.to_entry_error()),
            };
            results.push(VerifyCodesResult {
                index: i32::try_from(index).unwrap_or(i32::MAX),
                outcome: Some(outcome),
            });
        }
        Ok(Response::new(VerifyCodesResponse { results }))
    }

    async fn confirm_workers(
        &self,
        request: Request<ConfirmWorkersRequest>,
    ) -> Result<Response<ConfirmWorkersResponse>, Status> {
        let req = request.get_ref();
        let ask = Ask::ConfirmWorkers {
            destination_region: &req.destination_region,
        };
        let start = self.begin(&request, CONFIRM_WORKERS, ask)?;
        let (recognizer, call) = (start.recognizer, start.call(&req.purpose)?);
        check_batch("workers", req.workers.len())?;
        let workers = request.into_inner().workers;
        let refs: Vec<String> = workers.iter().map(|w| w.worker_ref.clone()).collect();
        let outcomes = batch::judge_all(
            recognizer,
            &call,
            workers,
            |r, call, w: Worker| async move { confirm::confirm(&r, &call, &w).await },
        )
        .await?;
        let mut totals = WorkerTotals::default();
        let mut confirmations = Vec::with_capacity(outcomes.len());
        for (worker_ref, outcome) in refs.into_iter().zip(outcomes) {
            let mut row = WorkerConfirmation {
                worker_ref,
                ..Default::default()
            };
            match outcome {
                Ok(confirm::Confirmed {
                    verification,
                    receipt,
                    synthetic,
                }) => {
                    let confirmed = receipt.is_some();
                    if confirmed {
                        totals.confirmed += 1;
                    } else {
                        totals.not_confirmed += 1;
                    }
                    // A test person is nobody: the summary counts people.
                    if !synthetic {
                        recognizer.summary.record_confirmation(
                            call.peer.province(),
                            call.verifying,
                            confirmed,
                        );
                    }
                    row.verification = Some(verification);
                    row.receipt = receipt;
                }
                Err(e @ Error::AuditUnavailable(_)) => return Err(e.into()),
                Err(e) => {
                    totals.errors += 1;
                    row.error = Some(e.to_entry_error());
                }
            }
            confirmations.push(row);
        }
        Ok(Response::new(ConfirmWorkersResponse {
            confirmations,
            totals: Some(totals),
        }))
    }
}

/// Which identity a worker row carries, or why it carries none.
pub(crate) fn identity(w: &huren_proto::v1::Worker) -> Result<&worker::Identity, Error> {
    w.identity.as_ref().ok_or_else(|| {
        Error::invalid(
            "workers.identity",
            "give the worker's code payload, or ID number and name for your own residents",
        )
    })
}
