//! `huren bench overload`: what the node does at several times its capacity. The node runs in a
//! process of its own ([`node_process`](super::node_process)); its capacity is measured first in
//! this run (VerifyCode of Guangdong's Ed25519 codes, closed loop); then a crowd of callers
//! offers a multiple of it, open loop, backing off when a refusal says so. The report says how
//! much was still served in time (goodput against that capacity), how fast and how the rest were
//! refused, and the CPU and memory of the node's process and of the generator's.
//!
//! The generator runs on a thread of its own ([`generator`](super::generator)) and sends
//! requests encoded once over raw HTTP/2 ([`wire`](super::wire)), so that it takes as little of
//! the shared cores from the node as a real mutual-TLS caller can.

use std::time::{Duration, Instant};

use super::cpu::{process_cpu, process_runqueue_wait};
use super::figures::{count, ms, percent, ratio, us};
use super::generator::Generator;
use super::load::{self, Bounds};
use super::memory::{self, mib};
use super::node_process::{NodeOptions, NodeProcess};
use super::open_loop::{self, Outcome, Pace, Tally};
use super::wire::Wire;
use crate::report::Table;
use crate::{say, say_raw};

/// Goodput under overload should stay at least this share of the measured capacity.
pub const GOODPUT_TARGET: f64 = 0.90;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long the capacity run and the overload run each last.
    pub bounds: Bounds,
    /// Calls in flight while capacity is measured.
    pub in_flight: usize,
    /// Offered load as a multiple of the measured capacity.
    pub factor: f64,
    /// Separate mutual-TLS connections offering the overload.
    pub callers: usize,
    /// Each call's deadline (grpc-timeout) during the overload.
    pub deadline: Duration,
    /// Calls the generator keeps outstanding at most.
    pub outstanding: usize,
    /// The node's limits and the codes it issues.
    pub node: NodeOptions,
    /// Whether callers back off for a refusal's `RetryInfo` delay.
    pub honour_retry_info: bool,
    pub json: bool,
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    super::out::set_json(options.json);
    say!("huren bench overload — {}", super::machine::describe());
    let node = NodeProcess::spawn(&options.node).await?;
    let result = measure(&node, &options).await;
    node.stop().await;
    result
}

/// CPU time of a process over a span, as cores busy, and how long its threads waited for a core.
struct CpuSpan {
    pid: u32,
    cpu: Option<Duration>,
    waited: Option<Duration>,
    at: Instant,
}

impl CpuSpan {
    fn start(pid: u32) -> Self {
        Self {
            pid,
            cpu: process_cpu(pid),
            waited: process_runqueue_wait(pid),
            at: Instant::now(),
        }
    }

    fn cores(&self) -> Option<f64> {
        let used = process_cpu(self.pid)?.checked_sub(self.cpu?)?;
        Some(used.as_secs_f64() / self.at.elapsed().as_secs_f64().max(1e-9))
    }

    /// Thread-seconds spent runnable but waiting for a core, per second of the span: near 0
    /// when the process had the cores it asked for; large when other work held them.
    fn waiting(&self) -> Option<f64> {
        let waited = process_runqueue_wait(self.pid)?.checked_sub(self.waited?)?;
        Some(waited.as_secs_f64() / self.at.elapsed().as_secs_f64().max(1e-9))
    }
}

/// CPU µs a call, from cores busy over `elapsed` and the calls made in it.
fn per_call(cores: Option<f64>, elapsed: Duration, calls: u64) -> Option<f64> {
    cores
        .filter(|_| calls > 0)
        .map(|c| c * elapsed.as_secs_f64() * 1e6 / calls as f64)
}

fn cores(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |c| format!("{c:.2}"))
}

async fn measure(node: &NodeProcess, options: &Options) -> anyhow::Result<()> {
    let limits = options.node.limits();
    say!(
        "VerifyCode of Guangdong Ed25519 codes for a province caller (Henan); node limits: max_in_flight {}, max_queue_ms {}, admission_wait_ms {}, max_concurrent_streams {} per connection",
        limits.max_in_flight,
        limits.max_queue_ms,
        limits.admission_wait_ms,
        limits.max_concurrent_streams
    );
    say!(
        "the node runs in its own process (pid {}); the load generator in this one, on one thread, sending requests encoded once over raw HTTP/2; both share the machine's cores",
        node.pid
    );
    let me = std::process::id();
    let generator = Generator::start()?;

    // Capacity is measured over the very connections that then offer the overload: over fewer
    // connections the node's TLS and HTTP/2 work sits on fewer tasks, and the figure understates
    // what the node serves to a crowd.
    let crowd = {
        let (addr, tls, codes) = (
            node.ready.addr,
            node.caller_tls()?,
            node.ready.codes.clone(),
        );
        let callers = options.callers;
        generator
            .run(async move { Wire::connect(addr, &tls, callers, &codes).await })
            .await??
    };
    let (node_cpu, own_cpu) = (CpuSpan::start(node.pid), CpuSpan::start(me));
    let closed = {
        let wire = crowd.with_deadline(options.bounds.call_timeout());
        let (in_flight, bounds) = (options.in_flight, options.bounds);
        generator
            .run(load::run(in_flight, bounds, 1, move |i| {
                let call = wire.verify(i);
                async move { call.await.map_err(|s| crate::report::describe(&s)) }
            }))
            .await?
    };
    let capacity_cpu = (node_cpu.cores(), own_cpu.cores());
    let capacity_wait = (node_cpu.waiting(), own_cpu.waiting());
    if closed.failed > 0 || closed.calls == 0 {
        anyhow::bail!(
            "the capacity run failed: {} of {} calls ({})",
            closed.failed,
            closed.calls + closed.failed,
            closed.first_error.unwrap_or_default()
        );
    }
    let capacity = closed.calls_per_sec();
    say!(
        "\ncapacity, closed loop at {} in flight over {} connections for {:?}: {} calls/s (p50 {} ms, p99 {} ms); CPU cores busy: node {}, generator {} ({} µs a call)",
        options.in_flight,
        options.callers,
        closed.elapsed,
        count(capacity),
        ms(closed.p50),
        ms(closed.p99),
        cores(capacity_cpu.0),
        cores(capacity_cpu.1),
        us(per_call(capacity_cpu.1, closed.elapsed, closed.calls)),
    );

    let pace = Pace {
        rate: capacity * options.factor,
        duration: options.bounds.duration,
        requests: options.bounds.requests,
        outstanding: options.outstanding,
        deadline: options.deadline,
        callers: options.callers,
        honour_retry_info: options.honour_retry_info,
    };
    say!(
        "overload, open loop: {:.1}× capacity = {} calls/s offered for {:?} by {} connections; each call's deadline {} ms; at most {} outstanding; callers {} RetryInfo",
        options.factor,
        count(pace.rate),
        pace.duration,
        options.callers,
        pace.deadline.as_millis(),
        pace.outstanding,
        if pace.honour_retry_info {
            "back off as told by"
        } else {
            "ignore"
        }
    );
    let rss_before = memory::rss(node.pid);
    let sampler = memory::Sampler::start(node.pid, Duration::from_millis(20));
    let (node_cpu, own_cpu) = (CpuSpan::start(node.pid), CpuSpan::start(me));
    let tally = {
        let wire = crowd.with_deadline(options.deadline);
        generator
            .run(open_loop::run(pace, move |i| {
                let call = wire.verify(i);
                async move {
                    match call.await {
                        Ok(()) => Outcome::Served,
                        Err(status) => Outcome::from_status(&status),
                    }
                }
            }))
            .await?
    };
    let overload_cpu = (node_cpu.cores(), own_cpu.cores());
    let overload_wait = (node_cpu.waiting(), own_cpu.waiting());
    let overload_elapsed = own_cpu.at.elapsed();
    let rss_peak = sampler.peak();
    drop(sampler);

    say_raw!("{}", outcomes(&tally));
    let goodput = tally.goodput();
    let window = pace.duration.as_secs_f64().max(1e-9);
    say!(
        "sent to the node: {} calls/s = {} of capacity",
        count(tally.sent() as f64 / window),
        ratio(Some(tally.sent() as f64 / window), Some(capacity))
    );
    say!(
        "goodput: {} calls/s = {} of capacity (target at least {})",
        count(goodput),
        ratio(Some(goodput), Some(capacity)),
        format_args!("{GOODPUT_TARGET:.2}x"),
    );
    say!(
        "  of which answered before the window closed: {} calls/s = {} of capacity (the count before 2026-12-01 23:00)",
        count(tally.goodput_in_window()),
        ratio(Some(tally.goodput_in_window()), Some(capacity)),
    );
    let refused_all = tally.refused.count();
    say!(
        "refusals carrying RetryInfo: {} of {}",
        count(tally.refused_with_retry_info as f64),
        count(refused_all as f64)
    );
    let generator_us = per_call(overload_cpu.1, overload_elapsed, tally.sent());
    say!(
        "CPU cores busy during overload: node process {}, generator process {} ({} µs a call sent)",
        cores(overload_cpu.0),
        cores(overload_cpu.1),
        us(generator_us)
    );
    say!(
        "threads waiting for a core (run queue), capacity → overload: node {} → {}, generator {} → {} (load average {})",
        cores(capacity_wait.0),
        cores(overload_wait.0),
        cores(capacity_wait.1),
        cores(overload_wait.1),
        super::machine::load_average().unwrap_or_else(|| "-".to_string())
    );
    let high_water = memory::high_water(node.pid);
    say!(
        "memory (VmRSS of the node's process: gateway and reference services): before {}, peak during overload {}, VmHWM {}",
        mib(rss_before),
        mib(rss_peak),
        mib(high_water)
    );
    if let Some(why) = &tally.first_failure {
        say!("first other failure: {why}");
    }
    super::out::report(&serde_json::json!({
        "benchmark": "overload",
        "machine": super::machine::describe(),
        "limits": {
            "max_in_flight": limits.max_in_flight,
            "max_queue_ms": limits.max_queue_ms,
            "admission_wait_ms": limits.admission_wait_ms,
            "max_concurrent_streams": limits.max_concurrent_streams,
        },
        "capacity_per_sec": capacity,
        "capacity_in_flight": options.in_flight,
        "factor": options.factor,
        "offered_per_sec": pace.rate,
        "sent_per_sec": tally.sent() as f64 / window,
        "callers": options.callers,
        "deadline_ms": options.deadline.as_millis() as u64,
        "honour_retry_info": options.honour_retry_info,
        "goodput_per_sec": goodput,
        "goodput_ratio": goodput / capacity.max(1e-9),
        "goodput_target": GOODPUT_TARGET,
        "goodput_in_window_per_sec": tally.goodput_in_window(),
        "offered": tally.offered(),
        "served": tally.served.count(),
        "served_p50_ms": tally.served.quantile(0.5).as_secs_f64() * 1e3,
        "served_p99_ms": tally.served.quantile(0.99).as_secs_f64() * 1e3,
        "refused": refused_all,
        "refused_by_code": tally.refused_by_code,
        "refused_with_retry_info": tally.refused_with_retry_info,
        "refusal_p50_ms": tally.refused.quantile(0.5).as_secs_f64() * 1e3,
        "refusal_p99_ms": tally.refused.quantile(0.99).as_secs_f64() * 1e3,
        "timed_out": tally.timed_out,
        "failed": tally.failed,
        "backed_off": tally.backed_off,
        "not_sent": tally.not_sent,
        "node_cpu_cores": { "capacity": capacity_cpu.0, "overload": overload_cpu.0 },
        "generator_cpu_cores": { "capacity": capacity_cpu.1, "overload": overload_cpu.1 },
        "generator_us_per_call": {
            "capacity": per_call(capacity_cpu.1, closed.elapsed, closed.calls),
            "overload": generator_us,
        },
        "node_runqueue_wait": { "capacity": capacity_wait.0, "overload": overload_wait.0 },
        "generator_runqueue_wait": { "capacity": capacity_wait.1, "overload": overload_wait.1 },
        "load_average": super::machine::load_average(),
        "node_rss_before_bytes": rss_before,
        "node_rss_peak_bytes": rss_peak,
        "node_vmhwm_bytes": high_water,
    }));
    if tally.served.count() == 0 {
        anyhow::bail!("no call was served under overload");
    }
    if goodput < GOODPUT_TARGET * capacity {
        say!(
            "below target: goodput is {} of capacity",
            ratio(Some(goodput), Some(capacity))
        );
    }
    Ok(())
}

/// The table of what the callers got.
fn outcomes(tally: &Tally) -> Table {
    let offered = tally.offered() as f64;
    let share = |n: u64| percent(Some(n as f64), Some(offered));
    let mut table = Table::new(["outcome", "calls", "share", "p50 ms", "p99 ms"]);
    table.row([
        "served in time (PASS)".to_string(),
        count(tally.served.count() as f64),
        share(tally.served.count()),
        ms(tally.served.quantile(0.5)),
        ms(tally.served.quantile(0.99)),
    ]);
    let refused_all = tally.refused.count();
    table.row([
        "refused for load".to_string(),
        count(refused_all as f64),
        share(refused_all),
        ms(tally.refused.quantile(0.5)),
        ms(tally.refused.quantile(0.99)),
    ]);
    for (code, n) in &tally.refused_by_code {
        table.row([
            format!("  {code}"),
            count(*n as f64),
            share(*n),
            String::new(),
            String::new(),
        ]);
    }
    for (what, n) in [
        ("deadline exceeded", tally.timed_out),
        ("failed otherwise", tally.failed),
        ("held by callers backing off", tally.backed_off),
        ("not sent (generator bound)", tally.not_sent),
    ] {
        table.row([
            what.to_string(),
            count(n as f64),
            share(n),
            String::new(),
            String::new(),
        ]);
    }
    table
}
