//! The audit log as the gateway uses it: concurrent appends, crashes' torn tails, tampering.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use support::{append_bytes, entry, fill, segments, small_segments};

use huren_audit::{
    AppendError, AuditLog, ChainHash, Config, Entry, LineError, OpenError, ProblemKind, SyncPolicy,
    verify, walk,
};

/// Every record on disk, by seq.
fn on_disk(dir: &Path) -> BTreeMap<u64, (ChainHash, Entry)> {
    let mut out = BTreeMap::new();
    walk(dir, |r, h| {
        out.insert(r.seq, (*h, r.entry.clone()));
    })
    .unwrap();
    out
}

async fn concurrent_appends_all_land_in_one_chain(config: Config) {
    let dir = tempfile::tempdir().unwrap();
    let (log, report) = AuditLog::open(dir.path(), config).await.unwrap();
    assert_eq!(report.records, 0);
    let mut tasks = Vec::new();
    for t in 0..64u64 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let mut acks = Vec::new();
            for i in 0..50 {
                acks.push((t * 1000 + i, log.append(entry(t * 1000 + i)).await.unwrap()));
            }
            acks
        }));
    }
    let mut acked = Vec::new();
    for t in tasks {
        acked.extend(t.await.unwrap());
    }
    log.close().await.unwrap();

    let disk = on_disk(dir.path());
    assert_eq!(disk.len(), 64 * 50);
    assert_eq!(
        disk.keys().copied().collect::<Vec<_>>(),
        (1..=3200).collect::<Vec<_>>()
    );
    for (n, ack) in &acked {
        let (hash, e) = &disk[&ack.seq];
        assert_eq!(hash, &ack.hash, "seq {} hash", ack.seq);
        assert_eq!(
            e.subject_ref,
            format!("{n:064x}"),
            "seq {} holds another entry",
            ack.seq
        );
    }
    let report = verify(dir.path()).unwrap();
    assert!(report.is_ok(), "{report}");
    assert!(
        report.scan.segments.len() > 1,
        "the run should cross segments"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_every() {
    concurrent_appends_all_land_in_one_chain(callers_write(SyncPolicy::Every)).await;
}

/// Callers write their own batches however long the test machine's disk takes to sync.
fn callers_write(sync: SyncPolicy) -> Config {
    Config {
        caller_sync_limit: Duration::from_secs(3600),
        ..small_segments(sync)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_unsynced() {
    concurrent_appends_all_land_in_one_chain(callers_write(SyncPolicy::Unsynced)).await;
}

/// A disk too slow for callers to write on: the log's thread writes every batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_on_a_slow_disk() {
    let config = Config {
        caller_sync_limit: Duration::ZERO,
        ..small_segments(SyncPolicy::Every)
    };
    concurrent_appends_all_land_in_one_chain(config).await;
}

/// Callers that give up mid-append (their call was cancelled) strand nobody: every caller that
/// stays is answered, and every answered record is in the chain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_leaving_mid_append_strand_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = AuditLog::open(dir.path(), callers_write(SyncPolicy::Every))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for t in 0..64u64 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let mut acks = Vec::new();
            for i in 0..50 {
                let n = t * 1000 + i;
                if (t + i) % 3 == 0 {
                    // Cancelled from outside after a moment, wherever its append then is
                    // (possibly just told to write its batch and not yet run).
                    let log = log.clone();
                    let call = tokio::spawn(async move { log.append(entry(n)).await });
                    tokio::task::yield_now().await;
                    call.abort();
                } else {
                    acks.push((n, log.append(entry(n)).await.unwrap()));
                }
            }
            acks
        }));
    }
    let mut acked = Vec::new();
    for t in tasks {
        let done = tokio::time::timeout(Duration::from_secs(60), t).await;
        acked.extend(done.expect("no caller is left waiting").unwrap());
    }
    log.close().await.unwrap();

    let disk = on_disk(dir.path());
    assert!(acked.len() >= 64 * 50 * 6 / 10, "{} answered", acked.len());
    for (n, ack) in &acked {
        let (hash, e) = &disk[&ack.seq];
        assert_eq!(hash, &ack.hash, "seq {} hash", ack.seq);
        assert_eq!(e.subject_ref, format!("{n:064x}"), "seq {}", ack.seq);
    }
    let report = verify(dir.path()).unwrap();
    assert!(report.is_ok(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_interval() {
    let config = small_segments(SyncPolicy::Interval(Duration::from_millis(2)));
    concurrent_appends_all_land_in_one_chain(config).await;
}

#[tokio::test]
async fn reopening_continues_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let first = fill(dir.path(), 10).await;
    let (log, report) = AuditLog::open(dir.path(), Config::default()).await.unwrap();
    assert_eq!(report.records, 10);
    assert_eq!(report.head, Some((10, first[9].hash)));
    assert!(report.torn.is_none());
    let ack = log.append(entry(10)).await.unwrap();
    log.close().await.unwrap();
    assert_eq!(ack.seq, 11);
    assert!(verify(dir.path()).unwrap().is_ok());
}

#[tokio::test]
async fn a_second_writer_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = AuditLog::open(dir.path(), Config::default()).await.unwrap();
    let second = AuditLog::open(dir.path(), Config::default()).await;
    assert!(matches!(second, Err(OpenError::Locked(_))), "{second:?}");
    log.close().await.unwrap();
    assert!(AuditLog::open(dir.path(), Config::default()).await.is_ok());
}

#[tokio::test]
async fn appends_after_close_fail() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = AuditLog::open(dir.path(), Config::default()).await.unwrap();
    let other = log.clone();
    log.close().await.unwrap();
    assert_eq!(other.append(entry(1)).await, Err(AppendError::Closed));
}

#[tokio::test]
async fn a_record_cut_short_is_reported_truncated_and_the_chain_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let acks = fill(dir.path(), 40).await;
    let last = segments(dir.path()).pop().unwrap();
    let len = std::fs::metadata(&last).unwrap().len();
    // What a crash mid-write leaves: half of a record that was never acknowledged.
    let mut extra = huren_audit::Record {
        seq: 41,
        prev: acks[39].hash,
        entry: entry(40),
    }
    .encode()
    .unwrap()
    .0;
    extra.truncate(extra.len() / 2);
    append_bytes(&last, &extra);

    let before = verify(dir.path()).unwrap();
    assert!(before.is_torn_tail_only(), "{before}");

    let (log, report) = AuditLog::open(dir.path(), Config::default()).await.unwrap();
    let torn = report.torn.clone().expect("a torn tail is reported");
    assert_eq!(torn.problem.segment, last);
    assert_eq!(torn.problem.offset, len);
    assert_eq!(torn.problem.expected_seq, 41);
    assert!(matches!(
        torn.problem.kind,
        ProblemKind::PartialRecord { .. }
    ));
    assert_eq!(torn.dropped_bytes, extra.len() as u64);
    assert_eq!(std::fs::read(&torn.preserved_at).unwrap(), extra);
    assert_eq!(std::fs::metadata(&last).unwrap().len(), len);
    assert_eq!(report.records, 40);

    let next = log.append(entry(99)).await.unwrap();
    log.close().await.unwrap();
    assert_eq!(next.seq, 41);
    let disk = on_disk(dir.path());
    for a in &acks {
        assert_eq!(disk[&a.seq].0, a.hash);
    }
    assert!(verify(dir.path()).unwrap().is_ok());
}

#[tokio::test]
async fn an_unfinished_garbled_line_after_the_last_record_is_cut_off_without_losing_a_record() {
    let dir = tempfile::tempdir().unwrap();
    let acks = fill(dir.path(), 25).await;
    let last = segments(dir.path()).pop().unwrap();
    // Blocks that never got their data, then part of a line: no newline, so no complete frame.
    append_bytes(&last, b"\0\0\0\0garbage that is not a record \xff\xfe");

    let (log, report) = AuditLog::open(dir.path(), Config::default()).await.unwrap();
    let torn = report.torn.expect("garbage is reported");
    assert!(matches!(
        torn.problem.kind,
        ProblemKind::PartialRecord { .. }
    ));
    assert_eq!(report.records, 25);
    log.close().await.unwrap();
    let disk = on_disk(dir.path());
    assert_eq!(disk.len(), 25);
    for a in &acks {
        assert_eq!(disk[&a.seq].0, a.hash);
    }
    assert!(verify(dir.path()).unwrap().is_ok());
}

#[tokio::test]
async fn a_complete_garbled_line_after_the_last_record_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 25).await;
    let last = segments(dir.path()).pop().unwrap();
    // A whole line was written: a crash does not write whole lines of garbage.
    append_bytes(&last, b"\0\0\0\0garbage that is not a record\n\xff\xfe");
    let len = std::fs::metadata(&last).unwrap().len();

    let err = AuditLog::open(dir.path(), Config::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, OpenError::Corrupt { problem, .. }
            if matches!(problem.kind, ProblemKind::Line(LineError::Framing))),
        "{err:?}"
    );
    assert_eq!(std::fs::metadata(&last).unwrap().len(), len, "nothing cut");
}

#[tokio::test]
async fn damage_before_the_tail_is_corruption_and_nothing_is_truncated() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 400).await;
    let segs = segments(dir.path());
    assert!(segs.len() > 2);
    let victim = &segs[0];
    let before = std::fs::read(victim).unwrap();
    flip_byte_in_line(victim, 3, "PASS", "FAIL");

    let err = AuditLog::open(dir.path(), Config::default())
        .await
        .unwrap_err();
    let OpenError::Corrupt { problem, .. } = err else {
        panic!("expected corruption, got {err:?}")
    };
    assert_eq!(problem.segment, *victim);
    assert_eq!(problem.line, 3);
    assert_eq!(std::fs::read(victim).unwrap().len(), before.len());
    assert_eq!(segments(dir.path()), segs, "no segment was removed");
}

#[tokio::test]
async fn verify_names_an_altered_record() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 30).await;
    let seg = segments(dir.path()).remove(0);
    flip_byte_in_line(&seg, 12, "PASS", "FAIL");

    let report = verify(dir.path()).unwrap();
    let p = report.problem().expect("tampering is found");
    assert_eq!((p.line, p.expected_seq), (12, 12));
    assert!(
        matches!(p.kind, ProblemKind::Line(LineError::BadHash { .. })),
        "{p}"
    );
    assert_eq!(report.scan.records, 11);
    assert!(report.to_string().contains("BROKEN"));
}

#[tokio::test]
async fn verify_names_a_record_whose_hash_was_rewritten_too() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 30).await;
    let seg = segments(dir.path()).remove(0);
    // A careful forger re-hashes the altered record; the next record's link still names the
    // original.
    let text = std::fs::read_to_string(&seg).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let (mut record, _) = huren_audit::Record::decode(lines[11].as_bytes()).unwrap();
    record.entry.verdict = "REJECT".into();
    let (line, _) = record.encode().unwrap();
    lines[11] = String::from_utf8(line).unwrap().trim_end().to_string();
    std::fs::write(&seg, lines.join("\n") + "\n").unwrap();

    let report = verify(dir.path()).unwrap();
    let p = report.problem().expect("the rewrite is found");
    assert_eq!(p.expected_seq, 13);
    match &p.kind {
        ProblemKind::PrevMismatch { previous_seq, .. } => assert_eq!(*previous_seq, 12),
        other => panic!("expected a broken link, got {other:?}"),
    }
    assert!(p.to_string().contains("seq 12 was altered"), "{p}");
}

#[tokio::test]
async fn verify_finds_a_missing_segment() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 400).await;
    let segs = segments(dir.path());
    std::fs::remove_file(&segs[1]).unwrap();
    let report = verify(dir.path()).unwrap();
    let p = report.problem().expect("a gap is found");
    assert_eq!(p.segment, segs[2]);
    assert!(matches!(p.kind, ProblemKind::SegmentName { .. }));
}

#[tokio::test]
async fn deleted_segments_are_not_mistaken_for_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 400).await;
    let segs = segments(dir.path());
    // Only the last, small segment is left: restarting the chain from seq 1 would hide this.
    for s in &segs[..segs.len() - 1] {
        std::fs::remove_file(s).unwrap();
    }
    let err = AuditLog::open(dir.path(), Config::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, OpenError::Corrupt { problem, .. } if matches!(problem.kind, ProblemKind::SegmentName { .. })),
        "{err:?}"
    );
    assert_eq!(segments(dir.path()), segs[segs.len() - 1..].to_vec());
}

#[tokio::test]
async fn a_relinked_last_record_is_corruption_not_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let acks = fill(dir.path(), 10).await;
    let last = segments(dir.path()).pop().unwrap();
    // Well formed and self-consistent, but linked to the wrong predecessor: no crash writes that.
    let forged = huren_audit::Record {
        seq: 11,
        prev: acks[3].hash,
        entry: entry(10),
    };
    append_bytes(&last, &forged.encode().unwrap().0);
    let err = AuditLog::open(dir.path(), Config::default())
        .await
        .unwrap_err();
    assert!(matches!(err, OpenError::Corrupt { .. }), "{err:?}");
}

#[tokio::test]
async fn an_id_number_in_the_purpose_never_reaches_the_disk() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = AuditLog::open(dir.path(), Config::default()).await.unwrap();
    let mut e = entry(1);
    e.purpose = "asked about 11010519491231002X".into();
    log.append(e).await.unwrap();
    log.close().await.unwrap();
    for seg in segments(dir.path()) {
        let text = std::fs::read_to_string(seg).unwrap();
        assert!(!text.contains("11010519491231002X"));
        assert!(text.contains("11**************2X"));
    }
}

/// Replaces `from` with `to` (same length) in the `line`th line (1-based) of a segment.
fn flip_byte_in_line(path: &Path, line: usize, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert!(lines[line - 1].contains(from));
    lines[line - 1] = lines[line - 1].replacen(from, to, 1);
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// With `queue` appends under way, the next one waits for room before it is even linked: here
/// it cannot join the batch ahead of it, so it is written a whole interval later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_beyond_the_queue_waits_for_room() {
    let dir = tempfile::tempdir().unwrap();
    let interval = Duration::from_millis(200);
    let config = Config {
        queue: 1,
        ..small_segments(SyncPolicy::Interval(interval))
    };
    let (log, _) = AuditLog::open(dir.path(), config).await.unwrap();
    let started = std::time::Instant::now();
    let first = tokio::spawn({
        let log = log.clone();
        async move { log.append(entry(1)).await }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = log.append(entry(2)).await.unwrap();
    // Linked only once the first was answered (one interval), then its own interval.
    assert!(started.elapsed() >= 2 * interval, "{:?}", started.elapsed());
    assert_eq!(first.await.unwrap().unwrap().seq, 1);
    assert_eq!(second.seq, 2);
    log.close().await.unwrap();
}
