//! The dev federation's shape: which node serves which regions, where each listens, and
//! `federation.json`, the file an operator (or the launcher) starts everything from.
//!
//! ```text
//! DIR/federation.json                  nodes and regional services, paths relative to DIR
//! DIR/pki/                             `huren certs init`, plus pki/nodes/<id>/server.{pem,key}
//! DIR/registry/                        the signed registry listing the four nodes (dev keys),
//!                                      published at national, which reads it
//! DIR/nodes/<id>/huren.toml            one node's config; its state in DIR/nodes/<id>/state
//! DIR/nodes/<id>/registry/             the registry the other nodes follow from national
//! DIR/nodes/<id>/keys/                 the node's receipt, audit-checkpoint and witness keys
//! DIR/regions/<code>/                  a reference regional service's records
//! ```

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

pub const FILE: &str = "federation.json";
pub const PKI_DIR: &str = "pki";
pub const REGISTRY_DIR: &str = "registry";
pub const NODES_DIR: &str = "nodes";
/// A node's state directory, inside its own directory.
pub const STATE_DIR: &str = "state";
/// The node that reads the publisher's registry directory and gathers the witnesses'
/// cosignatures; the others follow it (and each other) over the network.
pub const PUBLISHER: &str = "national";
pub const REGIONS_DIR: &str = "regions";
pub const LOGS_DIR: &str = "logs";
/// The first port of a federation made without `--base-port`.
pub const DEFAULT_BASE_PORT: u16 = 7700;

/// One node of the dev federation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodePlan {
    pub id: &'static str,
    /// The province whose CA issues the node's certificate (and names it in its SPIFFE id).
    pub home: &'static str,
    /// The regions whose adapters and status clients the node holds.
    pub serves: &'static [&'static str],
}

/// national publishes the registry and fans national queries out; each province's data stays
/// in the node that serves it.
pub const NODES: [NodePlan; 4] = [
    NodePlan {
        id: "national",
        home: "000000",
        serves: &["000000"],
    },
    NodePlan {
        id: "zhejiang",
        home: "330000",
        serves: &["330000"],
    },
    NodePlan {
        id: "west",
        home: "510000",
        serves: &["510000", "410000"],
    },
    NodePlan {
        id: "south",
        home: "440000",
        serves: &["440000", "430000", "420000"],
    },
];

/// Regions whose reference service the registry points at (online lookups, live checks,
/// Guangdong's revocation list, Hunan's status lists); the others' codes are offline-signed and
/// need no service. Only the node serving a region calls its service: the others get Hunan's
/// lists from south.
pub const SERVICE_REGIONS: [&str; 5] = ["330000", "410000", "510000", "440000", "430000"];

/// The plan of node `id`.
pub fn plan(id: &str) -> Option<&'static NodePlan> {
    NODES.iter().find(|n| n.id == id)
}

/// The node that serves `region` (a city or county by its province).
pub fn serving_node(region: &str) -> Option<&'static NodePlan> {
    let province = format!("{}0000", region.get(..2)?);
    NODES.iter().find(|n| n.serves.contains(&province.as_str()))
}

/// `DIR/federation.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederationFile {
    pub nodes: Vec<NodeEntry>,
    pub regions: Vec<RegionService>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeEntry {
    pub node_id: String,
    /// gRPC over mutual TLS.
    pub listen: SocketAddr,
    /// Admin HTTP: /readyz, /metrics.
    pub admin: SocketAddr,
    pub serves: Vec<String>,
    /// The node's huren.toml, relative to DIR.
    pub config: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionService {
    pub region: String,
    pub listen: SocketAddr,
    /// argv, `huren` first, run with DIR as the working directory.
    pub command: Vec<String>,
}

impl FederationFile {
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {} (huren federation init)", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a federation file", path.display()))
    }

    pub fn node(&self, id: &str) -> anyhow::Result<&NodeEntry> {
        self.nodes
            .iter()
            .find(|n| n.node_id == id)
            .with_context(|| format!("the federation has no node {id:?}"))
    }
}

/// The ports of a federation starting at `base`: node i listens on base+i, its admin on
/// base+10+i, regional service j on base+20+j.
pub struct Ports {
    pub base: u16,
}

impl Ports {
    pub fn node(&self, i: usize) -> SocketAddr {
        loopback(self.base + i as u16)
    }
    pub fn admin(&self, i: usize) -> SocketAddr {
        loopback(self.base + 10 + i as u16)
    }
    pub fn region(&self, j: usize) -> SocketAddr {
        loopback(self.base + 20 + j as u16)
    }

    fn all(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        (0..NODES.len())
            .flat_map(|i| [self.node(i), self.admin(i)])
            .chain((0..SERVICE_REGIONS.len()).map(|j| self.region(j)))
    }

    /// A base whose every port is free now, for a demo or a test that must not collide with
    /// another run on the machine. The range stays below Linux's ephemeral ports (32768 up):
    /// a port free when probed there can be taken by any outgoing connection before the node
    /// binds it.
    pub fn free() -> anyhow::Result<Self> {
        for _ in 0..64 {
            let base = 10_000 + rand::random::<u16>() % 22_000;
            let ports = Self { base };
            if ports.all().all(|a| TcpListener::bind(a).is_ok()) {
                return Ok(ports);
            }
        }
        anyhow::bail!("found no free range of 30 loopback ports")
    }
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_region_is_served_by_exactly_one_node() {
        for region in [
            "330000", "440000", "510000", "430000", "410000", "420000", "000000",
        ] {
            let serving: Vec<_> = NODES
                .iter()
                .filter(|n| n.serves.contains(&region))
                .collect();
            assert_eq!(serving.len(), 1, "{region}");
        }
        assert_eq!(serving_node("330110").map(|n| n.id), Some("zhejiang"));
        assert_eq!(serving_node("410000").map(|n| n.id), Some("west"));
    }
}
