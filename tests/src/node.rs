//! A full node for end-to-end tests: a dev PKI, the seven reference regional services on
//! 127.0.0.1:0, a dev registry that points the online regions at them, and a gateway serving the
//! real services built by `huren::node`.
//!
//! ```ignore
//! let node = TestNode::start().await;
//! let code = node.issue(RegionCode::SICHUAN, &resident_id("510104", 1), "张三", Colour::Green).await;
//! let mut client = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use huren::node::{Node, NodeConfig};
use huren_adapters::sim::{IssueInput, Issued, ServiceConfig, ServiceHandle};
use huren_adapters::{Colour, RegionCode, ResidentId};
use huren_registry::dev::{DevOptions, DevRegistry, ONLINE_REGIONS};
use tonic::transport::Channel;

use crate::{Pki, TestGateway};

/// The seven reference regions, in the order the services are started.
pub const REGIONS: [RegionCode; 7] = [
    RegionCode::ZHEJIANG,
    RegionCode::GUANGDONG,
    RegionCode::SICHUAN,
    RegionCode::HUNAN,
    RegionCode::HENAN,
    RegionCode::HUBEI,
    RegionCode::NATIONAL,
];

/// A valid 18-character resident ID: `prefix` (six digits), a 1990 birth date, serial `n`.
pub fn resident_id(prefix: &str, n: u32) -> String {
    let body = format!("{prefix}19900101{:03}", n % 1000);
    ResidentId::from_first17(&body)
        .expect("a six-digit prefix makes 17 digits")
        .expose()
        .to_string()
}

/// A payload's bytes with another payload's signature: a real forgery, not a parse error.
pub fn swap_signature(body_of: &str, signature_of: &str) -> String {
    let (body, _) = body_of.rsplit_once('.').expect("signed payload");
    let (_, sig) = signature_of.rsplit_once('.').expect("signed payload");
    format!("{body}.{sig}")
}

/// A payload whose body runs a day longer, under the payload's own (genuine) signature: a
/// forgery that carries exactly the signature its genuine code carries.
pub fn extend_keeping_signature(payload: &str) -> String {
    let format = REGIONS
        .into_iter()
        .filter_map(huren_adapters::signed_format)
        .find(|f| payload.starts_with(f.prefix))
        .expect("a v1 code of a signed format");
    let rest = &payload[format.prefix.len()..];
    let (body, signature) = rest.split_once(format.separator).expect("signed payload");
    let body = format.armor.decode(body).expect("armored body");
    let body = String::from_utf8(body).expect("UTF-8 body");
    let at = format
        .layout
        .iter()
        .position(|f| *f == huren_adapters::codec::Field::ValidUntil)
        .expect("a valid-until field");
    let mut fields: Vec<String> = body.split('|').map(str::to_string).collect();
    let until: i64 = fields[at].parse().expect("Unix seconds");
    fields[at] = (until + 86_400).to_string();
    let body = format.armor.encode(fields.join("|").as_bytes());
    format!("{}{body}{}{signature}", format.prefix, format.separator)
}

/// The seven reference regional services on 127.0.0.1:0, from the PKI in `pki`.
pub async fn spawn_services(pki: &Pki) -> BTreeMap<RegionCode, ServiceHandle> {
    let mut services = BTreeMap::new();
    for region in REGIONS {
        let handle = huren_adapters::sim::spawn(ServiceConfig::loopback(region, pki.path()))
            .await
            .expect("reference service starts");
        services.insert(region, handle);
    }
    services
}

/// Issues a code to resident `id` at `service`.
pub async fn issue_at(service: &ServiceHandle, id: &str, name: &str, colour: Colour) -> Issued {
    let id = ResidentId::parse(id).expect("valid resident ID");
    service
        .issue(IssueInput::new(id, name, colour))
        .await
        .expect("code issued")
}

/// Every record in the audit log in `dir`, in order; the chain must be intact.
pub fn audit_records_in(dir: &Path) -> Vec<huren_audit::Record> {
    let mut out = Vec::new();
    let report = huren_audit::walk(dir, |r, _| out.push(r.clone())).expect("audit log readable");
    assert!(report.is_ok(), "audit chain intact: {report}");
    out
}

/// How to build the node under test.
pub struct NodeOptions {
    /// Changes the node config before assembly (audit policy, deadline...).
    pub configure: Box<dyn FnOnce(&mut NodeConfig) + Send>,
    /// Regions whose reference service the registry lists (default: the online ones; add
    /// 440000 for Guangdong's revocation lists).
    pub listed_services: Vec<RegionCode>,
    /// Changes the gateway's config (its `[limits]`...) before it starts.
    pub gateway: Box<dyn FnOnce(&mut huren::config::Config) + Send>,
}

impl Default for NodeOptions {
    fn default() -> Self {
        Self {
            configure: Box::new(|_| {}),
            listed_services: ONLINE_REGIONS
                .iter()
                .filter_map(|c| RegionCode::parse(c).ok())
                .collect(),
            gateway: Box::new(|_| {}),
        }
    }
}

/// Everything a node needs, running in this process.
pub struct TestNode {
    pub gateway: TestGateway,
    pub node: Node,
    pub services: BTreeMap<RegionCode, ServiceHandle>,
    /// The registry's signing keys, to publish changes during a test.
    pub dev: DevRegistry,
    dir: tempfile::TempDir,
}

impl TestNode {
    pub async fn start() -> Self {
        Self::start_with(NodeOptions::default()).await
    }

    pub async fn start_with(options: NodeOptions) -> Self {
        let pki = Pki::new();
        let dir = tempfile::tempdir().expect("temp dir");
        let services = spawn_services(&pki).await;
        let status_urls = options
            .listed_services
            .iter()
            .filter_map(|region| Some((region.to_string(), services.get(region)?.url())))
            .collect();
        let options_dev = DevOptions {
            status_urls,
            ..DevOptions::default()
        };
        let registry_dir = dir.path().join("registry");
        let dev = DevRegistry::init(
            pki.path(),
            &registry_dir,
            &options_dev,
            false,
            time::OffsetDateTime::now_utc(),
        )
        .expect("dev registry");
        let mut config = NodeConfig::new(&registry_dir, dir.path().join("state"));
        config.registry_poll = Some(Duration::from_millis(100));
        (options.configure)(&mut config);
        let node = Node::assemble(config).await.expect("node assembles");
        let services_for_gateway = node.services();
        let gateway = TestGateway::start_with_config(pki, options.gateway, |b| {
            b.services(services_for_gateway)
        })
        .await;
        Self {
            gateway,
            node,
            services,
            dev,
            dir,
        }
    }

    pub fn pki(&self) -> &Pki {
        &self.gateway.pki
    }

    pub fn registry_dir(&self) -> PathBuf {
        self.dir.path().join("registry")
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    pub fn audit_dir(&self) -> PathBuf {
        self.state_dir().join(huren::node::AUDIT_DIR)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn service(&self, region: RegionCode) -> &ServiceHandle {
        self.services.get(&region).expect("a service per region")
    }

    /// Issues a code to a resident of `region` at its reference service.
    /// Eight green Ed25519 codes of three regions (Guangdong, Hubei, national), for batches and
    /// concurrent calls with a forgery among them.
    pub async fn ed25519_codes(&self) -> Vec<String> {
        let mut good = Vec::new();
        for n in 1..=8u32 {
            let (region, prefix) = [
                (RegionCode::GUANGDONG, "440106"),
                (RegionCode::HUBEI, "420106"),
                (RegionCode::NATIONAL, "110105"),
            ][n as usize % 3];
            let code = self
                .issue(region, &resident_id(prefix, n), "张三", Colour::Green)
                .await;
            good.push(code.payload);
        }
        good
    }

    pub async fn issue(&self, region: RegionCode, id: &str, name: &str, colour: Colour) -> Issued {
        issue_at(self.service(region), id, name, colour).await
    }

    /// Changes a resident's status at their region's service (change feeds see it).
    pub async fn set_status(&self, region: RegionCode, id: &str, colour: Colour) {
        let id = ResidentId::parse(id).expect("valid resident ID");
        self.service(region)
            .set_status(&id, colour)
            .await
            .expect("status changed");
    }

    pub async fn channel_as(&self, role: &str, region: Option<&str>) -> Channel {
        self.gateway.channel_as(role, region).await
    }

    /// Every record in the node's audit log, in order.
    pub fn audit_records(&self) -> Vec<huren_audit::Record> {
        audit_records_in(&self.audit_dir())
    }
}
