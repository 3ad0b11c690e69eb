//! The node's appeal index in its state directory: one JSON file per appeal, replaced
//! atomically, loaded whole at start, so a restart loses no appeal and no answer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use crate::appeals::record::{AppealRecord, province_of};

/// The appeals directory under the node's state directory.
pub const APPEALS_DIR: &str = "appeals";
/// Most appeals one node loads: a bound on start-up.
const MAX_APPEALS: usize = 1_000_000;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("appeal index {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("appeal index {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: Box<huren_registry::store::StoreError>,
    },
    #[error("appeal {path} does not parse: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("more than {MAX_APPEALS} appeals in {0}")]
    TooMany(PathBuf),
    #[error("{0:?} is not an appeal id (a province code, '-', 16 hex digits)")]
    NotAnAppealId(String),
}

/// Appeals by id, in memory and (with a directory) on disk.
#[derive(Debug, Default)]
pub struct AppealStore {
    dir: Option<PathBuf>,
    appeals: Mutex<BTreeMap<String, AppealRecord>>,
}

impl AppealStore {
    /// Opens (creating) `state_dir/appeals/` and loads every appeal in it.
    pub fn open(state_dir: &Path) -> Result<Self, StoreError> {
        let dir = state_dir.join(APPEALS_DIR);
        let io = |source| StoreError::Io {
            path: dir.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let mut appeals = BTreeMap::new();
        for (n, entry) in std::fs::read_dir(&dir).map_err(io)?.enumerate() {
            if n >= MAX_APPEALS {
                return Err(StoreError::TooMany(dir));
            }
            let path = entry.map_err(io)?.path();
            // Temporary files of a write a crash interrupted start with '.': the old file stands.
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            let is_appeal = name.as_deref().is_some_and(|n| {
                n.strip_suffix(".json")
                    .is_some_and(|id| province_of(id).is_some())
            });
            if !is_appeal {
                continue;
            }
            let bytes = std::fs::read(&path).map_err(|source| StoreError::Io {
                path: path.clone(),
                source,
            })?;
            let record: AppealRecord = serde_json::from_slice(&bytes)
                .map_err(|source| StoreError::Parse { path, source })?;
            appeals.insert(record.appeal_id.clone(), record);
        }
        Ok(Self {
            dir: Some(dir),
            appeals: Mutex::new(appeals),
        })
    }

    fn appeals(&self) -> MutexGuard<'_, BTreeMap<String, AppealRecord>> {
        // Every update is one insert after a durable write: a poisoned map is still consistent.
        self.appeals.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn get(&self, appeal_id: &str) -> Option<AppealRecord> {
        self.appeals().get(appeal_id).cloned()
    }

    /// Every appeal `keep` accepts, oldest id order.
    pub fn list(&self, keep: impl Fn(&AppealRecord) -> bool) -> Vec<AppealRecord> {
        self.appeals()
            .values()
            .filter(|a| keep(a))
            .cloned()
            .collect()
    }

    /// Writes the appeal durably, then makes it visible: an answer nobody can find after a
    /// restart is never given.
    pub fn put(&self, record: AppealRecord) -> Result<(), StoreError> {
        // The id becomes a file name: only the shape `new_id` makes is written.
        if crate::appeals::record::province_of(&record.appeal_id).is_none() {
            return Err(StoreError::NotAnAppealId(record.appeal_id));
        }
        let mut appeals = self.appeals();
        if let Some(dir) = &self.dir {
            let path = dir.join(format!("{}.json", record.appeal_id));
            let bytes = serde_json::to_vec_pretty(&record).map_err(|source| StoreError::Parse {
                path: path.clone(),
                source,
            })?;
            huren_registry::store::atomic_write(&path, &bytes, true).map_err(|source| {
                StoreError::Write {
                    path,
                    source: Box::new(source),
                }
            })?;
        }
        appeals.insert(record.appeal_id.clone(), record);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appeals::record::{AppealState, sample};

    #[test]
    fn appeals_and_answers_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let store = AppealStore::open(dir.path()).unwrap();
        let mut filed = sample();
        store.put(filed.clone()).unwrap();
        filed.state = AppealState::Corrected;
        filed.corrected_colour = Some("GREEN".into());
        store.put(filed.clone()).unwrap();
        // A write a crash interrupted leaves a temporary file next to the old one.
        std::fs::write(dir.path().join(APPEALS_DIR).join(".x.json.tmp-1"), b"{").unwrap();
        drop(store);

        let reopened = AppealStore::open(dir.path()).unwrap();
        assert_eq!(reopened.get(&filed.appeal_id), Some(filed));
        assert_eq!(reopened.list(|_| true).len(), 1);
    }

    #[test]
    fn an_id_that_is_not_an_appeal_id_is_never_a_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = AppealStore::open(dir.path()).unwrap();
        for id in [
            "../../escaped",
            "420000-../../x",
            "",
            "420100-0123456789abcdef",
        ] {
            let mut record = sample();
            record.appeal_id = id.to_string();
            assert!(
                matches!(store.put(record), Err(StoreError::NotAnAppealId(_))),
                "{id:?}"
            );
        }
        assert!(!dir.path().join("escaped.json").exists());
        assert!(store.list(|_| true).is_empty());
    }
}
