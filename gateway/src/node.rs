//! Node assembly: from a registry directory and a state directory to the [`Services`] a gateway
//! serves — the hot-reloaded registry, the adapters, the pinned status client, the audit log,
//! the summary counters, the subject key and the receipt signer. `huren serve`, `huren demo` and
//! the tests all build a node through [`Node::assemble`].
//!
//! ```ignore
//! let node = Node::assemble(NodeConfig::new(registry_dir, state_dir)).await?;
//! let gateway = GatewayBuilder::from_config(config)?.services(node.services()).start().await?;
//! ```
//!
//! State directory layout: `audit/` (the hash-chained audit log), `subject.key` (the node's
//! 32-byte HMAC key for subject_refs, mode 0600; losing it changes every subject_ref),
//! `trusted.json` (the newest registry versions and log checkpoint this node accepted: a
//! registry older than it is refused at start; `huren registry trust-reset` discards it).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use huren_adapters::codec::GroupVerifier;
use huren_adapters::net::{ClientConfig, StatusClient};
use huren_adapters::status_list::ListArchive;
use huren_adapters::{TrustView, Upkeep, default_adapters};
use huren_audit::{AuditLog, RecoveryReport};
use huren_registry::doc::DEFAULT_NODE_ID;
use huren_registry::keydir::{KeyDir, KeyFile};

use crate::appeals::{AppealStore, Appeals};
use crate::federation::list_carry::CarriedLists;
use crate::federation::peers::Peers;
use crate::privacy::SubjectKey;
use crate::readiness::Readiness;
use crate::recognition::Recognizer;
use crate::recognition::receipt::ReceiptSigner;
use crate::registry_handle::SharedRegistry;
use crate::services::Services;
use crate::services::appeals::AppealsState;
use crate::services::coordination::CoordinationState;
use crate::services::federation::FederationState;
use crate::services::manifests::ManifestsState;
use crate::services::recognition::RecognitionState;
use crate::services::registry::RegistryState;
use crate::services::witness::WitnessState;
use crate::summary::SummaryStore;

pub const AUDIT_DIR: &str = "audit";
pub const SUBJECT_KEY_FILE: &str = "subject.key";

/// What a node is built from. [`NodeConfig::new`] fills in the defaults.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// A registry directory (`registry.json`); watched for newly published states.
    pub registry_dir: PathBuf,
    /// Where the node keeps its own state: the audit log and the subject key.
    pub state_dir: PathBuf,
    /// Sync policy and sizes of the audit log.
    pub audit: huren_audit::Config,
    /// How long a call may take when the caller sets no deadline.
    pub default_deadline: Duration,
    /// This node's id in the registry's root (`nodes`).
    pub node_id: String,
    /// The receipt signing key (PKCS#8 PEM); default `REGISTRY/keys/receipt.pem` (dev registry).
    pub receipt_key: Option<PathBuf>,
    /// The audit-checkpoint signing key (PKCS#8 PEM, Ed25519); default `REGISTRY/keys/audit.pem`
    /// (dev registry). Used when the registry lists an audit key for the node.
    pub audit_key: Option<PathBuf>,
    /// How often the registry directory is checked for a new state; `None`: never reloaded.
    pub registry_poll: Option<Duration>,
    /// The witness key (PKCS#8 PEM, Ed25519), the one the registry lists for the node: it
    /// cosigns registry checkpoints with it. `None`: the node is no witness.
    pub witness_key: Option<PathBuf>,
    /// This node publishes the registry directory it reads: it gathers the listed witnesses'
    /// cosignatures on each new version before acting on it.
    pub publisher: bool,
    /// Node ids to follow the registry from over the network, in order (empty: the registry
    /// directory alone), and how often to ask when no WatchRegistry push arrives.
    pub follow: Vec<String>,
    pub follow_poll: Duration,
    pub status_client: ClientConfig,
    /// How often adapters refresh what they follow in the background (signed revocation lists,
    /// for regions with a status service to fetch them from).
    pub revocations_every: Duration,
}

impl NodeConfig {
    pub fn new(registry_dir: impl Into<PathBuf>, state_dir: impl Into<PathBuf>) -> Self {
        Self {
            registry_dir: registry_dir.into(),
            state_dir: state_dir.into(),
            audit: huren_audit::Config::default(),
            default_deadline: Duration::from_secs(2),
            node_id: DEFAULT_NODE_ID.to_string(),
            receipt_key: None,
            audit_key: None,
            registry_poll: Some(Duration::from_secs(1)),
            witness_key: None,
            publisher: false,
            follow: Vec::new(),
            follow_poll: Duration::from_secs(5),
            status_client: ClientConfig::default(),
            revocations_every: Duration::from_secs(30),
        }
    }

    fn audit_key_path(&self) -> PathBuf {
        self.audit_key
            .clone()
            .unwrap_or_else(|| KeyDir::of(&self.registry_dir).path(&KeyFile::Audit))
    }

    fn receipt_key_path(&self) -> PathBuf {
        self.receipt_key
            .clone()
            .unwrap_or_else(|| KeyDir::of(&self.registry_dir).path(&KeyFile::Receipt))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("trust registry {path}: {source}")]
    Registry {
        path: PathBuf,
        source: Box<huren_registry::store::StoreError>,
    },
    #[error("trust registry {path} is refused: {source}")]
    RolledBack {
        path: PathBuf,
        source: huren_registry::trusted::RollbackError,
    },
    #[error(
        "trust registry {path} is not acted on: {source}; publish it through the publisher node, which gathers the witnesses' cosignatures"
    )]
    NotWitnessed {
        path: PathBuf,
        source: Box<crate::registry_witness::ReloadError>,
    },
    #[error(
        "trust registry {path} (root version {offered}) does not carry root version {trusted}, the root this node last trusted, so the witnesses that root lists cannot be checked to have approved the change; restore the registry directory from the publisher or a peer"
    )]
    TrustedRootMissing {
        path: PathBuf,
        trusted: u64,
        offered: u64,
    },
    #[error("witness: {0}")]
    Witness(Box<crate::witnessing::local::OpenError>),
    #[error("trusted state: {0}")]
    TrustedState(Box<huren_registry::trusted::file::TrustedFileError>),
    #[error("receipt key: {0}")]
    ReceiptKey(Box<huren_registry::KeyFileError>),
    #[error(
        "trust registry version {registry_version} lists no node {node:?}, so this node may not serve; set `node_id` to one of its nodes (huren registry show) or add it (huren registry node add)"
    )]
    UnknownNode { node: String, registry_version: u64 },
    #[error(
        "receipt key {path} is not the key the registry lists for node {node} ({listed}); receipts it signed would not verify"
    )]
    ReceiptKeyMismatch {
        path: PathBuf,
        node: String,
        listed: String,
    },
    #[error("audit key: {0}")]
    AuditKey(Box<huren_registry::KeyFileError>),
    #[error(
        "audit key {path} is not the Ed25519 key the registry lists for node {node} ({listed}); checkpoints it signed would not verify"
    )]
    AuditKeyMismatch {
        path: PathBuf,
        node: String,
        listed: String,
    },
    #[error("adapters: {0}")]
    Adapters(#[from] huren_adapters::ConfigError),
    #[error(transparent)]
    Audit(#[from] huren_audit::OpenError),
    #[error(transparent)]
    Appeals(#[from] crate::appeals::store::StoreError),
    #[error(transparent)]
    SubjectKey(#[from] crate::privacy::KeyFileError),
    #[error("state directory {path}: {source}")]
    State {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A running node's parts. Dropping it stops its background tasks (registry watch, the adapters'
/// own tasks); the services keep what they hold.
pub struct Node {
    recognizer: Arc<Recognizer>,
    services: Services,
    /// What opening the audit log found (and cut off) after the last run.
    pub audit_recovery: RecoveryReport,
    watch: Option<tokio::task::JoinHandle<()>>,
    /// Pulls the registry from the followed nodes ([`crate::follow`]).
    follow: Option<tokio::task::JoinHandle<()>>,
    /// Follows the registry's expiry into the gauge, the logs and readiness.
    expiry: tokio::task::JoinHandle<()>,
    /// The adapters' background tasks ([`huren_adapters::RegionAdapter::background`]).
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("recognizer", &self.recognizer)
            .finish_non_exhaustive()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        for task in [self.watch.take(), self.follow.take()]
            .into_iter()
            .flatten()
        {
            task.abort();
        }
        self.expiry.abort();
        for task in self.background.drain(..) {
            task.abort();
        }
    }
}

impl Node {
    /// Opens everything the services need; fails on anything a node must not serve without.
    pub async fn assemble(config: NodeConfig) -> Result<Node, NodeError> {
        // The recorder first: gauges set while assembling (the registry's version) must land
        // where `/metrics` reads.
        let _ = crate::metrics::handle();
        std::fs::create_dir_all(&config.state_dir).map_err(|source| NodeError::State {
            path: config.state_dir.clone(),
            source,
        })?;
        let registry = open_trusted(&config)?;
        require_listed(&config, &registry)?;
        let receipts = receipt_signer(&config, &registry)?;

        let subject_key = SubjectKey::load_or_generate(&config.state_dir.join(SUBJECT_KEY_FILE))?;
        let audit_dir = config.state_dir.join(AUDIT_DIR);
        let (audit, audit_recovery) = match audit_signer(&config, &registry)? {
            Some(signer) => {
                AuditLog::open_anchored(audit_dir, config.audit.clone(), signer).await?
            }
            None => AuditLog::open(audit_dir, config.audit.clone()).await?,
        };

        let adapters = default_adapters()?;
        let status = StatusClient::new(ClientConfig {
            served: served_regions(&registry, &config.node_id),
            ..config.status_client.clone()
        });
        let trust: Arc<dyn TrustView> = Arc::new(registry.clone());
        let status_lists = Arc::new(ListArchive::new());
        let peers = Arc::new(Peers::new(
            config.status_client.identity.clone(),
            config.status_client.breaker,
        ));
        let upkeep = Upkeep {
            status: status.clone(),
            trust,
            every: config.revocations_every,
            status_lists: status_lists.clone(),
            // A region another node serves has its lists carried by that node.
            lists_from: Arc::new(CarriedLists {
                local: status.clone(),
                peers: peers.clone(),
                registry: registry.clone(),
                this_node: config.node_id.clone(),
            }),
        };
        let background = adapters
            .background(&upkeep)
            .into_iter()
            .map(tokio::spawn)
            .collect();
        let witness = open_witness(&config, &registry)?;
        let peers = Arc::new(Peers::new(
            config.status_client.identity.clone(),
            config.status_client.breaker,
        ));
        let watch = config.registry_poll.map(|every| {
            let dir = config.registry_dir.clone();
            if config.publisher {
                let gatherer = crate::witnessing::gather::Gatherer {
                    node_id: config.node_id.clone(),
                    local: witness.clone(),
                    peers: peers.clone(),
                    timeout: config.default_deadline,
                };
                crate::witnessing::publisher::watch(registry.clone(), dir, every, gatherer)
            } else {
                registry.watch_dir(dir, every)
            }
        });
        let follow = (!config.follow.is_empty()).then(|| {
            crate::follow::Follow {
                node_id: config.node_id.clone(),
                nodes: config.follow.clone(),
                every: config.follow_poll,
                registry_dir: config.registry_dir.clone(),
                peers: peers.clone(),
            }
            .spawn(registry.clone())
        });
        let (registry_expired, expiry) = crate::registry_expiry::watch_expiry(&registry);

        let recognizer = Arc::new(Recognizer {
            registry: registry.clone(),
            adapters,
            status,
            audit,
            summary: Arc::new(SummaryStore::new()),
            subject_key,
            receipts,
            default_deadline: config.default_deadline,
            status_lists,
            federation: Some(peers),
            instance: crate::fanout::new_instance(),
            group: GroupVerifier::default(),
        });
        crate::node_gauges::follow(&recognizer);
        let appeal_index = AppealStore::open(&config.state_dir)?;
        let appeals = Arc::new(Appeals::new(recognizer.clone(), appeal_index));
        crate::appeals::gauge::follow(&appeals);
        let services = Services {
            recognition: Arc::new(RecognitionState::new(recognizer.clone())),
            manifests: Arc::new(ManifestsState::new(recognizer.clone())),
            coordination: Arc::new(
                CoordinationState::new(recognizer.clone()).with_appeals(appeals.clone()),
            ),
            registry: Arc::new(RegistryState::new(registry.clone())),
            federation: Arc::new(FederationState::new(recognizer.clone())),
            witness: Arc::new(WitnessState {
                local: witness,
                registry: registry.clone(),
            }),
            appeals: Arc::new(AppealsState::new(appeals)),
            // A stopped audit writer refuses every decision, and under an expired registry no
            // code passes: the node is not ready then.
            readiness: Readiness::default()
                .with(
                    "the audit log writer is stopped, calls fail with AUDIT_UNAVAILABLE",
                    recognizer.audit.watch_stopped(),
                )
                .with(crate::registry_expiry::CONDITION, registry_expired),
        };
        Ok(Node {
            recognizer,
            services,
            audit_recovery,
            watch,
            follow,
            expiry,
            background,
        })
    }

    /// The services to hand to `GatewayBuilder::services`.
    pub fn services(&self) -> Services {
        self.services.clone()
    }

    /// The shared parts: registry, adapters, status client, audit log, counters.
    pub fn recognizer(&self) -> &Arc<Recognizer> {
        &self.recognizer
    }
}

/// Loads the registry directory and refuses it if it is older than the trusted state kept in
/// the state directory (or forks its log); the accepted registry becomes the trusted state.
/// With no trusted state yet, the first registry is trusted on first use.
fn open_trusted(config: &NodeConfig) -> Result<SharedRegistry, NodeError> {
    use huren_registry::trusted::{self, TrustedState};
    let loaded =
        huren_registry::store::load(&config.registry_dir, None, time::OffsetDateTime::now_utc())
            .map_err(|source| NodeError::Registry {
                path: config.registry_dir.clone(),
                source: Box::new(source),
            })?;
    let file_error = |e| NodeError::TrustedState(Box::new(e));
    let trusted_state = trusted::file::load(&config.state_dir).map_err(file_error)?;
    if let Some(held) = &trusted_state {
        trusted::check(held, &loaded).map_err(|source| {
            if let trusted::RollbackError::ForkedLog { .. } = source {
                let held_cp = hex::decode(&held.checkpoint_root)
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .map(|root| {
                        let origin = &loaded.root().log_origin;
                        huren_registry::log::Checkpoint::new(origin, held.checkpoint_size, &root)
                    });
                let held_text = held_cp.and_then(|c| c.note_text().ok()).unwrap_or_default();
                crate::registry_witness::record_fork(
                    Some(&config.state_dir),
                    &held_text,
                    &crate::registry_witness::offered_text(Some(loaded.state())),
                    &config.registry_dir.display().to_string(),
                    &source,
                );
            }
            NodeError::RolledBack {
                path: config.registry_dir.clone(),
                source,
            }
        })?;
    }
    // At start as on reload: a version is acted on only with k cosignatures, and a root that
    // replaced the trusted one also with k of the replaced root's witnesses. Those witnesses
    // are read from the trusted root as the offered state carries it: a state without it (its
    // older roots stripped) would otherwise skip asking them, so it is refused.
    let held_root = match &trusted_state {
        None => None,
        Some(t) => Some(
            huren_registry::witness::root_at(&loaded.state().roots, t.root_version).ok_or_else(
                || NodeError::TrustedRootMissing {
                    path: config.registry_dir.clone(),
                    trusted: t.root_version,
                    offered: loaded.root().version,
                },
            )?,
        ),
    };
    crate::registry_witness::cosigned_enough(&loaded, held_root.as_ref()).map_err(|source| {
        NodeError::NotWitnessed {
            path: config.registry_dir.clone(),
            source: Box::new(source),
        }
    })?;
    trusted::file::save(&config.state_dir, &TrustedState::of(&loaded)).map_err(file_error)?;
    Ok(SharedRegistry::new(loaded).keeping_trusted_state(config.state_dir.clone()))
}

/// A node knows itself from its config and serves only if the registry lists it: a gateway the
/// registry does not list would be refused by every peer anyway, so it fails at start instead.
fn require_listed(config: &NodeConfig, registry: &SharedRegistry) -> Result<(), NodeError> {
    let current = registry.current();
    match current.as_ref() {
        Some(r) if r.root().nodes.contains_key(&config.node_id) => Ok(()),
        _ => Err(unknown_node(config, registry)),
    }
}

fn unknown_node(config: &NodeConfig, registry: &SharedRegistry) -> NodeError {
    NodeError::UnknownNode {
        node: config.node_id.clone(),
        registry_version: registry.current().map_or(0, |r| r.version()),
    }
}

/// The regions the registry lists for this node: its status client calls only those (the
/// others' data stays in the node that serves them). A node listed with every region (the
/// embedded single-node setup) calls every region.
fn served_regions(
    registry: &SharedRegistry,
    node_id: &str,
) -> Option<std::collections::BTreeSet<huren_adapters::RegionCode>> {
    let current = registry.current()?;
    let node = current.nodes().get(node_id)?;
    Some(
        node.regions
            .iter()
            .filter_map(|code| huren_adapters::RegionCode::parse(code).ok())
            .collect(),
    )
}

/// The node's witness, when it has a witness key (checked against the one the registry lists).
fn open_witness(
    config: &NodeConfig,
    registry: &SharedRegistry,
) -> Result<Option<Arc<crate::witnessing::LocalWitness>>, NodeError> {
    let (Some(path), Some(current)) = (&config.witness_key, registry.current()) else {
        return Ok(None);
    };
    crate::witnessing::LocalWitness::open(&config.node_id, path, current.root(), &config.state_dir)
        .map(|w| Some(Arc::new(w)))
        .map_err(|e| NodeError::Witness(Box::new(e)))
}

/// The node's audit-checkpoint key, checked against the key the registry lists for the node.
/// A root that lists none (published before audit anchoring) leaves the log unanchored.
fn audit_signer(
    config: &NodeConfig,
    registry: &SharedRegistry,
) -> Result<Option<Arc<dyn huren_audit::CheckpointSigner>>, NodeError> {
    let current = registry.current();
    let Some(listed) = current.as_ref().and_then(|r| r.audit_key(&config.node_id)) else {
        return Ok(None);
    };
    let path = config.audit_key_path();
    let key = huren_registry::SigningKey::from_pem_file(&path)
        .map_err(|e| NodeError::AuditKey(Box::new(e)))?;
    let mismatch = || NodeError::AuditKeyMismatch {
        path: path.clone(),
        node: config.node_id.clone(),
        listed: listed.key_id().to_string(),
    };
    if key.public_key() != *listed {
        return Err(mismatch());
    }
    match key {
        huren_registry::SigningKey::Ed25519(k) => Ok(Some(Arc::new(k))),
        // Audit checkpoints are Ed25519 only.
        _ => Err(mismatch()),
    }
}

/// The node's receipt key, checked against the key the registry lists for the node.
fn receipt_signer(
    config: &NodeConfig,
    registry: &SharedRegistry,
) -> Result<ReceiptSigner, NodeError> {
    let path = config.receipt_key_path();
    let key = huren_registry::SigningKey::from_pem_file(&path)
        .map_err(|e| NodeError::ReceiptKey(Box::new(e)))?;
    let current = registry.current();
    let listed = current
        .as_ref()
        .and_then(|r| r.receipt_key(&config.node_id))
        .ok_or_else(|| unknown_node(config, registry))?;
    if *listed != key.public_key() {
        return Err(NodeError::ReceiptKeyMismatch {
            path,
            node: config.node_id.clone(),
            listed: listed.key_id().to_string(),
        });
    }
    Ok(ReceiptSigner::new(config.node_id.clone(), key))
}
