//! The published registry as one serialisable value: every signed document, the log and its checkpoints.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::envelope::Envelope;

/// One leaf of the transparency log: an accepted document version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    pub document: String,
    pub version: u64,
    /// The registry (timestamp) version that published it.
    pub published_in: u64,
    /// Lower-case hex RFC 6962 leaf hash of the envelope's signed bytes (its DSSE PAE).
    pub leaf_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRecord {
    pub entries: Vec<LogEntry>,
    /// Signed checkpoints, oldest first; the last covers every entry.
    pub checkpoints: Vec<Envelope>,
    /// The last checkpoint again as a C2SP checkpoint note (signed-note text: log signature,
    /// then the witnesses' `cosignature/v1` lines as they are gathered), for witness tooling and
    /// the k-of-n check. Absent from registries published before it, or with a non-Ed25519 log key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What `registry.json` holds and what a node serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedState {
    pub format: u32,
    /// Every root version, oldest first, so a client can walk forward from the one it holds.
    pub roots: Vec<Envelope>,
    /// Current region documents and agreements, by name.
    pub documents: BTreeMap<String, Envelope>,
    pub timestamp: Envelope,
    pub log: LogRecord,
}

impl SignedState {
    pub const FORMAT: u32 = 1;

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, crate::VerifyError> {
        let state: SignedState = serde_json::from_slice(bytes)
            .map_err(|e| crate::error::DocumentError::Unreadable(e.to_string()))?;
        if state.format != Self::FORMAT {
            return Err(crate::error::DocumentError::Unreadable(format!(
                "format {} (this huren reads format {})",
                state.format,
                Self::FORMAT
            ))
            .into());
        }
        Ok(state)
    }

    /// The current root envelope.
    pub fn root(&self) -> Option<&Envelope> {
        self.roots.last()
    }
}
