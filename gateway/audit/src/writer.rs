//! Group commit on the callers' own tasks: the chain's state, linking a record into it, and
//! writing batches.
//!
//! A caller links its record into the chain under one lock. If nobody is writing, it writes
//! and syncs the batch its record opened, right on its own task, then hands the next batch
//! (what queued meanwhile) to the first of that batch's callers still waiting, and answers its
//! own call. So a record reaches the disk with no hop to another thread and back: under load
//! each batch is written by one of its own callers while the next one queues. A caller that
//! leaves (its call cancelled) while told to write still writes before it is gone.
//!
//! A disk whose writes + syncs take longer than [`Config::caller_sync_limit`] on average would
//! hold a runtime worker that long each time; batches then go to the log's own thread
//! ([`crate::thread`]) until its syncs are quick again. So do they under the `interval` policy,
//! which waits for more records on purpose, and on a runtime with one worker, which a caller's
//! sync would stall whole.

use std::collections::VecDeque;
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::{Semaphore, oneshot, watch};

use crate::batch::{Ack, Batch, Head, Turn};
use crate::config::{Config, SyncPolicy};
use crate::disk::Disk;
use crate::error::AppendError;
use crate::record::Entry;

/// Why the writer is stopped, shared with every [`crate::AuditLog`] handle: `None` while it
/// writes.
pub(crate) type StateTx = watch::Sender<Option<String>>;

/// What the log's own thread is asked to do.
pub(crate) enum Job {
    /// Write what is queued (a slow disk, or the `interval` policy).
    Lead,
    /// Enough records were added for a signed checkpoint.
    Checkpoint,
    /// Records were added since the last checkpoint: one falls due by time.
    Added,
    /// A write failed: start retrying.
    Stopped,
    /// Write what is queued, anchor, sync, release the directory.
    Close(oneshot::Sender<Result<(), AppendError>>),
    /// Every handle is gone: the open segment, to sync and anchor once more.
    Last(Disk, Head),
}

/// Who writes a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    Caller,
    Thread,
}

/// What a caller does after linking its record.
pub(crate) enum Linked {
    /// Write the batch it opened.
    Lead,
    /// Wait to be answered, or told to write.
    Wait(oneshot::Receiver<Turn>),
}

pub(crate) struct State {
    /// Where the next record is linked.
    head: Head,
    /// After the last acknowledged record: a failed batch's records are given back to it.
    durable: Head,
    /// Batches linked and not yet being written, oldest first.
    queue: VecDeque<Batch>,
    /// Who writes, or has been told to write (the thread may not have read its job yet). While
    /// nobody does the queue is empty.
    leader: Option<Who>,
    failed: Option<String>,
    closed: bool,
    /// The open segment; taken by whoever writes.
    disk: Option<Disk>,
    /// A moving average of the recent writes + syncs (nanoseconds): over the callers' limit,
    /// the thread writes.
    sync_ns: u64,
    /// Records when a checkpoint was last asked for (or the newest one at open).
    checkpoint_asked: u64,
    /// The thread was told records were added since its last checkpoint.
    told_added: bool,
}

/// The chain, the disk and how to reach the log's thread; shared by every handle.
pub(crate) struct Shared {
    state: Mutex<State>,
    pub cfg: Config,
    stopped: StateTx,
    jobs: mpsc::Sender<Job>,
    anchored: bool,
    /// Appends under way before `append` itself waits (back-pressure): [`Config::queue`].
    pub room: Semaphore,
}

impl Shared {
    pub(crate) fn new(
        disk: Disk,
        head: Head,
        cfg: Config,
        stopped: StateTx,
        jobs: mpsc::Sender<Job>,
        anchored_records: Option<u64>,
    ) -> Self {
        Shared {
            state: Mutex::new(State {
                durable: head.clone(),
                head,
                queue: VecDeque::new(),
                leader: None,
                failed: None,
                closed: false,
                disk: Some(disk),
                sync_ns: 0,
                checkpoint_asked: anchored_records.unwrap_or(0),
                told_added: false,
            }),
            room: Semaphore::new(cfg.queue),
            cfg,
            stopped,
            jobs,
            anchored: anchored_records.is_some(),
        }
    }

    /// How many records are acknowledged.
    pub(crate) fn acknowledged(&self) -> u64 {
        self.lock().durable.next_seq - 1
    }

    /// The acknowledged head, to anchor; records added after it will tell the thread again.
    pub(crate) fn to_anchor(&self) -> Head {
        let mut st = self.lock();
        st.told_added = false;
        st.durable.clone()
    }

    /// Asks the log's thread to do something; fails once it has ended.
    pub(crate) fn send(&self, job: Job) -> Result<(), mpsc::SendError<Job>> {
        self.jobs.send(job)
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Links `entry` into the chain. Refused at once while the writer is stopped or closed.
    pub(crate) fn link(&self, entry: Entry) -> Result<Linked, AppendError> {
        let (tx, rx) = oneshot::channel();
        let mut st = self.lock();
        if st.closed {
            return Err(AppendError::Closed);
        }
        if let Some(why) = &st.failed {
            return Err(AppendError::Failed(why.clone()));
        }
        let lead = st.leader.is_none();
        let thread_writes = lead && self.thread_writes(&st);
        let st = &mut *st;
        let open_new = st
            .queue
            .back()
            .is_none_or(|b| b.is_full(self.cfg.max_batch_records, self.cfg.max_batch_bytes));
        if open_new {
            st.queue.push_back(Batch::new(st.head.next_seq));
        }
        let Some(batch) = st.queue.back_mut() else {
            return Err(AppendError::Closed);
        };
        // A caller that writes its own batch has no one to tell; the thread tells everyone.
        let waiter = (!lead || thread_writes).then_some(tx);
        if let Err(refused) = batch.link(entry, &mut st.head, waiter) {
            if batch.waiters.is_empty() {
                st.queue.pop_back();
            }
            return Err(refused);
        }
        if !lead {
            return Ok(Linked::Wait(rx));
        }
        if thread_writes {
            st.leader = Some(Who::Thread);
            let _ = self.jobs.send(Job::Lead);
            return Ok(Linked::Wait(rx));
        }
        st.leader = Some(Who::Caller);
        Ok(Linked::Lead)
    }

    /// Writes queued batches in turn, as `who`, until the queue is empty or the next batch is
    /// handed to someone else. A caller's first batch holds its own record, whose answer is
    /// returned.
    pub(crate) fn lead(&self, who: Who) -> Option<Result<Ack, AppendError>> {
        let mut mine = None;
        // A caller's own record is in the first batch it writes (first if it opened the batch,
        // else where the hand-over found it); the thread has none.
        let mut first = who == Who::Caller;
        loop {
            if who == Who::Thread {
                self.linger_for_interval();
            }
            let (mut batch, mut disk) = {
                let mut st = self.lock();
                let Some(batch) = st.queue.pop_front() else {
                    st.leader = None;
                    return mine;
                };
                st.leader = Some(who);
                match st.disk.take() {
                    Some(disk) => (batch, disk),
                    // Only a closed log has no disk, and nothing is linked into a closed log.
                    None => {
                        st.leader = None;
                        let mut gone: Vec<Batch> = st.queue.drain(..).collect();
                        drop(st);
                        let closed = Err("the audit log is closed".to_string());
                        let mut batch = batch;
                        let own = first.then(|| batch.leader.unwrap_or(0));
                        let answered = batch.answer(&closed, own);
                        for b in &mut gone {
                            b.answer(&closed, None);
                        }
                        return mine.or(answered);
                    }
                }
            };
            let started = Instant::now();
            let outcome = disk
                .write_batch(batch.first_seq, &batch.buf, &self.cfg)
                .map_err(|e| format!("write or sync failed: {e}"));
            let took = started.elapsed();
            let (refused, done) = {
                let mut st = self.lock();
                st.disk = Some(disk);
                self.settle(&mut st, &batch, &outcome, took);
                let refused: Vec<Batch> = match outcome {
                    Ok(()) => Vec::new(),
                    Err(_) => st.queue.drain(..).collect(),
                };
                // Done: the queue is empty, or the next batch has someone else to write it.
                let done = if st.queue.is_empty() {
                    st.leader = None;
                    true
                } else if who == Who::Thread {
                    false
                } else if self.thread_writes(&st) {
                    st.leader = Some(Who::Thread);
                    let _ = self.jobs.send(Job::Lead);
                    true
                } else {
                    st.queue.front_mut().is_some_and(Batch::hand_over)
                };
                (refused, done)
            };
            // Answered outside the lock: callers link their records meanwhile.
            let own = first.then(|| batch.leader.unwrap_or(0));
            first = false;
            let answered = batch.answer(&outcome, own);
            mine = mine.or(answered);
            for mut b in refused {
                b.answer(&outcome, None);
            }
            if done {
                return mine;
            }
        }
    }

    /// Whether the log's thread rather than a caller writes the next batch: under the `interval`
    /// policy, on a disk whose recent syncs were slow, and on a runtime with a single worker
    /// (or none), which a caller's sync would stall whole.
    fn thread_writes(&self, st: &State) -> bool {
        use tokio::runtime::{Handle, RuntimeFlavor};
        let limit = self.cfg.caller_sync_limit;
        matches!(self.cfg.sync, SyncPolicy::Interval(_))
            || limit.is_zero()
            || u128::from(st.sync_ns) > limit.as_nanos()
            || match Handle::try_current() {
                Ok(h) => h.runtime_flavor() == RuntimeFlavor::CurrentThread,
                Err(_) => true,
            }
    }

    /// The chain after a batch was written (or failed), under the lock.
    fn settle(
        &self,
        st: &mut State,
        batch: &Batch,
        outcome: &Result<(), String>,
        took: std::time::Duration,
    ) {
        match outcome {
            Ok(()) => {
                if let Some(end) = batch.end() {
                    st.durable = end;
                }
                let took = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
                st.sync_ns = moving_average(st.sync_ns, took);
                if self.anchored {
                    let records = st.durable.next_seq - 1;
                    if records >= st.checkpoint_asked + self.cfg.checkpoint_every_records {
                        st.checkpoint_asked = records;
                        st.told_added = true;
                        let _ = self.jobs.send(Job::Checkpoint);
                    } else if !st.told_added {
                        st.told_added = true;
                        let _ = self.jobs.send(Job::Added);
                    }
                }
            }
            Err(why) => {
                tracing::error!("audit log stopped: {why}");
                // Stopped is said before any caller hears of the failure: a caller that asks
                // readiness after its refused append must not still see "ready".
                self.stopped.send_replace(Some(why.clone()));
                st.failed = Some(why.clone());
                // Nothing of the batch (or after it) was acknowledged: the chain goes on from
                // the last record that was, once the writer resumes.
                st.head = st.durable.clone();
                let _ = self.jobs.send(Job::Stopped);
            }
        }
    }

    /// Under the `interval` policy the thread waits, from a batch's first record, up to the
    /// interval for more before writing it (not when the batch is already full).
    fn linger_for_interval(&self) {
        let SyncPolicy::Interval(wait) = self.cfg.sync else {
            return;
        };
        let opened = {
            let st = self.lock();
            st.queue.front().and_then(|b| {
                (!b.is_full(self.cfg.max_batch_records, self.cfg.max_batch_bytes))
                    .then_some(b.opened)
            })
        };
        if let Some(left) = opened.and_then(|o| (o + wait).checked_duration_since(Instant::now())) {
            std::thread::sleep(left);
        }
    }

    /// After a failed write: tries whether the disk takes writes again, and if so continues
    /// the chain in a new segment. True once the writer takes appends again.
    pub(crate) fn resume(&self) -> bool {
        let (mut disk, next_seq) = {
            let mut st = self.lock();
            if st.failed.is_none() {
                return true;
            }
            if st.leader.is_some() {
                return false;
            }
            let Some(disk) = st.disk.take() else {
                return false;
            };
            st.leader = Some(Who::Thread);
            (disk, st.durable.next_seq)
        };
        let resumed = disk.resume(next_seq, &self.cfg);
        let mut st = self.lock();
        st.disk = Some(disk);
        st.leader = None;
        match resumed {
            Ok(()) => {
                tracing::warn!(
                    next_seq,
                    "audit log resumed: the chain continues in a new segment"
                );
                st.failed = None;
                self.stopped.send_replace(None);
                true
            }
            Err(why) => {
                tracing::debug!("audit log still stopped: {why}");
                false
            }
        }
    }

    /// Refuses new records, writes what is queued, and gives back the open segment, the
    /// acknowledged head, and why the writer is stopped if it is.
    pub(crate) fn close(&self) -> (Option<Disk>, Head, Option<String>) {
        loop {
            let mut st = self.lock();
            st.closed = true;
            // The thread may have been asked to write and not read the job yet: this is it.
            if st.leader != Some(Who::Caller) {
                st.leader = Some(Who::Thread);
                break;
            }
            drop(st);
            // A caller is writing a batch: it finishes (and hands on what is queued) shortly.
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
        self.lead(Who::Thread);
        let mut st = self.lock();
        (st.disk.take(), st.durable.clone(), st.failed.clone())
    }
}

impl Drop for Shared {
    /// The last handle is gone without a close: the thread syncs and anchors once more.
    fn drop(&mut self) {
        let st = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(disk) = st.disk.take() {
            let _ = self.jobs.send(Job::Last(disk, st.durable.clone()));
        }
    }
}

/// The average write + sync after one that took `took`: one slow sync among quick ones moves
/// it an eighth of the way.
fn moving_average(average: u64, took: u64) -> u64 {
    average - average / 8 + took / 8
}

/// A caller waiting for its answer. If it is told to write its batch and then leaves before it
/// reads that, it writes the batch as it goes: the other callers of the batch wait on it.
pub(crate) struct Waiting<'a> {
    pub rx: oneshot::Receiver<Turn>,
    pub shared: &'a Shared,
}

impl std::future::Future for Waiting<'_> {
    type Output = Result<Ack, AppendError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let turn = std::task::ready!(std::pin::Pin::new(&mut self.rx).poll(cx));
        std::task::Poll::Ready(match turn {
            Ok(Turn::Done(answer)) => answer,
            Ok(Turn::Lead) => self
                .shared
                .lead(Who::Caller)
                .unwrap_or(Err(AppendError::Closed)),
            // Every queued record is answered; a lost sender means the log is gone.
            Err(_) => Err(AppendError::Closed),
        })
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        // Closed first, so a hand-over can no longer arrive after the look below.
        self.rx.close();
        if let Ok(Turn::Lead) = self.rx.try_recv() {
            let _ = self.shared.lead(Who::Caller);
        }
    }
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
