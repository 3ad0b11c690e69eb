//! Who writes which batch, step by step: callers linked one after another, each record its
//! own batch (one record a batch), with no thread behind the log so every hand-over shows.

use std::future::Future;
use std::pin::pin;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};

use super::*;

fn entry(n: u64) -> Entry {
    Entry {
        time: time::macros::datetime!(2020-02-17 08:00 UTC) + std::time::Duration::from_secs(n),
        caller: "spiffe://huren.dev/region/330110/role/checkpoint/gate-1".into(),
        method: "/huren.v1.Recognition/VerifyCode".into(),
        purpose: "road checkpoint".into(),
        issuing_region: "510000".into(),
        subject_ref: format!("{n:064x}"),
        verdict: "PASS".into(),
        registry_version: 3,
    }
}

/// A log in `dir` whose batches hold one record each, on a disk never too slow for callers;
/// the thread's jobs land in the receiver.
fn one_record_batches(dir: &std::path::Path) -> (Shared, mpsc::Receiver<Job>) {
    let (disk, head, _) = crate::log::open_blocking(dir, 1 << 20).unwrap();
    let cfg = Config {
        max_batch_records: 1,
        caller_sync_limit: std::time::Duration::from_secs(3600),
        ..Config::default()
    };
    let (jobs, jobs_rx) = mpsc::channel();
    let (stopped, _) = watch::channel(None);
    (Shared::new(disk, head, cfg, stopped, jobs, None), jobs_rx)
}

/// Callers write only on a runtime with more than one worker.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

fn wait(linked: Linked) -> oneshot::Receiver<Turn> {
    match linked {
        Linked::Wait(rx) => rx,
        Linked::Lead => panic!("expected to wait behind a writer"),
    }
}

fn seqs_on_disk(dir: &std::path::Path) -> Vec<u64> {
    let mut seqs = Vec::new();
    crate::walk(dir, |r: &crate::Record, _| seqs.push(r.seq)).unwrap();
    seqs
}

fn poll_once<F: Future>(f: F) -> Poll<F::Output> {
    pin!(f).poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn the_writer_hands_the_next_batch_to_its_caller_who_writes_it_even_when_it_leaves() {
    let rt = runtime();
    let _in = rt.enter();
    let dir = tempfile::tempdir().unwrap();
    let (shared, _jobs) = one_record_batches(dir.path());
    assert!(matches!(shared.link(entry(1)).unwrap(), Linked::Lead));
    let second = wait(shared.link(entry(2)).unwrap());
    let third = wait(shared.link(entry(3)).unwrap());

    // The first caller writes its own record, hands the second batch on, and is answered.
    let first = shared.lead(Who::Caller).unwrap().unwrap();
    assert_eq!(first.seq, 1);
    assert_eq!(seqs_on_disk(dir.path()), [1]);

    // The second caller was told to write, and leaves without reading that: it writes anyway,
    // and hands the third batch on.
    drop(Waiting {
        rx: second,
        shared: &shared,
    });
    assert_eq!(seqs_on_disk(dir.path()), [1, 2]);

    let Poll::Ready(Ok(ack)) = poll_once(Waiting {
        rx: third,
        shared: &shared,
    }) else {
        panic!("the third caller writes its batch when told");
    };
    assert_eq!(ack.seq, 3);
    assert_eq!(seqs_on_disk(dir.path()), [1, 2, 3]);
    assert_eq!(
        shared.lock().leader,
        None,
        "nobody writes once the queue is empty"
    );
    assert_eq!(shared.lock().durable.next_seq, 4);
}

#[test]
fn a_batch_whose_callers_left_is_written_by_the_writer_before_it() {
    let rt = runtime();
    let _in = rt.enter();
    let dir = tempfile::tempdir().unwrap();
    let (shared, _jobs) = one_record_batches(dir.path());
    assert!(matches!(shared.link(entry(1)).unwrap(), Linked::Lead));
    drop(wait(shared.link(entry(2)).unwrap()));
    let third = wait(shared.link(entry(3)).unwrap());

    assert_eq!(shared.lead(Who::Caller).unwrap().unwrap().seq, 1);
    // Nobody was left to write the second record: the first caller did, then handed on.
    assert_eq!(seqs_on_disk(dir.path()), [1, 2]);
    let Poll::Ready(Ok(ack)) = poll_once(Waiting {
        rx: third,
        shared: &shared,
    }) else {
        panic!("the third caller writes its batch when told");
    };
    assert_eq!(ack.seq, 3);
}

#[test]
fn a_slow_write_sends_the_next_batches_to_the_thread() {
    let rt = runtime();
    let _in = rt.enter();
    let dir = tempfile::tempdir().unwrap();
    let (mut shared, jobs) = one_record_batches(dir.path());
    // Every write is over a limit of one nanosecond, and so is the average after one.
    shared.cfg.caller_sync_limit = std::time::Duration::from_nanos(1);
    assert!(matches!(shared.link(entry(1)).unwrap(), Linked::Lead));
    let mut second = wait(shared.link(entry(2)).unwrap());

    assert_eq!(shared.lead(Who::Caller).unwrap().unwrap().seq, 1);
    assert!(
        matches!(jobs.try_recv(), Ok(Job::Lead)),
        "the thread is asked"
    );
    assert!(
        second.try_recv().is_err(),
        "the caller is not told to write"
    );
    assert_eq!(shared.lock().leader, Some(Who::Thread));
    // Later callers wait for the thread too, while the disk stays slow.
    let mut third = wait(shared.link(entry(3)).unwrap());

    assert_eq!(shared.lead(Who::Thread), None);
    assert!(matches!(
        second.try_recv(),
        Ok(Turn::Done(Ok(Ack { seq: 2, .. })))
    ));
    assert!(matches!(
        third.try_recv(),
        Ok(Turn::Done(Ok(Ack { seq: 3, .. })))
    ));
    assert_eq!(seqs_on_disk(dir.path()), [1, 2, 3]);
    assert_eq!(shared.lock().leader, None);
    // The thread wrote slowly too: the next caller asks it again rather than writing.
    let _fourth = wait(shared.link(entry(4)).unwrap());
    assert!(matches!(jobs.try_recv(), Ok(Job::Lead)));
}

#[test]
fn a_refused_record_leaves_no_writer_and_no_empty_batch_behind() {
    let rt = runtime();
    let _in = rt.enter();
    let dir = tempfile::tempdir().unwrap();
    let (shared, _jobs) = one_record_batches(dir.path());
    let mut huge = entry(1);
    huge.purpose = "x".repeat(crate::MAX_LINE_BYTES);
    assert!(matches!(
        shared.link(huge),
        Err(AppendError::TooLarge(_)) | Err(AppendError::Invalid(_))
    ));
    assert_eq!(shared.lock().leader, None);
    assert!(shared.lock().queue.is_empty());
    // The chain did not move: the next record is still the first.
    assert!(matches!(shared.link(entry(1)).unwrap(), Linked::Lead));
    assert_eq!(shared.lead(Who::Caller).unwrap().unwrap().seq, 1);
}

#[test]
fn on_a_single_worker_runtime_the_thread_writes() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let _in = rt.enter();
    let dir = tempfile::tempdir().unwrap();
    let (shared, jobs) = one_record_batches(dir.path());
    let mut first = wait(shared.link(entry(1)).unwrap());
    assert!(matches!(jobs.try_recv(), Ok(Job::Lead)));
    assert_eq!(shared.lead(Who::Thread), None);
    assert!(matches!(
        first.try_recv(),
        Ok(Turn::Done(Ok(Ack { seq: 1, .. })))
    ));
}
