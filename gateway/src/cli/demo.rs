//! `huren demo`: for now, starts the embedded gateway on loopback and checks its health over
//! mutual TLS as a real client would (the full multi-region demo arrives with issue 5).

use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use crate::config::Config;
use crate::connect::{ClientTls, connect};
use crate::server::GatewayBuilder;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep everything serving after the report and print how to connect.
    #[arg(long)]
    pub keep: bool,
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let pki = dir.join("pki");
    let manifest = huren_certs::init(&pki, &huren_certs::InitOptions::default())?;
    println!(
        "1. made a dev PKI (national root, 7 region CAs, gateway, 6 callers) in {}",
        pki.display()
    );

    let mut config = Config {
        listen: "127.0.0.1:0".parse()?,
        admin_listen: Some("127.0.0.1:0".parse()?),
        ..Config::default()
    };
    config.tls.pki = Some(pki.clone());
    config.shutdown.not_serving_grace_ms = 0;
    let gateway = GatewayBuilder::from_config(config)?.start().await?;
    let addr = gateway.local_addr();
    println!(
        "2. started the gateway on {addr} (mutual TLS 1.3, client certificates from the national root)"
    );

    let checkpoint = manifest.client("checkpoint", None)?;
    let tls = ClientTls::from_pki(&pki, "checkpoint", None)?;
    let mut health = HealthClient::new(connect(addr, &tls).await?);
    let mut services = vec![""];
    services.extend(huren_proto::SERVICE_NAMES);
    println!(
        "3. connected as {} and asked grpc.health.v1.Health/Check:",
        checkpoint.spiffe_id
    );
    for service in services {
        let status = health
            .check(HealthCheckRequest {
                service: service.to_string(),
            })
            .await?
            .into_inner()
            .status();
        let name = if service.is_empty() {
            "(whole server)"
        } else {
            service
        };
        println!("     {name:<32} {}", status.as_str_name());
    }

    let anonymous = ClientTls::anonymous(&pki)?;
    let refused = match connect(addr, &anonymous).await {
        Err(e) => format!("refused at connect: {e}"),
        Ok(channel) => match HealthClient::new(channel)
            .check(HealthCheckRequest::default())
            .await
        {
            Err(status) => format!(
                "refused at the TLS handshake (the client saw {:?}; the gateway logged no_client_certificate)",
                status.code()
            ),
            Ok(_) => anyhow::bail!("the gateway answered a client without a certificate"),
        },
    };
    println!("4. connected without a client certificate: {refused}");

    if args.keep {
        println!("serving on {addr} until Ctrl-C; PKI in {}", pki.display());
        tokio::signal::ctrl_c().await?;
    }
    gateway.shutdown().await;
    println!("5. shut down gracefully (NOT_SERVING, drained). Demo done.");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A fresh private directory under the system temp dir.
fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("huren-demo-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
