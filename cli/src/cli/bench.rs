//! `huren bench …`: benchmarks printed beside same-run baselines (see [`crate::bench`]).

use super::durations;
use std::time::Duration;

use crate::bench::load::Bounds;
use crate::bench::node_process::NodeOptions;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// VerifyCode and VerifyCodes of offline-signed codes (Guangdong Ed25519, Sichuan P-256) at
    /// N in flight, beside the raw verify rate on one core and a bare mTLS round trip.
    Verify(VerifyArgs),
    /// CheckManifest of a 1,000-passenger train, beside the same baselines.
    Manifest(ManifestArgs),
    /// Capacity first (VerifyCode, closed loop), then several times it offered open loop by many
    /// callers: goodput against that capacity, how fast and how the rest are refused, memory.
    Overload(OverloadArgs),
    /// Online status lookups at N in flight against a regional service with added latency,
    /// beside bare HTTPS round trips of the same request: throughput against in-flight ÷
    /// latency, CPU per lookup against CPU per round trip.
    Online(OnlineArgs),
    /// Verify and load a large registry, apply a one-change delta, proof sizes; beside the raw
    /// signature-verify rate measured in the same run.
    Registry(super::bench_registry::Args),
    /// The node under test of `bench overload`, in a process of its own: serves until stdin
    /// closes.
    #[command(hide = true)]
    Node(NodeOptions),
    /// Signed status lists: size, build, open and delta for 1, 10 and 30 million codes; a node's
    /// fetch over HTTPS; the lookup as a share of a VerifyCode measured in the same run.
    StatusLists(StatusListsArgs),
    /// The four-node federation as processes: a forwarded online read beside the same read local
    /// to the serving node (cache hits, online reads, online reads of a slow region), and the
    /// latency of the national summary fanned out to every node.
    Federation(FederationArgs),
}

#[derive(Debug, clap::Args)]
pub struct StatusListsArgs {
    /// How long each VerifyCode run lasts, and --json.
    #[command(flatten)]
    pub bounds: BoundArgs,
    /// List sizes measured offline (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [1_000_000, 10_000_000, 30_000_000], value_parser = clap::value_parser!(u32).range(1..=i64::from(huren_adapters::status_list::MAX_CODES)))]
    pub codes: Vec<u32>,
}

#[derive(Debug, clap::Args)]
pub struct FederationArgs {
    #[command(flatten)]
    pub bounds: BoundArgs,
    /// Calls in flight for the online reads.
    #[arg(long, default_value_t = 64, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=4_096))]
    pub in_flight: usize,
    /// Henan residents with online codes, read round robin.
    #[arg(long, default_value_t = 200, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    pub codes: usize,
    /// Latency the Henan service adds before every answer in the last regime, milliseconds
    /// (its fault flag, as `huren bench online` sets it).
    #[arg(long, value_name = "MS", default_value_t = 20, value_parser = durations::parser::<u64>(durations::Unit::Millis, 1..=10_000))]
    pub region_latency_ms: u64,
}

#[derive(Debug, clap::Args)]
pub struct BoundArgs {
    /// How long each measured run lasts, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 2.0)]
    pub duration: f64,
    /// Stop a run after this many calls, if that comes first (0: no limit).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=1_000_000_000))]
    pub requests: u64,
    /// Print one JSON object on stdout (the tables go to stderr).
    #[arg(long)]
    pub json: bool,
}

impl BoundArgs {
    fn bounds(&self) -> anyhow::Result<Bounds> {
        anyhow::ensure!(
            self.duration > 0.0 && self.duration <= 600.0,
            "--duration is between 0 and 600 seconds"
        );
        Ok(Bounds {
            duration: Duration::from_secs_f64(self.duration),
            requests: self.requests,
        })
    }
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub bounds: BoundArgs,
    /// Calls in flight; one run each (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [64, 256], value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=4_096))]
    pub in_flight: Vec<usize>,
    /// Codes per VerifyCodes call.
    #[arg(long, default_value_t = 100, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    pub batch: usize,
    /// Distinct codes per algorithm, sent round robin.
    #[arg(long, default_value_t = 1000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    pub codes: usize,
}

#[derive(Debug, clap::Args)]
pub struct ManifestArgs {
    #[command(flatten)]
    pub bounds: BoundArgs,
    /// Manifests in flight; one run each (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [1, 4], value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=256))]
    pub in_flight: Vec<usize>,
    #[arg(long, default_value_t = 1000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    pub passengers: usize,
}

#[derive(Debug, clap::Args)]
pub struct OnlineArgs {
    /// How long each phase lasts, and --json (--requests is not used).
    #[command(flatten)]
    pub bounds: BoundArgs,
    /// Region whose reference service is measured (an online region: 330000 or 410000).
    #[arg(long, default_value = "330000", value_parser = huren_adapters::RegionCode::parse)]
    pub region: huren_adapters::RegionCode,
    /// Lookups in flight.
    #[arg(long, default_value_t = 256, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=4_096))]
    pub in_flight: usize,
    /// Latency the service adds before every answer, milliseconds (its fault flag).
    #[arg(long, value_name = "MS", default_value_t = 20, value_parser = durations::parser::<u64>(durations::Unit::Millis, 0..=10_000))]
    pub latency_ms: u64,
    /// Residents issued before the run; lookups cycle through their codes.
    #[arg(long, default_value_t = 1_000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    pub people: usize,
    /// HTTP/2 connections the client keeps to the service (the gateway's default: 2).
    #[arg(long, default_value_t = huren_adapters::net::DEFAULT_CONNECTIONS_PER_REGION, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64))]
    pub connections: usize,
}

#[derive(Debug, clap::Args)]
pub struct OverloadArgs {
    #[command(flatten)]
    pub bounds: BoundArgs,
    /// Calls in flight while capacity is measured (closed loop, over the same connections as the
    /// overload).
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub in_flight: u16,
    /// Offered load during the overload run, as a multiple of the measured capacity.
    #[arg(long, default_value_t = 3.0)]
    pub factor: f64,
    /// Separate connections (callers) offering the overload.
    #[arg(long, default_value_t = 128, value_parser = clap::value_parser!(u16).range(1..=2048))]
    pub callers: u16,
    /// Each overload call's deadline, milliseconds. Written as a bare number or e.g. 90s, 48h, 14d.
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = durations::parser::<u64>(durations::Unit::Millis, 1..=60_000))]
    pub deadline_ms: u64,
    /// Calls the load generator keeps outstanding at most.
    #[arg(long, default_value_t = 50_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub outstanding: u32,
    /// Callers ignore RetryInfo and keep calling at their pace (by default a refused caller
    /// holds its calls for the delay the refusal gives, as a well-behaved client does).
    #[arg(long)]
    pub ignore_retry_info: bool,
    #[command(flatten)]
    pub node: NodeOptions,
}

pub async fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Federation(args) => {
            crate::bench::federation::run(crate::bench::federation::Options {
                bounds: args.bounds.bounds()?,
                in_flight: args.in_flight,
                codes: args.codes,
                region_latency: Duration::from_millis(args.region_latency_ms),
                json: args.bounds.json,
            })
            .await
        }
        Command::Verify(args) => {
            anyhow::ensure!(
                args.in_flight.iter().all(|&n| (1..=4096).contains(&n)),
                "--in-flight values are between 1 and 4096"
            );
            anyhow::ensure!(
                (1..=10_000).contains(&args.batch),
                "--batch is between 1 and 10,000"
            );
            crate::bench::verify::run(crate::bench::verify::Options {
                bounds: args.bounds.bounds()?,
                in_flight: args.in_flight,
                batch: args.batch,
                codes: args.codes.clamp(1, 100_000),
                json: args.bounds.json,
            })
            .await
        }
        Command::Manifest(args) => {
            anyhow::ensure!(
                args.in_flight.iter().all(|&n| (1..=256).contains(&n)),
                "--in-flight values are between 1 and 256"
            );
            anyhow::ensure!(
                (1..=10_000).contains(&args.passengers),
                "--passengers is between 1 and 10,000"
            );
            crate::bench::manifest::run(crate::bench::manifest::Options {
                bounds: args.bounds.bounds()?,
                in_flight: args.in_flight,
                passengers: args.passengers,
                json: args.bounds.json,
            })
            .await
        }
        Command::Overload(args) => {
            anyhow::ensure!(
                (1.0..=100.0).contains(&args.factor),
                "--factor is between 1 and 100"
            );
            crate::bench::overload::run(crate::bench::overload::Options {
                bounds: args.bounds.bounds()?,
                in_flight: usize::from(args.in_flight),
                factor: args.factor,
                callers: usize::from(args.callers),
                deadline: Duration::from_millis(args.deadline_ms),
                outstanding: args.outstanding as usize,
                node: args.node,
                honour_retry_info: !args.ignore_retry_info,
                json: args.bounds.json,
            })
            .await
        }
        Command::Online(args) => {
            let bounds = args.bounds.bounds()?;
            crate::bench::online::run(crate::bench::online::Options {
                region: args.region,
                in_flight: args.in_flight,
                latency: Duration::from_millis(args.latency_ms),
                duration: bounds.duration,
                people: args.people,
                connections: args.connections,
                json: args.bounds.json,
            })
            .await
        }
        Command::Registry(args) => super::bench_registry::run(args).await,
        Command::Node(options) => crate::bench::node_process::serve(options).await,
        Command::StatusLists(args) => {
            crate::bench::status_lists::run(crate::bench::status_lists::Options {
                bounds: args.bounds.bounds()?,
                codes: args.codes,
                json: args.bounds.json,
            })
            .await
        }
    }
}
