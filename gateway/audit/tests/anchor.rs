//! Signed audit checkpoints: written every N records, after T without one, and at close; a
//! chain rewritten from scratch (every hash recomputed) still passes `verify` but fails
//! `verify_anchored` under the node's key, and so does a chain cut short of a checkpoint.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::SigningKey;
use huren_audit::{
    AnchorProblem, AuditLog, ChainHash, Checkpoint, Config, OpenError, verify, verify_anchored,
    walk,
};
use support::{entry, segments};

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn anchored_config() -> Config {
    Config {
        checkpoint_every_records: 10,
        ..Config::default()
    }
}

async fn fill_anchored(dir: &Path, n: u64, signer: SigningKey) {
    let (log, _) = AuditLog::open_anchored(dir, anchored_config(), Arc::new(signer))
        .await
        .unwrap();
    for i in 0..n {
        log.append(entry(i)).await.unwrap();
    }
    log.close().await.unwrap();
}

fn checkpoints(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        // A checkpoint being written is a temporary file until renamed: not one yet.
        .filter(|n| n.starts_with("checkpoint-") && n.ends_with(".json"))
        .collect();
    names.sort();
    names
}

/// Rewrites every record (verdict changed) and recomputes every hash and link: what an attacker
/// without the node's key can do. The plain chain check cannot tell.
fn rewrite_from_scratch(dir: &Path) {
    let mut records = Vec::new();
    walk(dir, |r, _| records.push(r.clone())).unwrap();
    for seg in segments(dir) {
        std::fs::remove_file(seg).unwrap();
    }
    let mut out = Vec::new();
    let mut prev = ChainHash::GENESIS;
    for mut r in records {
        r.entry.verdict = "REJECT".into();
        r.prev = prev;
        let (line, hash) = r.encode().unwrap();
        out.extend_from_slice(&line);
        prev = hash;
    }
    std::fs::write(dir.join("segment-00000000000000000001.log"), out).unwrap();
}

#[tokio::test]
async fn checkpoints_every_n_records_and_at_close_anchor_the_whole_chain() {
    let dir = tempfile::tempdir().unwrap();
    fill_anchored(dir.path(), 25, key(1)).await;
    assert_eq!(
        checkpoints(dir.path()),
        [
            "checkpoint-00000000000000000010.json",
            "checkpoint-00000000000000000020.json",
            "checkpoint-00000000000000000025.json",
        ]
    );
    let report = verify_anchored(dir.path(), &key(1).verifying_key()).unwrap();
    assert!(report.is_ok(), "{report}");
    let newest = report.checkpoint.clone().expect("a signed checkpoint");
    assert_eq!(newest.records, 25);
    assert_eq!(Some(newest.head), report.chain.scan.head.map(|(_, h)| h));
    assert!(report.to_string().contains("OK: the chain matches"));

    // Reopened and appended to, the chain is anchored further at the next close.
    fill_anchored(dir.path(), 3, key(1)).await;
    let report = verify_anchored(dir.path(), &key(1).verifying_key()).unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.checkpoint.map(|c| c.records), Some(28));
}

#[tokio::test]
async fn a_chain_rewritten_from_scratch_verifies_but_fails_its_anchor() {
    let dir = tempfile::tempdir().unwrap();
    fill_anchored(dir.path(), 25, key(1)).await;
    rewrite_from_scratch(dir.path());
    assert!(
        verify(dir.path()).unwrap().is_ok(),
        "the plain check cannot tell"
    );

    let report = verify_anchored(dir.path(), &key(1).verifying_key()).unwrap();
    assert!(
        matches!(
            report.problem,
            Some(AnchorProblem::HeadMismatch { records: 25, .. })
        ),
        "{report}"
    );

    // Nor can the forger sign new checkpoints: not with their own key.
    let head = report.chain.scan.head.unwrap().1;
    let forged = Checkpoint::sign(25, head, &key(9));
    std::fs::write(
        dir.path().join("checkpoint-00000000000000000026.json"),
        serde_json::to_vec(&forged).unwrap(),
    )
    .unwrap();
    let report = verify_anchored(dir.path(), &key(1).verifying_key()).unwrap();
    assert!(
        matches!(report.problem, Some(AnchorProblem::BadSignature(_))),
        "{report}"
    );
}

#[tokio::test]
async fn a_wrong_key_or_no_checkpoint_is_not_an_anchor() {
    let dir = tempfile::tempdir().unwrap();
    fill_anchored(dir.path(), 5, key(1)).await;
    let report = verify_anchored(dir.path(), &key(2).verifying_key()).unwrap();
    assert!(
        matches!(report.problem, Some(AnchorProblem::BadSignature(_))),
        "{report}"
    );

    let plain = tempfile::tempdir().unwrap();
    support::fill(plain.path(), 5).await;
    let report = verify_anchored(plain.path(), &key(1).verifying_key()).unwrap();
    assert_eq!(report.problem, Some(AnchorProblem::NoCheckpoint));
}

#[tokio::test]
async fn a_signed_record_made_to_look_torn_is_not_cut_off_and_fails_the_anchor() {
    let dir = tempfile::tempdir().unwrap();
    fill_anchored(dir.path(), 12, key(1)).await;
    // Chop the newline off the last (signed) record: it now looks like a torn write...
    let last = segments(dir.path()).pop().unwrap();
    let len = std::fs::metadata(&last).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&last).unwrap();
    f.set_len(len - 1).unwrap();
    drop(f);
    // ...which opening refuses to cut off, since the checkpoint signed at close counted it...
    let err = AuditLog::open(dir.path(), Config::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, OpenError::BelowCheckpoint { anchored: 12, .. }),
        "{err:?}"
    );
    assert_eq!(
        std::fs::metadata(&last).unwrap().len(),
        len - 1,
        "nothing cut"
    );
    // ...and the anchored check names the missing signed record.
    let report = verify_anchored(dir.path(), &key(1).verifying_key()).unwrap();
    assert_eq!(
        report.problem,
        Some(AnchorProblem::Short {
            anchored: 12,
            intact: 11
        })
    );
}

/// Callers write the batches here (a multi-worker runtime, any disk), so nothing but the
/// records themselves tells the log's thread that a checkpoint will fall due.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_left_alone_are_anchored_after_the_interval_without_a_close() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        checkpoint_every: Duration::from_millis(50),
        caller_sync_limit: Duration::from_secs(3600),
        ..Config::default()
    };
    let (log, _) = AuditLog::open_anchored(dir.path(), config, Arc::new(key(1)))
        .await
        .unwrap();
    // The log sits idle first: records added to an idle log must wake the timer.
    tokio::time::sleep(Duration::from_millis(100)).await;
    for i in 0..3 {
        log.append(entry(i)).await.unwrap();
    }
    // The first record may be anchored on its own (the interval had passed since the open);
    // the rest follow within another interval.
    let all = "checkpoint-00000000000000000003.json";
    let mut written = Vec::new();
    for _ in 0..100 {
        written = checkpoints(dir.path());
        if written.last().map(String::as_str) == Some(all) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(written.last().map(String::as_str), Some(all), "{written:?}");
    let report = verify_anchored(dir.path(), &key(1).verifying_key()).unwrap();
    assert!(report.is_ok(), "{report}");
    log.close().await.unwrap();
}

/// The last handle dropped without a close: the records are synced and anchored before the
/// directory is let go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_dropped_without_a_close_is_anchored_before_it_lets_go() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = AuditLog::open_anchored(dir.path(), anchored_config(), Arc::new(key(1)))
        .await
        .unwrap();
    for i in 0..3 {
        log.append(entry(i)).await.unwrap();
    }
    drop(log);
    let mut reopened = None;
    for _ in 0..250 {
        match AuditLog::open(dir.path(), Config::default()).await {
            Ok((log, _)) => {
                reopened = Some(log);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    let log = reopened.expect("the directory is let go");
    assert_eq!(
        checkpoints(dir.path()).last().map(String::as_str),
        Some("checkpoint-00000000000000000003.json")
    );
    log.close().await.unwrap();
}

/// A reopened log already anchored up to its last record: a record added later is anchored by
/// time, counted from the records the log holds, not from zero.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_added_to_a_reopened_anchored_log_is_anchored_after_the_interval() {
    let dir = tempfile::tempdir().unwrap();
    fill_anchored(dir.path(), 12, key(1)).await;
    assert_eq!(
        checkpoints(dir.path()).last().map(String::as_str),
        Some("checkpoint-00000000000000000012.json")
    );
    let config = Config {
        checkpoint_every: Duration::from_millis(50),
        caller_sync_limit: Duration::from_secs(3600),
        ..anchored_config()
    };
    let (log, _) = AuditLog::open_anchored(dir.path(), config, Arc::new(key(1)))
        .await
        .unwrap();
    log.append(entry(12)).await.unwrap();
    let thirteen = "checkpoint-00000000000000000013.json";
    let mut written = Vec::new();
    for _ in 0..100 {
        written = checkpoints(dir.path());
        if written.last().map(String::as_str) == Some(thirteen) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        written.last().map(String::as_str),
        Some(thirteen),
        "{written:?}"
    );
    log.close().await.unwrap();
}
