//! Callers the dev PKI does not list, minted on the spot from a region's CA in the federation's
//! PKI: e.g. Hubei's health commission, which answers appeals against Hubei's codes. Nothing is
//! written to disk; the certificate lives as long as the connection.

use anyhow::Context as _;
use huren::connect::{ClientTls, connect};
use huren_certs::{Ca, LeafSpec, Manifest};
use tonic::transport::Channel;

use super::Federation;

impl Federation {
    /// A mutual-TLS connection to node `id` as `spiffe://<td>/region/<region>/role/<role>/<name>`,
    /// its certificate issued now by `region`'s province CA.
    pub async fn channel_minted(
        &self,
        id: &str,
        role: &str,
        region: &str,
        name: &str,
    ) -> anyhow::Result<Channel> {
        let pki = self.pki();
        let manifest = Manifest::load(&pki)?;
        let province = format!("{}0000", region.get(..2).unwrap_or_default());
        let entry = manifest.region(&province)?;
        let read = |p: &std::path::Path| {
            std::fs::read_to_string(pki.join(p))
                .with_context(|| format!("reading {}", pki.join(p).display()))
        };
        let ca = Ca::load(&read(&entry.ca)?, &read(&entry.ca_key)?)?;
        let spiffe = huren_certs::spiffe_id(&manifest.trust_domain, region, role, name);
        let (cert, key) = ca.issue(&LeafSpec::client(name, &spiffe))?;
        let tls = ClientTls::trusting(read(&manifest.root_ca)?)
            .with_identity(format!("{cert}{}", ca.cert_pem), key);
        Ok(connect(self.node(id)?.listen, &tls).await?)
    }
}
