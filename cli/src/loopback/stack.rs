//! A whole huren system on loopback: a dev PKI and signed registry in a fresh directory, the
//! seven reference regional services, and a gateway over real mutual TLS, all on 127.0.0.1:0.
//! The demo and the benchmarks start from this; nothing outside the directory is touched.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use huren_adapters::RegionCode;
use huren_adapters::sim::{self, ServiceConfig, ServiceHandle};
use huren_registry::dev::{DevOptions, DevRegistry};
use time::OffsetDateTime;
use tonic::transport::Channel;

use huren::config::Config;
use huren::connect::{ClientTls, connect};
use huren::node::{Node, NodeConfig};
use huren::server::{Gateway, GatewayBuilder};

/// The seven reference regions, in the order reports list them.
pub const REGIONS: [RegionCode; 7] = [
    RegionCode::ZHEJIANG,
    RegionCode::GUANGDONG,
    RegionCode::SICHUAN,
    RegionCode::HUNAN,
    RegionCode::HENAN,
    RegionCode::HUBEI,
    RegionCode::NATIONAL,
];

/// What the registry uses a region's reference service for; `None`: nothing, its codes are
/// offline-signed and judged without asking it (the service still runs and issues codes).
pub fn role(region: RegionCode) -> Option<&'static str> {
    match region.as_str() {
        "330000" | "410000" => Some("status lookups (online codes)"),
        "510000" => Some("live checks (Zhejiang's agreement asks for them)"),
        "440000" => Some("signed revocation and status lists of withdrawn tokens"),
        "430000" | "420000" | "000000" => Some("signed status lists of withdrawn v2 codes"),
        _ => None,
    }
}

/// Where a stack keeps its files.
#[derive(Debug, Clone)]
pub struct Dirs {
    pub root: PathBuf,
    pub pki: PathBuf,
    pub registry: PathBuf,
    pub state: PathBuf,
}

impl Dirs {
    /// A fresh private directory under the system temp dir.
    pub fn fresh(label: &str) -> anyhow::Result<Self> {
        let root = std::env::temp_dir().join(format!(
            "huren-{label}-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&root)
            .with_context(|| format!("cannot create {}", root.display()))?;
        Ok(Self {
            pki: root.join("pki"),
            registry: root.join("registry"),
            state: root.join("state"),
            root,
        })
    }
}

/// Regional services and a signed registry, before the gateway starts: the registry may still
/// be edited (agreements, revocations) and saved.
pub struct Regions {
    pub dirs: Dirs,
    pub manifest: huren_certs::Manifest,
    pub services: BTreeMap<RegionCode, ServiceHandle>,
    pub dev: DevRegistry,
    /// How often the node fetches signed revocation and status lists (the node's default: 30 s).
    pub revocations_every: Option<std::time::Duration>,
}

impl Regions {
    /// Makes the PKI, starts the seven services and builds a dev registry that points at them.
    pub async fn start(dirs: Dirs) -> anyhow::Result<Self> {
        huren::tls::install_crypto_provider();
        let manifest = huren_certs::init(&dirs.pki, &huren_certs::InitOptions::default())
            .context("creating the dev PKI")?;
        let mut services = BTreeMap::new();
        let mut urls = BTreeMap::new();
        for region in REGIONS {
            let handle = sim::spawn(ServiceConfig::loopback(region, &dirs.pki))
                .await
                .with_context(|| format!("starting {region}'s reference service"))?;
            if role(region).is_some() {
                urls.insert(region.as_str().to_string(), handle.url());
            }
            services.insert(region, handle);
        }
        let options = DevOptions {
            status_urls: urls,
            ..DevOptions::default()
        };
        let dev = DevRegistry::build(&dirs.pki, &options, OffsetDateTime::now_utc())
            .context("building the dev registry")?;
        Ok(Self {
            dirs,
            manifest,
            services,
            dev,
            revocations_every: None,
        })
    }

    pub fn service(&self, region: RegionCode) -> anyhow::Result<&ServiceHandle> {
        self.services
            .get(&region)
            .with_context(|| format!("no reference service for {region}"))
    }

    /// Saves the registry and starts a gateway node that serves it.
    pub async fn start_gateway(self) -> anyhow::Result<Stack> {
        self.start_gateway_with(|_| {}).await
    }

    /// [`Regions::start_gateway`] with the gateway's config adjusted first (a benchmark's limits).
    pub async fn start_gateway_with(
        self,
        adjust: impl FnOnce(&mut Config),
    ) -> anyhow::Result<Stack> {
        self.dev
            .save(&self.dirs.registry)
            .context("saving the dev registry")?;
        std::fs::create_dir_all(&self.dirs.state)
            .with_context(|| format!("cannot create {}", self.dirs.state.display()))?;
        let mut config = Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            ..Config::default()
        };
        config.tls.pki = Some(self.dirs.pki.clone());
        crate::pki::resolve(&mut config.tls)?;
        config.shutdown.not_serving_grace_ms = 0;
        config.shutdown.drain_timeout_ms = 5_000;
        adjust(&mut config);
        let mut node_config = NodeConfig::new(&self.dirs.registry, &self.dirs.state);
        node_config.status_client.identity = crate::pki::gateway_identity(&config.tls);
        // The demo edits its registry before the gateway starts; nothing to poll for.
        node_config.registry_poll = None;
        if let Some(every) = self.revocations_every {
            node_config.revocations_every = every;
        }
        let node = Node::assemble(node_config)
            .await
            .context("assembling the gateway node")?;
        let gateway = GatewayBuilder::from_config(config)?
            .services(node.services())
            .start()
            .await
            .context("starting the gateway")?;
        Ok(Stack {
            regions: self,
            gateway: Some(gateway),
            node,
        })
    }
}

/// A running system: regions plus the gateway.
pub struct Stack {
    pub regions: Regions,
    gateway: Option<Gateway>,
    pub node: Node,
}

impl Stack {
    /// A fresh temp directory, the reference regions and a gateway over them: what a test or a
    /// tool that needs "a running system" starts with.
    pub async fn fresh(label: &str) -> anyhow::Result<Self> {
        Regions::start(Dirs::fresh(label)?)
            .await?
            .start_gateway()
            .await
    }

    pub fn addr(&self) -> anyhow::Result<SocketAddr> {
        self.gateway
            .as_ref()
            .map(Gateway::local_addr)
            .context("the gateway has stopped")
    }

    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.gateway.as_ref().and_then(Gateway::admin_addr)
    }

    pub fn pki(&self) -> &Path {
        &self.regions.dirs.pki
    }

    /// Client TLS with the PKI's certificate of `role` (in `region`, when given).
    pub fn tls(&self, role: &str, region: Option<&str>) -> anyhow::Result<ClientTls> {
        Ok(crate::pki::client_tls(self.pki(), role, region)?)
    }

    /// A new mutual-TLS connection as `role`.
    pub async fn channel(&self, role: &str, region: Option<&str>) -> anyhow::Result<Channel> {
        let tls = self.tls(role, region)?;
        Ok(connect(self.addr()?, &tls).await?)
    }

    /// Stops the gateway (NOT_SERVING, drain) and the regional services.
    pub async fn shutdown(mut self) {
        if let Some(gateway) = self.gateway.take() {
            gateway.shutdown().await;
        }
        for (_, service) in std::mem::take(&mut self.regions.services) {
            service.shutdown().await;
        }
    }
}
