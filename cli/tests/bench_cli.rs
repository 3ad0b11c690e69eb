//! `huren bench verify` and `huren bench manifest` run end to end, stop by themselves, and print
//! huren's figures beside the same-run baselines (tiny settings: this checks the tables, not
//! the speed).

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
