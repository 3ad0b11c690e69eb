//! Signed checkpoints (origin, size, root hash), witness cosignatures, and refusing a fork.

use serde::{Deserialize, Serialize};

use super::ProofError;
use super::merkle::{Hash, verify_consistency};
use crate::canonical;
use crate::envelope::{Envelope, KeySet};
use crate::keys::{KeyError, SigningKey};

/// The log's size and root as its operator signs them. Its canonical JSON is the signed payload,
/// so a client can rebuild the exact signed bytes from the three fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub origin: String,
    pub tree_size: u64,
    /// Lower-case hex root hash.
    pub root_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    #[error("the checkpoint is not a valid signed checkpoint: {0}")]
    Malformed(String),
    #[error("the checkpoint has {valid} valid log-key signatures, {needed} needed")]
    Unsigned { valid: usize, needed: u32 },
    #[error("the checkpoint is for log \"{found}\", this registry's log is \"{expected}\"")]
    WrongOrigin { expected: String, found: String },
    #[error("the checkpoint carries a signature by key {key_id} that does not verify")]
    BadSignature { key_id: String },
    #[error("{valid} witnesses cosigned the checkpoint, {needed} needed")]
    TooFewWitnesses { valid: usize, needed: u32 },
    #[error(
        "the checkpoint of size {offered} is not consistent with the one held (size {held}): {reason} — a forked log"
    )]
    Inconsistent {
        held: u64,
        offered: u64,
        reason: ProofError,
    },
}

impl Checkpoint {
    pub const PAYLOAD_TYPE: &'static str = "application/vnd.huren.checkpoint+json";

    pub fn new(origin: &str, tree_size: u64, root: &Hash) -> Self {
        Self {
            origin: origin.to_string(),
            tree_size,
            root_hash: hex::encode(root),
        }
    }

    pub fn root(&self) -> Result<Hash, CheckpointError> {
        let bytes = hex::decode(&self.root_hash)
            .map_err(|e| CheckpointError::Malformed(format!("root hash: {e}")))?;
        bytes
            .try_into()
            .map_err(|_| CheckpointError::Malformed("root hash is not 32 bytes".into()))
    }

    /// An envelope over this checkpoint, signed by `key` (the log key; witnesses add theirs later).
    pub fn sign(&self, key: &SigningKey) -> Result<Envelope, KeyError> {
        let mut env = Envelope::new(Self::PAYLOAD_TYPE, canonical::encode(self));
        env.sign(key)?;
        Ok(env)
    }

    /// Decodes a signed checkpoint and checks the log role's signatures and the origin.
    pub fn verify(env: &Envelope, log: &KeySet, origin: &str) -> Result<Self, CheckpointError> {
        if env.payload_type != Self::PAYLOAD_TYPE {
            return Err(CheckpointError::Malformed(format!(
                "payload type {:?}",
                env.payload_type
            )));
        }
        let cp: Checkpoint = canonical::decode(&env.payload)
            .map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        cp.root()?;
        let tally = env.tally(log);
        if let Some(bad) = tally.invalid.first() {
            return Err(CheckpointError::BadSignature {
                key_id: bad.0.clone(),
            });
        }
        let valid = tally.valid.len();
        if valid < log.threshold as usize {
            return Err(CheckpointError::Unsigned {
                valid,
                needed: log.threshold,
            });
        }
        if cp.origin != origin {
            return Err(CheckpointError::WrongOrigin {
                expected: origin.to_string(),
                found: cp.origin,
            });
        }
        Ok(cp)
    }

    /// k of n witnesses must have cosigned the same envelope.
    pub fn verify_cosignatures(
        env: &Envelope,
        witnesses: &KeySet,
    ) -> Result<usize, CheckpointError> {
        let tally = env.tally(witnesses);
        if let Some(bad) = tally.invalid.first() {
            return Err(CheckpointError::BadSignature {
                key_id: bad.0.clone(),
            });
        }
        let valid = tally.valid.len();
        if valid < witnesses.threshold as usize {
            return Err(CheckpointError::TooFewWitnesses {
                valid,
                needed: witnesses.threshold,
            });
        }
        Ok(valid)
    }

    /// Refuses `self` (offered) unless `proof` shows `held` is a prefix of it.
    pub fn check_extends(&self, held: &Checkpoint, proof: &[Hash]) -> Result<(), CheckpointError> {
        let fail = |reason| CheckpointError::Inconsistent {
            held: held.tree_size,
            offered: self.tree_size,
            reason,
        };
        verify_consistency(
            held.tree_size,
            &held.root()?,
            self.tree_size,
            &self.root()?,
            proof,
        )
        .map_err(fail)
    }
}
