//! Several nodes of one federation in this process, each replica a real gateway on 127.0.0.1
//! with its own certificate, receipt key, state and audit log; one PKI, the reference regional
//! services, and one registry that lists the nodes, their regions and their replicas.
//!
//! Minimal on purpose: `huren federation init` is the way a person builds a federation; this
//! only gives the federation tests theirs.
//!
//! ```ignore
//! let fed = Federation::start(&[NodeSpec::new("zhejiang", "330000", &["330000"], 1),
//!                               NodeSpec::new("west", "510000", &["510000", "410000"], 2)]).await;
//! let channel = fed.channel_as("zhejiang", 0, "checkpoint", Some("330110")).await;
//! ```

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

use huren::node::{Node, NodeConfig};
use huren::{Gateway, GatewayBuilder};
use huren_adapters::net::ClientIdentity;
use huren_adapters::sim::{Issued, ServiceHandle};
use huren_adapters::{Colour, RegionCode};
use huren_certs::LeafSpec;
use huren_registry::dev::{DevOptions, DevRegistry, ONLINE_REGIONS};
use huren_registry::doc::{Document, Node as ListedNode};
use huren_registry::{Algorithm, SigningKey};
use time::OffsetDateTime;
use tonic::transport::Channel;

use crate::node::{audit_records_in, issue_at, spawn_services};
use crate::{Pki, test_config};

/// Verifies `payload` on `channel` (a checkpoint's, under its own province) within `timeout`.
pub async fn verify(
    channel: &Channel,
    payload: &str,
    timeout: Duration,
) -> huren_proto::v1::Verification {
    let mut request = tonic::Request::new(huren_proto::v1::VerifyCodeRequest {
        payload: payload.to_string(),
        verifying_region: String::new(),
        purpose: "checkpoint-entry".into(),
    });
    request.set_timeout(timeout);
    huren_proto::v1::recognition_service_client::RecognitionServiceClient::new(channel.clone())
        .verify_code(request)
        .await
        .expect("verified")
        .into_inner()
        .verification
        .expect("a verification")
}

/// One node id: the province its certificate is issued in, the regions it serves, its replicas.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    pub id: String,
    pub province: String,
    pub regions: Vec<String>,
    pub replicas: usize,
}

impl NodeSpec {
    pub fn new(id: &str, province: &str, regions: &[&str], replicas: usize) -> Self {
        Self {
            id: id.to_string(),
            province: province.to_string(),
            regions: regions.iter().map(|r| r.to_string()).collect(),
            replicas,
        }
    }
}

/// One running replica.
pub struct Replica {
    pub gateway: Option<Gateway>,
    pub node: Node,
    pub addr: SocketAddr,
    pub state_dir: PathBuf,
}

/// A node's files: its gateway certificate chain and key (PEM), and its receipt key file.
pub struct NodeFiles {
    pub spiffe_id: String,
    pub cert_pem: String,
    pub key_pem: String,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub receipt_key: PathBuf,
}

pub struct Federation {
    pub pki: Pki,
    pub services: BTreeMap<RegionCode, ServiceHandle>,
    pub dev: DevRegistry,
    pub files: BTreeMap<String, NodeFiles>,
    pub replicas: BTreeMap<String, Vec<Replica>>,
    dir: tempfile::TempDir,
}

/// A port free on 127.0.0.1 now: the registry must name every replica's address before the
/// replicas start (each refuses to start unless the registry lists its node).
fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    listener.local_addr().expect("bound address")
}

/// How a test changes one node's gateway configuration: given the node id.
pub type Configure = dyn Fn(&str, &mut huren::config::Config);

impl Federation {
    pub async fn start(specs: &[NodeSpec]) -> Self {
        Self::start_configured(specs, &|_, _| {}).await
    }

    /// As [`Federation::start`], each replica's gateway configuration changed by `configure`
    /// (e.g. one node's limits).
    pub async fn start_configured(specs: &[NodeSpec], configure: &Configure) -> Self {
        let pki = Pki::new();
        let dir = tempfile::tempdir().expect("temp dir");
        let services = spawn_services(&pki).await;
        let status_urls = ONLINE_REGIONS
            .iter()
            .filter_map(|c| {
                let code = RegionCode::parse(c).ok()?;
                Some((c.to_string(), services.get(&code)?.url()))
            })
            .collect();
        let registry_dir = dir.path().join("registry");
        let now = OffsetDateTime::now_utc();
        let options = DevOptions {
            status_urls,
            ..DevOptions::default()
        };
        let mut dev = DevRegistry::init(pki.path(), &registry_dir, &options, false, now)
            .expect("dev registry");

        let mut files = BTreeMap::new();
        let mut addrs = BTreeMap::new();
        let mut root = dev.registry.root().clone();
        root.version += 1;
        root.nodes.clear();
        for spec in specs {
            let node_dir = dir.path().join("nodes").join(&spec.id);
            std::fs::create_dir_all(&node_dir).expect("node dir");
            let spiffe_id = pki.spiffe(&spec.province, "gateway", &spec.id);
            let ca = pki.region_ca(&spec.province);
            let mut leaf = LeafSpec::server(&format!("huren node {}", spec.id), &spiffe_id);
            leaf.client_auth = true;
            let (cert, key_pem) = ca.issue(&leaf).expect("node certificate");
            let cert_pem = format!("{cert}{}", ca.cert_pem);
            let receipt = SigningKey::generate(Algorithm::Ed25519).expect("receipt key");
            let paths = (
                node_dir.join("gateway.pem"),
                node_dir.join("gateway.key"),
                node_dir.join("receipt.pem"),
            );
            std::fs::write(&paths.0, &cert_pem).expect("write cert");
            std::fs::write(&paths.1, &key_pem).expect("write key");
            std::fs::write(&paths.2, receipt.to_pem().expect("pem")).expect("write receipt key");
            let spec_addrs: Vec<SocketAddr> = (0..spec.replicas).map(|_| free_port()).collect();
            root.nodes.insert(
                spec.id.clone(),
                ListedNode {
                    receipt_key: receipt.public_key(),
                    audit_key: None,
                    regions: spec.regions.clone(),
                    spiffe_id: spiffe_id.clone(),
                    url: None,
                    endpoints: spec_addrs.iter().map(|a| format!("https://{a}")).collect(),
                    witness_key: None,
                },
            );
            addrs.insert(spec.id.clone(), spec_addrs);
            files.insert(
                spec.id.clone(),
                NodeFiles {
                    spiffe_id,
                    cert_pem,
                    key_pem,
                    cert: paths.0,
                    key: paths.1,
                    receipt_key: paths.2,
                },
            );
        }
        dev.publish(
            vec![(root.name(), huren_registry::ceremony::envelope(&root))],
            now,
        )
        .expect("root listing the nodes");
        dev.save(&registry_dir).expect("registry saved");

        let mut fed = Self {
            pki,
            services,
            dev,
            files,
            replicas: BTreeMap::new(),
            dir,
        };
        for spec in specs {
            for (i, addr) in addrs[&spec.id].iter().enumerate() {
                let replica = fed.start_replica(&spec.id, i, *addr, configure).await;
                fed.replicas
                    .entry(spec.id.clone())
                    .or_default()
                    .push(replica);
            }
        }
        fed
    }

    /// The two-node federation most tests use: zhejiang serves its own province and the regions
    /// without a regional service; west serves Sichuan and Henan on `west_replicas` replicas.
    pub async fn zhejiang_and_west(west_replicas: usize) -> Self {
        Self::start(&[
            NodeSpec::new(
                "zhejiang",
                "330000",
                &["330000", "440000", "430000", "420000", "000000"],
                1,
            ),
            NodeSpec::new("west", "510000", &["510000", "410000"], west_replicas),
        ])
        .await
    }

    /// Starts replica `index` of node `id` on `addr`, with its own state directory.
    async fn start_replica(
        &self,
        id: &str,
        index: usize,
        addr: SocketAddr,
        configure: &Configure,
    ) -> Replica {
        let files = &self.files[id];
        let state_dir = self
            .dir
            .path()
            .join("nodes")
            .join(id)
            .join(format!("state-{index}"));
        let mut config = NodeConfig::new(self.dir.path().join("registry"), &state_dir);
        config.node_id = id.to_string();
        config.receipt_key = Some(files.receipt_key.clone());
        config.registry_poll = Some(Duration::from_millis(100));
        config.status_client.identity = Some(ClientIdentity {
            cert_pem: files.cert_pem.clone(),
            key_pem: files.key_pem.clone(),
        });
        let node = Node::assemble(config).await.expect("node assembles");
        let mut gateway_config = test_config(&self.pki);
        gateway_config.listen = addr;
        gateway_config.tls.cert = Some(files.cert.clone());
        gateway_config.tls.key = Some(files.key.clone());
        configure(id, &mut gateway_config);
        let gateway = GatewayBuilder::from_config(gateway_config)
            .expect("config")
            .services(node.services())
            .start()
            .await
            .expect("replica starts");
        Replica {
            addr: gateway.local_addr(),
            gateway: Some(gateway),
            node,
            state_dir,
        }
    }

    /// Stops replica `index` of node `id`: it stops listening and closes its connections.
    pub async fn kill(&mut self, id: &str, index: usize) {
        let replica = &mut self.replicas.get_mut(id).expect("node")[index];
        if let Some(gateway) = replica.gateway.take() {
            gateway.shutdown().await;
        }
    }

    /// Publishes a new root, `change`d from the current one, and waits until every running
    /// replica serves with it.
    pub async fn publish_root(&mut self, change: impl FnOnce(&mut huren_registry::doc::Root)) {
        self.publish_root_with(change, Vec::new()).await;
    }

    /// Like [`Federation::publish_root`], with `also` (documents, e.g. a region's, by name)
    /// published in the same version.
    pub async fn publish_root_with(
        &mut self,
        change: impl FnOnce(&mut huren_registry::doc::Root),
        also: Vec<(String, huren_registry::Envelope)>,
    ) {
        let mut root = self.dev.registry.root().clone();
        root.version += 1;
        change(&mut root);
        let now = OffsetDateTime::now_utc();
        let mut changes = vec![(root.name(), huren_registry::ceremony::envelope(&root))];
        changes.extend(also);
        self.dev.publish(changes, now).expect("published");
        let version = self.dev.registry.version();
        huren_registry::store::save(&self.registry_dir(), &self.dev.registry).expect("saved");
        let started = std::time::Instant::now();
        for replica in self.replicas.values().flatten() {
            if replica.gateway.is_none() {
                continue;
            }
            let held = replica.node.recognizer().registry.clone();
            while held.current().map(|r| r.version()) != Some(version) {
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "registry version {version} not reloaded"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    /// The registry directory every node follows.
    pub fn registry_dir(&self) -> PathBuf {
        self.dir.path().join("registry")
    }

    /// A channel to replica `index` of node `id` with a dev client certificate of `role`.
    pub async fn channel_as(
        &self,
        id: &str,
        index: usize,
        role: &str,
        region: Option<&str>,
    ) -> Channel {
        crate::connect(
            self.replicas[id][index].addr,
            &self.pki.client(role, region),
        )
        .await
        .expect("connects with a dev certificate")
    }

    /// A channel to replica 0 of node `to` as node `as_node` (its own gateway certificate): what
    /// a node sends another, for tests that forge what a node relays.
    pub async fn channel_as_node(&self, to: &str, as_node: &str) -> Channel {
        crate::connect(self.replicas[to][0].addr, &self.as_node(as_node))
            .await
            .expect("connects as a node")
    }

    /// Client TLS presenting node `id`'s own gateway certificate, as its peers see it.
    pub fn as_node(&self, id: &str) -> huren::connect::ClientTls {
        let files = &self.files[id];
        self.pki
            .anonymous()
            .with_identity(files.cert_pem.clone(), files.key_pem.clone())
    }

    /// Asks replica 0 of node `id` for a forwarded read directly, presenting `tls` (a node's
    /// certificate, or one the test made), as an entry node would.
    pub async fn resolve_at(
        &self,
        id: &str,
        tls: &huren::connect::ClientTls,
        req: huren_proto::v1::ResolveStatusRequest,
    ) -> Result<huren_proto::v1::ResolveStatusResponse, tonic::Status> {
        let channel = crate::connect(self.replicas[id][0].addr, tls)
            .await
            .expect("TLS connects");
        huren_proto::v1::federation_service_client::FederationServiceClient::new(channel)
            .resolve_status(req)
            .await
            .map(tonic::Response::into_inner)
    }

    /// Issues a code to a resident of `region` at its reference service.
    pub async fn issue(&self, region: RegionCode, id: &str, name: &str, colour: Colour) -> Issued {
        issue_at(&self.services[&region], id, name, colour).await
    }

    /// Every record in one replica's audit log, in order.
    pub fn audit_records(&self, id: &str, index: usize) -> Vec<huren_audit::Record> {
        audit_records_in(
            &self.replicas[id][index]
                .state_dir
                .join(huren::node::AUDIT_DIR),
        )
    }
}
