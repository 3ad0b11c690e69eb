//! Why one call to a region's status service failed, and which failures are worth a retry.

use crate::model::RegionCode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    #[error("the registry lists no status service for region {0}")]
    NoService(RegionCode),
    #[error("region {0} is served by another node of the federation, not read from this one")]
    NotServed(RegionCode),
    #[error("the registry's status service URL {url:?} is unusable: {detail}")]
    BadUrl { url: String, detail: String },
    #[error("cannot connect to the status service: {0}")]
    Connect(String),
    #[error("the status service did not prove the identity the registry pins: {0}")]
    Identity(String),
    #[error("TLS with the status service failed: {0}")]
    Tls(String),
    #[error("HTTP/2 with the status service failed: {0}")]
    Protocol(String),
    #[error("no answer within the caller's deadline")]
    Deadline,
    #[error("the status service answered HTTP {status}: {message}")]
    Status { status: u16, message: String },
    #[error("the status service answered with an unreadable body: {0}")]
    Garbage(String),
    #[error("circuit open: the region failed repeatedly and is not asked until it cools down")]
    CircuitOpen,
    #[error("the region has no record of this code")]
    UnknownCode,
    #[error("the status service refused the request: {0}")]
    BadRequest(String),
}

impl NetError {
    /// Worth another attempt within the deadline: the request may not have reached a healthy
    /// server. A wrong identity, garbage or a refusal will not change on a retry.
    pub fn retryable(&self) -> bool {
        match self {
            NetError::Connect(_) | NetError::Protocol(_) => true,
            NetError::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// An answer from a working region (it knows the code or says it does not): not a failure
    /// for the circuit breaker.
    pub fn is_answer(&self) -> bool {
        matches!(self, NetError::UnknownCode | NetError::BadRequest(_))
    }
}
