//! `huren demo` as a newcomer runs it: the real binary, nothing configured, exit 0 and a report
//! that shows every scenario and every role — on one node (`--single`) and as a federation of
//! four node processes.

use std::process::Command;
use std::time::{Duration, Instant};

/// Runs `huren ARGS` in a fresh directory, as from a fresh clone (no PKI, no registry, nothing
/// in the working directory); its stdout, after asserting it succeeded.
fn demo(args: &[&str]) -> String {
    let home = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_huren"))
        .args(args)
        .current_dir(home.path())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "huren {args:?} failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    stdout
}

#[test]
fn the_demo_runs_every_scenario_and_checks_its_own_results() {
    let started = Instant::now();
    let stdout = demo(&["demo", "--single"]);
    let expect = |line: &str| {
        assert!(
            stdout.contains(line),
            "the report lacks {line:?}\n--- stdout\n{stdout}"
        )
    };
    // Setup: seven regional services and a gateway over mutual TLS.
    expect("seven reference regional services");
    expect("天府健康通");
    expect("mutual TLS 1.3");
    // (a) the charter train: every passenger as predicted, bad codes refused, names masked.
    expect("CheckManifest answered in");
    expect("[ok]   every passenger's boarding and verdict as expected");
    expect("REVOKED_ISSUER");
    expect("STALE");
    expect("FORGED");
    expect("[ok]   carrier sees masked names only");
    // (b) worker confirmations with receipts checked offline, and a tampered one refused.
    expect("[ok]   every green worker confirmed, the others not, none in error");
    expect("[ok]   all 475 receipts verify offline");
    expect("[ok]   an altered receipt is refused");
    // (c) one code from each of the seven regions under Zhejiang's rules.
    for system in [
        "浙江健康码",
        "粤康码",
        "湖南居民健康卡",
        "河南健康码",
        "湖北健康码",
        "防疫健康信息码",
    ] {
        expect(system);
    }
    expect("HOME_QUARANTINE     7");
    expect("#1 REJECT (FORGED), #2 error PAYLOAD_NOT_CLAIMED");
    expect("[ok]   a withdrawn Guangdong token is refused");
    // (d) a passenger turned red mid-watch, (e) the national summary.
    expect("[ok]   the passenger turned red is seen as DENY before departure");
    expect("[ok]   the stream ends cleanly with a departure message");
    // (d2) a Hunan code withdrawn through Hunan's signed status list.
    expect("[ok]   a Hunan passenger turned red is refused at Zhejiang's checkpoint");
    expect("[ok]   Henan → Zhejiang confirmations counted exactly");
    expect("[ok]   every decision the national summary counted has its audit record");
    // Each role is refused outside its job.
    expect("CHECKPOINT_OUTSIDE_OWN_PROVINCE");
    assert_eq!(stdout.matches("PERMISSION_DENIED  ").count(), 5, "{stdout}");
    // The audit log and the verdict on itself.
    expect("[ok]   the audit log verifies");
    expect("0 failed");
    assert!(!stdout.contains("[FAIL]"), "{stdout}");
    assert!(!stdout.contains("NOT RUN"), "{stdout}");
    // Well under a minute even in a debug build on a shared 2-core machine.
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the demo took {:?}",
        started.elapsed()
    );
}

#[test]
fn the_federated_demo_runs_four_nodes_as_processes_and_checks_every_scene() {
    let started = Instant::now();
    let stdout = demo(&["demo"]);
    let expect = |line: &str| {
        assert!(
            stdout.contains(line),
            "the report lacks {line:?}\n--- stdout\n{stdout}"
        )
    };
    // Four nodes and five regional services (Hunan's publishes its status lists).
    expect("9 processes ready");
    for scene in [
        "(1)", "(2)", "(3)", "(4)", "(5)", "(6)", "(7)", "(8)", "(9)", "(10)",
    ] {
        expect(scene);
    }
    expect("[ok]   every green worker confirmed to Zhejiang, the red ones not, none in error");
    expect("[ok]   all four nodes answered: the summary is whole");
    expect("kill -KILL west");
    expect("[ok]   Sichuan and Henan online reads are REVIEW (DEGRADED) within the deadline");
    expect("[ok]   the national summary is partial and names west as missing");
    expect("[ok]   west serves the registry version published while it was down");
    expect(
        "[ok]   a Hunan passenger turned red is refused at zhejiang's checkpoint within one list refresh per hop (REVOKED_CODE)",
    );
    expect("[ok]   zhejiang got Hunan's list from south, never from Hunan's service");
    expect(
        "[ok]   the Sichuan grandmother's lookup by ID card at zhejiang is forwarded to west and passes",
    );
    expect("[ok]   the prober's clean run");
    expect(
        "[ok]   the seeded mismatch is caught and named: Guangdong (440000) judging Hubei (420000)",
    );
    expect(" 0 failed");
    assert!(!stdout.contains("[FAIL]"), "{stdout}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the demo took {:?}",
        started.elapsed()
    );
}
