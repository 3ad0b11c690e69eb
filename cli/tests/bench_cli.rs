//! `huren bench verify`, `manifest`, `registry`, `overload` and `online` run end to end, stop by
//! themselves, and print huren's figures beside the same-run baselines, as tables or as one JSON
//! object (tiny settings: this checks the shapes, not the speed).

use std::process::Command;
use std::time::{Duration, Instant};

fn bench(args: &[&str]) -> String {
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_huren"))
        .arg("bench")
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(90),
        "took {:?}",
        started.elapsed()
    );
    stdout
}

#[test]
fn bench_verify_prints_huren_beside_raw_verify_and_bare_mtls() {
    let out = bench(&[
        "verify",
        "--duration",
        "0.3",
        "--in-flight",
        "2",
        "--codes",
        "8",
        "--batch",
        "4",
    ]);
    for line in [
        "raw verify on one core, Ed25519",
        "raw verify on one core, ECDSA P-256",
        "bare mTLS round trip (grpc.health.v1.Health/Check",
        "VerifyCode     440000 Ed25519",
        "VerifyCodes×4  510000 P-256",
        "server µs/code",
        "the anchor: tonic mTLS + one Ed25519 verify_strict",
        "÷ anchor µs",
    ] {
        assert!(out.contains(line), "no {line:?} in\n{out}");
    }
}

#[test]
fn bench_manifest_prints_passengers_per_second_beside_the_baselines() {
    let out = bench(&[
        "manifest",
        "--duration",
        "0.3",
        "--in-flight",
        "1",
        "--passengers",
        "10",
    ]);
    for line in [
        "raw verify on one core",
        "CheckManifest of 10 passengers",
        "server µs/passenger",
        "bare calls/s",
    ] {
        assert!(out.contains(line), "no {line:?} in\n{out}");
    }
}

/// The one JSON object `--json` prints on stdout (the tables went to stderr).
fn json(args: &[&str]) -> serde_json::Value {
    let out = bench(args);
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: not one JSON object:\n{out}"))
}

fn number(v: &serde_json::Value, field: &str) -> f64 {
    v[field]
        .as_f64()
        .unwrap_or_else(|| panic!("no number {field:?} in {v}"))
}

#[test]
fn bench_verify_json_has_raw_verify_the_anchor_and_every_run() {
    let v = json(&[
        "verify",
        "--json",
        "--duration",
        "0.3",
        "--in-flight",
        "2,3",
        "--codes",
        "8",
        "--batch",
        "4",
    ]);
    let mut keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["anchor", "raw_verify_us", "runs"]);
    assert!(number(&v["raw_verify_us"], "ed25519") > 0.0);
    assert!(number(&v["raw_verify_us"], "p256") > 0.0);
    let anchor = v["anchor"].as_array().unwrap();
    assert_eq!(anchor.len(), 2);
    for (a, n) in anchor.iter().zip([2, 3]) {
        assert_eq!(a["in_flight"], n);
        assert!(number(a, "calls_per_s") > 0.0);
        number(a, "server_us_per_call");
    }
    let runs = v["runs"].as_array().unwrap();
    // Two in-flight counts × two algorithms × (unary, batch).
    assert_eq!(runs.len(), 8);
    for r in runs {
        assert!(["VerifyCode", "VerifyCodes"].contains(&r["call"].as_str().unwrap()));
        assert!(["ed25519", "p256"].contains(&r["algorithm"].as_str().unwrap()));
        let batch = r["batch"].as_u64().unwrap();
        assert_eq!(batch == 1, r["call"] == "VerifyCode");
        assert!(r["in_flight"].as_u64().is_some());
        assert!(number(r, "codes_per_s") > 0.0);
        for field in ["server_us_per_code", "p50_ms", "p99_ms"] {
            number(r, field);
        }
    }
}

#[test]
fn bench_manifest_json_has_server_and_raw_batch_cost_per_passenger() {
    let v = json(&[
        "manifest",
        "--json",
        "--duration",
        "0.3",
        "--in-flight",
        "1",
        "--passengers",
        "10",
    ]);
    assert!(number(&v, "raw_batch_us_per_passenger") > 0.0);
    assert!(number(&v, "raw_us_per_passenger") > 0.0);
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    assert!(number(&runs[0], "server_us_per_passenger") > 0.0);
    assert!(number(&runs[0], "passengers_per_s") > 0.0);
}

#[test]
fn bench_registry_json_has_load_time_beside_its_floor() {
    let v = json(&[
        "registry",
        "--json",
        "--regions",
        "2",
        "--issuers",
        "2",
        "--iterations",
        "1",
    ]);
    assert!(number(&v, "load_ms") > 0.0);
    assert!(number(&v, "floor_ms") > 0.0);
}
#[test]
fn bench_overload_prints_capacity_goodput_refusals_and_memory() {
    let out = bench(&[
        "overload",
        "--duration",
        "0.3",
        "--in-flight",
        "2",
        "--callers",
        "4",
        "--codes",
        "8",
        "--max-in-flight",
        "4",
    ]);
    for line in [
        "max_in_flight 4",
        "capacity, closed loop at 2 in flight",
        "overload, open loop: 3.0× capacity",
        "served in time (PASS)",
        "refused for load",
        "deadline exceeded",
        "goodput:",
        "of capacity (target at least 0.90x)",
        "refusals carrying RetryInfo:",
        "peak during overload",
    ] {
        assert!(out.contains(line), "no {line:?} in\n{out}");
    }
}

#[test]
fn bench_online_json_has_lookups_beside_bare_round_trips_and_the_bound() {
    let v = json(&[
        "online",
        "--duration",
        "0.3",
        "--in-flight",
        "4",
        "--people",
        "4",
        "--latency-ms",
        "2",
        "--connections",
        "3",
        "--json",
    ]);
    assert_eq!(v["benchmark"], "online");
    assert_eq!(number(&v, "connections"), 3.0, "{v}");
    assert!((number(&v, "bound_per_s") - 2_000.0).abs() < 1e-6);
    for phase in ["health", "bare", "lookups"] {
        assert!(number(&v[phase], "calls") > 0.0, "{phase}: {v}");
        assert_eq!(number(&v[phase], "failures"), 0.0, "{phase}: {v}");
    }
    assert!(number(&v, "lookups_per_bound") > 0.0);
}
