//! Walks the chain from the first segment to the first break: shared by `verify` and recovery.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::record::{ChainHash, LineError, Record};
use crate::segment;

/// One segment as far as the chain is intact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentSummary {
    pub path: PathBuf,
    /// Sequence number the file name claims for its first record.
    pub named_first_seq: u64,
    /// Records that passed every check.
    pub records: u64,
    /// Bytes of those records; equals `file_len` when the segment is whole.
    pub valid_bytes: u64,
    pub file_len: u64,
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub segment: PathBuf,
    /// Byte offset of the first bad line in `segment`.
    pub offset: u64,
    /// 1-based line number of the first bad line in `segment`.
    pub line: u64,
    /// The sequence number a good record at this point would have had.
    pub expected_seq: u64,
    pub kind: ProblemKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// The segment ends without a newline: a write cut short by a crash.
    PartialRecord { bytes: u64 },
    /// The line itself is damaged: framing, its own hash, or its body.
    Line(LineError),
    /// The record carries another sequence number than its position.
    SeqGap { found: u64 },
    /// The record's `prev` is not the hash of the record before it: that record (or this one's
    /// link) was altered.
    PrevMismatch {
        previous_seq: u64,
        previous_segment: PathBuf,
        previous_offset: u64,
        previous_hash: ChainHash,
        found: ChainHash,
    },
    /// The file name does not continue the chain (a segment was removed, renamed or added).
    SegmentName { named: u64 },
    /// The segment could not be read.
    Unreadable(String),
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::PartialRecord { bytes } => write!(
                f,
                "{bytes} bytes without a closing newline: a record cut short (torn write)"
            ),
            ProblemKind::Line(e) => write!(f, "{e}"),
            ProblemKind::SeqGap { found } => {
                write!(
                    f,
                    "record carries seq {found}: records are missing or reordered"
                )
            }
            ProblemKind::PrevMismatch {
                previous_seq,
                previous_segment,
                previous_offset,
                previous_hash,
                found,
            } => write!(
                f,
                "prev is {found} but record seq {previous_seq} ({} @ byte {previous_offset}) \
                 hashes to {previous_hash}: seq {previous_seq} was altered or replaced",
                previous_segment.display()
            ),
            ProblemKind::SegmentName { named } => write!(
                f,
                "file is named for seq {named}: a segment is missing, renamed or out of place"
            ),
            ProblemKind::Unreadable(e) => write!(f, "cannot read the segment: {e}"),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} line {} (byte {}), where seq {} was expected: {}",
            self.segment.display(),
            self.line,
            self.offset,
            self.expected_seq,
            self.kind
        )
    }
}

/// What a walk of the chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    pub segments: Vec<SegmentSummary>,
    /// Records that passed every check, from seq 1.
    pub records: u64,
    /// The last good record: its seq and hash.
    pub head: Option<(u64, ChainHash)>,
    pub problem: Option<Problem>,
}

impl Scan {
    pub(crate) fn next_seq(&self) -> u64 {
        self.head.map_or(1, |(seq, _)| seq + 1)
    }

    pub(crate) fn head_hash(&self) -> ChainHash {
        self.head.map_or(ChainHash::GENESIS, |(_, h)| h)
    }
}

/// Walks every segment in `dir`, calling `visit` for each good record, and stops at the first
/// break. Only listing the directory can fail; unreadable segments are a [`Problem`].
pub(crate) fn scan(dir: &Path, mut visit: impl FnMut(&Record, &ChainHash)) -> io::Result<Scan> {
    let mut out = Scan {
        segments: Vec::new(),
        records: 0,
        head: None,
        problem: None,
    };
    // Where the last good record sits, to name it when the next one's link does not match.
    let mut head_at: Option<(PathBuf, u64)> = None;
    for (named, path) in segment::list(dir)? {
        let expected_seq = out.next_seq();
        let problem = |offset, line, kind| Problem {
            segment: path.clone(),
            offset,
            line,
            expected_seq,
            kind,
        };
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                out.problem = Some(problem(0, 1, ProblemKind::Unreadable(e.to_string())));
                return Ok(out);
            }
        };
        let mut summary = SegmentSummary {
            path: path.clone(),
            named_first_seq: named,
            records: 0,
            valid_bytes: 0,
            file_len: bytes.len() as u64,
        };
        if named != expected_seq {
            out.segments.push(summary);
            out.problem = Some(problem(0, 1, ProblemKind::SegmentName { named }));
            return Ok(out);
        }
        let mut offset = 0usize;
        let mut line_no = 1u64;
        while offset < bytes.len() {
            let rest = &bytes[offset..];
            let fail = |kind| Problem {
                segment: path.clone(),
                offset: offset as u64,
                line: line_no,
                expected_seq: out.next_seq(),
                kind,
            };
            let Some(len) = rest.iter().position(|&b| b == b'\n') else {
                let p = fail(ProblemKind::PartialRecord {
                    bytes: rest.len() as u64,
                });
                out.segments.push(summary);
                out.problem = Some(p);
                return Ok(out);
            };
            let checked = match Record::decode(&rest[..len]) {
                Err(e) => Err(ProblemKind::Line(e)),
                Ok((r, _)) if r.seq != out.next_seq() => Err(ProblemKind::SeqGap { found: r.seq }),
                Ok((r, _)) if r.prev != out.head_hash() => {
                    let (previous_segment, previous_offset) =
                        head_at.clone().unwrap_or_else(|| (path.clone(), 0));
                    Err(ProblemKind::PrevMismatch {
                        previous_seq: r.seq.saturating_sub(1),
                        previous_segment,
                        previous_offset,
                        previous_hash: out.head_hash(),
                        found: r.prev,
                    })
                }
                Ok(ok) => Ok(ok),
            };
            match checked {
                Ok((record, hash)) => {
                    visit(&record, &hash);
                    out.head = Some((record.seq, hash));
                    out.records += 1;
                    head_at = Some((path.clone(), offset as u64));
                    offset += len + 1;
                    line_no += 1;
                    summary.records += 1;
                    summary.valid_bytes = offset as u64;
                }
                Err(kind) => {
                    let p = fail(kind);
                    out.segments.push(summary);
                    out.problem = Some(p);
                    return Ok(out);
                }
            }
        }
        out.segments.push(summary);
    }
    Ok(out)
}
