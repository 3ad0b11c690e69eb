//! `huren bench federation`: the four-node federation as processes. An online read forwarded
//! by a node that does not serve the region (the Yuhang checkpoint at zhejiang reading Henan
//! codes) beside the same read local to the node that serves it (at west), at the same
//! concurrency; and the latency of the national summary fanned out to all four nodes.

use std::sync::Arc;

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::coordination_service_client::CoordinationServiceClient;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{GetNationalSummaryRequest, StatusSource, VerifyCodeRequest};
use serde_json::json;
use tonic::transport::Channel;

use super::figures::{count, ms};
use super::load::{self, Bounds, Figures};
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

    let local = reads(&federation, "west", payloads.clone(), options).await?;
    let forwarded = reads(&federation, "zhejiang", payloads, options).await?;
    let summary = fan_out(&federation, options.bounds).await?;

    let mut t = Table::new([
        "read",
        "node",
        "calls/s",
        "p50",
        "p99",
        "failed",
        "read at the source",
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
}

fn figures_json(m: &Measured) -> serde_json::Value {
    json!({
        "calls": m.figures.calls,
        "calls_per_sec": m.figures.calls_per_sec(),
        "p50_ms": m.figures.p50.as_secs_f64() * 1e3,
        "p99_ms": m.figures.p99.as_secs_f64() * 1e3,
        "failed": m.figures.failed,
        "read_at_the_source": m.read,
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

/// VerifyCode of the Henan codes at `node`, closed loop.
async fn reads(
    federation: &Federation,
    node: &str,
    payloads: Arc<Vec<String>>,
    options: &Options,
) -> anyhow::Result<Measured> {
    let channels = channels(federation, node, "checkpoint", Some("330110")).await?;
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
    let read = read.load(std::sync::atomic::Ordering::Relaxed);
    Ok(Measured {
        calls: figures.calls,
        read,
        figures,
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
    })
}
