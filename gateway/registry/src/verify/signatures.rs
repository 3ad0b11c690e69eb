//! Threshold signatures: a key set's threshold of distinct valid signatures, and no listed key's
//! signature that fails.

use crate::envelope::{Envelope, KeySet, Tally};
use crate::error::{RootError, SignatureError, VerifyError};

/// `set`'s threshold of distinct key ids must have signed `env`.
pub fn require(
    document: &str,
    role: &str,
    env: &Envelope,
    set: &KeySet,
) -> Result<(), VerifyError> {
    judge(document, role, &env.tally(set), set)
}

/// [`require`] on a tally already made: no signature by a listed key may fail, and the distinct
/// valid ones must reach the threshold.
pub(super) fn judge(
    document: &str,
    role: &str,
    tally: &Tally,
    set: &KeySet,
) -> Result<(), VerifyError> {
    no_bad_signature(document, tally)?;
    let valid = tally.valid.len();
    if valid >= set.threshold as usize {
        return Ok(());
    }
    if let Some(dup) = tally.duplicated.iter().find(|k| tally.valid.contains(*k)) {
        return Err(SignatureError::DuplicateKeySignature {
            document: document.to_string(),
            key_id: dup.0.clone(),
            valid,
            needed: set.threshold,
        }
        .into());
    }
    Err(SignatureError::BelowThreshold {
        document: document.to_string(),
        role: role.to_string(),
        valid,
        needed: set.threshold,
    }
    .into())
}

/// A signature by a listed key that does not verify is tampering, whatever else signed.
pub(super) fn no_bad_signature(document: &str, tally: &Tally) -> Result<(), VerifyError> {
    match tally.invalid.first() {
        Some(bad) => Err(SignatureError::BadSignature {
            document: document.to_string(),
            key_id: bad.0.clone(),
        }
        .into()),
        None => Ok(()),
    }
}

/// A role's key set must be usable (keys present, threshold reachable).
pub(super) fn check_set(role: &str, set: &KeySet) -> Result<(), VerifyError> {
    set.check().map_err(|reason| {
        RootError::BadKeySet {
            role: role.to_string(),
            reason,
        }
        .into()
    })
}
