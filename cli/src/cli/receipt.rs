//! `huren receipt …`: offline checks of recognition receipts against the trust registry.

use huren_adapters::when::rfc3339;
use std::path::PathBuf;

use anyhow::Context;
use time::OffsetDateTime;

use crate::cli::registry::DEFAULT_REGISTRY;
use huren::recognition::receipt;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check one receipt file (JSON of its signed envelope) offline: signed by a receipt key the
    /// registry lists for a node, unaltered, not expired. Prints what it says; exits non-zero
    /// otherwise.
    Verify {
        /// The receipt file, as `huren workers confirm` or `huren demo` wrote it.
        file: PathBuf,
        /// The trust registry directory to check against.
        #[arg(long, value_name = "REG", default_value = DEFAULT_REGISTRY, env = "HUREN_REGISTRY")]
        registry: PathBuf,
        /// Print what the valid receipt says as one JSON object (lowerCamel fields, RFC 3339
        /// UTC times).
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Verify {
            file,
            registry,
            json,
        } => verify(file, registry, json),
    }
}

fn verify(file: PathBuf, registry: PathBuf, json: bool) -> anyhow::Result<()> {
    let now = OffsetDateTime::now_utc();
    let reg = huren_registry::store::load(&registry, None, now)
        .with_context(|| format!("cannot load the trust registry in {}", registry.display()))?;
    let env = receipt::read_file(&file)?;
    let checked = receipt::verify(&env, &reg, now)
        .with_context(|| format!("receipt {} is NOT valid", file.display()))?;
    let b = &checked.body;
    if json {
        let shown = serde_json::json!({
            "file": file.display().to_string(),
            "valid": true,
            "nodeId": checked.node_id,
            "keyId": checked.key_id.to_string(),
            "subjectRef": b.subject_ref,
            "originRegion": b.origin_region.to_string(),
            "originColour": b.origin_colour.as_str(),
            "destinationRegion": b.destination_region.to_string(),
            "destinationVerdict": b.destination_verdict.as_str(),
            "agreement": b.agreement,
            "validUntil": rfc3339(&b.valid_until),
            "issuedAt": rfc3339(&b.issued_at),
            "registryVersion": b.registry_version,
            "checkedAgainstRegistryVersion": reg.version(),
        });
        println!("{shown}");
        return Ok(());
    }
    println!("receipt {}: valid", file.display());
    println!(
        "  signed by       node {} (receipt key {})",
        checked.node_id, checked.key_id
    );
    println!("  subject_ref     {}", b.subject_ref);
    println!(
        "  origin          {} colour {}",
        b.origin_region,
        b.origin_colour.as_str()
    );
    println!(
        "  destination     {} verdict {}",
        b.destination_region,
        b.destination_verdict.as_str()
    );
    println!("  agreement       agreements/{}", b.agreement);
    println!(
        "  valid until     {}",
        rfc3339(&crate::report::lang::local(b.valid_until))
    );
    println!(
        "  issued at       {}",
        rfc3339(&crate::report::lang::local(b.issued_at))
    );
    println!(
        "  registry        version {} when issued; checked against version {}",
        b.registry_version,
        reg.version()
    );
    Ok(())
}
