//! The one place that decides what a caller sees: domain errors → `tonic::Status` with `google.rpc` details.
//!
//! Add a variant here (or a `#[from]` for your module's error enum) and map it in
//! `From<Error> for Status`; handlers return `Result<_, Error>` and call `.into()` or `?` via
//! `Status::from`. Every status carries an `ErrorInfo` whose `reason` is stable, so clients can
//! branch on it without parsing English.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::identity::IdentityError;
use crate::policy::Denial;

/// `ErrorInfo.domain` of every huren error.
pub const ERROR_DOMAIN: &str = "huren.dev";

/// The `RetryInfo` delay of a call refused for load: long enough that a crowd of refused
/// clients does not come straight back, short against a checkpoint's patience.
pub const RETRY_AFTER_OVERLOAD: std::time::Duration = std::time::Duration::from_millis(250);

/// Everything a huren service can answer other than success.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The certificate chained to the root but names no usable caller.
    #[error("{0}")]
    Identity(#[from] IdentityError),
    /// A known caller asked for something its role or region does not allow.
    #[error("{0}")]
    Denied(#[from] Denial),
    /// A request field is missing or malformed.
    #[error("{field}: {description}")]
    InvalidArgument {
        field: &'static str,
        description: String,
    },
    /// The method exists in the API but the capability behind it is not built yet.
    #[error("{method} needs {capability}")]
    Unimplemented {
        method: &'static str,
        capability: &'static str,
    },
    /// A limit of this node was reached; retrying later with backoff may succeed.
    #[error("{0}")]
    Overloaded(String),
    /// The caller used up its own share of a rate-limited method (lookups by ID card); the same
    /// call succeeds after `retry_after`.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after: std::time::Duration,
    },
    /// The request's deadline (or the server's cap) passed before an answer.
    #[error("{0}")]
    DeadlineExceeded(String),
    /// The node is shutting down or not ready.
    #[error("{0}")]
    Unavailable(String),
    /// No region adapter recognises the payload: not a health code this node can read.
    #[error(
        "no region adapter recognises this payload (is it a health code of a region this node hosts?)"
    )]
    PayloadNotClaimed,
    /// The audit log cannot take the decision's record, so the decision must not go out.
    #[error("the audit log cannot record decisions ({0}); refusing to answer unrecorded")]
    AuditUnavailable(String),
    /// An appeals call refused (no such decision or appeal, not the caller's, nothing to appeal).
    #[error("{0}")]
    Appeal(#[from] crate::appeals::AppealError),
}

impl Error {
    pub fn invalid(field: &'static str, description: impl Into<String>) -> Self {
        Error::InvalidArgument {
            field,
            description: description.into(),
        }
    }

    /// The gRPC code a caller gets for this error.
    pub fn code(&self) -> Code {
        self.code_and_reason().0
    }

    fn code_and_reason(&self) -> (Code, String) {
        match self {
            Error::Identity(e) => (Code::Unauthenticated, e.reason().to_string()),
            Error::Denied(d) => (Code::PermissionDenied, d.reason.to_string()),
            Error::InvalidArgument { .. } => (Code::InvalidArgument, "INVALID_ARGUMENT".into()),
            Error::Unimplemented { .. } => (Code::Unimplemented, "CAPABILITY_NOT_BUILT".into()),
            Error::Overloaded(_) => (Code::ResourceExhausted, "OVERLOADED".into()),
            Error::RateLimited { .. } => (Code::ResourceExhausted, "RATE_LIMITED".into()),
            Error::DeadlineExceeded(_) => (Code::DeadlineExceeded, "DEADLINE_EXCEEDED".into()),
            Error::Unavailable(_) => (Code::Unavailable, "UNAVAILABLE".into()),
            Error::PayloadNotClaimed => (Code::InvalidArgument, "PAYLOAD_NOT_CLAIMED".into()),
            Error::AuditUnavailable(_) => (Code::Unavailable, "AUDIT_UNAVAILABLE".into()),
            Error::Appeal(e) => {
                let (code, reason) = e.code_and_reason();
                (code, reason.into())
            }
        }
    }

    /// The same decision as [`Status`], for one entry of a batch that fails alone.
    pub fn to_entry_error(&self) -> huren_proto::v1::EntryError {
        let (code, reason) = self.code_and_reason();
        huren_proto::v1::EntryError {
            code: code as i32,
            message: self.to_string(),
            reason,
        }
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        let (code, reason) = error.code_and_reason();
        let mut metadata = HashMap::new();
        let mut details = ErrorDetails::new();
        match &error {
            Error::Denied(d) => {
                metadata.insert("role".to_string(), d.role.to_string());
                metadata.insert("method".to_string(), d.method.clone());
            }
            Error::InvalidArgument { field, description } => {
                details.add_bad_request_violation(*field, description.clone());
            }
            Error::Unimplemented { capability, .. } => {
                metadata.insert("capability".to_string(), capability.to_string());
            }
            Error::Overloaded(_) => {
                details.set_retry_info(Some(RETRY_AFTER_OVERLOAD));
            }
            Error::RateLimited { retry_after, .. } => {
                details.set_retry_info(Some(*retry_after));
            }
            _ => {}
        }
        details.set_error_info(reason, ERROR_DOMAIN, metadata);
        Status::with_error_details(code, error.to_string(), details)
    }
}
