//! The trusted state a node keeps across restarts (TUF-style): the newest versions it verified
//! and the last checkpoint, so a registry directory rolled back while the node was down is
//! refused at start. [`check`] is the pure comparison; [`file`] keeps it on disk.

pub mod file;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::doc::{Agreement, RegionDocument};
use crate::log::{Checkpoint, Hash, consistency_proof};
use crate::registry::Registry;

/// What a node has already accepted. Never goes backwards except by `huren registry trust-reset`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedState {
    pub format: u32,
    pub root_version: u64,
    /// The timestamp's version, which is the registry version.
    pub timestamp_version: u64,
    /// Every current region document and agreement, by name.
    pub documents: BTreeMap<String, u64>,
    /// The log as last accepted.
    pub checkpoint_size: u64,
    /// Lower-case hex RFC 6962 root hash of that log.
    pub checkpoint_root: String,
}

/// Why a registry is older than, or forked from, the trusted state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RollbackError {
    #[error(
        "{what} version {offered} is older than version {trusted} this node already trusted (a rolled-back registry); publish a newer registry version, or run `huren registry trust-reset --state DIR` to discard the trusted state"
    )]
    Older {
        what: String,
        trusted: u64,
        offered: u64,
    },
    #[error(
        "the registry's log (size {offered}) does not extend the log of size {trusted} this node already trusted ({reason}); publish a newer registry version that extends it, or run `huren registry trust-reset --state DIR`"
    )]
    ForkedLog {
        trusted: u64,
        offered: u64,
        reason: String,
    },
}

impl TrustedState {
    pub const FORMAT: u32 = 1;

    /// What accepting `registry` makes trusted.
    pub fn of(registry: &Registry) -> Self {
        let documents = registry
            .regions()
            .map(|r| {
                let name = RegionDocument::document_name(&r.code.to_string());
                (name, r.document.version)
            })
            .chain(
                registry
                    .agreements()
                    .map(|a| (Agreement::document_name(&a.id), a.version)),
            )
            .collect();
        let checkpoint = registry.checkpoint();
        Self {
            format: Self::FORMAT,
            root_version: registry.root().version,
            timestamp_version: registry.version(),
            documents,
            checkpoint_size: checkpoint.tree_size,
            checkpoint_root: checkpoint.root_hash.clone(),
        }
    }
}

/// Refuses `candidate` if anything in it is older than `trusted`, or if its log does not extend
/// the trusted checkpoint. A document the candidate no longer carries is not a rollback (the
/// timestamp, which binds the set of documents, is checked instead).
pub fn check(trusted: &TrustedState, candidate: &Registry) -> Result<(), RollbackError> {
    let offered = TrustedState::of(candidate);
    not_older("root", trusted.root_version, offered.root_version)?;
    not_older(
        "registry (timestamp)",
        trusted.timestamp_version,
        offered.timestamp_version,
    )?;
    for (name, version) in &trusted.documents {
        if let Some(now) = offered.documents.get(name) {
            not_older(name, *version, *now)?;
        }
    }
    log_extends(trusted, candidate.checkpoint(), candidate.leaves())
}

fn not_older(what: &str, trusted: u64, offered: u64) -> Result<(), RollbackError> {
    if offered < trusted {
        return Err(RollbackError::Older {
            what: what.to_string(),
            trusted,
            offered,
        });
    }
    Ok(())
}

/// The candidate's log (`checkpoint` over `leaves`) has the trusted log as a prefix, shown by
/// an RFC 6962 consistency proof.
fn log_extends(
    trusted: &TrustedState,
    checkpoint: &Checkpoint,
    leaves: &[Hash],
) -> Result<(), RollbackError> {
    let forked = |reason: String| RollbackError::ForkedLog {
        trusted: trusted.checkpoint_size,
        offered: checkpoint.tree_size,
        reason,
    };
    let held = Checkpoint {
        origin: checkpoint.origin.clone(),
        tree_size: trusted.checkpoint_size,
        root_hash: trusted.checkpoint_root.clone(),
    };
    let size = usize::try_from(trusted.checkpoint_size).unwrap_or(usize::MAX);
    let proof = consistency_proof(size, leaves).map_err(|e| forked(e.to_string()))?;
    checkpoint
        .check_extends(&held, &proof)
        .map_err(|e| forked(e.to_string()))
}
