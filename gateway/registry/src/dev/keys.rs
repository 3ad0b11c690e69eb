//! The dev registry's keys: generated for every role and region, saved in and read back from the
//! [`crate::keydir`] layout, and picked to sign each document of a dev publish.

use std::collections::BTreeMap;
use std::path::Path;

use super::DevError;
use crate::ceremony::PublishError;
use crate::doc::{Agreement, AgreementKind, Root};
use crate::envelope::Envelope;
use crate::keydir::{KeyDir, KeyFile, REGION_KEYS, ROOT_KEYS, WITNESS_KEYS};
use crate::keys::{Algorithm, KeyError, SigningKey};
use crate::store;

/// Every key that signs the dev registry.
#[derive(Debug)]
pub struct DevKeys {
    /// Three root keys; the root role's threshold is two.
    pub root: Vec<SigningKey>,
    pub timestamp: SigningKey,
    pub log: SigningKey,
    /// The dev node's recognition-receipt key (Ed25519).
    pub receipt: SigningKey,
    /// The dev node's audit-checkpoint key (Ed25519).
    pub audit: SigningKey,
    /// Three regional witnesses; two must cosign a checkpoint.
    pub witnesses: Vec<SigningKey>,
    /// Region code → its two keys; one signature reaches the region threshold.
    pub regions: BTreeMap<String, Vec<SigningKey>>,
}

impl DevKeys {
    pub(super) fn generate(regions: &[String]) -> Result<Self, KeyError> {
        let ed = || SigningKey::generate(Algorithm::Ed25519);
        let some = |count: usize, alg: Algorithm| {
            (0..count)
                .map(|_| SigningKey::generate(alg))
                .collect::<Result<Vec<_>, _>>()
        };
        let mut by_region = BTreeMap::new();
        for code in regions {
            // Sichuan's registry keys are P-256, so both algorithms are exercised everywhere.
            let alg = if code == "510000" {
                Algorithm::EcdsaP256
            } else {
                Algorithm::Ed25519
            };
            by_region.insert(code.clone(), some(REGION_KEYS, alg)?);
        }
        Ok(Self {
            root: some(ROOT_KEYS, Algorithm::Ed25519)?,
            timestamp: ed()?,
            log: ed()?,
            receipt: ed()?,
            audit: ed()?,
            witnesses: some(WITNESS_KEYS, Algorithm::Ed25519)?,
            regions: by_region,
        })
    }

    /// Each key with the file of the layout that holds it.
    pub fn files(&self) -> Vec<(KeyFile, &SigningKey)> {
        let mut out = Vec::new();
        for (i, k) in self.root.iter().enumerate() {
            out.push((KeyFile::Root(i + 1), k));
        }
        out.push((KeyFile::Timestamp, &self.timestamp));
        out.push((KeyFile::Log, &self.log));
        out.push((KeyFile::Receipt, &self.receipt));
        out.push((KeyFile::Audit, &self.audit));
        for (i, k) in self.witnesses.iter().enumerate() {
            out.push((KeyFile::Witness(i + 1), k));
        }
        for (code, keys) in &self.regions {
            for (i, k) in keys.iter().enumerate() {
                let code = code.clone();
                out.push((
                    KeyFile::Region {
                        code,
                        number: i + 1,
                    },
                    k,
                ));
            }
        }
        out
    }

    pub fn save(&self, reg_dir: &Path) -> Result<(), DevError> {
        let dir = KeyDir::of(reg_dir);
        for (file, key) in self.files() {
            let path = dir.path(&file);
            let pem = key.to_pem().map_err(|source| DevError::Key {
                path: path.clone(),
                source,
            })?;
            store::atomic_write(&path, pem.as_bytes(), true)?;
        }
        Ok(())
    }

    /// Reads the keys `save` wrote, for the regions `root` delegates.
    pub fn load(reg_dir: &Path, root: &Root) -> Result<Self, DevError> {
        let dir = KeyDir::of(reg_dir);
        let read_all = |file: &dyn Fn(usize) -> KeyFile, count: usize| {
            (1..=count)
                .map(|n| dir.read(&file(n)))
                .collect::<Result<Vec<_>, _>>()
        };
        let mut regions = BTreeMap::new();
        for code in root.regions.keys() {
            let region = |number| KeyFile::Region {
                code: code.clone(),
                number,
            };
            regions.insert(code.clone(), read_all(&region, REGION_KEYS)?);
        }
        Ok(Self {
            root: read_all(&KeyFile::Root, ROOT_KEYS)?,
            timestamp: dir.read(&KeyFile::Timestamp)?,
            log: dir.read(&KeyFile::Log)?,
            receipt: dir.read(&KeyFile::Receipt)?,
            audit: dir.read(&KeyFile::Audit)?,
            witnesses: read_all(&KeyFile::Witness, WITNESS_KEYS)?,
            regions,
        })
    }

    /// The keys a dev publish signs `name` with: two root keys for the root and national
    /// agreements, the first key of each region involved otherwise.
    pub fn signers_for(&self, name: &str, env: &Envelope) -> Result<Vec<&SigningKey>, DevError> {
        let first = |code: &str| {
            self.regions
                .get(code)
                .and_then(|k| k.first())
                .ok_or_else(|| DevError::Missing(format!("key of region {code}")))
        };
        if let Some(code) = name.strip_prefix(crate::doc::REGION_PREFIX) {
            return Ok(vec![first(code)?]);
        }
        if name.starts_with(crate::doc::AGREEMENT_PREFIX) {
            let a: Agreement = crate::doc::decode(name, env).map_err(PublishError::Refused)?;
            if a.kind == AgreementKind::Bilateral {
                return Ok(vec![first(&a.verifying)?, first(&a.issuing)?]);
            }
        }
        Ok(self.root.iter().take(2).collect())
    }
}
