//! `huren certs …`: create and inspect the dev PKI.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use huren_adapters::when::rfc3339;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a dev PKI: a national root CA, a CA per region, the gateway's certificate, one
    /// client certificate per caller role, and DIR/manifest.json naming them all.
    ///
    /// Every certificate gets its own subject CN and keys are written with mode 0600.
    /// Refuses to overwrite an existing PKI unless --force is given.
    Init(InitArgs),
    /// List a PKI's certificates: subject, SPIFFE id, expiry.
    Show(ShowArgs),
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Directory to write the PKI into (created if missing).
    #[arg(long, value_name = "DIR", default_value = crate::pki::DEFAULT_DEV_PKI)]
    pub out: PathBuf,
    /// Replace an existing PKI in DIR (its keys are overwritten).
    #[arg(long)]
    pub force: bool,
    /// SPIFFE trust domain of every identity.
    #[arg(long, default_value = huren_certs::DEV_TRUST_DOMAIN)]
    pub trust_domain: String,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// PKI directory (holding manifest.json).
    #[arg(long, value_name = "DIR", default_value = crate::pki::DEFAULT_DEV_PKI, env = "HUREN_PKI")]
    pub pki: PathBuf,
    /// Print JSON: the trust domain and one object per certificate (kind, file, commonName,
    /// spiffeIds, notAfter in RFC 3339 UTC).
    #[arg(long)]
    pub json: bool,
}

pub async fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Init(args) => init(&args),
        Command::Show(args) => show(&args.pki, args.json),
    }
}

fn init(args: &InitArgs) -> anyhow::Result<()> {
    let options = huren_certs::InitOptions {
        trust_domain: args.trust_domain.clone(),
        force: args.force,
    };
    let manifest = huren_certs::init(&args.out, &options)?;
    println!(
        "wrote a dev PKI for trust domain {} to {}",
        manifest.trust_domain,
        args.out.display()
    );
    println!("  national root      {}", manifest.root_ca.display());
    println!("  gateway            {}", manifest.gateway.cert.display());
    for client in &manifest.clients {
        println!(
            "  {:<10} {}  {}",
            client.role,
            client.region,
            client.cert.display()
        );
    }
    println!("serve with: huren serve --pki {}", args.out.display());
    Ok(())
}

fn show(dir: &Path, json: bool) -> anyhow::Result<()> {
    let manifest = huren_certs::Manifest::load(dir)?;
    if !json {
        println!(
            "trust domain {}  ({})",
            manifest.trust_domain,
            dir.display()
        );
    }
    let mut certificates = Vec::new();
    let mut rows = vec![("root", manifest.root_ca.clone())];
    rows.extend(manifest.regions.iter().map(|r| ("region CA", r.ca.clone())));
    rows.push(("gateway", manifest.gateway.cert.clone()));
    rows.extend(manifest.clients.iter().map(|c| ("client", c.cert.clone())));
    for (kind, path) in rows {
        let pem = std::fs::read(dir.join(&path))
            .with_context(|| format!("cannot read {}", dir.join(&path).display()))?;
        let facts = describe(&pem)?;
        if json {
            certificates.push(serde_json::json!({
                "kind": kind,
                "file": path.display().to_string(),
                "commonName": facts.common_name,
                "spiffeIds": facts.uris,
                "notAfter": rfc3339(&facts.not_after),
            }));
            continue;
        }
        let uris = if facts.uris.is_empty() {
            "-".to_string()
        } else {
            facts.uris.join(" ")
        };
        println!(
            "{kind:<10} {}  {uris}  until {}",
            facts.common_name,
            rfc3339(&crate::report::lang::local(facts.not_after))
        );
        println!("           {}", path.display());
    }
    if json {
        let shown = serde_json::json!({
            "trustDomain": manifest.trust_domain,
            "certificates": certificates,
        });
        println!("{shown}");
    }
    Ok(())
}

/// What `certs show` says about a certificate.
struct Facts {
    common_name: String,
    uris: Vec<String>,
    not_after: time::OffsetDateTime,
}

/// The first certificate in a PEM file.
fn describe(pem: &[u8]) -> anyhow::Result<Facts> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem).context("not a PEM certificate")?;
    let (_, cert) = X509Certificate::from_der(&pem.contents).context("not an X.509 certificate")?;
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or("?")
        .to_string();
    let uris: Vec<String> = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::URI(u) => Some(u.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Facts {
        common_name: cn,
        uris,
        not_after: cert.validity().not_after.to_datetime(),
    })
}
