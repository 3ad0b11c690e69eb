//! `huren registry …`: the offline signing ceremony for the trust registry, and its inspection.
//!
//! A change is made in three steps, each a command a different person may run:
//! `add-issuer` / `revoke` / `set-concept-map` / `set-status-service` / `add-agreement` write a
//! pending document under `REG/pending/`; `sign --key FILE` adds one signature to it (repeat
//! until the threshold); `publish` checks thresholds, signs a new timestamp and checkpoint with
//! the online keys and replaces `REG/registry.json` atomically.

use super::durations;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use huren_adapters::Colour;
use huren_registry::dev::{DevOptions, DevRegistry};
use huren_registry::doc::{
    Agreement, AgreementKind, ColourRules, ConceptEntry, Document, Issuer, IssuerStatus, Lapse,
    Revocation, RevocationReason, Rule, StatusEndpoint, Verdict,
};
use huren_registry::keydir::{KeyDir, OnlineKeys};
use huren_registry::pending::{self, PendingDoc, region_to_edit};
use huren_registry::signers::{required_signers, signers_of};
use huren_registry::{Algorithm, Registry, SigningKey, log, store};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// Where the dev registry lives when nothing else is said.
pub const DEFAULT_REGISTRY: &str = ".huren/registry";

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a complete, signed dev registry for the seven reference regions from a
    /// `huren certs init` PKI. Its signing keys go to REG/keys/ (mode 0600, dev only).
    Init(InitArgs),
    /// Add (or replace) an issuer in a region's pending document.
    AddIssuer(AddIssuerArgs),
    /// Revoke an issuer: with --reason key_compromise every code it signed is refused; retired
    /// and superseded refuse codes it signed at or after --effective-from.
    Revoke(RevokeArgs),
    /// Map one native status label of a region to a canonical colour.
    SetConceptMap(ConceptArgs),
    /// Set a region's status-service URL and the SPIFFE id its TLS certificate must carry.
    SetStatusService(StatusArgs),
    /// Add or replace a recognition agreement (bilateral, or national with --national).
    AddAgreement(AgreementArgs),
    /// Add one signature to pending documents (all, or the one named by --doc).
    Sign(SignArgs),
    /// Publish the pending documents: refuses below threshold, renews the timestamp,
    /// appends to the log, signs a checkpoint, replaces REG/registry.json atomically.
    Publish(PublishArgs),
    /// Verify a registry directory: prints each check, exits non-zero with the reason.
    Verify(RegArg),
    /// Print the registry's regions, issuers, concept maps, agreements and nodes.
    Show(ShowArgs),
    /// Print the transparency log: entries and checkpoints.
    Log(LogArgs),
    /// Make a signing key: FILE (PKCS#8 PEM, mode 0600) and FILE.pub (its public key, to hand
    /// to whoever prepares the document that lists it).
    Keygen(KeygenArgs),
    /// Prepare root version N+1 with other root keys or threshold; it needs the threshold of
    /// the current root keys and of the new ones.
    RotateRoot(RotateArgs),
    /// Re-issue a current document unchanged as version N+1, to be signed again (e.g. national
    /// agreements after a root rotation).
    Bump(BumpArgs),
    /// Prove a document's inclusion in the log (and consistency from an older size).
    Prove(ProveArgs),
    /// Add, change or remove a gateway node in the root (signed under the root threshold).
    #[command(subcommand)]
    Node(super::registry_node::NodeCommand),
    /// Discard a node's trusted registry state (STATE/trusted.json) so its next start accepts
    /// an older registry. Prints what it discards and keeps it as STATE/trust-reset-<time>.json.
    TrustReset(TrustResetArgs),
}

#[derive(Debug, clap::Args)]
pub struct TrustResetArgs {
    /// The node's state directory (`[node] state_dir`).
    #[arg(long, value_name = "DIR")]
    pub state: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct RegArg {
    /// Registry directory.
    #[arg(value_name = "REG", default_value = DEFAULT_REGISTRY, env = "HUREN_REGISTRY")]
    pub reg: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct LogArgs {
    #[command(flatten)]
    pub reg: RegArg,
    /// Print one JSON object: the log's origin, entries, checkpoints and C2SP checkpoint note
    /// (lowerCamel fields).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub reg: RegArg,
    /// Print one JSON object: regions, issuers, concept maps, agreements and nodes (lowerCamel
    /// fields, RFC 3339 UTC times).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct RegOpt {
    /// Registry directory.
    #[arg(long, value_name = "REG", default_value = DEFAULT_REGISTRY, env = "HUREN_REGISTRY")]
    pub reg: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// PKI directory made by `huren certs init`.
    #[arg(long, value_name = "DIR", default_value = crate::pki::DEFAULT_DEV_PKI, env = "HUREN_PKI")]
    pub pki: PathBuf,
    /// Registry directory to create.
    #[arg(long, value_name = "REG", default_value = DEFAULT_REGISTRY)]
    pub out: PathBuf,
    /// A region's status-service URL, e.g. 330000=https://127.0.0.1:8443 (repeatable).
    #[arg(long = "status-url", value_name = "CODE=URL")]
    pub status_urls: Vec<String>,
    /// Hours each timestamp lives (publish renews it) [default: a week]. Written as a bare number or e.g. 90s, 48h, 14d.
    #[arg(long, default_value_t = 168, value_parser = durations::parser::<i64>(durations::Unit::Hours, 1..=8_760))]
    pub timestamp_hours: i64,
    /// Replace an existing registry in REG.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, clap::Args)]
pub struct AddIssuerArgs {
    #[command(flatten)]
    pub reg: RegOpt,
    #[arg(long)]
    pub region: String,
    /// Issuer id, e.g. sc-2020-02.
    #[arg(long)]
    pub id: String,
    /// PEM of the issuer's signing certificate (the first certificate is used).
    #[arg(long, value_name = "PEM")]
    pub cert: PathBuf,
    #[arg(long, value_parser = parse_algorithm, default_value = "ed25519")]
    pub algorithm: Algorithm,
    /// Start of the region's own validity window (RFC 3339; default: the certificate's).
    #[arg(long, value_parser = parse_time)]
    pub not_before: Option<OffsetDateTime>,
    /// End of the region's own validity window (RFC 3339; default: the certificate's).
    #[arg(long, value_parser = parse_time)]
    pub not_after: Option<OffsetDateTime>,
    /// A probe issuer: its codes are synthetic test persons, never counted in summaries.
    #[arg(long)]
    pub synthetic: bool,
}

#[derive(Debug, clap::Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    pub reg: RegOpt,
    #[arg(long)]
    pub region: String,
    #[arg(long)]
    pub issuer: String,
    /// From when codes are refused (RFC 3339; default now). Under key_compromise it only dates
    /// the event: every code of the issuer is refused.
    #[arg(long, value_parser = parse_time)]
    pub effective_from: Option<OffsetDateTime>,
    /// key_compromise (every code refused, whatever its signing time), retired or superseded
    /// (codes signed before --effective-from stay valid). Required: there is no default.
    #[arg(long, value_parser = parse_reason)]
    pub reason: RevocationReason,
}

#[derive(Debug, clap::Args)]
pub struct ConceptArgs {
    #[command(flatten)]
    pub reg: RegOpt,
    #[arg(long)]
    pub region: String,
    /// The region's own status word, e.g. 中风险.
    #[arg(long)]
    pub label: String,
    /// GREEN, YELLOW, RED, PENDING or UNKNOWN.
    #[arg(long, value_parser = parse_colour)]
    pub colour: Colour,
    /// The colour lapses after this many hours without a refresh… Written as a bare number or e.g. 90s, 48h, 14d.
    #[arg(long, value_parser = durations::parser::<u64>(durations::Unit::Hours, 1..=8_760))]
    pub lapse_after_hours: Option<u64>,
    /// …to this colour.
    #[arg(long, value_parser = parse_colour)]
    pub lapse_to: Option<Colour>,
    /// Remove the label instead.
    #[arg(long)]
    pub remove: bool,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub reg: RegOpt,
    #[arg(long)]
    pub region: String,
    #[arg(long)]
    pub url: String,
    #[arg(long)]
    pub spiffe_id: String,
}

#[derive(Debug, clap::Args)]
pub struct AgreementArgs {
    #[command(flatten)]
    pub reg: RegOpt,
    /// Verifying region (or * for a national agreement).
    #[arg(long)]
    pub verifying: String,
    /// Issuing region (or * for a national agreement).
    #[arg(long)]
    pub issuing: String,
    /// A national agreement (signed by the root role) instead of a bilateral one.
    #[arg(long)]
    pub national: bool,
    /// Agreement id (default: `national`, or VERIFYING-ISSUING).
    #[arg(long)]
    pub id: Option<String>,
    /// COLOUR=VERDICT[:DAYS], e.g. YELLOW=HOME_QUARANTINE:7 (repeatable; others keep the
    /// national defaults).
    #[arg(long = "rule", value_name = "COLOUR=VERDICT[:DAYS]")]
    pub rules: Vec<String>,
    /// A bare number of this flag's unit, or e.g. 90s, 48h, 14d.
    #[arg(long, default_value_t = 72, value_parser = durations::parser::<u64>(durations::Unit::Hours, 1..=8_760))]
    pub max_age_hours: u64,
    /// How old (seconds) the issuer's status list may be for a code that names an entry in one;
    /// older or missing lists make such codes REVIEW. Unset: any unexpired list.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    pub max_status_list_age_secs: Option<u64>,
    /// Require an online status check with the issuing region.
    #[arg(long)]
    pub online: bool,
    /// Days until the agreement document expires. Written as a bare number or e.g. 90s, 48h, 14d.
    #[arg(long, default_value_t = 365, value_parser = durations::parser::<i64>(durations::Unit::Days, 1..=3_650))]
    pub expires_days: i64,
}

#[derive(Debug, clap::Args)]
pub struct SignArgs {
    #[command(flatten)]
    pub reg: RegOpt,
    /// PKCS#8 PEM private key of one signer.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Only this pending document (e.g. regions/510000).
    #[arg(long)]
    pub doc: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    #[command(flatten)]
    pub reg: RegOpt,
    /// Timestamp key (default REG/keys/timestamp.pem).
    #[arg(long, value_name = "FILE")]
    pub timestamp_key: Option<PathBuf>,
    /// Log key (default REG/keys/log.pem).
    #[arg(long, value_name = "FILE")]
    pub log_key: Option<PathBuf>,
    /// Hours the new timestamp lives. Written as a bare number or e.g. 90s, 48h, 14d.
    #[arg(long, default_value_t = 24, value_parser = durations::parser::<i64>(durations::Unit::Hours, 1..=8_760))]
    pub timestamp_hours: i64,
}

#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[arg(long, value_parser = parse_algorithm, default_value = "ed25519")]
    pub algorithm: Algorithm,
}

#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    #[command(flatten)]
    pub reg: RegOpt,
    /// A public key file written by `keygen` (FILE.pub) to add to the root role (repeatable).
    #[arg(long = "add-key", value_name = "FILE.pub")]
    pub add: Vec<PathBuf>,
    /// Key id to remove from the root role (repeatable).
    #[arg(long = "remove-key", value_name = "KEY_ID")]
    pub remove: Vec<String>,
    /// New root threshold (default: unchanged).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=255))]
    pub threshold: Option<u32>,
    /// Days until the new root expires. Written as a bare number or e.g. 90s, 48h, 14d.
    #[arg(long, default_value_t = 365, value_parser = durations::parser::<i64>(durations::Unit::Days, 1..=3_650))]
    pub expires_days: i64,
}

#[derive(Debug, clap::Args)]
pub struct BumpArgs {
    #[command(flatten)]
    pub reg: RegOpt,
    /// Document name, e.g. agreements/national.
    #[arg(long)]
    pub doc: String,
}

#[derive(Debug, clap::Args)]
pub struct ProveArgs {
    #[command(flatten)]
    pub reg: RegOpt,
    /// Document name, e.g. regions/510000 (its current version).
    #[arg(long)]
    pub doc: String,
    /// Also prove the log at this size is a prefix of the current log.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000_000))]
    pub from_size: Option<u64>,
}

pub async fn run(cmd: Command) -> anyhow::Result<()> {
    let now = OffsetDateTime::now_utc();
    match cmd {
        Command::Init(args) => init(&args, now),
        Command::AddIssuer(args) => add_issuer(&args, now),
        Command::Revoke(args) => revoke(&args, now),
        Command::SetConceptMap(args) => set_concept(&args, now),
        Command::SetStatusService(args) => set_status(&args, now),
        Command::AddAgreement(args) => add_agreement(&args, now),
        Command::Sign(args) => sign(&args, now),
        Command::Publish(args) => publish_pending(&args, now),
        Command::Verify(args) => verify(&args.reg, now),
        Command::Show(args) => show(&args.reg.reg, args.json, now),
        Command::Log(args) => print_log(&args.reg.reg, args.json, now),
        Command::Keygen(args) => keygen(&args),
        Command::RotateRoot(args) => rotate_root(&args, now),
        Command::Bump(args) => bump(&args, now),
        Command::Prove(args) => prove(&args, now),
        Command::TrustReset(args) => trust_reset(&args, now),
        Command::Node(cmd) => super::registry_node::run(cmd, now),
    }
}

fn parse_time(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|e| format!("{s:?} is not RFC 3339: {e}"))
}

fn parse_colour(s: &str) -> Result<Colour, String> {
    Colour::parse(s).ok_or_else(|| format!("{s:?} is not GREEN, YELLOW, RED, PENDING or UNKNOWN"))
}

fn parse_reason(s: &str) -> Result<RevocationReason, String> {
    RevocationReason::parse(s)
        .ok_or_else(|| format!("{s:?} is not key_compromise, retired or superseded"))
}

fn parse_algorithm(s: &str) -> Result<Algorithm, String> {
    match s {
        "ed25519" => Ok(Algorithm::Ed25519),
        "ecdsa-p256" => Ok(Algorithm::EcdsaP256),
        "sm2" => Ok(Algorithm::Sm2),
        _ => Err(format!("{s:?} is not ed25519, ecdsa-p256 or sm2")),
    }
}

fn parse_verdict(s: &str) -> anyhow::Result<Verdict> {
    Ok(match s.to_ascii_uppercase().as_str() {
        "PASS" => Verdict::Pass,
        "HOME_QUARANTINE" => Verdict::HomeQuarantine,
        "CENTRAL_QUARANTINE" => Verdict::CentralQuarantine,
        "REVIEW" => Verdict::Review,
        "REJECT" => Verdict::Reject,
        _ => bail!("{s:?} is not PASS, HOME_QUARANTINE, CENTRAL_QUARANTINE, REVIEW or REJECT"),
    })
}

/// The ceremony's view: every rule but the timestamp's freshness, which `publish` renews.
pub(super) fn load(reg: &Path, now: OffsetDateTime) -> anyhow::Result<Registry> {
    Ok(store::load_for_publisher(reg, now)?)
}

fn init(args: &InitArgs, now: OffsetDateTime) -> anyhow::Result<()> {
    let mut status_urls = BTreeMap::new();
    for pair in &args.status_urls {
        let (code, url) = pair
            .split_once('=')
            .with_context(|| format!("--status-url {pair:?} must be CODE=URL"))?;
        status_urls.insert(code.to_string(), url.to_string());
    }
    let options = DevOptions {
        status_urls,
        timestamp_lifetime: Duration::hours(args.timestamp_hours),
        node_url: None,
    };
    let dev = DevRegistry::init(&args.pki, &args.out, &options, args.force, now)?;
    let r = &dev.registry;
    println!(
        "wrote a signed dev registry (version {}) to {}",
        r.version(),
        args.out.display()
    );
    println!(
        "  {} regions, {} agreements, {} log entries, checkpoint {}",
        r.regions().count(),
        r.agreements().count(),
        r.checkpoint().tree_size,
        &r.checkpoint().root_hash[..16]
    );
    println!(
        "  signing keys in {} (dev only: a real ceremony keeps them offline)",
        KeyDir::of(&args.out).dir().display()
    );
    Ok(())
}

/// Writes a changed region document as pending, unsigned (its content changed).
fn save_region_pending(
    reg: &Path,
    doc: &huren_registry::doc::RegionDocument,
) -> anyhow::Result<()> {
    let pending = PendingDoc::new(doc);
    let path = pending.save(reg)?;
    println!(
        "pending {} version {} written to {}; sign it with `huren registry sign --key …`, then publish",
        pending.name,
        doc.version,
        path.display()
    );
    Ok(())
}

fn add_issuer(args: &AddIssuerArgs, now: OffsetDateTime) -> anyhow::Result<()> {
    let reg = &args.reg.reg;
    let registry = load(reg, now)?;
    let mut doc = region_to_edit(reg, &registry, &args.region)?;
    let pem = std::fs::read(&args.cert)
        .with_context(|| format!("cannot read {}", args.cert.display()))?;
    let der = huren_registry::x509::pem_to_der(&pem)?
        .into_iter()
        .next()
        .context("no certificate")?;
    let code = huren_adapters::RegionCode::parse(&args.region).map_err(anyhow::Error::msg)?;
    let ca = &registry
        .region(code)
        .context("region not in the registry")?
        .delegation
        .ca_certificate;
    let facts =
        huren_registry::x509::check_issuer(&der, ca, args.algorithm).with_context(|| {
            format!(
                "{} cannot be an issuer of {}",
                args.cert.display(),
                args.region
            )
        })?;
    doc.issuers.insert(
        args.id.clone(),
        Issuer {
            algorithm: args.algorithm,
            certificate: der,
            not_before: args.not_before.unwrap_or(facts.not_before),
            not_after: args.not_after.unwrap_or(facts.not_after),
            status: IssuerStatus::Active,
            synthetic: args.synthetic,
        },
    );
    save_region_pending(reg, &doc)
}

fn revoke(args: &RevokeArgs, now: OffsetDateTime) -> anyhow::Result<()> {
    let reg = &args.reg.reg;
    let registry = load(reg, now)?;
    let mut doc = region_to_edit(reg, &registry, &args.region)?;
    if !doc.issuers.contains_key(&args.issuer) {
        bail!("region {} lists no issuer {}", args.region, args.issuer);
    }
    doc.revocations.push(Revocation {
        issuer: args.issuer.clone(),
        effective_from: huren_registry::canonical::whole_seconds(
            args.effective_from.unwrap_or(now),
        ),
        reason: args.reason.clone(),
    });
    save_region_pending(reg, &doc)
}

fn trust_reset(args: &TrustResetArgs, now: OffsetDateTime) -> anyhow::Result<()> {
    let Some(reset) = huren_registry::trusted::file::reset(&args.state, now)? else {
        println!(
            "{} holds no trusted registry state; nothing to discard",
            args.state.display()
        );
        return Ok(());
    };
    let d = &reset.discarded;
    println!(
        "discarded the trusted registry state of {}:",
        args.state.display()
    );
    println!("  registry (timestamp) version {}", d.timestamp_version);
    println!("  root version {}", d.root_version);
    for (name, version) in &d.documents {
        println!("  {name} version {version}");
    }
    println!(
        "  log checkpoint size {} root {}",
        d.checkpoint_size, d.checkpoint_root
    );
    println!(
        "kept as {}; the next start trusts the registry it finds",
        reset.record.display()
    );
    Ok(())
}

fn set_concept(args: &ConceptArgs, now: OffsetDateTime) -> anyhow::Result<()> {
    let reg = &args.reg.reg;
    let registry = load(reg, now)?;
    let mut doc = region_to_edit(reg, &registry, &args.region)?;
    if args.remove {
        doc.concept_map.labels.remove(&args.label);
    } else {
        let lapse = match (args.lapse_after_hours, args.lapse_to) {
            (Some(h), Some(to)) => Some(Lapse {
                after_secs: h * 3600,
                to,
            }),
            (None, None) => None,
            _ => bail!("--lapse-after-hours and --lapse-to go together"),
        };
        doc.concept_map.labels.insert(
            args.label.clone(),
            ConceptEntry {
                colour: args.colour,
                lapse,
            },
        );
    }
    save_region_pending(reg, &doc)
}

fn set_status(args: &StatusArgs, now: OffsetDateTime) -> anyhow::Result<()> {
    let reg = &args.reg.reg;
    let registry = load(reg, now)?;
    let mut doc = region_to_edit(reg, &registry, &args.region)?;
    doc.status_service = Some(StatusEndpoint {
        url: args.url.clone(),
        spiffe_id: args.spiffe_id.clone(),
    });
    save_region_pending(reg, &doc)
}

fn add_agreement(args: &AgreementArgs, now: OffsetDateTime) -> anyhow::Result<()> {
    let reg = &args.reg.reg;
    let registry = load(reg, now)?;
    let id = args.id.clone().unwrap_or_else(|| {
        if args.national {
            "national".to_string()
        } else {
            format!("{}-{}", args.verifying, args.issuing)
        }
    });
    let version = registry
        .agreements()
        .find(|a| a.id == id)
        .map_or(1, |a| a.version + 1);
    let mut rules = ColourRules::national_defaults();
    for r in &args.rules {
        let (colour, rest) = r
            .split_once('=')
            .with_context(|| format!("--rule {r:?} must be COLOUR=VERDICT[:DAYS]"))?;
        let colour = parse_colour(colour).map_err(anyhow::Error::msg)?;
        let (verdict, days) = match rest.split_once(':') {
            Some((v, d)) => (v, d.parse::<u32>().context("quarantine days")?),
            None => (rest, 0),
        };
        rules.set(colour, Rule::new(parse_verdict(verdict)?, days));
    }
    let agreement = Agreement {
        id,
        version,
        expires: huren_registry::canonical::whole_seconds(now + Duration::days(args.expires_days)),
        kind: if args.national {
            AgreementKind::National
        } else {
            AgreementKind::Bilateral
        },
        verifying: args.verifying.clone(),
        issuing: args.issuing.clone(),
        rules,
        max_code_age_secs: args.max_age_hours * 3600,
        online_check_required: args.online,
        effective_from: huren_registry::canonical::whole_seconds(now),
        effective_until: None,
        max_status_list_age_secs: args.max_status_list_age_secs,
    };
    save_pending(reg, &registry, &agreement)
}

/// Saves `doc` as a new pending document and prints whose signatures it needs.
pub(super) fn save_pending<T: Document>(
    reg: &Path,
    registry: &Registry,
    doc: &T,
) -> anyhow::Result<()> {
    let pending = PendingDoc::new(doc);
    let signers = required_signers(registry.root(), &pending.name, &pending.envelope)?;
    let path = pending.save(reg)?;
    println!(
        "pending {} version {} written to {}",
        doc.name(),
        doc.version(),
        path.display()
    );
    for (role, set) in signers {
        println!("  needs {} of {}", set.threshold, role);
    }
    Ok(())
}

fn sign(args: &SignArgs, now: OffsetDateTime) -> anyhow::Result<()> {
    let reg = &args.reg.reg;
    let registry = load(reg, now)?;
    let key = SigningKey::from_pem_file(&args.key)?;
    let mut signed_any = false;
    let all = PendingDoc::list(reg)?;
    for mut doc in all.clone() {
        if args.doc.as_ref().is_some_and(|d| *d != doc.name) {
            continue;
        }
        let signers = signers_of(&registry, &all, &doc)?;
        if !signers
            .iter()
            .any(|(_, set)| set.keys.contains_key(&key.key_id()))
        {
            println!(
                "{}: key {} is not one of its signers, skipped",
                doc.name,
                key.key_id().short()
            );
            continue;
        }
        doc.envelope.sign(&key)?;
        doc.save(reg)?;
        signed_any = true;
        print!("{}: signed by {};", doc.name, key.key_id().short());
        for (role, set) in &signers {
            print!(
                " {} of {} needed from {}",
                doc.envelope.tally(set).valid.len(),
                set.threshold,
                role
            );
        }
        println!();
    }
    if !signed_any {
        bail!("no pending document this key may sign");
    }
    Ok(())
}

fn publish_pending(args: &PublishArgs, now: OffsetDateTime) -> anyhow::Result<()> {
    let reg = &args.reg.reg;
    let current = load(reg, now)?;
    let keys = OnlineKeys::load(
        &KeyDir::of(reg),
        args.timestamp_key.as_deref(),
        args.log_key.as_deref(),
    )?;
    let lifetime = Duration::hours(args.timestamp_hours);
    let (next, published) = pending::publish_all(reg, &current, &keys, lifetime, now)?;
    println!(
        "published registry version {} ({} document(s) changed); log size {}, root {}",
        next.version(),
        published.len(),
        next.checkpoint().tree_size,
        &next.checkpoint().root_hash[..16]
    );
    Ok(())
}

fn verify(reg: &Path, now: OffsetDateTime) -> anyhow::Result<()> {
    let state = match store::read_state(reg) {
        Ok(s) => s,
        Err(e) => {
            println!("✗ read {}: {e}", reg.join(store::STATE_FILE).display());
            bail!("registry refused: {e}");
        }
    };
    println!("✓ {} parses", reg.join(store::STATE_FILE).display());
    let r = match huren_registry::verify_state(&state, None, now) {
        Ok(r) => r,
        Err(e) => {
            println!("✗ {e}");
            bail!("registry refused: {e}");
        }
    };
    let root = r.root();
    println!(
        "✓ root chain v1..v{}: each signed by {} of {} root keys (rotations by old and new), expires {}",
        root.version,
        root.roles.root.threshold,
        root.roles.root.keys.len(),
        fmt_time(root.expires)
    );
    println!(
        "✓ timestamp v{} signed by the timestamp role, expires {}, binds {} documents at their versions and hashes",
        r.version(),
        fmt_time(r.timestamp().expires),
        r.timestamp().documents.len()
    );
    for region in r.regions() {
        println!(
            "✓ regions/{} v{}: signed by {} of region {}'s keys only, expires {}, {} issuer certificate(s) chain to the region CA",
            region.code,
            region.document.version,
            region.delegation.keys.threshold,
            region.code,
            fmt_time(region.document.expires),
            region.issuers.len()
        );
    }
    for a in r.agreements() {
        let by = match a.kind {
            AgreementKind::National => "the root role".to_string(),
            AgreementKind::Bilateral => format!("regions {} and {}", a.verifying, a.issuing),
        };
        println!(
            "✓ agreements/{} v{}: signed by {by}, expires {}",
            a.id,
            a.version,
            fmt_time(a.expires)
        );
    }
    let cp = r.checkpoint();
    println!(
        "✓ log: {} entries hash to the checkpoint root {}, every current document is a leaf",
        cp.tree_size, cp.root_hash
    );
    let witnesses = r
        .signed_checkpoint()
        .map(|env| env.tally(&root.roles.witnesses).valid.len())
        .unwrap_or(0);
    println!(
        "✓ checkpoint signed by the log key; {witnesses} of {} witnesses cosigned ({} needed)",
        root.roles.witnesses.keys.len(),
        root.roles.witnesses.threshold
    );
    println!(
        "registry {} version {} is valid",
        reg.display(),
        r.version()
    );
    Ok(())
}

/// RFC 3339 with its offset, in the zone tables show.
fn fmt_time(t: OffsetDateTime) -> String {
    let t = crate::report::lang::local(t);
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn show(reg: &Path, json: bool, now: OffsetDateTime) -> anyhow::Result<()> {
    let r = load(reg, now)?;
    if json {
        println!("{}", crate::report::registry_json::registry(&r));
        return Ok(());
    }
    println!(
        "registry version {} (root v{}, timestamp expires {})",
        r.version(),
        r.root().version,
        fmt_time(r.timestamp().expires)
    );
    println!("\nregions:");
    for region in r.regions() {
        let d = &region.document;
        println!(
            "  {} {} ({}) v{}  cache TTL {}s",
            region.code, region.delegation.name, d.system, d.version, d.cache_ttl_secs
        );
        if let Some(s) = &d.status_service {
            println!("    status service {}  expects {}", s.url, s.spiffe_id);
        }
        for (id, iss) in &d.issuers {
            println!(
                "    issuer {id} {} {:?} {} .. {}",
                iss.algorithm.as_str(),
                iss.status,
                fmt_time(iss.not_before),
                fmt_time(iss.not_after)
            );
        }
        for rev in &d.revocations {
            println!(
                "    revoked {} from {}: {}",
                rev.issuer,
                fmt_time(rev.effective_from),
                rev.reason
            );
        }
        let labels: Vec<String> = d
            .concept_map
            .labels
            .iter()
            .map(|(l, e)| match e.lapse {
                Some(lapse) => format!(
                    "{l}→{} (→{} after {}h)",
                    e.colour.as_str(),
                    lapse.to.as_str(),
                    lapse.after_secs / 3600
                ),
                None => format!("{l}→{}", e.colour.as_str()),
            })
            .collect();
        println!("    concept map {}", labels.join(", "));
    }
    println!("\nagreements:");
    for a in r.agreements() {
        let rules: Vec<String> = Colour::ALL
            .iter()
            .map(|c| {
                let rule = a.rules.get(*c);
                if rule.quarantine_days > 0 {
                    format!(
                        "{}→{} {}d",
                        c.as_str(),
                        rule.verdict.as_str(),
                        rule.quarantine_days
                    )
                } else {
                    format!("{}→{}", c.as_str(), rule.verdict.as_str())
                }
            })
            .collect();
        println!(
            "  {} ({:?}) {} verifies {}: max age {}h{}  {}",
            a.id,
            a.kind,
            a.verifying,
            a.issuing,
            a.max_code_age_secs / 3600,
            if a.online_check_required {
                ", online check"
            } else {
                ""
            },
            rules.join(", ")
        );
    }
    println!("\nnodes:");
    for (id, n) in r.nodes() {
        println!(
            "  {id} {} receipt key {} ({}) serves {}",
            n.spiffe_id,
            n.receipt_key.key_id().short(),
            n.receipt_key.algorithm.as_str(),
            n.regions.join(" ")
        );
        if let Some(audit) = &n.audit_key {
            println!(
                "    audit key {} ({})",
                audit.key_id().short(),
                audit.algorithm.as_str()
            );
        }
        if let Some(witness) = &n.witness_key {
            println!("    witness key {}", witness.key_id().short());
        }
        for url in n.replica_urls() {
            println!("    endpoint {url}");
        }
    }
    Ok(())
}

fn print_log(reg: &Path, json: bool, now: OffsetDateTime) -> anyhow::Result<()> {
    let r = load(reg, now)?;
    if json {
        println!("{}", crate::report::registry_json::log(&r));
        return Ok(());
    }
    println!("log {}:", r.root().log_origin);
    for (i, e) in r.state().log.entries.iter().enumerate() {
        println!(
            "  #{i:<4} {:<28} v{:<4} published in {:<4} leaf {}",
            e.document,
            e.version,
            e.published_in,
            &e.leaf_hash[..16]
        );
    }
    println!("checkpoints:");
    for env in &r.state().log.checkpoints {
        match huren_registry::canonical::decode::<log::Checkpoint>(&env.payload) {
            Ok(cp) => println!(
                "  size {:<5} root {}  {} signature(s)",
                cp.tree_size,
                cp.root_hash,
                env.signatures.len()
            ),
            Err(e) => println!("  unreadable checkpoint: {e}"),
        }
    }
    Ok(())
}

fn prove(args: &ProveArgs, now: OffsetDateTime) -> anyhow::Result<()> {
    let r = load(&args.reg.reg, now)?;
    let env = r
        .documents_since(0)
        .into_iter()
        .rfind(|(name, _, _)| *name == args.doc)
        .map(|(_, _, env)| env.clone())
        .with_context(|| format!("no current document {}", args.doc))?;
    let leaf = log::leaf_hash(&env.signed_bytes());
    let cp = r.checkpoint();
    let root = cp.root()?;
    let (index, proof) = r.prove_inclusion(&leaf, cp.tree_size)?;
    log::verify_inclusion(&leaf, index, cp.tree_size, &proof, &root)?;
    println!(
        "{} leaf {} is #{index} of {} (root {})",
        args.doc,
        hex::encode(leaf),
        cp.tree_size,
        cp.root_hash
    );
    println!("inclusion proof ({} hashes, verified):", proof.len());
    for h in &proof {
        println!("  {}", hex::encode(h));
    }
    if let Some(first) = args.from_size {
        let proof = r.prove_consistency(first, cp.tree_size)?;
        let first_root = log::root_hash(
            r.leaves()
                .get(..usize::try_from(first).unwrap_or(usize::MAX))
                .context("--from-size is larger than the log")?,
        );
        log::verify_consistency(first, &first_root, cp.tree_size, &root, &proof)?;
        println!(
            "consistency proof {first} → {} ({} hashes, verified):",
            cp.tree_size,
            proof.len()
        );
        for h in &proof {
            println!("  {}", hex::encode(h));
        }
    }
    Ok(())
}

fn keygen(args: &KeygenArgs) -> anyhow::Result<()> {
    if args.out.exists() {
        bail!("{} exists; choose another file", args.out.display());
    }
    let key = SigningKey::generate(args.algorithm)?;
    store::atomic_write(&args.out, key.to_pem()?.as_bytes(), true)?;
    let public = args.out.with_extension("pub");
    let public_json = serde_json::to_vec_pretty(&key.public_key())?;
    store::atomic_write(&public, &public_json, false)?;
    println!(
        "key {} ({}) in {} (mode 0600), public key in {}",
        key.key_id(),
        args.algorithm.as_str(),
        args.out.display(),
        public.display()
    );
    Ok(())
}

fn rotate_root(args: &RotateArgs, now: OffsetDateTime) -> anyhow::Result<()> {
    let reg = &args.reg.reg;
    let registry = load(reg, now)?;
    let mut root = registry.root().clone();
    root.version += 1;
    root.expires =
        huren_registry::canonical::whole_seconds(now + Duration::days(args.expires_days));
    for id in &args.remove {
        let key_id = huren_registry::KeyId(id.clone());
        if root.roles.root.keys.remove(&key_id).is_none() {
            bail!("{id} is not a root key");
        }
    }
    for path in &args.add {
        let key = read_public_key(path)?;
        root.roles.root.keys.insert(key.key_id(), key);
    }
    if let Some(t) = args.threshold {
        root.roles.root.threshold = t;
    }
    root.roles
        .root
        .check()
        .map_err(|e| anyhow::anyhow!("the new root role is unusable: {e}"))?;
    save_pending(reg, &registry, &root)?;
    println!(
        "  national agreements are signed by the root role: bump and re-sign them with the new keys"
    );
    Ok(())
}

/// A public key file written by `keygen` (FILE.pub), checked to be a usable key.
pub(super) fn read_public_key(path: &Path) -> anyhow::Result<huren_registry::PublicKey> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let key: huren_registry::PublicKey = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not a public key file from keygen", path.display()))?;
    Ok(huren_registry::PublicKey::new(key.algorithm, key.public)?)
}

fn bump(args: &BumpArgs, now: OffsetDateTime) -> anyhow::Result<()> {
    let reg = &args.reg.reg;
    let registry = load(reg, now)?;
    let pending = if let Some(code) = args.doc.strip_prefix(huren_registry::doc::REGION_PREFIX) {
        PendingDoc::new(&region_to_edit(reg, &registry, code)?)
    } else if let Some(id) = args.doc.strip_prefix(huren_registry::doc::AGREEMENT_PREFIX) {
        let mut a = registry
            .agreements()
            .find(|a| a.id == id)
            .cloned()
            .with_context(|| format!("no agreement {id}"))?;
        a.version += 1;
        PendingDoc::new(&a)
    } else {
        bail!("bump works on regions/<code> and agreements/<id>; use rotate-root for the root");
    };
    let path = pending.save(reg)?;
    println!("pending {} written to {}", pending.name, path.display());
    Ok(())
}
