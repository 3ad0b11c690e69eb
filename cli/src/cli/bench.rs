//! `huren bench …`: benchmarks printed beside same-run baselines (see [`crate::bench`]).

use std::time::Duration;

use crate::bench::load::Bounds;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// VerifyCode and VerifyCodes of offline-signed codes (Guangdong Ed25519, Sichuan P-256) at
    /// N in flight, beside the raw verify rate on one core and a bare mTLS round trip.
    Verify(VerifyArgs),
    /// CheckManifest of a 1,000-passenger train, beside the same baselines.
    Manifest(ManifestArgs),
    /// Verify and load a large registry, apply a one-change delta, proof sizes; beside the raw
    /// signature-verify rate measured in the same run.
    Registry(super::bench_registry::Args),
}

#[derive(Debug, clap::Args)]
pub struct BoundArgs {
    /// How long each measured run lasts, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 2.0)]
    pub duration: f64,
    /// Stop a run after this many calls, if that comes first (0: no limit).
    #[arg(long, value_name = "N", default_value_t = 0)]
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
    #[arg(long, value_delimiter = ',', default_values_t = [64, 256])]
    pub in_flight: Vec<usize>,
    /// Codes per VerifyCodes call.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Distinct codes per algorithm, sent round robin.
    #[arg(long, default_value_t = 1000)]
    pub codes: usize,
}

#[derive(Debug, clap::Args)]
pub struct ManifestArgs {
    #[command(flatten)]
    pub bounds: BoundArgs,
    /// Manifests in flight; one run each (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [1, 4])]
    pub in_flight: Vec<usize>,
    #[arg(long, default_value_t = 1000)]
    pub passengers: usize,
}

pub async fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
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
        Command::Registry(args) => super::bench_registry::run(args).await,
    }
}
