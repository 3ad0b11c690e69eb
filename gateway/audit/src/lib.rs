//! The audit log: every per-person decision, append-only, hash-chained, durable before the answer.
//!
//! # Manual
//!
//! ## What is logged
//!
//! One [`Entry`] per decision: time, the caller's SPIFFE id, the gRPC method, the stated
//! purpose, the issuing region, the person's keyed `subject_ref`, the verdict and the registry
//! version. There is no field for a resident ID number, and anything shaped like one (17 digits
//! and a valid check character) in the free-text fields is masked before it is written.
//!
//! ## On disk
//!
//! A directory of segment files `segment-<first seq, 20 digits>.log`, one record per line:
//! `<SHA-256 of body, hex> <body JSON>`. The body holds `seq` (from 1, no gaps) and `prev`, the
//! hash of the record before (zeros for seq 1). A segment is closed once it reaches
//! [`Config::segment_bytes`]; the chain runs on across segments. `LOCK` keeps a second writer
//! out. `torn-*.bin` files are tails that recovery cut off, kept for investigation.
//!
//! ## Group commit and the sync policies
//!
//! [`AuditLog::append`] links the entry into the chain (its seq and `prev`) under one lock.
//! If nobody is writing, the caller itself writes the batch its record opened with one `write`,
//! makes it durable per the [`SyncPolicy`], and hands the next batch (the records linked
//! meanwhile) to the first of that batch's callers still waiting; the others of a batch are
//! acknowledged ([`Ack`]: seq and hash) together once it is durable. So under load each batch
//! is written by one of its own callers while the next one gathers, and no record waits for a
//! hop to another thread and back. A caller told to write that is cancelled first writes as it
//! goes. Writes + syncs slower than [`Config::caller_sync_limit`] on average would hold a runtime
//! worker that long each time: batches then go to the log's own thread until syncs are quick
//! again; so do they under the `interval` policy and on a single-worker runtime. The gateway answers a caller only after `append`
//! returned `Ok`.
//!
//! - `every` (default): each batch is `fdatasync`ed before any of its records is acknowledged.
//!   **An acknowledged record survives a process crash, a kernel crash and a power loss** (as far
//!   as the disk honours flushes). Batches form on their own: while one sync runs, the next
//!   batch queues, so throughput grows with concurrency and a lone caller waits one sync.
//! - `interval(MS)`: the same guarantee as `every`; after the first record of a batch the log's
//!   thread waits up to MS milliseconds for more before writing and syncing. Fewer syncs under light
//!   load, at most MS more latency per append.
//! - `unsynced`: acknowledged once written to the OS page cache. **Survives a crash of the
//!   process (the kernel still holds the data), not a kernel crash or power loss**: acknowledged
//!   records can then be lost, and more than one batch may be torn, which recovery refuses as
//!   corruption. For benchmarks and throw-away demos only.
//!
//! A batch is at most [`Config::max_batch_records`] records and [`Config::max_batch_bytes`]
//! bytes.
//!
//! ## A stopped writer
//!
//! If a write or sync fails (a full disk) the writer stops and every append fails
//! ([`AppendError::Failed`]) until it resumes: after a failed `fsync` the kernel may have
//! dropped the data, so nothing could honestly be acknowledged. The gateway fails closed and
//! reports itself not ready ([`AuditLog::stopped`], [`AuditLog::watch_stopped`]). Every
//! [`Config::retry_every`] the writer writes and syncs a batch-sized `PROBE` file; once that
//! succeeds it cuts what the failed batch left in the open segment back to the last
//! acknowledged record, opens a new segment named for the next seq, and takes appends again:
//! the chain continues with no gap and no restart. Tests stop a writer with the
//! `fault-injection` feature (`fail_writes`) instead of filling a disk.
//!
//! ## Recovery on open
//!
//! [`AuditLog::open`] walks the chain. A crash can only tear the batch being written, at the
//! end of the last segment, and a torn write is an incomplete frame: bytes after the last
//! newline, a line whose end never reached the disk. If the chain stops at such an unfinished
//! line in the last segment and it spans at most `max_batch_bytes`, the tail from there on is
//! copied to `torn-….bin`, truncated away (a segment with nothing intact is removed), and
//! reported in the [`RecoveryReport`]; the chain continues from the last intact record. No
//! acknowledged record is in a torn tail: it was synced before it was acknowledged.
//!
//! A complete line (it ends in a newline) whose framing, hash or body fails is damage, not a
//! torn write, even when it is the last line of the log: it is refused exactly like a damaged
//! record in the middle. So is anything else no crash produces (damage earlier on, a longer
//! tail, a missing or misnamed segment, a record linked to the wrong predecessor): it is
//! refused as [`OpenError::Corrupt`], nothing is truncated, and `huren audit verify` names it.
//! (A file system that exposes unwritten blocks after a power loss can leave a garbled line
//! ending in a newline; that too is refused, for an operator to look at, rather than guessed.)
//! Nor is a torn tail cut off if a checkpoint (below) counts any record in it
//! ([`OpenError::BelowCheckpoint`]): checkpoints cover only synced records, which no crash tears.
//!
//! ## Checking
//!
//! [`verify`] (and `huren audit verify DIR`) checks, read-only, that segment names continue the
//! chain, every line matches its own hash, sequence numbers have no gaps and every `prev` is the
//! hash of the record before; the [`Report`] names the file, line, byte offset and seq where it
//! breaks and why. Altering a record breaks its own hash; rewriting its hash too breaks the next
//! record's `prev`. A rewrite of the whole chain (every hash recomputed) passes this check:
//! that is what anchoring is for.
//!
//! ## Anchoring: signed checkpoints
//!
//! Opened with [`AuditLog::open_anchored`] and the node's audit-checkpoint key (any
//! [`CheckpointSigner`]; an Ed25519 `SigningKey` is one), the writer signs a [`Checkpoint`] of
//! the acknowledged chain (record count and head hash, in a domain-separated message) every
//! [`Config::checkpoint_every_records`] records, [`Config::checkpoint_every`] after records were
//! added without one, and at close. Each is `checkpoint-<count>.json` beside the segments
//! (written atomically; the newest 16 are kept), small enough to hand to another node or the
//! national office.
//!
//! [`verify_anchored`] (`huren audit verify DIR --key PUBKEY`) checks the chain as [`verify`]
//! does, then that every checkpoint file is signed by the given key and that the chain holds the
//! newest one's count of intact records, the last with the signed hash. What that proves: no
//! record up to the newest checkpoint was changed, removed (even as a "torn tail") or rewritten
//! by anyone without the node's key. What it does not: records after the newest checkpoint are
//! only hash-chained, and someone who deletes the newest checkpoints locally rolls the anchor
//! back to an older one; checkpoints kept elsewhere close that gap.

#![forbid(unsafe_code)]

mod anchor;
mod batch;
mod checkpoint;
mod config;
mod disk;
mod encode;
mod error;
pub mod fault;
mod log;
mod record;
mod recovery;
mod scan;
mod seek;
mod segment;
mod signing;
mod thread;
mod verify;
mod writer;

pub use anchor::{AnchorProblem, AnchoredReport, verify_anchored};
pub use batch::Ack;
pub use checkpoint::{Checkpoint, CheckpointSigner, CheckpointVerifier, read as read_checkpoint};
pub use config::{Config, SyncPolicy};
pub use encode::EncodeError;
pub use error::{AppendError, OpenError};
pub use log::AuditLog;
pub use record::{ChainHash, Entry, EntryError, LineError, MAX_LINE_BYTES, MAX_TEXT_BYTES, Record};
pub use recovery::{RecoveryReport, TornTail};
pub use scan::{Problem, ProblemKind, Scan, SegmentSummary};
pub use seek::{SeekError, find};
pub use verify::{Report, verify, walk};
