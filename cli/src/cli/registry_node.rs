//! `huren registry node add|set|remove`: prepares a root that lists, changes or drops a gateway
//! node; the root threshold signs it (`huren registry sign`) before `publish` makes it current.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use huren_registry::doc::Node;
use huren_registry::node_edit::{NodeChange, NodeEdit};
use huren_registry::pending::root_to_edit;
use time::OffsetDateTime;

use super::registry::{RegOpt, load, read_public_key, save_pending};

#[derive(Debug, clap::Subcommand)]
pub enum NodeCommand {
    /// List a new node: its SPIFFE id, regions, replicas and keys.
    Add(AddArgs),
    /// Change a listed node; fields not given stay as they are.
    Set(SetArgs),
    /// Drop a node: peers refuse it from the version that no longer lists it.
    Remove(RemoveArgs),
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    #[command(flatten)]
    pub reg: RegOpt,
    /// Node id, e.g. zhejiang.
    #[arg(long)]
    pub id: String,
    /// SPIFFE id of the node's gateway certificate.
    #[arg(long)]
    pub spiffe_id: String,
    /// A region whose adapters the node hosts (repeatable).
    #[arg(long = "region", value_name = "CODE")]
    pub regions: Vec<String>,
    /// Where peers reach one replica, e.g. https://10.1.2.3:8443 (repeatable).
    #[arg(long = "endpoint", value_name = "URL")]
    pub endpoints: Vec<String>,
    /// The node's receipt (and status-statement) public key, from `keygen` (FILE.pub).
    #[arg(long, value_name = "FILE.pub")]
    pub receipt_key: PathBuf,
    /// The node's audit-checkpoint public key (Ed25519, FILE.pub).
    #[arg(long, value_name = "FILE.pub")]
    pub audit_key: Option<PathBuf>,
    /// The node's witness (checkpoint cosigning) public key (Ed25519, FILE.pub).
    #[arg(long, value_name = "FILE.pub")]
    pub witness_key: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct SetArgs {
    #[command(flatten)]
    pub reg: RegOpt,
    #[arg(long)]
    pub id: String,
    #[arg(long)]
    pub spiffe_id: Option<String>,
    /// Replaces the node's regions (repeatable).
    #[arg(long = "region", value_name = "CODE")]
    pub regions: Vec<String>,
    /// Replaces the node's replicas (repeatable).
    #[arg(long = "endpoint", value_name = "URL")]
    pub endpoints: Vec<String>,
    #[arg(long, value_name = "FILE.pub")]
    pub receipt_key: Option<PathBuf>,
    #[arg(long, value_name = "FILE.pub")]
    pub audit_key: Option<PathBuf>,
    #[arg(long, value_name = "FILE.pub")]
    pub witness_key: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    #[command(flatten)]
    pub reg: RegOpt,
    #[arg(long)]
    pub id: String,
}

pub fn run(cmd: NodeCommand, now: OffsetDateTime) -> anyhow::Result<()> {
    let (reg, edit) = match cmd {
        NodeCommand::Add(a) => {
            let node = Node {
                receipt_key: read_public_key(&a.receipt_key)?,
                audit_key: optional_key(a.audit_key.as_deref())?,
                regions: a.regions,
                spiffe_id: a.spiffe_id,
                url: None,
                endpoints: a.endpoints,
                witness_key: optional_key(a.witness_key.as_deref())?,
            };
            (a.reg.reg, NodeEdit::Add { id: a.id, node })
        }
        NodeCommand::Set(a) => {
            let change = NodeChange {
                spiffe_id: a.spiffe_id,
                regions: (!a.regions.is_empty()).then_some(a.regions),
                endpoints: (!a.endpoints.is_empty()).then_some(a.endpoints),
                receipt_key: optional_key(a.receipt_key.as_deref())?,
                audit_key: optional_key(a.audit_key.as_deref())?,
                witness_key: optional_key(a.witness_key.as_deref())?,
            };
            (a.reg.reg, NodeEdit::Set { id: a.id, change })
        }
        NodeCommand::Remove(a) => (a.reg.reg, NodeEdit::Remove { id: a.id }),
    };
    let registry = load(&reg, now)?;
    let mut root = root_to_edit(&reg, &registry)?;
    edit.apply(&mut root)?;
    save_pending(&reg, &registry, &root)
}

fn optional_key(path: Option<&Path>) -> anyhow::Result<Option<huren_registry::PublicKey>> {
    path.map(read_public_key).transpose().context("a node key")
}
