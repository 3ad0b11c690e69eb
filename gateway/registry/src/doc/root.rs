//! The root document: national role keys and thresholds, region delegations, gateway nodes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::envelope::KeySet;
use crate::keys::PublicKey;

/// The national roles. Each is a set of keys and a threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles {
    /// Signs the root itself and national agreements.
    pub root: KeySet,
    /// Signs the short-lived timestamp that binds every current document.
    pub timestamp: KeySet,
    /// Signs transparency-log checkpoints.
    pub log: KeySet,
    /// Regional witnesses that cosign checkpoints they have checked (k of n).
    pub witnesses: KeySet,
}

/// What the root lets one region do: sign its own region document with these keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegation {
    /// Display name, e.g. "Zhejiang".
    pub name: String,
    pub keys: KeySet,
    /// DER of the region CA every issuer certificate of the region must chain to.
    #[serde(with = "crate::canonical::b64")]
    pub ca_certificate: Vec<u8>,
    #[serde(with = "crate::canonical::when")]
    pub expires: OffsetDateTime,
}

/// A huren gateway node: the key that signs its recognition receipts and the regions it serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    pub receipt_key: PublicKey,
    /// The Ed25519 key that signs the node's audit checkpoints (record count and head hash), so
    /// `huren audit verify --registry` can tell the node's chain from one rewritten without it.
    /// Absent in roots published before audit anchoring (the field is then left out entirely,
    /// so their signed bytes are unchanged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_key: Option<PublicKey>,
    /// Region codes whose adapters this node hosts (federation forwards the others).
    pub regions: Vec<String>,
    /// SPIFFE id of the node's TLS identity.
    pub spiffe_id: String,
    /// Where peers reached it before replicas were listed; roots published since list every
    /// replica in `endpoints` instead (older signed roots keep this field, so it stays readable).
    pub url: Option<String>,
    /// Where peers reach it: one URL per replica, each answering for the same node id and regions.
    /// Left out when empty so roots published before replicas keep their signed bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<String>,
    /// The Ed25519 key the node cosigns registry checkpoints with (C2SP `cosignature/v1`, under
    /// its node id as cosigner name). Left out when absent, so older roots keep their bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness_key: Option<PublicKey>,
}

impl Node {
    /// Every URL a peer may reach this node on: its replicas, or the single `url` of a root that
    /// predates replicas.
    pub fn replica_urls(&self) -> Vec<&str> {
        if self.endpoints.is_empty() {
            self.url.iter().map(String::as_str).collect()
        } else {
            self.endpoints.iter().map(String::as_str).collect()
        }
    }

    /// Whether this node hosts the adapters of region `code`.
    pub fn serves(&self, code: &str) -> bool {
        self.regions.iter().any(|r| r == code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Root {
    pub version: u64,
    #[serde(with = "crate::canonical::when")]
    pub expires: OffsetDateTime,
    pub roles: Roles,
    /// Origin line of the transparency log's checkpoints.
    pub log_origin: String,
    /// Region code → delegation.
    pub regions: BTreeMap<String, Delegation>,
    /// Node id → node.
    pub nodes: BTreeMap<String, Node>,
    /// k: how many of the nodes' witness keys must have cosigned a checkpoint before a node acts
    /// on it. 0 (absent, roots from before witnessing) asks for no cosignature.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub witness_threshold: u32,
}

fn is_zero(k: &u32) -> bool {
    *k == 0
}

impl super::Document for Root {
    const PAYLOAD_TYPE: &'static str = "application/vnd.huren.root+json";
    fn name(&self) -> String {
        super::ROOT.to_string()
    }
    fn version(&self) -> u64 {
        self.version
    }
    fn expires(&self) -> OffsetDateTime {
        self.expires
    }
}

/// The node id a single node hosting every region goes by when nothing else is configured; the
/// dev registry lists its one node under it.
pub const DEFAULT_NODE_ID: &str = "gateway-1";

impl Root {
    /// The root's delegation of region `code`, or why there is none.
    pub fn delegation(&self, code: &str) -> Result<&Delegation, crate::error::RootError> {
        self.regions
            .get(code)
            .ok_or_else(|| crate::error::RootError::RegionNotDelegated {
                region: code.to_string(),
            })
    }
}
