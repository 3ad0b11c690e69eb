//! Documents awaiting signatures in `REG/pending/`: the working files of an offline ceremony.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::doc::{Agreement, AgreementKind, Document, REGION_PREFIX, RegionDocument, Root};
use crate::envelope::{Envelope, KeySet};
use crate::error::{DocumentError, RootError, VerifyError};
use crate::registry::Registry;
use crate::store::{PENDING_DIR, StoreError, atomic_write};

/// One document in the making: its registry name and its envelope with the signatures so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingDoc {
    pub name: String,
    pub envelope: Envelope,
}

fn file_for(dir: &Path, name: &str) -> PathBuf {
    dir.join(PENDING_DIR)
        .join(format!("{}.json", name.replace('/', "--")))
}

impl PendingDoc {
    /// A new, unsigned pending document.
    pub fn new<T: Document>(doc: &T) -> Self {
        Self {
            name: doc.name(),
            envelope: crate::ceremony::envelope(doc),
        }
    }

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

/// Who must sign document `name` under `root`: (role, key set) pairs, each to its threshold.
pub fn required_signers(
    root: &Root,
    name: &str,
    env: &Envelope,
) -> Result<Vec<(String, KeySet)>, VerifyError> {
    if name == crate::doc::ROOT {
        let new: Root = crate::doc::decode(name, env)?;
        let mut out = vec![("the current root role".to_string(), root.roles.root.clone())];
        if new.roles.root != root.roles.root {
            out.push(("the new root role".to_string(), new.roles.root));
        }
        return Ok(out);
    }
    if let Some(code) = name.strip_prefix(REGION_PREFIX) {
        let d = root.delegation(code)?;
        return Ok(vec![(format!("region {code} keys"), d.keys.clone())]);
    }
    let a: Agreement = crate::doc::decode(name, env)?;
    match a.kind {
        AgreementKind::National => Ok(vec![("root role".to_string(), root.roles.root.clone())]),
        AgreementKind::Bilateral => [a.verifying, a.issuing]
            .into_iter()
            .map(|code| {
                let keys = root.delegation(&code)?.keys.clone();
                Ok((format!("region {code} keys"), keys))
            })
            .collect(),
    }
}
