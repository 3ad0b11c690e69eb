//! What the audit log's integration tests share: sample entries, filled logs, segment files.
// Each test file uses its own subset of these.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use huren_audit::{Ack, AuditLog, Config, Entry, SyncPolicy};

pub fn entry(n: u64) -> Entry {
    Entry {
        time: time::macros::datetime!(2020-02-17 08:00 UTC) + Duration::from_secs(n),
        caller: "spiffe://huren.dev/region/330110/role/checkpoint/gate-1".into(),
        method: "/huren.v1.Recognition/VerifyCode".into(),
        purpose: "road checkpoint".into(),
        issuing_region: "510000".into(),
        subject_ref: format!("{n:064x}"),
        verdict: "PASS".into(),
        registry_version: 3,
    }
}

pub fn small_segments(sync: SyncPolicy) -> Config {
    Config {
        sync,
        segment_bytes: 16 * 1024,
        ..Config::default()
    }
}

pub fn segments(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("segment-")
        })
        .collect();
    v.sort();
    v
}

/// A log in `dir` with `n` records, closed cleanly.
pub async fn fill(dir: &Path, n: u64) -> Vec<Ack> {
    let (log, _) = AuditLog::open(dir, small_segments(SyncPolicy::Every))
        .await
        .unwrap();
    let mut acks = Vec::new();
    for i in 0..n {
        acks.push(log.append(entry(i)).await.unwrap());
    }
    log.close().await.unwrap();
    acks
}

pub fn append_bytes(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(bytes).unwrap();
}
