//! `huren region …`: run a reference regional status service, issue its codes, change statuses,
//! look codes up through the gateway's pinned client, and benchmark online lookups.

use super::durations;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use huren_adapters::net::bench::{BenchConfig, bench_online};
use huren_adapters::net::{ClientConfig, ClientIdentity, StatusClient};
use huren_adapters::sim::store::ListedState;
use huren_adapters::sim::{self, DevServices, Faults, IssueInput, ServiceConfig, Store};
use huren_adapters::{
    Colour, LookupQuery, ReadContext, ReadOutcome, RegionCode, ResidentId, Source,
};
use time::OffsetDateTime;

/// Where a region's records live when --data is not given: `.huren/regions/<CODE>`.
const DEFAULT_DATA_ROOT: &str = ".huren/regions";
/// The dev PKI `huren certs init` writes by default.
const DEFAULT_PKI: &str = ".huren/dev";

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Serve a region's reference status service over HTTPS with its dev-PKI identity.
    ///
    /// Answers status lookups (POST /v1/status/lookup) and publishes a change feed
    /// (GET /v1/changes). Records written by `huren region issue` and `set-status` in the same
    /// --data directory are picked up while it runs. Fault flags are for tests.
    Serve(ServeArgs),
    /// Issue a code to a resident and print its QR payload on stdout.
    ///
    /// Zhejiang (330000) and Henan (410000) get a random code id in a URL; the other regions a
    /// payload signed with the region's issuer key from the dev PKI.
    Issue(IssueArgs),
    /// Change a resident's status; a running service publishes the change on its feed.
    SetStatus(SetStatusArgs),
    /// Look a code or resident up at a running service through huren's pinned client.
    Lookup(LookupArgs),
    /// Online lookups at N in flight against an in-process service, beside bare HTTPS round trips.
    Bench(BenchArgs),
}

#[derive(Debug, clap::Args)]
pub struct RegionArgs {
    /// GB/T 2260 region code: 330000, 440000, 510000, 430000, 410000, 420000 or 000000.
    #[arg(long, value_name = "CODE", value_parser = parse_region)]
    pub region: RegionCode,
}

#[derive(Debug, clap::Args)]
pub struct DataArgs {
    /// Directory of the region's per-person records [default: .huren/regions/CODE].
    #[arg(long, value_name = "DIR", env = "HUREN_REGION_DATA")]
    pub data: Option<PathBuf>,
}

impl DataArgs {
    fn dir(&self, region: RegionCode) -> PathBuf {
        self.data
            .clone()
            .unwrap_or_else(|| Path::new(DEFAULT_DATA_ROOT).join(region.as_str()))
    }
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub region: RegionArgs,
    /// Dev PKI directory (holding manifest.json).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_PKI, env = "HUREN_PKI")]
    pub pki: PathBuf,
    /// Loopback address to listen on; port 0 picks a free one.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub data: DataArgs,
    /// Keep records in memory only.
    #[arg(long, conflicts_with = "data")]
    pub memory: bool,
    /// Serve only callers presenting a huren gateway certificate from the PKI (mutual TLS).
    #[arg(long)]
    pub require_gateway: bool,
    /// Fault: added latency before every answer. Written as a bare number or e.g. 90s, 48h, 14d.
    #[arg(long, value_name = "MS", default_value_t = 0, value_parser = durations::parser::<u64>(durations::Unit::Millis, 0..=600_000))]
    pub latency_ms: u64,
    /// Fault: fraction of requests answered 503 (0 to 1).
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub error_rate: f64,
    /// Fault: answer every request with a body that is not JSON.
    #[arg(long)]
    pub garbage_bodies: bool,
    /// Fault: present a certificate from the region's CA with another SPIFFE id.
    #[arg(long)]
    pub wrong_identity: bool,
    /// Fault: answer lookups with the region's word for another colour (for the prober's test).
    #[arg(long)]
    pub wrong_label: bool,
}

#[derive(Debug, clap::Args)]
pub struct IssueArgs {
    #[command(flatten)]
    pub region: RegionArgs,
    /// The resident's 18-character ID number.
    #[arg(long)]
    pub id: String,
    #[arg(long)]
    pub name: String,
    /// GREEN, YELLOW, RED or PENDING, or the region's own word (e.g. 中风险).
    #[arg(long)]
    pub colour: String,
    /// Zhejiang only: the issuing city (e.g. 330100), written into the URL.
    #[arg(long, value_parser = parse_region)]
    pub city: Option<RegionCode>,
    /// Signed codes only: days until the payload expires. Written as a bare number or e.g. 90s, 48h, 14d.
    #[arg(long, default_value_t = 7, value_parser = durations::parser::<i64>(durations::Unit::Days, 1..=3_650))]
    pub valid_days: i64,
    /// Signed regions with status lists (Hunan, Hubei, national, Guangdong): issue the format's
    /// v2, whose entry in the issuer's status list withdraws it when the status changes.
    #[arg(long)]
    pub status_list: bool,
    /// Dev PKI directory, for the signing key of signed regions.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_PKI, env = "HUREN_PKI")]
    pub pki: PathBuf,
    /// Signed codes only: the dev issuer that signs, e.g. hn-sm2-2026-01 (Hunan's SM2 issuer);
    /// the region's main issuer by default.
    #[arg(long)]
    pub issuer: Option<String>,
    /// The region's test channel: a synthetic test person (the prober's), whose lookup answers
    /// say so and whom nodes never count. Refused for an ID held by a real resident.
    #[arg(long)]
    pub synthetic: bool,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Debug, clap::Args)]
pub struct SetStatusArgs {
    #[command(flatten)]
    pub region: RegionArgs,
    #[arg(long)]
    pub id: String,
    /// GREEN, YELLOW, RED or PENDING, or the region's own word.
    #[arg(long)]
    pub colour: String,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Debug, clap::Args)]
pub struct LookupArgs {
    #[command(flatten)]
    pub region: RegionArgs,
    /// The service's base URL, e.g. https://127.0.0.1:8443.
    #[arg(long)]
    pub url: String,
    /// Dev PKI directory: the pinned CA and SPIFFE id come from it.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_PKI, env = "HUREN_PKI")]
    pub pki: PathBuf,
    /// An online code id (32 hex) or a signed code's serial.
    #[arg(long, conflicts_with = "id", required_unless_present = "id")]
    pub code_id: Option<String>,
    /// A resident ID number (with --name).
    #[arg(long, requires = "name")]
    pub id: Option<String>,
    #[arg(long)]
    pub name: Option<String>,
    /// The caller's deadline. Written as a bare number or e.g. 90s, 48h, 14d.
    #[arg(long, value_name = "MS", default_value_t = 2_000, value_parser = durations::parser::<u64>(durations::Unit::Millis, 1..=600_000))]
    pub deadline_ms: u64,
    /// Present the PKI's gateway certificate (for services run with --require-gateway).
    #[arg(long)]
    pub as_gateway: bool,
}

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Region whose reference service is measured (an online region).
    #[arg(long, value_parser = parse_region, default_value = "330000")]
    pub region: RegionCode,
    #[arg(long, value_name = "DIR", default_value = DEFAULT_PKI, env = "HUREN_PKI")]
    pub pki: PathBuf,
    #[arg(long, default_value_t = 256, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=4_096))]
    pub in_flight: usize,
    /// Seconds per phase.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub seconds: u64,
    /// Residents issued before the run.
    #[arg(long, default_value_t = 1_000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    pub people: usize,
}

fn parse_region(s: &str) -> Result<RegionCode, String> {
    RegionCode::parse(s)
}

/// A canonical colour by name, or the colour a region's own word stands for.
fn parse_colour(region: RegionCode, s: &str) -> anyhow::Result<Colour> {
    if let Some(c) = Colour::parse(s) {
        return Ok(c);
    }
    huren_adapters::vocabulary::vocabulary(region.as_str())
        .and_then(|v| v.colour_of(s))
        .with_context(|| format!("{s:?} is neither a colour (GREEN, YELLOW, RED, PENDING) nor a status word of region {region}"))
}

fn resident(id: &str) -> anyhow::Result<ResidentId> {
    ResidentId::parse(id).map_err(anyhow::Error::from)
}

pub async fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Serve(args) => serve(args).await,
        Command::Issue(args) => issue(args).await,
        Command::SetStatus(args) => set_status(args).await,
        Command::Lookup(args) => lookup(args).await,
        Command::Bench(args) => bench(args).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    if !args.listen.ip().is_loopback() {
        bail!(
            "reference services listen on loopback only, not {}",
            args.listen
        );
    }
    if !(0.0..=1.0).contains(&args.error_rate) {
        bail!("--error-rate is a fraction between 0 and 1");
    }
    let region = args.region.region;
    let data = (!args.memory).then(|| args.data.dir(region));
    let config = ServiceConfig {
        region,
        pki: args.pki.clone(),
        listen: args.listen,
        require_gateway: args.require_gateway,
        data: data.clone(),
        faults: Faults {
            latency: Duration::from_millis(args.latency_ms),
            error_rate: args.error_rate,
            garbage_bodies: args.garbage_bodies,
            wrong_identity: args.wrong_identity,
            status_lists: None,
            wrong_label: args.wrong_label,
        },
    };
    let handle = sim::spawn(config)
        .await
        .with_context(|| format!("starting region {region}'s reference service"))?;
    let entry = handle.status_service()?;
    println!("region {region} status service on {}", handle.url());
    println!("  identity {}", entry.spiffe_id);
    match &data {
        Some(dir) => println!(
            "  records  {} ({} people)",
            dir.display(),
            handle.store().len()
        ),
        None => println!("  records  in memory"),
    }
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    handle.shutdown().await;
    Ok(())
}

async fn issue(args: IssueArgs) -> anyhow::Result<()> {
    let region = args.region.region;
    let colour = parse_colour(region, &args.colour)?;
    let input = IssueInput {
        id: resident(&args.id)?,
        name: args.name.clone(),
        colour,
        valid_for: Some(time::Duration::days(args.valid_days)),
        city: args.city,
        issuer: args.issuer.clone(),
        status_list: args.status_list,
        synthetic: args.synthetic,
    };
    let dir = args.data.dir(region);
    let store = Store::open(Some(&dir)).with_context(|| format!("opening {}", dir.display()))?;
    let issued = sim::issue::issue(region, &store, &args.pki, &input, OffsetDateTime::now_utc())?;
    super::log::notice(format!(
        "issued {} ({}) for {} in region {region}; code id {}; records in {}",
        issued.label,
        colour.as_str(),
        input.id.masked(),
        issued.code_id,
        dir.display()
    ));
    println!("{}", issued.payload);
    Ok(())
}

async fn set_status(args: SetStatusArgs) -> anyhow::Result<()> {
    let region = args.region.region;
    let colour = parse_colour(region, &args.colour)?;
    let id = resident(&args.id)?;
    let dir = args.data.dir(region);
    let store = Store::open(Some(&dir)).with_context(|| format!("opening {}", dir.display()))?;
    let record = sim::issue::set_status(region, &store, &id, colour, OffsetDateTime::now_utc())?;
    if !record.revoked.is_empty() {
        println!(
            "revoked {} earlier code(s); the service's revocation list names them",
            record.revoked.len()
        );
    }
    let listed = |state| record.listed.iter().filter(|c| c.state == state).count();
    let (withdrawn, suspended) = (
        listed(ListedState::Withdrawn),
        listed(ListedState::Suspended),
    );
    if withdrawn + suspended > 0 {
        println!(
            "{withdrawn} code(s) withdrawn and {suspended} suspended in the issuer's next status list"
        );
    }
    println!(
        "{} in region {region} is now {} ({}); a running service publishes it on its feed",
        id.masked(),
        record.label,
        colour.as_str()
    );
    Ok(())
}

async fn lookup(args: LookupArgs) -> anyhow::Result<()> {
    let region = args.region.region;
    let trust = DevServices::new(Duration::ZERO).with_service(&args.pki, region, &args.url)?;
    let query = match (&args.code_id, &args.id, &args.name) {
        (Some(code_id), _, _) => LookupQuery::CodeId {
            code_id: code_id.clone(),
            city: None,
        },
        (None, Some(id), Some(name)) => LookupQuery::Resident {
            id: resident(id)?,
            name: name.clone(),
        },
        _ => bail!("give --code-id, or --id with --name"),
    };
    let identity = match args.as_gateway {
        true => Some(ClientIdentity::from_pki_gateway(&args.pki)?),
        false => None,
    };
    let client = StatusClient::new(ClientConfig {
        identity,
        ..ClientConfig::default()
    });
    let started = Instant::now();
    let ctx = ReadContext::new(
        &trust,
        &client,
        OffsetDateTime::now_utc(),
        started + Duration::from_millis(args.deadline_ms),
    );
    match ctx.ask(region, &query).await? {
        ReadOutcome::Read(reading) => {
            println!("source       {:?}", reading.source);
            println!("status       {}", reading.native_label);
            println!("name         {}", reading.subject.name);
            println!(
                "handle       {}",
                reading.subject.region_handle.as_deref().unwrap_or("-")
            );
            println!("refreshed at {}", reading.refreshed_at);
            for note in &reading.notes {
                println!("note         {note}");
            }
        }
        ReadOutcome::Degraded(degraded) => {
            println!("source       {:?}", Source::Degraded);
            println!(
                "handle       {}",
                degraded.subject.region_handle.as_deref().unwrap_or("-")
            );
            for why in &degraded.why {
                println!("note         {why}");
            }
        }
    }
    println!(
        "took         {:.1} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}

async fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let pki = Arc::new(args.pki);
    let report = bench_online(
        &pki,
        BenchConfig {
            region: args.region,
            in_flight: args.in_flight,
            duration: Duration::from_secs(args.seconds),
            people: args.people,
            latency: Duration::ZERO,
            ..BenchConfig::default()
        },
    )
    .await?;
    print!("{report}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_colour_is_a_canonical_name_or_the_regions_own_word() {
        let henan = RegionCode::HENAN;
        assert_eq!(parse_colour(henan, "red").unwrap(), Colour::Red);
        assert_eq!(parse_colour(henan, "中风险").unwrap(), Colour::Yellow);
        assert!(
            parse_colour(henan, "黄码").is_err(),
            "Henan speaks in risk levels"
        );
    }

    #[test]
    fn records_default_to_a_directory_per_region() {
        let args = DataArgs { data: None };
        assert_eq!(
            args.dir(RegionCode::ZHEJIANG),
            Path::new(".huren/regions/330000")
        );
    }
}
