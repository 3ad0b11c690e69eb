//! The dev registry: from a `huren certs init` PKI, a complete signed registry for the seven
//! reference regions with their real 2020 vocabularies, agreements among them, and the keys that
//! signed it (written under `REG/keys/`, mode 0600 — dev only; a real ceremony keeps keys offline).
//!
//! Built only for tests and with the `dev` feature: no served code needs it. [`keys`] makes and
//! stores the keys in the [`crate::keydir`] layout, [`fixtures`] holds the regions' vocabularies
//! and the agreements, [`build`] signs and republishes the whole registry, [`fork`] forges a
//! forked one for the tests that must refuse it.

pub mod build;
pub mod fixtures;
pub mod fork;
pub mod keys;

use std::collections::BTreeMap;
use std::path::PathBuf;

use huren_certs::ManifestError;
use time::Duration;

use crate::ceremony::PublishError;
use crate::keys::{KeyError, KeyFileError};
use crate::store::StoreError;
use crate::x509::CertProblem;

pub use build::DevRegistry;
pub use fixtures::{agreements, concept_map};
pub use keys::DevKeys;

/// The id of the single dev gateway node that hosts every region and signs receipts.
pub const DEV_NODE_ID: &str = crate::doc::DEFAULT_NODE_ID;

/// The regions whose reference services answer online in the demo; pass their URLs in
/// [`DevOptions::status_urls`].
pub const ONLINE_REGIONS: [&str; 3] = ["330000", "410000", "510000"];

/// What the dev registry is built with.
#[derive(Debug, Clone)]
pub struct DevOptions {
    /// Region code → base URL of its status service (e.g. `https://127.0.0.1:40123`). Regions
    /// not listed have no status service in the registry.
    pub status_urls: BTreeMap<String, String>,
    /// Lifetime of each timestamp (default one day; `huren registry publish` renews it).
    pub timestamp_lifetime: Duration,
    /// Where peers reach the dev gateway node, when known.
    pub node_url: Option<String>,
}

impl Default for DevOptions {
    fn default() -> Self {
        Self {
            status_urls: BTreeMap::new(),
            timestamp_lifetime: Duration::days(1),
            node_url: None,
        }
    }
}

/// Why the dev registry could not be built, opened or republished.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DevError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("{path}: {problem}")]
    Cert { path: PathBuf, problem: CertProblem },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Key { path: PathBuf, source: KeyError },
    #[error(transparent)]
    KeyFile(#[from] KeyFileError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    #[error("{0} already holds a registry; pass --force to replace it")]
    Exists(PathBuf),
    #[error("the dev registry has no {0}")]
    Missing(String),
}
