//! The last record of a closed log: one changed byte is refused as damage, a frame cut short is
//! a torn write. Before this distinction a changed last record was cut off as "torn" and the
//! chain verified without it.

mod support;

use std::path::Path;

use huren_audit::{AuditLog, Config, OpenError, ProblemKind, verify};
use support::{fill, segments};

/// Byte offset where the last line of `path` starts, and the file's length.
fn last_line(path: &Path) -> (usize, usize) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        bytes.last(),
        Some(&b'\n'),
        "a closed log ends with a whole record"
    );
    let start = bytes[..bytes.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    (start, bytes.len())
}

/// Fills a log, closes it, and replaces the byte at `at` (relative to the start of the last
/// record) with `to`; returns the directory and the damaged segment's bytes.
async fn damage_last_record(at: usize, to: u8) -> (tempfile::TempDir, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    fill(dir.path(), 30).await;
    let last = segments(dir.path()).pop().unwrap();
    let (start, _) = last_line(&last);
    let mut bytes = std::fs::read(&last).unwrap();
    assert_ne!(bytes[start + at], to, "the byte really changes");
    bytes[start + at] = to;
    std::fs::write(&last, &bytes).unwrap();
    (dir, bytes)
}

#[tokio::test]
async fn one_changed_byte_in_the_last_record_is_refused_not_cut_off() {
    // In the hash (another hex digit, then not hex at all), the separator, the body's JSON
    // syntax and a value inside the body.
    let cases: [(usize, u8); 5] = [(0, b'0'), (5, b'g'), (64, b'x'), (65, b'['), (120, b'~')];
    for (at, to) in cases {
        let (dir, damaged) = damage_last_record(at, to).await;
        let last = segments(dir.path()).pop().unwrap();
        let err = AuditLog::open(dir.path(), Config::default())
            .await
            .expect_err("a damaged last record must not open");
        let OpenError::Corrupt { problem, .. } = &err else {
            panic!("byte {at}: expected corruption, got {err:?}")
        };
        assert_eq!(problem.expected_seq, 30, "byte {at}: {problem}");
        assert!(
            matches!(problem.kind, ProblemKind::Line(_)),
            "byte {at}: {problem}"
        );
        assert_eq!(
            std::fs::read(&last).unwrap(),
            damaged,
            "byte {at}: untouched"
        );
        let torn_copies = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                name.to_string_lossy().starts_with("torn-")
            })
            .count();
        assert_eq!(torn_copies, 0, "byte {at}: nothing moved aside");

        let report = verify(dir.path()).unwrap();
        assert!(!report.is_ok(), "byte {at}: verify reports it");
        assert!(!report.is_torn_tail_only(), "byte {at}: {report}");
        assert_eq!(report.scan.records, 29);
    }
}

#[tokio::test]
async fn the_last_frame_cut_mid_way_is_a_torn_tail_kept_and_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let acks = fill(dir.path(), 30).await;
    let last = segments(dir.path()).pop().unwrap();
    let (start, len) = last_line(&last);
    let bytes = std::fs::read(&last).unwrap();
    let cut = start + (len - start) / 2;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&last)
        .unwrap()
        .set_len(cut as u64)
        .unwrap();
    assert!(verify(dir.path()).unwrap().is_torn_tail_only());

    let (log, report) = AuditLog::open(dir.path(), Config::default()).await.unwrap();
    let torn = report.torn.clone().expect("a torn tail is reported");
    assert!(matches!(
        torn.problem.kind,
        ProblemKind::PartialRecord { .. }
    ));
    assert_eq!(torn.problem.offset, start as u64);
    assert_eq!(
        std::fs::read(&torn.preserved_at).unwrap(),
        &bytes[start..cut]
    );
    assert_eq!(std::fs::metadata(&last).unwrap().len(), start as u64);
    assert_eq!(report.records, 29);
    assert_eq!(report.head.map(|(_, h)| h), Some(acks[28].hash));

    let next = log.append(support::entry(99)).await.unwrap();
    log.close().await.unwrap();
    assert_eq!(next.seq, 30);
    assert!(verify(dir.path()).unwrap().is_ok());
}
