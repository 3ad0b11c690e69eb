//! A forwarded read beside the local read of the same regional service in one regime (cache
//! hits, online reads on the shared CPU, online reads bounded by a slow region): the rows, and
//! forwarded ÷ local by throughput, by CPU on one machine and bounded by the busiest process.

use std::time::Duration;

use serde_json::json;

use super::super::figures::{count, ms};
use super::reads::{CallCpu, Measured};
use crate::report::Table;

/// The 0.7× goal of issue 10: forwarded at least this share of local throughput.
pub const GOAL: f64 = 0.7;

/// What a read at the serving node does in a run.
#[derive(Debug, Clone, Copy)]
pub enum Regime {
    /// The serving node's status cache answers: no regional call, no signature from the region.
    Cached,
    /// Cache off at the serving node: every read asks the Henan service, at full speed (the
    /// shared CPU bounds a read).
    Online,
    /// As `Online`, with the Henan service holding every answer this long (its latency fault):
    /// the region, not the CPU, bounds a read.
    SlowRegion(Duration),
}

impl Regime {
    /// Its key in `--json`.
    pub fn key(&self) -> &'static str {
        match self {
            Regime::Cached => "cache_hits",
            Regime::Online => "online",
            Regime::SlowRegion(_) => "online_slow_region",
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Regime::Cached => {
                "cache hits: west's status cache answers, no call to the Henan service".into()
            }
            Regime::Online => {
                "online reads: cache off at west, every read asks the Henan service (CPU-bound)"
                    .into()
            }
            Regime::SlowRegion(latency) => format!(
                "online reads, Henan service +{} ms per answer: cache off at west (the region bounds a read)",
                latency.as_millis()
            ),
        }
    }

    fn latency(&self) -> Option<Duration> {
        match self {
            Regime::SlowRegion(latency) => Some(*latency),
            _ => None,
        }
    }
}

/// Both reads of one regime.
pub struct Pair {
    pub regime: Regime,
    pub local: Measured,
    pub forwarded: Measured,
}

/// Forwarded ÷ local three ways; `None` where not judged or not measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratios {
    /// Calls/s, judged only when every read of both runs reached the source.
    pub throughput: Option<f64>,
    /// CPU per call of both huren nodes (the regional service left out).
    pub nodes: Option<f64>,
    /// CPU per call of every process, the regional service included: one machine's capacity.
    pub same_machine: Option<f64>,
    /// The busiest process's CPU per call: each process on its own host.
    pub own_hosts: Option<f64>,
}

/// `local ÷ forwarded` of CPU per call (a forwarded read that costs more gives a smaller share).
fn share(local: Option<Duration>, forwarded: Option<Duration>) -> Option<f64> {
    let forwarded = forwarded?.as_secs_f64();
    if forwarded > 0.0 {
        Some(local?.as_secs_f64() / forwarded)
    } else {
        None
    }
}

impl Pair {
    pub fn ratios(&self) -> Ratios {
        let (l, f) = (&self.local.cpu, &self.forwarded.cpu);
        Ratios {
            throughput: (self.local.whole() && self.forwarded.whole()).then(|| {
                self.forwarded.figures.calls_per_sec() / self.local.figures.calls_per_sec()
            }),
            nodes: share(l.nodes(), f.nodes()),
            same_machine: share(l.all(), f.all()),
            own_hosts: share(l.busiest(), f.busiest()),
        }
    }

    /// The two rows in the report's table and the ratios under it.
    pub fn say(&self, in_flight: usize) {
        crate::say!("{}", self.regime.describe());
        let mut t = Table::new([
            "read",
            "node",
            "calls/s",
            "p50",
            "p99",
            "failed",
            "read at the source",
            "west cache hit/miss",
            "CPU/call entry",
            "CPU/call west",
            "CPU/call Henan svc",
        ]);
        for (what, node, m) in [
            ("local", "west", &self.local),
            ("forwarded", "zhejiang", &self.forwarded),
        ] {
            t.row([
                what.to_string(),
                node.to_string(),
                count(m.figures.calls_per_sec()),
                ms(m.figures.p50),
                ms(m.figures.p99),
                m.figures.failed.to_string(),
                format!("{} of {}", m.read, m.figures.calls),
                m.cache
                    .map_or_else(|| "-".into(), |c| format!("{}/{}", c.hits, c.misses)),
                micros(m.cpu.entry),
                // A local read's serving node is its entry: its CPU is all under "entry".
                if m.cpu.forwarded {
                    micros(m.cpu.serving)
                } else {
                    "-".into()
                },
                micros(m.cpu.service),
            ]);
        }
        crate::say_raw!("{t}");
        let r = self.ratios();
        match r.throughput {
            Some(x) => crate::say!(
                "  forwarded / local throughput: {x:.2} ({} the {GOAL:.2} goal)",
                if x >= GOAL { "meets" } else { "under" }
            ),
            None => crate::say!(
                "  forwarded / local throughput: not judged (some reads failed or degraded without reaching Henan)"
            ),
        }
        if let Some(latency) = self.regime.latency() {
            let bound = in_flight as f64 / latency.as_secs_f64().max(1e-6);
            crate::say!(
                "  bound {in_flight} in flight ÷ {} ms = {}/s: local {:.2} of it, forwarded {:.2}",
                latency.as_millis(),
                count(bound),
                self.local.figures.calls_per_sec() / bound,
                self.forwarded.figures.calls_per_sec() / bound
            );
        }
        let (l, f) = (&self.local.cpu, &self.forwarded.cpu);
        crate::say!(
            "  by CPU per call, one machine: local {} ÷ forwarded {} (all processes) = {}; nodes only {} ÷ {} = {}",
            micros(l.all()),
            micros(f.all()),
            two(r.same_machine),
            micros(l.nodes()),
            micros(f.nodes()),
            two(r.nodes)
        );
        crate::say!(
            "  bounded by the busiest process (each on its own host): local {} ÷ forwarded {} = {}",
            micros(l.busiest()),
            micros(f.busiest()),
            two(r.own_hosts)
        );
    }

    pub fn json(&self, in_flight: usize) -> serde_json::Value {
        let r = self.ratios();
        json!({
            "regime": self.regime.key(),
            "what": self.regime.describe(),
            "region_latency_ms": self.regime.latency().map(|l| l.as_secs_f64() * 1e3),
            "latency_bound_per_s": self.regime.latency()
                .map(|l| in_flight as f64 / l.as_secs_f64().max(1e-6)),
            "local": figures_json(&self.local),
            "forwarded": figures_json(&self.forwarded),
            "forwarded_over_local": r.throughput,
            "forwarded_over_local_by_cpu_per_call_nodes": r.nodes,
            "forwarded_over_local_by_cpu_per_call_all_processes": r.same_machine,
            "forwarded_over_local_by_cpu_per_call_busiest_process": r.own_hosts,
            "meets_goal": r.throughput.map(|x| x >= GOAL),
        })
    }
}

fn two(x: Option<f64>) -> String {
    x.map_or_else(|| "-".into(), |x| format!("{x:.2}"))
}

/// CPU time in µs, or "-" when it was not measured.
pub fn micros(d: Option<Duration>) -> String {
    d.map_or_else(
        || "-".into(),
        |d| format!("{:.0} µs", d.as_secs_f64() * 1e6),
    )
}

fn us(d: Option<Duration>) -> Option<f64> {
    d.map(|d| d.as_secs_f64() * 1e6)
}

pub fn figures_json(m: &Measured) -> serde_json::Value {
    let CallCpu {
        forwarded,
        entry,
        serving,
        service,
    } = m.cpu;
    json!({
        "calls": m.figures.calls,
        "calls_per_sec": m.figures.calls_per_sec(),
        "p50_ms": m.figures.p50.as_secs_f64() * 1e3,
        "p99_ms": m.figures.p99.as_secs_f64() * 1e3,
        "failed": m.figures.failed,
        "read_at_the_source": m.read,
        "serving_cache_hits": m.cache.map(|c| c.hits),
        "serving_cache_misses": m.cache.map(|c| c.misses),
        "cpu_us_per_call_entry": us(entry),
        "cpu_us_per_call_serving": us(serving.filter(|_| forwarded)),
        "cpu_us_per_call_region_service": us(service),
    })
}
