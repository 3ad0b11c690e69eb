//! A batch: records linked into the chain, waiting for one write and sync, and the callers
//! waiting for them.

use std::time::Instant;

use tokio::sync::oneshot;

use crate::error::AppendError;
use crate::record::{ChainHash, Entry, MAX_LINE_BYTES, Record};

/// What a caller gets back once its record is as durable as the policy promises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack {
    pub seq: u64,
    pub hash: ChainHash,
}

/// The chain position the next record takes.
#[derive(Clone)]
pub(crate) struct Head {
    pub next_seq: u64,
    pub prev: ChainHash,
}

/// What a waiting caller is told: its answer, or that it writes the batch its record is in.
pub(crate) enum Turn {
    Done(Result<Ack, AppendError>),
    Lead,
}

pub(crate) type Waiter = oneshot::Sender<Turn>;

/// Records gathered for one write, in chain order, with the callers waiting for them.
pub(crate) struct Batch {
    pub first_seq: u64,
    pub buf: Vec<u8>,
    /// One per record: its caller (gone once told to lead, or once it left) and its answer.
    pub waiters: Vec<(Option<Waiter>, Ack)>,
    /// The record whose caller was told to lead this batch.
    pub leader: Option<usize>,
    /// When the first record was linked (the `interval` policy waits from here).
    pub opened: Instant,
}

impl Batch {
    /// An empty batch whose first record will be `first_seq`.
    pub(crate) fn new(first_seq: u64) -> Self {
        Batch {
            first_seq,
            buf: Vec::new(),
            waiters: Vec::new(),
            leader: None,
            opened: Instant::now(),
        }
    }

    /// True when one more of the longest records would take the batch over a limit: room is
    /// kept for it so a batch never exceeds `max_bytes`, which is what bounds a torn tail.
    pub(crate) fn is_full(&self, max_records: usize, max_bytes: usize) -> bool {
        self.waiters.len() >= max_records || self.buf.len() + MAX_LINE_BYTES > max_bytes
    }

    /// Links `entry` into the chain at `head` and queues its line. The caller's answer, when it
    /// is known at once (the record is too large or cannot be encoded), is returned instead.
    pub(crate) fn link(
        &mut self,
        entry: Entry,
        head: &mut Head,
        waiter: Option<Waiter>,
    ) -> Result<(), AppendError> {
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
                Err(AppendError::TooLarge(len))
            }
            Err(e) => {
                self.buf.truncate(start);
                Err(AppendError::Failed(e.to_string()))
            }
            Ok(hash) => {
                self.waiters.push((
                    waiter,
                    Ack {
                        seq: record.seq,
                        hash,
                    },
                ));
                head.next_seq += 1;
                head.prev = hash;
                Ok(())
            }
        }
    }

    /// The chain position after this batch's last record.
    pub(crate) fn end(&self) -> Option<Head> {
        self.waiters.last().map(|(_, ack)| Head {
            next_seq: ack.seq + 1,
            prev: ack.hash,
        })
    }

    /// Tells the first caller still waiting to write this batch. False when every caller of
    /// the batch has gone (their records are still to be written, by someone else).
    pub(crate) fn hand_over(&mut self) -> bool {
        for (i, (waiter, _)) in self.waiters.iter_mut().enumerate() {
            if let Some(tx) = waiter.take()
                && tx.send(Turn::Lead).is_ok()
            {
                self.leader = Some(i);
                return true;
            }
        }
        false
    }

    /// Answers every caller of the batch: its own ack, or the one failure. Returns what the
    /// record at `own` (the leader's, which has no one to tell) was answered.
    pub(crate) fn answer(
        &mut self,
        outcome: &Result<(), String>,
        own: Option<usize>,
    ) -> Option<Result<Ack, AppendError>> {
        let answer = |ack: Ack| match outcome {
            Ok(()) => Ok(ack),
            Err(why) => Err(AppendError::Failed(why.clone())),
        };
        let mine = own
            .and_then(|i| self.waiters.get(i))
            .map(|(_, ack)| answer(*ack));
        for (waiter, ack) in self.waiters.drain(..) {
            if let Some(tx) = waiter {
                let _ = tx.send(Turn::Done(answer(ack)));
            }
        }
        mine
    }
}
