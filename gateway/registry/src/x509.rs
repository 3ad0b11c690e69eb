//! Checks an issuer's X.509 signing certificate against the region CA its delegation names.
//!
//! Region scope comes from the delegation (which CA), not from X.509 name constraints.

use ::time::OffsetDateTime;
use x509_parser::oid_registry::{OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_SIG_ED25519};
use x509_parser::prelude::*;

use crate::keys::{Algorithm, PublicKey};

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
    #[error("the certificate's key is neither Ed25519 nor ECDSA P-256")]
    UnsupportedKey,
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
    let (_, ca) =
        X509Certificate::from_der(ca_der).map_err(|e| CertProblem::CaUnparseable(e.to_string()))?;
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
    let found = if spki.algorithm.algorithm == OID_SIG_ED25519 {
        Algorithm::Ed25519
    } else if spki.algorithm.algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY
        && spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok())
            .is_some_and(|curve| curve == OID_EC_P256)
    {
        Algorithm::EcdsaP256
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
    Ok(CertFacts {
        key,
        not_before: cert.validity().not_before.to_datetime(),
        not_after: cert.validity().not_after.to_datetime(),
    })
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
