//! `huren bench manifest`: CheckManifest of a 1,000-passenger train (half Guangdong Ed25519, half
//! Sichuan P-256 codes, Chengdu → Guangzhou under Guangdong's rules), beside the raw verify rate
//! of the same mix on one core and a bare mTLS round trip at the same concurrency.

use std::sync::Arc;
use std::time::Duration;

use huren_adapters::{Colour, IssuerSigner, RegionCode};
use huren_proto::v1::manifests_service_client::ManifestsServiceClient;
use huren_proto::v1::{CheckManifestRequest, Manifest, Passenger};

use super::figures::{count, ms, percent, ratio, us};
use super::load::{self, Bounds};
use super::raw;
use super::server::{Server, connections_for};
use crate::loopback::codes::Codes;
use crate::loopback::people::People;
use crate::report::Table;
use huren::recognition::wire::timestamp;

#[derive(Debug, Clone)]
pub struct Options {
    pub bounds: Bounds,
    pub in_flight: Vec<usize>,
    pub passengers: usize,
    /// One JSON object on stdout, the tables on stderr.
    pub json: bool,
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    super::out::set_json(options.json);
    crate::say!("huren bench manifest — {}", super::machine::describe());
    let server = Server::start().await?;
    let result = measure(&server, &options).await;
    server.stop().await;
    result
}

async fn measure(server: &Server, options: &Options) -> anyhow::Result<()> {
    let stack = server.stack()?;
    let codes = Codes::load(stack.pki())?;
    let mut people = People::new(11);
    let signed_at = time::OffsetDateTime::now_utc() - time::Duration::minutes(10);
    let mut passengers = Vec::with_capacity(options.passengers);
    for i in 0..options.passengers.max(1) {
        let region = if i % 2 == 0 {
            RegionCode::GUANGDONG
        } else {
            RegionCode::SICHUAN
        };
        let who = people.resident(region);
        passengers.push(Passenger {
            seat: format!("{:02}-{:03}", i / 100 + 1, i % 100),
            payload: codes
                .issue(&stack.regions, region, &who, Colour::Green, signed_at)
                .await?,
        });
    }
    let manifest = Arc::new(Manifest {
        train_id: "BENCH1".into(),
        origin_region: "510000".into(),
        destination_region: "440100".into(),
        departure_time: Some(timestamp(
            time::OffsetDateTime::now_utc() + time::Duration::hours(6),
        )),
        passengers,
    });
    let mut raw_us = 0.0;
    let mut raw_batch_us = 0.0;
    for region in [RegionCode::GUANGDONG, RegionCode::SICHUAN] {
        let signer = IssuerSigner::from_pki(stack.pki(), region.as_str())?;
        let name = raw::algorithm_name(signer.algorithm());
        let rate = tokio::task::spawn_blocking(move || raw::rate(&signer, Duration::from_secs(1)))
            .await??;
        crate::say!(
            "  raw verify on one core, {name}: {}/s ({:.1} µs each)",
            count(rate),
            1e6 / rate
        );
        raw_us += 0.5 * 1e6 / rate;
        if region == RegionCode::GUANGDONG {
            // The Ed25519 half checked as the gateway now can: together.
            let signer = IssuerSigner::from_pki(stack.pki(), region.as_str())?;
            let batch = (options.passengers / 2).max(2);
            let batched = tokio::task::spawn_blocking(move || {
                raw::batch_rate(&signer, batch, Duration::from_secs(1))
            })
            .await??;
            crate::say!(
                "  raw batch verify on one core, Ed25519 ({batch} at a time): {}/s ({:.1} µs each)",
                count(batched),
                1e6 / batched
            );
            raw_batch_us += 0.5 * 1e6 / batched;
        } else {
            raw_batch_us += 0.5 * 1e6 / rate;
        }
    }
    crate::say!(
        "  the passengers' half-and-half mix: {raw_us:.1} µs of raw verification each, {raw_batch_us:.1} µs with the Ed25519 half batched"
    );
    let mut runs_json = Vec::new();

    let n = manifest.passengers.len() as u64;
    let mut table = Table::new([
        "in flight",
        "manifests/s",
        "passengers/s",
        "p50 ms",
        "p99 ms",
        "server µs/passenger",
        "bare calls/s",
        "bare µs/call",
        "÷ bare µs",
        "verify share",
        "÷ raw batch",
    ]);
    let mut failures = Vec::new();
    for &in_flight in &options.in_flight {
        let channels = Arc::new(
            server
                .channels("carrier", None, connections_for(in_flight))
                .await?,
        );
        let bare = super::verify::health(&channels, in_flight, options.bounds).await;
        let m = manifest.clone();
        let ch = channels.clone();
        let bounds = options.bounds;
        let f = load::run(in_flight, options.bounds, n, move |i| {
            let channel = ch[i as usize % ch.len()].clone();
            let manifest = (*m).clone();
            async move {
                let response = ManifestsServiceClient::new(channel)
                    .check_manifest(bounds.request(CheckManifestRequest {
                        manifest: Some(manifest),
                    }))
                    .await
                    .map_err(|s| crate::report::describe(&s))?
                    .into_inner();
                let board = response.totals.map_or(0, |t| t.board);
                if board as u64 != n {
                    return Err(format!("{board} of {n} boarded"));
                }
                Ok(())
            }
        })
        .await;
        if f.failed > 0 || f.calls == 0 {
            failures.push(format!(
                "{} of {} failed ({})",
                f.failed,
                f.calls + f.failed,
                f.first_error.clone().unwrap_or_default()
            ));
        }
        table.row([
            in_flight.to_string(),
            format!("{:.1}", f.calls_per_sec()),
            count(f.items_per_sec()),
            ms(f.p50),
            ms(f.p99),
            us(f.cpu_us_per_item()),
            count(bare.calls_per_sec()),
            us(bare.cpu_us_per_item()),
            ratio(f.cpu_us_per_item(), bare.cpu_us_per_item()),
            percent(Some(raw_us), f.cpu_us_per_item()),
            ratio(f.cpu_us_per_item(), Some(raw_batch_us)),
        ]);
        runs_json.push(serde_json::json!({
            "in_flight": in_flight,
            "manifests_per_s": f.calls_per_sec(),
            "passengers_per_s": f.items_per_sec(),
            "server_us_per_passenger": f.cpu_us_per_item(),
            "p50_ms": f.p50.as_secs_f64() * 1e3,
            "p99_ms": f.p99.as_secs_f64() * 1e3,
        }));
    }
    crate::say!(
        "\nCheckManifest of {n} passengers (carrier caller; p50/p99 per manifest), bare mTLS = grpc.health.v1.Health/Check at the same in flight"
    );
    crate::say_raw!("{table}");
    crate::say!(
        "\n  ÷ bare µs: server CPU per passenger over server CPU per bare mTLS call.\n  \
         verify share: raw signature checking as a share of huren's server CPU per passenger.\n  \
         ÷ raw batch: server CPU per passenger over raw verification with the Ed25519 half batched."
    );
    if !failures.is_empty() {
        anyhow::bail!("some manifests failed: {}", failures.join("; "));
    }
    super::out::report(&serde_json::json!({
        "passengers": n,
        "raw_us_per_passenger": raw_us,
        "raw_batch_us_per_passenger": raw_batch_us,
        "runs": runs_json,
    }));
    Ok(())
}
