//! Test support: a dev PKI in a temp dir, an in-process gateway on 127.0.0.1:0, and mTLS
//! clients presenting any certificate, good or deliberately bad.
//!
//! ```ignore
//! let gw = TestGateway::start().await;                     // fresh PKI, default services
//! let channel = gw.channel_as("checkpoint", None).await;   // a dev client certificate
//! let mut client = RecognitionServiceClient::new(channel);
//! ```
//! To serve your own state: `TestGateway::start_with(Pki::new(), |b| b.services(my_services))`.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use huren::config::Config;
use huren::connect::{ClientTls, ConnectError};
use huren::tls::TlsFiles;
use huren::{Gateway, GatewayBuilder};
use huren_certs::{Ca, LeafSpec, Manifest};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::Channel;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

pub use huren::connect::connect;

pub mod fake_peer;
pub mod federation;
pub mod node;
pub mod probe;
pub mod python;

/// Installs rustls's ring provider once per process (tonic's client needs a default).
pub fn init() {
    huren::tls::install_crypto_provider();
}

/// A dev PKI made by `huren_certs::init` in a temp dir that lives as long as this value.
pub struct Pki {
    dir: tempfile::TempDir,
    pub manifest: Manifest,
}

impl Pki {
    pub fn new() -> Self {
        init();
        let dir = tempfile::tempdir().expect("temp dir");
        let manifest =
            huren_certs::init(dir.path(), &huren_certs::InitOptions::default()).expect("dev PKI");
        Self { dir, manifest }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A region's CA, to issue extra (or deliberately bad) leaves from.
    pub fn region_ca(&self, region: &str) -> Ca {
        let entry = self.manifest.region(region).expect("region in PKI");
        let cert = std::fs::read_to_string(self.path().join(&entry.ca)).expect("CA cert");
        let key = std::fs::read_to_string(self.path().join(&entry.ca_key)).expect("CA key");
        Ca::load(&cert, &key).expect("CA loads")
    }

    /// Client TLS with the first dev certificate of `role` (and `region`, if given).
    pub fn client(&self, role: &str, region: Option<&str>) -> ClientTls {
        let client = self
            .manifest
            .client(role, region)
            .expect("client certificate in PKI");
        self.anonymous()
            .with_identity(self.read(&client.cert), self.read(&client.key))
    }

    /// Trusts the gateway but presents no certificate.
    pub fn anonymous(&self) -> ClientTls {
        ClientTls::trusting(self.read(&self.manifest.root_ca))
    }

    /// The gateway's certificate, key and trust roots in this PKI, as the library takes them.
    pub fn tls_files(&self) -> TlsFiles {
        let at = |p: &Path| self.path().join(p);
        TlsFiles {
            cert: at(&self.manifest.gateway.cert),
            key: at(&self.manifest.gateway.key),
            client_roots: at(&self.manifest.root_ca),
            trust_domain: self.manifest.trust_domain.clone(),
            allow_tls12: false,
            region_cas: (self.manifest.regions.iter())
                .map(|r| (r.region.clone(), at(&r.ca)))
                .collect(),
        }
    }

    fn read(&self, file: &Path) -> String {
        std::fs::read_to_string(self.path().join(file)).expect("PKI file")
    }

    /// Trusts the gateway and presents a leaf issued by `ca` (chain: leaf + `ca`).
    pub fn client_from(&self, ca: &Ca, spec: &LeafSpec) -> ClientTls {
        let (cert, key) = ca.issue(spec).expect("leaf issued");
        self.anonymous()
            .with_identity(format!("{cert}{}", ca.cert_pem), key)
    }

    /// Trusts the gateway and presents a leaf issued by the CA of `province` (e.g. "330000").
    pub fn client_leaf(&self, province: &str, spec: &LeafSpec) -> ClientTls {
        self.client_from(&self.region_ca(province), spec)
    }

    /// A SPIFFE id in this PKI's trust domain.
    pub fn spiffe(&self, region: &str, role: &str, name: &str) -> String {
        huren_certs::spiffe_id(&self.manifest.trust_domain, region, role, name)
    }
}

impl Default for Pki {
    fn default() -> Self {
        Self::new()
    }
}

/// The config tests start from: ephemeral ports, loopback admin, no shutdown grace.
pub fn test_config(pki: &Pki) -> Config {
    let mut config = Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        admin_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        ..Config::default()
    };
    let files = pki.tls_files();
    config.tls.cert = Some(files.cert);
    config.tls.key = Some(files.key);
    config.tls.client_roots = Some(files.client_roots);
    config.tls.trust_domain = Some(files.trust_domain);
    config.tls.region_cas = files.region_cas.into_iter().collect();
    config.shutdown.not_serving_grace_ms = 0;
    config.shutdown.drain_timeout_ms = 5_000;
    config
}

/// An in-process gateway serving over real mTLS on 127.0.0.1.
pub struct TestGateway {
    gateway: Option<Gateway>,
    addr: SocketAddr,
    pub pki: Pki,
}

impl TestGateway {
    /// A fresh PKI and a gateway with the default services.
    pub async fn start() -> Self {
        Self::start_with(Pki::new(), |b| b).await
    }

    /// `customise` gets the builder made from [`test_config`]: add services, state, a policy.
    pub async fn start_with(
        pki: Pki,
        customise: impl FnOnce(GatewayBuilder) -> GatewayBuilder,
    ) -> Self {
        Self::start_with_config(pki, |_| {}, customise).await
    }

    /// Like [`TestGateway::start_with`], with a chance to change the config first (limits...).
    pub async fn start_with_config(
        pki: Pki,
        configure: impl FnOnce(&mut Config),
        customise: impl FnOnce(GatewayBuilder) -> GatewayBuilder,
    ) -> Self {
        let mut config = test_config(&pki);
        configure(&mut config);
        let builder = GatewayBuilder::from_config(config).expect("config");
        let gateway = customise(builder).start().await.expect("gateway starts");
        let addr = gateway.local_addr();
        Self {
            gateway: Some(gateway),
            addr,
            pki,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn gateway(&self) -> &Gateway {
        self.gateway.as_ref().expect("gateway running")
    }

    /// Connects with any client TLS settings; the error is the test's to inspect.
    pub async fn try_channel(&self, tls: &ClientTls) -> Result<Channel, ConnectError> {
        connect(self.addr, tls).await
    }

    /// Connects with a dev client certificate of `role`.
    pub async fn channel_as(&self, role: &str, region: Option<&str>) -> Channel {
        self.try_channel(&self.pki.client(role, region))
            .await
            .expect("connects with a dev certificate")
    }

    /// Starts graceful shutdown and waits for it to finish.
    pub async fn shutdown(&mut self) {
        if let Some(gateway) = self.gateway.take() {
            gateway.shutdown().await;
        }
    }

    /// GET a path on the admin listener; returns (status code, body).
    pub async fn admin_get(&self, path: &str) -> (u16, String) {
        let admin = self.gateway().admin_addr().expect("admin listener");
        http_get(admin, path).await
    }

    /// Polls `/readyz` until it answers `code` (up to 10 s); returns the body.
    pub async fn wait_readyz(&self, code: u16) -> String {
        let mut last = (0, String::new());
        for _ in 0..200 {
            last = self.admin_get("/readyz").await;
            if last.0 == code {
                return last.1;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("/readyz never answered {code}; last {last:?}");
    }

    /// The Prometheus text from /metrics.
    pub async fn metrics(&self) -> String {
        self.admin_get("/metrics").await.1
    }

    /// Waits (up to 3 s) until the counter with these labels exceeds `above`; returns its value.
    pub async fn wait_counter(&self, name: &str, labels: &[(&str, &str)], above: f64) -> f64 {
        let mut value = 0.0;
        for _ in 0..60 {
            value = counter(&self.metrics().await, name, labels);
            if value > above {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        value
    }
}

/// The value of a Prometheus sample `name{labels...}`; 0 when absent. Metrics are process-wide,
/// so tests compare before and after rather than absolute values.
pub fn counter(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// A minimal HTTP/1.1 GET (the admin listener is plain HTTP on loopback).
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("admin connects");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// The overall health status and Recognition's, as a balancer would ask.
pub async fn health(channel: &Channel) -> [ServingStatus; 2] {
    let mut client = HealthClient::new(channel.clone());
    let mut out = [ServingStatus::Unknown; 2];
    for (slot, service) in out.iter_mut().zip(["", "huren.v1.RecognitionService"]) {
        *slot = client
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .expect("health answers")
            .into_inner()
            .status();
    }
    out
}

/// The `ErrorInfo.reason` of a status, if it carries one.
pub fn reason(status: &tonic::Status) -> Option<String> {
    use tonic_types::StatusExt;
    status.get_details_error_info().map(|info| info.reason)
}
