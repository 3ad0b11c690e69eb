//! A gRPC error in the words a caller acts on: code, message and the `ErrorInfo` reason.

use tonic_types::StatusExt;

/// `PERMISSION_DENIED (ROLE_NOT_ALLOWED): role carrier ... may not call ...`.
pub fn describe(status: &tonic::Status) -> String {
    let code = code_name(status.code());
    match reason(status) {
        Some(reason) => format!("{code} ({reason}): {}", status.message()),
        None => format!("{code}: {}", status.message()),
    }
}

/// The stable `ErrorInfo.reason`, when the server attached one.
pub fn reason(status: &tonic::Status) -> Option<String> {
    status.get_details_error_info().map(|info| info.reason)
}

/// The canonical upper-case name of a gRPC code, as grpcurl and the gRPC docs spell it.
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

/// An error type that keeps the status's words for `anyhow` chains.
#[derive(Debug, thiserror::Error)]
#[error("{}", describe(.0))]
pub struct CallError(pub tonic::Status);

impl CallError {
    /// `Err(status)` → an anyhow error that says which call failed and why.
    pub fn context(what: &str, status: tonic::Status) -> anyhow::Error {
        anyhow::Error::new(CallError(status)).context(what.to_string())
    }
}
