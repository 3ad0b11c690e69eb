//! The anchor of `huren bench verify`: the service a user would write by hand instead of huren —
//! tonic with its own mutual TLS, one Ed25519 `verify_strict` of the code's signature per call,
//! nothing else (no registry, no rules, no audit). Served on the benchmark's server runtime with
//! the gateway's certificate, so the clients use the same kind of connections.

use std::net::SocketAddr;

use anyhow::Context as _;
use huren_adapters::codec::SignedFormat;
use huren_adapters::{IssuerSigner, RegionCode};
use huren_proto::v1::recognition_service_server::{RecognitionService, RecognitionServiceServer};
use huren_proto::v1::{
    ConfirmWorkersRequest, ConfirmWorkersResponse, Verdict, Verification, VerifyCodeRequest,
    VerifyCodeResponse, VerifyCodesRequest, VerifyCodesResponse,
};
use tokio::sync::oneshot;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};
use tonic::{Request, Response, Status};

use super::server::Server;

/// The region whose codes the anchor checks: Guangdong's Ed25519 codes.
pub const REGION: RegionCode = RegionCode::GUANGDONG;

/// A running anchor service; stopped when dropped.
pub struct Anchor {
    pub addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

struct OneVerify {
    format: &'static SignedFormat,
    key: ed25519_dalek::VerifyingKey,
}

impl OneVerify {
    fn check(&self, payload: &str) -> bool {
        let Some((signed, sig_text)) = payload.rsplit_once(self.format.separator) else {
            return false;
        };
        let Some(sig) = self.format.armor.decode(sig_text) else {
            return false;
        };
        let Ok(sig) = <[u8; 64]>::try_from(sig.as_slice()) else {
            return false;
        };
        self.key
            .verify_strict(
                signed.as_bytes(),
                &ed25519_dalek::Signature::from_bytes(&sig),
            )
            .is_ok()
    }
}

#[tonic::async_trait]
impl RecognitionService for OneVerify {
    async fn verify_code(
        &self,
        request: Request<VerifyCodeRequest>,
    ) -> Result<Response<VerifyCodeResponse>, Status> {
        let verdict = if self.check(&request.get_ref().payload) {
            Verdict::Pass
        } else {
            Verdict::Reject
        };
        Ok(Response::new(VerifyCodeResponse {
            verification: Some(Verification {
                verdict: verdict as i32,
                ..Default::default()
            }),
        }))
    }

    async fn verify_codes(
        &self,
        _: Request<VerifyCodesRequest>,
    ) -> Result<Response<VerifyCodesResponse>, Status> {
        Err(Status::unimplemented("the anchor answers VerifyCode only"))
    }

    async fn confirm_workers(
        &self,
        _: Request<ConfirmWorkersRequest>,
    ) -> Result<Response<ConfirmWorkersResponse>, Status> {
        Err(Status::unimplemented("the anchor answers VerifyCode only"))
    }
}

impl Anchor {
    /// `n` mutual-TLS connections to the anchor as a province caller, like the gateway's clients.
    pub async fn channels(
        &self,
        stack: &crate::loopback::stack::Stack,
        n: usize,
    ) -> anyhow::Result<Vec<tonic::transport::Channel>> {
        let tls = stack.tls("province", Some("410000"))?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n.max(1) {
            out.push(huren::connect::connect(self.addr, &tls).await?);
        }
        Ok(out)
    }

    /// Starts the anchor on `server`'s runtime, with the gateway's certificate and client roots.
    pub async fn start(server: &Server) -> anyhow::Result<Self> {
        let stack = server.stack()?;
        let files = crate::pki::tls_files(stack.pki())?;
        let read = |p: &std::path::Path| {
            std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))
        };
        let tls = ServerTlsConfig::new()
            .identity(Identity::from_pem(read(&files.cert)?, read(&files.key)?))
            .client_ca_root(Certificate::from_pem(read(&files.client_roots)?));
        let signer = IssuerSigner::from_pki(stack.pki(), REGION.as_str())?;
        let key: [u8; 32] = signer
            .public_key()
            .public_key
            .as_slice()
            .try_into()
            .context("the anchor's issuer key is not Ed25519")?;
        let service = OneVerify {
            format: huren_adapters::signed_format(REGION)
                .context("Guangdong has a signed format")?,
            key: ed25519_dalek::VerifyingKey::from_bytes(&key)?,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let addr = server
            .handle()
            .spawn(async move {
                let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
                let addr = listener.local_addr()?;
                // TCP_NODELAY as `Server::serve(addr)` sets it by default (and as the gateway
                // sets it): an incoming stream of one's own gets no socket options from tonic,
                // and with Nagle on the anchor's small answers were coalesced where the
                // gateway's are not, which the comparison charged to the gateway.
                let incoming =
                    tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
                let router = tonic::transport::Server::builder()
                    .tls_config(tls)?
                    .add_service(RecognitionServiceServer::new(service));
                tokio::spawn(async move {
                    let _ = router
                        .serve_with_incoming_shutdown(incoming, async {
                            let _ = stopped.await;
                        })
                        .await;
                });
                anyhow::Ok(addr)
            })
            .await
            .context("the anchor start task failed")??;
        Ok(Self { addr, _stop: stop })
    }
}
