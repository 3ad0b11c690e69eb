//! Answers RESOURCE_EXHAUSTED, as the gRPC spec asks, when a request message is over the size
//! limit; tonic's decoder reports OUT_OF_RANGE, which clients do not treat as a limit.

use std::task::{Context, Poll};

use futures::future::{BoxFuture, FutureExt};
use http::HeaderValue;
use tonic::body::Body;
use tower_layer::Layer;
use tower_service::Service;

#[derive(Debug, Clone, Default)]
pub struct OversizeLayer;

impl<S> Layer<S> for OversizeLayer {
    type Service = Oversize<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Oversize { inner }
    }
}

#[derive(Debug, Clone)]
pub struct Oversize<S> {
    inner: S,
}

impl<S> Service<http::Request<Body>> for Oversize<S>
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
        let future = self.inner.call(request);
        async move {
            let mut response = future.await?;
            let headers = response.headers_mut();
            let too_large = headers.get("grpc-status").is_some_and(|v| v == "11")
                && headers
                    .get("grpc-message")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|m| m.contains("message length too large"));
            if too_large {
                headers.insert("grpc-status", HeaderValue::from_static("8"));
            }
            Ok(response)
        }
        .boxed()
    }
}
