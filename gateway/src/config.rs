//! `huren.toml`: what a gateway listens on, which PKI it uses, and its limits; every field has a
//! default so that an empty file (or none) is the embedded dev setup.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::tls::{TlsError, TlsFiles};

mod bounds;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:7443";
pub const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:9464";
/// Where the node keeps its audit log and subject key when nothing else is configured.
pub const DEFAULT_STATE: &str = ".huren/state";
/// The SPIFFE trust domain client identities must be in when `tls.trust_domain` is unset (the
/// one `huren certs init` uses).
pub const DEFAULT_TRUST_DOMAIN: &str = "huren.dev";

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// gRPC over mTLS.
    pub listen: SocketAddr,
    /// Admin HTTP (/metrics, /healthz, /readyz); keep it on loopback. Absent: no admin listener.
    pub admin_listen: Option<SocketAddr>,
    pub tls: TlsConfig,
    pub limits: Limits,
    pub shutdown: Shutdown,
    pub node: NodeSettings,
    pub federation: FederationSettings,
    pub lookup: LookupSettings,
}

/// How the node reads regional services (`[lookup]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LookupSettings {
    /// Regional answers kept in the short-TTL status cache, across all regions; 0 turns the
    /// cache off, so every online read asks the region (a benchmark of the read itself, or a
    /// region that wants every read to reach it).
    pub status_cache_capacity: usize,
    /// HTTP/2 connections kept to each regional service, requests taking them in turn: one
    /// connection puts every frame of a region's calls through one task on each side.
    pub connections_per_region: usize,
}

impl Default for LookupSettings {
    fn default() -> Self {
        Self {
            status_cache_capacity: huren_adapters::net::DEFAULT_CACHE_CAPACITY,
            connections_per_region: huren_adapters::net::DEFAULT_CONNECTIONS_PER_REGION,
        }
    }
}

/// How the registry reaches this node from its peers (`[federation]`; see `huren::follow`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FederationSettings {
    /// Node ids to follow the registry from, tried in order (e.g. `["national", "zhejiang"]`).
    /// Empty: the registry directory alone.
    pub follow: Vec<String>,
    /// How often to ask the followed nodes when no WatchRegistry push arrives, milliseconds.
    pub follow_poll_ms: u64,
    /// This node publishes its registry directory: it gathers the listed witnesses'
    /// cosignatures on each new version before acting on it.
    pub publisher: bool,
}

impl Default for FederationSettings {
    fn default() -> Self {
        Self {
            follow: Vec::new(),
            follow_poll_ms: 5_000,
            publisher: false,
        }
    }
}

/// The recognition node: registry, state, receipt key, audit policy (see `huren::node`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeSettings {
    /// Registry directory (`huren registry init`); default `.huren/registry`, created from the
    /// dev PKI when the dev PKI is in use and it is missing.
    pub registry: Option<PathBuf>,
    /// Audit log and subject key; default `.huren/state`.
    pub state: Option<PathBuf>,
    /// This node's id in the registry's root; default the dev registry's `gateway-1`.
    pub node_id: Option<String>,
    /// PKCS#8 PEM receipt key; default `REGISTRY/keys/receipt.pem` (dev registry only).
    pub receipt_key: Option<PathBuf>,
    /// PKCS#8 PEM audit-checkpoint key (Ed25519); default `REGISTRY/keys/audit.pem` (dev
    /// registry only). Must be the key the registry lists for the node.
    pub audit_key: Option<PathBuf>,
    /// PKCS#8 PEM witness key (Ed25519), the one the registry lists for the node: it cosigns
    /// registry checkpoints with it. Absent: the node is no witness.
    pub witness_key: Option<PathBuf>,
    /// Audit sync policy: `every` (default), `interval(MS)` or `unsynced` (see huren-audit).
    pub audit_sync: String,
    /// Deadline of a call whose client sets none, milliseconds.
    pub default_deadline_ms: u64,
    /// How often the registry directory is checked for a newly published state, milliseconds.
    pub registry_poll_ms: u64,
    /// How often the status lists (and Guangdong's revocation list) are fetched again, from the
    /// region's service or the node carrying them; milliseconds, at least 100.
    pub status_lists_refresh_ms: u64,
}

impl Default for NodeSettings {
    fn default() -> Self {
        Self {
            registry: None,
            state: None,
            node_id: None,
            receipt_key: None,
            audit_key: None,
            witness_key: None,
            audit_sync: "every".to_string(),
            default_deadline_ms: 2_000,
            registry_poll_ms: 1_000,
            status_lists_refresh_ms: 30_000,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 7443)),
            admin_listen: Some(SocketAddr::from(([127, 0, 0, 1], 9464))),
            tls: TlsConfig::default(),
            limits: Limits::default(),
            shutdown: Shutdown::default(),
            node: NodeSettings::default(),
            federation: FederationSettings::default(),
            lookup: LookupSettings::default(),
        }
    }
}

/// Either a PKI directory made by `huren certs init`, or explicit files (which win over it).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// A PKI directory; the `huren` tool resolves it into the fields below before the gateway
    /// starts. The library itself serves only from explicit files.
    pub pki: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub client_roots: Option<PathBuf>,
    pub trust_domain: Option<String>,
    /// TLS 1.3 only unless set.
    pub allow_tls12: bool,
    /// Province code → PEM of the only CA that may issue identities in that province. Filled from
    /// the PKI manifest when `pki` is set; without either, any CA under the root may name any region.
    pub region_cas: std::collections::BTreeMap<String, PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest request or response message, bytes.
    pub max_message_bytes: usize,
    /// HTTP/2 streams one connection may have open at once.
    pub max_concurrent_streams: u32,
    /// Calls in progress across the node before new ones get RESOURCE_EXHAUSTED.
    pub max_in_flight: usize,
    /// How far behind the node may fall (how long a task now waits for a CPU) before new calls
    /// get RESOURCE_EXHAUSTED at once; a call whose deadline is shorter than that wait gets
    /// DEADLINE_EXCEEDED without being run.
    pub max_queue_ms: u64,
    /// How long a call that finds `max_in_flight` calls in progress may wait for one of them to
    /// finish before it gets RESOURCE_EXHAUSTED (less when its deadline is near); 0 refuses at
    /// once. As many calls may wait as may be in progress; past that they are refused at once.
    pub admission_wait_ms: u64,
    /// No call runs longer than this, whatever its grpc-timeout says.
    pub request_timeout_cap_ms: u64,
    pub handshake_timeout_ms: u64,
    /// TLS handshakes in progress at once; more connections wait in the listen backlog.
    pub max_handshakes: usize,
    pub http2_keepalive_interval_secs: u64,
    pub http2_keepalive_timeout_secs: u64,
    pub tcp_keepalive_secs: u64,
    pub listen_backlog: i32,
    pub max_header_list_bytes: u32,
    /// Lookups by ID card (LookupPerson) one caller (SPIFFE id) may make a minute: the refill
    /// rate of its token bucket. 60 fits a checkpoint: one person a second, all day.
    pub lookups_per_minute: u32,
    /// How many lookups a caller may make at once before the rate applies (a queue at a
    /// station gate); a minute's worth when unset.
    pub lookup_burst: Option<u32>,
    /// Appeals (FileAppeal) one caller (SPIFFE id) may file an hour: the refill rate of its
    /// token bucket. 60 is one a minute all day, far above a checkpoint's honest need, and bounds
    /// a caller filing in a loop.
    pub appeals_per_hour: u32,
    /// How many appeals a caller may file at once before the rate applies.
    pub appeal_burst: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 4 * 1024 * 1024,
            max_concurrent_streams: 256,
            // Measured (`huren bench overload`, BENCHMARKS.md). Counted from each call's
            // arrival (since 2026-12-02), a cap is calls queued plus calls running: about
            // 130 ms of work at this 2-core machine's ~15,000 VerifyCode a second. At three
            // times capacity 2,048 served 0.90× of capacity (median of 3 alternated quiet runs;
            // 0.89× over 11 runs that day) against 0.80× at 512, refusing in 24–39 ms (p50) with
            // the node's memory 40–50 MiB over idle. Before, when the permit was taken only at
            // a call's first poll, 10,000 let every call in and ran them all late (goodput under
            // 0.2×) and 1,024 did worse than 512. Size it as capacity × the queueing you accept.
            // Calls hold a permit only until their answer starts, so streams do not use one up.
            max_in_flight: 2048,
            max_queue_ms: 250,
            // Refuse at once. Measured (`huren bench overload`, BENCHMARKS.md): at three times
            // capacity a 5 ms wait served 0.77× of capacity against 0.84× without one (same
            // binary, runs alternated), 20 ms 0.82×; the wait is there for a node whose load
            // comes in bursts shorter than a call.
            admission_wait_ms: 0,
            request_timeout_cap_ms: 30_000,
            handshake_timeout_ms: 10_000,
            max_handshakes: 1024,
            http2_keepalive_interval_secs: 30,
            http2_keepalive_timeout_secs: 10,
            tcp_keepalive_secs: 60,
            listen_backlog: 4096,
            max_header_list_bytes: 16 * 1024,
            lookups_per_minute: 60,
            lookup_burst: None,
            appeals_per_hour: 60,
            appeal_burst: 10,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Shutdown {
    /// How long NOT_SERVING is advertised before connections are asked to drain, so load
    /// balancers stop sending new calls first.
    pub not_serving_grace_ms: u64,
    /// How long calls in flight may take to finish before the rest are cut.
    pub drain_timeout_ms: u64,
}

impl Default for Shutdown {
    fn default() -> Self {
        Self {
            not_serving_grace_ms: 1_000,
            drain_timeout_ms: 10_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid huren config: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error(
        "tls.{0} is set but not all of tls.cert, tls.key and tls.client_roots are: set all three, or tls.pki"
    )]
    PartialTls(&'static str),
    #[error("no TLS material: set tls.cert, tls.key and tls.client_roots, or tls.pki")]
    NoTls,
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error("{path}: {source}")]
    Invalid {
        path: PathBuf,
        source: Box<ConfigError>,
    },
    #[error("{key} = {value} is refused: it must be in {range} ({why})")]
    Limit {
        key: &'static str,
        value: String,
        range: String,
        why: &'static str,
    },
    #[error("tls.trust_domain: {0}")]
    TrustDomain(String),
}

impl Config {
    /// Reads a `huren.toml`; relative PKI paths are taken relative to the file's directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config: Config = toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [
            &mut config.tls.pki,
            &mut config.tls.cert,
            &mut config.tls.key,
            &mut config.tls.client_roots,
            &mut config.node.registry,
            &mut config.node.state,
            &mut config.node.receipt_key,
            &mut config.node.audit_key,
            &mut config.node.witness_key,
        ]
        .into_iter()
        .flatten()
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        config.check().map_err(|e| match e {
            // Named with the file, so the operator knows which one to edit.
            ConfigError::Limit { .. } | ConfigError::TrustDomain(_) => ConfigError::Invalid {
                path: path.to_path_buf(),
                source: Box::new(e),
            },
            other => other,
        })?;
        Ok(config)
    }

    /// Whether no TLS material is configured at all (then the dev PKI is used).
    pub fn uses_dev_pki(&self) -> bool {
        let t = &self.tls;
        t.pki.is_none() && t.cert.is_none() && t.key.is_none() && t.client_roots.is_none()
    }

    /// The TLS files to serve with: `tls.cert`, `tls.key` and `tls.client_roots` must all be set
    /// (the `huren` tool fills them from `tls.pki`).
    pub fn tls_files(&self) -> Result<TlsFiles, ConfigError> {
        let t = &self.tls;
        let (cert, key, client_roots) = match (&t.cert, &t.key, &t.client_roots) {
            (Some(cert), Some(key), Some(roots)) => (cert.clone(), key.clone(), roots.clone()),
            (Some(_), ..) => return Err(ConfigError::PartialTls("cert")),
            (None, Some(_), _) => return Err(ConfigError::PartialTls("key")),
            (None, None, Some(_)) => return Err(ConfigError::PartialTls("client_roots")),
            (None, None, None) => return Err(ConfigError::NoTls),
        };
        Ok(TlsFiles {
            cert,
            key,
            client_roots,
            trust_domain: t
                .trust_domain
                .clone()
                .unwrap_or_else(|| DEFAULT_TRUST_DOMAIN.to_string()),
            allow_tls12: t.allow_tls12,
            region_cas: t
                .region_cas
                .iter()
                .map(|(region, ca)| (region.clone(), ca.clone()))
                .collect(),
        })
    }
}

impl Limits {
    pub fn max_queue(&self) -> Duration {
        Duration::from_millis(self.max_queue_ms)
    }

    pub fn admission_wait(&self) -> Duration {
        Duration::from_millis(self.admission_wait_ms)
    }

    pub fn request_timeout_cap(&self) -> Duration {
        Duration::from_millis(self.request_timeout_cap_ms)
    }

    /// The per-caller rate of appeals filed, as the appeals service's buckets take it.
    pub fn appeal_rate(&self) -> crate::lookup::Rate {
        crate::lookup::Rate::per_hour(self.appeals_per_hour, self.appeal_burst)
    }

    /// The per-caller rate of lookups by ID card, as the lookup service's buckets take it.
    pub fn lookup_rate(&self) -> crate::lookup::Rate {
        crate::lookup::Rate::per_minute(
            self.lookups_per_minute,
            self.lookup_burst.unwrap_or(self.lookups_per_minute),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_is_the_dev_default_and_typos_are_refused() {
        let config: Config = toml::from_str("").unwrap();
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert!(config.uses_dev_pki());
        assert!(toml::from_str::<Config>("listn = \"127.0.0.1:1\"").is_err());
        let partial: Config = toml::from_str("[tls]\ncert = \"a.pem\"").unwrap();
        assert!(matches!(
            partial.tls_files(),
            Err(ConfigError::PartialTls("cert"))
        ));
    }

    #[test]
    fn paths_in_a_config_file_are_relative_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huren.toml");
        let text =
            "listen = \"127.0.0.1:8443\"\n[tls]\npki = \"pki\"\n[limits]\nmax_in_flight = 7\n";
        std::fs::write(&path, text).unwrap();
        let config = Config::load(&path).unwrap();
        assert_eq!(config.tls.pki, Some(dir.path().join("pki")));
        assert_eq!(config.listen.port(), 8443);
        assert_eq!(config.limits.max_in_flight, 7);
        // Unset fields keep their defaults.
        assert_eq!(config.limits.max_concurrent_streams, 256);
    }
}
