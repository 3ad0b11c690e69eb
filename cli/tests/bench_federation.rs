//! `huren bench federation --json`: one short run over the four-node federation gives both
//! figures — the online reads beside each other (cache hits, online, online of a slow region)
//! and the fanned-out summary's latency.

use std::process::Command;

#[test]
fn the_federation_benchmark_reports_reads_and_the_fan_out() {
    let home = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_huren"))
        .args([
            "bench",
            "federation",
            "--duration",
            "0.5",
            "--in-flight",
            "4",
            "--codes",
            "10",
            "--json",
        ])
        .current_dir(home.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["benchmark"], "federation");
    // The local read reaches Henan's service through west, the node serving it.
    assert!(
        report["local"]["read_at_the_source"].as_u64().unwrap() > 0,
        "{report}"
    );
    assert_eq!(report["local"]["failed"], 0, "{report}");
    // Each node's CPU per call sits beside the throughput (Linux /proc): the entry node's for
    // both reads, the serving node's for the forwarded one only, and the ratios from them.
    for read in ["local", "forwarded"] {
        assert!(
            report[read]["cpu_us_per_call_entry"].is_number(),
            "{read}: {report}"
        );
    }
    assert!(
        report["forwarded"]["cpu_us_per_call_serving"].is_number(),
        "{report}"
    );
    assert!(
        report["local"]["cpu_us_per_call_serving"].is_null(),
        "{report}"
    );
    for ratio in [
        "forwarded_over_local_by_cpu_per_call",
        "forwarded_over_local_by_cpu_per_call_own_hosts",
    ] {
        assert!(report.get(ratio).is_some(), "{ratio}: {report}");
    }
    assert!(report["load_average"].is_string(), "{report}");
    // The same pair in three regimes: west's cache answering, every read asking the Henan
    // service (cache off at west: each read a miss there), and the same with a slow service.
    let regimes = report["regimes"].as_array().expect("regimes");
    let keys: Vec<&str> = regimes
        .iter()
        .map(|r| r["regime"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["cache_hits", "online", "online_slow_region"],
        "{report}"
    );
    assert!(
        regimes[0]["local"]["serving_cache_hits"].as_u64().unwrap() > 0,
        "{report}"
    );
    for regime in &regimes[1..] {
        for read in ["local", "forwarded"] {
            let m = &regime[read];
            assert_eq!(m["failed"], 0, "{read}: {report}");
            assert_eq!(m["serving_cache_hits"], 0, "{read}: {report}");
            assert!(
                m["serving_cache_misses"].as_u64().unwrap()
                    >= m["read_at_the_source"].as_u64().unwrap(),
                "{read}: every read asked the region: {report}"
            );
            assert!(
                m["read_at_the_source"].as_u64().unwrap() > 0,
                "{read}: {report}"
            );
            assert!(
                m["cpu_us_per_call_region_service"].is_number(),
                "{read}: {report}"
            );
        }
        assert!(
            regime["forwarded_over_local_by_cpu_per_call_busiest_process"].is_number(),
            "{report}"
        );
    }
    assert_eq!(regimes[2]["region_latency_ms"], 20.0, "{report}");
    let fan_out = &report["fan_out_summary"];
    assert!(fan_out["calls"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(fan_out["partial"], 0, "{report}");
    assert!(fan_out["p99_ms"].as_f64().unwrap() >= fan_out["p50_ms"].as_f64().unwrap());
}
