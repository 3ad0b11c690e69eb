//! TLS server verification pinned to the registry: the chain must end at the region's CA and the
//! certificate must name exactly the SPIFFE id the registry lists. The host name plays no part.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};

/// Why a status service's certificate was refused, beyond what webpki says about the chain.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("the registry's CA for this region is not a usable trust anchor: {0}")]
    BadAnchor(String),
    #[error("certificate does not parse: {0}")]
    Unparsable(String),
    #[error("certificate names {found} URI SANs; exactly one SPIFFE id is required")]
    UriSanCount { found: usize },
    #[error("certificate names {found}, the registry pins {expected}")]
    WrongIdentity { expected: String, found: String },
}

/// Verifies one region's status service against its registry entry.
#[derive(Debug)]
pub struct PinnedVerifier {
    anchor: TrustAnchor<'static>,
    spiffe_id: String,
    provider: Arc<CryptoProvider>,
}

impl PinnedVerifier {
    pub fn new(
        ca_der: &[u8],
        spiffe_id: &str,
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, IdentityError> {
        let ca = CertificateDer::from(ca_der.to_vec());
        let anchor = webpki::anchor_from_trusted_cert(&ca)
            .map_err(|e| IdentityError::BadAnchor(e.to_string()))?
            .to_owned();
        Ok(Self {
            anchor,
            spiffe_id: spiffe_id.to_string(),
            provider,
        })
    }
}

/// The single URI SAN of a certificate, which must equal `expected`.
pub fn check_spiffe_id(cert: &CertificateDer<'_>, expected: &str) -> Result<(), IdentityError> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| IdentityError::Unparsable(e.to_string()))?;
    let san = parsed
        .subject_alternative_name()
        .map_err(|e| IdentityError::Unparsable(e.to_string()))?;
    let uris: Vec<&str> = san
        .iter()
        .flat_map(|ext| ext.value.general_names.iter())
        .filter_map(|name| match name {
            x509_parser::extensions::GeneralName::URI(uri) => Some(*uri),
            _ => None,
        })
        .collect();
    match uris.as_slice() {
        [uri] if *uri == expected => Ok(()),
        [uri] => Err(IdentityError::WrongIdentity {
            expected: expected.to_string(),
            found: (*uri).to_string(),
        }),
        _ => Err(IdentityError::UriSanCount { found: uris.len() }),
    }
}

fn other(e: IdentityError) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(e))))
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let cert = webpki::EndEntityCert::try_from(end_entity)
            .map_err(|e| other(IdentityError::Unparsable(e.to_string())))?;
        cert.verify_for_usage(
            self.provider.signature_verification_algorithms.all,
            std::slice::from_ref(&self.anchor),
            intermediates,
            now,
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )
        .map_err(|e| {
            rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(
                Arc::new(e),
            )))
        })?;
        check_spiffe_id(end_entity, &self.spiffe_id).map_err(other)?;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
