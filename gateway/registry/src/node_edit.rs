//! Changes to the root's node list — add, change or remove a gateway node — checked against the
//! rules a root must keep: one node per id, one id per SPIFFE identity, valid region codes.

use crate::doc::{Node, Root};
use crate::keys::PublicKey;

/// What to change in a listed node; `None` keeps the field as it is.
#[derive(Debug, Clone, Default)]
pub struct NodeChange {
    pub spiffe_id: Option<String>,
    pub regions: Option<Vec<String>>,
    pub endpoints: Option<Vec<String>>,
    pub receipt_key: Option<PublicKey>,
    pub audit_key: Option<PublicKey>,
    pub witness_key: Option<PublicKey>,
}

/// One edit of the root's node list.
#[derive(Debug, Clone)]
pub enum NodeEdit {
    Add { id: String, node: Node },
    Set { id: String, change: NodeChange },
    Remove { id: String },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeEditError {
    #[error("the root already lists node {0:?}; change it with `node set`")]
    AlreadyListed(String),
    #[error("the root lists no node {0:?}")]
    NotListed(String),
    #[error("SPIFFE id {spiffe_id} is already node {other:?}'s: a peer could not tell them apart")]
    SpiffeIdTaken { spiffe_id: String, other: String },
    #[error("{0:?} is not a six-digit region code")]
    BadRegion(String),
}

impl NodeEdit {
    /// Applies the edit to `root` (whose version the caller has already raised).
    pub fn apply(self, root: &mut Root) -> Result<(), NodeEditError> {
        match self {
            NodeEdit::Add { id, node } => {
                if root.nodes.contains_key(&id) {
                    return Err(NodeEditError::AlreadyListed(id));
                }
                check(root, &id, &node)?;
                root.nodes.insert(id, node);
            }
            NodeEdit::Set { id, change } => {
                let mut node = root
                    .nodes
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| NodeEditError::NotListed(id.clone()))?;
                change.apply_to(&mut node);
                check(root, &id, &node)?;
                root.nodes.insert(id, node);
            }
            NodeEdit::Remove { id } => {
                root.nodes.remove(&id).ok_or(NodeEditError::NotListed(id))?;
            }
        }
        Ok(())
    }
}

impl NodeChange {
    fn apply_to(self, node: &mut Node) {
        if let Some(v) = self.spiffe_id {
            node.spiffe_id = v;
        }
        if let Some(v) = self.regions {
            node.regions = v;
        }
        if let Some(v) = self.endpoints {
            // Replicas now live in `endpoints`; a single legacy `url` would otherwise shadow
            // nothing but confuse a reader of the root.
            node.url = None;
            node.endpoints = v;
        }
        if let Some(v) = self.receipt_key {
            node.receipt_key = v;
        }
        if let Some(v) = self.audit_key {
            node.audit_key = Some(v);
        }
        if let Some(v) = self.witness_key {
            node.witness_key = Some(v);
        }
    }
}

fn check(root: &Root, id: &str, node: &Node) -> Result<(), NodeEditError> {
    if let Some((other, _)) = root
        .nodes
        .iter()
        .find(|(other, n)| other.as_str() != id && n.spiffe_id == node.spiffe_id)
    {
        return Err(NodeEditError::SpiffeIdTaken {
            spiffe_id: node.spiffe_id.clone(),
            other: other.clone(),
        });
    }
    if let Some(bad) = node
        .regions
        .iter()
        .find(|r| r.len() != 6 || !r.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(NodeEditError::BadRegion(bad.clone()));
    }
    Ok(())
}
