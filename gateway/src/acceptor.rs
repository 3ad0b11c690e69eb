//! Our own TLS acceptor: a socket2 listener, rustls handshakes off the accept loop, the caller's
//! identity parsed once per connection, and a stream of ready connections for tonic.
//!
//! Owning the acceptor (instead of tonic's built-in TLS) is what lets the server config live in a
//! watch channel and be swapped at runtime, and lets us count handshake failures by reason.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use socket2::{Domain, Protocol, SockRef, Socket, TcpKeepalive, Type};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::{Connected, TcpConnectInfo, TlsConnectInfo};

use crate::identity::{IdentityError, Peer, peer_from_der};
use crate::node_admission::AdmissionMemo;
use crate::tls::TlsState;

/// Socket and handshake settings of the listener.
#[derive(Debug, Clone)]
pub struct AcceptOptions {
    /// Listen backlog; tokio's default of 128 overflows when a proxy opens hundreds at once.
    pub backlog: i32,
    pub handshake_timeout: Duration,
    pub tcp_keepalive: Option<Duration>,
    /// Handshakes in progress at once; past it the accept loop waits and new connections
    /// queue in the kernel backlog, so a flood of idle sockets cannot exhaust memory.
    pub max_handshakes: usize,
}

impl Default for AcceptOptions {
    fn default() -> Self {
        Self {
            backlog: 4096,
            handshake_timeout: Duration::from_secs(10),
            tcp_keepalive: Some(Duration::from_secs(60)),
            max_handshakes: 1024,
        }
    }
}

/// Binds a TCP listener with a large backlog.
pub fn bind(addr: SocketAddr, backlog: i32) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // A restarted gateway must not wait for TIME_WAIT sockets of its previous run.
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    TcpListener::from_std(socket.into())
}

/// What tonic puts in every request's extensions for a connection accepted here.
#[derive(Debug, Clone)]
pub struct PeerConnectInfo {
    pub tls: TlsConnectInfo<TcpConnectInfo>,
    /// The caller, or why its certificate names nobody (answered as UNAUTHENTICATED per call).
    pub identity: Result<Arc<Peer>, IdentityError>,
    /// Shared by every call of the connection: whether a `gateway` caller is a registry node.
    pub admission: AdmissionMemo,
}

/// A TLS connection whose caller has been identified.
#[derive(Debug)]
pub struct PeerStream {
    inner: TlsStream<TcpStream>,
    identity: Result<Arc<Peer>, IdentityError>,
    admission: AdmissionMemo,
}

impl Connected for PeerStream {
    type ConnectInfo = PeerConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        PeerConnectInfo {
            tls: self.inner.connect_info(),
            identity: self.identity.clone(),
            admission: self.admission.clone(),
        }
    }
}

impl AsyncRead for PeerStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for PeerStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Accepts and handshakes connections until the returned stream is dropped (tonic drops it when
/// shutdown begins, which closes the listening socket).
pub fn incoming(
    listener: TcpListener,
    tls: watch::Receiver<Arc<TlsState>>,
    options: AcceptOptions,
) -> ReceiverStream<Result<PeerStream, io::Error>> {
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(accept_loop(listener, tls, options, tx));
    ReceiverStream::new(rx)
}

async fn accept_loop(
    listener: TcpListener,
    tls: watch::Receiver<Arc<TlsState>>,
    options: AcceptOptions,
    tx: mpsc::Sender<Result<PeerStream, io::Error>>,
) {
    let handshakes = Arc::new(Semaphore::new(options.max_handshakes.max(1)));
    loop {
        let permit = tokio::select! {
            _ = tx.closed() => break,
            permit = handshakes.clone().acquire_owned() => permit,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            _ = tx.closed() => break,
            accepted = listener.accept() => accepted,
        };
        let (tcp, remote) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if let Err(e) = tune(&tcp, &options) {
            tracing::debug!(%remote, error = %e, "cannot set socket options");
        }
        // Each connection handshakes with the settings current when it arrived.
        let state = tls.borrow().clone();
        let tx = tx.clone();
        let timeout = options.handshake_timeout;
        tokio::spawn(async move {
            let stream = handshake(tcp, remote, &state, timeout).await;
            drop(permit);
            if let Some(stream) = stream {
                let _ = tx.send(Ok(stream)).await;
            }
        });
    }
}

fn tune(tcp: &TcpStream, options: &AcceptOptions) -> io::Result<()> {
    // Small gRPC responses must not wait for Nagle.
    tcp.set_nodelay(true)?;
    if let Some(idle) = options.tcp_keepalive {
        SockRef::from(tcp).set_tcp_keepalive(&TcpKeepalive::new().with_time(idle))?;
    }
    Ok(())
}

async fn handshake(
    tcp: TcpStream,
    remote: SocketAddr,
    state: &TlsState,
    timeout: Duration,
) -> Option<PeerStream> {
    let acceptor = TlsAcceptor::from(state.config.clone());
    let stream = match tokio::time::timeout(timeout, acceptor.accept(tcp)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            let reason = failure_reason(&e);
            crate::metrics::tls_handshake_failed(reason);
            tracing::warn!(%remote, reason, error = %e, "TLS handshake refused");
            return None;
        }
        Err(_) => {
            crate::metrics::tls_handshake_failed("timeout");
            tracing::debug!(%remote, "TLS handshake timed out");
            return None;
        }
    };
    let identity = match stream.get_ref().1.peer_certificates() {
        Some([leaf, ..]) => peer_from_der(leaf, &state.trust_domain)
            .and_then(|peer| state.region_cas.check(&peer, leaf).map(|()| peer)),
        _ => Err(IdentityError::NoCertificate),
    };
    match &identity {
        Ok(peer) => tracing::debug!(%remote, peer = %peer, "connection identified"),
        Err(e) => {
            crate::metrics::identity_rejected(e.reason());
            tracing::warn!(%remote, reason = e.reason(), error = %e, "client certificate names no caller");
        }
    }
    Some(PeerStream {
        inner: stream,
        identity: identity.map(Arc::new),
        admission: AdmissionMemo::default(),
    })
}

/// A stable, low-cardinality label for why a handshake failed.
fn failure_reason(error: &io::Error) -> &'static str {
    use rustls::{CertificateError as C, Error as E};
    let Some(tls) = error.get_ref().and_then(|e| e.downcast_ref::<E>()) else {
        return match error.kind() {
            io::ErrorKind::UnexpectedEof => "eof",
            io::ErrorKind::ConnectionReset => "reset",
            _ => "io",
        };
    };
    match tls {
        E::NoCertificatesPresented => "no_client_certificate",
        E::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => "certificate_expired",
        E::InvalidCertificate(C::NotValidYet | C::NotValidYetContext { .. }) => {
            "certificate_not_yet_valid"
        }
        E::InvalidCertificate(C::UnknownIssuer) => "unknown_issuer",
        E::InvalidCertificate(C::Revoked) => "certificate_revoked",
        E::InvalidCertificate(C::BadSignature) => "bad_signature",
        E::InvalidCertificate(_) => "invalid_certificate",
        E::PeerIncompatible(_) => "incompatible_client",
        E::NoApplicationProtocol => "no_h2_alpn",
        E::AlertReceived(_) => "client_alert",
        E::InvalidMessage(_) | E::InappropriateMessage { .. } => "not_tls",
        E::InappropriateHandshakeMessage { .. } | E::PeerMisbehaved(_) => "protocol_violation",
        _ => "other",
    }
}
