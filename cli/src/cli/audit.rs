//! `huren audit …`: checks and shows the hash-chained audit log.

use std::collections::VecDeque;
use std::path::PathBuf;

use anyhow::Context;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check the whole chain: segment names, each record's hash, sequence, links. Exits non-zero
    /// and names the file, line and seq where it breaks.
    Verify {
        /// The audit log directory, or the state directory `huren serve` prints (its `audit`
        /// directory is checked). A log with no records fails: nothing was checked.
        dir: PathBuf,
        /// The node's audit-checkpoint public key (PEM, or 64 hex characters): also check the
        /// chain against the newest checkpoint it signed, so a rewritten chain fails.
        #[arg(long, value_name = "PUBKEY_FILE", conflicts_with = "registry")]
        key: Option<PathBuf>,
        /// A registry directory: check the chain against the newest checkpoint signed with the
        /// audit key its root lists for the node (--node), so a rewritten chain fails.
        #[arg(long, value_name = "REG")]
        registry: Option<PathBuf>,
        /// The node whose log this is, as the registry's root names it.
        #[arg(long, value_name = "ID", default_value = huren_registry::doc::DEFAULT_NODE_ID, requires = "registry")]
        node: String,
    },
    /// Print the last records of the log, oldest first.
    Show {
        /// The audit log directory, or the state directory that holds it.
        dir: PathBuf,
        /// How many of the newest records to print.
        #[arg(long, default_value_t = 20, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
        limit: usize,
        /// Print one JSON object: the records (lowerCamel fields, RFC 3339 UTC times), the
        /// number of intact records and the chain's state.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd.in_log_dir() {
        Command::Verify {
            dir,
            key: Some(key),
            ..
        } => {
            let verifying = read_checkpoint_key(&key)?;
            verify_anchored(dir, verifying, key.display().to_string()).await
        }
        Command::Verify {
            dir,
            registry: Some(reg),
            node,
            ..
        } => {
            let verifying = listed_audit_key(&reg, &node)?;
            let by = format!("node {node}'s audit key in registry {}", reg.display());
            verify_anchored(dir, verifying, by).await
        }
        Command::Verify { dir, .. } => verify(dir).await,
        Command::Show { dir, limit, json } => show(dir, limit, json).await,
    }
}

impl Command {
    /// The same command on the audit log itself when it names the state directory holding it.
    fn in_log_dir(self) -> Self {
        match self {
            Command::Verify {
                dir,
                key,
                registry,
                node,
            } => Command::Verify {
                dir: log_dir(dir),
                key,
                registry,
                node,
            },
            Command::Show { dir, limit, json } => Command::Show {
                dir: log_dir(dir),
                limit,
                json,
            },
        }
    }
}

/// `dir`, or its `audit` directory when `dir` is a node's state directory (what `huren serve`
/// prints) rather than the log: it holds no segments and has an `audit` directory.
fn log_dir(dir: PathBuf) -> PathBuf {
    let inside = dir.join(huren::node::AUDIT_DIR);
    let holds_segments = std::fs::read_dir(&dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("segment-") && name.ends_with(".log")
        })
    });
    if !holds_segments && inside.is_dir() {
        inside
    } else {
        dir
    }
}

/// A check that read no record proves nothing: say so, and fail.
fn checked_nothing(dir: &std::path::Path, records: u64) -> anyhow::Result<()> {
    if records == 0 {
        anyhow::bail!(
            "no audit records in {}: nothing was checked (give the audit directory, or the state \
             directory `huren serve` prints)",
            dir.display()
        );
    }
    Ok(())
}

async fn verify(dir: PathBuf) -> anyhow::Result<()> {
    let d = dir.clone();
    let report = tokio::task::spawn_blocking(move || huren_audit::verify(&d))
        .await?
        .with_context(|| format!("cannot read audit log {}", dir.display()))?;
    println!("audit log {}", dir.display());
    println!("{report}");
    match report.problem() {
        None => checked_nothing(&dir, report.scan.records),
        Some(p) if report.is_torn_tail_only() => anyhow::bail!(
            "torn tail (a write cut short by a crash, or one in flight on a live log) at {p}; \
             opening the log cuts it off and keeps a copy"
        ),
        Some(p) => anyhow::bail!("audit chain broken at {p}"),
    }
}

async fn verify_anchored(
    dir: PathBuf,
    key: ed25519_dalek::VerifyingKey,
    key_name: String,
) -> anyhow::Result<()> {
    let d = dir.clone();
    let report = tokio::task::spawn_blocking(move || huren_audit::verify_anchored(&d, &key))
        .await?
        .with_context(|| format!("cannot read audit log {}", dir.display()))?;
    println!("audit log {} against {key_name}", dir.display());
    println!("{report}");
    if let Some(p) = report.chain.problem() {
        anyhow::bail!("audit chain broken at {p}");
    }
    match &report.problem {
        None => checked_nothing(&dir, report.chain.scan.records),
        Some(p) => anyhow::bail!("audit chain does not match its signed checkpoints: {p}"),
    }
}

/// The audit-checkpoint key the registry in `reg` lists for `node` (Ed25519). The registry is
/// fully verified; an expired timestamp is accepted, since an old log is checked against the
/// registry of its time.
fn listed_audit_key(
    reg: &std::path::Path,
    node: &str,
) -> anyhow::Result<ed25519_dalek::VerifyingKey> {
    let registry = huren_registry::store::load_for_publisher(reg, time::OffsetDateTime::now_utc())?;
    let listed = registry.audit_key(node).with_context(|| {
        format!(
            "registry {} lists no audit key for node {node:?} (huren registry show)",
            reg.display()
        )
    })?;
    let bytes: [u8; 32] = match listed.algorithm {
        huren_registry::Algorithm::Ed25519 => listed.public.as_slice().try_into().ok(),
        _ => None,
    }
    .with_context(|| format!("node {node}'s audit key in the registry is not an Ed25519 key"))?;
    ed25519_dalek::VerifyingKey::from_bytes(&bytes)
        .map_err(|e| anyhow::anyhow!("node {node}'s audit key in the registry: {e}"))
}

/// An Ed25519 public key from a PEM (`BEGIN PUBLIC KEY`) or a 64-hex-character file.
fn read_checkpoint_key(path: &std::path::Path) -> anyhow::Result<ed25519_dalek::VerifyingKey> {
    use ed25519_dalek::pkcs8::DecodePublicKey;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read key file {}", path.display()))?;
    let text = text.trim();
    let key = if text.starts_with("-----BEGIN") {
        ed25519_dalek::VerifyingKey::from_public_key_pem(text).map_err(|e| anyhow::anyhow!(e))
    } else {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes)
            .map_err(|e| anyhow::anyhow!(e))
            .and_then(|()| {
                ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|e| anyhow::anyhow!(e))
            })
    };
    key.with_context(|| {
        format!(
            "{}: not an Ed25519 public key (PEM or 64 hex characters)",
            path.display()
        )
    })
}

async fn show(dir: PathBuf, limit: usize, json: bool) -> anyhow::Result<()> {
    let d = dir.clone();
    let (records, report) = tokio::task::spawn_blocking(move || {
        let mut last = VecDeque::with_capacity(limit.min(10_000));
        let report = huren_audit::walk(&d, |r, _| {
            if limit > 0 {
                if last.len() == limit {
                    last.pop_front();
                }
                last.push_back(r.clone());
            }
        });
        report.map(|rep| (last, rep))
    })
    .await?
    .with_context(|| format!("cannot read audit log {}", dir.display()))?;
    let chain = match report.problem() {
        None => "OK".to_string(),
        Some(p) => format!("BROKEN at {p}"),
    };
    if json {
        let records: Vec<serde_json::Value> = records
            .iter()
            .map(|r| {
                let e = &r.entry;
                serde_json::json!({
                    "seq": r.seq,
                    "time": huren_adapters::when::rfc3339(&e.time),
                    "issuingRegion": e.issuing_region,
                    "verdict": e.verdict,
                    "registryVersion": e.registry_version,
                    "subjectRef": e.subject_ref,
                    "method": e.method,
                    "caller": e.caller,
                    "purpose": e.purpose,
                })
            })
            .collect();
        let shown = serde_json::json!({
            "records": records,
            "intactRecords": report.scan.records,
            "chain": chain,
        });
        println!("{shown}");
        return Ok(());
    }
    println!(
        "{:>8}  {:<25}  {:<7}  {:<8}  {:<6}  {:<16}  {:<40}  caller / purpose",
        "seq", "time", "region", "verdict", "regver", "subject_ref", "method"
    );
    for r in &records {
        let e = &r.entry;
        let time = huren_adapters::when::rfc3339(&crate::report::lang::local(e.time));
        let subject: String = e.subject_ref.chars().take(16).collect();
        println!(
            "{:>8}  {:<25}  {:<7}  {:<8}  {:<6}  {:<16}  {:<40}  {} / {}",
            r.seq,
            time,
            e.issuing_region,
            e.verdict,
            e.registry_version,
            subject,
            e.method,
            e.caller,
            e.purpose
        );
    }
    println!("{} intact records; chain {chain}", report.scan.records);
    Ok(())
}
