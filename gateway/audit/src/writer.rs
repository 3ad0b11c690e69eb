//! The writer: batches queued appends into one write + sync, then acknowledges them; after a
//! failed write it refuses appends and retries until the disk takes writes again.
//!
//! It runs on one thread of its own ([`spawn`]), which writes and syncs batch after batch
//! (group commit): the disk calls block that thread only, so no batch pays for handing its
//! write to a blocking pool and waking the writer again afterwards.

use tokio::sync::{mpsc, oneshot, watch};

use crate::config::{Config, SyncPolicy};
use crate::disk::Disk;
use crate::error::AppendError;
use crate::record::{ChainHash, Entry, MAX_LINE_BYTES, Record};
use crate::signing::Anchoring;

/// What a caller gets back once its record is as durable as the policy promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    pub seq: u64,
    pub hash: ChainHash,
}

pub(crate) enum Msg {
    Append(Entry, oneshot::Sender<Result<Ack, AppendError>>),
    Close(oneshot::Sender<Result<(), AppendError>>),
}

/// The chain position the next record takes.
#[derive(Clone)]
pub(crate) struct Head {
    pub next_seq: u64,
    pub prev: ChainHash,
}

type Waiter = oneshot::Sender<Result<Ack, AppendError>>;

/// Why the writer is stopped, shared with every [`crate::AuditLog`] handle: `None` while it
/// writes.
pub(crate) type StateTx = watch::Sender<Option<String>>;

/// Starts the writer on a thread of its own, with a small runtime for its timers (checkpoint and
/// retry intervals) and checkpoint files. The thread ends once every handle is dropped or the
/// log is closed.
pub(crate) fn spawn(
    rx: mpsc::Receiver<Msg>,
    disk: Disk,
    head: Head,
    cfg: Config,
    state: StateTx,
    anchoring: Option<Anchoring>,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    std::thread::Builder::new()
        .name("huren-audit".into())
        .spawn(move || runtime.block_on(run(rx, disk, head, cfg, state, anchoring)))?;
    Ok(())
}

async fn run(
    mut rx: mpsc::Receiver<Msg>,
    disk: Disk,
    head: Head,
    cfg: Config,
    state: StateTx,
    mut anchoring: Option<Anchoring>,
) {
    let mut disk = Some(disk);
    // The last acknowledged record: a failed batch's records are given back to the chain.
    let mut durable = head.clone();
    let mut head = head;
    let mut failed: Option<String> = None;
    let mut retry_at = tokio::time::Instant::now();
    let mut spare: (Vec<u8>, Vec<(Waiter, Ack)>) = Default::default();
    loop {
        let records = durable.next_seq - 1;
        let checkpoint_due = anchoring.as_ref().and_then(|a| a.due_at(records, &cfg));
        let first = match failed.is_some() {
            false if let Some(m) = linger(&mut rx) => Some(m),
            false => tokio::select! {
                m = rx.recv() => m,
                // Records were added and then nothing for a while: anchor them anyway.
                () = sleep_until_some(checkpoint_due) => {
                    if let Some(a) = anchoring.as_mut() {
                        a.checkpoint(records, durable.prev).await;
                    }
                    continue;
                }
            },
            // Stopped: appends are refused at once, and the writer tries to resume on its own.
            true => tokio::select! {
                m = rx.recv() => m,
                () = tokio::time::sleep_until(retry_at) => {
                    retry_at = tokio::time::Instant::now() + cfg.retry_every;
                    if let Some(d) = disk.as_mut() {
                        match d.resume(durable.next_seq, &cfg) {
                            Ok(()) => {
                                tracing::warn!(
                                    next_seq = durable.next_seq,
                                    "audit log resumed: the chain continues in a new segment"
                                );
                                failed = None;
                                state.send_replace(None);
                            }
                            Err(why) => tracing::debug!("audit log still stopped: {why}"),
                        }
                    }
                    continue;
                }
            },
        };
        let Some(first) = first else { break };
        // The buffers of the batch before, emptied: a busy writer allocates none per batch.
        let mut batch = Batch {
            buf: std::mem::take(&mut spare.0),
            waiters: std::mem::take(&mut spare.1),
            closer: None,
        };
        let first_seq = head.next_seq;
        batch.take(first, &mut head, failed.as_deref());
        let deadline = match cfg.sync {
            SyncPolicy::Interval(d) => Some(tokio::time::Instant::now() + d),
            _ => None,
        };
        // Room is kept for one more longest record so a batch never exceeds max_batch_bytes,
        // which is what bounds a torn tail.
        while batch.closer.is_none()
            && batch.waiters.len() < cfg.max_batch_records
            && batch.buf.len() + MAX_LINE_BYTES <= cfg.max_batch_bytes
        {
            let next = match deadline {
                None => match rx.try_recv() {
                    Ok(m) => m,
                    Err(_) => break,
                },
                Some(at) => match tokio::time::timeout_at(at, rx.recv()).await {
                    Ok(Some(m)) => m,
                    _ => break,
                },
            };
            batch.take(next, &mut head, failed.as_deref());
        }
        let Batch {
            mut buf,
            mut waiters,
            closer,
        } = batch;
        if !buf.is_empty() {
            // Written and synced right here: this thread is the writer's own.
            let outcome = match disk.as_mut() {
                None => Err(failed.clone().unwrap_or_default()),
                Some(d) => d
                    .write_batch(first_seq, &buf, &cfg)
                    .map_err(|e| format!("write or sync failed: {e}")),
            };
            match outcome {
                Ok(()) => {
                    durable = head.clone();
                    for (tx, ack) in waiters.drain(..) {
                        let _ = tx.send(Ok(ack));
                    }
                    let records = durable.next_seq - 1;
                    if let Some(a) = anchoring.as_mut().filter(|a| a.is_due(records, &cfg)) {
                        a.checkpoint(records, durable.prev).await;
                    }
                }
                Err(why) => {
                    tracing::error!("audit log stopped: {why}");
                    // Stopped is said before any caller hears of the failure: a caller that
                    // asks readiness after its refused append must not still see "ready".
                    state.send_replace(Some(why.clone()));
                    for (tx, _) in waiters.drain(..) {
                        let _ = tx.send(Err(AppendError::Failed(why.clone())));
                    }
                    // Nothing of the batch was acknowledged: the chain goes on from the last
                    // record that was, once the writer resumes.
                    head = durable.clone();
                    retry_at = tokio::time::Instant::now() + cfg.retry_every;
                    failed = Some(why);
                }
            }
        }
        buf.clear();
        spare = (buf, waiters);
        if let Some(tx) = closer {
            // At shutdown the whole acknowledged chain is anchored.
            if let Some(a) = anchoring.as_mut() {
                a.checkpoint(durable.next_seq - 1, durable.prev).await;
            }
            let result = match (disk.take(), &failed) {
                // An unsynced log is synced once on a clean close.
                (Some(d), None) => d
                    .file
                    .sync_data()
                    .map_err(|e| AppendError::Failed(e.to_string())),
                (_, why) => Err(AppendError::Failed(why.clone().unwrap_or_default())),
            };
            let _ = tx.send(result);
            return;
        }
    }
    if let Some(d) = disk {
        let _ = d.file.sync_data();
    }
    if let Some(a) = anchoring.as_mut() {
        a.checkpoint(durable.next_seq - 1, durable.prev).await;
    }
}

/// How many times an idle writer gives its core away before it sleeps on the queue.
const LINGER_YIELDS: usize = 3;

/// Gives the core to other runnable threads a few times before the writer sleeps, and takes
/// what they queued meanwhile. A writer asleep on the queue must be woken by the next append, a
/// futex wake (and on a VM an interrupt to another core) that each call paid for when every
/// sync came back before the next append arrived (a fast disk, a busy node). On a busy machine
/// the callers run while the writer yields and their records are waiting when it comes back;
/// on an idle one each yield returns at once and the writer sleeps as before. Nothing is
/// acknowledged here: what is taken goes through the same write, sync and acknowledgement.
fn linger(rx: &mut mpsc::Receiver<Msg>) -> Option<Msg> {
    for _ in 0..LINGER_YIELDS {
        std::thread::yield_now();
        if let Ok(m) = rx.try_recv() {
            return Some(m);
        }
    }
    None
}

/// Sleeps until `at`, or forever when there is nothing to wait for.
async fn sleep_until_some(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Records gathered for one write, their waiters, and a close request if one arrived.
#[derive(Default)]
struct Batch {
    buf: Vec<u8>,
    waiters: Vec<(Waiter, Ack)>,
    closer: Option<oneshot::Sender<Result<(), AppendError>>>,
}

impl Batch {
    /// Links the entry into the chain at `head` and queues its line; answers at once when the
    /// writer has failed or the record is too large.
    fn take(&mut self, msg: Msg, head: &mut Head, failed: Option<&str>) {
        let (entry, tx) = match msg {
            Msg::Close(tx) => {
                self.closer = Some(tx);
                return;
            }
            Msg::Append(entry, tx) => (entry, tx),
        };
        if let Some(why) = failed {
            let _ = tx.send(Err(AppendError::Failed(why.to_string())));
            return;
        }
        let record = Record {
            seq: head.next_seq,
            prev: head.prev,
            entry,
        };
        let start = self.buf.len();
        match crate::encode::encode_into(&record, &mut self.buf) {
            Ok(_) if self.buf.len() - start > MAX_LINE_BYTES => {
                let len = self.buf.len() - start;
                self.buf.truncate(start);
                let _ = tx.send(Err(AppendError::TooLarge(len)));
            }
            Err(e) => {
                let _ = tx.send(Err(AppendError::Failed(e.to_string())));
            }
            Ok(hash) => {
                self.waiters.push((
                    tx,
                    Ack {
                        seq: record.seq,
                        hash,
                    },
                ));
                head.next_seq += 1;
                head.prev = hash;
            }
        }
    }
}
