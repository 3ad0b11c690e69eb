//! Answers RESOURCE_EXHAUSTED, as the gRPC spec asks, when a request message is over the size
//! limit; tonic's decoder reports OUT_OF_RANGE, which clients do not treat as a limit.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::{BoxFuture, FutureExt};
use http::{HeaderMap, HeaderValue};
use http_body::{Body as HttpBody, Frame, SizeHint};
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
            if response.headers().contains_key("grpc-status") {
                rewrite(response.headers_mut());
                return Ok(response);
            }
            // tonic reports a decode failure in the trailers of an otherwise normal response.
            Ok(response.map(|inner| Body::new(RewriteTrailers { inner })))
        }
        .boxed()
    }
}

fn rewrite(headers: &mut HeaderMap) {
    let too_large = headers.get("grpc-status").is_some_and(|v| v == "11")
        && headers
            .get("grpc-message")
            .and_then(|v| v.to_str().ok())
            // grpc-message is percent-encoded (tonic encodes spaces).
            .is_some_and(|m| m.replace("%20", " ").contains("message length too large"));
    if too_large {
        headers.insert("grpc-status", HeaderValue::from_static("8"));
    }
}

pin_project_lite::pin_project! {
    struct RewriteTrailers {
        #[pin]
        inner: Body,
    }
}

impl HttpBody for RewriteTrailers {
    type Data = bytes::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut polled = self.project().inner.poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &mut polled
            && let Some(trailers) = frame.trailers_mut()
        {
            rewrite(trailers);
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
