//! A writer whose writes fail: appends fail while it is stopped, it says why, and it resumes on
//! its own in a new segment that continues the chain.

mod support;

use std::time::Duration;

use huren_audit::{AppendError, AuditLog, Config, fault, verify};
use support::{entry, segments};

#[tokio::test]
async fn a_stopped_writer_resumes_by_itself_and_the_chain_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        retry_every: Duration::from_millis(20),
        ..Config::default()
    };
    let (log, _) = AuditLog::open(dir.path(), config).await.unwrap();
    for i in 0..5 {
        log.append(entry(i)).await.unwrap();
    }
    assert_eq!(log.stopped(), None);

    fault::fail_writes(dir.path(), true);
    let err = log.append(entry(5)).await.unwrap_err();
    assert!(matches!(err, AppendError::Failed(_)), "{err:?}");
    let why = log.stopped().expect("the writer says it is stopped");
    assert!(why.contains("injected"), "{why}");
    // Still stopped after several retries while the disk refuses writes.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(log.stopped().is_some());
    assert!(log.append(entry(6)).await.is_err());

    fault::fail_writes(dir.path(), false);
    let mut state = log.watch_stopped();
    tokio::time::timeout(Duration::from_secs(5), state.wait_for(Option::is_none))
        .await
        .expect("the writer resumes on its own")
        .unwrap();
    let next = log.append(entry(7)).await.unwrap();
    assert_eq!(next.seq, 6, "the refused records left no gap");
    log.close().await.unwrap();

    assert_eq!(segments(dir.path()).len(), 2, "resumed in a new segment");
    let report = verify(dir.path()).unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.scan.records, 6);
    let (log, reopened) = AuditLog::open(dir.path(), Config::default()).await.unwrap();
    assert!(reopened.torn.is_none());
    log.close().await.unwrap();
}
