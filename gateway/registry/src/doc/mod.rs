//! The registry's signed document types and how each is named and typed on the wire.

pub mod agreement;
pub mod decode;
pub mod region;
pub mod root;
pub mod timestamp;

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

pub use agreement::{Agreement, AgreementKind, ColourRules, Rule, Verdict};
pub use decode::{decode, document_version};
pub use region::{
    ConceptEntry, ConceptMap, Issuer, IssuerStatus, Lapse, RegionDocument, Revocation,
    RevocationReason, StatusEndpoint,
};
pub use root::{DEFAULT_NODE_ID, Delegation, Node, Roles, Root};
pub use timestamp::{DocRef, Timestamp};

/// A registry document: canonical JSON with a version and an expiry, carried in a typed envelope.
pub trait Document: Serialize + DeserializeOwned {
    /// DSSE payload type; the signature binds it, so one kind of document never passes as another.
    const PAYLOAD_TYPE: &'static str;
    /// Name in the registry, e.g. `root`, `regions/330000`, `agreements/national`, `timestamp`.
    fn name(&self) -> String;
    fn version(&self) -> u64;
    fn expires(&self) -> OffsetDateTime;
}

pub const ROOT: &str = "root";
pub const TIMESTAMP: &str = "timestamp";
pub const REGION_PREFIX: &str = "regions/";
pub const AGREEMENT_PREFIX: &str = "agreements/";
