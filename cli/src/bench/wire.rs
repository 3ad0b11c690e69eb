//! VerifyCode calls for the overload generator, as cheap as a real mutual-TLS caller can make
//! them: raw HTTP/2 streams (the `h2` crate, no tower stack, no channel task per call) carrying
//! gRPC frames encoded once before the run. A generator that shares the node's cores must cost
//! far less than the node per call, or what it measures is its own CPU, not the node's.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bytes::{Bytes, BytesMut};
use h2::client::SendRequest;
use http::{HeaderMap, HeaderValue, Method, Request, Uri};
use huren::connect::ClientTls;
use huren::federation::unary::frame;
use huren_proto::v1::{Verdict, VerifyCodeRequest, VerifyCodeResponse};
use prost::Message as _;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tonic::{Code, Status};

const PATH: &str = "/huren.v1.RecognitionService/VerifyCode";

/// Largest answer read: a VerifyCode answer is a few hundred bytes.
const MAX_ANSWER: usize = 64 * 1024;

/// Open connections and the requests to send over them, each encoded once.
#[derive(Clone)]
pub struct Wire {
    connections: Arc<Vec<SendRequest<Bytes>>>,
    /// One gRPC frame (flag, length, message) per code.
    frames: Arc<Vec<Bytes>>,
    uri: Uri,
    /// Every request's headers, grpc-timeout included: built once, copied per call.
    head: HeaderMap,
}

impl Wire {
    /// `n` (at least one) mutual-TLS HTTP/2 connections to `addr`, and a frame per payload.
    /// Spawns each connection's driver on the current runtime: call it on the generator's.
    pub async fn connect(
        addr: std::net::SocketAddr,
        tls: &ClientTls,
        n: usize,
        payloads: &[String],
    ) -> anyhow::Result<Self> {
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config(tls)?));
        let name = ServerName::try_from(tls.server_name.clone())
            .context("the gateway's name is not a TLS server name")?;
        let mut connections = Vec::with_capacity(n.max(1));
        for _ in 0..n.max(1) {
            let tcp = tokio::net::TcpStream::connect(addr)
                .await
                .with_context(|| format!("cannot connect to {addr}"))?;
            tcp.set_nodelay(true)?;
            let stream = connector
                .connect(name.clone(), tcp)
                .await
                .context("TLS handshake with the gateway")?;
            let (sender, driver) = h2::client::handshake(stream)
                .await
                .context("HTTP/2 handshake with the gateway")?;
            tokio::spawn(async move {
                let _ = driver.await;
            });
            connections.push(sender);
        }
        let frames = payloads
            .iter()
            .map(|payload| {
                frame(&VerifyCodeRequest {
                    payload: payload.clone(),
                    verifying_region: String::new(),
                    purpose: "bench".into(),
                })
            })
            .collect();
        let mut head = HeaderMap::new();
        head.insert("content-type", HeaderValue::from_static("application/grpc"));
        head.insert("te", HeaderValue::from_static("trailers"));
        Ok(Self {
            connections: Arc::new(connections),
            frames: Arc::new(frames),
            uri: Uri::try_from(format!("https://{}{PATH}", tls.server_name))?,
            head,
        })
    }

    /// The same calls with `timeout` as their grpc-timeout, so the node gives up on them too.
    pub fn with_deadline(&self, timeout: Duration) -> Self {
        let mut wire = self.clone();
        if let Ok(v) = HeaderValue::try_from(format!("{}m", timeout.as_millis())) {
            wire.head.insert("grpc-timeout", v);
        }
        wire
    }

    /// Call `i`: code `i mod codes` on connection `i mod connections`. Anything but PASS is an
    /// error: the path measured would not be the one meant.
    pub fn verify(
        &self,
        i: u64,
    ) -> impl std::future::Future<Output = Result<(), Status>> + Send + 'static + use<> {
        let sender = self.connections[i as usize % self.connections.len()].clone();
        let frame = self.frames[i as usize % self.frames.len()].clone();
        let request = self.request();
        async move {
            let answer = call(sender, request, frame).await?;
            let verdict = VerifyCodeResponse::decode(answer)
                .map_err(|e| Status::internal(format!("undecodable answer: {e}")))?
                .verification
                .map_or(Verdict::Unspecified as i32, |v| v.verdict);
            if verdict == Verdict::Pass as i32 {
                Ok(())
            } else {
                Err(Status::internal(format!(
                    "verdict {} instead of PASS",
                    crate::report::names::verdict(verdict)
                )))
            }
        }
    }

    fn request(&self) -> Request<()> {
        let mut request = Request::new(());
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.head.clone();
        request
    }
}

/// One unary call: send the frame, read the answer's message bytes (without the frame header)
/// and the gRPC status, from the headers of a trailers-only answer or from the trailers.
async fn call(
    sender: SendRequest<Bytes>,
    request: Request<()>,
    frame: Bytes,
) -> Result<Bytes, Status> {
    let mut sender = sender.ready().await.map_err(transport)?;
    let (answer, mut stream) = sender.send_request(request, false).map_err(transport)?;
    stream.send_data(frame, true).map_err(transport)?;
    let (head, mut body) = answer.await.map_err(transport)?.into_parts();
    if head.headers.contains_key("grpc-status") {
        return Err(status_of(&head.headers));
    }
    let mut message = BytesMut::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(transport)?;
        let _ = body.flow_control().release_capacity(chunk.len());
        if message.len() + chunk.len() > MAX_ANSWER {
            return Err(Status::resource_exhausted("answer too large"));
        }
        message.extend_from_slice(&chunk);
    }
    let trailers = body.trailers().await.map_err(transport)?;
    let status = trailers
        .as_ref()
        .map_or_else(|| Status::internal("no gRPC status"), status_of);
    if status.code() != Code::Ok {
        return Err(status);
    }
    if message.len() < 5 {
        return Err(Status::internal("no answer message"));
    }
    Ok(message.freeze().split_off(5))
}

fn status_of(headers: &HeaderMap) -> Status {
    Status::from_header_map(headers).unwrap_or_else(|| Status::internal("no gRPC status"))
}

/// A broken stream or connection; counted as a failure, not as a refusal.
fn transport(e: h2::Error) -> Status {
    Status::unknown(format!("transport error: {e}"))
}

/// Trusts the gateway's root, presents the caller's certificate, speaks HTTP/2.
fn client_config(tls: &ClientTls) -> anyhow::Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(tls.ca_pem.as_bytes()) {
        roots.add(cert.context("the root certificate")?)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots);
    let mut config = match &tls.identity {
        Some((cert, key)) => {
            let chain = CertificateDer::pem_slice_iter(cert.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .context("the caller's certificate")?;
            let key = PrivateKeyDer::from_pem_slice(key.as_bytes()).context("the caller's key")?;
            builder.with_client_auth_cert(chain, key)?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_flag_length_and_the_message() {
        let request = VerifyCodeRequest {
            payload: "code".into(),
            verifying_region: String::new(),
            purpose: "bench".into(),
        };
        let framed = frame(&request);
        assert_eq!(framed[0], 0);
        let len = u32::from_be_bytes([framed[1], framed[2], framed[3], framed[4]]) as usize;
        assert_eq!(len, framed.len() - 5);
        let back = VerifyCodeRequest::decode(&framed[5..]).expect("decodes");
        assert_eq!(back, request);
    }
}
