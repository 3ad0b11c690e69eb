//! Who writes which batch, step by step: callers linked one after another, each record its
//! own batch (one record a batch), with no thread behind the log so every hand-over shows.

use std::future::Future as _;
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

/// A log in `dir` with `cfg` and no thread behind it: the thread's jobs land in the receiver.
fn with_config(dir: &std::path::Path, cfg: Config) -> (Shared, mpsc::Receiver<Job>) {
    let (disk, head, _) = crate::log::open_blocking(dir, 1 << 20).unwrap();
    let (jobs, jobs_rx) = mpsc::channel();
    let (stopped, _) = watch::channel(None);
    (Shared::new(disk, head, cfg, stopped, jobs, None), jobs_rx)
}

/// A disk never too slow for callers to write on.
fn quick_disk() -> Config {
    Config {
        caller_sync_limit: std::time::Duration::from_secs(3600),
        ..Config::default()
    }
}

/// A log in `dir` whose batches hold one record each, on a disk never too slow for callers;
/// the thread's jobs land in the receiver.
fn one_record_batches(dir: &std::path::Path) -> (Shared, mpsc::Receiver<Job>) {
    let cfg = Config {
        max_batch_records: 1,
        ..quick_disk()
    };
    with_config(dir, cfg)
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

/// Polls a waiting caller once: it has been told to write its batch, writes it, and is answered.
fn told_to_write(shared: &Shared, rx: oneshot::Receiver<Turn>) -> Ack {
    let waiting = pin!(Waiting { rx, shared });
    match waiting.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(Ok(ack)) => ack,
        other => panic!("a caller told to write writes its batch and is answered: {other:?}"),
    }
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

    assert_eq!(told_to_write(&shared, third).seq, 3);
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
    assert_eq!(told_to_write(&shared, third).seq, 3);
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
    assert!(matches!(shared.link(huge), Err(AppendError::TooLarge(_))));
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

#[test]
fn records_linked_while_a_batch_waits_are_written_with_it() {
    let rt = runtime();
    let _in = rt.enter();
    let dir = tempfile::tempdir().unwrap();
    let (shared, _jobs) = with_config(dir.path(), quick_disk());
    assert!(matches!(shared.link(entry(1)).unwrap(), Linked::Lead));
    let mut others: Vec<_> = (2..=4)
        .map(|n| wait(shared.link(entry(n)).unwrap()))
        .collect();
    assert_eq!(shared.lead(Who::Caller).unwrap().unwrap().seq, 1);
    assert_eq!(seqs_on_disk(dir.path()), [1, 2, 3, 4], "one write");
    for (rx, seq) in others.iter_mut().zip(2..) {
        assert!(
            matches!(rx.try_recv(), Ok(Turn::Done(Ok(Ack { seq: s, .. }))) if s == seq),
            "answered, not told to write"
        );
    }
}

#[test]
fn a_batch_is_closed_before_one_more_longest_record_could_take_it_over_its_bytes() {
    let rt = runtime();
    let _in = rt.enter();
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config {
        max_batch_bytes: 2 * crate::MAX_LINE_BYTES,
        ..quick_disk()
    };
    let (shared, _jobs) = with_config(dir.path(), cfg.clone());
    let _first = shared.link(entry(0)).unwrap();
    let _rest: Vec<_> = (1..40).map(|n| shared.link(entry(n)).unwrap()).collect();
    let st = shared.lock();
    let batches: Vec<&Batch> = st.queue.iter().collect();
    assert!(batches.len() > 2, "{} batches", batches.len());
    let (full, last) = batches.split_at(batches.len() - 1);
    for batch in full.iter().chain(last) {
        assert!(batch.buf.len() <= cfg.max_batch_bytes);
    }
    for batch in full {
        let line = batch.buf.len() / batch.waiters.len();
        // Full: one more longest record would not fit; it was not before its last record.
        assert!(batch.buf.len() + crate::MAX_LINE_BYTES > cfg.max_batch_bytes);
        assert!(batch.buf.len() - line + crate::MAX_LINE_BYTES <= cfg.max_batch_bytes);
    }
}

#[test]
fn a_record_of_the_longest_length_is_taken_and_one_byte_more_is_refused_with_its_size() {
    let rt = runtime();
    let _in = rt.enter();
    let dir = tempfile::tempdir().unwrap();
    let (shared, _jobs) = with_config(dir.path(), quick_disk());
    // How long a record's line is without its purpose, at the chain's second position.
    let mut probe = Batch::new(2);
    let mut at_two = Head {
        next_seq: 2,
        prev: crate::ChainHash::GENESIS,
    };
    let mut bare = entry(2);
    bare.purpose = String::new();
    probe.link(bare, &mut at_two, None).unwrap();
    // Lines hold their hash and the body's `prev`: both are fixed-width hex.
    let room = crate::MAX_LINE_BYTES - probe.buf.len();

    let _first = shared.link(entry(1)).unwrap();
    let mut longest = entry(2);
    longest.purpose = "x".repeat(room);
    let mut over = entry(2);
    over.purpose = "x".repeat(room + 1);
    // Into a batch that already holds a record: the size named is the record's own.
    assert_eq!(
        shared.link(over).err(),
        Some(AppendError::TooLarge(crate::MAX_LINE_BYTES + 1))
    );
    let _taken = wait(shared.link(longest).unwrap());
    assert_eq!(shared.lock().head.next_seq, 3);
}

#[test]
fn under_the_interval_policy_the_thread_waits_for_more_before_writing() {
    let rt = runtime();
    let _in = rt.enter();
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config {
        sync: SyncPolicy::Interval(std::time::Duration::from_millis(300)),
        ..quick_disk()
    };
    let (shared, jobs) = with_config(dir.path(), cfg);
    let mut first = wait(shared.link(entry(1)).unwrap());
    assert!(
        matches!(jobs.try_recv(), Ok(Job::Lead)),
        "the thread writes"
    );
    std::thread::scope(|s| {
        let thread = s.spawn(|| shared.lead(Who::Thread));
        std::thread::sleep(std::time::Duration::from_millis(50));
        // Well inside the interval: nothing written yet, and a new record joins the batch.
        assert_eq!(shared.lock().durable.next_seq, 1);
        let mut second = wait(shared.link(entry(2)).unwrap());
        assert_eq!(thread.join().unwrap(), None);
        assert!(matches!(
            second.try_recv(),
            Ok(Turn::Done(Ok(Ack { seq: 2, .. })))
        ));
    });
    assert!(matches!(
        first.try_recv(),
        Ok(Turn::Done(Ok(Ack { seq: 1, .. })))
    ));
    assert_eq!(seqs_on_disk(dir.path()), [1, 2]);
}

#[test]
fn the_sync_average_moves_an_eighth_of_the_way_each_time() {
    assert_eq!(moving_average(0, 800_000), 100_000);
    assert_eq!(moving_average(800_000, 0), 700_000);
    assert_eq!(moving_average(800_000, 800_000), 800_000);
    // Quick syncs bring a slow average back under a 100 µs limit within a few dozen batches.
    let mut average = 5_000_000;
    let quick = (0..40).position(|_| {
        average = moving_average(average, 5_000);
        average <= 100_000
    });
    assert!(quick.is_some_and(|n| n > 20), "{quick:?}");
}
