//! A node-wide limit on calls in progress: past it a call is refused at once with
//! RESOURCE_EXHAUSTED (queueing would only turn overload into timeouts).

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::{BoxFuture, FutureExt};
use tokio::sync::Semaphore;
use tonic::body::Body;
use tower_layer::Layer;
use tower_service::Service;

use crate::error::Error;

#[derive(Debug, Clone)]
pub struct ConcurrencyLayer {
    permits: Arc<Semaphore>,
    limit: usize,
}

impl ConcurrencyLayer {
    pub fn new(limit: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(limit)),
            limit,
        }
    }
}

impl<S> Layer<S> for ConcurrencyLayer {
    type Service = ConcurrencyLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ConcurrencyLimit {
            inner,
            permits: self.permits.clone(),
            limit: self.limit,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ConcurrencyLimit<S> {
    inner: S,
    permits: Arc<Semaphore>,
    limit: usize,
}

impl<S> Service<http::Request<Body>> for ConcurrencyLimit<S>
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
        // Health stays answerable under load, or a busy node would look dead to its balancer.
        if request.uri().path().starts_with("/grpc.health.v1.Health/") {
            return self.inner.call(request).boxed();
        }
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            let status = tonic::Status::from(Error::Overloaded(format!(
                "this node is at its limit of {} calls in progress; retry with backoff",
                self.limit
            )));
            return futures::future::ready(Ok(status.into_http())).boxed();
        };
        let future = self.inner.call(request);
        async move {
            let response = future.await;
            drop(permit);
            response
        }
        .boxed()
    }
}
