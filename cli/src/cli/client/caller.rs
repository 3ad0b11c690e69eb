//! Who a client command connects as, and where: `--gateway`, `--pki`, `--role/--region` or
//! `--cert/--key`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tonic::transport::Channel;

use huren::connect::{ClientTls, connect};

use super::own_cert;

/// Flags every client command shares.
#[derive(Debug, Clone, clap::Args)]
pub struct CallerArgs {
    /// The gateway to call.
    #[arg(
        long,
        value_name = "URL",
        default_value = "https://127.0.0.1:7443",
        env = "HUREN_GATEWAY"
    )]
    pub gateway: String,
    /// PKI directory from `huren certs init`: the root the gateway must chain to, and the
    /// client certificates --role picks from.
    #[arg(long, value_name = "DIR", default_value = crate::pki::DEFAULT_DEV_PKI, env = "HUREN_PKI")]
    pub pki: PathBuf,
    /// Call as the PKI's first client certificate with this role (checkpoint, carrier,
    /// province, national, gateway) [default: the command's usual caller].
    #[arg(long)]
    pub role: Option<String>,
    /// With --role: the certificate of this region (e.g. 410000 for Henan's labour office).
    #[arg(long, value_name = "CODE")]
    pub region: Option<String>,
    /// Present this client certificate (PEM) instead of one from the PKI; needs --key.
    #[arg(long, value_name = "FILE", requires = "key", conflicts_with = "role")]
    pub cert: Option<PathBuf>,
    /// Private key (PKCS#8 PEM) of --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Deadline of the call in seconds (sent as grpc-timeout; a big manifest needs more than
    /// the gateway's default of 2 s when regions are checked online).
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub timeout: f64,
}

impl CallerArgs {
    /// The TLS settings for this caller; `default_role` when neither --role nor --cert is given.
    pub fn tls(&self, default_role: &str) -> anyhow::Result<ClientTls> {
        if let (Some(cert), Some(key)) = (&self.cert, &self.key) {
            let read = |p: &PathBuf| {
                std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))
            };
            return Ok(crate::pki::anonymous(&self.pki)?.with_identity(read(cert)?, read(key)?));
        }
        let role = self.role.as_deref().unwrap_or(default_role);
        crate::pki::client_tls(&self.pki, role, self.region.as_deref()).with_context(|| {
            format!(
                "no client certificate with role {role}{} in {}",
                self.region
                    .as_deref()
                    .map(|r| format!(" and region {r}"))
                    .unwrap_or_default(),
                self.pki.display()
            )
        })
    }

    /// Refuses to guess which region's certificate to call as when the role has one per region
    /// (`default_role` unless --role names another) and neither --region nor --cert says which:
    /// the PKI's first certificate of that role would silently speak for one province.
    pub fn require_region(&self, default_role: &str, command: &str) -> anyhow::Result<()> {
        let role = self.role.as_deref().unwrap_or(default_role);
        if role == "province" && self.region.is_none() && self.cert.is_none() {
            bail!(
                "{command} calls as a province: give --region CODE, the province whose \
                 certificate to use (e.g. --region 410000 for Henan's labour office)"
            );
        }
        Ok(())
    }

    /// `message` as a request carrying this caller's deadline.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if self.timeout.is_finite() && self.timeout > 0.0 {
            request.set_timeout(Duration::from_secs_f64(self.timeout.min(3600.0)));
        }
        request
    }

    /// The file of the client certificate this caller presents.
    fn cert_file(&self, default_role: &str) -> anyhow::Result<PathBuf> {
        if let Some(cert) = &self.cert {
            return Ok(cert.clone());
        }
        let manifest = huren_certs::Manifest::load(&self.pki)?;
        let role = self.role.as_deref().unwrap_or(default_role);
        Ok(self
            .pki
            .join(&manifest.client(role, self.region.as_deref())?.cert))
    }

    /// Refuses a client certificate the gateway would refuse (expired, not yet valid, not for
    /// clients, from another PKI), naming the file and why, before any handshake.
    fn check_own_certificate(&self, default_role: &str, tls: &ClientTls) -> anyhow::Result<()> {
        let Some((cert_pem, _)) = &tls.identity else {
            return Ok(());
        };
        let manifest = huren_certs::Manifest::load(&self.pki).ok();
        let root_file = manifest
            .as_ref()
            .map_or_else(|| self.pki.clone(), |m| self.pki.join(&m.root_ca));
        let intermediates_pem = manifest
            .iter()
            .flat_map(|m| &m.regions)
            .filter_map(|r| std::fs::read_to_string(self.pki.join(&r.ca)).ok())
            .collect();
        let anchors = own_cert::Anchors {
            root_pem: &tls.ca_pem,
            root_file: &root_file,
            intermediates_pem,
        };
        let file = self.cert_file(default_role)?;
        own_cert::check(&file, cert_pem, &anchors, time::OffsetDateTime::now_utc())?;
        Ok(())
    }

    /// Connects (TCP + mutual TLS) as this caller, after checking its own certificate.
    pub async fn channel(&self, default_role: &str) -> anyhow::Result<Channel> {
        huren::tls::install_crypto_provider();
        let mut tls = self.tls(default_role)?;
        self.check_own_certificate(default_role, &tls)?;
        let (addr, host) = resolve(&self.gateway).await?;
        if host.parse::<std::net::IpAddr>().is_err() {
            tls.server_name = host;
        }
        Ok(connect(addr, &tls).await?)
    }
}

/// `https://HOST:PORT` (or `HOST:PORT`) → the first address it resolves to, and the host.
pub async fn resolve(url: &str) -> anyhow::Result<(SocketAddr, String)> {
    let rest = url
        .strip_prefix("https://")
        .unwrap_or(url)
        .trim_end_matches('/');
    if rest.starts_with("http://") {
        bail!("{url}: huren speaks only mutual TLS; use https://");
    }
    let host = match rest.rsplit_once(':') {
        Some((host, _port)) => host.trim_start_matches('[').trim_end_matches(']'),
        None => bail!("{url}: give a port, e.g. https://127.0.0.1:7443"),
    };
    let addr = tokio::net::lookup_host(rest)
        .await
        .with_context(|| format!("cannot resolve {rest}"))?
        .next()
        .with_context(|| format!("{rest} resolves to no address"))?;
    Ok((addr, host.to_string()))
}
