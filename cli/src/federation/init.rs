//! `huren federation init`: a dev federation on disk — the PKI with one gateway certificate
//! per node, a signed registry listing the four nodes with their regions and endpoints, each
//! node's `huren.toml` and keys, and `federation.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use huren_certs::{Ca, InitOptions, LeafSpec, Manifest, spiffe_id, write_new};
use huren_registry::ceremony::envelope;
use huren_registry::dev::{DevOptions, DevRegistry};
use huren_registry::doc::{Document as _, Node};
use huren_registry::{Algorithm, SigningKey};
use time::OffsetDateTime;

use huren_registry::note::SignedNote;
use huren_registry::witness::Cosigner;
use huren_registry::witness::file::WITNESS_FILE;

use super::layout::{
    self, FederationFile, NODES, NODES_DIR, NodeEntry, NodePlan, PKI_DIR, PUBLISHER, Ports,
    REGIONS_DIR, REGISTRY_DIR, RegionService, SERVICE_REGIONS, STATE_DIR,
};

/// How often each node fetches status lists again: short, so a withdrawn code shows at every node
/// within a second (the demo times it).
pub const STATUS_LISTS_REFRESH: std::time::Duration = std::time::Duration::from_millis(500);

/// What `init` writes.
#[derive(Debug, Clone)]
pub struct InitRequest {
    pub out: PathBuf,
    pub base_port: u16,
    /// Replace a federation already in `out`.
    pub force: bool,
}

/// Writes the federation and returns its `federation.json`.
pub fn init(request: &InitRequest) -> anyhow::Result<FederationFile> {
    let out = &request.out;
    if out.join(layout::FILE).exists() && !request.force {
        anyhow::bail!(
            "{} already holds a federation; pass --force to replace it",
            out.display()
        );
    }
    let ports = Ports {
        base: request.base_port,
    };
    if usize::from(request.base_port) + 30 > usize::from(u16::MAX) || request.base_port < 1024 {
        anyhow::bail!("--base-port must leave 30 ports free between 1024 and 65535");
    }
    huren::tls::install_crypto_provider();
    let pki = out.join(PKI_DIR);
    let options = InitOptions {
        force: request.force,
        ..InitOptions::default()
    };
    let manifest = huren_certs::init(&pki, &options).context("creating the federation's PKI")?;

    let mut status_urls = BTreeMap::new();
    let mut regions = Vec::new();
    for (j, code) in SERVICE_REGIONS.iter().enumerate() {
        let listen = ports.region(j);
        status_urls.insert(code.to_string(), format!("https://{listen}"));
        regions.push(RegionService {
            region: code.to_string(),
            listen,
            command: region_command(code, listen),
        });
    }

    let now = OffsetDateTime::now_utc();
    // A week, as `huren serve`'s dev registry: a federation left over a weekend still starts.
    let dev_options = DevOptions {
        status_urls,
        timestamp_lifetime: time::Duration::days(7),
        ..DevOptions::default()
    };
    let mut dev = DevRegistry::build(&pki, &dev_options, now).context("building the registry")?;
    let template = dev
        .registry
        .nodes()
        .values()
        .next()
        .cloned()
        .context("the dev registry lists no node to start from")?;

    let mut listed = BTreeMap::new();
    let mut nodes = Vec::new();
    let mut witness_keys = Vec::new();
    for (i, plan) in NODES.iter().enumerate() {
        let spiffe = node_certificate(&pki, &manifest, plan)?;
        let keys = node_keys(out, plan)?;
        let (listen, admin) = (ports.node(i), ports.admin(i));
        // Fields a later root adds start from the dev node's.
        let mut node: Node = template.clone();
        node.receipt_key = keys.receipt.public_key();
        node.audit_key = Some(keys.audit.public_key());
        node.regions = plan.serves.iter().map(|r| r.to_string()).collect();
        node.spiffe_id = spiffe;
        node.url = Some(format!("https://{listen}"));
        // One replica per node here; forwarding and fan-out read `replica_urls()`.
        node.endpoints = vec![format!("https://{listen}")];
        node.witness_key = Some(keys.witness.public_key());
        witness_keys.push((plan.id, keys.witness));
        listed.insert(plan.id.to_string(), node);
        let config = PathBuf::from(NODES_DIR).join(plan.id).join("huren.toml");
        write_new(out, &config, &node_config(plan, listen, admin), false)?;
        nodes.push(NodeEntry {
            node_id: plan.id.to_string(),
            listen,
            admin,
            serves: plan.serves.iter().map(|r| r.to_string()).collect(),
            config,
        });
    }
    let mut root = dev.registry.root().clone();
    root.nodes = listed;
    root.witness_threshold = WITNESS_THRESHOLD;
    root.version += 1;
    dev.publish(vec![(root.name(), envelope(&root))], now)
        .context("listing the four nodes in the registry's root")?;
    dev.save(&out.join(REGISTRY_DIR))
        .context("saving the registry")?;
    first_cosignatures(out, witness_keys, now)?;
    for code in SERVICE_REGIONS {
        std::fs::create_dir_all(out.join(REGIONS_DIR).join(code))?;
    }

    let file = FederationFile { nodes, regions };
    let json = serde_json::to_string_pretty(&file)?;
    // Last: a directory with federation.json is a complete federation.
    write_new(out, Path::new(layout::FILE), &json, false)?;
    Ok(file)
}

/// How many of the four witnesses must cosign a registry checkpoint before a node acts on it.
pub const WITNESS_THRESHOLD: u32 = 2;

/// The first version is cosigned here, by every node's witness key, as the nodes would: a node
/// acts on no version without k cosignatures, and this one has no publisher node running yet.
/// Each node's state directory starts with it as the checkpoint it last cosigned, and each
/// follower's registry directory with a copy of it.
fn first_cosignatures(
    out: &Path,
    witnesses: Vec<(&str, SigningKey)>,
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    use huren_registry::store::{STATE_FILE, atomic_write};
    let publisher = out.join(REGISTRY_DIR);
    let mut state = huren_registry::store::read_state(&publisher)?;
    let text = state
        .log
        .note
        .clone()
        .context("the registry's log key writes no checkpoint note (not Ed25519)")?;
    let mut note = SignedNote::parse(&text)?;
    let at = u64::try_from(now.unix_timestamp()).unwrap_or(0);
    let mut ids = Vec::new();
    for (id, key) in witnesses {
        let sig = Cosigner::new(id, key, None).cosign(&note, &[], at)?;
        note.add(sig);
        ids.push(id);
    }
    state.log.note = Some(note.to_text());
    let bytes = state.to_bytes();
    atomic_write(&publisher.join(STATE_FILE), &bytes, false)?;
    for id in ids {
        let node = out.join(NODES_DIR).join(id);
        atomic_write(
            &node.join(STATE_DIR).join(WITNESS_FILE),
            note.to_text().as_bytes(),
            false,
        )?;
        if id != PUBLISHER {
            atomic_write(&node.join(REGISTRY_DIR).join(STATE_FILE), &bytes, false)?;
        }
    }
    Ok(())
}

fn region_command(code: &str, listen: std::net::SocketAddr) -> Vec<String> {
    let data = format!("{REGIONS_DIR}/{code}");
    [
        "huren", "region", "serve", "--region", code, "--pki", PKI_DIR, "--listen",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([listen.to_string(), "--data".to_string(), data])
    .collect()
}

/// Issues the node's gateway certificate from its home province's CA (the one node admission
/// asks for) and returns its SPIFFE id.
fn node_certificate(pki: &Path, manifest: &Manifest, plan: &NodePlan) -> anyhow::Result<String> {
    let region = manifest.region(plan.home)?;
    let read = |p: &Path| {
        std::fs::read_to_string(pki.join(p))
            .with_context(|| format!("cannot read {}", pki.join(p).display()))
    };
    let ca = Ca::load(&read(&region.ca)?, &read(&region.ca_key)?)?;
    let id = spiffe_id(&manifest.trust_domain, plan.home, "gateway", plan.id);
    let spec = LeafSpec {
        client_auth: true,
        ..LeafSpec::server(&format!("huren node {}", plan.id), &id)
    };
    let (cert, key) = ca.issue(&spec)?;
    let dir = PathBuf::from("nodes").join(plan.id);
    write_new(
        pki,
        &dir.join("server.pem"),
        &format!("{cert}{}", ca.cert_pem),
        false,
    )?;
    write_new(pki, &dir.join("server.key"), &key, true)?;
    Ok(id)
}

struct NodeKeys {
    receipt: SigningKey,
    audit: SigningKey,
    /// Listed in the registry: the node cosigns registry checkpoints with it.
    witness: SigningKey,
}

/// A fresh receipt key, audit-checkpoint key and witness key for the node, written to its keys
/// directory.
fn node_keys(out: &Path, plan: &NodePlan) -> anyhow::Result<NodeKeys> {
    let keys = NodeKeys {
        receipt: SigningKey::generate(Algorithm::Ed25519)?,
        audit: SigningKey::generate(Algorithm::Ed25519)?,
        witness: SigningKey::generate(Algorithm::Ed25519)?,
    };
    let dir = PathBuf::from(NODES_DIR).join(plan.id).join("keys");
    write_new(out, &dir.join("receipt.pem"), &keys.receipt.to_pem()?, true)?;
    write_new(out, &dir.join("audit.pem"), &keys.audit.to_pem()?, true)?;
    write_new(out, &dir.join("witness.pem"), &keys.witness.to_pem()?, true)?;
    Ok(keys)
}

/// The node's huren.toml; every path is relative to the file. national reads the publisher's
/// registry directory and gathers cosignatures; every other node follows the registry from
/// national first, then from the other nodes, into its own registry directory.
fn node_config(
    plan: &NodePlan,
    listen: std::net::SocketAddr,
    admin: std::net::SocketAddr,
) -> String {
    let id = plan.id;
    let (registry, federation) = if id == PUBLISHER {
        (
            format!("../../{REGISTRY_DIR}"),
            "publisher = true".to_string(),
        )
    } else {
        let follow: Vec<String> = std::iter::once(PUBLISHER)
            .chain(
                NODES
                    .iter()
                    .map(|n| n.id)
                    .filter(|n| *n != id && *n != PUBLISHER),
            )
            .map(|n| format!("{n:?}"))
            .collect();
        (
            REGISTRY_DIR.to_string(),
            format!("follow = [{}]\nfollow_poll_ms = 1000", follow.join(", ")),
        )
    };
    format!(
        r#"# Node {id} of a dev federation (huren federation init). Serves: {serves}.
listen = "{listen}"
admin_listen = "{admin}"

[tls]
pki = "../../{PKI_DIR}"
cert = "../../{PKI_DIR}/nodes/{id}/server.pem"
key = "../../{PKI_DIR}/nodes/{id}/server.key"

[shutdown]
not_serving_grace_ms = 0
drain_timeout_ms = 2000

[node]
node_id = "{id}"
registry = "{registry}"
state = "{STATE_DIR}"
receipt_key = "keys/receipt.pem"
audit_key = "keys/audit.pem"
witness_key = "keys/witness.pem"
registry_poll_ms = 500
status_lists_refresh_ms = {refresh}

[federation]
{federation}
"#,
        serves = plan.serves.join(", "),
        refresh = STATUS_LISTS_REFRESH.as_millis(),
    )
}

/// The commands that start the federation by hand, one a line.
pub fn start_commands(dir: &Path, file: &FederationFile) -> Vec<String> {
    let d = dir.display();
    let mut lines: Vec<String> = file
        .regions
        .iter()
        .map(|r| format!("(cd {d} && {}) &", r.command.join(" ")))
        .collect();
    lines.extend(
        file.nodes
            .iter()
            .map(|n| format!("huren serve --config {d}/{} &", n.config.display())),
    );
    lines
}
