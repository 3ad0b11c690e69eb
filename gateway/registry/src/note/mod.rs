//! C2SP signed notes (c2sp.org/signed-note): text signed by named keys, the form checkpoints
//! and witness cosignatures travel in, so existing transparency-log tooling can read them.
//!
//! | module | its one job |
//! |---|---|
//! | [`text`] | the note as text: parse and print, separate the signature lines |
//! | [`key`] | named verifier keys, key ids, `vkey` strings, Ed25519 note signatures |
//! | [`cosignature`] | tlog-cosignature `cosignature/v1`: timestamped Ed25519 witness signatures |

pub mod cosignature;
pub mod key;
pub mod text;

pub use cosignature::{Cosignature, cosign};
pub use key::{NoteVerifier, SignatureType, sign};
pub use text::{NoteSignature, SignedNote};

/// Why a note, a key or a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    #[error("not a signed note: {0}")]
    Malformed(String),
    #[error("not a verifier key: {0}")]
    BadVkey(String),
    #[error("key name {0:?} is empty or holds a space or a plus sign")]
    BadKeyName(String),
    #[error("a note signature needs an Ed25519 key")]
    NotEd25519,
    #[error("the signature by {name} (key id {key_id:08x}) does not verify: the note was altered")]
    BadSignature { name: String, key_id: u32 },
    #[error("no signature by a known key verifies")]
    NoKnownSignature,
    #[error("cannot sign: {0}")]
    Sign(String),
}

/// Key names are non-empty and hold no Unicode space and no `+` (they are `vkey` separators).
pub(crate) fn check_key_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
        return Err(NoteError::BadKeyName(name.to_string()));
    }
    Ok(())
}
