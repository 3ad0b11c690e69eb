//! `huren.v1.RecognitionService`: VerifyCode, VerifyCodes, ConfirmWorkers.

use std::sync::Arc;

use huren_proto::v1::recognition_service_server::RecognitionService;
use huren_proto::v1::{
    ConfirmWorkersRequest, ConfirmWorkersResponse, VerifyCodeRequest, VerifyCodeResponse,
    VerifyCodesRequest, VerifyCodesResponse, VerifyCodesResult, Worker, WorkerConfirmation,
    WorkerTotals, verify_codes_result, worker,
};
use tonic::{Request, Response, Status};

use crate::authz::{self, Ask};
use crate::error::Error;
use crate::recognition::{Call, Recognizer, shaping};
use crate::services::batch;

mod confirm;

pub const VERIFY_CODE: &str = "/huren.v1.RecognitionService/VerifyCode";
pub const VERIFY_CODES: &str = "/huren.v1.RecognitionService/VerifyCodes";
pub const CONFIRM_WORKERS: &str = "/huren.v1.RecognitionService/ConfirmWorkers";

/// Most payloads (or workers) in one batch call.
pub const MAX_BATCH: usize = 10_000;
/// Entries of one batch judged at once: enough to keep online regions and the audit log's
/// group commit busy, few enough that one batch cannot take every connection to a region.
pub const BATCH_CONCURRENCY: usize = 64;

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

    fn recognizer(&self, method: &'static str) -> Result<&Arc<Recognizer>, Error> {
        super::node(self.state.recognizer.as_ref(), method)
    }

    /// What every method does first: who asks, under which region's rules, on which node, within
    /// which deadline. `method` is the full gRPC path, as the audit log records it.
    fn begin<T>(
        &self,
        request: &Request<T>,
        method: &'static str,
        ask: Ask<'_>,
        purpose: &str,
    ) -> Result<(&Arc<Recognizer>, Call), Status> {
        let peer = authz::peer(request)?;
        let verifying = authz::verifying_region(peer, ask)?;
        let recognizer = self.recognizer(method.rsplit('/').next().unwrap_or(method))?;
        let call = recognizer.call(peer, request.metadata(), method, purpose, verifying)?;
        Ok((recognizer, call))
    }
}

/// Refuses an empty or oversized batch before any work.
pub(crate) fn check_batch(field: &'static str, len: usize) -> Result<(), Error> {
    if len == 0 {
        return Err(Error::invalid(field, "the batch is empty"));
    }
    if len > MAX_BATCH {
        return Err(Error::invalid(
            field,
            format!("{len} entries; at most {MAX_BATCH} per call, split the batch"),
        ));
    }
    Ok(())
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
        let (recognizer, call) = self.begin(&request, VERIFY_CODE, ask, &req.purpose)?;
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
        let (recognizer, call) = self.begin(&request, VERIFY_CODES, ask, &req.purpose)?;
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
        let (recognizer, call) = self.begin(&request, CONFIRM_WORKERS, ask, &req.purpose)?;
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
                Ok((verification, receipt)) => {
                    let confirmed = receipt.is_some();
                    if confirmed {
                        totals.confirmed += 1;
                    } else {
                        totals.not_confirmed += 1;
                    }
                    recognizer.summary.record_confirmation(
                        call.peer.province(),
                        call.verifying,
                        confirmed,
                    );
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
