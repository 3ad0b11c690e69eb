//! The dev PKI: how `huren certs init` lays out certificates and keys, and the manifest that names them.
//!
//! Layout under the output directory (all paths in `manifest.json` are relative to it):
//!
//! ```text
//! manifest.json
//! root/ca.pem, root/ca.key                      national root CA
//! regions/<code>/ca.pem, ca.key                 the region's CA, signed by the root
//! regions/<code>/issuer.pem, issuer.key         the region's code-signing issuer (Ed25519 or P-256)
//! regions/430000/issuer-sm2.pem, .key           Hunan's second issuer, SM2 with SM3
//! regions/<code>/service.pem, service.key       TLS server identity of the region's status service
//! gateway/server.pem, server.key                the gateway's TLS identity (server and federation client)
//! clients/<role>-<region>-<name>.pem, .key      one client certificate per caller role
//! ```
//!
//! Every leaf is issued by its region's CA (a city or county by its province's), every region
//! CA by the national root. Private keys are PKCS#8 PEM, written with mode 0600.

#![forbid(unsafe_code)]

mod generate;
mod manifest;
mod sm2_issuer;
mod trust_domain;

pub use generate::{Ca, InitOptions, LeafSpec, init, spiffe_id, write_new};
pub use manifest::{
    ClientEntry, GatewayEntry, IssuerAlgorithm, IssuerEntry, Manifest, ManifestError, RegionEntry,
    ServiceEntry,
};
pub use trust_domain::{TrustDomainError, check_trust_domain};

/// The trust domain of the dev PKI's SPIFFE identities.
pub const DEV_TRUST_DOMAIN: &str = "huren.dev";

/// Errors from creating or reading a PKI directory.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0} already holds a PKI; pass --force to overwrite it")]
    Exists(std::path::PathBuf),
    #[error("cannot write {path}: {source}")]
    Write {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    TrustDomain(#[from] TrustDomainError),
    #[error("cannot make an SM2 issuer certificate: {0}")]
    Sm2(String),
}
