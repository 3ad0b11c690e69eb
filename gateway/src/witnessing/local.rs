//! This node's witness: its `cosignature/v1` key, the last checkpoint it cosigned (kept in
//! `STATE/witness.note`, written atomically and fsynced before a cosignature leaves the node),
//! and a refused fork counted, logged and kept as evidence.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use huren_registry::doc::Root;
use huren_registry::log::Hash;
use huren_registry::note::Cosignature;
use huren_registry::witness::file::{self, WITNESS_FILE, WitnessFileError};
use huren_registry::witness::{Cosigner, WitnessError};
use huren_registry::{KeyFileError, SigningKey};

use crate::registry_witness::record_fork;

/// Why this node's witness did not cosign.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    #[error(transparent)]
    Witness(#[from] WitnessError),
    /// Cosigned in memory but not kept on disk: the cosignature is not given out.
    #[error("the cosigned checkpoint could not be kept: {0}")]
    Persist(#[from] WitnessFileError),
}

/// Why the witness could not be opened at start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("witness key: {0}")]
    Key(#[from] KeyFileError),
    #[error(
        "witness key {path} is not the Ed25519 key the registry lists for node {node}; its cosignatures would not count"
    )]
    Mismatch { path: PathBuf, node: String },
    #[error(transparent)]
    File(#[from] WitnessFileError),
}

/// This node as a witness.
pub struct LocalWitness {
    cosigner: Mutex<Cosigner>,
    state_dir: PathBuf,
}

impl std::fmt::Debug for LocalWitness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalWitness")
            .field("state_dir", &self.state_dir)
            .finish_non_exhaustive()
    }
}

impl LocalWitness {
    /// Opens node `node_id`'s witness: `key_path` must hold the Ed25519 key `root` lists as the
    /// node's witness key; what it last cosigned is read from `state_dir`.
    pub fn open(
        node_id: &str,
        key_path: &Path,
        root: &Root,
        state_dir: &Path,
    ) -> Result<Self, OpenError> {
        let key = SigningKey::from_pem_file(key_path)?;
        let listed = root.nodes.get(node_id).and_then(|n| n.witness_key.as_ref());
        if listed != Some(&key.public_key()) {
            return Err(OpenError::Mismatch {
                path: key_path.to_path_buf(),
                node: node_id.to_string(),
            });
        }
        let last = file::load(state_dir)?;
        Ok(Self {
            cosigner: Mutex::new(Cosigner::new(node_id, key, last)),
            state_dir: state_dir.to_path_buf(),
        })
    }

    /// The witness's name in checkpoint notes (its node id).
    pub fn name(&self) -> String {
        self.lock().name().to_string()
    }

    /// The size of the checkpoint last cosigned; 0 before any.
    pub fn last_size(&self) -> u64 {
        self.lock().last().map_or(0, |c| c.tree_size)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cosigner> {
        // The cosigner's state is one checkpoint replaced whole: a panic elsewhere cannot
        // leave it half-written.
        self.cosigner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Cosigns the checkpoint note `text` under `root` (see [`Cosigner::add_checkpoint`]) and
    /// keeps it as the last cosigned before answering. A fork is counted, logged and kept.
    pub fn add_checkpoint(
        &self,
        root: &Root,
        text: &str,
        old_size: u64,
        proof: &[Hash],
    ) -> Result<Cosignature, AddError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut cosigner = self.lock();
        match cosigner.add_checkpoint(root, text, old_size, proof, u64::try_from(now).unwrap_or(0))
        {
            Ok(note) => {
                file::save(&self.state_dir, &note)?;
                let name = cosigner.name().to_string();
                let sig = note
                    .signatures
                    .into_iter()
                    .rfind(|s| s.name == name)
                    .ok_or(WitnessError::TooFewCosignatures {
                        valid: 0,
                        needed: 1,
                    })?;
                Ok(sig)
            }
            Err(WitnessError::Fork(fork)) => {
                self.keep_fork(text, &fork);
                Err(WitnessError::Fork(fork).into())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Counts and logs a fork offered to this witness and keeps both notes beside its state.
    fn keep_fork(&self, offered: &str, fork: &huren_registry::witness::Fork) {
        let held = std::fs::read_to_string(self.state_dir.join(WITNESS_FILE))
            .ok()
            .or_else(|| fork.held.note_text().ok())
            .unwrap_or_default();
        record_fork(
            Some(&self.state_dir),
            &held,
            offered,
            "a checkpoint offered to this witness",
            fork,
        );
    }
}
