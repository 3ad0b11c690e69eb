//! SIGKILL a real writer process mid-load: every acknowledged record survives and the chain verifies.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use huren_audit::{AuditLog, ChainHash, Config, verify, walk};

/// Runs `audit-load` on `dir` until it has printed `kill_after` acks, SIGKILLs it, and returns
/// every ack it printed (including those still in the pipe) and the record count it opened with.
fn run_and_kill(
    dir: &Path,
    policy: &[&str],
    kill_after: usize,
) -> (u64, u64, BTreeMap<u64, ChainHash>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_audit-load"))
        .arg(dir)
        .arg("32")
        .args(policy)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let open_line = lines.next().unwrap().unwrap();
    let mut open = open_line
        .split(' ')
        .skip(1)
        .map(|n| n.parse::<u64>().unwrap());
    let (opened_with, torn_bytes) = (open.next().unwrap(), open.next().unwrap());
    let mut acks = BTreeMap::new();
    let mut killed = false;
    for line in lines {
        let line = line.unwrap();
        let mut parts = line.split(' ');
        assert_eq!(parts.next(), Some("ack"), "child said {line:?}");
        let seq: u64 = parts.next().unwrap().parse().unwrap();
        let hash = ChainHash::from_hex(parts.next().unwrap()).unwrap();
        acks.insert(seq, hash);
        if !killed && acks.len() >= kill_after {
            child.kill().unwrap(); // SIGKILL: no destructor, no flush, no close
            killed = true;
        }
    }
    child.wait().unwrap();
    assert!(killed, "the child stopped on its own");
    (opened_with, torn_bytes, acks)
}

/// `policy`: the sync policy, and optionally who writes (`callers` or `thread`).
fn crash_rounds(policy: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let mut acked: BTreeMap<u64, ChainHash> = BTreeMap::new();
    for (round, kill_after) in [700, 1300, 450].into_iter().enumerate() {
        let (opened_with, torn_bytes, acks) = run_and_kill(dir.path(), policy, kill_after);
        // Whether the kill tore a write is up to timing; shown with --nocapture.
        eprintln!(
            "{policy:?} round {round}: recovered {opened_with} records, cut {torn_bytes} torn bytes"
        );
        // The child recovered the previous round's crash and kept every acknowledged record.
        assert!(
            opened_with >= acked.keys().last().copied().unwrap_or(0),
            "round {round}: opened with {opened_with} records, {} acknowledged before",
            acked.len()
        );
        assert!(acks.len() >= kill_after);
        acked.extend(acks);
    }

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = rt.block_on(async {
        let (log, report) = AuditLog::open(dir.path(), Config::default()).await.unwrap();
        log.close().await.unwrap();
        report
    });
    let mut on_disk = BTreeMap::new();
    walk(dir.path(), |r, h| {
        on_disk.insert(r.seq, *h);
    })
    .unwrap();
    for (seq, hash) in &acked {
        assert_eq!(
            on_disk.get(seq),
            Some(hash),
            "acknowledged seq {seq} is lost or different"
        );
    }
    assert_eq!(report.records, on_disk.len() as u64);
    let verified = verify(dir.path()).unwrap();
    assert!(verified.is_ok(), "{verified}");
}

#[test]
fn killed_mid_load_every_acknowledged_record_survives_every() {
    crash_rounds(&["every"]);
}

#[test]
fn killed_mid_load_every_acknowledged_record_survives_every_callers_writing() {
    crash_rounds(&["every", "callers"]);
}

#[test]
fn killed_mid_load_every_acknowledged_record_survives_every_the_thread_writing() {
    crash_rounds(&["every", "thread"]);
}

#[test]
fn killed_mid_load_every_acknowledged_record_survives_interval() {
    crash_rounds(&["interval(3)"]);
}
