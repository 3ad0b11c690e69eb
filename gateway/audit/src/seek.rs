//! `find(dir, seq)`: one record by its sequence number, read from the one segment that holds it
//! (segment names give each one's first seq), stopping at the record: the cost of an appeal's
//! look-up no longer grows with the whole chain.

use std::io::{self, BufRead, BufReader};
use std::path::Path;

use crate::record::{ChainHash, Record};
use crate::segment;

/// Why a record could not be read where its segment says it is.
#[derive(Debug, thiserror::Error)]
pub enum SeekError {
    #[error("cannot read the audit log: {0}")]
    Io(#[from] io::Error),
    /// A line before the record (in its segment) is damaged or out of order: the record is not
    /// trusted; `huren audit verify` names the break.
    #[error("segment {segment}: the chain breaks at line {line} before record {seq}")]
    Broken {
        segment: String,
        line: u64,
        seq: u64,
    },
}

/// The record with sequence `seq`, or `None` when the log holds none (yet). Every line of the
/// segment up to it is checked against its own hash, its sequence and its link to the line
/// before, as [`crate::verify`] checks them; the records of earlier segments are not read.
pub fn find(dir: &Path, seq: u64) -> Result<Option<Record>, SeekError> {
    if seq == 0 {
        return Ok(None);
    }
    let Some((first, path)) = segment::list(dir)?
        .into_iter()
        .take_while(|(first, _)| *first <= seq)
        .last()
    else {
        return Ok(None);
    };
    let broken = |line| SeekError::Broken {
        segment: path.display().to_string(),
        line,
        seq,
    };
    let mut reader = BufReader::new(std::fs::File::open(&path)?);
    let mut line = Vec::new();
    let mut prev: Option<ChainHash> = None;
    for (expected, line_no) in (first..=seq).zip(1u64..) {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 || line.last() != Some(&b'\n') {
            // The end of the log, or a record still being written: not there yet.
            return Ok(None);
        }
        let (record, hash) =
            Record::decode(&line[..line.len() - 1]).map_err(|_| broken(line_no))?;
        let linked = prev.is_none_or(|p| p == record.prev);
        if record.seq != expected || !linked {
            return Err(broken(line_no));
        }
        if record.seq == seq {
            return Ok(Some(record));
        }
        prev = Some(hash);
    }
    Ok(None)
}
