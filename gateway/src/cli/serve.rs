//! `huren serve`: the gateway over mutual TLS, until SIGINT/SIGTERM (SIGHUP reloads certificates).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::config::{Config, DEFAULT_DEV_PKI};
use crate::server::{Gateway, GatewayBuilder};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A huren.toml (listen address, TLS files or PKI, limits, shutdown timings).
    #[arg(long, value_name = "FILE", env = "HUREN_CONFIG")]
    pub config: Option<PathBuf>,
    /// A PKI directory from `huren certs init`; overrides the config's TLS files.
    /// Without a config and without --pki, the dev PKI in ./.huren/dev is used (created if missing).
    #[arg(long, value_name = "DIR", env = "HUREN_PKI")]
    pub pki: Option<PathBuf>,
    /// gRPC listen address [default: 127.0.0.1:7443].
    #[arg(long, value_name = "ADDR", env = "HUREN_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Admin HTTP listen address for /metrics, /healthz, /readyz [default: 127.0.0.1:9464].
    #[arg(long, value_name = "ADDR", env = "HUREN_ADMIN_LISTEN")]
    pub admin_listen: Option<SocketAddr>,
    /// Do not start the admin HTTP listener.
    #[arg(long, conflicts_with = "admin_listen")]
    pub no_admin: bool,
    /// SPIFFE trust domain client identities must be in (default: the PKI's).
    #[arg(long, env = "HUREN_TRUST_DOMAIN")]
    pub trust_domain: Option<String>,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let mut config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(pki) = &args.pki {
        config.tls.pki = Some(pki.clone());
    }
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(admin) = args.admin_listen {
        config.admin_listen = Some(admin);
    }
    if args.no_admin {
        config.admin_listen = None;
    }
    if let Some(td) = &args.trust_domain {
        config.tls.trust_domain = Some(td.clone());
    }
    let dev_pki = config
        .uses_dev_pki()
        .then(|| PathBuf::from(DEFAULT_DEV_PKI));
    if let Some(dir) = &dev_pki {
        ensure_dev_pki(dir)?;
    }
    let gateway = GatewayBuilder::from_config(config)?.start().await?;
    print_how_to_connect(&gateway, dev_pki.as_deref());
    run_until_signalled(gateway).await
}

/// Creates the dev PKI on first use, so `huren serve` with no arguments just works.
pub fn ensure_dev_pki(dir: &Path) -> anyhow::Result<()> {
    if dir.join(huren_certs::Manifest::FILE).exists() {
        return Ok(());
    }
    huren_certs::init(dir, &huren_certs::InitOptions::default())?;
    eprintln!("created a dev PKI in {} (huren certs show)", dir.display());
    Ok(())
}

fn print_how_to_connect(gateway: &Gateway, dev_pki: Option<&Path>) {
    let addr = gateway.local_addr();
    println!("huren is serving gRPC over mutual TLS on {addr}");
    if let Some(admin) = gateway.admin_addr() {
        println!("  metrics: http://{admin}/metrics   health: http://{admin}/readyz");
    }
    if let Some(dir) = dev_pki {
        let d = dir.display();
        let client = format!("{d}/clients/checkpoint-330110-yuhang-gate-1");
        println!("connect with a dev client certificate, e.g. the Yuhang checkpoint's:");
        println!(
            "  grpcurl -cacert {d}/root/ca.pem -cert {client}.pem -key {client}.key \\\n    localhost:{} grpc.health.v1.Health/Check",
            addr.port()
        );
        println!("without a client certificate the handshake is refused.");
    }
    println!("stop with Ctrl-C (drains calls in flight); SIGHUP reloads the certificates.");
}

#[cfg(unix)]
async fn run_until_signalled(gateway: Gateway) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            _ = hup.recv() => match gateway.tls().reload_current() {
                Ok(()) => eprintln!("reloaded TLS certificates and trust roots"),
                Err(e) => eprintln!("reload failed, keeping the current certificates: {e}"),
            },
        }
    }
    eprintln!("shutting down: NOT_SERVING, then draining (Ctrl-C again to stop at once)");
    tokio::select! {
        _ = gateway.shutdown() => Ok(()),
        _ = tokio::signal::ctrl_c() => anyhow::bail!("stopped before calls in flight finished"),
    }
}

#[cfg(not(unix))]
async fn run_until_signalled(gateway: Gateway) -> anyhow::Result<()> {
    tokio::signal::ctrl_c().await?;
    gateway.shutdown().await;
    Ok(())
}
