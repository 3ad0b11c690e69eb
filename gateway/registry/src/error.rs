//! Why a registry was refused: one enum per kind of broken rule, each variant naming what to fix.
//!
//! [`VerifyError`] is what the verifier returns; a caller that acts on the reason matches the
//! kind first (`VerifyError::Freshness(FreshnessError::Rollback { .. })`), as rustls callers
//! match `Error::InvalidCertificate(..)`. Every message reads the same as the flat list it
//! replaced: the outer enum adds no words of its own.

use huren_adapters::when::rfc3339;
use time::OffsetDateTime;

use crate::canonical::CanonicalError;
use crate::log::{CheckpointError, ProofError};
use crate::x509::CertProblem;

/// The first rule a signed state breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The bytes or a document's content cannot be read as what they claim to be.
    #[error(transparent)]
    Document(#[from] DocumentError),
    /// The root chain, a role's key set or a region's delegation is unusable.
    #[error(transparent)]
    Root(#[from] RootError),
    /// A document is not signed by the keys that must sign it.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// A document is expired, older than the one held, or not what the timestamp binds.
    #[error(transparent)]
    Freshness(#[from] FreshnessError),
    /// The transparency log does not hold, or does not extend, what it must.
    #[error(transparent)]
    Log(#[from] LogError),
}

/// A document that cannot be read, or that says something a registry may not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    #[error("the registry file is not a huren registry: {0}")]
    Unreadable(String),
    #[error("document {document}: {source}")]
    Encoding {
        document: String,
        source: CanonicalError,
    },
    #[error("document {document} has payload type {found:?}, expected {expected:?}")]
    WrongPayloadType {
        document: String,
        expected: &'static str,
        found: String,
    },
    #[error("document {document} says it is {found}")]
    NameMismatch { document: String, found: String },
    #[error("document {document} is not a document this registry knows")]
    UnknownDocument { document: String },
    #[error("agreement {document}: {reason}")]
    BadAgreement { document: String, reason: String },
    #[error("region {region} issuer {issuer}: {problem}")]
    IssuerCertificate {
        region: String,
        issuer: String,
        problem: CertProblem,
    },
}

/// The root chain and what the root delegates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RootError {
    #[error("the registry has no root document")]
    NoRoot,
    #[error("root version {found} follows version {previous}: root versions go up by exactly one")]
    RootGap { previous: u64, found: u64 },
    #[error(
        "root version {version} is signed by {valid} of the previous root's keys, {needed} needed: a rotation needs the old keys as well as the new"
    )]
    RotationNotSignedByOld {
        version: u64,
        valid: usize,
        needed: u32,
    },
    #[error(
        "root version {version} differs from the root this node already trusts at that version"
    )]
    RootMismatch { version: u64 },
    #[error("{role} key set is unusable: {reason}")]
    BadKeySet { role: String, reason: String },
    #[error("region {region} is not delegated by the root")]
    RegionNotDelegated { region: String },
    #[error("the root's delegation of region {region} expired at {}", rfc3339(.expires))]
    DelegationExpired {
        region: String,
        expires: OffsetDateTime,
    },
    #[error("region {region} CA certificate in the root: {problem}")]
    RegionCa {
        region: String,
        problem: CertProblem,
    },
    #[error(
        "nodes {first} and {second} are listed with one SPIFFE id {spiffe_id}: each node needs its own identity, or its certificate could answer as either"
    )]
    SharedSpiffeId {
        spiffe_id: String,
        first: String,
        second: String,
    },
}

/// Who signed a document, against who must.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    #[error("document {document} has {valid} valid signatures from {role}, {needed} needed")]
    BelowThreshold {
        document: String,
        role: String,
        valid: usize,
        needed: u32,
    },
    #[error(
        "document {document} carries a signature by key {key_id} that does not verify: the document was altered after signing or the signature is corrupt"
    )]
    BadSignature { document: String, key_id: String },
    #[error(
        "document {document} reaches its threshold only by counting key {key_id} more than once ({valid} distinct of {needed})"
    )]
    DuplicateKeySignature {
        document: String,
        key_id: String,
        valid: usize,
        needed: u32,
    },
    #[error(
        "document {document} is signed with region {signer}'s keys: a region signs only its own document"
    )]
    ForeignRegionKey { document: String, signer: String },
}

/// Expiry, rollback and the timestamp's binding of current versions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FreshnessError {
    #[error(
        "document {document} expired at {} (now {}); a newer signed version is needed",
        rfc3339(.expires),
        rfc3339(.now)
    )]
    Expired {
        document: String,
        expires: OffsetDateTime,
        now: OffsetDateTime,
    },
    #[error("document {document} goes back from version {held} to {offered} (rollback)")]
    Rollback {
        document: String,
        held: u64,
        offered: u64,
    },
    #[error(
        "document {document} version {version} has different content from the same version held"
    )]
    Equivocation { document: String, version: u64 },
    #[error("document {document} is not bound by the timestamp: publish it with a new timestamp")]
    Unbound { document: String },
    #[error(
        "document {document} version {found} does not match the timestamp, which binds version {bound} with another hash (mix-and-match)"
    )]
    MixAndMatch {
        document: String,
        bound: u64,
        found: u64,
    },
    #[error("the timestamp binds document {document}, which is missing")]
    Missing { document: String },
}

/// The transparency log and its checkpoints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("the log's checkpoint says size {checkpoint} but the log holds {entries} entries")]
    LogSize { checkpoint: u64, entries: u64 },
    #[error("the log's entries do not hash to the checkpoint's root: a leaf was altered")]
    LogRootMismatch,
    #[error(
        "the registry file is not a huren registry: log entry {index} has a malformed leaf hash"
    )]
    MalformedLeaf { index: usize },
    #[error("document {document} version {version} is not in the transparency log")]
    NotLogged { document: String, version: u64 },
    #[error("proof failed: {0}")]
    Proof(#[from] ProofError),
    #[error("the C2SP checkpoint note: {0}")]
    CheckpointNote(#[from] crate::witness::WitnessError),
}

impl From<CheckpointError> for VerifyError {
    fn from(e: CheckpointError) -> Self {
        VerifyError::Log(LogError::Checkpoint(e))
    }
}

impl From<ProofError> for VerifyError {
    fn from(e: ProofError) -> Self {
        VerifyError::Log(LogError::Proof(e))
    }
}
