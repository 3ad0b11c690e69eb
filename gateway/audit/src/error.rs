//! What can go wrong opening the log or appending to it.

use std::path::PathBuf;

use crate::record::EntryError;
use crate::scan::Problem;

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("audit log {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("audit log {0} is in use by another writer (its LOCK is held)")]
    Locked(PathBuf),
    /// Damage a crash cannot explain: not at the end of the last segment, or longer than one
    /// batch. Nothing is truncated; run `huren audit verify` and investigate.
    #[error("audit log is corrupt, not torn (refusing to truncate {dropped} bytes): {problem}")]
    Corrupt { problem: Box<Problem>, dropped: u64 },
    /// What looks like a torn write would cut off records that a checkpoint counts. A
    /// checkpoint only covers acknowledged, synced records, which no crash tears: it is damage.
    #[error(
        "audit log: a checkpoint counts {anchored} records but the chain stops at seq {} \
         (refusing to cut off signed records): {problem}",
        problem.expected_seq
    )]
    BelowCheckpoint {
        problem: Box<Problem>,
        anchored: u64,
    },
    #[error("audit log config: {0}")]
    Config(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    #[error("audit entry refused: {0}")]
    Invalid(#[from] EntryError),
    #[error("audit record is {0} bytes, over the limit")]
    TooLarge(usize),
    /// A write or sync failed, now or earlier. The writer stops: after a failed fsync the kernel
    /// may have dropped the data, so nothing could honestly be acknowledged. It retries on its
    /// own and continues the chain in a new segment once the disk takes writes again.
    #[error("audit log stopped after a write failure: {0}")]
    Failed(String),
    #[error("audit log is closed")]
    Closed,
}
