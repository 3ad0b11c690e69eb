//! `huren bench federation`: the four-node federation as processes. An online read forwarded
//! by a node that does not serve the region (the Yuhang checkpoint at zhejiang reading Henan
//! codes) beside the same read local to the node that serves it (at west), at the same
//! concurrency; and the latency of the national summary fanned out to all four nodes.
//!
//! Beside throughput it reads each node process's CPU time (/proc) over each run: on one
//! machine a forwarded read pays for two nodes on the same cores, so the throughput ratio alone
//! cannot say what the federation costs; CPU per call at each node can (and, with nodes on
//! their own hosts, the busier node bounds the throughput).

use std::sync::Arc;
use std::time::Duration;

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::coordination_service_client::CoordinationServiceClient;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{GetNationalSummaryRequest, StatusSource, VerifyCodeRequest};
use serde_json::json;
use tonic::transport::Channel;

use super::figures::{count, ms};
use super::load::{self, Bounds, Figures};
use super::{cpu, machine};
use crate::federation::Federation;
use crate::federation::init::{InitRequest, init};
use crate::federation::issue::{KNOWN_AFTER, issue_code};
use crate::federation::layout::Ports;
use crate::loopback::people::People;
use crate::report::Table;

#[derive(Debug, Clone)]
pub struct Options {
    pub bounds: Bounds,
    pub in_flight: usize,
    /// Henan residents with online codes, read round robin.
    pub codes: usize,
    pub json: bool,
}

/// Connections per node the load is spread over.
const CONNECTIONS: usize = 4;

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
    let federation = Federation::start_here(&dir).await?;
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
        "{} Henan online codes; the Yuhang checkpoint (330110) reads them at {} in flight",
        payloads.len(),
        options.in_flight
    );

    let local = reads(&federation, "west", "west", payloads.clone(), options).await?;
    let forwarded = reads(&federation, "zhejiang", "west", payloads, options).await?;
    let summary = fan_out(&federation, options.bounds).await?;

    let mut t = Table::new([
        "read",
        "node",
        "calls/s",
        "p50",
        "p99",
        "failed",
        "read at the source",
        "CPU/call entry",
        "CPU/call serving",
    ]);
    for (what, node, f) in [
        ("local online read", "west", &local),
        ("forwarded online read", "zhejiang", &forwarded),
    ] {
        t.row([
            what.to_string(),
            node.to_string(),
            count(f.figures.calls_per_sec()),
            ms(f.figures.p50),
            ms(f.figures.p99),
            f.figures.failed.to_string(),
            format!("{} of {}", f.read, f.figures.calls),
            micros(f.cpu.entry),
            // A local read has one node: its CPU is all under "entry".
            if f.cpu.forwarded {
                micros(f.cpu.serving)
            } else {
                "-".into()
            },
        ]);
    }
    crate::say_raw!("{t}");
    let share = (local.figures.calls > 0 && forwarded.read == forwarded.figures.calls)
        .then(|| forwarded.figures.calls_per_sec() / local.figures.calls_per_sec());
    match share {
        Some(x) => crate::say!("forwarded / local throughput: {x:.2} (goal: at least 0.70)"),
        None => crate::say!(
            "forwarded / local throughput: not judged — some forwarded reads degraded without reaching Henan, so the figure is not a forwarded read's"
        ),
    }
    let cpu = CpuRatios::of(&local.cpu, &forwarded.cpu);
    match cpu {
        Some(r) => {
            crate::say!(
                "forwarded / local by CPU per call: local {} ÷ forwarded {} (both nodes) = {:.2}",
                micros(local.cpu.total()),
                micros(forwarded.cpu.total()),
                r.same_machine
            );
            crate::say!(
                "  with each node on its own host the busier node bounds throughput: local {} ÷ max(entry {}, serving {}) = {:.2}",
                micros(local.cpu.total()),
                micros(forwarded.cpu.entry),
                micros(forwarded.cpu.serving),
                r.own_hosts
            );
        }
        None => crate::say!("forwarded / local by CPU per call: not measured (no /proc here)"),
    }
    crate::say!(
        "load average during the run: {}",
        machine::load_average().unwrap_or_else(|| "unknown".into())
    );
    crate::say!(
        "national summary fanned out to 4 nodes: p50 {}, p99 {} over {} calls ({} partial, {} failed)",
        ms(summary.figures.p50),
        ms(summary.figures.p99),
        summary.figures.calls,
        summary.calls - summary.read,
        summary.figures.failed
    );
    super::out::report(&json!({
        "benchmark": "federation",
        "in_flight": options.in_flight,
        "local": figures_json(&local),
        "forwarded": figures_json(&forwarded),
        "forwarded_over_local": share,
        "forwarded_over_local_by_cpu_per_call": cpu.map(|r| r.same_machine),
        "forwarded_over_local_by_cpu_per_call_own_hosts": cpu.map(|r| r.own_hosts),
        "load_average": machine::load_average(),
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

/// A run's figures and how many of its calls did what was measured: a read that reached the
/// regional service, a summary that was whole.
struct Measured {
    figures: Figures,
    calls: u64,
    read: u64,
    cpu: CallCpu,
}

/// CPU time per call of the node that took the call (entry) and, for a forwarded read, of the
/// node that read the region (serving), from each process's /proc stat over the run; `None`
/// where /proc is not available.
#[derive(Debug, Clone, Copy, Default)]
struct CallCpu {
    forwarded: bool,
    entry: Option<Duration>,
    serving: Option<Duration>,
}

impl CallCpu {
    /// What one call cost every node it touched.
    fn total(&self) -> Option<Duration> {
        if self.forwarded {
            Some(self.entry? + self.serving?)
        } else {
            self.entry
        }
    }
}

/// Forwarded against local by CPU per call: on one machine (both nodes' CPU per forwarded read),
/// and bounded by the busier node as with each node on its own host.
#[derive(Debug, Clone, Copy)]
struct CpuRatios {
    same_machine: f64,
    own_hosts: f64,
}

impl CpuRatios {
    fn of(local: &CallCpu, forwarded: &CallCpu) -> Option<Self> {
        let local = local.total()?.as_secs_f64();
        let both = forwarded.total()?.as_secs_f64();
        let busier = forwarded.entry?.max(forwarded.serving?).as_secs_f64();
        (both > 0.0 && busier > 0.0).then(|| Self {
            same_machine: local / both,
            own_hosts: local / busier,
        })
    }
}

/// A process's CPU time over a run, divided by the calls made in it.
fn cpu_per_call(pid: Option<u32>, before: Option<Duration>, calls: u64) -> Option<Duration> {
    let spent = cpu::process_cpu(pid?)?.checked_sub(before?)?;
    u32::try_from(calls.max(1)).ok().map(|n| spent / n)
}

/// CPU time in µs, or "-" when it was not measured.
fn micros(d: Option<Duration>) -> String {
    d.map_or_else(
        || "-".into(),
        |d| format!("{:.0} µs", d.as_secs_f64() * 1e6),
    )
}

fn figures_json(m: &Measured) -> serde_json::Value {
    json!({
        "calls": m.figures.calls,
        "calls_per_sec": m.figures.calls_per_sec(),
        "p50_ms": m.figures.p50.as_secs_f64() * 1e3,
        "p99_ms": m.figures.p99.as_secs_f64() * 1e3,
        "failed": m.figures.failed,
        "read_at_the_source": m.read,
        "cpu_us_per_call_entry": m.cpu.entry.map(|d| d.as_secs_f64() * 1e6),
        "cpu_us_per_call_serving": m.cpu.serving.filter(|_| m.cpu.forwarded).map(|d| d.as_secs_f64() * 1e6),
    })
}

async fn channels(
    federation: &Federation,
    node: &str,
    role: &str,
    region: Option<&str>,
) -> anyhow::Result<Arc<Vec<Channel>>> {
    let mut out = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        out.push(federation.channel(node, role, region).await?);
    }
    Ok(Arc::new(out))
}

/// VerifyCode of the Henan codes at `node`, closed loop, with the CPU per call of `node` and of
/// `serving`, the node that reads Henan.
async fn reads(
    federation: &Federation,
    node: &str,
    serving: &str,
    payloads: Arc<Vec<String>>,
    options: &Options,
) -> anyhow::Result<Measured> {
    let channels = channels(federation, node, "checkpoint", Some("330110")).await?;
    let pids = (federation.node_pid(node), federation.node_pid(serving));
    let before = (
        pids.0.and_then(cpu::process_cpu),
        pids.1.and_then(cpu::process_cpu),
    );
    let read = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = read.clone();
    let bounds = options.bounds;
    let figures = load::run(options.in_flight, bounds, 1, move |i| {
        let channel = channels[i as usize % channels.len()].clone();
        let payload = payloads[i as usize % payloads.len()].clone();
        let read = counted.clone();
        async move {
            let answer = RecognitionServiceClient::new(channel)
                .verify_code(bounds.request(VerifyCodeRequest {
                    payload,
                    verifying_region: String::new(),
                    purpose: "bench-federation".into(),
                }))
                .await
                .map_err(|s| s.to_string())?
                .into_inner();
            let reached = answer
                .verification
                .is_some_and(|v| v.source() != StatusSource::Degraded);
            if reached {
                read.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        }
    })
    .await;
    let cpu = CallCpu {
        forwarded: node != serving,
        entry: cpu_per_call(pids.0, before.0, figures.calls),
        serving: cpu_per_call(pids.1, before.1, figures.calls),
    };
    let read = read.load(std::sync::atomic::Ordering::Relaxed);
    Ok(Measured {
        calls: figures.calls,
        read,
        figures,
        cpu,
    })
}

/// GetNationalSummary at national, one at a time: the latency of a fan-out to four nodes.
async fn fan_out(federation: &Federation, bounds: Bounds) -> anyhow::Result<Measured> {
    let channel = federation.channel("national", "national", None).await?;
    let whole = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = whole.clone();
    let figures = load::run(1, bounds, 1, move |_| {
        let channel = channel.clone();
        let whole = counted.clone();
        async move {
            let answer = CoordinationServiceClient::new(channel)
                .get_national_summary(bounds.request(GetNationalSummaryRequest::default()))
                .await
                .map_err(|s| s.to_string())?
                .into_inner();
            if !answer.partial {
                whole.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        }
    })
    .await;
    Ok(Measured {
        calls: figures.calls,
        read: whole.load(std::sync::atomic::Ordering::Relaxed),
        figures,
        cpu: CallCpu::default(),
    })
}
