//! The registry's witnesses as a node sees them: a new registry version is acted on only when k
//! of the witnesses the root lists have cosigned its checkpoint note, and a forked log is
//! refused with a metric (`huren_registry_forks_total`), an error line and both checkpoints kept
//! as evidence in the node's state directory.

use std::path::Path;

use huren_registry::SignedState;
use huren_registry::log::{Checkpoint, CheckpointError};
use huren_registry::store::StoreError;
use huren_registry::witness::{WitnessError, file};
use huren_registry::{LogError, Registry, VerifyError};

pub const FORKS: &str = "huren_registry_forks_total";

/// Why a new registry version was not acted on.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("registry version {version} is not acted on: {reason}")]
    NotWitnessed { version: u64, reason: WitnessError },
}

impl ReloadError {
    /// The verifier's reason, when the registry itself was refused.
    pub fn verify_error(&self) -> Option<&VerifyError> {
        match self {
            ReloadError::Store(e) => e.verify_error(),
            ReloadError::NotWitnessed { .. } => None,
        }
    }
}

/// Whether `next` carries the cosignatures a node needs to act on it: k = `witness_threshold`
/// listed witnesses on its checkpoint note, and when its root replaces `held_root`, k of the
/// held root's witnesses too. A root with k = 0 asks for none. Checked at start, on every
/// reload and on every version followed from a peer.
pub fn cosigned_enough(
    next: &Registry,
    held_root: Option<&huren_registry::doc::Root>,
) -> Result<(), ReloadError> {
    huren_registry::witness::quorum_to_act(next.root(), held_root, next.state().log.note.as_deref())
        .map(|_| ())
        .map_err(|reason| ReloadError::NotWitnessed {
            version: next.version(),
            reason,
        })
}

/// True when the registry was refused because its log does not extend the one held: one size
/// with two roots, or a larger log without the held one as its prefix.
pub fn is_fork(e: &VerifyError) -> bool {
    matches!(
        e,
        VerifyError::Log(LogError::Checkpoint(CheckpointError::Inconsistent { .. }))
    )
}

/// Counts and logs a fork, and keeps the held and the offered checkpoint (as C2SP notes, the
/// offered one with every signature it came with) in `state_dir`. Keeping evidence is best
/// effort: a failed write is logged, the refusal stands either way. The one place a refused fork
/// is recorded, whether a node refused a registry or its witness refused a checkpoint.
/// `held_text` is the held checkpoint ([`checkpoint_text`]), `offered_text` the offered one
/// ([`offered_text`]) and `from` where it came from.
pub fn record_fork(
    state_dir: Option<&Path>,
    held_text: &str,
    offered_text: &str,
    from: &str,
    reason: &dyn std::fmt::Display,
) {
    metrics::counter!(FORKS).increment(1);
    tracing::error!(
        from,
        %reason,
        "refused a forked registry log; serving the last good version"
    );
    let Some(state_dir) = state_dir else { return };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    match file::keep_fork_evidence(state_dir, held_text, offered_text, now) {
        Ok(file::ForkEvidence::Kept { held, offered }) => tracing::error!(
            held = %held.display(),
            offered = %offered.display(),
            "kept both checkpoints of the fork as evidence"
        ),
        Ok(file::ForkEvidence::AlreadyKept { offered }) => tracing::warn!(
            offered = %offered.display(),
            "the same fork again; its evidence is already kept"
        ),
        Ok(file::ForkEvidence::Full) => tracing::error!(
            kept = file::MAX_FORKS_KEPT,
            "evidence of this many forks is kept already; this one is refused and counted \
             but not written"
        ),
        Err(e) => tracing::error!(reason = %e, "could not keep the fork's evidence"),
    }
}

/// The offered state's checkpoint as fork evidence: its checkpoint note (with every signature),
/// else its last signed checkpoint; `None` (a state that could not be read) says so.
pub fn offered_text(offered: Option<&SignedState>) -> String {
    offered.map_or_else(
        || "unreadable\n".to_string(),
        |state| {
            state.log.note.clone().unwrap_or_else(|| {
                state
                    .log
                    .checkpoints
                    .last()
                    .and_then(|e| serde_json::to_string_pretty(e).ok())
                    .unwrap_or_default()
            })
        },
    )
}

/// The registry's checkpoint note (signed), else its checkpoint's unsigned note text.
pub fn checkpoint_text(registry: &Registry) -> String {
    registry
        .state()
        .log
        .note
        .clone()
        .or_else(|| Checkpoint::note_text(registry.checkpoint()).ok())
        .unwrap_or_default()
}
