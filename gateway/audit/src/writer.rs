//! The writer task: batches queued appends into one write + sync, then acknowledges them.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use tokio::sync::{mpsc, oneshot};

use crate::config::{Config, SyncPolicy};
use crate::error::AppendError;
use crate::record::{ChainHash, Entry, MAX_LINE_BYTES, Record};
use crate::segment;

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

/// The open segment and the lock; used only from blocking threads.
pub(crate) struct Disk {
    pub dir: PathBuf,
    pub file: File,
    pub seg_len: u64,
    /// Held for as long as the writer lives: one writer per directory.
    pub _lock: File,
}

impl Disk {
    fn write_batch(&mut self, first_seq: u64, buf: &[u8], cfg: &Config) -> std::io::Result<()> {
        if self.seg_len >= cfg.segment_bytes {
            let path = self.dir.join(segment::file_name(first_seq));
            let file = std::fs::OpenOptions::new()
                .create_new(true)
                .append(true)
                .open(&path)?;
            segment::sync_dir(&self.dir)?;
            self.file = file;
            self.seg_len = 0;
        }
        self.file.write_all(buf)?;
        self.seg_len += buf.len() as u64;
        if cfg.sync != SyncPolicy::Unsynced {
            self.file.sync_data()?;
        }
        Ok(())
    }
}

/// The chain position the next record takes.
pub(crate) struct Head {
    pub next_seq: u64,
    pub prev: ChainHash,
}

type Waiter = oneshot::Sender<Result<Ack, AppendError>>;

pub(crate) async fn run(mut rx: mpsc::Receiver<Msg>, disk: Disk, mut head: Head, cfg: Config) {
    let mut disk = Some(disk);
    let mut failed: Option<String> = None;
    loop {
        let Some(first) = rx.recv().await else { break };
        let mut batch = Batch::default();
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
            buf,
            waiters,
            closer,
        } = batch;
        if !buf.is_empty() {
            let outcome = match disk.take() {
                None => Err(failed.clone().unwrap_or_default()),
                Some(mut d) => {
                    let cfg = cfg.clone();
                    let joined = tokio::task::spawn_blocking(move || {
                        let r = d.write_batch(first_seq, &buf, &cfg);
                        (d, r)
                    })
                    .await;
                    match joined {
                        Ok((d, Ok(()))) => {
                            disk = Some(d);
                            Ok(())
                        }
                        Ok((_, Err(e))) => Err(format!("write or sync failed: {e}")),
                        Err(e) => Err(format!("writer thread failed: {e}")),
                    }
                }
            };
            match outcome {
                Ok(()) => {
                    for (tx, ack) in waiters {
                        let _ = tx.send(Ok(ack));
                    }
                }
                Err(why) => {
                    tracing::error!("audit log stopped: {why}");
                    for (tx, _) in waiters {
                        let _ = tx.send(Err(AppendError::Failed(why.clone())));
                    }
                    failed = Some(why);
                }
            }
        }
        if let Some(tx) = closer {
            let result = match disk.take() {
                // An unsynced log is synced once on a clean close.
                Some(d) => tokio::task::spawn_blocking(move || d.file.sync_data())
                    .await
                    .map_err(|e| AppendError::Failed(e.to_string()))
                    .and_then(|r| r.map_err(|e| AppendError::Failed(e.to_string()))),
                None => Err(AppendError::Failed(failed.clone().unwrap_or_default())),
            };
            let _ = tx.send(result);
            return;
        }
    }
    if let Some(d) = disk {
        let _ = tokio::task::spawn_blocking(move || d.file.sync_data()).await;
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
        match record.encode() {
            Ok((line, _)) if line.len() > MAX_LINE_BYTES => {
                let _ = tx.send(Err(AppendError::TooLarge(line.len())));
            }
            Err(e) => {
                let _ = tx.send(Err(AppendError::Failed(e.to_string())));
            }
            Ok((line, hash)) => {
                self.buf.extend_from_slice(&line);
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
