//! Binds each province to the one CA that may issue identities in it.
//!
//! rustls only checks that a client chain reaches the national root, and every region CA sits
//! under that root: without this check Henan's CA could mint a certificate that names a Zhejiang
//! province caller. A SPIFFE id's region is believed only when the leaf was signed by the CA
//! bound to that region's province.

use std::path::PathBuf;

use huren_adapters::RegionCode;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::identity::{IdentityError, Peer};

/// A region CA file that cannot serve as its province's CA.
#[derive(Debug, thiserror::Error)]
#[error("region CA for {region} in {path} is unusable: {detail}")]
pub struct RegionCaError {
    pub region: String,
    pub path: PathBuf,
    pub detail: String,
}

/// Province → DER of its CA. Empty means unbound: any CA under the root may name any region.
#[derive(Debug, Clone, Default)]
pub struct RegionCas {
    cas: Vec<(RegionCode, Vec<u8>)>,
}

impl RegionCas {
    /// Reads one PEM certificate per province (leaf-first chains take their first certificate).
    pub fn load(entries: &[(String, PathBuf)]) -> Result<Self, RegionCaError> {
        let mut cas = Vec::with_capacity(entries.len());
        for (region, path) in entries {
            let bad = |detail: String| RegionCaError {
                region: region.clone(),
                path: path.clone(),
                detail,
            };
            let code = RegionCode::parse(region).map_err(bad)?;
            let der = CertificateDer::from_pem_file(path).map_err(|e| bad(e.to_string()))?;
            X509Certificate::from_der(&der).map_err(|e| bad(e.to_string()))?;
            cas.push((code.province(), der.to_vec()));
        }
        Ok(Self { cas })
    }

    pub fn is_bound(&self) -> bool {
        !self.cas.is_empty()
    }

    /// Accepts `peer` only if `leaf_der` was issued and signed by its province's CA.
    pub fn check(&self, peer: &Peer, leaf_der: &[u8]) -> Result<(), IdentityError> {
        if self.cas.is_empty() {
            return Ok(());
        }
        let province = peer.region.province();
        let mismatch = || IdentityError::RegionCaMismatch {
            region: peer.region.to_string(),
            province: province.to_string(),
        };
        let (_, ca_der) = self
            .cas
            .iter()
            .find(|(code, _)| *code == province)
            .ok_or_else(mismatch)?;
        if issued_by(leaf_der, ca_der)? {
            Ok(())
        } else {
            Err(mismatch())
        }
    }
}

/// Whether `leaf_der` names `ca_der`'s subject as its issuer and carries its signature. An
/// unparsable CA issued nothing; an unparsable leaf names nobody.
pub(crate) fn issued_by(leaf_der: &[u8], ca_der: &[u8]) -> Result<bool, IdentityError> {
    let (_, leaf) = X509Certificate::from_der(leaf_der)
        .map_err(|e| IdentityError::Unparsable(e.to_string()))?;
    let Ok((_, ca)) = X509Certificate::from_der(ca_der) else {
        return Ok(false);
    };
    Ok(leaf.issuer().as_raw() == ca.subject().as_raw()
        && leaf.verify_signature(Some(ca.public_key())).is_ok())
}
