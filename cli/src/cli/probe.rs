//! `huren probe`: the reverse-testing prober (反向测试) over a federation directory, once or
//! every `--every`, printing a mismatch table (or JSON) and serving its counters on `--metrics`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use huren_adapters::RegionCode;

use crate::loopback::people::People;
use crate::probe::metrics::ProbeMetrics;
use crate::probe::{Scope, report, run_round};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The federation directory (`huren federation init --out DIR`): its registry, PKI and the
    /// regional services' records.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub federation: PathBuf,
    /// Print each round as one line of JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Probe again after this long, e.g. 5m, until stopped (or --rounds).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub every: Option<Duration>,
    /// With --every: stop after this many rounds.
    #[arg(long, value_name = "N", requires = "every")]
    pub rounds: Option<u64>,
    /// Serve huren_probe_* counters (Prometheus text) on GET /metrics at this loopback address.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
    /// Verifying provinces to probe (repeatable) [default: every province of the federation].
    #[arg(long, value_name = "CODE", value_parser = RegionCode::parse)]
    pub verifying: Vec<RegionCode>,
    /// Issuing regions whose persons to issue (repeatable) [default: every region].
    #[arg(long, value_name = "CODE", value_parser = RegionCode::parse)]
    pub issuing: Vec<RegionCode>,
    /// Seed of the synthetic persons' names and ID numbers.
    #[arg(long, default_value_t = 12)]
    pub seed: u64,
}

/// Runs the prober; once, an error when anything differs from the registry.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let whole = Scope::whole();
    let scope = Scope {
        verifying: pick(args.verifying, whole.verifying),
        issuing: pick(args.issuing, whole.issuing),
    };
    let metrics = ProbeMetrics::default();
    if let Some(addr) = args.metrics {
        if !addr.ip().is_loopback() {
            bail!("--metrics listens on loopback only, not {addr}");
        }
        let bound = metrics.serve(addr).await?;
        eprintln!("probe metrics on http://{bound}/metrics");
    }
    let mut people = People::new(args.seed);
    let mut done = 0u64;
    loop {
        let round = run_round(&args.federation, &scope, &mut people).await?;
        metrics.count(&round);
        match args.json {
            true => println!("{}", report::json(&round)?),
            false => print!("{}", report::text(&round)),
        }
        done += 1;
        let Some(every) = args.every else {
            if !round.is_clean() {
                bail!(
                    "{} mismatches, {} stale nodes",
                    round.mismatches.len(),
                    round.stale_nodes.len()
                );
            }
            return Ok(());
        };
        if args.rounds.is_some_and(|n| done >= n) {
            return Ok(());
        }
        tokio::time::sleep(every).await;
    }
}

fn pick(asked: Vec<RegionCode>, all: Vec<RegionCode>) -> Vec<RegionCode> {
    if asked.is_empty() { all } else { asked }
}
