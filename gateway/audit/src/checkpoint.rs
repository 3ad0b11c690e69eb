//! Signed audit checkpoints: the record count and head hash, signed with the node's key and kept
//! beside the segments, so that rewriting the chain needs that key.
//!
//! A checkpoint is `checkpoint-<records, 20 digits>.json`:
//! `{"records": N, "head": "<hash of record N>", "time": "...", "key": "<public key, hex>",
//! "signature": "<hex>"}`. The signature covers [`Checkpoint::message`], a domain-separated
//! encoding of count, head and time, so it cannot be confused with any other signature the key
//! makes (receipts, registry documents). The chain is anchored up to record N: changing, removing
//! or re-creating any of records 1..=N no longer matches a checkpoint signed under the node's
//! key, however carefully the hashes are recomputed. Records after the newest checkpoint are
//! only hash-chained until the next one is written; checkpoints handed to another node or the
//! national office also protect against deleting checkpoints themselves.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::record::ChainHash;
use crate::segment;

const DOMAIN: &[u8] = b"huren audit checkpoint v1";
const PREFIX: &str = "checkpoint-";
const SUFFIX: &str = ".json";
/// Older checkpoints are pruned: the newest anchors everything before it.
const KEEP: usize = 16;

/// Signs checkpoints. Implemented for an Ed25519 key; the gateway may wrap its own key type.
pub trait CheckpointSigner: Send + Sync + 'static {
    /// The public key, as verifiers know it (32 bytes for Ed25519).
    fn public_key(&self) -> Vec<u8>;
    fn sign(&self, message: &[u8]) -> Vec<u8>;
}

/// Checks checkpoint signatures against the key the node is known by.
pub trait CheckpointVerifier {
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool;
}

impl CheckpointSigner for ed25519_dalek::SigningKey {
    fn public_key(&self) -> Vec<u8> {
        self.verifying_key().to_bytes().to_vec()
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        use ed25519_dalek::Signer;
        Signer::sign(self, message).to_bytes().to_vec()
    }
}

impl CheckpointVerifier for ed25519_dalek::VerifyingKey {
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        ed25519_dalek::Signature::from_slice(signature)
            .is_ok_and(|sig| self.verify_strict(message, &sig).is_ok())
    }
}

/// One signed statement: the chain held `records` records and the last one hashed to `head`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub records: u64,
    pub head: ChainHash,
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// The signer's public key, hex: which key to look up, not a reason to trust it.
    pub key: String,
    /// Signature over [`Checkpoint::message`], hex.
    pub signature: String,
}

impl Checkpoint {
    /// What is signed: `DOMAIN ‖ 0 ‖ records (u64 BE) ‖ head (32 bytes) ‖ time (unix s, i64 BE)`.
    pub fn message(records: u64, head: &ChainHash, time: OffsetDateTime) -> Vec<u8> {
        let mut m = Vec::with_capacity(DOMAIN.len() + 1 + 8 + 32 + 8);
        m.extend_from_slice(DOMAIN);
        m.push(0);
        m.extend_from_slice(&records.to_be_bytes());
        m.extend_from_slice(&head.0);
        m.extend_from_slice(&time.unix_timestamp().to_be_bytes());
        m
    }

    pub fn sign(records: u64, head: ChainHash, signer: &dyn CheckpointSigner) -> Checkpoint {
        // Whole seconds: what the message covers is exactly what the file says.
        let now = OffsetDateTime::now_utc();
        let time = now.replace_nanosecond(0).unwrap_or(now);
        let signature = signer.sign(&Checkpoint::message(records, &head, time));
        Checkpoint {
            records,
            head,
            time,
            key: hex::encode(signer.public_key()),
            signature: hex::encode(signature),
        }
    }

    /// True when the signature is the verifier's over this count, head and time.
    pub fn is_signed_by(&self, verifier: &dyn CheckpointVerifier) -> bool {
        let Ok(signature) = hex::decode(&self.signature) else {
            return false;
        };
        let message = Checkpoint::message(self.records, &self.head, self.time);
        verifier.verify(&message, &signature)
    }

    /// Writes this checkpoint into `dir` atomically (temporary file, sync, rename, sync the
    /// directory) and prunes all but the newest few.
    pub(crate) fn store(&self, dir: &Path) -> std::io::Result<PathBuf> {
        let path = dir.join(file_name(self.records));
        // Not named like a checkpoint: while it is written, nothing that lists checkpoints by
        // name (an operator's `ls checkpoint-*`, a test) takes it for one.
        let tmp = dir.join(format!("tmp-{PREFIX}new"));
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&json)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        segment::sync_dir(dir)?;
        let listed = list(dir)?;
        for (_, old) in listed.iter().take(listed.len().saturating_sub(KEEP)) {
            let _ = std::fs::remove_file(old);
        }
        Ok(path)
    }
}

fn file_name(records: u64) -> String {
    format!("{PREFIX}{records:020}{SUFFIX}")
}

/// The checkpoint files in `dir`, oldest first, with the count each name claims.
pub(crate) fn list(dir: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(digits) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PREFIX)?.strip_suffix(SUFFIX))
        else {
            continue;
        };
        if digits.len() == 20
            && let Ok(n) = digits.parse()
        {
            out.push((n, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Reads one checkpoint file.
pub fn read(path: &Path) -> Result<Checkpoint, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}
