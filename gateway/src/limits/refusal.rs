//! The one answer to a call refused for load: RESOURCE_EXHAUSTED with `ErrorInfo` reason
//! OVERLOADED and a `RetryInfo` delay, so a client backs off instead of retrying at once.

use tonic::body::Body;
use tower::BoxError;
use tower::load_shed::error::Overloaded;

use crate::error::Error;

/// Turns tower's load-shed refusal into that answer; every other outcome passes unchanged.
pub fn answer(
    outcome: Result<http::Response<Body>, BoxError>,
    limit: usize,
) -> Result<http::Response<Body>, BoxError> {
    match outcome {
        Err(e) if e.is::<Overloaded>() => Ok(tonic::Status::from(Error::Overloaded(format!(
            "this node is at its limit of {limit} calls in progress; retry with backoff"
        )))
        .into_http()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use tonic_types::StatusExt;

    use super::*;

    #[test]
    fn a_shed_call_is_resource_exhausted_with_reason_overloaded() {
        let refused = answer(Err(Box::new(Overloaded::new())), 3).expect("answered");
        let status = tonic::Status::from_header_map(refused.headers()).expect("a gRPC status");
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        assert!(
            status.message().contains("limit of 3 calls"),
            "{}",
            status.message()
        );
        let reason = status
            .get_error_details()
            .error_info()
            .map(|i| i.reason.clone());
        assert_eq!(reason.as_deref(), Some("OVERLOADED"));
        assert!(answer(Err("the connection broke".into()), 3).is_err());
    }

    #[test]
    fn a_shed_call_says_how_long_to_back_off() {
        let refused = answer(Err(Box::new(Overloaded::new())), 3).expect("answered");
        let status = tonic::Status::from_header_map(refused.headers()).expect("a gRPC status");
        let retry = status
            .get_error_details()
            .retry_info()
            .and_then(|r| r.retry_delay);
        assert_eq!(retry, Some(crate::error::RETRY_AFTER_OVERLOAD));
    }
}
