//! `huren serve`: the gateway over mutual TLS, until SIGINT/SIGTERM (SIGHUP reloads certificates).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::cli::registry::DEFAULT_REGISTRY;
use crate::pki::DEFAULT_DEV_PKI;
use anyhow::Context as _;
use huren::config::Config;
use huren::node::Node;
use huren::server::{Gateway, GatewayBuilder};
use huren_registry::dev::{DevOptions, DevRegistry};
use huren_registry::store::STATE_FILE;
use time::OffsetDateTime;

mod dev_state;
mod node_config;

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
    /// Trust registry directory [default: .huren/registry; with the dev PKI it is created there
    /// when missing].
    #[arg(long, value_name = "REG", env = "HUREN_REGISTRY")]
    pub registry: Option<PathBuf>,
    /// Node state: the audit log and the subject key [default: .huren/state].
    #[arg(long, value_name = "DIR", env = "HUREN_STATE")]
    pub state: Option<PathBuf>,
    /// This node's id in the registry [default: gateway-1].
    #[arg(long, env = "HUREN_NODE_ID")]
    pub node_id: Option<String>,
    /// Receipt signing key, PKCS#8 PEM [default: REG/keys/receipt.pem].
    #[arg(long, value_name = "PEM", env = "HUREN_RECEIPT_KEY")]
    pub receipt_key: Option<PathBuf>,
    /// Audit sync policy: every, interval(MS) or unsynced [default: every].
    #[arg(long, value_name = "POLICY", env = "HUREN_AUDIT_SYNC")]
    pub audit_sync: Option<String>,
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
    if let Some(reg) = &args.registry {
        config.node.registry = Some(reg.clone());
    }
    if let Some(state) = &args.state {
        config.node.state = Some(state.clone());
    }
    if let Some(id) = &args.node_id {
        config.node.node_id = Some(id.clone());
    }
    if let Some(key) = &args.receipt_key {
        config.node.receipt_key = Some(key.clone());
    }
    if let Some(sync) = &args.audit_sync {
        config.node.audit_sync = sync.clone();
    }
    let dev_pki = config
        .uses_dev_pki()
        .then(|| PathBuf::from(DEFAULT_DEV_PKI));
    if let Some(dir) = &dev_pki {
        ensure_dev_pki(dir)?;
    }
    crate::pki::resolve(&mut config.tls)?;
    let node = assemble_node(&config, dev_pki.is_some()).await?;
    let mut builder = GatewayBuilder::from_config(config)?;
    if let Some(node) = &node {
        builder = builder.services(node.services());
    }
    let gateway = builder.start().await?;
    print_how_to_connect(&gateway, dev_pki.as_deref());
    let served = run_until_signalled(gateway).await;
    // Last: the audit writer flushes what is queued once every service handle is gone.
    drop(node);
    served
}

/// The recognition node from `[node]`. A registry named explicitly must load; the default one
/// is created from the dev PKI, or, with another PKI and none on disk, the node serves without
/// recognition (those methods answer UNIMPLEMENTED) and says so.
async fn assemble_node(config: &Config, dev: bool) -> anyhow::Result<Option<Node>> {
    let settings = &config.node;
    let registry = settings
        .registry
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_REGISTRY));
    let pki = config
        .tls
        .pki
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DEV_PKI));
    let present = registry.join(huren_registry::store::STATE_FILE).exists();
    if !present && !dev && settings.registry.is_none() {
        super::log::notice(format!(
            "no trust registry in {} (huren registry init): serving without recognition",
            registry.display()
        ));
        return Ok(None);
    }
    if dev && ensure_dev_registry(&pki, &registry)? {
        super::log::notice(format!(
            "created a dev trust registry in {}",
            registry.display()
        ));
    }
    if dev {
        dev_state::check_pair(&pki, &registry, OffsetDateTime::now_utc())?;
    }
    let node = node_config::node_config(config, registry)?;
    let (registry_dir, state_dir, node_id) = (
        node.registry_dir.clone(),
        node.state_dir.clone(),
        node.node_id.clone(),
    );
    let node = Node::assemble(node)
        .await
        .map_err(|e| dev_state::explain_expiry(e.into(), &registry_dir))?;
    if let Some(torn) = &node.audit_recovery.torn {
        super::log::notice(format!(
            "audit log: cut off a torn tail left by a crash: {torn:?}"
        ));
    }
    let version = node
        .recognizer()
        .registry
        .current()
        .map_or(0, |r| r.version());
    super::log::notice(format!(
        "node {node_id}: trust registry v{version} from {} (reloaded on publish); audit log and subject key in {} ({} records kept)",
        registry_dir.display(),
        state_dir.display(),
        node.audit_recovery.records
    ));
    Ok(Some(node))
}

/// Creates the dev PKI on first use, so `huren serve` with no arguments just works.
pub fn ensure_dev_pki(dir: &Path) -> anyhow::Result<()> {
    if dir.join(huren_certs::Manifest::FILE).exists() {
        return Ok(());
    }
    huren_certs::init(dir, &huren_certs::InitOptions::default())?;
    super::log::notice(format!(
        "created a dev PKI in {} (huren certs show)",
        dir.display()
    ));
    Ok(())
}

fn print_how_to_connect(gateway: &Gateway, dev_pki: Option<&Path>) {
    if super::log::json() {
        // One event a log collector (or a supervisor waiting for the port) can read.
        let admin = gateway.admin_addr();
        tracing::info!(
            grpc = %gateway.local_addr(),
            metrics = admin.map(|a| format!("http://{a}/metrics")),
            readyz = admin.map(|a| format!("http://{a}/readyz")),
            dev_pki = dev_pki.map(|d| d.display().to_string()),
            "huren is serving gRPC over mutual TLS"
        );
        return;
    }
    // A closed stdout must not stop a gateway: the banner is written without println!'s panic
    // and a failed write is let go.
    let _ = write_how_to_connect(&mut std::io::stdout().lock(), gateway, dev_pki);
}

fn write_how_to_connect(
    out: &mut impl std::io::Write,
    gateway: &Gateway,
    dev_pki: Option<&Path>,
) -> std::io::Result<()> {
    let addr = gateway.local_addr();
    writeln!(out, "huren is serving gRPC over mutual TLS on {addr}")?;
    if let Some(admin) = gateway.admin_addr() {
        writeln!(
            out,
            "  metrics: http://{admin}/metrics   health: http://{admin}/readyz"
        )?;
    }
    if let Some(dir) = dev_pki {
        let d = dir.display();
        let client = format!("{d}/clients/checkpoint-330110-yuhang-gate-1");
        writeln!(
            out,
            "connect with a dev client certificate, e.g. the Yuhang checkpoint's:"
        )?;
        writeln!(
            out,
            "  grpcurl -cacert {d}/root/ca.pem -cert {client}.pem -key {client}.key \\\n    localhost:{} grpc.health.v1.Health/Check",
            addr.port()
        )?;
        writeln!(
            out,
            "without a client certificate the handshake is refused."
        )?;
    }
    writeln!(
        out,
        "stop with Ctrl-C (drains calls in flight); SIGHUP reloads the certificates."
    )
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
                Ok(()) => super::log::notice("reloaded TLS certificates and trust roots"),
                Err(e) => super::log::notice(format!("reload failed, keeping the current certificates: {e}")),
            },
        }
    }
    super::log::notice("shutting down: NOT_SERVING, then draining (Ctrl-C again to stop at once)");
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

/// Builds the dev registry (no status services listed) in `registry_dir` if it holds none, or
/// renews its timestamp if it is about to expire (a dev registry left for a day would otherwise
/// refuse to load); whether one was created.
fn ensure_dev_registry(pki_dir: &Path, registry_dir: &Path) -> anyhow::Result<bool> {
    let now = OffsetDateTime::now_utc();
    let failed = || format!("creating the dev registry in {}", registry_dir.display());
    if registry_dir.join(STATE_FILE).exists() {
        if DevRegistry::renew_if_stale(registry_dir, now).with_context(failed)? {
            tracing::info!(dir = %registry_dir.display(), "renewed the dev registry's timestamp");
        }
        return Ok(false);
    }
    // A week, not the library's day: a dev setup left over a weekend still starts.
    let options = DevOptions {
        timestamp_lifetime: time::Duration::days(7),
        ..DevOptions::default()
    };
    DevRegistry::init(pki_dir, registry_dir, &options, false, now).with_context(failed)?;
    Ok(true)
}
