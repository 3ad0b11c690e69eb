//! `verify(dir)`: checks the whole chain read-only and says where and why it breaks.

use std::fmt;
use std::path::Path;

use crate::scan::{Problem, ProblemKind, Scan, scan};

/// The outcome of checking a log directory. `problem` is `None` when every record is intact and
/// linked to the one before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub scan: Scan,
}

impl Report {
    pub fn is_ok(&self) -> bool {
        self.scan.problem.is_none()
    }

    pub fn problem(&self) -> Option<&Problem> {
        self.scan.problem.as_ref()
    }

    /// True when the only damage is an unfinished last record at the very end of the last
    /// segment: what a crash or a live writer leaves, repaired by opening the log.
    pub fn is_torn_tail_only(&self) -> bool {
        match (&self.scan.problem, self.scan.segments.last()) {
            (Some(p), Some(last)) => {
                matches!(p.kind, ProblemKind::PartialRecord { .. }) && p.segment == last.path
            }
            _ => false,
        }
    }
}

/// Checks every segment in `dir`: file names continue the chain, each line is whole and matches
/// its own hash, sequence numbers have no gaps, each `prev` is the hash of the record before.
/// Read-only: safe on a live log (a write in flight shows as a partial last record).
pub fn verify(dir: &Path) -> std::io::Result<Report> {
    Ok(Report {
        scan: scan(dir, |_, _| {})?,
    })
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.scan;
        for seg in &s.segments {
            writeln!(
                f,
                "  {}: {} records, {} of {} bytes intact",
                seg.path.display(),
                seg.records,
                seg.valid_bytes,
                seg.file_len
            )?;
        }
        writeln!(f, "checked: segment names continue the chain")?;
        writeln!(f, "checked: every line matches its own SHA-256")?;
        writeln!(f, "checked: sequence numbers from 1 without gaps")?;
        writeln!(f, "checked: every prev is the hash of the record before")?;
        match &s.head {
            Some((seq, hash)) => {
                writeln!(f, "{} records intact; head seq {seq} {hash}", s.records)?
            }
            None if s.problem.is_none() => writeln!(f, "no records yet")?,
            None => writeln!(f, "no intact records")?,
        }
        match &s.problem {
            None => write!(f, "OK: the chain is intact"),
            Some(p) => write!(f, "BROKEN at {p}"),
        }
    }
}

/// Like [`verify`], and hands every intact record with its hash to `visit` in log order.
pub fn walk(
    dir: &Path,
    visit: impl FnMut(&crate::Record, &crate::ChainHash),
) -> std::io::Result<Report> {
    Ok(Report {
        scan: scan(dir, visit)?,
    })
}
