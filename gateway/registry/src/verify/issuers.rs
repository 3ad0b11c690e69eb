//! The issuer certificates of a region document, checked against the region CA (parsed once):
//! spread across the cores, and taken over from the held state where the very same certificate
//! was already checked against the very same CA. The answer, and the first error in document
//! order, are those of checking every certificate one by one.

use std::collections::{BTreeMap, HashMap};

use sha2::{Digest, Sha256};

use crate::doc::{Delegation, Issuer, RegionDocument};
use crate::error::{DocumentError, VerifyError};
use crate::keys::Algorithm;
use crate::registry::VerifiedRegion;
use crate::x509::{CertFacts, CertProblem, RegionCa};

use super::spread::spread;

/// What each issuer certificate of `doc`, checked against the region CA, says. `held` is the
/// same region in the state already trusted.
pub(super) fn issuer_facts(
    code: &str,
    doc: &RegionDocument,
    delegation: &Delegation,
    held: Option<&VerifiedRegion>,
) -> Result<BTreeMap<String, CertFacts>, VerifyError> {
    let checked = Checked::from_held(held);
    let entries: Vec<(&String, &Issuer)> = doc.issuers.iter().collect();
    let ca = delegation.ca_certificate.as_slice();
    let region_ca = RegionCa::parse(ca);
    let results = spread(&entries, |(_, issuer)| {
        checked.check(issuer, ca, &region_ca)
    });
    let mut facts = BTreeMap::new();
    for ((id, _), result) in entries.into_iter().zip(results) {
        let checked = result.map_err(|problem| DocumentError::IssuerCertificate {
            region: code.to_string(),
            issuer: id.clone(),
            problem,
        })?;
        facts.insert(id.clone(), checked);
    }
    Ok(facts)
}

/// The held state's certificate checks, by the digest of everything a check depends on.
struct Checked<'h>(HashMap<[u8; 32], &'h CertFacts>);

impl<'h> Checked<'h> {
    fn from_held(held: Option<&'h VerifiedRegion>) -> Self {
        let Some(held) = held else {
            return Self(HashMap::new());
        };
        let ca = held.delegation.ca_certificate.as_slice();
        let by_digest = held
            .document
            .issuers
            .iter()
            .filter_map(|(id, issuer)| {
                let facts = held.issuers.get(id)?;
                Some((digest(&issuer.certificate, ca, issuer.algorithm), facts))
            })
            .collect();
        Self(by_digest)
    }

    /// The held check of the same certificate, CA and algorithm, or a fresh one.
    fn check(
        &self,
        issuer: &Issuer,
        ca: &[u8],
        region_ca: &RegionCa<'_>,
    ) -> Result<CertFacts, CertProblem> {
        if !self.0.is_empty()
            && let Some(facts) = self
                .0
                .get(&digest(&issuer.certificate, ca, issuer.algorithm))
        {
            return Ok((*facts).clone());
        }
        region_ca.check_issuer(&issuer.certificate, issuer.algorithm)
    }
}

/// SHA-256 over the certificate, the CA and the declared algorithm, each length-prefixed so
/// that no two different inputs run together into the same bytes.
fn digest(cert: &[u8], ca: &[u8], algorithm: Algorithm) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [cert, ca, algorithm.as_str().as_bytes()] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use huren_certs::{Ca, IssuerAlgorithm, LeafSpec};
    use time::{Duration, OffsetDateTime};

    use super::*;
    use crate::doc::IssuerStatus;
    use crate::envelope::KeySet;
    use crate::x509;

    fn der(pem: &str) -> Vec<u8> {
        x509::pem_to_der(pem.as_bytes()).unwrap().remove(0)
    }

    fn certificate(ca: &Ca, n: usize) -> Vec<u8> {
        let spec = LeafSpec {
            algorithm: IssuerAlgorithm::Ed25519,
            client_auth: false,
            code_signing: true,
            ..LeafSpec::client(&format!("issuer {n}"), "spiffe://t/issuer")
        };
        der(&ca.issue(&spec).unwrap().0)
    }

    fn issuer(certificate: Vec<u8>) -> Issuer {
        let now = OffsetDateTime::now_utc();
        Issuer {
            algorithm: Algorithm::Ed25519,
            certificate,
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(1),
            status: IssuerStatus::Active,
            synthetic: false,
        }
    }

    /// A region CA and a document listing `count` issuers it certified, ids in document order.
    fn region(count: usize) -> (Ca, Delegation, RegionDocument) {
        let root = Ca::new_root("root").unwrap();
        let ca = root.new_intermediate("region CA").unwrap();
        let delegation = Delegation {
            name: "region".into(),
            keys: KeySet::new([], 1),
            ca_certificate: der(&ca.cert_pem),
            expires: OffsetDateTime::now_utc() + Duration::days(1),
        };
        let issuers = (0..count)
            .map(|n| (format!("i-{n:02}"), issuer(certificate(&ca, n))))
            .collect();
        let doc = RegionDocument {
            region: "330000".into(),
            version: 1,
            expires: OffsetDateTime::now_utc() + Duration::days(1),
            system: "s".into(),
            issuers,
            revocations: Vec::new(),
            status_service: None,
            concept_map: Default::default(),
            cache_ttl_secs: 30,
        };
        (ca, delegation, doc)
    }

    fn failing_issuer(err: VerifyError) -> (String, CertProblem) {
        match err {
            VerifyError::Document(DocumentError::IssuerCertificate {
                issuer, problem, ..
            }) => (issuer, problem),
            other => panic!("not an issuer certificate error: {other:?}"),
        }
    }

    #[test]
    fn many_certificates_give_what_one_by_one_gives_and_the_first_error_in_document_order() {
        let (_, delegation, mut doc) = region(40);
        let facts = issuer_facts("330000", &doc, &delegation, None).unwrap();
        assert_eq!(facts.len(), 40);
        for (id, issuer) in &doc.issuers {
            let alone = x509::check_issuer(
                &issuer.certificate,
                &delegation.ca_certificate,
                issuer.algorithm,
            )
            .unwrap();
            assert_eq!(facts[id], alone);
        }
        // Two bad certificates, in different threads' shares: the earlier one is named.
        let other_ca = Ca::new_root("another CA").unwrap();
        let stranger = certificate(&other_ca, 99);
        for id in ["i-07", "i-33"] {
            doc.issuers.insert(id.into(), issuer(stranger.clone()));
        }
        doc.issuers.get_mut("i-35").unwrap().algorithm = Algorithm::EcdsaP256;
        let (id, problem) =
            failing_issuer(issuer_facts("330000", &doc, &delegation, None).unwrap_err());
        assert_eq!(id, "i-07");
        assert!(matches!(problem, CertProblem::WrongCa { .. }));
        doc.issuers.remove("i-07");
        doc.issuers.remove("i-33");
        let (id, problem) =
            failing_issuer(issuer_facts("330000", &doc, &delegation, None).unwrap_err());
        assert_eq!(id, "i-35");
        assert!(matches!(problem, CertProblem::AlgorithmMismatch { .. }));
    }

    #[test]
    fn a_held_check_is_reused_only_for_the_same_certificate_ca_and_algorithm() {
        let (ca, delegation, doc) = region(3);
        let mut facts = issuer_facts("330000", &doc, &delegation, None).unwrap();
        // Mark the held facts, so that a reused check can be told from a fresh one.
        let marked = OffsetDateTime::UNIX_EPOCH;
        for f in facts.values_mut() {
            f.not_before = marked;
        }
        let held = VerifiedRegion {
            code: huren_adapters::RegionCode::ZHEJIANG,
            document: doc.clone(),
            delegation: delegation.clone(),
            issuers: facts,
        };
        // A new version: one issuer renamed, one new certificate, one declared differently.
        let mut next = doc.clone();
        let moved = next.issuers.remove("i-00").unwrap();
        next.issuers.insert("renamed".into(), moved);
        next.issuers
            .insert("i-01".into(), issuer(certificate(&ca, 7)));
        next.issuers.get_mut("i-02").unwrap().algorithm = Algorithm::EcdsaP256;
        let err = issuer_facts("330000", &next, &delegation, Some(&held)).unwrap_err();
        assert_eq!(
            failing_issuer(err).0,
            "i-02",
            "a changed algorithm is checked afresh"
        );
        next.issuers.get_mut("i-02").unwrap().algorithm = Algorithm::Ed25519;
        let got = issuer_facts("330000", &next, &delegation, Some(&held)).unwrap();
        assert_eq!(
            got["renamed"].not_before, marked,
            "same certificate: reused"
        );
        assert_eq!(got["i-02"].not_before, marked, "unchanged: reused");
        assert_ne!(got["i-01"].not_before, marked, "new certificate: checked");
        // Under another CA nothing held applies.
        let mut moved_ca = delegation.clone();
        moved_ca.ca_certificate = der(&Ca::new_root("new CA").unwrap().cert_pem);
        let err = issuer_facts("330000", &next, &moved_ca, Some(&held)).unwrap_err();
        assert!(matches!(failing_issuer(err).1, CertProblem::WrongCa { .. }));
    }
}
