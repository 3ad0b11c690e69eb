//! The registry directory on disk: atomic replace of `registry.json`, loading with full
//! verification, and applying an update that either passes or leaves the last good state.

use std::io::Write;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::error::VerifyError;
use crate::registry::Registry;
use crate::state::SignedState;
use crate::verify::verify_state;

/// The whole signed state.
pub const STATE_FILE: &str = "registry.json";
/// Documents awaiting signatures, one file each.
pub const PENDING_DIR: &str = "pending";
/// Dev registry signing keys (PKCS#8 PEM, mode 0600). A real ceremony keeps them offline.
pub const KEYS_DIR: &str = "keys";
/// Test hook: milliseconds to sleep between writing the temporary file and renaming it, so a
/// test can kill the process mid-write.
pub const PAUSE_ENV: &str = "HUREN_TEST_PAUSE_BEFORE_RENAME";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("cannot read {path}: {source} (create a registry with `huren registry init`)")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Refused { path: PathBuf, source: VerifyError },
}

impl StoreError {
    /// The broken rule, when the bytes were read but refused.
    pub fn verify_error(&self) -> Option<&VerifyError> {
        match self {
            StoreError::Refused { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Writes `bytes` to `path` so that a crash leaves the old file or the new one, never a mix:
/// temp file in the same directory, fsync, rename over, fsync the directory.
pub fn atomic_write(path: &Path, bytes: &[u8], secret: bool) -> Result<(), StoreError> {
    let fail = |source| StoreError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(fail)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    let mut file = options.open(&tmp).map_err(fail)?;
    file.write_all(bytes).map_err(fail)?;
    file.sync_all().map_err(fail)?;
    drop(file);
    if let Some(ms) = std::env::var(PAUSE_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    std::fs::rename(&tmp, path).map_err(fail)?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(fail)
}

/// Reads `DIR/registry.json` without verifying it.
pub fn read_state(dir: &Path) -> Result<SignedState, StoreError> {
    let path = dir.join(STATE_FILE);
    let bytes = std::fs::read(&path).map_err(|source| StoreError::Read {
        path: path.clone(),
        source,
    })?;
    SignedState::from_bytes(&bytes).map_err(|source| StoreError::Refused { path, source })
}

/// Reads and verifies `DIR/registry.json`; `held` is the state already trusted, if any.
pub fn load(
    dir: &Path,
    held: Option<&Registry>,
    now: OffsetDateTime,
) -> Result<Registry, StoreError> {
    let state = read_state(dir)?;
    verify_state(&state, held, now).map_err(|source| StoreError::Refused {
        path: dir.join(STATE_FILE),
        source,
    })
}

/// Like [`load`] for the publisher's own tools (ceremony commands, the dev registry): an expired
/// timestamp is accepted so that `publish` can renew it. Every other rule holds.
pub fn load_for_publisher(dir: &Path, now: OffsetDateTime) -> Result<Registry, StoreError> {
    let state = read_state(dir)?;
    let policy = crate::verify::Policy {
        allow_expired_timestamp: true,
    };
    crate::verify::verify_state_with(&state, None, now, policy).map_err(|source| {
        StoreError::Refused {
            path: dir.join(STATE_FILE),
            source,
        }
    })
}

/// Writes a verified registry as `DIR/registry.json`, atomically.
pub fn save(dir: &Path, registry: &Registry) -> Result<(), StoreError> {
    atomic_write(&dir.join(STATE_FILE), &registry.state().to_bytes(), false)
}

/// A registry directory and the last good state read from it.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    current: Registry,
}

impl Store {
    /// Opens `dir`, trusting its first root on first use, and verifies everything.
    pub fn open(dir: &Path, now: OffsetDateTime) -> Result<Self, StoreError> {
        let current = load(dir, None, now)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            current,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn current(&self) -> &Registry {
        &self.current
    }

    /// Verifies `state` against the current one; on success writes it and makes it current.
    /// On refusal nothing changes, on disk or in memory, and the reason is returned.
    pub fn apply(
        &mut self,
        state: &SignedState,
        now: OffsetDateTime,
    ) -> Result<&Registry, StoreError> {
        let next = verify_state(state, Some(&self.current), now).map_err(|source| {
            StoreError::Refused {
                path: self.dir.join(STATE_FILE),
                source,
            }
        })?;
        save(&self.dir, &next)?;
        self.current = next;
        Ok(&self.current)
    }

    /// Re-reads the directory (after another process published) and accepts it only if it
    /// verifies against the current state.
    pub fn reload(&mut self, now: OffsetDateTime) -> Result<&Registry, StoreError> {
        let next = load(&self.dir, Some(&self.current), now)?;
        self.current = next;
        Ok(&self.current)
    }
}
