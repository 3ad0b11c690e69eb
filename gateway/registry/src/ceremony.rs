//! Producing a new signed state: wrap documents in envelopes, then publish changes with a fresh
//! timestamp, new log leaves and a new checkpoint — verified before anything is returned.

use time::{Duration, OffsetDateTime};

use crate::canonical;
use crate::doc::{DocRef, Document, Timestamp, document_version};
use crate::envelope::Envelope;
use crate::error::VerifyError;
use crate::keys::{KeyError, SigningKey};
use crate::log::{Checkpoint, Hash, leaf_hash, root_hash};
use crate::registry::Registry;
use crate::state::{LogEntry, LogRecord, SignedState};
use crate::verify::verify_state;

/// An unsigned envelope carrying `doc`'s canonical bytes.
pub fn envelope<T: Document>(doc: &T) -> Envelope {
    Envelope::new(T::PAYLOAD_TYPE, canonical::encode(doc))
}

/// An envelope carrying `doc`, signed by each of `keys`.
pub fn signed<T: Document>(doc: &T, keys: &[&SigningKey]) -> Result<Envelope, KeyError> {
    let mut env = envelope(doc);
    for k in keys {
        env.sign(k)?;
    }
    Ok(env)
}

/// The online keys a publish uses: timestamp and log, and any witnesses present.
pub struct PublishKeys<'a> {
    pub timestamp: &'a [&'a SigningKey],
    pub log: &'a [&'a SigningKey],
    pub witnesses: &'a [&'a SigningKey],
    /// How long the new timestamp lives: short, so a frozen registry soon stops loading.
    pub timestamp_lifetime: Duration,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    #[error("the new registry would be refused: {0}")]
    Refused(#[from] VerifyError),
    #[error("signing failed: {0}")]
    Key(#[from] KeyError),
    #[error("no root: the first publish must include a root document")]
    NoRoot,
}

/// Applies `changes` (name, signed envelope) to `current` and signs a new timestamp and
/// checkpoint. The result has passed [`verify_state`] against `current`.
pub fn publish(
    current: Option<&Registry>,
    changes: Vec<(String, Envelope)>,
    keys: &PublishKeys<'_>,
    now: OffsetDateTime,
) -> Result<Registry, PublishError> {
    let now = canonical::whole_seconds(now);
    let mut state = match current {
        Some(r) => r.state().clone(),
        None => SignedState {
            format: SignedState::FORMAT,
            roots: Vec::new(),
            documents: Default::default(),
            timestamp: Envelope::new(Timestamp::PAYLOAD_TYPE, Vec::new()),
            log: LogRecord {
                entries: Vec::new(),
                checkpoints: Vec::new(),
                note: None,
            },
        },
    };
    let version = current.map_or(1, |r| r.version() + 1);
    let mut logged: Vec<(String, u64, Vec<u8>)> = Vec::new();
    for (name, env) in changes {
        let doc_version = document_version(&name, &env)?;
        logged.push((name.clone(), doc_version, env.signed_bytes()));
        if name == crate::doc::ROOT {
            state.roots.push(env);
        } else {
            state.documents.insert(name, env);
        }
    }
    let root_env = state.root().cloned().ok_or(PublishError::NoRoot)?;
    let root_env = &root_env;
    let mut documents = std::collections::BTreeMap::new();
    documents.insert(
        crate::doc::ROOT.to_string(),
        doc_ref(document_version(crate::doc::ROOT, root_env)?, root_env),
    );
    for (name, env) in &state.documents {
        documents.insert(name.clone(), doc_ref(document_version(name, env)?, env));
    }
    let timestamp = Timestamp {
        version,
        expires: now + keys.timestamp_lifetime,
        documents,
    };
    state.timestamp = signed(&timestamp, keys.timestamp)?;
    logged.push((
        crate::doc::TIMESTAMP.to_string(),
        version,
        state.timestamp.signed_bytes(),
    ));
    for (document, doc_version, bytes) in logged {
        state.log.entries.push(LogEntry {
            document,
            version: doc_version,
            published_in: version,
            leaf_hash: hex::encode(leaf_hash(&bytes)),
        });
    }
    let leaves: Vec<Hash> = state
        .log
        .entries
        .iter()
        .filter_map(|e| hex::decode(&e.leaf_hash).ok()?.try_into().ok())
        .collect();
    let root: crate::doc::Root = crate::doc::decode(crate::doc::ROOT, root_env)?;
    let checkpoint = Checkpoint::new(&root.log_origin, leaves.len() as u64, &root_hash(&leaves));
    let mut cp_env = Envelope::new(Checkpoint::PAYLOAD_TYPE, canonical::encode(&checkpoint));
    for k in keys.log.iter().chain(keys.witnesses) {
        cp_env.sign(k)?;
    }
    state.log.checkpoints.push(cp_env);
    // A new checkpoint starts without cosignatures: the witnesses add theirs as it travels.
    state.log.note = crate::witness::sign_checkpoint_note(&checkpoint, keys.log)
        .map_err(|e| PublishError::Refused(crate::error::LogError::from(e).into()))?
        .map(|note| note.to_text());
    Ok(verify_state(&state, current, now)?)
}

fn doc_ref(version: u64, env: &Envelope) -> DocRef {
    use sha2::Digest;
    DocRef {
        version,
        sha256: hex::encode(sha2::Sha256::digest(&env.payload)),
    }
}
