//! A PKI directory made by `huren certs init`, resolved into the explicit files and PEM the
//! gateway library takes: the gateway's TLS files, a client's certificate, the trust roots.

use std::path::{Path, PathBuf};

use huren::config::TlsConfig;
use huren::connect::ClientTls;
use huren::tls::TlsFiles;
use huren_certs::{Manifest, ManifestError};

/// Where `huren serve` keeps its dev PKI when nothing else is configured.
pub const DEFAULT_DEV_PKI: &str = ".huren/dev";

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn read(path: &Path) -> Result<String, PkiError> {
    std::fs::read_to_string(path).map_err(|source| PkiError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// The root of a PKI and the first client certificate with `role` (and `region`, if given).
pub fn client_tls(dir: &Path, role: &str, region: Option<&str>) -> Result<ClientTls, PkiError> {
    let manifest = Manifest::load(dir)?;
    let client = manifest.client(role, region)?;
    Ok(
        ClientTls::trusting(read(&dir.join(&manifest.root_ca))?).with_identity(
            read(&dir.join(&client.cert))?,
            read(&dir.join(&client.key))?,
        ),
    )
}

/// Trusts the PKI's root but presents no certificate: the gateway must refuse this.
pub fn anonymous(dir: &Path) -> Result<ClientTls, PkiError> {
    let manifest = Manifest::load(dir)?;
    Ok(ClientTls::trusting(read(&dir.join(&manifest.root_ca))?))
}

/// The gateway identity, national root and region CAs of a PKI.
pub fn tls_files(dir: &Path) -> Result<TlsFiles, PkiError> {
    let manifest = Manifest::load(dir)?;
    Ok(TlsFiles {
        cert: dir.join(&manifest.gateway.cert),
        key: dir.join(&manifest.gateway.key),
        client_roots: dir.join(&manifest.root_ca),
        region_cas: manifest
            .regions
            .iter()
            .map(|r| (r.region.clone(), dir.join(&r.ca)))
            .collect(),
        trust_domain: manifest.trust_domain,
        allow_tls12: false,
    })
}

/// Fills `[tls]` from its PKI directory, or from the dev PKI when no TLS material is configured
/// at all; files named explicitly win over the PKI's.
pub fn resolve(tls: &mut TlsConfig) -> Result<(), PkiError> {
    let nothing_set = tls.cert.is_none() && tls.key.is_none() && tls.client_roots.is_none();
    let dir = match &tls.pki {
        Some(dir) => dir.clone(),
        None if nothing_set => PathBuf::from(DEFAULT_DEV_PKI),
        None => return Ok(()),
    };
    let files = tls_files(&dir)?;
    tls.cert.get_or_insert(files.cert);
    tls.key.get_or_insert(files.key);
    tls.client_roots.get_or_insert(files.client_roots);
    tls.trust_domain.get_or_insert(files.trust_domain);
    for (region, ca) in files.region_cas {
        tls.region_cas.entry(region).or_insert(ca);
    }
    Ok(())
}

/// The identity the node presents to regional status services that require mutual TLS: the
/// gateway certificate `[tls]` resolved to. `None` when it names no certificate and key.
pub fn gateway_identity(tls: &TlsConfig) -> Option<huren_adapters::net::ClientIdentity> {
    let (cert, key) = (tls.cert.as_ref()?, tls.key.as_ref()?);
    huren_adapters::net::ClientIdentity::from_files(cert, key).ok()
}
