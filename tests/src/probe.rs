//! A test-only gRPC method, `/huren.test.Probe/Call`: sleeps for the requested milliseconds,
//! then answers who called (from the `Peer` the authorisation layer attached) and how many
//! certificates `Request::peer_certs()` sees. It gives tests a call that stays in flight.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use http::uri::PathAndQuery;
use huren::policy::Policy;
use huren::{GatewayBuilder, Peer, Role};
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};
use tonic_prost::ProstCodec;

pub const PATH: &str = "/huren.test.Probe/Call";

#[derive(Debug, Clone, Default)]
pub struct Probe;

impl NamedService for Probe {
    const NAME: &'static str = "huren.test.Probe";
}

impl tower::Service<http::Request<Body>> for Probe {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        Box::pin(async move {
            let handler = tower::service_fn(|request: Request<u32>| async move {
                tokio::time::sleep(Duration::from_millis(u64::from(*request.get_ref()))).await;
                let peer = request
                    .extensions()
                    .get::<Arc<Peer>>()
                    .map_or("nobody".to_string(), |p| p.spiffe_id.clone());
                let certs = request.peer_certs().map_or(0, |c| c.len());
                Ok::<_, Status>(Response::new(format!("{peer} certs={certs}")))
            });
            let mut grpc = tonic::server::Grpc::new(ProstCodec::<String, u32>::default());
            Ok(grpc.unary(handler, request).await)
        })
    }
}

/// Adds the probe to a gateway and opens it to every role.
pub fn with_probe(builder: GatewayBuilder) -> GatewayBuilder {
    builder
        .add_service(Probe)
        .policy(Policy::default().allow(PATH, &Role::ALL))
}

/// Calls the probe: it answers after `millis` with "<spiffe id> certs=<n>".
pub async fn call(channel: Channel, millis: u32) -> Result<String, Status> {
    call_request(channel, Request::new(millis)).await
}

/// Calls the probe with a prepared request (to set a grpc-timeout, say).
pub async fn call_request(channel: Channel, request: Request<u32>) -> Result<String, Status> {
    call_method(channel, PATH, request).await
}

/// Calls any test method of the probe's shape (a number in, a string out) at `path`.
pub async fn call_method(
    channel: Channel,
    path: &'static str,
    request: Request<u32>,
) -> Result<String, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let codec = ProstCodec::<u32, String>::default();
    let response = grpc
        .unary(request, PathAndQuery::from_static(path), codec)
        .await?;
    Ok(response.into_inner())
}
