//! `AuditLog`: opens (and recovers) a log directory and links appends into its chain.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::{oneshot, watch};

use crate::batch::{Ack, Head};
use crate::checkpoint::{self, CheckpointSigner};
use crate::config::Config;
use crate::disk::Disk;
use crate::error::{AppendError, OpenError};
use crate::record::Entry;
use crate::recovery::{RecoveryReport, recover};
use crate::segment;
use crate::signing::Anchoring;
use crate::thread;
use crate::writer::{Job, Linked, Shared, Waiting, Who};

/// A handle to an open audit log. Cheap to clone; every clone appends to the same chain.
#[derive(Clone)]
pub struct AuditLog {
    shared: Arc<Shared>,
    dir: PathBuf,
    /// Why the writer is stopped (a write failed), or `None` while it writes.
    stopped: watch::Receiver<Option<String>>,
}

impl AuditLog {
    /// Opens the log in `dir` (created if missing), cuts off a torn tail left by a crash, and
    /// starts the writer on a thread of its own. Only one writer may hold a directory.
    pub async fn open(
        dir: impl AsRef<Path>,
        config: Config,
    ) -> Result<(AuditLog, RecoveryReport), OpenError> {
        AuditLog::open_with(dir, config, None).await
    }

    /// Like [`AuditLog::open`], and signs checkpoints of the chain with `signer` (the node's
    /// audit-checkpoint key): every [`Config::checkpoint_every_records`] records or
    /// [`Config::checkpoint_every`], and at close. [`crate::verify_anchored`] checks a chain
    /// against them.
    pub async fn open_anchored(
        dir: impl AsRef<Path>,
        config: Config,
        signer: Arc<dyn CheckpointSigner>,
    ) -> Result<(AuditLog, RecoveryReport), OpenError> {
        AuditLog::open_with(dir, config, Some(signer)).await
    }

    async fn open_with(
        dir: impl AsRef<Path>,
        config: Config,
        signer: Option<Arc<dyn CheckpointSigner>>,
    ) -> Result<(AuditLog, RecoveryReport), OpenError> {
        config.check().map_err(OpenError::Config)?;
        let dir = dir.as_ref().to_path_buf();
        let d = dir.clone();
        let max_torn = config.max_batch_bytes as u64;
        let opened = tokio::task::spawn_blocking(move || open_blocking(&d, max_torn))
            .await
            .map_err(|e| OpenError::Io {
                path: dir.clone(),
                source: std::io::Error::other(e.to_string()),
            })??;
        let (disk, head, report) = opened;
        let (state, stopped) = watch::channel(None);
        let anchoring = match signer {
            None => None,
            Some(signer) => {
                let d = dir.clone();
                let anchored = tokio::task::spawn_blocking(move || newest_count(&d))
                    .await
                    .unwrap_or(0);
                Some(Anchoring::new(signer, dir.clone(), anchored))
            }
        };
        let (jobs, jobs_rx) = std::sync::mpsc::channel();
        let anchored = anchoring.as_ref().map(Anchoring::anchored);
        let shared = Arc::new(Shared::new(
            disk,
            head,
            config.clone(),
            state,
            jobs,
            anchored,
        ));
        thread::spawn(Arc::downgrade(&shared), jobs_rx, config, anchoring).map_err(|source| {
            OpenError::Io {
                path: dir.clone(),
                source,
            }
        })?;
        let log = AuditLog {
            shared,
            dir,
            stopped,
        };
        Ok((log, report))
    }

    /// Appends one decision and returns once it is durable under the configured policy. The
    /// caller must not answer before this returns `Ok`.
    ///
    /// If nobody is writing, the caller writes and syncs the batch its record opened on its own
    /// task; otherwise it waits for the batch its record joined (see the crate manual).
    pub async fn append(&self, entry: Entry) -> Result<Ack, AppendError> {
        let entry = entry.sanitised()?;
        let _room = self
            .shared
            .room
            .acquire()
            .await
            .map_err(|_| AppendError::Closed)?;
        match self.shared.link(entry)? {
            Linked::Lead => self
                .shared
                .lead(Who::Caller)
                .unwrap_or(Err(AppendError::Closed)),
            Linked::Wait(rx) => {
                Waiting {
                    rx,
                    shared: &self.shared,
                }
                .await
            }
        }
    }

    /// Writes what is queued, syncs, releases the directory. Appends after this fail with
    /// [`AppendError::Closed`].
    pub async fn close(self) -> Result<(), AppendError> {
        let (tx, rx) = oneshot::channel();
        self.shared
            .send(Job::Close(tx))
            .map_err(|_| AppendError::Closed)?;
        rx.await.map_err(|_| AppendError::Closed)?
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Why the writer is stopped, or `None` while it takes appends. While stopped every append
    /// fails with [`AppendError::Failed`]; the writer retries every [`Config::retry_every`] and
    /// clears this once the disk takes writes again.
    pub fn stopped(&self) -> Option<String> {
        self.stopped.borrow().clone()
    }

    /// The same as [`AuditLog::stopped`], to be told of every change (readiness, health).
    pub fn watch_stopped(&self) -> watch::Receiver<Option<String>> {
        self.stopped.clone()
    }
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("dir", &self.dir)
            .field("stopped", &*self.stopped.borrow())
            .finish_non_exhaustive()
    }
}

/// The record count the newest checkpoint file names (its signature is the verifier's business).
fn newest_count(dir: &Path) -> u64 {
    checkpoint::list(dir)
        .ok()
        .and_then(|l| l.last().map(|(n, _)| *n))
        .unwrap_or(0)
}

pub(crate) fn open_blocking(
    dir: &Path,
    max_torn: u64,
) -> Result<(Disk, Head, RecoveryReport), OpenError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| OpenError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let lock_path = dir.join("LOCK");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(io(&lock_path))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(OpenError::Locked(dir.to_path_buf()));
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
    }
    let report = recover(dir, max_torn)?;
    let head = Head {
        next_seq: report.head.map_or(1, |(seq, _)| seq + 1),
        prev: report.head.map_or(crate::ChainHash::GENESIS, |(_, h)| h),
    };
    let (path, new) = match segment::list(dir).map_err(io(dir))?.pop() {
        Some((_, path)) => (path, false),
        None => (dir.join(segment::file_name(head.next_seq)), true),
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(io(&path))?;
    if new {
        segment::sync_dir(dir).map_err(io(dir))?;
    }
    let seg_len = file.metadata().map_err(io(&path))?.len();
    let disk = Disk {
        dir: dir.to_path_buf(),
        file,
        seg_len,
        good_len: seg_len,
        _lock: lock,
    };
    Ok((disk, head, report))
}
