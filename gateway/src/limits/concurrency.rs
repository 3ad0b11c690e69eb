//! A node-wide limit on calls in progress, from tower's `ConcurrencyLimit` and `LoadShed`: past
//! it a call is refused at once with the [`refusal`](super::refusal) answer (queueing would only
//! turn overload into timeouts). Before it asks for a permit, a call must pass the
//! [`queue`](super::queue) admission: the node not too far behind, the caller's deadline not
//! shorter than the wait. A refused caller is told to come back after a delay that grows with
//! how far over its limit the node is ([`backoff`](super::backoff)).

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt, TryFutureExt};
use tokio::sync::Semaphore;
use tonic::body::Body;
use tower::limit::ConcurrencyLimit;
use tower::load_shed::LoadShed;
use tower::{BoxError, ServiceExt};
use tower_layer::Layer;
use tower_service::Service;

use super::Deadline;
use super::backoff::Pressure;
use super::lag::Lag;
use super::queue::{self, Admission};
use super::refusal::{self, Refusals, Why};

/// Health stays answerable under load, or a busy node would look dead to its balancer.
const UNLIMITED: &str = "/grpc.health.v1.Health/";

/// One pool of permits for the whole node, shared by every service the layer wraps.
#[derive(Debug, Clone)]
pub struct ConcurrencyLayer {
    permits: Arc<Semaphore>,
    max_queue: Duration,
    lag: Lag,
    pressure: Arc<Pressure>,
    refusals: Arc<Refusals>,
}

impl ConcurrencyLayer {
    /// `limit` calls in progress at once; while the node lags more than `max_queue` behind, new
    /// calls are refused without being run. Starts the lag probe on the current runtime.
    pub fn new(limit: usize, max_queue: Duration) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(limit)),
            max_queue,
            lag: Lag::start(),
            pressure: Arc::default(),
            refusals: Arc::new(Refusals::new(limit, max_queue)),
        }
    }
}

impl<S: Clone> Layer<S> for ConcurrencyLayer {
    type Service = Concurrency<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Concurrency {
            limited: LoadShed::new(ConcurrencyLimit::with_semaphore(
                inner.clone(),
                self.permits.clone(),
            )),
            open: inner,
            max_queue: self.max_queue,
            lag: self.lag.clone(),
            pressure: self.pressure.clone(),
            refusals: self.refusals.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Concurrency<S> {
    /// The same service, without a permit: for health only.
    open: S,
    limited: LoadShed<ConcurrencyLimit<S>>,
    max_queue: Duration,
    lag: Lag,
    pressure: Arc<Pressure>,
    refusals: Arc<Refusals>,
}

impl<S> Service<http::Request<Body>> for Concurrency<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
{
    type Response = http::Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.open.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        if request.uri().path().starts_with(UNLIMITED) {
            return self.open.call(request).map_err(Into::into).boxed();
        }
        // A permit is asked for per call, not in `poll_ready`, so a health call never holds one;
        // `LoadShed` answers at once when none is free.
        let limited = self.limited.clone();
        let (max_queue, lag) = (self.max_queue, self.lag.now());
        let (pressure, refusals) = (self.pressure.clone(), self.refusals.clone());
        let asked = request.extensions().get::<Deadline>().and_then(|d| d.asked);
        async move {
            match queue::check(lag, asked, max_queue) {
                Admission::Admit => {}
                Admission::Behind => {
                    return Ok(refusals.answer(Why::Behind, pressure.refused(lag)));
                }
                Admission::TooLate => {
                    let late = queue::too_late(lag, asked.unwrap_or_default());
                    return Ok(tonic::Status::from(late).into_http());
                }
            }
            let outcome = limited.oneshot(request).await;
            if refusal::is_shed(&outcome) {
                return Ok(refusals.answer(Why::AtLimit, pressure.refused(lag)));
            }
            pressure.served();
            outcome
        }
        .boxed()
    }
}
