//! `huren bench status-lists`: what signed status lists cost. Offline, for 1, 10 and 30 million
//! codes: list size, build, open (signature, inflate, digest) and install, the delta after 0.1 %
//! of codes change and its apply time, and one lookup. Then on a running loopback system: a
//! node fetching a reference issuer's list over its pinned HTTPS connection (whole, then as a
//! delta), the lookup in the node's own held lists, and VerifyCode's server CPU per call measured
//! in the same run, so the lookup reads as a share of a scan (target: under 2 %).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use huren_adapters::regions::status_lists::refresh_status_lists;
use huren_adapters::sim::IssueInput;
use huren_adapters::status_list::bench::{StatusListFigures, measure};
use huren_adapters::status_list::{ListArchive, ListKey};
use huren_adapters::{Colour, RegionCode, ResidentId};
use huren_proto::v1::Verdict;
use rand::Rng as _;
use time::OffsetDateTime;

use super::figures::count;
use super::load::{Bounds, Figures};
use super::server::{Server, connections_for};
use crate::loopback::people::People;
use crate::report::Table;

/// The scan-path cost must stay under this share of a VerifyCode.
pub const TARGET_SHARE: f64 = 0.02;
/// The region whose v2 codes are scanned: Hubei signs with Ed25519, the cheapest VerifyCode of
/// the offline formats, so the lookup's share is the largest it gets.
const REGION: RegionCode = RegionCode::HUBEI;
/// Codes of each version scanned round robin.
const SCANNED: usize = 200;
const IN_FLIGHT: usize = 64;

#[derive(Debug, Clone)]
pub struct Options {
    pub bounds: Bounds,
    /// List sizes measured offline.
    pub codes: Vec<u32>,
    pub json: bool,
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    super::out::set_json(options.json);
    crate::say!("huren bench status-lists — {}", super::machine::describe());
    crate::say!(
        "\nlists of N codes, 2 bits each, 1 % withdrawn and 0.2 % suspended; P-256 issuer; then 0.1 % of codes change"
    );
    let mut rows = Vec::new();
    let mut table = Table::new([
        "codes",
        "in memory",
        "signed list",
        "build",
        "open",
        "install",
        "delta (0.1 %)",
        "delta apply",
        "lookup",
    ]);
    for &codes in &options.codes {
        let f = tokio::task::spawn_blocking(move || measure(codes)).await??;
        table.row([
            count(f64::from(f.codes)),
            bytes(f.raw_bytes),
            bytes(f.list_bytes),
            ms(f.build),
            ms(f.open),
            ms(f.install),
            format!(
                "{} changes, {}",
                count(f.delta_changes as f64),
                bytes(f.delta_bytes)
            ),
            ms(f.delta_apply),
            format!("{:.0} ns", f.lookup.as_secs_f64() * 1e9),
        ]);
        rows.push(f);
    }
    crate::say!("{}", table.to_string().trim_end());

    let server = Server::start().await?;
    let scan = scan_cost(&server, options.bounds).await;
    server.stop().await;
    let scan = scan?;
    crate::say!("\non a running loopback system (reference issuer {REGION}, 131,072-code list):");
    crate::say!(
        "  node fetches the list over pinned HTTPS: whole {} in {}, then a delta after one withdrawal in {}",
        bytes(scan.whole_bytes),
        ms(scan.whole),
        ms(scan.delta)
    );
    crate::say!(
        "  VerifyCode server CPU per call, {IN_FLIGHT} in flight: v1 code (no list) {:.1} µs, v2 code (list lookup) {:.1} µs",
        scan.cpu_v1_us,
        scan.cpu_v2_us
    );
    let share = scan.lookup_ns / 1e3 / scan.cpu_v1_us;
    crate::say!(
        "  lookup in the node's held lists: {:.0} ns = {:.3} % of a VerifyCode (target under {:.0} %): {}",
        scan.lookup_ns,
        share * 100.0,
        TARGET_SHARE * 100.0,
        if share < TARGET_SHARE {
            "met"
        } else {
            "MISSED"
        }
    );
    super::out::report(&serde_json::json!({
        "bench": "status-lists",
        "lists": rows.iter().map(row_json).collect::<Vec<_>>(),
        "fetch": {
            "codes": huren_adapters::sim::lists::LIST_CODES,
            "whole_bytes": scan.whole_bytes,
            "whole_ms": scan.whole.as_secs_f64() * 1e3,
            "delta_ms": scan.delta.as_secs_f64() * 1e3,
        },
        "scan": {
            "region": REGION.as_str(),
            "verify_code_cpu_us_v1": scan.cpu_v1_us,
            "verify_code_cpu_us_v2": scan.cpu_v2_us,
            "lookup_ns": scan.lookup_ns,
            "lookup_share": share,
            "target_share": TARGET_SHARE,
        },
    }));
    Ok(())
}

struct ScanCost {
    whole_bytes: usize,
    whole: Duration,
    delta: Duration,
    cpu_v1_us: f64,
    cpu_v2_us: f64,
    lookup_ns: f64,
}

async fn scan_cost(server: &Server, bounds: Bounds) -> anyhow::Result<ScanCost> {
    let stack = server.stack()?;
    let service = stack.regions.service(REGION)?;
    let mut people = People::new(14);
    let (mut v1, mut v2) = (Vec::new(), Vec::new());
    let mut listed_ids: Vec<ResidentId> = Vec::new();
    for _ in 0..SCANNED {
        let who = people.resident(REGION);
        let input = IssueInput::new(who.id.clone(), &who.name, Colour::Green);
        v1.push(service.issue(input.clone()).await?.payload);
        let who = people.resident(REGION);
        let input = IssueInput::new(who.id.clone(), &who.name, Colour::Green).listed();
        v2.push(service.issue(input).await?.payload);
        listed_ids.push(who.id);
    }
    let recognizer = stack.node.recognizer();
    let held = &recognizer.status_lists;
    let key = wait_for_list(held).await?;

    // A fresh follower: the whole list, then a delta after one withdrawal.
    let follower = ListArchive::new();
    let trust = &recognizer.registry;
    let started = Instant::now();
    refresh_status_lists(&recognizer.status, trust, &follower, REGION, deadline()).await?;
    let whole = started.elapsed();
    let whole_bytes = follower.list(&key).map_or(0, |l| l.to_bytes().len());
    if let Some(id) = listed_ids.first() {
        service.set_status(id, Colour::Red).await?;
    }
    let started = Instant::now();
    refresh_status_lists(&recognizer.status, trust, &follower, REGION, deadline()).await?;
    let delta = started.elapsed();

    let channels = Arc::new(
        server
            .channels("checkpoint", None, connections_for(IN_FLIGHT))
            .await?,
    );
    let cpu_v1 = scans(&channels, Arc::new(v1), bounds).await;
    let cpu_v2 = scans(&channels, Arc::new(v2), bounds).await;
    let lookup_ns = lookup_cost(held, &key);
    Ok(ScanCost {
        whole_bytes,
        whole,
        delta,
        cpu_v1_us: cpu(&cpu_v1, "v1")?,
        cpu_v2_us: cpu(&cpu_v2, "v2")?,
        lookup_ns,
    })
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

/// The node fetched the issuer's list at start; waits until it holds it.
async fn wait_for_list(held: &ListArchive) -> anyhow::Result<ListKey> {
    for _ in 0..100 {
        if let Some((key, _)) = held.index().into_iter().find(|(k, _)| k.region == REGION) {
            return Ok(key);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the node never fetched {REGION}'s status list")
}

fn cpu(f: &Figures, which: &str) -> anyhow::Result<f64> {
    anyhow::ensure!(
        f.failed == 0,
        "{which} scans failed: {}",
        f.first_error.as_deref().unwrap_or("?")
    );
    f.cpu_us_per_item()
        .with_context(|| format!("no server CPU figure for the {which} scans"))
}

async fn scans(
    channels: &Arc<Vec<tonic::transport::Channel>>,
    payloads: Arc<Vec<String>>,
    bounds: Bounds,
) -> Figures {
    super::verify::verify_code_load(channels, payloads, IN_FLIGHT, bounds, complete).await
}

/// The withdrawn code is REJECT, the others PASS: both are complete scans.
fn complete(verdict: i32) -> Result<(), String> {
    match Verdict::try_from(verdict) {
        Ok(Verdict::Pass | Verdict::Reject) => Ok(()),
        _ => Err(format!(
            "verdict {} instead of PASS or REJECT",
            crate::report::names::verdict(verdict)
        )),
    }
}

/// Mean time of one lookup in the node's own held lists (read lock, hash lookups, bit test), at
/// random indices so the cache does not flatter it.
fn lookup_cost(held: &ListArchive, key: &ListKey) -> f64 {
    const LOOKUPS: u32 = 1_000_000;
    let mut rng = rand::thread_rng();
    let indices: Vec<u32> = (0..LOOKUPS)
        .map(|_| rng.gen_range(0..huren_adapters::sim::lists::LIST_CODES))
        .collect();
    let now = OffsetDateTime::now_utc();
    let max_age = Duration::from_secs(600);
    let started = Instant::now();
    for &i in &indices {
        std::hint::black_box(held.status(key.region, &key.issuer, key.list_id, i, now, max_age));
    }
    started.elapsed().as_secs_f64() * 1e9 / f64::from(LOOKUPS)
}

fn row_json(f: &StatusListFigures) -> serde_json::Value {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    serde_json::json!({
        "codes": f.codes,
        "raw_bytes": f.raw_bytes,
        "list_bytes": f.list_bytes,
        "build_ms": ms(f.build),
        "open_ms": ms(f.open),
        "install_ms": ms(f.install),
        "delta_changes": f.delta_changes,
        "delta_bytes": f.delta_bytes,
        "delta_build_ms": ms(f.delta_build),
        "delta_apply_ms": ms(f.delta_apply),
        "lookup_ns": f.lookup.as_secs_f64() * 1e9,
    })
}

fn ms(d: Duration) -> String {
    format!("{} ms", super::figures::ms(d))
}

fn bytes(n: usize) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / f64::from(1 << 20)),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}
