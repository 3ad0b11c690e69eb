//! `huren.v1.WitnessService`: this node cosigns a registry checkpoint for the publisher
//! (gateway callers only), with the witness key the registry lists for it.

use std::sync::Arc;

use huren_proto::v1::witness_service_server::WitnessService;
use huren_proto::v1::{AddCheckpointRequest, AddCheckpointResponse};
use huren_registry::log::Hash;
use huren_registry::witness::WitnessError;
use tonic::{Code, Request, Response, Status};

use crate::registry_handle::SharedRegistry;
use crate::witnessing::{AddError, LocalWitness};

/// The trailer that tells a caller which size this witness last cosigned, when it guessed wrong.
pub const WITNESS_SIZE: &str = "huren-witness-size";

/// What the witness service needs: the node's witness (none on a node without a witness key)
/// and its registry, whose log keys sign what it cosigns.
#[derive(Debug, Default)]
pub struct WitnessState {
    pub local: Option<Arc<LocalWitness>>,
    pub registry: SharedRegistry,
}

#[derive(Debug, Clone)]
pub struct Witness {
    state: Arc<WitnessState>,
}

impl Witness {
    pub fn new(state: Arc<WitnessState>) -> Self {
        Self { state }
    }
}

/// Proof hashes from the wire; a hash of the wrong length is a malformed request.
pub fn proof_hashes(proof: &[Vec<u8>]) -> Result<Vec<Hash>, Status> {
    proof
        .iter()
        .map(|h| {
            <Hash>::try_from(h.as_slice())
                .map_err(|_| Status::invalid_argument("consistency_proof: every hash is 32 bytes"))
        })
        .collect()
}

/// The gRPC status of a refusal: the caller's wrong guess of the last size is ABORTED with the
/// right one in a trailer; a fork or a stale checkpoint FAILED_PRECONDITION; a note the log did
/// not sign INVALID_ARGUMENT; a failure to keep the cosigned checkpoint UNAVAILABLE.
pub fn refusal(e: &AddError) -> Status {
    let code = match e {
        AddError::Persist(_) => Code::Unavailable,
        AddError::Witness(w) => match w {
            WitnessError::OldSizeMismatch { .. } => Code::Aborted,
            WitnessError::Fork(_) | WitnessError::Older { .. } => Code::FailedPrecondition,
            _ => Code::InvalidArgument,
        },
    };
    let mut status = Status::new(code, e.to_string());
    if let AddError::Witness(WitnessError::OldSizeMismatch { held, .. }) = e
        && let Ok(v) = held.to_string().parse()
    {
        status.metadata_mut().insert(WITNESS_SIZE, v);
    }
    status
}

#[tonic::async_trait]
impl WitnessService for Witness {
    async fn add_checkpoint(
        &self,
        request: Request<AddCheckpointRequest>,
    ) -> Result<Response<AddCheckpointResponse>, Status> {
        let Some(local) = self.state.local.clone() else {
            return Err(Status::unimplemented(
                "this node has no witness key (node.witness_key)",
            ));
        };
        let registry = self
            .state
            .registry
            .current()
            .ok_or_else(|| Status::unavailable("no trust registry is loaded on this node"))?;
        let req = request.into_inner();
        let proof = proof_hashes(&req.consistency_proof)?;
        // Signing and an fsync: off the reactor.
        let cosigned = tokio::task::spawn_blocking(move || {
            local.add_checkpoint(registry.root(), &req.checkpoint_note, req.old_size, &proof)
        })
        .await
        .map_err(|e| Status::internal(format!("the witness task failed: {e}")))?;
        match cosigned {
            Ok(sig) => Ok(Response::new(AddCheckpointResponse {
                cosignature: sig.line(),
                witness: sig.name,
            })),
            Err(e) => Err(refusal(&e)),
        }
    }
}
