//! `huren.v1.RegistryService`: the signed registry (full or delta), a stream of new signed
//! states, checkpoints and proofs — all served from the node's current verified registry.

use std::sync::Arc;

use futures::StreamExt;
use futures::stream::BoxStream;
use huren_proto::v1::registry_service_server::RegistryService;
use huren_proto::v1::{
    Checkpoint, EnvelopeSignature, GetCheckpointRequest, GetCheckpointResponse, GetProofsRequest,
    GetProofsResponse, GetRegistryRequest, GetRegistryResponse, RegistryDocument,
    WatchRegistryRequest, WatchRegistryResponse,
};
use huren_registry::log::Hash;
use huren_registry::{Envelope, Registry as Verified};
use tonic::{Request, Response, Status};

use crate::error::Error;
use crate::registry_handle::SharedRegistry;

/// What the registry service needs: the node's shared, hot-reloaded registry.
#[derive(Debug, Default)]
pub struct RegistryState {
    pub shared: SharedRegistry,
}

impl RegistryState {
    pub fn new(shared: SharedRegistry) -> Self {
        Self { shared }
    }
}

/// The RegistryService handler: hands out the held registry, its log, checkpoints and proofs.
/// (Named apart from `huren_registry::Registry`, the document set it serves.)
#[derive(Debug, Clone)]
pub struct RegistryDistribution {
    pub state: Arc<RegistryState>,
}

impl RegistryDistribution {
    pub fn new(state: Arc<RegistryState>) -> Self {
        Self { state }
    }

    fn current(&self) -> Result<Arc<Verified>, Status> {
        self.state.shared.current().ok_or_else(|| {
            Error::Unavailable("no trust registry is loaded on this node".into()).into()
        })
    }
}

fn signatures(env: &Envelope) -> Vec<EnvelopeSignature> {
    env.signatures
        .iter()
        .map(|s| EnvelopeSignature {
            key_id: s.key_id.0.clone(),
            signature: s.signature.clone(),
        })
        .collect()
}

/// The checkpoint of `tree_size` leaves as signed when it was current (the latest by default).
fn checkpoint(reg: &Verified, tree_size: Option<u64>) -> Option<Checkpoint> {
    reg.state().log.checkpoints.iter().rev().find_map(|env| {
        let cp: huren_registry::log::Checkpoint =
            huren_registry::canonical::decode(&env.payload).ok()?;
        if tree_size.is_some_and(|s| s != cp.tree_size) {
            return None;
        }
        Some(Checkpoint {
            origin: cp.origin.clone(),
            tree_size: cp.tree_size,
            root_hash: cp.root().ok()?.to_vec(),
            signatures: signatures(env),
        })
    })
}

fn hashes(proof: Vec<Hash>) -> Vec<Vec<u8>> {
    proof.into_iter().map(|h| h.to_vec()).collect()
}

/// The documents published after `since_version`, the checkpoint, and a consistency proof
/// from `since_tree_size`.
fn registry_response(
    reg: &Verified,
    since_version: u64,
    since_tree_size: u64,
) -> Result<GetRegistryResponse, Status> {
    let documents = reg
        .documents_since(since_version)
        .into_iter()
        .map(|(name, version, env)| RegistryDocument {
            name,
            version,
            envelope: Some(crate::follow::delta::envelope_to_wire(env)),
        })
        .collect();
    let size = reg.checkpoint().tree_size;
    let consistency_proof = if since_tree_size > 0 {
        hashes(
            reg.prove_consistency(since_tree_size, size)
                .map_err(|e| Status::from(Error::invalid("since_tree_size", e.to_string())))?,
        )
    } else {
        Vec::new()
    };
    let delta = since_version > 0;
    // A delta carries the log's growth too, so a follower rebuilds the state without the file.
    let (log_entries, checkpoints, checkpoint_note) = if delta {
        crate::follow::delta::log_delta(reg, since_tree_size)
    } else {
        Default::default()
    };
    Ok(GetRegistryResponse {
        version: reg.version(),
        documents,
        delta,
        log_entries,
        checkpoints,
        checkpoint_note,
        checkpoint: checkpoint(reg, None),
        consistency_proof,
        signed_state: if since_version == 0 {
            reg.state().to_bytes()
        } else {
            Vec::new()
        },
    })
}

#[tonic::async_trait]
impl RegistryService for RegistryDistribution {
    async fn get_registry(
        &self,
        request: Request<GetRegistryRequest>,
    ) -> Result<Response<GetRegistryResponse>, Status> {
        let req = request.into_inner();
        let reg = self.current()?;
        if req.since_version > reg.version() {
            return Err(Error::invalid(
                "since_version",
                format!(
                    "this node serves registry version {}; {} is newer",
                    reg.version(),
                    req.since_version
                ),
            )
            .into());
        }
        Ok(Response::new(registry_response(
            &reg,
            req.since_version,
            req.since_tree_size,
        )?))
    }

    type WatchRegistryStream = BoxStream<'static, Result<WatchRegistryResponse, Status>>;

    async fn watch_registry(
        &self,
        request: Request<WatchRegistryRequest>,
    ) -> Result<Response<Self::WatchRegistryStream>, Status> {
        let since = request.into_inner().since_version;
        let mut rx = self.state.shared.subscribe();
        rx.mark_changed();
        // (receiver, version and log size the client holds)
        let start = (rx, since, 0u64);
        let stream = futures::stream::unfold(start, |(mut rx, held, held_size)| async move {
            loop {
                rx.changed().await.ok()?;
                let Some(reg) = rx.borrow_and_update().clone() else {
                    continue;
                };
                if reg.version() <= held && held != 0 {
                    continue;
                }
                let item = registry_response(&reg, held, held_size)
                    .map(|state| WatchRegistryResponse { state: Some(state) });
                let next = (rx, reg.version(), reg.checkpoint().tree_size);
                return Some((item, next));
            }
        });
        Ok(Response::new(stream.boxed()))
    }

    async fn get_checkpoint(
        &self,
        _request: Request<GetCheckpointRequest>,
    ) -> Result<Response<GetCheckpointResponse>, Status> {
        let reg = self.current()?;
        Ok(Response::new(GetCheckpointResponse {
            checkpoint: checkpoint(&reg, None),
        }))
    }

    async fn get_proofs(
        &self,
        request: Request<GetProofsRequest>,
    ) -> Result<Response<GetProofsResponse>, Status> {
        let req = request.into_inner();
        let reg = self.current()?;
        let leaf: Hash = hex::decode(&req.leaf_hash)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                Status::from(Error::invalid(
                    "leaf_hash",
                    "must be 64 lower-case hex digits (an RFC 6962 leaf hash)",
                ))
            })?;
        let size = if req.tree_size == 0 {
            reg.checkpoint().tree_size
        } else {
            req.tree_size
        };
        let (leaf_index, proof) = reg.prove_inclusion(&leaf, size).map_err(|e| {
            Status::from(Error::invalid(
                "leaf_hash",
                format!("not provable in a log of size {size}: {e}"),
            ))
        })?;
        let consistency_proof = if req.first_tree_size > 0 {
            hashes(
                reg.prove_consistency(req.first_tree_size, size)
                    .map_err(|e| Status::from(Error::invalid("first_tree_size", e.to_string())))?,
            )
        } else {
            Vec::new()
        };
        Ok(Response::new(GetProofsResponse {
            leaf_index,
            tree_size: size,
            inclusion_proof: hashes(proof),
            consistency_proof,
            checkpoint: checkpoint(&reg, Some(size)),
        }))
    }
}
