//! The transparency log: every accepted document version is a leaf of an RFC 6962 Merkle tree.

pub mod checkpoint;
pub mod merkle;
pub mod tlog;

pub use checkpoint::{Checkpoint, CheckpointError};
pub use merkle::{
    Hash, consistency_proof, inclusion_proof, leaf_hash, root_hash, verify_consistency,
    verify_inclusion,
};

/// Why a proof did not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("tree size {first} is larger than {second}: a log never shrinks")]
    Shrunk { first: u64, second: u64 },
    #[error("the proof has the wrong number of hashes for these sizes")]
    WrongLength,
    #[error("the proof does not lead to the checkpoint's root hash")]
    RootMismatch,
}
