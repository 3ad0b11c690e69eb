//! The rustls server configuration built from PEM files, held in a watch channel so that
//! certificates and trust roots can be swapped while the gateway runs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::watch;

pub use crate::region_ca::{RegionCaError, RegionCas};

/// Where the gateway's TLS material lives and how strict the handshake is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The gateway's certificate chain (leaf first), PEM.
    pub cert: PathBuf,
    /// Its private key, PEM (PKCS#8, SEC1 or PKCS#1).
    pub key: PathBuf,
    /// The CA certificates client chains must reach (the national root), PEM.
    pub client_roots: PathBuf,
    /// SPIFFE trust domain client identities must be in.
    pub trust_domain: String,
    /// Accept TLS 1.2 as well as 1.3.
    pub allow_tls12: bool,
    /// Province code → PEM of the CA that alone may issue identities in it (see [`RegionCas`]).
    pub region_cas: Vec<(String, PathBuf)>,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {detail}")]
    Pem { path: PathBuf, detail: String },
    #[error("{0} holds no certificate")]
    NoCertificate(PathBuf),
    #[error("the client trust roots in {path} are unusable: {detail}")]
    Roots { path: PathBuf, detail: String },
    #[error(transparent)]
    RegionCa(#[from] RegionCaError),
    #[error("the gateway certificate or key is unusable: {0}")]
    Config(#[from] rustls::Error),
}

impl TlsError {
    /// The `reason` label of a refused reload.
    pub fn reason(&self) -> &'static str {
        match self {
            TlsError::Pem { .. } => "unreadable",
            TlsError::NoCertificate(_) => "no_certificate",
            TlsError::Roots { .. } => "roots",
            TlsError::RegionCa(_) => "region_ca",
            TlsError::Config(_) => "key",
        }
    }
}

/// The current TLS settings: one immutable snapshot per accepted connection.
#[derive(Debug)]
pub struct TlsState {
    pub config: Arc<ServerConfig>,
    pub trust_domain: String,
    pub region_cas: RegionCas,
    pub files: TlsFiles,
    /// When the certificates in `files` expire, for the operator's gauges.
    pub expiry: crate::cert_expiry::CertExpiry,
}

/// The provider huren uses everywhere; installed process-wide at start-up for tonic's client.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Installs ring as rustls's process default; harmless when one is already installed.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Reads the files and builds a server config that demands a client certificate chained to the roots.
pub fn load(files: &TlsFiles) -> Result<TlsState, TlsError> {
    let pem_err = |path: &Path| {
        let path = path.to_path_buf();
        move |e: rustls_pki_types::pem::Error| TlsError::Pem {
            path: path.clone(),
            detail: e.to_string(),
        }
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(pem_err(&files.cert))?
        .collect::<Result<_, _>>()
        .map_err(pem_err(&files.cert))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(files.cert.clone()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(pem_err(&files.key))?;

    let mut roots = rustls::RootCertStore::empty();
    for cert in
        CertificateDer::pem_file_iter(&files.client_roots).map_err(pem_err(&files.client_roots))?
    {
        let cert = cert.map_err(pem_err(&files.client_roots))?;
        roots.add(cert).map_err(|e| TlsError::Roots {
            path: files.client_roots.clone(),
            detail: e.to_string(),
        })?;
    }
    let provider = provider();
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| TlsError::Roots {
            path: files.client_roots.clone(),
            detail: e.to_string(),
        })?;
    let versions: &[&rustls::SupportedProtocolVersion] = if files.allow_tls12 {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    } else {
        &[&rustls::version::TLS13]
    };
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)?;
    // gRPC is HTTP/2 only; advertising it lets grpcio and grpcurl negotiate it.
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(TlsState {
        config: Arc::new(config),
        trust_domain: files.trust_domain.clone(),
        region_cas: RegionCas::load(&files.region_cas)?,
        files: files.clone(),
        expiry: crate::cert_expiry::CertExpiry::of(files),
    })
}

/// Swaps the TLS settings of a running gateway. Connections already open keep the settings
/// they were accepted with; the next handshake uses the new ones.
#[derive(Debug, Clone)]
pub struct TlsReloader {
    tx: Arc<watch::Sender<Arc<TlsState>>>,
}

impl TlsReloader {
    pub fn new(initial: TlsState) -> (Self, watch::Receiver<Arc<TlsState>>) {
        let (tx, rx) = watch::channel(Arc::new(initial));
        let tx = Arc::new(tx);
        let held = Arc::downgrade(&tx);
        crate::metrics::on_scrape(move || {
            let Some(tx) = held.upgrade() else {
                return false;
            };
            tx.borrow().expiry.publish(time::OffsetDateTime::now_utc());
            true
        });
        (Self { tx }, rx)
    }

    /// Loads `files` and makes them current; on error the old settings stay in force.
    pub fn reload(&self, files: &TlsFiles) -> Result<(), TlsError> {
        let state = load(files).inspect_err(|e| {
            crate::metrics_catalog::tls_reload_failed(e.reason());
        })?;
        self.tx.send_replace(Arc::new(state));
        tracing::info!(cert = %files.cert.display(), roots = %files.client_roots.display(), "TLS settings reloaded");
        Ok(())
    }

    /// Reloads the files currently in force, e.g. after a certificate was renewed in place.
    pub fn reload_current(&self) -> Result<(), TlsError> {
        let files = self.tx.borrow().files.clone();
        self.reload(&files)
    }

    pub fn current(&self) -> Arc<TlsState> {
        self.tx.borrow().clone()
    }
}
