//! A node that answers every GetRegistry with one fixed signed state, over TLS with a listed
//! node's certificate: the dishonest peer (or the one whose keys were taken) a follower must not
//! believe. It opens no WatchRegistry stream, so a follower polls it.
// Each test uses part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::pin::Pin;

use huren_proto::v1::registry_service_server::{RegistryService, RegistryServiceServer};
use huren_proto::v1::{
    GetCheckpointRequest, GetCheckpointResponse, GetProofsRequest, GetProofsResponse,
    GetRegistryRequest, GetRegistryResponse, WatchRegistryRequest, WatchRegistryResponse,
};
use huren_registry::SignedState;
use tonic::transport::{Identity, Server, ServerTlsConfig};
use tonic::{Request, Response, Status};

/// Serves `state` (as registry version `version`) on `listen` with `cert_pem` (chain) and
/// `key_pem` until the returned task is aborted or the test ends.
pub async fn start(
    listen: SocketAddr,
    cert_pem: &str,
    key_pem: &str,
    state: &SignedState,
    version: u64,
) -> tokio::task::JoinHandle<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .expect("bind the peer's address");
    let tls = ServerTlsConfig::new().identity(Identity::from_pem(cert_pem, key_pem));
    let router = Server::builder()
        .tls_config(tls)
        .expect("TLS config")
        .add_service(RegistryServiceServer::new(Fixed {
            state: state.to_bytes(),
            version,
        }));
    tokio::spawn(async move {
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
        let _ = router.serve_with_incoming(incoming).await;
    })
}

struct Fixed {
    state: Vec<u8>,
    version: u64,
}

type Watch =
    Pin<Box<dyn tokio_stream::Stream<Item = Result<WatchRegistryResponse, Status>> + Send>>;

#[tonic::async_trait]
impl RegistryService for Fixed {
    async fn get_registry(
        &self,
        _: Request<GetRegistryRequest>,
    ) -> Result<Response<GetRegistryResponse>, Status> {
        Ok(Response::new(GetRegistryResponse {
            version: self.version,
            delta: false,
            signed_state: self.state.clone(),
            ..GetRegistryResponse::default()
        }))
    }

    type WatchRegistryStream = Watch;

    async fn watch_registry(
        &self,
        _: Request<WatchRegistryRequest>,
    ) -> Result<Response<Watch>, Status> {
        Err(Status::unimplemented("polled only"))
    }

    async fn get_checkpoint(
        &self,
        _: Request<GetCheckpointRequest>,
    ) -> Result<Response<GetCheckpointResponse>, Status> {
        Err(Status::unimplemented("not served"))
    }

    async fn get_proofs(
        &self,
        _: Request<GetProofsRequest>,
    ) -> Result<Response<GetProofsResponse>, Status> {
        Err(Status::unimplemented("not served"))
    }
}
