//! The open segment on disk: appending a batch, rotating segments, resuming after a failure.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use crate::config::{Config, SyncPolicy};
use crate::{fault, segment};

/// Written and synced (then removed) before the writer resumes, to show the disk takes a whole
/// batch again. Not a segment name, so the chain never sees it.
const PROBE_FILE: &str = "PROBE";

/// The open segment and the lock; used only from blocking threads.
pub(crate) struct Disk {
    pub dir: PathBuf,
    pub file: File,
    /// Bytes in the open segment, including a batch being written.
    pub seg_len: u64,
    /// Bytes of the open segment that hold acknowledged records only: what is kept when a
    /// failed batch is cut away.
    pub good_len: u64,
    /// Held for as long as the writer lives: one writer per directory.
    pub _lock: File,
}

impl Disk {
    pub(crate) fn write_batch(
        &mut self,
        first_seq: u64,
        buf: &[u8],
        cfg: &Config,
    ) -> std::io::Result<()> {
        if self.seg_len >= cfg.segment_bytes {
            self.start_segment(first_seq)?;
        }
        fault::check(&self.dir)?;
        self.seg_len += buf.len() as u64;
        self.file.write_all(buf)?;
        if cfg.sync != SyncPolicy::Unsynced {
            self.file.sync_data()?;
        }
        self.good_len = self.seg_len;
        Ok(())
    }

    /// After a failed write: checks that the disk takes a whole batch again, cuts whatever the
    /// failed batches left in the open segment, and continues the chain at `next_seq` in a new
    /// segment. A fresh file, because after a failed `fsync` the kernel's view of the old one's
    /// unsynced pages cannot be trusted. Fails (and changes nothing the chain depends on) while
    /// the disk still refuses writes.
    pub(crate) fn resume(&mut self, next_seq: u64, cfg: &Config) -> std::io::Result<()> {
        fault::check(&self.dir)?;
        let probe = self.dir.join(PROBE_FILE);
        let probed = std::fs::File::create(&probe).and_then(|mut f| {
            f.write_all(&vec![0; cfg.max_batch_bytes])?;
            f.sync_data()
        });
        let _ = std::fs::remove_file(&probe);
        probed?;
        self.file.set_len(self.good_len)?;
        self.file.sync_all()?;
        self.seg_len = self.good_len;
        if self.good_len == 0 {
            // Nothing acknowledged in it: it is already named for `next_seq`.
            return Ok(());
        }
        // Only a rotation that failed half-way leaves a file of this name, and it holds no
        // acknowledged record.
        match std::fs::remove_file(self.dir.join(segment::file_name(next_seq))) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        self.start_segment(next_seq)
    }

    /// Creates the segment whose first record is `first_seq`, makes its name durable, and
    /// writes to it from now on.
    fn start_segment(&mut self, first_seq: u64) -> std::io::Result<()> {
        let path = self.dir.join(segment::file_name(first_seq));
        let file = std::fs::OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)?;
        segment::sync_dir(&self.dir)?;
        self.file = file;
        self.seg_len = 0;
        self.good_len = 0;
        Ok(())
    }
}
