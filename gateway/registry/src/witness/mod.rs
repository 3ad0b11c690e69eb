//! Witnessing: every node cosigns (C2SP `cosignature/v1`) each checkpoint it has verified as
//! consistent with the last one it cosigned, and acts on a registry version only when k of the
//! witnesses the root lists have cosigned its checkpoint. A fork — two checkpoints of one size
//! with different roots, or one not consistent with the last — is refused and kept as evidence.
//!
//! | module | its one job |
//! |---|---|
//! | [`fork`] | judging an offered checkpoint against the last one held: same, extends, older, fork |
//! | [`quorum`] | the listed witnesses and the k-of-n cosignature check of a checkpoint note |
//! | [`checkpoint_note`] | the log-signed checkpoint note a publish carries, and checking it |
//! | [`cosigner`] | this node as a witness: cosign what extends the last cosigned checkpoint |
//! | [`file`] | the witness's last cosigned checkpoint and fork evidence in the state directory |

pub mod checkpoint_note;
pub mod cosigner;
pub mod file;
pub mod fork;
pub mod quorum;

pub use checkpoint_note::{
    check_log_signed, log_verifiers, sign_checkpoint_note, verify_checkpoint_note,
};
pub use cosigner::Cosigner;
pub use fork::{Fork, ForkKind, Judgement, judge};
pub use quorum::{Witnesses, quorum_to_act, root_at, witness_name, witnesses_to_ask};

use crate::log::CheckpointError;
use crate::note::NoteError;

/// Why a checkpoint was not cosigned or not acted on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("the checkpoint note is signed by {valid} log keys, {needed} needed")]
    LogUnsigned { valid: usize, needed: u32 },
    #[error("the checkpoint note says {note}, the signed checkpoint says {signed}")]
    NoteMismatch { note: String, signed: String },
    #[error("{valid} of the listed witnesses cosigned the checkpoint, {needed} needed")]
    TooFewCosignatures { valid: usize, needed: u32 },
    #[error("the checkpoint (size {offered}) is older than the one last cosigned (size {held})")]
    Older { held: u64, offered: u64 },
    #[error("the checkpoint is for log {offered:?}, this witness follows {held:?}")]
    ForeignLog { held: String, offered: String },
    #[error("{0}")]
    Fork(Box<Fork>),
    #[error(
        "node {node:?} lists a witness key another node already lists; each witness needs its own key"
    )]
    SharedWitnessKey { node: String },
    #[error("the root asks for {threshold} witness cosignatures but lists {listed} witnesses")]
    UnreachableThreshold { threshold: u32, listed: usize },
    #[error(
        "the caller says this witness last cosigned size {claimed}, it last cosigned size {held}"
    )]
    OldSizeMismatch { held: u64, claimed: u64 },
    #[error(
        "a new root (version {version}) needs the cosignatures of the witnesses of the root it replaces: {reason}"
    )]
    RootChangeNotWitnessed {
        version: u64,
        reason: Box<WitnessError>,
    },
}
