//! The reference service's TLS server identity, from the dev PKI (or a deliberately wrong one).

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::sim::ServiceError;

/// The service's rustls config: its certificate chain and key from the PKI, ALPN h2 and
/// http/1.1. With `wrong_identity`, a certificate from the right region CA naming another
/// SPIFFE id (a chain a client must still refuse because the identity is not the pinned one).
/// With `require_client`, callers must present a certificate chained to the national root
/// (which role it names is checked per connection, see [`is_gateway`]).
pub fn server_config(
    pki: &Path,
    region: &str,
    wrong_identity: bool,
    require_client: bool,
) -> Result<Arc<ServerConfig>, ServiceError> {
    let manifest =
        huren_certs::Manifest::load(pki).map_err(|e| ServiceError::Pki(e.to_string()))?;
    let entry = manifest
        .region(region)
        .map_err(|e| ServiceError::Pki(e.to_string()))?;
    let (cert_pem, key_pem) = if wrong_identity {
        let ca_pem = read(&pki.join(&entry.ca))?;
        let ca_key = read(&pki.join(&entry.ca_key))?;
        let ca = huren_certs::Ca::load(&ca_pem, &ca_key)
            .map_err(|e| ServiceError::Pki(e.to_string()))?;
        let impostor =
            huren_certs::spiffe_id(&manifest.trust_domain, region, "service", "impostor");
        let spec = huren_certs::LeafSpec::server(
            &format!("huren region {region} impostor status service"),
            &impostor,
        );
        let (cert, key) = ca
            .issue(&spec)
            .map_err(|e| ServiceError::Pki(e.to_string()))?;
        (format!("{cert}{ca_pem}"), key)
    } else {
        (
            read(&pki.join(&entry.service.cert))?,
            read(&pki.join(&entry.service.key))?,
        )
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| ServiceError::Pki(format!("service certificate: {e}")))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| ServiceError::Pki(format!("service key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| ServiceError::Tls(e.to_string()))?;
    let builder = if require_client {
        let root = CertificateDer::from_pem_file(pki.join(&manifest.root_ca))
            .map_err(|e| ServiceError::Pki(format!("national root: {e}")))?;
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(root)
            .map_err(|e| ServiceError::Pki(format!("national root: {e}")))?;
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| ServiceError::Tls(e.to_string()))?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| ServiceError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read(path: &Path) -> Result<String, ServiceError> {
    std::fs::read_to_string(path).map_err(|e| ServiceError::Pki(format!("{}: {e}", path.display())))
}

/// Whether a client certificate names a huren gateway of `trust_domain`: exactly one URI SAN,
/// `spiffe://<trust_domain>/region/<code>/role/gateway/<name>`.
pub fn is_gateway(cert: &CertificateDer<'_>, trust_domain: &str) -> bool {
    let Ok((_, parsed)) = x509_parser::parse_x509_certificate(cert.as_ref()) else {
        return false;
    };
    let Ok(Some(san)) = parsed.subject_alternative_name() else {
        return false;
    };
    let uris: Vec<&str> = san
        .value
        .general_names
        .iter()
        .filter_map(|n| match n {
            x509_parser::extensions::GeneralName::URI(u) => Some(*u),
            _ => None,
        })
        .collect();
    let [uri] = uris.as_slice() else { return false };
    let Some(path) = uri.strip_prefix(&format!("spiffe://{trust_domain}/")) else {
        return false;
    };
    let parts: Vec<&str> = path.split('/').collect();
    matches!(parts.as_slice(), ["region", code, "role", "gateway", name]
        if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty())
}

/// The trust domain of the PKI's identities.
pub fn trust_domain(pki: &Path) -> Result<String, ServiceError> {
    huren_certs::Manifest::load(pki)
        .map(|m| m.trust_domain)
        .map_err(|e| ServiceError::Pki(e.to_string()))
}
