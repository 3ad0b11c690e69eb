//! The timestamp: a short-lived signature over the versions and hashes of every current document.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One document as the timestamp pins it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocRef {
    pub version: u64,
    /// Lower-case hex SHA-256 of the envelope payload.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timestamp {
    /// The registry version: goes up by one at every publish.
    pub version: u64,
    #[serde(with = "crate::canonical::when")]
    pub expires: OffsetDateTime,
    /// Document name → pinned version and hash; names every current document, the root included.
    pub documents: BTreeMap<String, DocRef>,
}

impl super::Document for Timestamp {
    const PAYLOAD_TYPE: &'static str = "application/vnd.huren.timestamp+json";
    fn name(&self) -> String {
        super::TIMESTAMP.to_string()
    }
    fn version(&self) -> u64 {
        self.version
    }
    fn expires(&self) -> OffsetDateTime {
        self.expires
    }
}
