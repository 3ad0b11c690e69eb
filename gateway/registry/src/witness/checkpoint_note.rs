//! The log-signed C2SP checkpoint note a publish carries beside its DSSE checkpoint: signed by
//! the log role's Ed25519 keys under the origin as key name, and checked to say exactly what the
//! DSSE checkpoint says.

use super::{WitnessError, Witnesses};
use crate::doc::Root;
use crate::keys::{Algorithm, SigningKey};
use crate::log::Checkpoint;
use crate::note::{NoteVerifier, SignatureType, SignedNote, sign};

/// The log role's keys as note verifiers (Ed25519 ones only: signed notes have no P-256 type
/// huren signs), named by the log origin.
pub fn log_verifiers(root: &Root) -> Vec<NoteVerifier> {
    root.roles
        .log
        .keys
        .values()
        .filter_map(|k| NoteVerifier::new(&root.log_origin, SignatureType::Ed25519, k).ok())
        .collect()
}

/// The checkpoint as a note signed by every log key, or `None` when a key is not Ed25519 or the
/// origin cannot be a key name (then the registry carries the DSSE checkpoint only).
pub fn sign_checkpoint_note(
    checkpoint: &Checkpoint,
    log_keys: &[&SigningKey],
) -> Result<Option<SignedNote>, WitnessError> {
    if log_keys.iter().any(|k| k.algorithm() != Algorithm::Ed25519)
        || crate::note::check_key_name(&checkpoint.origin).is_err()
    {
        return Ok(None);
    }
    let mut note = SignedNote::new(checkpoint.note_text()?)?;
    for key in log_keys {
        let sig = sign(&note, &checkpoint.origin, key)?;
        note.add(sig);
    }
    Ok(Some(note))
}

/// Parses `text` and checks it: the log role's threshold of valid log signatures, the same
/// checkpoint as `signed`, and no listed witness's cosignature that fails to verify.
pub fn verify_checkpoint_note(
    text: &str,
    root: &Root,
    signed: &Checkpoint,
) -> Result<SignedNote, WitnessError> {
    let note = SignedNote::parse(text)?;
    check_log_signed(&note, root)?;
    let said = Checkpoint::from_note_text(&note.text)?;
    if said != *signed {
        return Err(WitnessError::NoteMismatch {
            note: format!("size {} root {}", said.tree_size, said.root_hash),
            signed: format!("size {} root {}", signed.tree_size, signed.root_hash),
        });
    }
    Witnesses::of_root(root)?.cosigned_by(&note)?;
    Ok(note)
}

/// The note carries the log role's threshold of valid signatures by the log keys `root` lists
/// (a witness checks this before it cosigns anything: it vouches only for the log's own word).
pub fn check_log_signed(note: &SignedNote, root: &Root) -> Result<(), WitnessError> {
    let mut valid = 0;
    for verifier in log_verifiers(root) {
        if let Some(sig) = note.signatures.iter().find(|s| verifier.names(s)) {
            verifier.check(&note.text, sig)?;
            valid += 1;
        }
    }
    if valid < root.roles.log.threshold as usize {
        return Err(WitnessError::LogUnsigned {
            valid,
            needed: root.roles.log.threshold,
        });
    }
    Ok(())
}
