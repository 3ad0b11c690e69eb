//! Bounds every call by the client's `grpc-timeout`, capped by the server, and answers
//! DEADLINE_EXCEEDED when it passes. The caller's [`Deadline`] is read once, as the call arrives
//! on its connection ([`crate::connections`]), and left in the request's extensions for
//! admission, this layer and the handlers; the time a call waited for its task counts.

use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::future::{BoxFuture, FutureExt};
use tonic::body::Body;
use tower_layer::Layer;
use tower_service::Service;

use crate::error::Error;

/// The caller's deadline as the client sent it, read once on arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    /// When the call reached the pipeline; the client's time runs from (before) here.
    pub received: Instant,
    /// The client's `grpc-timeout`; `None` when it sent none (or one that does not parse).
    pub asked: Option<Duration>,
}

impl Deadline {
    /// The deadline of a call arriving now with `headers`.
    pub fn arriving(headers: &http::HeaderMap) -> Deadline {
        Deadline {
            received: Instant::now(),
            asked: headers
                .get("grpc-timeout")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_grpc_timeout),
        }
    }

    /// The deadline the layer left on `request`; `None` for a request that did not pass it.
    pub fn of<T>(request: &tonic::Request<T>) -> Option<Deadline> {
        request.extensions().get::<Deadline>().copied()
    }

    /// When `share` of the client's time is spent; `None` without a client deadline.
    pub fn share_by(&self, share: f64) -> Option<Instant> {
        self.asked.map(|d| self.received + d.mul_f64(share))
    }
}

#[derive(Debug, Clone)]
pub struct DeadlineLayer {
    cap: Duration,
}

impl DeadlineLayer {
    /// `cap` bounds calls whose client asks for longer, or sets no deadline at all.
    pub fn new(cap: Duration) -> Self {
        Self { cap }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = Bounded<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Bounded {
            inner,
            cap: self.cap,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Bounded<S> {
    inner: S,
    cap: Duration,
}

impl<S> Service<http::Request<Body>> for Bounded<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        let deadline = match request.extensions().get::<Deadline>() {
            Some(arrived) => *arrived,
            None => {
                let now = Deadline::arriving(request.headers());
                request.extensions_mut().insert(now);
                now
            }
        };
        let asked = deadline.asked;
        let until = deadline.received + asked.map_or(self.cap, |d| d.min(self.cap));
        let cap = self.cap;
        let future = self.inner.call(request);
        // Streams are bounded until their first response headers only: a Watch may run long.
        async move {
            match tokio::time::timeout_at(until.into(), future).await {
                Ok(result) => result,
                Err(_) => {
                    let why = match asked {
                        Some(d) if d <= cap => format!("the client's deadline of {d:?} passed"),
                        _ => format!("the server caps every call at {cap:?}"),
                    };
                    Ok(tonic::Status::from(Error::DeadlineExceeded(why)).into_http())
                }
            }
        }
        .boxed()
    }
}

/// Parses a `grpc-timeout` value: up to 8 digits and a unit (H, M, S, m, u, n).
fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    if value.len() < 2 || value.len() > 9 || !value.is_ascii() {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.checked_mul(3600)?),
        "M" => Duration::from_secs(n.checked_mul(60)?),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::convert::Infallible;

    use tower::ServiceExt;

    /// What the layer left in the request's extensions, as a handler would read it.
    async fn seen(timeout: Option<&str>) -> Option<Deadline> {
        let handler = tower::service_fn(|request: http::Request<Body>| async move {
            let mut response = http::Response::new(Body::empty());
            if let Some(d) = request.extensions().get::<Deadline>() {
                response.extensions_mut().insert(*d);
            }
            Ok::<_, Infallible>(response)
        });
        let mut request = http::Request::new(Body::empty());
        if let Some(t) = timeout {
            request
                .headers_mut()
                .insert("grpc-timeout", http::HeaderValue::from_str(t).ok()?);
        }
        let bounded = DeadlineLayer::new(Duration::from_secs(30)).layer(handler);
        let response = bounded.oneshot(request).await.ok()?;
        response.extensions().get::<Deadline>().copied()
    }

    #[tokio::test]
    async fn handlers_find_the_clients_deadline_read_once() {
        let d = seen(Some("250m"))
            .await
            .expect("the layer leaves a deadline");
        assert_eq!(d.asked, Some(Duration::from_millis(250)));
        let by = d
            .share_by(0.8)
            .expect("a client deadline gives a read-by time");
        assert_eq!(by - d.received, Duration::from_millis(200));
        let none = seen(None)
            .await
            .expect("a deadline even without grpc-timeout");
        assert_eq!(none.asked, None);
        assert_eq!(none.share_by(0.8), None);
    }

    #[test]
    fn parses_units_and_refuses_junk() {
        assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
        assert_eq!(parse_grpc_timeout("2S"), Some(Duration::from_secs(2)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("123456789S"), None);
        assert_eq!(parse_grpc_timeout("5x"), None);
        assert_eq!(parse_grpc_timeout("S"), None);
    }
}
