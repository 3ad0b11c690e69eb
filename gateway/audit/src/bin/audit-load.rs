//! Test load generator: appends from many tasks and prints `ack <seq> <hash>` per acknowledgment.
//!
//! Used by the crash test, which SIGKILLs it mid-load and checks that every printed seq survived.
//! Usage: `audit-load DIR [TASKS] [POLICY] [callers|thread]`; runs until killed. The last
//! argument pins who writes the batches (by default the disk's speed decides). Prints `open <records> <torn>`
//! first so the test sees what recovery did.

use std::io::Write;
use std::process::ExitCode;

use huren_audit::{AuditLog, Config, Entry};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let Some(dir) = args.get(1) else {
        eprintln!("usage: audit-load DIR [TASKS] [POLICY] [callers|thread]");
        return ExitCode::FAILURE;
    };
    let tasks: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(32);
    let mut config = Config::default();
    if let Some(p) = args.get(3) {
        match p.parse() {
            Ok(p) => config.sync = p,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    }
    match args.get(4).map(String::as_str) {
        None => {}
        Some("callers") => config.caller_sync_limit = std::time::Duration::from_secs(3600),
        Some("thread") => config.caller_sync_limit = std::time::Duration::ZERO,
        Some(other) => {
            eprintln!("who writes: expected `callers` or `thread`, not {other:?}");
            return ExitCode::FAILURE;
        }
    }
    // Small segments so a run crosses segment boundaries.
    config.segment_bytes = 64 * 1024;
    let (log, report) = match AuditLog::open(dir, config).await {
        Ok(x) => x,
        Err(e) => {
            eprintln!("open: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "open {} {}",
        report.records,
        report.torn.as_ref().map_or(0, |t| t.dropped_bytes)
    );
    let (out_tx, mut out_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    for task in 0..tasks {
        let log = log.clone();
        let out_tx = out_tx.clone();
        tokio::spawn(async move {
            for n in 0u64.. {
                let entry = Entry {
                    time: time::OffsetDateTime::now_utc(),
                    caller: format!("spiffe://huren.dev/region/330110/role/checkpoint/load-{task}"),
                    method: "/huren.v1.Recognition/VerifyCode".into(),
                    purpose: format!("load {n}"),
                    issuing_region: "510000".into(),
                    subject_ref: format!("{:064x}", (task as u64) << 32 | n),
                    verdict: "PASS".into(),
                    registry_version: 1,
                };
                match log.append(entry).await {
                    Ok(ack) => {
                        if out_tx
                            .send(format!("ack {} {}", ack.seq, ack.hash))
                            .is_err()
                        {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = out_tx.send(format!("error {e}"));
                        return;
                    }
                }
            }
        });
    }
    drop(out_tx);
    // One printer so lines never interleave; each line is flushed before the next ack is read.
    let mut stdout = std::io::stdout().lock();
    while let Some(line) = out_rx.recv().await {
        if writeln!(stdout, "{line}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            break;
        }
    }
    ExitCode::SUCCESS
}
