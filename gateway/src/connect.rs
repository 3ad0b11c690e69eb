//! The client side of huren's mutual TLS: a tonic channel to a gateway, presenting a client
//! certificate given as PEM. Used by the `huren` client commands, the demo and the tests.

use std::net::SocketAddr;
use std::time::Duration;

use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

/// What a client trusts and who it says it is.
#[derive(Debug, Clone)]
pub struct ClientTls {
    /// PEM of the CA the gateway's certificate must chain to (the national root).
    pub ca_pem: String,
    /// PEM certificate chain and key; `None` connects without a client certificate.
    pub identity: Option<(String, String)>,
    /// The name checked against the gateway certificate.
    pub server_name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot connect to {addr}: {source}")]
    Transport {
        addr: String,
        source: tonic::transport::Error,
    },
}

impl ClientTls {
    /// Trusts `ca_pem` (the national root) and presents no certificate until
    /// [`with_identity`](Self::with_identity) gives one.
    pub fn trusting(ca_pem: String) -> Self {
        Self {
            ca_pem,
            identity: None,
            server_name: "localhost".to_string(),
        }
    }

    /// Same trust, another certificate and key (PEM).
    pub fn with_identity(mut self, cert_pem: String, key_pem: String) -> Self {
        self.identity = Some((cert_pem, key_pem));
        self
    }

    fn config(&self) -> ClientTlsConfig {
        let config = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.ca_pem))
            .domain_name(self.server_name.clone());
        match &self.identity {
            Some((cert, key)) => config.identity(Identity::from_pem(cert, key)),
            None => config,
        }
    }
}

/// Connects (TCP and TLS) to the gateway at `addr`.
pub async fn connect(addr: SocketAddr, tls: &ClientTls) -> Result<Channel, ConnectError> {
    let uri = format!("https://{addr}");
    endpoint(&uri, tls, Duration::from_secs(5))?
        .connect()
        .await
        .map_err(|source| ConnectError::Transport { addr: uri, source })
}

fn endpoint(uri: &str, tls: &ClientTls, timeout: Duration) -> Result<Endpoint, ConnectError> {
    let fail = |source| ConnectError::Transport {
        addr: uri.to_string(),
        source,
    };
    Ok(Endpoint::from_shared(uri.to_string())
        .map_err(fail)?
        .tls_config(tls.config())
        .map_err(fail)?
        .connect_timeout(timeout))
}
