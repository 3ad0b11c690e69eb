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
    },
}

pub async fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Verify { file, registry } => verify(file, registry),
    }
}

fn verify(file: PathBuf, registry: PathBuf) -> anyhow::Result<()> {
    let now = OffsetDateTime::now_utc();
    let reg = huren_registry::store::load(&registry, None, now)
        .with_context(|| format!("cannot load the trust registry in {}", registry.display()))?;
    let env = receipt::read_file(&file)?;
    let checked = receipt::verify(&env, &reg, now)
        .with_context(|| format!("receipt {} is NOT valid", file.display()))?;
    let b = &checked.body;
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
    println!("  valid until     {}", rfc3339(&b.valid_until));
    println!("  issued at       {}", rfc3339(&b.issued_at));
    println!(
        "  registry        version {} when issued; checked against version {}",
        b.registry_version,
        reg.version()
    );
    Ok(())
}
