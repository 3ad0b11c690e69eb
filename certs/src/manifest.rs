//! `manifest.json`: the index of a PKI directory, read by every part that needs a certificate or key.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Signature algorithm of a region's code-signing issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IssuerAlgorithm {
    Ed25519,
    EcdsaP256,
    /// SM2 with SM3 (GB/T 32918, GB/T 32905).
    Sm2,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub trust_domain: String,
    pub root_ca: PathBuf,
    /// Private key of the national root; a real deployment keeps it offline.
    pub root_key: PathBuf,
    pub gateway: GatewayEntry,
    pub regions: Vec<RegionEntry>,
    pub clients: Vec<ClientEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayEntry {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub spiffe_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionEntry {
    /// GB/T 2260 code, e.g. "330000".
    pub region: String,
    /// English name, e.g. "Zhejiang".
    pub name: String,
    pub ca: PathBuf,
    pub ca_key: PathBuf,
    pub issuer: IssuerEntry,
    /// Further code-signing issuers of the region (Hunan's SM2 issuer); older manifests have none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_issuers: Vec<IssuerEntry>,
    pub service: ServiceEntry,
}

/// The key a region signs its health codes with, certified by the region's CA.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuerEntry {
    /// Issuer id as the registry names it, e.g. "sc-2020-01".
    pub id: String,
    pub algorithm: IssuerAlgorithm,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// A probe issuer: it signs the reverse-testing prober's synthetic test persons, and the
    /// dev registry flags it so. Older manifests have none.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub synthetic: bool,
}

/// TLS server identity of the region's reference status service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEntry {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub spiffe_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientEntry {
    pub role: String,
    pub region: String,
    pub name: String,
    pub spiffe_id: String,
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {path}: {source} (create a PKI with `huren certs init --out DIR`)")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a huren PKI manifest: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("the PKI has no {0}")]
    Missing(String),
}

impl Manifest {
    pub const FILE: &'static str = "manifest.json";

    /// Reads `DIR/manifest.json`.
    pub fn load(dir: &Path) -> Result<Self, ManifestError> {
        let path = dir.join(Self::FILE);
        let bytes = std::fs::read(&path).map_err(|source| ManifestError::Read {
            path: path.clone(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|source| ManifestError::Parse { path, source })
    }

    pub fn region(&self, code: &str) -> Result<&RegionEntry, ManifestError> {
        self.regions
            .iter()
            .find(|r| r.region == code)
            .ok_or_else(|| ManifestError::Missing(format!("region {code}")))
    }

    /// Issuer `id` of region `code`: its main issuer or one of its extra ones.
    pub fn issuer(&self, code: &str, id: &str) -> Result<&IssuerEntry, ManifestError> {
        let region = self.region(code)?;
        std::iter::once(&region.issuer)
            .chain(&region.extra_issuers)
            .find(|i| i.id == id)
            .ok_or_else(|| ManifestError::Missing(format!("issuer {id} of region {code}")))
    }

    /// The first client certificate with this role (and region, when given).
    pub fn client(&self, role: &str, region: Option<&str>) -> Result<&ClientEntry, ManifestError> {
        self.clients
            .iter()
            .find(|c| c.role == role && region.is_none_or(|r| c.region == r))
            .ok_or_else(|| ManifestError::Missing(format!("client with role {role}")))
    }
}
