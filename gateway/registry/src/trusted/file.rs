//! `STATE/trusted.json` on disk: read, replace atomically (fsynced), and the operator's reset,
//! which moves it aside as `trust-reset-<time>.json` so the discarded state stays on record.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use super::TrustedState;
use crate::store::{StoreError, atomic_write};

/// The trusted state's file in a node's state directory.
pub const TRUSTED_FILE: &str = "trusted.json";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustedFileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is not a trusted state this huren reads: {reason} (restore it, or run `huren registry trust-reset --state DIR`)"
    )]
    Unreadable { path: PathBuf, reason: String },
    #[error(transparent)]
    Write(#[from] StoreError),
}

/// The trusted state kept in `state_dir`; `None` before the node accepted any registry.
pub fn load(state_dir: &Path) -> Result<Option<TrustedState>, TrustedFileError> {
    let path = state_dir.join(TRUSTED_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(TrustedFileError::Read { path, source }),
    };
    let unreadable = |reason: String| TrustedFileError::Unreadable {
        path: path.clone(),
        reason,
    };
    let state: TrustedState =
        serde_json::from_slice(&bytes).map_err(|e| unreadable(e.to_string()))?;
    if state.format != TrustedState::FORMAT {
        return Err(unreadable(format!("format {}", state.format)));
    }
    Ok(Some(state))
}

/// Replaces `state_dir/trusted.json` atomically (temp file, fsync, rename, fsync the directory).
pub fn save(state_dir: &Path, state: &TrustedState) -> Result<(), TrustedFileError> {
    let bytes = serde_json::to_vec_pretty(state).unwrap_or_default();
    atomic_write(&state_dir.join(TRUSTED_FILE), &bytes, false)?;
    Ok(())
}

/// What a reset discarded and where it was kept.
#[derive(Debug, Clone)]
pub struct Reset {
    pub discarded: TrustedState,
    /// `state_dir/trust-reset-<time>.json`: the discarded state, kept as the audit record.
    pub record: PathBuf,
}

/// Discards the trusted state so that the next start trusts whatever registry it finds. The
/// old file is renamed, not deleted, to `trust-reset-<unix seconds>.json` beside it.
pub fn reset(state_dir: &Path, now: OffsetDateTime) -> Result<Option<Reset>, TrustedFileError> {
    let Some(discarded) = load(state_dir)? else {
        return Ok(None);
    };
    let path = state_dir.join(TRUSTED_FILE);
    let record = state_dir.join(format!("trust-reset-{}.json", now.unix_timestamp()));
    let fail = |source| {
        TrustedFileError::Write(StoreError::Write {
            path: record.clone(),
            source,
        })
    };
    std::fs::rename(&path, &record).map_err(fail)?;
    std::fs::File::open(state_dir)
        .and_then(|d| d.sync_all())
        .map_err(fail)?;
    Ok(Some(Reset { discarded, record }))
}
