//! The one answer to a call refused for load: RESOURCE_EXHAUSTED with `ErrorInfo` reason
//! OVERLOADED, so a client backs off instead of retrying at once.

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
