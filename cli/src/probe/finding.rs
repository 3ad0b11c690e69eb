//! What one probing round found: how many verdicts were checked, the ones that differ from the
//! registry's prediction, and the nodes serving an older registry than the newest published.

use serde::Serialize;

/// A verdict that is not the one the registry predicts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mismatch {
    pub verifying: String,
    pub issuing: String,
    /// The node asked (the one serving the verifying region).
    pub node: String,
    /// The synthetic person: masked name and the word they were issued with.
    pub person: String,
    /// The word issued, and the word the federation read (differs when a region's service lies).
    pub issued_label: String,
    pub read_label: String,
    pub predicted: String,
    pub got: String,
    /// The agreement the prediction follows.
    pub agreement: String,
}

/// A node whose registry is older than the newest published one the prober knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StaleNode {
    pub node: String,
    /// The version it serves; `None` when it could not be asked.
    pub version: Option<u64>,
    pub newest: u64,
    /// The regions it serves, whose verdicts follow its old rules.
    pub serves: Vec<String>,
    pub detail: String,
}

/// One round's findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Round {
    /// The newest published registry version: the one predictions come from.
    pub registry_version: u64,
    pub persons: usize,
    /// Issuing regions whose persons nodes count in the national summary: signed regions for
    /// which the registry lists no probe issuer (online regions' services flag their records).
    pub counted: Vec<String>,
    pub checks: u64,
    pub mismatches: Vec<Mismatch>,
    pub stale_nodes: Vec<StaleNode>,
}

impl Round {
    /// Nothing differs from what the registry says.
    pub fn is_clean(&self) -> bool {
        self.mismatches.is_empty() && self.stale_nodes.is_empty()
    }

    /// The (verifying, issuing) pairs with a mismatch, each once, in order.
    pub fn pairs(&self) -> Vec<(String, String)> {
        let mut pairs: Vec<_> = self
            .mismatches
            .iter()
            .map(|m| (m.verifying.clone(), m.issuing.clone()))
            .collect();
        pairs.sort();
        pairs.dedup();
        pairs
    }
}
