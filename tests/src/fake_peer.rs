//! A node that answers every `FederationService.ResolveStatus` with one fixed response, over TLS
//! with a certificate the test gives it: the dishonest (or replaying) peer an entry node must not
//! believe. Written as a plain gRPC route, so it keeps compiling when the service gains methods.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use huren_proto::v1::{ResolveStatusRequest, ResolveStatusResponse};
use tonic::body::Body;
use tonic::server::{Grpc, NamedService, UnaryService};
use tonic::transport::{Identity, Server, ServerTlsConfig};

/// Starts the fake on 127.0.0.1 with `cert_pem` (chain) and `key_pem`; it serves until the
/// test ends.
pub async fn start(cert_pem: &str, key_pem: &str, answer: ResolveStatusResponse) -> SocketAddr {
    crate::init();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let tls = ServerTlsConfig::new().identity(Identity::from_pem(cert_pem, key_pem));
    let router = Server::builder()
        .tls_config(tls)
        .expect("TLS config")
        .add_service(Fixed(Arc::new(answer)));
    tokio::spawn(
        router.serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    addr
}

#[derive(Clone)]
struct Fixed(Arc<ResolveStatusResponse>);

impl NamedService for Fixed {
    const NAME: &'static str = "huren.v1.FederationService";
}

impl UnaryService<ResolveStatusRequest> for Fixed {
    type Response = ResolveStatusResponse;
    type Future = BoxFuture<'static, Result<tonic::Response<ResolveStatusResponse>, tonic::Status>>;

    fn call(&mut self, _: tonic::Request<ResolveStatusRequest>) -> Self::Future {
        let answer = (*self.0).clone();
        Box::pin(async move { Ok(tonic::Response::new(answer)) })
    }
}

impl tower::Service<http::Request<Body>> for Fixed {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<http::Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let answer = self.clone();
        Box::pin(async move {
            let mut grpc = Grpc::new(tonic_prost::ProstCodec::default());
            Ok(grpc.unary(answer, request).await)
        })
    }
}
