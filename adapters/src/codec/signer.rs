//! An issuer's signing key, loaded from PKCS#8 PEM: the issuing side of the codecs.

use std::path::Path;

use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
};

use crate::codec::verify::normalise_low_s;
use crate::trust::{IssuerKey, KeyAlgorithm};

#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    #[error("cannot read issuer key {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("issuer key is not a PEM \"PRIVATE KEY\" (PKCS#8) document")]
    NotPem,
    #[error("issuer key is neither an Ed25519, an ECDSA P-256 nor an SM2 PKCS#8 key")]
    UnsupportedKey,
    #[error("signing failed")]
    Sign,
    /// The dev PKI's manifest could not be read (tools and tests only).
    #[cfg(any(test, feature = "sim"))]
    #[error(transparent)]
    Pki(#[from] huren_certs::ManifestError),
}

enum Key {
    Ed25519(Ed25519KeyPair),
    P256(EcdsaKeyPair),
    Sm2(Box<sm2::dsa::SigningKey>),
}

/// A region's code-signing issuer: its registry id and private key.
pub struct IssuerSigner {
    issuer_id: String,
    key: Key,
    rng: SystemRandom,
}

impl std::fmt::Debug for IssuerSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        write!(
            f,
            "IssuerSigner({}, {:?})",
            self.issuer_id,
            self.algorithm()
        )
    }
}

impl IssuerSigner {
    /// Loads a PKCS#8 PEM private key (Ed25519, ECDSA P-256 or SM2), as `huren certs init` writes them.
    pub fn from_pkcs8_pem(issuer_id: &str, pem: &str) -> Result<Self, SignerError> {
        use rustls_pki_types::PrivatePkcs8KeyDer;
        use rustls_pki_types::pem::PemObject;
        let der =
            PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| SignerError::NotPem)?;
        Self::from_pkcs8_der(issuer_id, der.secret_pkcs8_der())
    }

    pub fn from_pkcs8_der(issuer_id: &str, der: &[u8]) -> Result<Self, SignerError> {
        let rng = SystemRandom::new();
        // rcgen writes Ed25519 keys as PKCS#8 v1 (no public key); ring needs "maybe_unchecked" for those.
        let key = if let Ok(k) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
            Key::Ed25519(k)
        } else if let Ok(k) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
        {
            Key::P256(k)
        } else if let Some(k) = sm2_signing_key(der) {
            Key::Sm2(Box::new(k))
        } else {
            return Err(SignerError::UnsupportedKey);
        };
        Ok(Self {
            issuer_id: issuer_id.to_string(),
            key,
            rng,
        })
    }

    /// Reads the issuer's PKCS#8 PEM private key from `path`.
    pub fn from_pem_file(issuer_id: &str, path: &Path) -> Result<Self, SignerError> {
        let pem = std::fs::read_to_string(path).map_err(|source| SignerError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_pkcs8_pem(issuer_id, &pem)
    }

    /// The issuer of `region` in a dev PKI directory made by `huren certs init` (tools and tests).
    #[cfg(any(test, feature = "sim"))]
    pub fn from_pki(dir: &Path, region: &str) -> Result<Self, SignerError> {
        let manifest = huren_certs::Manifest::load(dir)?;
        let entry = manifest.region(region)?;
        Self::from_pem_file(&entry.issuer.id, &dir.join(&entry.issuer.key))
    }

    /// Issuer `issuer_id` of `region` in a dev PKI directory: the main one or an extra one
    /// (Hunan's SM2 issuer), for tools and tests.
    #[cfg(any(test, feature = "sim"))]
    pub fn from_pki_issuer(dir: &Path, region: &str, issuer_id: &str) -> Result<Self, SignerError> {
        let manifest = huren_certs::Manifest::load(dir)?;
        let entry = manifest.issuer(region, issuer_id)?;
        Self::from_pem_file(&entry.id, &dir.join(&entry.key))
    }

    /// A fresh random key, for tests and benchmarks.
    pub fn generate(issuer_id: &str, algorithm: KeyAlgorithm) -> Result<Self, SignerError> {
        let rng = SystemRandom::new();
        let pkcs8 = match algorithm {
            KeyAlgorithm::Ed25519 => Ed25519KeyPair::generate_pkcs8(&rng),
            KeyAlgorithm::EcdsaP256Sha256 => {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            }
            KeyAlgorithm::Sm2Sm3 => {
                let der = generate_sm2_pkcs8().ok_or(SignerError::Sign)?;
                return Self::from_pkcs8_der(issuer_id, &der);
            }
        }
        .map_err(|_| SignerError::Sign)?;
        Self::from_pkcs8_der(issuer_id, pkcs8.as_ref())
    }

    pub fn issuer_id(&self) -> &str {
        &self.issuer_id
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        match self.key {
            Key::Ed25519(_) => KeyAlgorithm::Ed25519,
            Key::P256(_) => KeyAlgorithm::EcdsaP256Sha256,
            Key::Sm2(_) => KeyAlgorithm::Sm2Sm3,
        }
    }

    /// The public key as the registry would list it.
    pub fn public_key(&self) -> IssuerKey {
        let public_key = match &self.key {
            Key::Ed25519(k) => k.public_key().as_ref().to_vec(),
            Key::P256(k) => k.public_key().as_ref().to_vec(),
            Key::Sm2(k) => k.verifying_key().to_sec1_bytes().to_vec(),
        };
        IssuerKey {
            algorithm: self.algorithm(),
            public_key,
        }
    }

    /// Ed25519: the 64-byte signature. P-256: 64 bytes `r || s`, with `s` in the lower half of
    /// the group order so that each message has one accepted signature (ECDSA is malleable).
    /// SM2: 64 bytes `r || s` over SM3 with the default signer id.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        match &self.key {
            Key::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
            Key::P256(k) => {
                let sig = k.sign(&self.rng, message).map_err(|_| SignerError::Sign)?;
                let mut fixed: [u8; 64] = sig.as_ref().try_into().map_err(|_| SignerError::Sign)?;
                normalise_low_s(&mut fixed);
                Ok(fixed.to_vec())
            }
            Key::Sm2(k) => {
                use sm2::dsa::signature::Signer as _;
                let sig: sm2::dsa::Signature =
                    k.try_sign(message).map_err(|_| SignerError::Sign)?;
                Ok(sig.to_vec())
            }
        }
    }
}

/// An SM2 PKCS#8 document (the curve named by its GB/T OID) as a signer with the default id.
fn sm2_signing_key(der: &[u8]) -> Option<sm2::dsa::SigningKey> {
    use sm2::pkcs8::DecodePrivateKey as _;
    let secret = sm2::SecretKey::from_pkcs8_der(der).ok()?;
    sm2::dsa::SigningKey::new(crate::codec::verify::SM2_DEFAULT_ID, &secret).ok()
}

/// A fresh SM2 key as PKCS#8 DER, from the operating system's randomness.
pub fn generate_sm2_pkcs8() -> Option<Vec<u8>> {
    use sm2::pkcs8::EncodePrivateKey as _;
    let secret = sm2::SecretKey::random(&mut rand::rngs::OsRng);
    Some(secret.to_pkcs8_der().ok()?.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_certificate_where_a_key_belongs() {
        let cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            IssuerSigner::from_pkcs8_pem("x", cert),
            Err(SignerError::NotPem)
        ));
    }

    #[test]
    fn loads_both_algorithms_from_a_dev_pki() {
        let dir = tempfile::tempdir().unwrap();
        huren_certs::init(dir.path(), &huren_certs::InitOptions::default()).unwrap();
        let gd = IssuerSigner::from_pki(dir.path(), "440000").unwrap();
        assert_eq!(gd.issuer_id(), "gd-2020-01");
        assert_eq!(gd.algorithm(), KeyAlgorithm::Ed25519);
        let sc = IssuerSigner::from_pki(dir.path(), "510000").unwrap();
        assert_eq!(sc.issuer_id(), "sc-2020-01");
        assert_eq!(sc.algorithm(), KeyAlgorithm::EcdsaP256Sha256);
        assert_eq!(sc.public_key().public_key.len(), 65);
    }

    /// The registry takes issuer keys from their X.509 certificates: the key we sign with must be
    /// the one the certificate certifies, in the same encoding, or no code would ever verify.
    #[test]
    fn the_signing_key_is_the_one_the_issuer_certificate_names() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = huren_certs::init(dir.path(), &huren_certs::InitOptions::default()).unwrap();
        for region in ["440000", "510000"] {
            let entry = manifest.region(region).unwrap();
            let pem = std::fs::read(dir.path().join(&entry.issuer.cert)).unwrap();
            let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
            let cert = pem.parse_x509().unwrap();
            let certified = cert.public_key().subject_public_key.data.to_vec();
            let signer = IssuerSigner::from_pki(dir.path(), region).unwrap();
            assert_eq!(signer.public_key().public_key, certified, "region {region}");
        }
        // Hunan's SM2 issuer: its certificate names the SM2 curve and certifies the signing key.
        let entry = manifest.issuer("430000", "hn-sm2-2026-01").unwrap();
        let pem = std::fs::read(dir.path().join(&entry.cert)).unwrap();
        let (_, pem) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
        let cert = pem.parse_x509().unwrap();
        let curve = cert.public_key().algorithm.parameters.as_ref().unwrap();
        assert_eq!(
            curve.as_oid().unwrap().to_id_string(),
            "1.2.156.10197.1.301"
        );
        let signer = IssuerSigner::from_pki_issuer(dir.path(), "430000", &entry.id).unwrap();
        assert_eq!(signer.algorithm(), KeyAlgorithm::Sm2Sm3);
        assert_eq!(
            signer.public_key().public_key,
            cert.public_key().subject_public_key.data.to_vec()
        );
    }
}
