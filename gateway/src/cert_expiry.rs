//! When the gateway's own certificate and the CA certificates it trusts expire, read once from
//! the files each TLS setting was loaded from and reported as seconds-left gauges at every scrape.

use std::path::Path;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use time::OffsetDateTime;

use crate::metrics_catalog::{CA_CERT_EXPIRES_IN, SERVER_CERT_EXPIRES_IN};
use crate::tls::TlsFiles;

/// The expiry dates of one TLS setting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertExpiry {
    /// The leaf the gateway serves with.
    pub server: Option<OffsetDateTime>,
    /// Each trusted CA (client roots, then region CAs) by subject common name.
    pub cas: Vec<(String, OffsetDateTime)>,
}

impl CertExpiry {
    /// Reads the dates from `files`. The files were just loaded into a working server config, so
    /// a certificate that cannot be parsed here is left out rather than failing the load.
    pub fn of(files: &TlsFiles) -> Self {
        let server = not_afters(&files.cert)
            .into_iter()
            .next()
            .map(|(_, until)| until);
        let mut cas = not_afters(&files.client_roots);
        for (_, ca) in &files.region_cas {
            cas.extend(not_afters(ca));
        }
        cas.sort();
        cas.dedup();
        Self { server, cas }
    }

    /// Sets the gauges to the seconds left at `now` (negative once expired).
    pub fn publish(&self, now: OffsetDateTime) {
        if let Some(until) = self.server {
            metrics::gauge!(SERVER_CERT_EXPIRES_IN).set((until - now).as_seconds_f64());
        }
        for (subject, until) in &self.cas {
            metrics::gauge!(CA_CERT_EXPIRES_IN, "ca" => subject.clone())
                .set((*until - now).as_seconds_f64());
        }
    }
}

/// Subject and not-after of every certificate in a PEM file, in file order.
fn not_afters(path: &Path) -> Vec<(String, OffsetDateTime)> {
    let Ok(iter) = CertificateDer::pem_file_iter(path) else {
        return Vec::new();
    };
    iter.filter_map(Result::ok)
        .filter_map(|der| {
            let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
            let subject = cert
                .subject()
                .iter_common_name()
                .next()
                .and_then(|cn| cn.as_str().ok())
                .map_or_else(|| cert.subject().to_string(), str::to_string);
            Some((subject, cert.validity().not_after.to_datetime()))
        })
        .collect()
}
