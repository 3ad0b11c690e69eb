//! The service hyper calls for each request as it arrives on a connection: it reads the caller's
//! deadline, asks [`Admission`] for a decision there and then, and hands the request to the
//! pipeline of an admitted call or of a refused one.
//!
//! A refused call still passes the caller's identity and the method's policy, and is counted in
//! the metrics like any other: a stranger is told UNAUTHENTICATED, never OVERLOADED, and the
//! node's dashboards see every refusal. It skips the rest (the deadline, the message size, the
//! handler), and its answer is ready the first time the connection's task asks for it.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::{self, BoxFuture, FutureExt};
use hyper::body::Incoming;
use tonic::body::Body;
use tower::util::BoxCloneSyncService;
use tower::{BoxError, ServiceExt};
use tower_service::Service;

use crate::acceptor::PeerConnectInfo;
use crate::limits::{Admission, Arrival, Deadline, Verdict};

use super::inline;

/// One pipeline of tower layers over a service, boxed so that one type holds either kind.
pub type Stack = BoxCloneSyncService<http::Request<Body>, http::Response<Body>, BoxError>;

/// What the node does with a call: admission, and the two pipelines behind it.
pub struct Pipeline {
    admission: Arc<Admission>,
    /// Every layer and the services, for a call admitted (or exempt from admission).
    admitted: Stack,
    /// For a refused call: the layers that must still see it, over [`Refuse`].
    refused: Stack,
}

impl Pipeline {
    /// `admitted` serves the calls `admission` lets in. `layers` puts the layers a refused call
    /// must still pass (identity, policy, metrics) over the service that answers it.
    pub fn new(
        admission: Admission,
        admitted: Stack,
        layers: impl FnOnce(Refuse) -> Stack,
    ) -> Self {
        let admission = Arc::new(admission);
        let refused = layers(Refuse {
            admission: admission.clone(),
        });
        Self {
            admission,
            admitted,
            refused,
        }
    }

    /// Runs an admitted call; an error from the pipeline becomes the gRPC status it carries.
    async fn run(&self, request: http::Request<Body>) -> http::Response<Body> {
        answer(self.admitted.clone().oneshot(request).await)
    }

    /// Runs a refused call through its layers to the answer `verdict` gives.
    async fn refuse(
        &self,
        mut request: http::Request<Body>,
        verdict: Verdict,
    ) -> http::Response<Body> {
        request.extensions_mut().insert(verdict);
        answer(self.refused.clone().oneshot(request).await)
    }
}

/// A response, or the status an error from a layer stands for (what tonic's server does).
fn answer(result: Result<http::Response<Body>, BoxError>) -> http::Response<Body> {
    result.unwrap_or_else(|error| tonic::Status::from_error(error).into_http())
}

/// The innermost service of a refused call's pipeline: the answer its [`Verdict`] gives.
#[derive(Debug, Clone)]
pub struct Refuse {
    admission: Arc<Admission>,
}

impl Service<http::Request<Body>> for Refuse {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = future::Ready<Result<http::Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let answer = match request.extensions().get::<Verdict>() {
            Some(verdict) => self.admission.answer(*verdict),
            // Only `Pipeline::refuse` calls this service, and it always leaves a verdict.
            None => {
                tonic::Status::internal("a refused call arrived without its verdict").into_http()
            }
        };
        future::ready(Ok(answer))
    }
}

/// The service of one connection: every request it carries arrives here.
#[derive(Clone)]
pub struct Arrive {
    pipeline: Arc<Pipeline>,
    /// The connection's TLS details and its caller, put in every request as tonic did.
    info: PeerConnectInfo,
}

impl Arrive {
    pub fn new(pipeline: Arc<Pipeline>, info: PeerConnectInfo) -> Self {
        Self { pipeline, info }
    }
}

impl hyper::service::Service<http::Request<Incoming>> for Arrive {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<http::Response<Body>, Infallible>>;

    fn call(&self, request: http::Request<Incoming>) -> Self::Future {
        let deadline = Deadline::arriving(request.headers());
        let mut request = request.map(Body::new);
        let extensions = request.extensions_mut();
        extensions.insert(self.info.clone());
        extensions.insert(deadline);
        let pipeline = self.pipeline.clone();
        match pipeline
            .admission
            .arrive(request.uri().path(), deadline.asked)
        {
            Arrival::Exempt => async move { Ok(pipeline.run(request).await) }.boxed(),
            Arrival::Admitted(ticket) => async move {
                let response = pipeline.run(request).await;
                ticket.served();
                Ok(response)
            }
            .boxed(),
            Arrival::Wait(patience) => async move {
                Ok(match pipeline.admission.wait(patience).await {
                    Ok(ticket) => {
                        let response = pipeline.run(request).await;
                        ticket.served();
                        response
                    }
                    Err(verdict) => pipeline.refuse(request, verdict).await,
                })
            }
            .boxed(),
            Arrival::Refused(verdict) => {
                // Its answer is ready at once: answered on this task, not queued for another.
                inline::answer_here();
                async move { Ok(pipeline.refuse(request, verdict).await) }.boxed()
            }
        }
    }
}
