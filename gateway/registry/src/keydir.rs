//! The key-directory layout `REG/keys/`: which PKCS#8 PEM file holds which signing key, and
//! reading the online keys a publish signs with from it.
//!
//! Only the dev registry writes every key here; a real ceremony keeps the root and region keys
//! offline and hands `huren registry sign` one file at a time. The online keys (timestamp, log,
//! witnesses) are where `huren registry publish` looks when no other file is named.

use std::path::{Path, PathBuf};

use crate::keys::{KeyFileError, SigningKey};
use crate::store::KEYS_DIR;

/// Root keys in the layout (`root-1.pem` …); the dev root role needs two of them.
pub const ROOT_KEYS: usize = 3;
/// Witness keys in the layout (`witness-1.pem` …).
pub const WITNESS_KEYS: usize = 3;
/// Keys of each region in the layout (`region-<code>-1.pem` …).
pub const REGION_KEYS: usize = 2;

/// One key file of the layout. Numbers count from 1, as the file names do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyFile {
    Root(usize),
    Timestamp,
    Log,
    /// The dev node's recognition-receipt key.
    Receipt,
    /// The dev node's audit-checkpoint key (Ed25519).
    Audit,
    Witness(usize),
    Region {
        code: String,
        number: usize,
    },
}

impl KeyFile {
    /// The file's name under `keys/`.
    pub fn file_name(&self) -> String {
        match self {
            KeyFile::Root(n) => format!("root-{n}.pem"),
            KeyFile::Timestamp => "timestamp.pem".into(),
            KeyFile::Log => "log.pem".into(),
            KeyFile::Receipt => "receipt.pem".into(),
            KeyFile::Audit => "audit.pem".into(),
            KeyFile::Witness(n) => format!("witness-{n}.pem"),
            KeyFile::Region { code, number } => format!("region-{code}-{number}.pem"),
        }
    }
}

/// The `keys/` directory of a registry directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDir {
    dir: PathBuf,
}

impl KeyDir {
    /// The key directory of registry directory `reg_dir`.
    pub fn of(reg_dir: &Path) -> Self {
        Self {
            dir: reg_dir.join(KEYS_DIR),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, file: &KeyFile) -> PathBuf {
        self.dir.join(file.file_name())
    }

    pub fn read(&self, file: &KeyFile) -> Result<SigningKey, KeyFileError> {
        SigningKey::from_pem_file(&self.path(file))
    }
}

/// The keys a publish signs with: the timestamp and log keys, and whichever witnesses are at hand.
#[derive(Debug)]
pub struct OnlineKeys {
    pub timestamp: SigningKey,
    pub log: SigningKey,
    pub witnesses: Vec<SigningKey>,
}

impl OnlineKeys {
    /// Reads the timestamp and log keys from the files named, else from `dir`, and every witness
    /// key file present in `dir`.
    pub fn load(
        dir: &KeyDir,
        timestamp: Option<&Path>,
        log: Option<&Path>,
    ) -> Result<Self, KeyFileError> {
        let named = |file: Option<&Path>, default: KeyFile| {
            SigningKey::from_pem_file(&file.map_or_else(|| dir.path(&default), Path::to_path_buf))
        };
        let timestamp = named(timestamp, KeyFile::Timestamp)?;
        let log = named(log, KeyFile::Log)?;
        let witnesses = (1..=WITNESS_KEYS)
            .map(|n| dir.path(&KeyFile::Witness(n)))
            .filter(|p| p.exists())
            .map(|p| SigningKey::from_pem_file(&p))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            timestamp,
            log,
            witnesses,
        })
    }
}
