//! Documents awaiting signatures in `REG/pending/`: the working files of an offline ceremony.

use std::path::{Path, PathBuf};

use time::{Duration, OffsetDateTime};

use crate::ceremony::{PublishError, PublishKeys};
use crate::doc::{RegionDocument, Root};
use crate::error::{DocumentError, RootError};
use crate::keydir::OnlineKeys;
use crate::registry::Registry;
use crate::signers::{ThresholdError, check_thresholds};
use crate::store::{self, PENDING_DIR, StoreError, atomic_write};

pub use crate::draft::PendingDoc;

fn file_for(dir: &Path, name: &str) -> PathBuf {
    dir.join(PENDING_DIR)
        .join(format!("{}.json", name.replace('/', "--")))
}

impl PendingDoc {
    pub fn save(&self, reg_dir: &Path) -> Result<PathBuf, StoreError> {
        let path = file_for(reg_dir, &self.name);
        let bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        atomic_write(&path, &bytes, false)?;
        Ok(path)
    }

    pub fn remove(&self, reg_dir: &Path) -> Result<(), StoreError> {
        let path = file_for(reg_dir, &self.name);
        std::fs::remove_file(&path).map_err(|source| StoreError::Write { path, source })
    }

    /// Every pending document, by name.
    pub fn list(reg_dir: &Path) -> Result<Vec<PendingDoc>, StoreError> {
        let dir = reg_dir.join(PENDING_DIR);
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(source) => return Err(StoreError::Read { path: dir, source }),
        };
        for entry in entries {
            let path = entry
                .map_err(|source| StoreError::Read {
                    path: dir.clone(),
                    source,
                })?
                .path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let bytes = std::fs::read(&path).map_err(|source| StoreError::Read {
                path: path.clone(),
                source,
            })?;
            let doc: PendingDoc =
                serde_json::from_slice(&bytes).map_err(|e| StoreError::Refused {
                    path: path.clone(),
                    source: DocumentError::Unreadable(e.to_string()).into(),
                })?;
            out.push(doc);
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The pending document called `name`, if any.
    pub fn find(reg_dir: &Path, name: &str) -> Result<Option<PendingDoc>, StoreError> {
        Ok(Self::list(reg_dir)?.into_iter().find(|d| d.name == name))
    }
}

/// The region document to edit next: the pending one if a ceremony is under way (its signatures
/// are dropped by the caller when content changes), else the published one with version + 1.
pub fn region_to_edit(
    reg_dir: &Path,
    registry: &Registry,
    region: &str,
) -> Result<RegionDocument, StoreError> {
    let name = RegionDocument::document_name(region);
    let refused = |source| StoreError::Refused {
        path: reg_dir.to_path_buf(),
        source,
    };
    if let Some(p) = PendingDoc::find(reg_dir, &name)? {
        return crate::doc::decode(&name, &p.envelope).map_err(refused);
    }
    let code = huren_adapters::RegionCode::parse(region).map_err(|_| {
        refused(
            RootError::RegionNotDelegated {
                region: region.to_string(),
            }
            .into(),
        )
    })?;
    let mut doc = registry
        .region(code)
        .filter(|r| r.code == code)
        .map(|r| r.document.clone())
        .ok_or_else(|| {
            refused(
                RootError::RegionNotDelegated {
                    region: region.to_string(),
                }
                .into(),
            )
        })?;
    doc.version += 1;
    Ok(doc)
}

/// The root to edit next: the pending one if a ceremony is under way, else the published one
/// with version + 1 (its signatures are the ceremony's to collect again).
pub fn root_to_edit(reg_dir: &Path, registry: &Registry) -> Result<Root, StoreError> {
    if let Some(p) = PendingDoc::find(reg_dir, crate::doc::ROOT)? {
        return crate::doc::decode(crate::doc::ROOT, &p.envelope).map_err(|source| {
            StoreError::Refused {
                path: reg_dir.to_path_buf(),
                source,
            }
        });
    }
    let mut root = registry.root().clone();
    root.version += 1;
    Ok(root)
}

/// Why the pending documents were not published; the published registry is then unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishPendingError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Threshold(#[from] ThresholdError),
    #[error("refused; the published registry is unchanged")]
    Refused(#[source] PublishError),
}

/// Publishes every pending document of `reg_dir` over `current` once each has its thresholds:
/// new timestamp (living `lifetime`) and checkpoint signed by `keys`, `registry.json` replaced
/// atomically, the pending files removed. Returns the new registry and the documents published.
pub fn publish_all(
    reg_dir: &Path,
    current: &Registry,
    keys: &OnlineKeys,
    lifetime: Duration,
    now: OffsetDateTime,
) -> Result<(Registry, Vec<PendingDoc>), PublishPendingError> {
    let pending = PendingDoc::list(reg_dir)?;
    check_thresholds(current, &pending)?;
    let changes = pending
        .iter()
        .map(|d| (d.name.clone(), d.envelope.clone()))
        .collect();
    let witnesses: Vec<&_> = keys.witnesses.iter().collect();
    let publish_keys = PublishKeys {
        timestamp: &[&keys.timestamp],
        log: &[&keys.log],
        witnesses: &witnesses,
        timestamp_lifetime: lifetime,
    };
    let next = crate::ceremony::publish(Some(current), changes, &publish_keys, now)
        .map_err(PublishPendingError::Refused)?;
    store::save(reg_dir, &next)?;
    for doc in &pending {
        doc.remove(reg_dir)?;
    }
    Ok((next, pending))
}
