//! Why a status list or delta was refused: malformed bytes, an untrusted signer, or a list that
//! would move the held state backwards.

use time::OffsetDateTime;

use super::archive::ListKey;
use crate::codec::SignerError;
use crate::trust::TrustError;

/// Any refusal of a list or delta a node received.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusListError {
    #[error("status list is malformed: {0}")]
    Format(#[from] FormatError),
    /// The registry does not vouch for the issuer's key at the list's signing time.
    #[error("status list issuer is not trusted: {0}")]
    Trust(#[from] TrustError),
    #[error("status list signature by issuer {issuer} does not verify")]
    BadSignature { issuer: String },
    #[error("status list refused: {0}")]
    Refused(#[from] Refusal),
}

/// The bytes are not a well-formed list or delta. Nothing here has been trusted yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("truncated: {0} missing")]
    Truncated(&'static str),
    #[error("{0} trailing bytes after the end")]
    TrailingBytes(usize),
    #[error("not a status list or delta (wrong magic)")]
    WrongMagic,
    #[error("unsupported version {0}")]
    UnsupportedVersion(u8),
    #[error("bad field {field}: {detail}")]
    BadField {
        field: &'static str,
        detail: &'static str,
    },
    #[error("compressed data does not inflate to the signed size")]
    BadCompression,
    #[error("code {index} carries the reserved status value 3")]
    ReservedValue { index: u32 },
    #[error("bits past the last code are set")]
    NonCanonicalPadding,
    #[error("the status bits do not match the signed digest")]
    DigestMismatch,
}

/// A well-formed, correctly signed list that still must not replace what is held.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("list expired at {0}")]
    Expired(OffsetDateTime),
    #[error("list claims to be issued in the future, at {0}")]
    IssuedInFuture(OffsetDateTime),
    #[error("sequence {offered} is older than the held {held}")]
    Rollback { held: u64, offered: u64 },
    /// Two different lists signed under one sequence number: the issuer (or its key) equivocated.
    /// Neither is dropped silently: the held list stays and the caller keeps the evidence.
    #[error("sequence {sequence} was already signed with different contents")]
    Equivocation { sequence: u64 },
    #[error("delta starts from sequence {from}, but {held:?} is held")]
    DeltaBaseMismatch { from: u64, held: Option<u64> },
    #[error("delta names a different issuer or list than its base")]
    DeltaWrongList,
    /// Genuine, correctly signed bytes of another list than the one asked for (another list id,
    /// another issuer or another region's): a service or peer answering the wrong list must not
    /// move the asked list forwards, nor install a list nobody asked it for.
    #[error("asked for status list {asked}, the answer is list {answered}")]
    NotTheListAsked { asked: ListKey, answered: ListKey },
}

/// Why an issuer could not sign a list.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The list would be refused by every reader (issuer id, or expiry not after issue).
    #[error("status list would be malformed: {0}")]
    Format(#[from] FormatError),
    #[error(transparent)]
    Sign(#[from] SignerError),
}
