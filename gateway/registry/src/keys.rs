//! Registry signing keys: Ed25519, ECDSA P-256 and SM2 public keys, their ids, and private keys in PKCS#8 PEM.

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ring::signature::{self as rsig, KeyPair as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Signature algorithm of a registry key or of an issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    Ed25519,
    /// ECDSA over P-256 with SHA-256, signatures in ASN.1 DER.
    EcdsaP256,
    /// SM2 with SM3 (GB/T 32918.2, GB/T 32905) and the default signer id; signatures are 64
    /// bytes `r || s`.
    Sm2,
}

impl Algorithm {
    pub fn as_str(&self) -> &'static str {
        match self {
            Algorithm::Ed25519 => "ed25519",
            Algorithm::EcdsaP256 => "ecdsa-p256",
            Algorithm::Sm2 => "sm2",
        }
    }

    pub fn to_adapter(self) -> huren_adapters::KeyAlgorithm {
        match self {
            Algorithm::Ed25519 => huren_adapters::KeyAlgorithm::Ed25519,
            Algorithm::EcdsaP256 => huren_adapters::KeyAlgorithm::EcdsaP256Sha256,
            Algorithm::Sm2 => huren_adapters::KeyAlgorithm::Sm2Sm3,
        }
    }
}

/// Lower-case hex SHA-256 of a public key's bytes (raw 32 bytes for Ed25519, the uncompressed
/// SEC1 point for P-256 and SM2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KeyId(pub String);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl KeyId {
    /// The first 12 hex digits, for people reading a ceremony transcript.
    pub fn short(&self) -> &str {
        self.0.get(..12).unwrap_or(&self.0)
    }
}

/// A public key as registry documents list it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PublicKey {
    pub algorithm: Algorithm,
    #[serde(with = "crate::canonical::b64")]
    pub public: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("not a PEM private key (expected a PKCS#8 block labelled PRIVATE KEY)")]
    NotPem,
    #[error("the PEM body is not base64: {0}")]
    Base64(String),
    #[error("PKCS#8 key is neither Ed25519, ECDSA P-256 nor SM2")]
    UnsupportedKey,
    #[error("public key of {algorithm} has {len} bytes, expected {expected}")]
    BadPublicKey {
        algorithm: &'static str,
        len: usize,
        expected: usize,
    },
    #[error("key generation failed")]
    Generate,
    #[error("signing failed")]
    Sign,
}

/// A private key file that cannot be used, and which file it was.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Key { path: PathBuf, source: KeyError },
}

impl PublicKey {
    pub fn new(algorithm: Algorithm, public: Vec<u8>) -> Result<Self, KeyError> {
        let expected = match algorithm {
            Algorithm::Ed25519 => 32,
            Algorithm::EcdsaP256 | Algorithm::Sm2 => 65,
        };
        if public.len() != expected {
            return Err(KeyError::BadPublicKey {
                algorithm: algorithm.as_str(),
                len: public.len(),
                expected,
            });
        }
        Ok(Self { algorithm, public })
    }

    pub fn key_id(&self) -> KeyId {
        KeyId(hex::encode(Sha256::digest(&self.public)))
    }

    /// True when `signature` over `message` verifies under this key. Never panics on bad input.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self.algorithm {
            // The codec's strict check, with its cache of decompressed keys: a status statement
            // is checked under the same node key on every forwarded read.
            Algorithm::Ed25519 => {
                huren_adapters::codec::verify::verify_ed25519(&self.public, message, signature)
            }
            Algorithm::EcdsaP256 => {
                rsig::UnparsedPublicKey::new(&rsig::ECDSA_P256_SHA256_ASN1, &self.public)
                    .verify(message, signature)
                    .is_ok()
            }
            Algorithm::Sm2 => {
                huren_adapters::codec::verify::verify_sm2(&self.public, message, signature)
            }
        }
    }

    pub fn to_adapter(&self) -> huren_adapters::IssuerKey {
        huren_adapters::IssuerKey {
            algorithm: self.algorithm.to_adapter(),
            public_key: self.public.clone(),
        }
    }
}

/// A private key that signs registry documents, receipts or checkpoints.
pub enum SigningKey {
    Ed25519(ed25519_dalek::SigningKey),
    EcdsaP256 {
        pair: rsig::EcdsaKeyPair,
        pkcs8: Vec<u8>,
    },
    Sm2 {
        key: Box<sm2::dsa::SigningKey>,
        pkcs8: Vec<u8>,
    },
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({})", self.public_key().key_id())
    }
}

/// The PEM label of a PKCS#8 private key.
const PEM_LABEL: &str = "PRIVATE KEY";

/// Wraps `body` (already base64) in PEM armour with [`PEM_LABEL`].
fn pem_armour(body: &str) -> String {
    format!("-----BEGIN {PEM_LABEL}-----\n{body}-----END {PEM_LABEL}-----\n")
}

impl SigningKey {
    pub fn generate(algorithm: Algorithm) -> Result<Self, KeyError> {
        match algorithm {
            Algorithm::Ed25519 => Ok(SigningKey::Ed25519(ed25519_dalek::SigningKey::generate(
                &mut rand_core::OsRng,
            ))),
            Algorithm::EcdsaP256 => {
                let rng = ring::rand::SystemRandom::new();
                let doc =
                    rsig::EcdsaKeyPair::generate_pkcs8(&rsig::ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
                        .map_err(|_| KeyError::Generate)?;
                Self::from_pkcs8_der(doc.as_ref())
            }
            Algorithm::Sm2 => {
                let der = huren_adapters::codec::signer::generate_sm2_pkcs8()
                    .ok_or(KeyError::Generate)?;
                Self::from_pkcs8_der(&der)
            }
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        match self {
            SigningKey::Ed25519(_) => Algorithm::Ed25519,
            SigningKey::EcdsaP256 { .. } => Algorithm::EcdsaP256,
            SigningKey::Sm2 { .. } => Algorithm::Sm2,
        }
    }

    pub fn public_key(&self) -> PublicKey {
        match self {
            SigningKey::Ed25519(k) => PublicKey {
                algorithm: Algorithm::Ed25519,
                public: k.verifying_key().to_bytes().to_vec(),
            },
            SigningKey::EcdsaP256 { pair, .. } => PublicKey {
                algorithm: Algorithm::EcdsaP256,
                public: pair.public_key().as_ref().to_vec(),
            },
            SigningKey::Sm2 { key, .. } => PublicKey {
                algorithm: Algorithm::Sm2,
                public: key.verifying_key().to_sec1_bytes().to_vec(),
            },
        }
    }

    pub fn key_id(&self) -> KeyId {
        self.public_key().key_id()
    }

    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        match self {
            SigningKey::Ed25519(k) => {
                use ed25519_dalek::Signer;
                Ok(k.sign(message).to_bytes().to_vec())
            }
            SigningKey::EcdsaP256 { pair, .. } => {
                let rng = ring::rand::SystemRandom::new();
                pair.sign(&rng, message)
                    .map(|s| s.as_ref().to_vec())
                    .map_err(|_| KeyError::Sign)
            }
            SigningKey::Sm2 { key, .. } => {
                use sm2::dsa::signature::Signer;
                let sig: sm2::dsa::Signature = key.try_sign(message).map_err(|_| KeyError::Sign)?;
                Ok(sig.to_vec())
            }
        }
    }

    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
            return Ok(SigningKey::Ed25519(k));
        }
        let rng = ring::rand::SystemRandom::new();
        if let Ok(pair) =
            rsig::EcdsaKeyPair::from_pkcs8(&rsig::ECDSA_P256_SHA256_ASN1_SIGNING, der, &rng)
        {
            return Ok(SigningKey::EcdsaP256 {
                pair,
                pkcs8: der.to_vec(),
            });
        }
        sm2_signing_key(der)
            .map(|key| SigningKey::Sm2 {
                key: Box::new(key),
                pkcs8: der.to_vec(),
            })
            .ok_or(KeyError::UnsupportedKey)
    }

    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, KeyError> {
        match self {
            SigningKey::Ed25519(k) => k
                .to_pkcs8_der()
                .map(|d| d.as_bytes().to_vec())
                .map_err(|_| KeyError::Generate),
            SigningKey::EcdsaP256 { pkcs8, .. } | SigningKey::Sm2 { pkcs8, .. } => {
                Ok(pkcs8.clone())
            }
        }
    }

    /// Reads a PKCS#8 PEM private key (as written by [`Self::to_pem`] or rcgen).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        use rustls_pki_types::PrivatePkcs8KeyDer;
        use rustls_pki_types::pem::{Error as PemError, PemObject};
        let der = PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes()).map_err(|e| match e {
            PemError::Base64Decode(detail) => KeyError::Base64(detail),
            _ => KeyError::NotPem,
        })?;
        Self::from_pkcs8_der(der.secret_pkcs8_der())
    }

    /// Reads one PKCS#8 PEM private key file.
    pub fn from_pem_file(path: &Path) -> Result<Self, KeyFileError> {
        let pem = std::fs::read_to_string(path).map_err(|source| KeyFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_pem(&pem).map_err(|source| KeyFileError::Key {
            path: path.to_path_buf(),
            source,
        })
    }

    pub fn to_pem(&self) -> Result<String, KeyError> {
        let b64 = B64.encode(self.to_pkcs8_der()?);
        let mut body = String::with_capacity(b64.len() + b64.len() / 64 + 1);
        for chunk in b64.as_bytes().chunks(64) {
            body.push_str(std::str::from_utf8(chunk).unwrap_or_default());
            body.push('\n');
        }
        Ok(pem_armour(&body))
    }
}

/// An SM2 PKCS#8 document as a signer with the standard's default signer id.
fn sm2_signing_key(der: &[u8]) -> Option<sm2::dsa::SigningKey> {
    use sm2::pkcs8::DecodePrivateKey as _;
    let secret = sm2::SecretKey::from_pkcs8_der(der).ok()?;
    sm2::dsa::SigningKey::new(huren_adapters::codec::verify::SM2_DEFAULT_ID, &secret).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_signs_verifies_and_round_trip_through_pem() {
        for alg in [Algorithm::Ed25519, Algorithm::EcdsaP256, Algorithm::Sm2] {
            let key = SigningKey::generate(alg).unwrap();
            let sig = key.sign(b"hello").unwrap();
            assert!(key.public_key().verify(b"hello", &sig));
            assert!(!key.public_key().verify(b"hellO", &sig));
            let again = SigningKey::from_pem(&key.to_pem().unwrap()).unwrap();
            assert_eq!(again.key_id(), key.key_id());
            assert_eq!(key.key_id().0.len(), 64);
        }
    }

    #[test]
    fn an_sm2_signature_does_not_pass_as_another_algorithm_or_on_another_curve() {
        let sm2 = SigningKey::generate(Algorithm::Sm2).unwrap();
        let sig = sm2.sign(b"hello").unwrap();
        let public = sm2.public_key();
        let as_p256 = PublicKey::new(Algorithm::EcdsaP256, public.public.clone()).unwrap();
        assert!(!as_p256.verify(b"hello", &sig));
        let p256 = SigningKey::generate(Algorithm::EcdsaP256)
            .unwrap()
            .public_key();
        let wrong_curve = PublicKey::new(Algorithm::Sm2, p256.public).unwrap();
        assert!(!wrong_curve.verify(b"hello", &sig));
        assert!(public.verify(b"hello", &sig));
    }

    #[test]
    fn garbage_pem_is_an_error_not_a_panic() {
        assert_eq!(SigningKey::from_pem("nope").unwrap_err(), KeyError::NotPem);
        let bad = pem_armour("!!!\n");
        assert!(matches!(
            SigningKey::from_pem(&bad),
            Err(KeyError::Base64(_))
        ));
        let wrong = pem_armour("AAAA\n");
        assert_eq!(
            SigningKey::from_pem(&wrong).unwrap_err(),
            KeyError::UnsupportedKey
        );
    }
}
