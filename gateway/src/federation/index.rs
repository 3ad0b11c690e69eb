//! The registry's node list as federation reads it on every call — which node serves a region,
//! which node a SPIFFE id is — indexed once per registry version instead of scanned per call.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use huren_registry::Registry;

/// The node lookups of one registry version.
#[derive(Debug, Default)]
pub struct NodeIndex {
    version: u64,
    listed: BTreeSet<String>,
    /// Region code → the nodes that serve it, in node-id order.
    serving: HashMap<String, Vec<String>>,
    /// SPIFFE id → node id (the registry holds one node per SPIFFE id).
    by_spiffe_id: HashMap<String, String>,
}

impl NodeIndex {
    pub fn build(registry: &Registry) -> Self {
        let mut index = Self {
            version: registry.version(),
            ..Self::default()
        };
        for (id, node) in registry.nodes() {
            index.listed.insert(id.clone());
            for region in &node.regions {
                index
                    .serving
                    .entry(region.clone())
                    .or_default()
                    .push(id.clone());
            }
            index
                .by_spiffe_id
                .entry(node.spiffe_id.clone())
                .or_insert_with(|| id.clone());
        }
        index
    }

    /// The registry version this index was built from.
    pub fn version(&self) -> u64 {
        self.version
    }

    pub fn is_listed(&self, node_id: &str) -> bool {
        self.listed.contains(node_id)
    }

    /// The nodes that serve `region`, in node-id order.
    pub fn serving(&self, region: &str) -> &[String] {
        self.serving.get(region).map_or(&[], Vec::as_slice)
    }

    /// Whether `node_id` serves `region`.
    pub fn serves(&self, node_id: &str, region: &str) -> bool {
        self.serving(region).iter().any(|id| id == node_id)
    }

    /// The node the registry lists under `spiffe_id`.
    pub fn node_of(&self, spiffe_id: &str) -> Option<&str> {
        self.by_spiffe_id.get(spiffe_id).map(String::as_str)
    }
}

/// The index of the newest registry version asked for, built once per version: for a node
/// without federation peers (whose routes would otherwise hold it), so a call does not rebuild
/// it.
#[derive(Debug, Default)]
pub struct IndexCache {
    held: Mutex<Option<Arc<NodeIndex>>>,
}

impl IndexCache {
    /// The index of `registry`'s version: the one held, or built now and held.
    pub fn of(&self, registry: &Registry) -> Arc<NodeIndex> {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(index) = held.as_ref().filter(|i| i.version() == registry.version()) {
            return index.clone();
        }
        let index = Arc::new(NodeIndex::build(registry));
        *held = Some(index.clone());
        index
    }

    /// The index of `registry`'s version on a node: its federation routes' own when it has
    /// `peers`, else this cache's.
    pub fn on_node(
        &self,
        peers: Option<&crate::federation::peers::Peers>,
        registry: &Registry,
    ) -> Arc<NodeIndex> {
        match peers {
            Some(peers) => peers.routes(registry).index.clone(),
            None => self.of(registry),
        }
    }
}
