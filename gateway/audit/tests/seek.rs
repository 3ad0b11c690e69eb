//! One record by its sequence number: read from the segment that holds it, not by walking the
//! chain from the first record.

mod support;

use support::{entry, fill, segments};

use huren_audit::{SeekError, find, walk};

#[tokio::test]
async fn a_record_is_found_by_its_seq_in_its_own_segment() {
    let dir = tempfile::tempdir().unwrap();
    let acks = fill(dir.path(), 300).await;
    let files = segments(dir.path());
    assert!(files.len() >= 3, "the records span several segments");
    let mut all = Vec::new();
    walk(dir.path(), |r, _| all.push(r.clone())).unwrap();
    for (i, ack) in acks.iter().enumerate() {
        let found = find(dir.path(), ack.seq).unwrap().expect("found");
        assert_eq!(found, all[i]);
        assert_eq!(found.entry, entry(i as u64));
    }
    assert!(find(dir.path(), 0).unwrap().is_none());
    assert!(find(dir.path(), 301).unwrap().is_none());

    // The first segment's records are not read for a record of the last: damage there does not
    // stand in the way (a walk from seq 1 stops at it).
    let last = acks.last().unwrap().seq;
    let first = &files[0];
    let mut bytes = std::fs::read(first).unwrap();
    bytes[70] ^= 0x01;
    std::fs::write(first, bytes).unwrap();
    assert!(find(dir.path(), last).unwrap().is_some());
    let mut walked = None;
    walk(dir.path(), |r, _| {
        if r.seq == last {
            walked = Some(r.seq);
        }
    })
    .unwrap();
    assert_eq!(walked, None, "a walk stops at the damage");
    // A record after the damage in the damaged segment is not trusted.
    assert!(matches!(
        find(dir.path(), 2),
        Err(SeekError::Broken { line: 1, .. })
    ));
}
