//! The online-lookup benchmark runs end to end and every lookup in it reaches the service.

mod net_support;

use std::time::Duration;

use huren_adapters::RegionCode;
use huren_adapters::net::bench::{BenchConfig, bench_online};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_bench_answers_every_lookup_online() {
    let pki = net_support::pki();
    let report = bench_online(
        pki.path(),
        BenchConfig {
            region: RegionCode::HENAN,
            in_flight: 16,
            duration: Duration::from_millis(300),
            people: 20,
            latency: Duration::from_millis(2),
            connections: 3,
        },
    )
    .await
    .unwrap();
    assert!(
        report.bare.calls > 0 && report.lookups.calls > 0,
        "{report}"
    );
    assert_eq!(report.bare.failures, 0, "{report}");
    assert_eq!(report.lookups.failures, 0, "{report}");
    assert!(report.lookups.p50 <= report.lookups.p99);
    assert!(
        report.to_string().contains("over 3 connections"),
        "{report}"
    );
    println!("{report}");
}

/// The full benchmark: 256 in flight against a service 20 ms away, 5 s per phase, for both
/// online regions. Run it in release:
/// `cargo test --release -p huren-adapters --test net_bench -- --ignored --nocapture`
/// (or `huren bench online`).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a benchmark: run on purpose, in release"]
async fn online_lookups_at_256_in_flight() {
    let pki = net_support::pki();
    for region in [RegionCode::ZHEJIANG, RegionCode::HENAN] {
        let report = bench_online(
            pki.path(),
            BenchConfig {
                region,
                latency: Duration::from_millis(20),
                ..BenchConfig::default()
            },
        )
        .await
        .unwrap();
        println!("{report}");
        assert_eq!(report.lookups.failures, 0, "{report}");
    }
}
