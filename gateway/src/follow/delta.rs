//! A GetRegistry delta on the wire and back: the server's log entries and checkpoints after
//! the size a follower holds, and the follower's rebuild of the whole signed state from the
//! one it holds plus the delta. Pure: nothing here verifies; the rebuilt state goes through
//! the same verifier as any other.

use huren_proto::v1::{EnvelopeSignature, GetRegistryResponse, RegistryLogEntry, SignedEnvelope};
use huren_registry::doc::{ROOT, TIMESTAMP, Timestamp, decode};
use huren_registry::envelope::Signature;
use huren_registry::state::LogEntry;
use huren_registry::{Envelope, KeyId, Registry, SignedState};

/// Why a response cannot be applied to the state held.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeltaError {
    #[error("the response is neither a delta nor a whole signed state")]
    Empty,
    #[error("document {0} comes without its envelope")]
    NoEnvelope(String),
    #[error("the whole signed state does not read: {0}")]
    Unreadable(String),
}

pub fn envelope_to_wire(env: &Envelope) -> SignedEnvelope {
    SignedEnvelope {
        payload_type: env.payload_type.clone(),
        payload: env.payload.clone(),
        signatures: env
            .signatures
            .iter()
            .map(|s| EnvelopeSignature {
                key_id: s.key_id.0.clone(),
                signature: s.signature.clone(),
            })
            .collect(),
    }
}

pub fn envelope_from_wire(env: &SignedEnvelope) -> Envelope {
    Envelope {
        payload_type: env.payload_type.clone(),
        payload: env.payload.clone(),
        signatures: env
            .signatures
            .iter()
            .map(|s| Signature {
                key_id: KeyId(s.key_id.clone()),
                signature: s.signature.clone(),
            })
            .collect(),
    }
}

/// What a delta from `since_tree_size` leaves adds to the log: its later entries, the signed
/// checkpoints over more leaves, and the current checkpoint note.
pub fn log_delta(
    reg: &Registry,
    since_tree_size: u64,
) -> (Vec<RegistryLogEntry>, Vec<SignedEnvelope>, String) {
    let from = usize::try_from(since_tree_size).unwrap_or(usize::MAX);
    let log = &reg.state().log;
    let entries = log
        .entries
        .iter()
        .skip(from)
        .map(|e| RegistryLogEntry {
            document: e.document.clone(),
            version: e.version,
            published_in: e.published_in,
            leaf_hash: e.leaf_hash.clone(),
        })
        .collect();
    let checkpoints = log
        .checkpoints
        .iter()
        .filter(|env| {
            huren_registry::canonical::decode::<huren_registry::log::Checkpoint>(&env.payload)
                .is_ok_and(|cp| cp.tree_size > since_tree_size)
        })
        .map(envelope_to_wire)
        .collect();
    (entries, checkpoints, log.note.clone().unwrap_or_default())
}

/// The signed state `response` describes: a whole one as sent, or the held state with the
/// delta applied — new root versions appended, changed documents and the timestamp replaced,
/// documents the new timestamp no longer lists dropped, log entries and checkpoints appended,
/// and the checkpoint note replaced.
pub fn rebuild(held: &Registry, response: &GetRegistryResponse) -> Result<SignedState, DeltaError> {
    if !response.delta {
        if response.signed_state.is_empty() {
            return Err(DeltaError::Empty);
        }
        return SignedState::from_bytes(&response.signed_state)
            .map_err(|e| DeltaError::Unreadable(e.to_string()));
    }
    let mut state = held.state().clone();
    let held_root = held.root().version;
    for doc in &response.documents {
        let env = envelope_from_wire(
            doc.envelope
                .as_ref()
                .ok_or_else(|| DeltaError::NoEnvelope(doc.name.clone()))?,
        );
        match doc.name.as_str() {
            ROOT if doc.version > held_root => state.roots.push(env),
            ROOT => {}
            TIMESTAMP => state.timestamp = env,
            name => {
                state.documents.insert(name.to_string(), env);
            }
        }
    }
    if let Ok(timestamp) = decode::<Timestamp>(TIMESTAMP, &state.timestamp) {
        state
            .documents
            .retain(|name, _| timestamp.documents.contains_key(name));
    }
    state
        .log
        .entries
        .extend(response.log_entries.iter().map(|e| LogEntry {
            document: e.document.clone(),
            version: e.version,
            published_in: e.published_in,
            leaf_hash: e.leaf_hash.clone(),
        }));
    state
        .log
        .checkpoints
        .extend(response.checkpoints.iter().map(envelope_from_wire));
    state.log.note =
        (!response.checkpoint_note.is_empty()).then(|| response.checkpoint_note.clone());
    Ok(state)
}
