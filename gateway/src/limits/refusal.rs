//! The one answer to a call refused for load: RESOURCE_EXHAUSTED with `ErrorInfo` reason
//! OVERLOADED and a `RetryInfo` delay, so a client backs off instead of retrying at once.
//!
//! The answers are built once, when the node starts, for every delay in [`STEP`]s between the
//! [`backoff`](super::backoff) bounds: refusing is what an overloaded node does most, so a
//! refusal must cost the node a header copy, not a message format and a protobuf encoding.

use std::time::Duration;

use http::HeaderMap;
use tonic::body::Body;
use tonic_types::StatusExt;

use super::backoff::{MAX_RETRY, MIN_RETRY};
use crate::error::Error;

/// The granularity of the `RetryInfo` delays offered: fine against the jitter's spread.
pub const STEP: Duration = Duration::from_millis(10);

/// Why the node refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// Every permit for calls in progress is taken.
    AtLimit,
    /// The node is further behind than its budget for calls waiting to start.
    Behind,
}

/// The ready-made refusals of one node.
#[derive(Debug, Clone)]
pub struct Refusals {
    /// Headers per delay step, from [`MIN_RETRY`] up to [`MAX_RETRY`].
    at_limit: Vec<HeaderMap>,
    behind: Vec<HeaderMap>,
}

impl Refusals {
    /// For a node allowing `limit` calls in progress and `budget` of lag.
    pub fn new(limit: usize, budget: Duration) -> Self {
        let build = |message: String| {
            (steps(MIN_RETRY)..=steps(MAX_RETRY))
                .map(|k| headers(&message, STEP * k))
                .collect()
        };
        Self {
            at_limit: build(format!(
                "this node is at its limit of {limit} calls in progress; retry with backoff"
            )),
            behind: build(format!(
                "this node is behind by more than its budget of {} ms for calls waiting to start; retry with backoff",
                budget.as_millis()
            )),
        }
    }

    /// The answer for a call refused for `why`, telling its caller to wait about `delay`
    /// (rounded to a [`STEP`], bounded).
    pub fn answer(&self, why: Why, delay: Duration) -> http::Response<Body> {
        let table = match why {
            Why::AtLimit => &self.at_limit,
            Why::Behind => &self.behind,
        };
        let first = steps(MIN_RETRY);
        let index = steps(delay).saturating_sub(first) as usize;
        let mut response = http::Response::new(Body::empty());
        if let Some(headers) = table.get(index.min(table.len().saturating_sub(1))) {
            *response.headers_mut() = headers.clone();
        }
        response
    }
}

/// Whole steps in `d`, rounded to the nearest.
fn steps(d: Duration) -> u32 {
    let step = STEP.as_micros();
    u32::try_from((d.as_micros() + step / 2) / step).unwrap_or(u32::MAX)
}

/// The headers of a trailers-only answer, built the one way every huren error is built.
fn headers(message: &str, delay: Duration) -> HeaderMap {
    let status = tonic::Status::from(Error::Overloaded(message.to_string()));
    // Same code, message and ErrorInfo; only the RetryInfo differs from the default.
    let mut details = status.get_error_details();
    details.set_retry_info(Some(delay));
    let status = tonic::Status::with_error_details(status.code(), message, details);
    let (parts, _) = status.into_http::<Body>().into_parts();
    parts.headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(response: &http::Response<Body>) -> tonic::Status {
        tonic::Status::from_header_map(response.headers()).expect("a gRPC status")
    }

    fn delay_of(status: &tonic::Status) -> Option<Duration> {
        status
            .get_error_details()
            .retry_info()
            .and_then(|r| r.retry_delay)
    }

    #[test]
    fn a_shed_call_is_resource_exhausted_with_reason_overloaded() {
        let refusals = Refusals::new(3, Duration::from_millis(100));
        let refused = refusals.answer(Why::AtLimit, Duration::from_millis(250));
        let status = status_of(&refused);
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
    }

    #[test]
    fn a_shed_call_says_how_long_to_back_off() {
        let refusals = Refusals::new(3, Duration::from_millis(100));
        let refused = refusals.answer(Why::AtLimit, Duration::from_millis(250));
        assert_eq!(
            delay_of(&status_of(&refused)),
            Some(Duration::from_millis(250))
        );
        // Rounded to the nearest step, and held within the bounds.
        let at = |d| delay_of(&status_of(&refusals.answer(Why::AtLimit, d)));
        assert_eq!(
            at(Duration::from_millis(124)),
            Some(Duration::from_millis(120))
        );
        assert_eq!(
            at(Duration::from_millis(125)),
            Some(Duration::from_millis(130))
        );
        assert_eq!(at(Duration::ZERO), Some(MIN_RETRY));
        assert_eq!(at(Duration::from_secs(3_600)), Some(MAX_RETRY));
        assert_eq!(at(MAX_RETRY), Some(MAX_RETRY));
    }

    #[test]
    fn a_node_behind_says_so_with_its_budget() {
        let refusals = Refusals::new(3, Duration::from_millis(100));
        let status = status_of(&refusals.answer(Why::Behind, Duration::from_millis(400)));
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        assert!(status.message().contains("behind"), "{}", status.message());
        assert!(
            status.message().contains("budget of 100 ms"),
            "{}",
            status.message()
        );
        assert_eq!(delay_of(&status), Some(Duration::from_millis(400)));
    }
}
