//! Online lookups at N in flight against an in-process reference service, beside a bare HTTPS
//! round trip to the same server over the same pinned connection, measured in the same run.
//!
//! The bare round trip is the same `POST /v1/status/lookup` for the same code, sent as ready-made
//! bytes and its answer read but not parsed: the service does the same work and waits the same
//! added latency (its fault flag), so the difference between the two phases is what huren's
//! client adds (the query's encoding, the cache, the breaker, parsing and checking the answer).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::Method;
use time::OffsetDateTime;

use crate::adapter::ReadContext;
use crate::lookup::LookupQuery;
use crate::model::{Colour, ReadOutcome, RegionCode, ResidentId, Source};
use crate::net::wire::{HEALTH_PATH, LOOKUP_PATH, LookupRequest};
use crate::net::{ClientConfig, StatusClient};
use crate::sim::delay::AddedSummary;
use crate::sim::{self, DevServices, Faults, IssueInput, ServiceConfig, ServiceError};

#[derive(Debug, Clone)]
pub struct BenchConfig {
    pub region: RegionCode,
    pub in_flight: usize,
    /// Per phase (bare round trips, then lookups).
    pub duration: Duration,
    /// Residents issued before the run; lookups cycle through their codes.
    pub people: usize,
    /// Added by the service before every lookup answer (its latency fault), standing in for
    /// the distance to a real region.
    pub latency: Duration,
    /// HTTP/2 connections the client keeps to the service (both phases share them).
    pub connections: usize,
}

impl Default for BenchConfig {
    fn default() -> Self {
        Self {
            region: RegionCode::ZHEJIANG,
            in_flight: 256,
            duration: Duration::from_secs(5),
            people: 1_000,
            latency: Duration::ZERO,
            connections: crate::net::DEFAULT_CONNECTIONS_PER_REGION,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    pub calls: u64,
    pub failures: u64,
    pub per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
    /// Process CPU (client and server together, both in this process) per call; the figure
    /// that survives a noisy shared machine. `None` where /proc is not available.
    pub cpu_per_call: Option<Duration>,
    /// How long the service itself took over each lookup of the phase, from the request's
    /// arrival at its handler to its answer (the added latency included): what the service
    /// really added, beside the nominal latency. `None` for a phase without lookups.
    pub service: Option<AddedSummary>,
}

#[derive(Debug, Clone)]
pub struct BenchReport {
    pub config: BenchConfig,
    /// `GET /v1/health` over the client's pinned HTTP/2 connection: the cheapest round trip
    /// the service answers (no lookup, no added latency).
    pub health: Figures,
    /// The same lookup request as bytes over the client's pinned HTTP/2 connection, its answer
    /// read but not parsed.
    pub bare: Figures,
    /// Full `StatusLookup::lookup` calls, cache off.
    pub lookups: Figures,
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let row = |f: &mut std::fmt::Formatter<'_>, name: &str, x: &Figures| {
            write!(
                f,
                "{name:<28} {:>10.0}/s  p50 {:>8.2} ms  p99 {:>8.2} ms  cpu {:>6} µs/call  ({} calls, {} failed)",
                x.per_second,
                ms(x.p50),
                ms(x.p99),
                x.cpu_per_call
                    .map_or("-".to_string(), |c| format!("{:.1}", c.as_secs_f64() * 1e6)),
                x.calls,
                x.failures
            )?;
            match &x.service {
                Some(s) => writeln!(
                    f,
                    "  service {:.2} ms a lookup (min {:.2}, max {:.2})",
                    ms(s.mean),
                    ms(s.min),
                    ms(s.max)
                ),
                None => writeln!(f),
            }
        };
        writeln!(
            f,
            "region {} reference service, {} in flight over {} connections, {:?} per phase, {:?} added latency",
            self.config.region,
            self.config.in_flight,
            self.config.connections,
            self.config.duration,
            self.config.latency
        )?;
        row(f, "bare GET /v1/health", &self.health)?;
        row(f, "bare HTTPS lookup request", &self.bare)?;
        row(f, "online lookup (huren net)", &self.lookups)?;
        if self.bare.per_second > 0.0 {
            writeln!(
                f,
                "lookup / bare throughput ratio: {:.2}",
                self.lookups.per_second / self.bare.per_second
            )?;
        }
        Ok(())
    }
}

/// Starts `config.region`'s reference service from the dev PKI in `pki`, issues codes, and
/// measures both phases.
pub async fn bench_online(pki: &Path, config: BenchConfig) -> Result<BenchReport, ServiceError> {
    let handle = sim::spawn(ServiceConfig::loopback(config.region, pki)).await?;
    let mut codes = Vec::with_capacity(config.people);
    for i in 0..config.people.max(1) {
        let id = bench_resident(i)?;
        let issued = handle
            .issue(IssueInput::new(id, "张三", Colour::Green))
            .await?;
        codes.push(issued.code_id);
    }
    handle.set_faults(Faults {
        latency: config.latency,
        ..Faults::default()
    });
    let bodies: Arc<Vec<bytes::Bytes>> = Arc::new(
        codes
            .iter()
            .map(|code_id| {
                serde_json::to_vec(&LookupRequest::Code {
                    code_id: code_id.clone(),
                    city: None,
                })
                .map(bytes::Bytes::from)
                .map_err(|e| ServiceError::Task(e.to_string()))
            })
            .collect::<Result<_, _>>()?,
    );
    let codes = Arc::new(codes);
    let trust = Arc::new(DevServices::new(Duration::ZERO).with_service(
        pki,
        config.region,
        &handle.url(),
    )?);
    let client = StatusClient::new(ClientConfig {
        connections_per_region: config.connections,
        ..ClientConfig::default()
    });
    let service = handle.status_service()?;
    let channel = client
        .channel(config.region, &service)
        .map_err(|e| ServiceError::Task(e.to_string()))?;

    handle.take_lookup_times();
    let mut health = run_phase(config.in_flight, config.duration, {
        let channel = channel.clone();
        move |_| {
            let channel = channel.clone();
            async move {
                matches!(
                    channel.request(Method::GET, HEALTH_PATH, None).await,
                    Ok((s, _)) if s.is_success()
                )
            }
        }
    })
    .await;

    health.service = handle.take_lookup_times();

    let mut bare = run_phase(config.in_flight, config.duration, {
        let channel = channel.clone();
        move |n| {
            let (channel, bodies) = (channel.clone(), bodies.clone());
            async move {
                let body = bodies[n % bodies.len()].clone();
                matches!(
                    channel.request(Method::POST, LOOKUP_PATH, Some(body)).await,
                    Ok((s, _)) if s.is_success()
                )
            }
        }
    })
    .await;

    bare.service = handle.take_lookup_times();

    let region = config.region;
    let mut lookups = run_phase(config.in_flight, config.duration, move |n| {
        let (client, trust, codes) = (client.clone(), trust.clone(), codes.clone());
        async move {
            let query = LookupQuery::CodeId {
                code_id: codes[n % codes.len()].clone(),
                city: None,
            };
            let ctx = ReadContext::new(
                trust.as_ref(),
                &client,
                OffsetDateTime::now_utc(),
                Instant::now() + Duration::from_secs(5),
            );
            matches!(ctx.ask(region, &query).await, Ok(ReadOutcome::Read(r)) if r.source == Source::Online)
        }
    })
    .await;
    lookups.service = handle.take_lookup_times();
    handle.shutdown().await;
    Ok(BenchReport {
        config,
        health,
        bare,
        lookups,
    })
}

/// A valid resident ID number for bench person `i`.
fn bench_resident(i: usize) -> Result<ResidentId, ServiceError> {
    let body = format!("3301021990010{:04}", i % 10_000);
    ResidentId::from_first17(&body).map_err(|e| ServiceError::Task(e.to_string()))
}

/// Runs `in_flight` workers calling `call(n)` until `duration` has passed.
async fn run_phase<F, Fut>(in_flight: usize, duration: Duration, call: F) -> Figures
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let start = Instant::now();
    let cpu_start = process_cpu();
    let end = start + duration;
    let mut workers = Vec::with_capacity(in_flight);
    for w in 0..in_flight.max(1) {
        let call = call.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0u64;
            let mut n = w;
            // Bounded by the phase's end time.
            while Instant::now() < end {
                let t = Instant::now();
                if !call(n).await {
                    failures += 1;
                }
                latencies.push(t.elapsed());
                n += in_flight;
            }
            (latencies, failures)
        }));
    }
    let mut all = Vec::new();
    let mut failures = 0;
    for w in workers {
        if let Ok((l, f)) = w.await {
            all.extend(l);
            failures += f;
        }
    }
    let elapsed = start.elapsed();
    let cpu = match (cpu_start, process_cpu()) {
        (Some(a), Some(b)) if !all.is_empty() => Some(b.saturating_sub(a) / all.len() as u32),
        _ => None,
    };
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Figures {
        calls: all.len() as u64,
        failures,
        per_second: all.len() as f64 / elapsed.as_secs_f64().max(1e-9),
        p50: pct(0.50),
        p99: pct(0.99),
        cpu_per_call: cpu,
        service: None,
    }
}

/// User + system CPU time of this process, from /proc/self/stat (Linux; USER_HZ is 100).
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces; fields after its closing parenthesis are fixed.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}
