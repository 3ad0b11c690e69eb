//! How an adapter reaches its region's status service: the [`StatusLookup`] trait (implemented by
//! the pooled client in `net`, scripted in tests) and the [`LookupQuery`] it answers.

use std::time::{Duration, Instant};

use crate::model::{CodeError, ReadOutcome, RegionCode, ResidentId};
use crate::trust::StatusService;

/// Reaches a region's status service. Implemented by the pooled client in `net`.
#[async_trait::async_trait]
pub trait StatusLookup: Send + Sync {
    /// Asks `region`'s status service about one code id (online regions) or resident.
    /// `service` is the registry's pinned entry for it (`None`: the registry lists none), `ttl`
    /// how long an answer may be served from cache. Never waits past `deadline`: a region that is
    /// down or slow yields [`ReadOutcome::Degraded`].
    async fn lookup(
        &self,
        region: RegionCode,
        query: &LookupQuery,
        service: Option<&StatusService>,
        ttl: Duration,
        deadline: Instant,
    ) -> Result<ReadOutcome, CodeError>;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupQuery {
    /// An opaque code id from the QR payload.
    CodeId {
        code_id: String,
        city: Option<String>,
    },
    /// A resident of the region, by ID number and name (for 转码互认 of its own residents).
    Resident { id: ResidentId, name: String },
}
