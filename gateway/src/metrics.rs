//! Prometheus metrics: the process-wide recorder, the names huren exports, and the tower layer
//! that counts every gRPC call by method and status code and times it.

use std::pin::Pin;
use std::sync::{Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use futures::future::{BoxFuture, FutureExt};
use http_body::{Body as HttpBody, Frame, SizeHint};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tonic::body::Body;
use tower_layer::Layer;
use tower_service::Service;

pub const REQUESTS: &str = "huren_grpc_requests_total";
pub const LATENCY: &str = "huren_grpc_request_duration_seconds";
pub const TLS_HANDSHAKE_FAILURES: &str = "huren_tls_handshake_failures_total";
pub const IDENTITY_REJECTIONS: &str = "huren_identity_rejections_total";

/// The process-wide recorder; the first gateway in a process installs it, later ones share it.
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                2.5, 5.0, 10.0,
            ];
            let builder = PrometheusBuilder::new();
            let builder = builder
                .set_buckets_for_metric(Matcher::Full(LATENCY.to_string()), &buckets)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (an embedding program's); then ours
            // still renders, it just sees nothing, which is better than failing to start.
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
            }
            crate::metrics_catalog::describe();
            crate::metrics_catalog::declare();
            handle
        })
        .clone()
}

/// Refreshes a value that is only worth computing when someone looks (seconds until an expiry,
/// a breaker's state, a cache's counts); `false` once what it reads is gone, and it is dropped.
type ScrapeHook = Box<dyn Fn() -> bool + Send + Sync>;

fn scrape_hooks() -> &'static Mutex<Vec<ScrapeHook>> {
    static HOOKS: OnceLock<Mutex<Vec<ScrapeHook>>> = OnceLock::new();
    HOOKS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Runs `hook` before every scrape until it returns `false`. Hooks hold weak references to
/// what they read, so a stopped node or gateway stops being read.
pub fn on_scrape(hook: impl Fn() -> bool + Send + Sync + 'static) {
    // Installing the recorder first makes the hook's gauges land where `/metrics` reads.
    let _ = handle();
    scrape_hooks()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Box::new(hook));
}

/// The Prometheus text an admin listener serves: hooks refreshed first.
pub fn render() -> String {
    let handle = handle();
    scrape_hooks()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|hook| hook());
    handle.render()
}

pub fn tls_handshake_failed(reason: &'static str) {
    metrics::counter!(TLS_HANDSHAKE_FAILURES, "reason" => reason).increment(1);
}

pub fn identity_rejected(reason: &'static str) {
    metrics::counter!(IDENTITY_REJECTIONS, "reason" => reason).increment(1);
}

/// gRPC status codes by their canonical names, for labels.
pub fn code_name(code: &str) -> &'static str {
    match code {
        "0" => "OK",
        "1" => "CANCELLED",
        "2" => "UNKNOWN",
        "3" => "INVALID_ARGUMENT",
        "4" => "DEADLINE_EXCEEDED",
        "5" => "NOT_FOUND",
        "6" => "ALREADY_EXISTS",
        "7" => "PERMISSION_DENIED",
        "8" => "RESOURCE_EXHAUSTED",
        "9" => "FAILED_PRECONDITION",
        "10" => "ABORTED",
        "11" => "OUT_OF_RANGE",
        "12" => "UNIMPLEMENTED",
        "13" => "INTERNAL",
        "14" => "UNAVAILABLE",
        "15" => "DATA_LOSS",
        "16" => "UNAUTHENTICATED",
        _ => "UNKNOWN",
    }
}

/// Counts and times every call; outermost in the pipeline so refusals are counted too.
#[derive(Debug, Clone, Default)]
pub struct MetricsLayer;

impl<S> Layer<S> for MetricsLayer {
    type Service = Metered<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Metered { inner }
    }
}

#[derive(Debug, Clone)]
pub struct Metered<S> {
    inner: S,
}

impl<S> Service<http::Request<Body>> for Metered<S>
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

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let path = request.uri().path();
        // Only known methods become labels: a client must not be able to mint label values.
        let method = crate::policy::TABLE
            .iter()
            .find(|(p, _)| *p == path)
            .map_or("other", |(p, _)| p);
        let started = Instant::now();
        let future = self.inner.call(request);
        async move {
            let response = future.await?;
            let header_code = response
                .headers()
                .get("grpc-status")
                .and_then(|v| v.to_str().ok())
                .map(code_name);
            let call = Call {
                method,
                started,
                code: header_code,
            };
            if header_code.is_some() {
                // Trailers-only response: the call is over.
                drop(call);
                return Ok(response);
            }
            Ok(response.map(|body| Body::new(MeteredBody { inner: body, call })))
        }
        .boxed()
    }
}

/// Records one finished call when dropped, whatever way the call ended.
struct Call {
    method: &'static str,
    started: Instant,
    code: Option<&'static str>,
}

impl Drop for Call {
    fn drop(&mut self) {
        // No status at all means the stream was torn down: the client gave up.
        let code = self.code.unwrap_or("CANCELLED");
        crate::metric_handles::requests(self.method, code).increment(1);
        crate::metric_handles::latency(self.method).record(self.started.elapsed().as_secs_f64());
    }
}

pin_project_lite::pin_project! {
    struct MeteredBody {
        #[pin]
        inner: Body,
        call: Call,
    }
}

impl HttpBody for MeteredBody {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(trailers) = frame.trailers_ref()
        {
            this.call.code = trailers
                .get("grpc-status")
                .and_then(|v| v.to_str().ok())
                .map(code_name);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
