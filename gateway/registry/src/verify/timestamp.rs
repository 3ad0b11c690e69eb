//! The timestamp step: the timestamp role signed it, it is fresh and not older than the one held,
//! and it binds exactly the documents present, at their versions and hashes.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::doc::{Root, TIMESTAMP, Timestamp, decode};
use crate::envelope::Envelope;
use crate::error::{FreshnessError, VerifyError};
use crate::registry::Registry;
use crate::state::SignedState;

use super::Policy;
use super::freshness::{not_expired, not_rolled_back};
use super::signatures::require;

/// Document name → (version, envelope) of every document a state carries.
pub(super) type Present<'s> = BTreeMap<String, (u64, &'s Envelope)>;

/// Verifies the state's timestamp under `root`; `held` is the state already trusted.
pub(super) fn verify_timestamp(
    state: &SignedState,
    root: &Root,
    held: Option<&Registry>,
    now: OffsetDateTime,
    policy: Policy,
) -> Result<Timestamp, VerifyError> {
    // Signatures first: the payload is read only once the timestamp role has signed it.
    require(
        TIMESTAMP,
        "timestamp role",
        &state.timestamp,
        &root.roles.timestamp,
    )?;
    let timestamp: Timestamp = decode(TIMESTAMP, &state.timestamp)?;
    if !policy.allow_expired_timestamp {
        not_expired(TIMESTAMP, timestamp.expires, now)?;
    }
    if let Some(held) = held {
        not_rolled_back(
            TIMESTAMP,
            held.timestamp().version,
            timestamp.version,
            state.timestamp.payload == held.state().timestamp.payload,
        )?;
    }
    Ok(timestamp)
}

/// The timestamp names exactly the documents `present`, at their versions and hashes, and none
/// of them is older than (or different at the same version from) what `held` binds.
pub(super) fn check_binding(
    timestamp: &Timestamp,
    present: &Present<'_>,
    held: Option<&Registry>,
) -> Result<(), VerifyError> {
    for (name, (version, env)) in present {
        let bound = timestamp
            .documents
            .get(name)
            .ok_or_else(|| FreshnessError::Unbound {
                document: name.clone(),
            })?;
        if bound.version != *version || bound.sha256 != sha256_hex(&env.payload) {
            return Err(FreshnessError::MixAndMatch {
                document: name.clone(),
                bound: bound.version,
                found: *version,
            }
            .into());
        }
        if let Some(h) = held.and_then(|held| held.timestamp().documents.get(name)) {
            not_rolled_back(name, h.version, *version, h.sha256 == bound.sha256)?;
        }
    }
    if let Some(name) = timestamp
        .documents
        .keys()
        .find(|n| !present.contains_key(*n))
    {
        return Err(FreshnessError::Missing {
            document: name.clone(),
        }
        .into());
    }
    Ok(())
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
