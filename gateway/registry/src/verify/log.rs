//! The log step: the checkpoint is signed by the log role, its size and root match the entries,
//! every current document is a leaf, and the log extends the one held.

use std::collections::BTreeMap;

use crate::doc::Root;
use crate::error::{LogError, VerifyError};
use crate::log::{Checkpoint, CheckpointError, Hash, consistency_proof, leaf_hash, root_hash};
use crate::registry::Registry;
use crate::state::SignedState;

use super::timestamp::Present;

/// What the log step hands to the [`Registry`]: the checkpoint, the leaves, and in which
/// registry version each (document, version) was published.
pub(super) struct VerifiedLog {
    pub checkpoint: Checkpoint,
    pub leaves: Vec<Hash>,
    pub published_in: BTreeMap<(String, u64), u64>,
}

/// Verifies the state's log under `root`: `present` are every current document, the timestamp
/// included; `held` is the state already trusted.
pub(super) fn verify_log(
    state: &SignedState,
    root: &Root,
    present: &Present<'_>,
    held: Option<&Registry>,
) -> Result<VerifiedLog, VerifyError> {
    let cp_env = state
        .log
        .checkpoints
        .last()
        .ok_or_else(|| CheckpointError::Malformed("the log has no checkpoint".into()))?;
    let checkpoint = Checkpoint::verify(cp_env, &root.roles.log, &root.log_origin)?;
    // Cosignatures are not required yet (federation wires the witnesses), but a corrupt one is
    // tampering.
    if let Some(bad) = cp_env.tally(&root.roles.witnesses).invalid.first() {
        return Err(CheckpointError::BadSignature {
            key_id: bad.0.clone(),
        }
        .into());
    }
    if let Some(note) = &state.log.note {
        crate::witness::verify_checkpoint_note(note, root, &checkpoint).map_err(LogError::from)?;
    }
    let (leaves, logged) = leaves(state)?;
    if checkpoint.tree_size != leaves.len() as u64 {
        return Err(LogError::LogSize {
            checkpoint: checkpoint.tree_size,
            entries: leaves.len() as u64,
        }
        .into());
    }
    if root_hash(&leaves) != checkpoint.root()? {
        return Err(LogError::LogRootMismatch.into());
    }
    for (name, (version, env)) in present {
        logged
            .get(&(name.as_str(), *version))
            .copied()
            .filter(|i| leaves[*i] == leaf_hash(&env.signed_bytes()))
            .ok_or_else(|| LogError::NotLogged {
                document: name.clone(),
                version: *version,
            })?;
    }
    if let Some(held) = held {
        extends_held(&checkpoint, held.checkpoint(), &leaves)?;
    }
    let published_in = state
        .log
        .entries
        .iter()
        .map(|e| ((e.document.clone(), e.version), e.published_in))
        .collect();
    Ok(VerifiedLog {
        checkpoint,
        leaves,
        published_in,
    })
}

/// Every entry's leaf hash, and where (document, version) was last logged.
#[allow(clippy::type_complexity)]
fn leaves(state: &SignedState) -> Result<(Vec<Hash>, BTreeMap<(&str, u64), usize>), VerifyError> {
    let mut leaves: Vec<Hash> = Vec::with_capacity(state.log.entries.len());
    let mut logged = BTreeMap::new();
    for (index, e) in state.log.entries.iter().enumerate() {
        let h: Hash = hex::decode(&e.leaf_hash)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(LogError::MalformedLeaf { index })?;
        leaves.push(h);
        logged.insert((e.document.as_str(), e.version), index);
    }
    Ok((leaves, logged))
}

/// The offered log (`checkpoint` over `leaves`) has the held checkpoint's log as a prefix.
fn extends_held(
    checkpoint: &Checkpoint,
    held_cp: &Checkpoint,
    leaves: &[Hash],
) -> Result<(), VerifyError> {
    let proof = consistency_proof(held_cp.tree_size as usize, leaves).map_err(|reason| {
        CheckpointError::Inconsistent {
            held: held_cp.tree_size,
            offered: checkpoint.tree_size,
            reason,
        }
    })?;
    checkpoint.check_extends(held_cp, &proof)?;
    Ok(())
}
