//! `huren bench federation`: the four-node federation as processes. An online read forwarded
//! by a node that does not serve the region (the Yuhang checkpoint at zhejiang reading Henan
//! codes) beside the same read local to the node that serves it (at west), at the same
//! concurrency, in three regimes of one run: west's status cache answering (as the first
//! version of this benchmark measured), every read asking the Henan service (cache off at west,
//! the service at full speed), and the same with the service's latency fault, where the region
//! bounds a read. Then the latency of the national summary fanned out to all four nodes.
//!
//! Beside throughput it reads each process's CPU time (/proc) over each run: on one machine a
//! forwarded read pays for two nodes and the regional service on the same cores, so the
//! throughput ratio alone cannot say what the federation costs; CPU per call of each process
//! can (and, with each on its own host, the busiest bounds the throughput).

mod pair;
mod reads;

use std::sync::Arc;
use std::time::Duration;

use huren_adapters::{Colour, RegionCode};
use serde_json::json;

use super::figures::ms;
use super::load::Bounds;
use super::machine;
use crate::federation::Federation;
use crate::federation::init::{InitRequest, init};
use crate::federation::issue::{KNOWN_AFTER, issue_code};
use crate::federation::layout::Ports;
use crate::loopback::people::People;
use pair::{Pair, Regime};
use reads::{REGION, Route, fan_out, reads, settle};

#[derive(Debug, Clone)]
pub struct Options {
    pub bounds: Bounds,
    pub in_flight: usize,
    /// Henan residents with online codes, read round robin.
    pub codes: usize,
    /// The Henan service's added latency in the slow-region regime.
    pub region_latency: Duration,
    pub json: bool,
}

/// The node that serves Henan, and the one that forwards to it.
const SERVING: &str = "west";
const ENTRY: &str = "zhejiang";

pub async fn run(options: Options) -> anyhow::Result<()> {
    super::out::set_json(options.json);
    crate::say!("huren bench federation — {}", super::machine::describe());
    let root = std::env::temp_dir().join(format!(
        "huren-bench-federation-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    ));
    let result = measure(&root, &options).await;
    let _ = std::fs::remove_dir_all(&root);
    result
}

async fn measure(root: &std::path::Path, options: &Options) -> anyhow::Result<()> {
    let dir = root.join("federation");
    init(&InitRequest {
        out: dir.clone(),
        base_port: Ports::free()?.base,
        force: false,
    })?;
    let mut federation = Federation::start_here(&dir).await?;
    let mut people = People::new(7);
    let mut payloads = Vec::with_capacity(options.codes);
    for _ in 0..options.codes.max(1) {
        let who = people.resident(RegionCode::HENAN);
        payloads.push(issue_code(
            &dir,
            RegionCode::HENAN,
            &who.id,
            &who.name,
            Colour::Green,
        )?);
    }
    tokio::time::sleep(KNOWN_AFTER).await;
    let payloads = Arc::new(payloads);
    crate::say!(
        "{} Henan online codes; the Yuhang checkpoint (330110) reads them at {} in flight, {:?} a run",
        payloads.len(),
        options.in_flight,
        options.bounds.duration
    );

    let cached = pair(&federation, Regime::Cached, &payloads, options).await?;
    cached.say(options.in_flight);
    // While all four nodes run as started: the fan-out does not depend on the regimes below.
    let summary = fan_out(&federation, options.bounds).await?;

    // The cache off at west: restarted with `[lookup] status_cache_capacity = 0`.
    federation.kill_node(SERVING)?;
    cache_off(&dir, &federation, SERVING)?;
    federation.restart_node(SERVING).await?;
    let online = pair(&federation, Regime::Online, &payloads, options).await?;
    online.say(options.in_flight);

    let latency_ms = options.region_latency.as_millis().to_string();
    federation
        .restart_region_with(REGION, &["--latency-ms".to_string(), latency_ms])
        .await?;
    let slow = pair(
        &federation,
        Regime::SlowRegion(options.region_latency),
        &payloads,
        options,
    )
    .await?;
    slow.say(options.in_flight);

    let load = machine::load_average();
    crate::say!(
        "load average at the end: {}",
        load.clone().unwrap_or_else(|| "unknown".into())
    );
    crate::say!(
        "national summary fanned out to 4 nodes: p50 {}, p99 {} over {} calls ({} partial, {} failed)",
        ms(summary.figures.p50),
        ms(summary.figures.p99),
        summary.figures.calls,
        summary.calls - summary.read,
        summary.figures.failed
    );
    let c = cached.ratios();
    super::out::report(&json!({
        "benchmark": "federation",
        "in_flight": options.in_flight,
        // The first regime under the keys the benchmark has always had: cache hits at west.
        "local": pair::figures_json(&cached.local),
        "forwarded": pair::figures_json(&cached.forwarded),
        "forwarded_over_local": c.throughput,
        "forwarded_over_local_by_cpu_per_call": c.nodes,
        "forwarded_over_local_by_cpu_per_call_own_hosts": c.own_hosts,
        "regimes": [
            cached.json(options.in_flight),
            online.json(options.in_flight),
            slow.json(options.in_flight),
        ],
        "load_average": load,
        "fan_out_summary": {
            "nodes": 4,
            "calls": summary.figures.calls,
            "partial": summary.calls - summary.read,
            "failed": summary.figures.failed,
            "p50_ms": summary.figures.p50.as_secs_f64() * 1e3,
            "p99_ms": summary.figures.p99.as_secs_f64() * 1e3,
        },
    }));
    drop(federation);
    Ok(())
}

/// The local read at west, then the forwarded one at zhejiang, once reads reach Henan from both
/// (after a restart, connections and breakers take a moment).
async fn pair(
    federation: &Federation,
    regime: Regime,
    payloads: &Arc<Vec<String>>,
    options: &Options,
) -> anyhow::Result<Pair> {
    let (in_flight, bounds) = (options.in_flight, options.bounds);
    let first = payloads.first().map(String::as_str).unwrap_or_default();
    let local = Route {
        entry: SERVING,
        serving: SERVING,
    };
    let forwarded = Route {
        entry: ENTRY,
        serving: SERVING,
    };
    settle(federation, local.entry, first, bounds).await?;
    settle(federation, forwarded.entry, first, bounds).await?;
    Ok(Pair {
        regime,
        local: reads(federation, local, payloads.clone(), in_flight, bounds).await?,
        forwarded: reads(federation, forwarded, payloads.clone(), in_flight, bounds).await?,
    })
}

/// Turns the status cache off in `node`'s huren.toml (for its next start).
fn cache_off(dir: &std::path::Path, federation: &Federation, node: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let path = dir.join(&federation.node(node)?.config);
    let mut file = std::fs::OpenOptions::new().append(true).open(&path)?;
    file.write_all(b"\n[lookup]\n# Every online read asks the region (huren bench federation).\nstatus_cache_capacity = 0\n")?;
    Ok(())
}
