//! The writer's side of anchoring: when to sign a checkpoint of the acknowledged chain, and
//! writing it on the log's own thread, so no append waits for it.

use std::path::PathBuf;
use std::sync::Arc;

use std::time::Instant;

use crate::checkpoint::{Checkpoint, CheckpointSigner};
use crate::config::Config;
use crate::record::ChainHash;

/// The node's checkpoint key and how far the chain is anchored.
pub(crate) struct Anchoring {
    signer: Arc<dyn CheckpointSigner>,
    dir: PathBuf,
    /// Records covered by the newest checkpoint written.
    anchored: u64,
    /// When the last checkpoint was written (or tried).
    last: Instant,
}

impl Anchoring {
    pub(crate) fn new(signer: Arc<dyn CheckpointSigner>, dir: PathBuf, anchored: u64) -> Self {
        Anchoring {
            signer,
            dir,
            anchored,
            last: Instant::now(),
        }
    }

    /// Records covered by the newest checkpoint written.
    pub(crate) fn anchored(&self) -> u64 {
        self.anchored
    }

    /// When a checkpoint of `records` acknowledged records falls due by time, if any is due.
    pub(crate) fn due_at(&self, records: u64, cfg: &Config) -> Option<Instant> {
        (records > self.anchored).then_some(self.last + cfg.checkpoint_every)
    }

    /// True when `records` acknowledged records call for a checkpoint now (by count or time).
    pub(crate) fn is_due(&self, records: u64, cfg: &Config) -> bool {
        records >= self.anchored.saturating_add(cfg.checkpoint_every_records)
            || self
                .due_at(records, cfg)
                .is_some_and(|at| at <= Instant::now())
    }

    /// Signs and stores a checkpoint of the chain up to `records` / `head` unless one already
    /// covers it. A failure is logged, not fatal: the records are durable and chained either
    /// way, and the next checkpoint covers them. Runs on the log's thread, never a caller's.
    pub(crate) fn checkpoint(&mut self, records: u64, head: ChainHash) {
        self.last = Instant::now();
        if records <= self.anchored {
            return;
        }
        let signed = Checkpoint::sign(records, head, self.signer.as_ref());
        match signed.store(&self.dir) {
            Ok(_) => self.anchored = records,
            Err(e) => tracing::error!("audit checkpoint of {records} records not written: {e}"),
        }
    }
}
