//! A gRPC error in the words a caller acts on: code, message and the `ErrorInfo` reason.

use tonic_types::StatusExt;

/// `PERMISSION_DENIED (ROLE_NOT_ALLOWED): role carrier ... may not call ...`.
pub fn describe(status: &tonic::Status) -> String {
    if let Some(alert) = refused_handshake(status) {
        return format!(
            "the gateway refused the TLS handshake ({alert}): it does not accept this client's \
             certificate"
        );
    }
    let code = code_name(status.code());
    match reason(status) {
        Some(reason) => format!("{code} ({reason}): {}", status.message()),
        None => format!("{code}: {}", status.message()),
    }
}

/// The TLS alert the gateway sent when it refused the handshake (with TLS 1.3 that surfaces on
/// the first call, as a transport error whose message says nothing of it).
fn refused_handshake(status: &tonic::Status) -> Option<String> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(status);
    while let Some(e) = cause {
        let words = e.to_string();
        if let Some(at) = words.find("received fatal alert") {
            return Some(words[at..].to_string());
        }
        cause = e.source();
    }
    None
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("transport error")]
    struct Transport(#[source] std::io::Error);

    #[test]
    fn a_refused_handshake_is_said_as_such() {
        let alert = std::io::Error::other("received fatal alert: CertificateExpired");
        let status = tonic::Status::from_error(Box::new(Transport(alert)));
        assert_eq!(
            describe(&status),
            "the gateway refused the TLS handshake (received fatal alert: CertificateExpired): it \
             does not accept this client's certificate"
        );
        let plain = tonic::Status::unavailable("node is draining");
        assert_eq!(describe(&plain), "UNAVAILABLE: node is draining");
    }
}
