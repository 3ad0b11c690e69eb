//! Reference regional status services: one real HTTPS server per region on loopback, used by
//! the demo, the tests and the benchmarks as the regions' own systems.
//!
//! A service presents its region's TLS identity from the dev PKI
//! (`spiffe://huren.dev/region/<code>/role/service/status`), keeps per-person records (in memory,
//! or one JSON file per person under `--data`, replaced atomically and fsynced), issues codes,
//! changes statuses, answers lookups and publishes a change feed; the offline-signed regions also
//! publish their issuer's signed status list of v2 codes ([`lists`]).
//!
//! The wire protocol they speak is the status client's: see [`crate::net::wire`].
//!
//! # Who may ask
//!
//! With [`ServiceConfig::require_gateway`] the service asks for a client certificate chained to
//! the national root and serves only connections whose single URI SAN names a huren gateway
//! (`spiffe://<domain>/region/<code>/role/gateway/<name>`); the client presents one through
//! [`crate::net::ClientConfig::identity`]. Off by default so tests and benches need no identity.
//!
//! # Faults, for tests
//!
//! [`Faults`] adds latency before every answer, answers a fraction of requests with 503, answers
//! with garbage bodies, or presents a certificate from the right region CA with the wrong SPIFFE
//! id, or answers lookups with a wrong native label. [`ServiceHandle::set_faults`] changes them
//! while the service runs.

mod appeals;
pub mod delay;
mod delay_line;
pub mod dev_trust;
mod http;
pub mod issue;
pub mod lists;
pub mod store;
mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use time::OffsetDateTime;
use tokio::sync::watch;

use crate::model::{Colour, RegionCode, ResidentId};
use crate::trust::StatusService;

pub use dev_trust::DevServices;
pub use issue::{IssueInput, Issued};
pub use lists::ListFault;
pub use store::{NewCode, PersonRecord, Store, StoreError};

/// Most TLS connections one service serves at once.
const MAX_CONNECTIONS: usize = 4096;
/// A client that has not finished its TLS handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the service looks for records written by another process.
const RESCAN_EVERY: Duration = Duration::from_millis(250);

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("dev PKI: {0}")]
    Pki(String),
    #[error("TLS configuration: {0}")]
    Tls(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("region {region} has no status word for {colour:?}")]
    NoLabel { region: RegionCode, colour: Colour },
    #[error("cannot issue a {region} code: {detail}")]
    Issue { region: RegionCode, detail: String },
    #[error("region {0} has no reference service")]
    UnknownRegion(RegionCode),
    #[error("the service task failed: {0}")]
    Task(String),
}

/// Faults a test can inject.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Added before every answer: it leaves no earlier than this after its request reached its
    /// handler, held on a precise clock (see `delay_line`) so it is not much later either.
    pub latency: Duration,
    /// Fraction (0..=1) of requests answered 503.
    pub error_rate: f64,
    /// Answer 200 with a body that is not JSON.
    pub garbage_bodies: bool,
    /// Present a certificate from the region's CA naming another SPIFFE id.
    pub wrong_identity: bool,
    /// Publish a status list a node must refuse instead of the good one.
    pub status_lists: Option<ListFault>,
    /// Answer lookups with the region's word for another colour than the person's (the
    /// reverse-testing prober must catch it): see [`issue::wrong_label`].
    pub wrong_label: bool,
}

/// How to run one region's reference service.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub region: RegionCode,
    /// A dev PKI directory (`huren certs init --out DIR`).
    pub pki: PathBuf,
    /// Loopback address; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Answer only callers whose client certificate chains to the national root and names a
    /// huren gateway (`…/role/gateway/…`): resident lookups then reach no one else.
    pub require_gateway: bool,
    /// Where per-person records live; `None` keeps them in memory.
    pub data: Option<PathBuf>,
    pub faults: Faults,
}

impl ServiceConfig {
    /// A service for `region` on 127.0.0.1 with a free port, records in memory, no faults.
    pub fn loopback(region: RegionCode, pki: impl Into<PathBuf>) -> Self {
        Self {
            region,
            pki: pki.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            require_gateway: false,
            data: None,
            faults: Faults::default(),
        }
    }
}

/// A running service. Dropping it stops the service.
pub struct ServiceHandle {
    pub addr: SocketAddr,
    pub region: RegionCode,
    pki: PathBuf,
    state: http::AppState,
    shutdown: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// Starts the service and returns once it is listening.
pub async fn spawn(config: ServiceConfig) -> Result<ServiceHandle, ServiceError> {
    if crate::vocabulary::vocabulary(config.region.as_str()).is_none() {
        return Err(ServiceError::UnknownRegion(config.region));
    }
    let (region, gate) = (config.region.as_str(), config.require_gateway);
    let right = tls::server_config(&config.pki, region, false, gate)?;
    let gateway_domain = match gate {
        true => Some(tls::trust_domain(&config.pki)?),
        false => None,
    };
    // Minted up front so `set_faults` can switch identity while the service runs; a PKI without
    // the region CA's key cannot mint it, which matters only when the fault is asked for.
    let wrong = match tls::server_config(&config.pki, region, true, gate) {
        Ok(wrong) => Some(wrong),
        Err(e) if config.faults.wrong_identity => return Err(e),
        Err(e) => {
            tracing::debug!(error = %e, "no wrong-identity certificate for fault injection");
            None
        }
    };
    let data = config.data.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(data.as_deref()))
        .await
        .map_err(|e| ServiceError::Task(e.to_string()))??;
    let publishes_lists =
        crate::regions::signed_format(config.region).is_some_and(|f| f.status_prefix.is_some());
    let signer = if issue::revokes_on_change(config.region) || publishes_lists {
        let signer = crate::codec::IssuerSigner::from_pki(&config.pki, config.region.as_str())
            .map_err(|e| ServiceError::Pki(e.to_string()))?;
        Some(Arc::new(signer))
    } else {
        None
    };
    let lists = match (&signer, publishes_lists) {
        (Some(signer), true) => Some(Arc::new(lists::Publisher::new(
            config.region,
            signer.clone(),
            OffsetDateTime::now_utc(),
        ))),
        _ => None,
    };
    let listener = listen(config.listen)?;
    let addr = listener
        .local_addr()
        .map_err(|source| ServiceError::Listen {
            addr: config.listen,
            source,
        })?;
    let state = http::AppState {
        region: config.region,
        store: Arc::new(store),
        faults: Arc::new(Mutex::new(config.faults.clone())),
        stats: Arc::new(http::Stats::default()),
        signer,
        lists,
        appeals: Arc::new(appeals::Queue::default()),
        delay: Arc::default(),
    };
    let (shutdown, shutdown_rx) = watch::channel(false);
    let task = tokio::spawn(serve(
        listener,
        state.clone(),
        (right, wrong),
        gateway_domain,
        shutdown_rx,
        config.data.is_some(),
    ));
    tracing::info!(region = %config.region, %addr, "reference status service listening");
    Ok(ServiceHandle {
        addr,
        region: config.region,
        pki: config.pki,
        state,
        shutdown,
        task: Some(task),
    })
}

/// A loopback listener with a deep accept backlog (tokio's default of 128 overflows under a
/// burst of new connections and stalls them for a second).
fn listen(addr: SocketAddr) -> Result<tokio::net::TcpListener, ServiceError> {
    let fail = |source| ServiceError::Listen { addr, source };
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()
    } else {
        tokio::net::TcpSocket::new_v6()
    }
    .map_err(fail)?;
    socket.set_reuseaddr(true).map_err(fail)?;
    socket.bind(addr).map_err(fail)?;
    socket.listen(1024).map_err(fail)
}

async fn serve(
    listener: tokio::net::TcpListener,
    state: http::AppState,
    (right, wrong): (Arc<rustls::ServerConfig>, Option<Arc<rustls::ServerConfig>>),
    gateway_domain: Option<String>,
    mut shutdown: watch::Receiver<bool>,
    rescan: bool,
) {
    if rescan {
        tokio::spawn(rescan_loop(state.store.clone(), shutdown.clone()));
    }
    let router = http::router(state.clone());
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    // Runs until shutdown; each pass accepts one connection.
    loop {
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => accepted,
        };
        let Ok((tcp, _peer)) = accepted else {
            // Out of file descriptors or similar: pause rather than spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            continue; // over the connection limit: drop it
        };
        let _ = tcp.set_nodelay(true);
        let wrong_identity = state
            .faults
            .lock()
            .map(|f| f.wrong_identity)
            .unwrap_or(false);
        let acceptor = tokio_rustls::TlsAcceptor::from(match (&wrong, wrong_identity) {
            (Some(wrong), true) => wrong.clone(),
            _ => right.clone(),
        });
        let service = TowerToHyperService::new(router.clone());
        let mut stop = shutdown.clone();
        let gateway_domain = gateway_domain.clone();
        let stats = state.stats.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let conn = async {
                let Ok(Ok(tls)) =
                    tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
                else {
                    return;
                };
                if let Some(domain) = &gateway_domain {
                    let peer = tls.get_ref().1.peer_certificates().and_then(|c| c.first());
                    if !peer.is_some_and(|cert| tls::is_gateway(cert, domain)) {
                        tracing::debug!("refused a caller that is not a huren gateway");
                        return;
                    }
                }
                stats.connections.fetch_add(1, Ordering::Relaxed);
                let mut builder =
                    hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                // A gateway multiplexes its lookups for the region over a few connections.
                builder.http2().max_concurrent_streams(1024);
                let _ = builder.serve_connection(TokioIo::new(tls), service).await;
            };
            tokio::select! {
                _ = stop.changed() => {}
                _ = conn => {}
            }
        });
    }
}

async fn rescan_loop(store: Arc<Store>, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(RESCAN_EVERY);
    // Runs until shutdown.
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            _ = tick.tick() => {}
        }
        let store = store.clone();
        match tokio::task::spawn_blocking(move || store.rescan()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "rescanning records failed"),
            Err(e) => tracing::warn!(error = %e, "rescan task failed"),
        }
    }
}

impl ServiceHandle {
    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The registry entry for this service: URL, SPIFFE id and region CA from the PKI.
    pub fn status_service(&self) -> Result<StatusService, ServiceError> {
        status_service(&self.pki, self.region, &self.url())
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.state.store
    }

    /// Issues a code to a resident (see [`issue::issue`]).
    pub async fn issue(&self, input: IssueInput) -> Result<Issued, ServiceError> {
        let (store, pki, region) = (self.state.store.clone(), self.pki.clone(), self.region);
        tokio::task::spawn_blocking(move || {
            issue::issue(region, &store, &pki, &input, OffsetDateTime::now_utc())
        })
        .await
        .map_err(|e| ServiceError::Task(e.to_string()))?
    }

    /// Changes a resident's status; followers of the change feed see it.
    pub async fn set_status(
        &self,
        id: &ResidentId,
        colour: Colour,
    ) -> Result<PersonRecord, ServiceError> {
        let (store, id, region) = (self.state.store.clone(), id.clone(), self.region);
        tokio::task::spawn_blocking(move || {
            issue::set_status(region, &store, &id, colour, OffsetDateTime::now_utc())
        })
        .await
        .map_err(|e| ServiceError::Task(e.to_string()))?
    }

    /// Replaces the injected faults; a new identity applies to new connections.
    pub fn set_faults(&self, faults: Faults) {
        if let Ok(mut f) = self.state.faults.lock() {
            *f = faults;
        }
    }

    /// Lookup requests received, faulty answers included.
    pub fn lookups_received(&self) -> u64 {
        self.state.stats.lookups.load(Ordering::Relaxed)
    }

    /// TLS connections served so far (handshake done and, where required, the caller a
    /// gateway).
    pub fn connections_served(&self) -> u64 {
        self.state.stats.connections.load(Ordering::Relaxed)
    }

    /// How long the lookups answered since the last call took from arrival to answer (the
    /// added latency included), and a fresh count; `None` when none was answered.
    pub fn take_lookup_times(&self) -> Option<delay::AddedSummary> {
        self.state.stats.lookup_times.take()
    }

    /// Stops accepting, closes open connections and waits for the accept loop to end.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ServiceHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

/// The registry's view of a region's reference service at `url`, from the dev PKI.
pub fn status_service(
    pki: &std::path::Path,
    region: RegionCode,
    url: &str,
) -> Result<StatusService, ServiceError> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let manifest =
        huren_certs::Manifest::load(pki).map_err(|e| ServiceError::Pki(e.to_string()))?;
    let entry = manifest
        .region(region.as_str())
        .map_err(|e| ServiceError::Pki(e.to_string()))?;
    let ca = CertificateDer::from_pem_file(pki.join(&entry.ca))
        .map_err(|e| ServiceError::Pki(format!("{}: {e}", entry.ca.display())))?;
    Ok(StatusService {
        url: url.to_string(),
        spiffe_id: entry.service.spiffe_id.clone(),
        ca_der: ca.to_vec(),
    })
}
