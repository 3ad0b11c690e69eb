//! Checks an issuer's X.509 signing certificate against the region CA its delegation names.
//!
//! Region scope comes from the delegation (which CA), not from X.509 name constraints.

use ::time::OffsetDateTime;
use x509_parser::oid_registry::{OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_SIG_ED25519};
use x509_parser::prelude::*;

use crate::keys::{Algorithm, PublicKey};

/// sm2p256v1 (1.2.156.10197.1.301, GB/T 32918.5), the content octets of its DER encoding: an SM2
/// key is an id-ecPublicKey on this curve.
const SM2_CURVE_OID: [u8; 8] = [0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d];

/// What a certificate that passed says about its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFacts {
    pub key: PublicKey,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertProblem {
    #[error("the certificate is not valid DER X.509: {0}")]
    Unparseable(String),
    #[error("the region CA certificate in the delegation is not valid DER X.509: {0}")]
    CaUnparseable(String),
    #[error("the certificate was issued by \"{issuer}\", not by the region CA \"{ca}\"")]
    WrongCa { issuer: String, ca: String },
    #[error(
        "the certificate names the region CA but its signature does not verify with the CA's key"
    )]
    BadSignature,
    #[error("the certificate's key is {found}, the registry entry says {declared}")]
    AlgorithmMismatch {
        declared: &'static str,
        found: String,
    },
    #[error("the certificate's key is neither Ed25519, ECDSA P-256 nor SM2")]
    UnsupportedKey,
    #[error(
        "the certificate's Ed25519 key is of small order or not a curve point: it would accept signatures nobody made"
    )]
    WeakKey,
    #[error("the certificate's SM2 key is not a point of the SM2 curve")]
    NotOnCurve,
}

/// Parses a DER certificate, for a CA named in a delegation.
pub fn check_ca(ca_der: &[u8]) -> Result<(), CertProblem> {
    X509Certificate::from_der(ca_der)
        .map(|_| ())
        .map_err(|e| CertProblem::CaUnparseable(e.to_string()))
}

/// The issuer certificate must be signed by `ca_der` and carry a key of `declared` algorithm.
/// Validity is returned, not judged: a code is judged at its own signing time.
pub fn check_issuer(
    cert_der: &[u8],
    ca_der: &[u8],
    declared: Algorithm,
) -> Result<CertFacts, CertProblem> {
    RegionCa::parse(ca_der).check_issuer(cert_der, declared)
}

/// A region CA certificate parsed once for all the issuers it certified: a region lists tens of
/// issuers, and parsing the same CA again for each was a tenth of a certificate check.
pub struct RegionCa<'a>(Result<X509Certificate<'a>, CertProblem>);

impl<'a> RegionCa<'a> {
    /// Parses `ca_der`; a CA that does not parse fails each issuer check with the reason.
    pub fn parse(ca_der: &'a [u8]) -> Self {
        Self(
            X509Certificate::from_der(ca_der)
                .map(|(_, ca)| ca)
                .map_err(|e| CertProblem::CaUnparseable(e.to_string())),
        )
    }

    /// [`check_issuer`] under this CA.
    pub fn check_issuer(
        &self,
        cert_der: &[u8],
        declared: Algorithm,
    ) -> Result<CertFacts, CertProblem> {
        let ca = self.0.as_ref().map_err(Clone::clone)?;
        signed_by(cert_der, ca, declared)
    }
}

/// The checks of [`check_issuer`] once the CA is parsed.
fn signed_by(
    cert_der: &[u8],
    ca: &X509Certificate<'_>,
    declared: Algorithm,
) -> Result<CertFacts, CertProblem> {
    let (_, cert) =
        X509Certificate::from_der(cert_der).map_err(|e| CertProblem::Unparseable(e.to_string()))?;
    if cert.issuer().as_raw() != ca.subject().as_raw() {
        return Err(CertProblem::WrongCa {
            issuer: cert.issuer().to_string(),
            ca: ca.subject().to_string(),
        });
    }
    cert.verify_signature(Some(ca.public_key()))
        .map_err(|_| CertProblem::BadSignature)?;
    let spki = cert.public_key();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok());
    let ec = spki.algorithm.algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY;
    let found = if spki.algorithm.algorithm == OID_SIG_ED25519 {
        Algorithm::Ed25519
    } else if ec && curve.as_ref().is_some_and(|c| *c == OID_EC_P256) {
        Algorithm::EcdsaP256
    } else if ec && curve.is_some_and(|c| c.as_bytes() == SM2_CURVE_OID) {
        Algorithm::Sm2
    } else {
        return Err(CertProblem::UnsupportedKey);
    };
    if found != declared {
        return Err(CertProblem::AlgorithmMismatch {
            declared: declared.as_str(),
            found: found.as_str().to_string(),
        });
    }
    let key = PublicKey::new(found, spki.subject_public_key.data.to_vec())
        .map_err(|_| CertProblem::UnsupportedKey)?;
    refuse_weak_key(&key)?;
    refuse_off_curve_sm2(&key)?;
    Ok(CertFacts {
        key,
        not_before: cert.validity().not_before.to_datetime(),
        not_after: cert.validity().not_after.to_datetime(),
    })
}

/// A small-order Ed25519 key verifies forged signatures; single checks (`verify_strict`) refuse
/// it, but batch verification does not, so such an issuer never enters the registry.
fn refuse_weak_key(key: &PublicKey) -> Result<(), CertProblem> {
    if key.algorithm != Algorithm::Ed25519 {
        return Ok(());
    }
    let bytes: [u8; 32] = key
        .public
        .as_slice()
        .try_into()
        .map_err(|_| CertProblem::WeakKey)?;
    match ed25519_dalek::VerifyingKey::from_bytes(&bytes) {
        Ok(k) if !k.is_weak() => Ok(()),
        _ => Err(CertProblem::WeakKey),
    }
}

/// An SM2 key must be a point of the SM2 curve: a P-256 point relabelled as SM2 is refused when
/// the registry loads, not at the first code.
fn refuse_off_curve_sm2(key: &PublicKey) -> Result<(), CertProblem> {
    if key.algorithm != Algorithm::Sm2 {
        return Ok(());
    }
    match huren_adapters::codec::verify::sm2_key(&key.public) {
        Some(_) => Ok(()),
        None => Err(CertProblem::NotOnCurve),
    }
}

/// DER of every certificate in a PEM bundle, in order.
pub fn pem_to_der(pem: &[u8]) -> Result<Vec<Vec<u8>>, CertProblem> {
    let mut out = Vec::new();
    for block in Pem::iter_from_buffer(pem) {
        let block = block.map_err(|e| CertProblem::Unparseable(e.to_string()))?;
        if block.label == "CERTIFICATE" {
            out.push(block.contents);
        }
    }
    if out.is_empty() {
        return Err(CertProblem::Unparseable(
            "no -----BEGIN CERTIFICATE----- block".into(),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The identity point as a subject key: rcgen certifies whatever public key it is handed.
    struct SmallOrderKey([u8; 32]);

    impl rcgen::PublicKeyData for SmallOrderKey {
        fn der_bytes(&self) -> &[u8] {
            &self.0
        }
        fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
            &rcgen::PKCS_ED25519
        }
    }

    #[test]
    fn an_issuer_with_a_small_order_ed25519_key_is_refused_with_a_reason() {
        let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let ca = rcgen::Issuer::new(ca_params, ca_key);
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        let weak = params.signed_by(&SmallOrderKey(identity), &ca).unwrap();
        let problem = check_issuer(weak.der(), ca_cert.der(), Algorithm::Ed25519).unwrap_err();
        assert_eq!(problem, CertProblem::WeakKey);
        assert!(problem.to_string().contains("small order"));

        // A real key under the same CA still passes.
        let good_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
        let params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        let good = params.signed_by(&good_key, &ca).unwrap();
        assert!(check_issuer(good.der(), ca_cert.der(), Algorithm::Ed25519).is_ok());
    }

    /// Region CA, one SM2 issuer certificate and one P-256 one under it, as DER.
    fn sm2_and_p256_issuers() -> (huren_certs::Ca, Vec<u8>, Vec<u8>, Vec<u8>) {
        let root = huren_certs::Ca::new_root("test root").unwrap();
        let ca = root.new_intermediate("test region CA").unwrap();
        let spec = |algorithm| huren_certs::LeafSpec {
            algorithm,
            client_auth: false,
            code_signing: true,
            ..huren_certs::LeafSpec::client("test issuer", "spiffe://t/issuer")
        };
        let der = |pem: &str| pem_to_der(pem.as_bytes()).unwrap().remove(0);
        let (sm2, _) = ca.issue(&spec(huren_certs::IssuerAlgorithm::Sm2)).unwrap();
        let (p256, _) = ca
            .issue(&spec(huren_certs::IssuerAlgorithm::EcdsaP256))
            .unwrap();
        let ca_der = der(&ca.cert_pem);
        (ca, ca_der, der(&sm2), der(&p256))
    }

    #[test]
    fn an_sm2_issuer_passes_as_sm2_and_only_as_sm2() {
        let (_, ca, sm2, p256) = sm2_and_p256_issuers();
        let facts = check_issuer(&sm2, &ca, Algorithm::Sm2).unwrap();
        assert_eq!(facts.key.algorithm, Algorithm::Sm2);
        assert_eq!(facts.key.public.len(), 65);
        assert!(matches!(
            check_issuer(&sm2, &ca, Algorithm::EcdsaP256),
            Err(CertProblem::AlgorithmMismatch { .. })
        ));
        assert!(matches!(
            check_issuer(&p256, &ca, Algorithm::Sm2),
            Err(CertProblem::AlgorithmMismatch { .. })
        ));
    }

    #[test]
    fn an_sm2_certificate_whose_key_is_a_p256_point_is_refused() {
        let (ca, ca_der, _, p256) = sm2_and_p256_issuers();
        let (_, cert) = X509Certificate::from_der(&p256).unwrap();
        let point = cert.public_key().subject_public_key.data.to_vec();
        let spec = huren_certs::LeafSpec {
            algorithm: huren_certs::IssuerAlgorithm::Sm2,
            ..huren_certs::LeafSpec::client("wrong curve", "spiffe://t/issuer")
        };
        let pem = ca.certify_as_sm2(&spec, point).unwrap();
        let der = pem_to_der(pem.as_bytes()).unwrap().remove(0);
        let problem = check_issuer(&der, &ca_der, Algorithm::Sm2).unwrap_err();
        assert_eq!(problem, CertProblem::NotOnCurve);
        assert!(problem.to_string().contains("SM2 curve"));
    }
}
