//! One region's connections: a few multiplexed HTTP/2 connections over pinned TLS, each opened
//! lazily and reopened when it breaks. Every request from the gateway to that region takes the
//! next one in turn.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http2::SendRequest;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::net::ClientIdentity;
use crate::net::error::NetError;
use crate::net::verify::PinnedVerifier;
use crate::trust::StatusService;

/// A TLS client for HTTP/2 that accepts only a certificate chaining to `ca_der` and naming exactly
/// `spiffe_id`, presenting `identity` when given: how the gateway reaches anything whose identity
/// the registry pins (a region's status service, another node).
pub fn pinned_client_config(
    ca_der: &[u8],
    spiffe_id: &str,
    identity: Option<&ClientIdentity>,
) -> Result<rustls::ClientConfig, NetError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = PinnedVerifier::new(ca_der, spiffe_id, provider.clone())
        .map_err(|e| NetError::Identity(e.to_string()))?;
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| NetError::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match identity {
        Some(id) => {
            let bad = |e: String| NetError::Tls(format!("client identity: {e}"));
            let chain = CertificateDer::pem_slice_iter(id.cert_pem.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(e.to_string()))?;
            let key = PrivateKeyDer::from_pem_slice(id.key_pem.as_bytes())
                .map_err(|e| bad(e.to_string()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| bad(e.to_string()))?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(config)
}

/// Largest answer body read from a status service.
const MAX_BODY: usize = 256 * 1024;
const KEEPALIVE_EVERY: std::time::Duration = std::time::Duration::from_secs(10);
const KEEPALIVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

pub struct Channel {
    /// The registry entry this channel was built for; a changed entry gets a new channel.
    pub service: StatusService,
    scheme_authority: String,
    host: String,
    port: u16,
    server_name: ServerName<'static>,
    tls: tokio_rustls::TlsConnector,
    /// The connections, requests spread over them in turn. One connection carries every frame
    /// of the region through one task on each side; at 256 lookups in flight that task's queue
    /// added milliseconds a lookup (BENCHMARKS.md, "Online reads").
    slots: Vec<Slot>,
    next: std::sync::atomic::AtomicUsize,
}

/// One connection of a channel.
#[derive(Default)]
struct Slot {
    /// The open connection's handle. A plain lock held only to clone or swap it: every request
    /// takes it, so it must not make callers queue behind one another the way an async lock does.
    sender: std::sync::Mutex<Option<SendRequest<Full<Bytes>>>>,
    /// Held while a connection is being opened, so concurrent callers open one, not many.
    connecting: tokio::sync::Mutex<()>,
}

impl Slot {
    /// The current connection's handle if it is still open.
    fn open_sender(&self) -> Option<SendRequest<Full<Bytes>>> {
        self.lock()
            .as_ref()
            .filter(|sender| !sender.is_closed())
            .cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<SendRequest<Full<Bytes>>>> {
        self.sender.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Channel {
    /// A channel of `connections` connections (at least one), none opened yet.
    pub fn new(
        service: StatusService,
        identity: Option<&ClientIdentity>,
        connections: usize,
    ) -> Result<Self, NetError> {
        let bad = |detail: &str| NetError::BadUrl {
            url: service.url.clone(),
            detail: detail.to_string(),
        };
        let uri: Uri = service.url.parse().map_err(|_| bad("not a URL"))?;
        if uri.scheme_str() != Some("https") {
            return Err(bad("status services are reached over https only"));
        }
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        let host = authority.host().trim_matches(['[', ']']).to_string();
        let port = authority.port_u16().unwrap_or(443);
        let server_name = ServerName::try_from(host.clone()).map_err(|_| bad("bad host"))?;
        let config = pinned_client_config(&service.ca_der, &service.spiffe_id, identity)?;
        Ok(Self {
            scheme_authority: format!("https://{authority}"),
            host,
            port,
            server_name,
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
            slots: (0..connections.max(1)).map(|_| Slot::default()).collect(),
            next: std::sync::atomic::AtomicUsize::new(0),
            service,
        })
    }

    /// The next connection in turn, opened if it is not; with the slot it sits in. Callers
    /// bound this with their deadline.
    async fn sender(&self) -> Result<(&Slot, SendRequest<Full<Bytes>>), NetError> {
        let turn = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let slot = &self.slots[turn % self.slots.len()];
        if let Some(sender) = slot.open_sender() {
            return Ok((slot, sender));
        }
        let _connecting = slot.connecting.lock().await;
        // Another caller may have opened it while this one waited.
        if let Some(sender) = slot.open_sender() {
            return Ok((slot, sender));
        }
        let sender = self.connect().await?;
        *slot.lock() = Some(sender.clone());
        Ok((slot, sender))
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, NetError> {
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| NetError::Connect(e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        let tls = self
            .tls
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(tls_error)?;
        // Pings find a connection whose peer vanished without closing it, so the next request
        // opens a fresh one instead of waiting out its deadline on a dead socket.
        let (sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .keep_alive_interval(Some(KEEPALIVE_EVERY))
            .keep_alive_timeout(KEEPALIVE_TIMEOUT)
            .keep_alive_while_idle(true)
            .handshake(TokioIo::new(tls))
            .await
            .map_err(|e| NetError::Protocol(e.to_string()))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "status service connection closed");
            }
        });
        Ok(sender)
    }

    /// Drops every connection, so the next requests open new ones (after the breaker opened:
    /// the probe that follows should not reuse a connection that may be wedged).
    /// Never waits on a connection being opened: the slot's lock is only ever held to swap it.
    pub fn reset(&self) {
        for slot in &self.slots {
            *slot.lock() = None;
        }
    }

    /// One request; the answer's status and body (at most 256 KiB).
    pub async fn request(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Bytes>,
    ) -> Result<(StatusCode, Bytes), NetError> {
        self.request_limited(method, path_and_query, body, MAX_BODY)
            .await
    }

    /// One request whose answer may be up to `limit` bytes.
    pub async fn request_limited(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Bytes>,
        limit: usize,
    ) -> Result<(StatusCode, Bytes), NetError> {
        let (slot, mut sender) = self.sender().await?;
        let uri = format!("{}{path_and_query}", self.scheme_authority);
        let mut builder = Request::builder().method(method).uri(uri);
        if body.is_some() {
            builder = builder.header(http::header::CONTENT_TYPE, "application/json");
        }
        let request = builder
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|e| NetError::Protocol(e.to_string()))?;
        sender
            .ready()
            .await
            .map_err(|e| NetError::Protocol(e.to_string()))?;
        let response = match sender.send_request(request).await {
            Ok(r) => r,
            Err(e) => {
                if sender.is_closed() {
                    // Let the next request on this slot open a fresh connection.
                    *slot.lock() = None;
                }
                return Err(NetError::Protocol(e.to_string()));
            }
        };
        let status = response.status();
        let body = Limited::new(response.into_body(), limit)
            .collect()
            .await
            .map_err(|e| NetError::Garbage(format!("reading the body: {e}")))?
            .to_bytes();
        Ok((status, body))
    }
}

/// TLS failures caused by the certificate are identity failures; the rest are plain TLS ones.
fn tls_error(e: std::io::Error) -> NetError {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(rustls::CertificateError::Other(why))) => {
            NetError::Identity(why.to_string())
        }
        Some(rustls::Error::InvalidCertificate(cert)) => NetError::Identity(cert.to_string()),
        Some(other) => NetError::Tls(other.to_string()),
        None => NetError::Connect(e.to_string()),
    }
}
