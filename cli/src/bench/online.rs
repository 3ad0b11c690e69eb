//! `huren bench online`: online status lookups at N in flight against a regional reference
//! service that adds a fixed latency (its fault flag), beside bare HTTPS round trips of the same
//! request to the same service in the same run; against the bound in-flight ÷ latency.

use std::time::Duration;

use anyhow::Context as _;
use huren_adapters::RegionCode;
use huren_adapters::net::bench::{BenchConfig, Figures, bench_online};

use super::figures::ratio;
use crate::loopback::stack::Dirs;
use crate::{say, say_raw};

/// Throughput target: this share of in-flight ÷ latency.
pub const THROUGHPUT_TARGET: f64 = 0.8;
/// CPU target: at most this multiple of a bare round trip's CPU.
pub const CPU_TARGET: f64 = 1.5;

#[derive(Debug, Clone)]
pub struct Options {
    pub region: RegionCode,
    pub in_flight: usize,
    pub latency: Duration,
    /// Per phase.
    pub duration: Duration,
    pub people: usize,
    /// HTTP/2 connections the client keeps to the service.
    pub connections: usize,
    pub json: bool,
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    super::out::set_json(options.json);
    say!("huren bench online — {}", super::machine::describe());
    let dirs = Dirs::fresh("bench-online")?;
    let result = measure(&dirs, &options).await;
    let _ = std::fs::remove_dir_all(&dirs.root);
    result
}

async fn measure(dirs: &Dirs, options: &Options) -> anyhow::Result<()> {
    huren_certs::init(&dirs.pki, &Default::default()).context("cannot create the dev PKI")?;
    let report = bench_online(
        &dirs.pki,
        BenchConfig {
            region: options.region,
            in_flight: options.in_flight,
            duration: options.duration,
            people: options.people,
            latency: options.latency,
            connections: options.connections,
        },
    )
    .await?;
    say_raw!("{report}");
    let bound = options.in_flight as f64 / options.latency.as_secs_f64().max(1e-6);
    let per_bound = report.lookups.per_second / bound;
    let cpu = |f: &Figures| f.cpu_per_call.map(|c| c.as_secs_f64() * 1e6);
    let cpu_ratio = match (cpu(&report.lookups), cpu(&report.bare)) {
        (Some(l), Some(b)) if b > 0.0 => Some(l / b),
        _ => None,
    };
    // The bound again from what the service really took over each lookup (its latency fault's
    // hold and its own work, from the request's arrival to the answer), beside the nominal one.
    let service_ms = |f: &Figures| f.service.map(|s| s.mean.as_secs_f64() * 1e3);
    let measured_bound = service_ms(&report.lookups)
        .filter(|ms| *ms > 0.0)
        .map(|ms| options.in_flight as f64 / (ms / 1e3));
    if !options.latency.is_zero() {
        say!(
            "lookups ÷ bound (in flight ÷ latency = {bound:.0}/s): {} (target at least {THROUGHPUT_TARGET:.2}x)",
            ratio(Some(report.lookups.per_second), Some(bound)),
        );
        if let (Some(ms), Some(measured)) = (service_ms(&report.lookups), measured_bound) {
            say!(
                "service's measured time a lookup {ms:.2} ms (nominal {:.2} ms): bound in flight ÷ that = {measured:.0}/s; lookups ÷ it: {}",
                options.latency.as_secs_f64() * 1e3,
                ratio(Some(report.lookups.per_second), Some(measured)),
            );
        }
    }
    say!(
        "CPU per lookup ÷ CPU per bare round trip of the same request: {} (target at most {CPU_TARGET:.2}x); ÷ CPU per bare GET /v1/health: {}",
        ratio(cpu(&report.lookups), cpu(&report.bare)),
        ratio(cpu(&report.lookups), cpu(&report.health)),
    );
    let figures = |f: &Figures| {
        serde_json::json!({
            "calls": f.calls,
            "failures": f.failures,
            "per_s": f.per_second,
            "p50_ms": f.p50.as_secs_f64() * 1e3,
            "p99_ms": f.p99.as_secs_f64() * 1e3,
            "cpu_us_per_call": cpu(f),
            "service_ms": f.service.map(|s| serde_json::json!({
                "mean": s.mean.as_secs_f64() * 1e3,
                "min": s.min.as_secs_f64() * 1e3,
                "max": s.max.as_secs_f64() * 1e3,
            })),
        })
    };
    super::out::report(&serde_json::json!({
        "benchmark": "online",
        "machine": super::machine::describe(),
        "region": options.region.to_string(),
        "in_flight": options.in_flight,
        "connections": options.connections,
        "latency_ms": options.latency.as_secs_f64() * 1e3,
        "bound_per_s": bound,
        "health": figures(&report.health),
        "bare": figures(&report.bare),
        "lookups": figures(&report.lookups),
        "lookups_per_bound": per_bound,
        "measured_bound_per_s": measured_bound,
        "lookups_per_measured_bound": measured_bound.map(|b| report.lookups.per_second / b),
        "cpu_ratio": cpu_ratio,
        "cpu_ratio_to_health": match (cpu(&report.lookups), cpu(&report.health)) {
            (Some(l), Some(h)) if h > 0.0 => Some(l / h),
            _ => None,
        },
        "throughput_target": THROUGHPUT_TARGET,
        "cpu_target": CPU_TARGET,
    }));
    anyhow::ensure!(
        report.lookups.failures == 0 && report.bare.failures == 0,
        "{} lookups and {} bare round trips failed",
        report.lookups.failures,
        report.bare.failures
    );
    Ok(())
}
