//! A verified registry and the questions the gateway asks it: issuer keys, concept maps,
//! agreements, status services, receipt keys, proofs.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use huren_adapters::{Colour, IssuerKey, RegionCode, StatusService, TrustError, TrustView};
use time::OffsetDateTime;

use crate::doc::{
    Agreement, AgreementKind, ConceptMap, Delegation, IssuerStatus, Node, RegionDocument, Root,
    Timestamp,
};
use crate::envelope::Envelope;
use crate::keys::PublicKey;
use crate::log::{Checkpoint, Hash, ProofError, consistency_proof, inclusion_proof};
use crate::state::SignedState;
use crate::x509::CertFacts;

/// A region document that passed, with its delegation and what its issuer certificates say.
#[derive(Debug, Clone)]
pub struct VerifiedRegion {
    pub code: RegionCode,
    pub document: RegionDocument,
    pub delegation: Delegation,
    /// Issuer id → the key and validity its certificate (checked against the region CA) carries.
    pub issuers: BTreeMap<String, CertFacts>,
}

/// Everything in a registry that passed [`crate::verify_state`]. Only the verifier builds one.
#[derive(Debug, Clone)]
pub struct Registry {
    state: SignedState,
    root: Root,
    timestamp: Timestamp,
    regions: BTreeMap<RegionCode, VerifiedRegion>,
    agreements: BTreeMap<String, Agreement>,
    checkpoint: Checkpoint,
    leaves: Vec<Hash>,
    published_in: BTreeMap<(String, u64), u64>,
    /// SPIFFE id → node id, built once per version: every gateway call admits its peer by it.
    /// The verifier refuses a root listing one SPIFFE id twice, so each id names one node.
    node_by_spiffe_id: HashMap<String, String>,
}

impl Registry {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        state: SignedState,
        root: Root,
        timestamp: Timestamp,
        regions: BTreeMap<RegionCode, VerifiedRegion>,
        agreements: BTreeMap<String, Agreement>,
        checkpoint: Checkpoint,
        leaves: Vec<Hash>,
        published_in: BTreeMap<(String, u64), u64>,
    ) -> Self {
        let node_by_spiffe_id = root
            .nodes
            .iter()
            .map(|(id, n)| (n.spiffe_id.clone(), id.clone()))
            .collect();
        Self {
            state,
            root,
            timestamp,
            regions,
            agreements,
            checkpoint,
            leaves,
            published_in,
            node_by_spiffe_id,
        }
    }

    /// The registry version (the timestamp's), reported with every verdict.
    pub fn version(&self) -> u64 {
        self.timestamp.version
    }

    pub fn root(&self) -> &Root {
        &self.root
    }

    pub fn timestamp(&self) -> &Timestamp {
        &self.timestamp
    }

    /// When this registry stops being one a node may judge by: the earliest expiry of anything a
    /// start-up would check (timestamp, root, delegations, region documents, agreements). From
    /// then on the verifier refuses it, so a running node must stop passing codes under it too.
    pub fn expires(&self) -> OffsetDateTime {
        let regions = self
            .regions
            .values()
            .flat_map(|r| [r.delegation.expires, r.document.expires]);
        let agreements = self.agreements.values().map(|a| a.expires);
        [self.timestamp.expires, self.root.expires]
            .into_iter()
            .chain(regions)
            .chain(agreements)
            .min()
            .unwrap_or(self.timestamp.expires)
    }

    /// The exact signed state, to serve or store.
    pub fn state(&self) -> &SignedState {
        &self.state
    }

    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    /// The signed checkpoint envelope (log signature and any witness cosignatures).
    pub fn signed_checkpoint(&self) -> Option<&Envelope> {
        self.state.log.checkpoints.last()
    }

    pub fn regions(&self) -> impl Iterator<Item = &VerifiedRegion> {
        self.regions.values()
    }

    /// The region document that governs `region` (a city or county is governed by its province).
    pub fn region(&self, region: RegionCode) -> Option<&VerifiedRegion> {
        self.regions
            .get(&region)
            .or_else(|| self.regions.get(&region.province()))
    }

    pub fn concept_map(&self, region: RegionCode) -> Option<&ConceptMap> {
        self.region(region).map(|r| &r.document.concept_map)
    }

    /// Whether `issuer` of `region` is a probe issuer whose codes are synthetic test persons
    /// (the reverse-testing prober's): judged like any other code, never counted as people.
    pub fn is_synthetic_issuer(&self, region: RegionCode, issuer: &str) -> bool {
        self.region(region)
            .and_then(|r| r.document.issuers.get(issuer))
            .is_some_and(|i| i.synthetic)
    }

    /// `label` of `region` as a canonical colour `now`; UNKNOWN when the region or label is unknown.
    pub fn translate(
        &self,
        region: RegionCode,
        label: &str,
        refreshed_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Colour {
        self.concept_map(region)
            .map(|m| m.translate(label, refreshed_at, now))
            .unwrap_or(Colour::Unknown)
    }

    pub fn agreements(&self) -> impl Iterator<Item = &Agreement> {
        self.agreements.values()
    }

    /// The agreement under which `verifying` judges `issuing`'s codes at `at`: an effective
    /// bilateral agreement between the two provinces if there is one, else the most specific
    /// effective national agreement. `None` means no agreement: the verdict is REVIEW.
    pub fn agreement(
        &self,
        verifying: RegionCode,
        issuing: RegionCode,
        at: OffsetDateTime,
    ) -> Option<&Agreement> {
        let (v, i) = (verifying.province(), issuing.province());
        self.agreements
            .values()
            .filter(|a| a.is_effective(at))
            .filter_map(|a| {
                let s = a.specificity(v.as_str(), i.as_str())?;
                let bilateral = u8::from(a.kind == AgreementKind::Bilateral);
                Some(((s, bilateral), a))
            })
            .max_by_key(|(rank, _)| *rank)
            .map(|(_, a)| a)
    }

    /// Gateway nodes by id.
    pub fn nodes(&self) -> &BTreeMap<String, Node> {
        &self.root.nodes
    }

    /// The id of the node listed under `spiffe_id`, if any.
    pub fn node_of(&self, spiffe_id: &str) -> Option<&str> {
        self.node_by_spiffe_id.get(spiffe_id).map(String::as_str)
    }

    /// The key node `node_id` signs recognition receipts with, as the root lists it.
    pub fn receipt_key(&self, node_id: &str) -> Option<&PublicKey> {
        self.root.nodes.get(node_id).map(|n| &n.receipt_key)
    }

    /// The key that signs `node_id`'s audit checkpoints, when the root lists one.
    pub fn audit_key(&self, node_id: &str) -> Option<&PublicKey> {
        self.root.nodes.get(node_id)?.audit_key.as_ref()
    }

    /// The node whose receipt key has this id, if any: how a receipt verifier finds its signer.
    pub fn receipt_signer(&self, key_id: &crate::KeyId) -> Option<(&str, &PublicKey)> {
        self.root
            .nodes
            .iter()
            .find(|(_, n)| n.receipt_key.key_id() == *key_id)
            .map(|(id, n)| (id.as_str(), &n.receipt_key))
    }

    /// The node that hosts `region`'s adapter.
    pub fn node_for_region(&self, region: RegionCode) -> Option<(&str, &Node)> {
        let code = region.province();
        self.root
            .nodes
            .iter()
            .find(|(_, n)| n.regions.iter().any(|r| r == code.as_str()))
            .map(|(id, n)| (id.as_str(), n))
    }

    /// The registry version that published version `version` of document `name`.
    pub fn published_in(&self, name: &str, version: u64) -> Option<u64> {
        self.published_in.get(&(name.to_string(), version)).copied()
    }

    /// Documents published after registry version `since` (everything for 0) as (name, version,
    /// envelope): every root version (a client walks the chain forward from the one it holds),
    /// the current region documents and agreements, and the timestamp.
    pub fn documents_since(&self, since: u64) -> Vec<(String, u64, &Envelope)> {
        let mut out = Vec::new();
        let mut push = |name: &str, version: u64, env| {
            if since == 0 || self.published_in(name, version).is_none_or(|v| v > since) {
                out.push((name.to_string(), version, env));
            }
        };
        for env in &self.state.roots {
            if let Ok(v) = crate::doc::document_version(crate::doc::ROOT, env) {
                push(crate::doc::ROOT, v, env);
            }
        }
        for (name, env) in &self.state.documents {
            if let Ok(v) = crate::doc::document_version(name, env) {
                push(name, v, env);
            }
        }
        push(
            crate::doc::TIMESTAMP,
            self.timestamp.version,
            &self.state.timestamp,
        );
        out
    }

    pub fn leaves(&self) -> &[Hash] {
        &self.leaves
    }

    /// Index and audit path of the leaf with hash `leaf` in the tree of `tree_size` leaves.
    pub fn prove_inclusion(
        &self,
        leaf: &Hash,
        tree_size: u64,
    ) -> Result<(u64, Vec<Hash>), ProofError> {
        let size = usize::try_from(tree_size).unwrap_or(usize::MAX);
        if size > self.leaves.len() {
            return Err(ProofError::IndexOutOfRange {
                index: tree_size,
                size: self.leaves.len() as u64,
            });
        }
        let index = self.leaves[..size].iter().position(|l| l == leaf).ok_or(
            ProofError::IndexOutOfRange {
                index: u64::MAX,
                size: tree_size,
            },
        )?;
        Ok((index as u64, inclusion_proof(index, &self.leaves[..size])?))
    }

    /// Proof that the log at `first` leaves is a prefix of the log at `second`.
    pub fn prove_consistency(&self, first: u64, second: u64) -> Result<Vec<Hash>, ProofError> {
        let second = usize::try_from(second).unwrap_or(usize::MAX);
        if second > self.leaves.len() {
            return Err(ProofError::Shrunk {
                first: second as u64,
                second: self.leaves.len() as u64,
            });
        }
        consistency_proof(
            usize::try_from(first).unwrap_or(usize::MAX),
            &self.leaves[..second],
        )
    }
}

/// What an issuer's key is asked to vouch for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signing {
    /// A code: refused once any revocation is in effect at its signing time.
    Code,
    /// A status list of the issuer's codes: refused only by a revocation that invalidates all
    /// its codes, since the codes a superseded issuer signed before stay in force.
    StatusList,
}

impl Registry {
    fn key_for(
        &self,
        region: RegionCode,
        issuer: &str,
        signed_at: OffsetDateTime,
        signing: Signing,
    ) -> Result<IssuerKey, TrustError> {
        let r = self
            .region(region)
            .ok_or(TrustError::UnknownRegion(region))?;
        let unknown = || TrustError::UnknownIssuer {
            region,
            issuer: issuer.to_string(),
        };
        let entry = r.document.issuers.get(issuer).ok_or_else(unknown)?;
        let facts = r.issuers.get(issuer).ok_or_else(unknown)?;
        if let Some(rev) = r
            .document
            .revocations
            .iter()
            // A compromised key can sign any `signed_at`, so its time proves nothing.
            .filter(|rev| {
                rev.issuer == issuer
                    && (rev.reason.invalidates_all_codes()
                        || (signing == Signing::Code && rev.effective_from <= signed_at))
            })
            .min_by_key(|rev| rev.effective_from)
        {
            return Err(TrustError::Revoked {
                issuer: issuer.to_string(),
                effective_from: rev.effective_from,
                reason: rev.reason.to_string(),
            });
        }
        let from = entry.not_before.max(facts.not_before);
        let until = entry.not_after.min(facts.not_after);
        if entry.status != IssuerStatus::Active || signed_at < from || signed_at > until {
            return Err(TrustError::NotValidAt {
                issuer: issuer.to_string(),
                at: signed_at,
            });
        }
        Ok(facts.key.to_adapter())
    }
}

impl TrustView for Registry {
    fn issuer_key(
        &self,
        region: RegionCode,
        issuer: &str,
        signed_at: OffsetDateTime,
    ) -> Result<IssuerKey, TrustError> {
        self.key_for(region, issuer, signed_at, Signing::Code)
    }

    fn status_list_key(
        &self,
        region: RegionCode,
        issuer: &str,
        signed_at: OffsetDateTime,
    ) -> Result<IssuerKey, TrustError> {
        self.key_for(region, issuer, signed_at, Signing::StatusList)
    }

    fn status_service(&self, region: RegionCode) -> Option<StatusService> {
        let r = self.region(region)?;
        let endpoint = r.document.status_service.as_ref()?;
        Some(StatusService {
            url: endpoint.url.clone(),
            spiffe_id: endpoint.spiffe_id.clone(),
            ca_der: r.delegation.ca_certificate.clone(),
        })
    }

    fn cache_ttl(&self, region: RegionCode) -> Duration {
        self.region(region)
            .map(|r| Duration::from_secs(r.document.cache_ttl_secs))
            .unwrap_or(Duration::ZERO)
    }
}
