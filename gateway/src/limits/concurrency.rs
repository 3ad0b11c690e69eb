//! A node-wide limit on calls in progress: past it a call may wait a few milliseconds for a
//! permit ([`wait`](super::wait); none by default), then is refused with the
//! [`refusal`](super::refusal) answer (a longer queue would only turn overload into timeouts). Before it asks for a permit, a call
//! must pass the [`queue`](super::queue) admission: the node not too far behind, the caller's
//! deadline not shorter than the wait. A refused caller is told to come back after a delay that
//! grows with how far over its limit the node is ([`backoff`](super::backoff)).

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::{BoxFuture, FutureExt, TryFutureExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::body::Body;
use tower::{BoxError, ServiceExt};
use tower_layer::Layer;
use tower_service::Service;

use super::Deadline;
use super::backoff::Pressure;
use super::lag::Lag;
use super::queue::{self, Admission};
use super::refusal::{Refusals, Why};
use super::wait::{self, Waiters};

/// Health stays answerable under load, or a busy node would look dead to its balancer.
const UNLIMITED: &str = "/grpc.health.v1.Health/";

/// One pool of permits for the whole node, shared by every service the layer wraps.
#[derive(Debug, Clone)]
pub struct ConcurrencyLayer {
    permits: Arc<Semaphore>,
    waiters: Arc<Waiters>,
    /// How long a call that finds every permit taken may wait for one.
    wait: Duration,
    max_queue: Duration,
    lag: Lag,
    pressure: Arc<Pressure>,
    refusals: Arc<Refusals>,
}

impl ConcurrencyLayer {
    /// `limit` calls in progress at once; while the node lags more than `max_queue` behind, new
    /// calls are refused without being run. Starts the lag probe on the current runtime. A call
    /// that finds every permit taken is refused at once unless [`admission_wait`] says otherwise.
    ///
    /// [`admission_wait`]: ConcurrencyLayer::admission_wait
    pub fn new(limit: usize, max_queue: Duration) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(limit)),
            // As many may wait as may run: a waiting call holds its request head and a timer,
            // far less than a running one. Calls waiting are about the arrival rate times the
            // wait (a few dozen at a few milliseconds), so the cap matters when the wait is long.
            waiters: Arc::new(Waiters::new(limit)),
            wait: Duration::ZERO,
            max_queue,
            lag: Lag::start(),
            pressure: Arc::default(),
            refusals: Arc::new(Refusals::new(limit, max_queue)),
        }
    }

    /// A call that finds every permit taken waits up to `wait` for one (less when its deadline
    /// is near) before it is refused.
    pub fn admission_wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }
}

impl<S: Clone> Layer<S> for ConcurrencyLayer {
    type Service = Concurrency<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Concurrency {
            inner,
            permits: self.permits.clone(),
            waiters: self.waiters.clone(),
            wait: self.wait,
            max_queue: self.max_queue,
            lag: self.lag.clone(),
            pressure: self.pressure.clone(),
            refusals: self.refusals.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Concurrency<S> {
    inner: S,
    permits: Arc<Semaphore>,
    waiters: Arc<Waiters>,
    wait: Duration,
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
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        if request.uri().path().starts_with(UNLIMITED) {
            return self.inner.call(request).map_err(Into::into).boxed();
        }
        // A permit is asked for per call, not in `poll_ready`, so a health call never holds one.
        let inner = self.inner.clone();
        let (permits, waiters, wait) = (self.permits.clone(), self.waiters.clone(), self.wait);
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
            let patience = wait::patience(wait, asked, lag);
            let Some(permit) = permit(&permits, &waiters, patience).await else {
                return Ok(refusals.answer(Why::AtLimit, pressure.refused(lag)));
            };
            // The permit is held until the answer starts, as tower's limit holds it.
            let outcome = inner.oneshot(request).await.map_err(Into::into);
            drop(permit);
            pressure.served();
            outcome
        }
        .boxed()
    }
}

/// A permit now, or within `patience` if a place among the waiters is free; `None`: refuse.
async fn permit(
    permits: &Arc<Semaphore>,
    waiters: &Waiters,
    patience: Duration,
) -> Option<OwnedSemaphorePermit> {
    if let Ok(permit) = permits.clone().try_acquire_owned() {
        return Some(permit);
    }
    if patience.is_zero() {
        return None;
    }
    let _seat = waiters.seat()?;
    // tokio's semaphore serves waiters in order, so a call that waited longer is let in first,
    // and a permit that is freed goes to a waiter before any newcomer's `try_acquire`.
    tokio::time::timeout(patience, permits.clone().acquire_owned())
        .await
        .ok()?
        .ok()
}
