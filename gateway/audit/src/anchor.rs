//! `verify_anchored(dir, key)`: the chain checked as [`crate::verify`] does, and against the
//! newest checkpoint signed under the node's key, so that a chain rewritten from scratch fails.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::checkpoint::{self, Checkpoint, CheckpointVerifier};
use crate::record::ChainHash;
use crate::scan::scan;
use crate::verify::Report;

/// Why the chain does not match its anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorProblem {
    /// No checkpoint signed under the key: the chain cannot be told from a rewrite.
    NoCheckpoint,
    /// A checkpoint file that the key did not sign (forged, altered, or another node's).
    BadSignature(PathBuf),
    Unreadable {
        path: PathBuf,
        why: String,
    },
    /// The signed checkpoint counts more intact records than the chain holds.
    Short {
        anchored: u64,
        intact: u64,
    },
    /// Record `records` is not the one that was signed: the chain was rewritten.
    HeadMismatch {
        records: u64,
        signed: ChainHash,
        found: ChainHash,
    },
}

impl fmt::Display for AnchorProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnchorProblem::NoCheckpoint => f.write_str(
                "no checkpoint signed under this key: the chain could have been rewritten",
            ),
            AnchorProblem::BadSignature(p) => write!(
                f,
                "{} is not signed by this key: forged, altered or another node's",
                p.display()
            ),
            AnchorProblem::Unreadable { path, why } => {
                write!(f, "cannot read checkpoint {}: {why}", path.display())
            }
            AnchorProblem::Short { anchored, intact } => write!(
                f,
                "a signed checkpoint counts {anchored} records but only {intact} are intact: \
                 signed records were removed or damaged"
            ),
            AnchorProblem::HeadMismatch {
                records,
                signed,
                found,
            } => write!(
                f,
                "record {records} hashes to {found} but {signed} was signed: the chain was \
                 rewritten"
            ),
        }
    }
}

/// The chain's own report, the newest checkpoint the key signed, and what does not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchoredReport {
    pub chain: Report,
    pub checkpoint: Option<Checkpoint>,
    pub problem: Option<AnchorProblem>,
}

impl AnchoredReport {
    pub fn is_ok(&self) -> bool {
        self.chain.is_ok() && self.problem.is_none()
    }
}

impl fmt::Display for AnchoredReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.chain)?;
        if let Some(c) = &self.checkpoint {
            writeln!(
                f,
                "checked: signed checkpoint of {} records, head {}, at {}",
                c.records, c.head, c.time
            )?;
        }
        match &self.problem {
            None => write!(f, "OK: the chain matches its newest signed checkpoint"),
            Some(p) => write!(f, "ANCHOR BROKEN: {p}"),
        }
    }
}

/// Checks the chain in `dir` read-only, then against the newest checkpoint `key` signed. Every
/// checkpoint file must be signed by `key`; the chain must hold the signed number of intact
/// records, the last of them with the signed hash.
pub fn verify_anchored(
    dir: &Path,
    key: &dyn CheckpointVerifier,
) -> std::io::Result<AnchoredReport> {
    let mut problem = None;
    let mut newest: Option<Checkpoint> = None;
    for (_, path) in checkpoint::list(dir)? {
        match checkpoint::read(&path) {
            Err(why) => {
                problem.get_or_insert(AnchorProblem::Unreadable { path, why });
            }
            Ok(c) if !c.is_signed_by(key) => {
                problem.get_or_insert(AnchorProblem::BadSignature(path));
            }
            Ok(c) => {
                if newest.as_ref().is_none_or(|n| c.records >= n.records) {
                    newest = Some(c);
                }
            }
        }
    }
    let anchored_at = newest.as_ref().map_or(0, |c| c.records);
    let mut found = None;
    let chain = Report {
        scan: scan(dir, |r, h| {
            if r.seq == anchored_at {
                found = Some(*h);
            }
        })?,
    };
    if problem.is_none() {
        problem = match &newest {
            None => Some(AnchorProblem::NoCheckpoint),
            Some(c) if c.records > chain.scan.records => Some(AnchorProblem::Short {
                anchored: c.records,
                intact: chain.scan.records,
            }),
            Some(c) => match found {
                Some(h) if h == c.head => None,
                Some(h) => Some(AnchorProblem::HeadMismatch {
                    records: c.records,
                    signed: c.head,
                    found: h,
                }),
                // A checkpoint of an empty log: nothing to compare.
                None if c.records == 0 => None,
                None => Some(AnchorProblem::Short {
                    anchored: c.records,
                    intact: chain.scan.records,
                }),
            },
        };
    }
    Ok(AnchoredReport {
        chain,
        checkpoint: newest,
        problem,
    })
}
