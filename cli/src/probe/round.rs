//! One probing round: issue the synthetic persons, ask every node its registry version, verify
//! every person under every verifying region's rules, and compare with the registry's prediction.

use std::path::Path;

use anyhow::Context as _;
use huren_adapters::RegionCode;
use huren_registry::Registry;
use huren_registry::predict::{Issued, predict};
use time::OffsetDateTime;

use super::ask::Callers;
use super::finding::{Mismatch, Round, StaleNode};
use super::persons::{Person, issue_all};
use crate::federation::FederationFile;
use crate::federation::issue::KNOWN_AFTER;
use crate::federation::layout::{PKI_DIR, REGISTRY_DIR, serving_node};
use crate::loopback::people::People;
use crate::report::names;

/// Which part of the matrix to probe: verifying regions × issuing regions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub verifying: Vec<RegionCode>,
    pub issuing: Vec<RegionCode>,
}

impl Scope {
    /// Every province that verifies (the national platform runs no checkpoints) against every
    /// region that issues codes.
    pub fn whole() -> Self {
        let issuing: Vec<RegionCode> = crate::loopback::stack::REGIONS.to_vec();
        Self {
            verifying: issuing
                .iter()
                .copied()
                .filter(|r| *r != RegionCode::NATIONAL)
                .collect(),
            issuing,
        }
    }
}

/// Probes the federation in `dir` once.
pub async fn run_round(dir: &Path, scope: &Scope, people: &mut People) -> anyhow::Result<Round> {
    let file = FederationFile::load(dir)?;
    let registry = newest_published(dir)?;
    let persons = issue_all(dir, &registry, &scope.issuing, people)?;
    // The online regions' services pick new records up on their next rescan.
    tokio::time::sleep(KNOWN_AFTER).await;
    let pki = dir.join(PKI_DIR);
    let mut callers = Callers::new(&pki, &file.nodes);
    let mut round = Round {
        registry_version: registry.version(),
        persons: persons.len(),
        counted: persons
            .iter()
            .filter(|p| !p.synthetic)
            .map(|p| p.issuing.to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect(),
        ..Round::default()
    };
    for node in &file.nodes {
        let asked = callers.registry_version(&node.node_id).await;
        if let Some(stale) = staleness(node, asked, registry.version()) {
            round.stale_nodes.push(stale);
        }
    }
    for &verifying in &scope.verifying {
        let node = serving_node(verifying.as_str())
            .with_context(|| format!("no node of the federation serves {verifying}"))?
            .id;
        for person in &persons {
            round.checks += 1;
            if let Some(m) = check(&mut callers, &registry, node, verifying, person).await {
                round.mismatches.push(m);
            }
        }
    }
    Ok(round)
}

/// The registry the prober trusts: the newest one published in the federation's directory,
/// verified as a node verifies it.
fn newest_published(dir: &Path) -> anyhow::Result<Registry> {
    let reg = dir.join(REGISTRY_DIR);
    huren_registry::store::load(&reg, None, OffsetDateTime::now_utc())
        .with_context(|| format!("loading the published registry in {}", reg.display()))
}

/// A finding when `node` does not serve the newest version (or could not say which it serves).
fn staleness(
    node: &crate::federation::NodeEntry,
    asked: anyhow::Result<u64>,
    newest: u64,
) -> Option<StaleNode> {
    let (version, detail) = match asked {
        Ok(v) if v >= newest => return None,
        Ok(v) => (
            Some(v),
            format!("serves registry version {v}, the newest published is {newest}"),
        ),
        Err(e) => (
            None,
            format!(
                "did not say its registry version: {}",
                crate::report::error::chain(&e)
            ),
        ),
    };
    Some(StaleNode {
        node: node.node_id.clone(),
        version,
        newest,
        serves: node.serves.clone(),
        detail,
    })
}

/// Verifies `person` at `node` under `verifying`'s rules; a mismatch when the verdict is not
/// the predicted one (or there is none).
async fn check(
    callers: &mut Callers<'_>,
    registry: &Registry,
    node: &str,
    verifying: RegionCode,
    person: &Person,
) -> Option<Mismatch> {
    let asked = callers
        .verify(node, verifying.as_str(), &person.payload)
        .await;
    let now = OffsetDateTime::now_utc();
    let issuing = person.issuing;
    let predicted = predict(
        registry.concept_map(issuing),
        registry.agreement(verifying, issuing, now),
        Issued {
            label: person.label,
            refreshed_at: person.issued_at,
        },
        now,
    );
    let (got, read_label) = match &asked {
        Ok(v) => (
            names::verdict(v.verdict).to_string(),
            v.status
                .as_ref()
                .map(|s| s.native_label.clone())
                .unwrap_or_default(),
        ),
        Err(e) => (
            format!("error: {}", crate::report::error::chain(e)),
            String::new(),
        ),
    };
    if got == predicted.verdict.as_str() {
        return None;
    }
    Some(Mismatch {
        verifying: verifying.to_string(),
        issuing: issuing.to_string(),
        node: node.to_string(),
        person: format!("{} {}", person.masked_name, person.label),
        issued_label: person.label.to_string(),
        read_label,
        predicted: predicted.verdict.as_str().to_string(),
        got,
        agreement: predicted.agreement.unwrap_or_else(|| "-".into()),
    })
}
