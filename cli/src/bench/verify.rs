//! `huren bench verify`: VerifyCode (unary) and VerifyCodes (batches) of offline-signed codes —
//! Guangdong's Ed25519 and Sichuan's P-256 — at N calls in flight, beside the raw verify rate of
//! the same algorithm on one core, a bare mTLS round trip (health Check) against the same
//! gateway, and the hand-written anchor ([`super::anchor`]: tonic mTLS plus one `verify_strict`
//! per call) at the same concurrency, all measured in this run. `--json` prints one object.

use std::sync::Arc;
use std::time::Duration;

use huren_adapters::codec::GroupFigures;
use huren_adapters::{Colour, IssuerSigner, KeyAlgorithm, RegionCode};
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{Verdict, VerifyCodeRequest, VerifyCodesRequest, verify_codes_result};
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

use anyhow::Context as _;

use super::anchor::Anchor;
use super::figures::{count, ms, percent, ratio, us};
use super::load::{self, Bounds, Figures};
use super::raw;
use super::server::{Server, connections_for};
use crate::loopback::codes::Codes;
use crate::loopback::people::People;
use crate::loopback::stack::Stack;
use crate::report::Table;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub bounds: Bounds,
    pub in_flight: Vec<usize>,
    /// Codes per VerifyCodes call.
    pub batch: usize,
    /// Distinct codes per algorithm, used round robin.
    pub codes: usize,
    /// One JSON object on stdout, the tables on stderr.
    pub json: bool,
}

/// One offline-signed region under test.
struct Algo {
    label: &'static str,
    algorithm: KeyAlgorithm,
    payloads: Arc<Vec<String>>,
    raw_per_sec: f64,
    /// Name in the JSON object.
    key: &'static str,
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    super::out::set_json(options.json);
    crate::say!("huren bench verify — {}", super::machine::describe());
    crate::say!(
        "each run: {:?}{}; offline-signed codes judged for a province caller (Henan, national agreement)",
        options.bounds.duration,
        if options.bounds.requests > 0 {
            format!(" or {} calls", options.bounds.requests)
        } else {
            String::new()
        }
    );
    let server = Server::start().await?;
    let result = measure(&server, &options).await;
    server.stop().await;
    result
}

async fn measure(server: &Server, options: &Options) -> anyhow::Result<()> {
    let stack = server.stack()?;
    let codes = Codes::load(stack.pki())?;
    let mut people = People::new(7);
    let signed_at = time::OffsetDateTime::now_utc() - time::Duration::minutes(10);
    let mut algos = Vec::new();
    let mut raw_batch = None;
    for (region, label, key) in [
        (RegionCode::GUANGDONG, "440000 Ed25519", "ed25519"),
        (RegionCode::SICHUAN, "510000 P-256", "p256"),
    ] {
        let mut payloads = Vec::with_capacity(options.codes);
        for _ in 0..options.codes.max(1) {
            let who = people.resident(region);
            payloads.push(
                codes
                    .issue(&stack.regions, region, &who, Colour::Green, signed_at)
                    .await?,
            );
        }
        let signer = IssuerSigner::from_pki(stack.pki(), region.as_str())?;
        let algorithm = signer.algorithm();
        if algorithm == KeyAlgorithm::Ed25519 {
            let batch = options.batch.max(2);
            let signer = IssuerSigner::from_pki(stack.pki(), region.as_str())?;
            raw_batch = Some(
                tokio::task::spawn_blocking(move || {
                    raw::batch_rate(&signer, batch, Duration::from_secs(1))
                })
                .await??,
            );
        }
        let raw_per_sec =
            tokio::task::spawn_blocking(move || raw::rate(&signer, Duration::from_secs(1)))
                .await??;
        algos.push(Algo {
            label,
            algorithm,
            payloads: Arc::new(payloads),
            raw_per_sec,
            key,
        });
    }
    crate::say!("\nbaselines measured in this run");
    for a in &algos {
        crate::say!(
            "  raw verify on one core, {}: {}/s ({:.1} µs each)",
            raw::algorithm_name(a.algorithm),
            count(a.raw_per_sec),
            1e6 / a.raw_per_sec
        );
    }
    if let Some(rate) = raw_batch {
        crate::say!(
            "  raw batch verify on one core, Ed25519 (ed25519-dalek verify_batch, {} at a time): {}/s ({:.1} µs each)",
            options.batch.max(2),
            count(rate),
            1e6 / rate
        );
    }
    let anchor = Anchor::start(server).await?;
    let mut anchor_table =
        Table::new(["in flight", "calls/s", "p50 ms", "p99 ms", "server µs/call"]);
    let mut anchor_json = Vec::new();
    let mut runs_json = Vec::new();

    let mut bare_table = Table::new(["in flight", "calls/s", "p50 ms", "p99 ms", "server µs/call"]);
    let mut huren_table = Table::new([
        "call",
        "code",
        "in flight",
        "calls in flight",
        "codes/s",
        "÷ bare calls/s",
        "p50 ms",
        "p99 ms",
        "server µs/code",
        "÷ bare µs",
        "÷ anchor codes/s",
        "÷ anchor µs",
        "verify share",
    ]);
    // Where each row's CPU went: cores the whole process kept busy, and its CPU per code split
    // into the server's threads, the audit log's own thread and the rest (the load generator).
    // On a quick disk the callers write the audit batches themselves: that cost is in "server".
    let mut cores_table = Table::new([
        "row",
        "in flight",
        "cores busy",
        "process µs/code",
        "server µs",
        "audit thread µs",
        "client and rest µs",
    ]);
    let mut failures = Vec::new();
    // Mean signatures a group check carried in each VerifyCode Ed25519 row.
    let mut grouped = Vec::new();
    // Filled only with the counting allocator (feature `alloc-count`).
    let mut allocs_table = Table::new(["call", "in flight", "allocations per code"]);
    let mut counted = false;
    for &in_flight in &options.in_flight {
        let channels = Arc::new(
            server
                .channels("province", Some("410000"), connections_for(in_flight))
                .await?,
        );
        let bare = health(&channels, in_flight, options.bounds).await;
        bare_table.row([
            in_flight.to_string(),
            count(bare.calls_per_sec()),
            ms(bare.p50),
            ms(bare.p99),
            us(bare.cpu_us_per_item()),
        ]);
        note_failures(&mut failures, "health", &bare);
        cores_row(&mut cores_table, "bare health Check", in_flight, &bare);
        if let Some(n) = bare.allocs_per_item() {
            counted = true;
            allocs_table.row([
                "bare health Check".into(),
                in_flight.to_string(),
                format!("{n:.1}"),
            ]);
        }
        let anchor_channels = Arc::new(anchor.channels(stack, connections_for(in_flight)).await?);
        let ed25519 = algos
            .iter()
            .find(|a| a.algorithm == KeyAlgorithm::Ed25519)
            .context("no Ed25519 codes")?;
        let hand = unary(&anchor_channels, ed25519, in_flight, options.bounds).await;
        note_failures(&mut failures, "anchor", &hand);
        anchor_table.row([
            in_flight.to_string(),
            count(hand.calls_per_sec()),
            ms(hand.p50),
            ms(hand.p99),
            us(hand.cpu_us_per_item()),
        ]);
        cores_row(&mut cores_table, "anchor", in_flight, &hand);
        anchor_json.push(serde_json::json!({
            "in_flight": in_flight,
            "calls_per_s": hand.calls_per_sec(),
            "server_us_per_call": hand.cpu_us_per_item(),
            "p50_ms": hand.p50.as_secs_f64() * 1e3,
            "process_us_per_call": hand.process_us_per_item(),
            "cores_busy": hand.cores_busy(),
        }));
        if let Some(n) = hand.allocs_per_item() {
            allocs_table.row(["anchor".into(), in_flight.to_string(), format!("{n:.1}")]);
        }
        for a in &algos {
            for batch in [1, options.batch] {
                let calls = calls_in_flight(in_flight, batch);
                let group_before = stack.node.recognizer().group.figures();
                let f = if batch == 1 {
                    unary(&channels, a, calls, options.bounds).await
                } else {
                    batched(&channels, a, batch, calls, options.bounds).await
                };
                let per_check = group_per_check(group_before, stack);
                if batch == 1 && a.algorithm == KeyAlgorithm::Ed25519 {
                    grouped.push(format!("{per_check:.1} at {in_flight} in flight"));
                }
                note_failures(&mut failures, a.label, &f);
                let row = if batch == 1 {
                    format!("VerifyCode {}", a.label)
                } else {
                    format!("VerifyCodes×{batch} {}", a.label)
                };
                cores_row(&mut cores_table, &row, in_flight, &f);
                if let Some(n) = f.allocs_per_item() {
                    allocs_table.row([row, in_flight.to_string(), format!("{n:.1}")]);
                }
                let raw_us = 1e6 / a.raw_per_sec;
                huren_table.row([
                    if batch == 1 {
                        "VerifyCode".to_string()
                    } else {
                        format!("VerifyCodes×{batch}")
                    },
                    a.label.to_string(),
                    in_flight.to_string(),
                    if batch == 1 {
                        calls.to_string()
                    } else {
                        format!("{calls} × {batch}")
                    },
                    count(f.items_per_sec()),
                    ratio(Some(f.items_per_sec()), Some(bare.calls_per_sec())),
                    ms(f.p50),
                    ms(f.p99),
                    us(f.cpu_us_per_item()),
                    ratio(f.cpu_us_per_item(), bare.cpu_us_per_item()),
                    ratio(Some(f.items_per_sec()), Some(hand.calls_per_sec())),
                    ratio(f.cpu_us_per_item(), hand.cpu_us_per_item()),
                    percent(Some(raw_us), f.cpu_us_per_item()),
                ]);
                runs_json.push(serde_json::json!({
                    "call": if batch == 1 { "VerifyCode" } else { "VerifyCodes" },
                    "algorithm": a.key,
                    "in_flight": in_flight,
                    "batch": batch,
                    "calls_in_flight": calls,
                    "codes_per_s": f.items_per_sec(),
                    "server_us_per_code": f.cpu_us_per_item(),
                    "p50_ms": f.p50.as_secs_f64() * 1e3,
                    "p99_ms": f.p99.as_secs_f64() * 1e3,
                    "allocs_per_code": f.allocs_per_item(),
                    "audit_us_per_code": f.audit_us_per_item(),
                    "process_us_per_code": f.process_us_per_item(),
                    "cores_busy": f.cores_busy(),
                    "signatures_per_check": (batch == 1 && a.algorithm == KeyAlgorithm::Ed25519)
                        .then_some(per_check),
                }));
            }
        }
    }
    crate::say!(
        "  bare mTLS round trip (grpc.health.v1.Health/Check, same gateway, same connections):"
    );
    crate::say_raw!("{bare_table}");
    crate::say!(
        "  the anchor: tonic mTLS + one Ed25519 verify_strict per VerifyCode, written by hand (no registry, rules or audit):"
    );
    crate::say_raw!("{anchor_table}");
    crate::say!("\nhuren (p50/p99 per call; a batch call carries all its codes)");
    crate::say_raw!("{huren_table}");
    crate::say!(
        "\n  calls in flight: what the row offered; a batch row keeps about as many codes in flight \
         as its single row (at least two calls, one per core), not in-flight × batch codes.\n  \
         ÷ bare calls/s: huren codes/s over bare mTLS calls/s at the same in flight.\n  \
         ÷ bare µs: server CPU per code over server CPU per bare mTLS call.\n  \
         ÷ anchor: huren codes/s, and server CPU per code, over the hand-written anchor's.\n  \
         verify share: the raw signature check's cost as a share of huren's server CPU per code."
    );
    crate::say!(
        "  VerifyCode Ed25519 signatures checked together (the node's group verifier), mean a check: {}",
        grouped.join(", ")
    );
    crate::say!(
        "\nwhere the cores went (the whole process: load generator, server runtime, the audit \
         log's thread, which writes only for a slow disk; below the machine's cores busy, calls \
         waited rather than computed)"
    );
    crate::say_raw!("{cores_table}");
    if counted {
        crate::say!(
            "\nheap allocations per code, whole process (the load generator's client calls too: \
             compare rows, the client side is the same for each)"
        );
        crate::say_raw!("{allocs_table}");
    }
    let raw_us = |alg| {
        algos
            .iter()
            .find(|a| a.algorithm == alg)
            .map(|a| 1e6 / a.raw_per_sec)
    };
    let mut report = serde_json::json!({
        "raw_verify_us": {
            "ed25519": raw_us(KeyAlgorithm::Ed25519),
            "p256": raw_us(KeyAlgorithm::EcdsaP256Sha256),
        },
        "anchor": anchor_json,
        "runs": runs_json,
    });
    // A run where the node shed calls (a loaded machine) still prints what it measured, with
    // the failures named, and then exits non-zero: the figures are there to read, and a script
    // still learns the run was not clean.
    if !failures.is_empty() {
        report["failures"] = serde_json::json!(failures);
    }
    super::out::report(&report);
    if !failures.is_empty() {
        anyhow::bail!("some calls failed: {}", failures.join("; "));
    }
    Ok(())
}

/// One row of "where the cores went".
fn cores_row(table: &mut Table, row: &str, in_flight: usize, f: &Figures) {
    let rest = match (
        f.process_us_per_item(),
        f.cpu_us_per_item(),
        f.audit_us_per_item(),
    ) {
        (Some(p), Some(s), Some(a)) => Some(p - s - a),
        _ => None,
    };
    table.row([
        row.to_string(),
        in_flight.to_string(),
        f.cores_busy()
            .map_or_else(|| "-".into(), |c| format!("{c:.2}")),
        us(f.process_us_per_item()),
        us(f.cpu_us_per_item()),
        us(f.audit_us_per_item()),
        us(rest),
    ]);
}

/// Mean signatures a group check carried since `before` (0 when none ran).
fn group_per_check(before: GroupFigures, stack: &Stack) -> f64 {
    let now = stack.node.recognizer().group.figures();
    GroupFigures {
        checks: now.checks.saturating_sub(before.checks),
        signatures: now.signatures.saturating_sub(before.signatures),
    }
    .mean_group()
}

/// How many calls a row keeps in flight: `in_flight` single calls, or for batches of `batch`
/// codes about as many codes in flight as the single row, and at least two calls so both cores
/// have a batch to judge (a batch this small stays on one task). Offering `in_flight` batch calls
/// instead (25,600 codes at 256 in flight) queued more than the node's lag budget lets wait, so
/// the node rightly shed calls on a quiet machine.
fn calls_in_flight(in_flight: usize, batch: usize) -> usize {
    if batch <= 1 {
        return in_flight.max(1);
    }
    in_flight.div_ceil(batch).max(2)
}

fn note_failures(failures: &mut Vec<String>, what: &str, f: &Figures) {
    if f.failed > 0 || f.calls == 0 {
        failures.push(format!(
            "{what}: {} of {} failed ({})",
            f.failed,
            f.calls + f.failed,
            f.first_error.clone().unwrap_or_default()
        ));
    }
}

pub(crate) async fn health(
    channels: &Arc<Vec<Channel>>,
    in_flight: usize,
    bounds: Bounds,
) -> Figures {
    let channels = channels.clone();
    load::run(in_flight, bounds, 1, move |i| {
        let channel = channels[i as usize % channels.len()].clone();
        async move {
            HealthClient::new(channel)
                .check(bounds.request(HealthCheckRequest::default()))
                .await
                .map(drop)
                .map_err(|s| crate::report::describe(&s))
        }
    })
    .await
}

async fn unary(
    channels: &Arc<Vec<Channel>>,
    a: &Algo,
    in_flight: usize,
    bounds: Bounds,
) -> Figures {
    verify_code_load(channels, a.payloads.clone(), in_flight, bounds, pass).await
}

/// VerifyCode of `payloads` round robin over `channels`, `in_flight` at a time; `check` says
/// whether a verdict is the one the benchmark meant to measure.
pub(crate) async fn verify_code_load(
    channels: &Arc<Vec<Channel>>,
    payloads: Arc<Vec<String>>,
    in_flight: usize,
    bounds: Bounds,
    check: fn(i32) -> Result<(), String>,
) -> Figures {
    let channels = channels.clone();
    load::run(in_flight, bounds, 1, move |i| {
        let channel = channels[i as usize % channels.len()].clone();
        let payload = payloads[i as usize % payloads.len()].clone();
        async move {
            let v = RecognitionServiceClient::new(channel)
                .verify_code(bounds.request(VerifyCodeRequest {
                    payload,
                    verifying_region: String::new(),
                    purpose: "bench".into(),
                }))
                .await
                .map_err(|s| crate::report::describe(&s))?
                .into_inner()
                .verification
                .unwrap_or_default();
            check(v.verdict)
        }
    })
    .await
}

async fn batched(
    channels: &Arc<Vec<Channel>>,
    a: &Algo,
    batch: usize,
    in_flight: usize,
    bounds: Bounds,
) -> Figures {
    let channels = channels.clone();
    let payloads = a.payloads.clone();
    load::run(in_flight, bounds, batch as u64, move |i| {
        let channel = channels[i as usize % channels.len()].clone();
        let start = (i as usize * batch) % payloads.len();
        let chunk: Vec<String> = (0..batch)
            .map(|k| payloads[(start + k) % payloads.len()].clone())
            .collect();
        async move {
            let results = RecognitionServiceClient::new(channel)
                .verify_codes(bounds.request(VerifyCodesRequest {
                    payloads: chunk,
                    verifying_region: String::new(),
                    purpose: "bench".into(),
                }))
                .await
                .map_err(|s| crate::report::describe(&s))?
                .into_inner()
                .results;
            if results.len() != batch {
                return Err(format!("{} results for {batch} codes", results.len()));
            }
            for r in results {
                match r.outcome {
                    Some(verify_codes_result::Outcome::Verification(v)) => pass(v.verdict)?,
                    Some(verify_codes_result::Outcome::Error(e)) => {
                        return Err(format!("entry {}: {} {}", r.index, e.reason, e.message));
                    }
                    None => return Err(format!("entry {}: no outcome", r.index)),
                }
            }
            Ok(())
        }
    })
    .await
}

/// Every benchmarked code is green and genuine: anything but PASS means the path measured is
/// not the one meant.
fn pass(verdict: i32) -> Result<(), String> {
    if verdict == Verdict::Pass as i32 {
        Ok(())
    } else {
        Err(format!(
            "verdict {} instead of PASS",
            crate::report::names::verdict(verdict)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::calls_in_flight;

    #[test]
    fn single_rows_keep_every_call_in_flight() {
        assert_eq!(calls_in_flight(64, 1), 64);
        assert_eq!(calls_in_flight(256, 1), 256);
        assert_eq!(calls_in_flight(0, 1), 1);
    }

    #[test]
    fn batch_rows_keep_about_as_many_codes_in_flight_and_two_calls_at_least() {
        assert_eq!(calls_in_flight(64, 100), 2);
        assert_eq!(calls_in_flight(256, 100), 3);
        assert_eq!(calls_in_flight(1_000, 100), 10);
        assert_eq!(calls_in_flight(1_001, 100), 11);
        assert_eq!(calls_in_flight(256, 2), 128);
        assert_eq!(calls_in_flight(0, 100), 2);
    }
}
