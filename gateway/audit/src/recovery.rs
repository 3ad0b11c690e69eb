//! Recovery on open: finds a torn tail, keeps a copy of it, truncates it, reports what it did.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::checkpoint;
use crate::error::OpenError;
use crate::record::ChainHash;
use crate::scan::{Problem, ProblemKind, Scan, scan};
use crate::segment;

/// What opening the log found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Intact records kept, from seq 1.
    pub records: u64,
    /// The last intact record, which the next append links to.
    pub head: Option<(u64, ChainHash)>,
    /// The tail that was cut off, if the log was not closed cleanly.
    pub torn: Option<TornTail>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// Where and why the chain stopped.
    pub problem: Problem,
    pub dropped_bytes: u64,
    /// The cut-off bytes, kept next to the segments for whoever investigates.
    pub preserved_at: PathBuf,
}

/// Scans `dir` and cuts a torn tail of at most `max_torn_bytes` off the last segment. Damage
/// anywhere else, or of another shape, is refused as corruption: a crash only ever tears the
/// batch being written.
///
/// A torn write is an incomplete frame: a last line whose closing newline never reached the
/// disk. A complete line (newline-terminated) that fails its framing, its own hash or its body
/// is damage even when it is the very last one: every complete line was written whole, and the
/// last one may have been synced and acknowledged, so cutting it off would let one changed byte
/// make an answered decision vanish.
pub(crate) fn recover(dir: &Path, max_torn_bytes: u64) -> Result<RecoveryReport, OpenError> {
    let io = |source| OpenError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let found: Scan = scan(dir, |_, _| {}).map_err(io)?;
    let mut report = RecoveryReport {
        records: found.records,
        head: found.head,
        torn: None,
    };
    let Some(problem) = found.problem else {
        return Ok(report);
    };
    let last_file = segment::list(dir).map_err(io)?.pop().map(|(_, p)| p);
    let file_len = found.segments.last().map_or(0, |s| s.file_len);
    let dropped = file_len.saturating_sub(problem.offset);
    // A crash leaves a line cut short; it cannot garble a whole line, rename segments or
    // re-link records, so those are corruption even at the very end.
    let crash_shaped = matches!(problem.kind, ProblemKind::PartialRecord { .. });
    if !crash_shaped || last_file.as_ref() != Some(&problem.segment) || dropped > max_torn_bytes {
        return Err(OpenError::Corrupt {
            problem: Box::new(problem),
            dropped,
        });
    }
    // A torn write never reaches a record a checkpoint counts: those were synced first.
    let anchored = checkpoint::list(dir)
        .map_err(io)?
        .last()
        .map_or(0, |(n, _)| *n);
    if problem.expected_seq <= anchored {
        return Err(OpenError::BelowCheckpoint {
            problem: Box::new(problem),
            anchored,
        });
    }
    let io_at = |path: &Path| {
        let path = path.to_path_buf();
        move |source| OpenError::Io { path, source }
    };
    let seg = &problem.segment;
    let bytes = std::fs::read(seg).map_err(io_at(seg))?;
    let start = usize::try_from(problem.offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    let stem = seg
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("segment");
    let preserved_at = dir.join(format!("torn-{stem}-at-{}.bin", problem.offset));
    let mut keep = std::fs::File::create(&preserved_at).map_err(io_at(&preserved_at))?;
    keep.write_all(&bytes[start..])
        .and_then(|()| keep.sync_all())
        .map_err(io_at(&preserved_at))?;
    if problem.offset == 0 {
        // Nothing good in it; the writer starts a segment named for the next seq.
        std::fs::remove_file(seg).map_err(io_at(seg))?;
    } else {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(seg)
            .map_err(io_at(seg))?;
        f.set_len(problem.offset)
            .and_then(|()| f.sync_all())
            .map_err(io_at(seg))?;
    }
    segment::sync_dir(dir).map_err(io)?;
    tracing::warn!(
        segment = %seg.display(),
        offset = problem.offset,
        dropped_bytes = dropped,
        preserved = %preserved_at.display(),
        "audit log: cut off a torn tail: {}",
        problem.kind
    );
    report.torn = Some(TornTail {
        problem,
        dropped_bytes: dropped,
        preserved_at,
    });
    Ok(report)
}
