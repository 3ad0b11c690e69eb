//! How a person is named across regions: the keyed `subject_ref`, the node's key file, masking.
//!
//! A resident ID number has too little entropy to hide behind a plain hash (18 characters with a
//! region prefix, a birth date and a check digit: an unkeyed SHA-256 is brute-forced in minutes).
//! So a person is referred to across regions by an HMAC-SHA256 under a secret key that never
//! leaves the node, and the key is first narrowed to the pair (verifying region, calling
//! province).
//!
//! # What a ref links, and what it does not
//!
//! - **The same caller under the same rules always gets the same ref** for one person, so a
//!   province can de-duplicate its own records across calls, batches and restarts (as long as
//!   the node keeps `subject.key`).
//! - **Two different callers never get the same ref** for one person (barring an HMAC-SHA256
//!   collision), even when both name the same verifying region: Sichuan asking under Zhejiang's
//!   rules receives a ref unrelated to the one Zhejiang's own caller receives, so naming another
//!   region's rules does not let a province compute that region's refs and join its records.
//! - Nobody without the node key can test a guessed ID against a ref.
//!
//! The narrowed key of each pair is derived once and cached (see [`SubjectKey`]), so a call
//! costs one HMAC over the subject, as before.

use std::collections::HashMap;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use hmac::{Hmac, Mac};
use huren_adapters::{Person, RegionCode};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Bumped if the derivation ever changes, so old and new refs never collide silently. v1 was
/// keyed on the verifying region alone, which let any province compute another's refs.
const DOMAIN: &[u8] = b"huren subject_ref v2";

/// Most (verifying region, calling province) pairs whose narrowed key is kept. Both are
/// provinces, so a node sees at most a few thousand pairs; past the cap a key is derived per
/// call instead of growing the cache without bound.
const MAX_CACHED_PAIRS: usize = 4096;

/// The node's secret for subject references, with the keys it derived per caller pair.
/// `Debug` never shows it; clones share the cache.
#[derive(Clone)]
pub struct SubjectKey {
    key: [u8; 32],
    /// HMAC state already keyed with each pair's narrowed key: a ref is then one HMAC update.
    pairs: Arc<RwLock<HashMap<(RegionCode, RegionCode), HmacSha256>>>,
}

impl PartialEq for SubjectKey {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for SubjectKey {}

impl std::fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SubjectKey(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("subject key {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("subject key {path} holds {len} bytes; it must be exactly 32")]
    Length { path: PathBuf, len: usize },
    #[error(
        "subject key {path} is readable by group or others (mode {mode:o}); run `chmod 600` on it"
    )]
    Permissions { path: PathBuf, mode: u32 },
}

impl SubjectKey {
    pub fn from_bytes(bytes: [u8; 32]) -> SubjectKey {
        SubjectKey {
            key: bytes,
            pairs: Arc::default(),
        }
    }

    /// A fresh key from the operating system's random source.
    pub fn generate() -> SubjectKey {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        SubjectKey::from_bytes(k)
    }

    /// Reads a 32-byte key file, refusing one that group or others may read.
    pub fn load(path: &Path) -> Result<SubjectKey, KeyFileError> {
        let io = |source| KeyFileError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mode = std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyFileError::Permissions {
                path: path.to_path_buf(),
                mode,
            });
        }
        let bytes = std::fs::read(path).map_err(io)?;
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| KeyFileError::Length {
                path: path.to_path_buf(),
                len: bytes.len(),
            })?;
        Ok(SubjectKey::from_bytes(key))
    }

    /// Loads the key at `path`, or creates it (mode 0600) if there is none. The new key is
    /// written to a temporary file and hard-linked into place, so a crash never leaves a short
    /// key and two processes starting together end up with the same key.
    pub fn load_or_generate(path: &Path) -> Result<SubjectKey, KeyFileError> {
        match std::fs::symlink_metadata(path) {
            Ok(_) => return SubjectKey::load(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(KeyFileError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
        let key = SubjectKey::generate();
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |source| KeyFileError::Io { path: p, source }
        };
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .and_then(|mut f| {
                f.write_all(&key.key)?;
                f.sync_all()
            });
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(io(&tmp)(e));
        }
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::File::open(dir)
                        .and_then(|d| d.sync_all())
                        .map_err(io(dir))?;
                }
                Ok(key)
            }
            // Another process won the race: use its key.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => SubjectKey::load(path),
            Err(e) => Err(io(path)(e)),
        }
    }

    /// HMAC-SHA256 under this key. HMAC zero-pads a key shorter than the 64-byte block, so the
    /// padded key gives exactly HMAC(key, ·) without a fallible length check.
    fn mac(key: &[u8; 32]) -> HmacSha256 {
        let mut block = [0u8; 64];
        block[..32].copy_from_slice(key);
        <HmacSha256 as hmac::digest::KeyInit>::new(&block.into())
    }

    /// The key for refs that `calling` receives under `verifying`'s rules, in the shape of
    /// HKDF-Expand with the node key as PRK: `HMAC(key, DOMAIN ‖ 0 ‖ verifying ‖ 0 ‖ calling ‖ 1)`.
    /// Region codes are six digits and separated, so no two pairs share an input.
    fn derive_pair(&self, verifying: RegionCode, calling: RegionCode) -> [u8; 32] {
        let mut expand = SubjectKey::mac(&self.key);
        expand.update(DOMAIN);
        expand.update(&[0]);
        expand.update(verifying.as_str().as_bytes());
        expand.update(&[0]);
        expand.update(calling.as_str().as_bytes());
        expand.update(&[1]);
        expand.finalize().into_bytes().into()
    }

    /// A keyed HMAC for the pair, from the cache or derived (and cached while there is room).
    fn pair_mac(&self, verifying: RegionCode, calling: RegionCode) -> HmacSha256 {
        // A poisoned lock only means another thread panicked mid-insert; the map is still a
        // valid cache of correct keys, so it is used as is.
        let cached = self
            .pairs
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(verifying, calling))
            .cloned();
        if let Some(mac) = cached {
            return mac;
        }
        let mac = SubjectKey::mac(&self.derive_pair(verifying, calling));
        let mut pairs = self.pairs.write().unwrap_or_else(|p| p.into_inner());
        if pairs.len() < MAX_CACHED_PAIRS {
            pairs.insert((verifying, calling), mac.clone());
        }
        mac
    }
}

/// The handle a subject_ref is keyed on: the resident ID when the code carries it, else the
/// issuing region's own stable handle. Prefixed so the two namespaces never collide.
pub fn subject_handle(person: &Person) -> Option<String> {
    match (&person.id, &person.region_handle) {
        (Some(id), _) => Some(format!("id:{}", id.expose())),
        (None, Some(h)) => Some(format!("handle:{h}")),
        (None, None) => None,
    }
}

/// The reference to one person that the `calling` province receives under `verifying_region`'s
/// rules: 64 hex characters.
///
/// The node key is first narrowed to the pair ([`SubjectKey::derive_pair`], cached), then
/// `ref = HMAC(k_pair, issuing_region ‖ 0 ‖ subject_handle)`. Without the key nobody can test a
/// guessed ID; with one caller's refs nobody can match another caller's, even under the same
/// verifying region.
pub fn subject_ref(
    key: &SubjectKey,
    verifying_region: RegionCode,
    calling: RegionCode,
    issuing_region: RegionCode,
    subject_handle: &str,
) -> String {
    let mut mac = key.pair_mac(verifying_region, calling);
    mac.update(issuing_region.as_str().as_bytes());
    mac.update(&[0]);
    mac.update(subject_handle.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Two-character surnames, so that 欧阳娜娜 masks to 欧阳* and not to 欧*.
const COMPOUND_SURNAMES: [&str; 20] = [
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "尉迟", "长孙", "宇文", "司徒",
    "夏侯", "公孙", "轩辕", "端木", "独孤", "南宫", "西门", "百里",
];

/// Surname + `*`: 张三 → 张*, 欧阳娜娜 → 欧阳*, "Zhang San" → "Zhang *".
pub fn mask_name(name: &str) -> String {
    let name = name.trim();
    if name.contains(' ') {
        let first = name.split(' ').next().unwrap_or_default();
        return format!("{first} *");
    }
    let chars = name.chars().count();
    if chars >= 3
        && let Some(s) = COMPOUND_SURNAMES.iter().find(|s| name.starts_with(*s))
    {
        return format!("{s}*");
    }
    match name.chars().next() {
        Some(first) => format!("{first}*"),
        None => "*".to_string(),
    }
}

/// First 2 and last 2 characters, the rest `*`: 11010519491231002X → 11**************2X.
/// Anything of 4 characters or fewer is masked entirely, since it would otherwise show in full.
pub fn mask_id(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    let n = chars.len();
    if n <= 4 {
        return "*".repeat(n.max(1));
    }
    let mut out: String = chars[..2].iter().collect();
    out.push_str(&"*".repeat(n - 4));
    out.extend(&chars[n - 2..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    const ID: &str = "11010519491231002X";

    fn r(code: &str) -> RegionCode {
        RegionCode::parse(code).unwrap()
    }

    fn key(byte: u8) -> SubjectKey {
        SubjectKey::from_bytes([byte; 32])
    }

    #[test]
    fn the_same_person_gets_the_same_ref_at_the_same_destination() {
        let h = format!("id:{ID}");
        let a = subject_ref(&key(1), r("330000"), r("330000"), r("510000"), &h);
        assert_eq!(
            a,
            subject_ref(&key(1), r("330000"), r("330000"), r("510000"), &h)
        );
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn two_destinations_cannot_join_their_refs() {
        let h = format!("id:{ID}");
        let zj = subject_ref(&key(1), r("330000"), r("330000"), r("510000"), &h);
        let gd = subject_ref(&key(1), r("440000"), r("440000"), r("510000"), &h);
        assert_ne!(zj, gd);
    }

    #[test]
    fn two_callers_under_the_same_rules_cannot_join_their_refs() {
        let h = format!("id:{ID}");
        let zj = r("330000");
        let own = subject_ref(&key(1), zj, zj, r("510000"), &h);
        let sichuan = subject_ref(&key(1), zj, r("510000"), r("510000"), &h);
        let henan = subject_ref(&key(1), zj, r("410000"), r("510000"), &h);
        assert_ne!(own, sichuan);
        assert_ne!(own, henan);
        assert_ne!(sichuan, henan);
        // Nor does a caller's own region line up with the rules it names.
        assert_ne!(
            subject_ref(&key(1), r("510000"), zj, r("510000"), &h),
            sichuan
        );
    }

    #[test]
    fn a_cached_pair_key_gives_the_ref_a_fresh_key_gives() {
        let h = "handle:abc";
        let warm = key(3);
        let first = subject_ref(&warm, r("330000"), r("510000"), r("410000"), h);
        let again = subject_ref(&warm.clone(), r("330000"), r("510000"), r("410000"), h);
        let cold = subject_ref(&key(3), r("330000"), r("510000"), r("410000"), h);
        assert_eq!(first, again);
        assert_eq!(first, cold);
        assert_eq!(warm.pairs.read().unwrap().len(), 1);
    }

    #[test]
    fn different_keys_give_different_refs() {
        let h = format!("id:{ID}");
        assert_ne!(
            subject_ref(&key(1), r("330000"), r("330000"), r("510000"), &h),
            subject_ref(&key(2), r("330000"), r("330000"), r("510000"), &h)
        );
    }

    #[test]
    fn the_issuing_region_is_part_of_the_ref() {
        assert_ne!(
            subject_ref(&key(1), r("330000"), r("330000"), r("510000"), "handle:abc"),
            subject_ref(&key(1), r("330000"), r("330000"), r("410000"), "handle:abc")
        );
    }

    #[test]
    fn an_unkeyed_hash_of_the_id_is_never_the_ref() {
        let reference = subject_ref(
            &key(1),
            r("330000"),
            r("330000"),
            r("510000"),
            &format!("id:{ID}"),
        );
        for candidate in [ID.to_string(), format!("id:{ID}")] {
            let plain = hex::encode(Sha256::digest(candidate.as_bytes()));
            assert_ne!(plain, reference);
        }
        // Nor an HMAC under the raw node key, i.e. without the per-pair narrowing.
        let mut direct = SubjectKey::mac(&[1; 32]);
        direct.update(format!("510000\0id:{ID}").as_bytes());
        assert_ne!(hex::encode(direct.finalize().into_bytes()), reference);
    }

    #[test]
    fn the_padded_key_is_the_standard_hmac() {
        let k = [7u8; 32];
        let mut ours = SubjectKey::mac(&k);
        ours.update(b"msg");
        let mut std_mac = <HmacSha256 as Mac>::new_from_slice(&k).unwrap();
        std_mac.update(b"msg");
        assert_eq!(
            ours.finalize().into_bytes(),
            std_mac.finalize().into_bytes()
        );
    }

    #[test]
    fn a_person_is_keyed_on_the_id_first_then_the_region_handle() {
        let mut p = Person {
            id: Some(huren_adapters::ResidentId::parse(ID).unwrap()),
            name: "张三".into(),
            region_handle: Some("sc-123".into()),
        };
        assert_eq!(subject_handle(&p).as_deref(), Some("id:11010519491231002X"));
        p.id = None;
        assert_eq!(subject_handle(&p).as_deref(), Some("handle:sc-123"));
        p.region_handle = None;
        assert_eq!(subject_handle(&p), None);
    }

    #[test]
    fn a_generated_key_file_is_private_and_loads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("subject.key");
        let made = SubjectKey::load_or_generate(&path).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(meta.len(), 32);
        assert_eq!(SubjectKey::load_or_generate(&path).unwrap(), made);
        assert_ne!(made, SubjectKey::generate());
        assert_eq!(format!("{made:?}"), "SubjectKey(..)");
    }

    #[test]
    fn a_key_file_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("subject.key");
        std::fs::write(&path, [9u8; 32]).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            SubjectKey::load(&path),
            Err(KeyFileError::Permissions { mode: 0o644, .. })
        ));
    }

    #[test]
    fn a_short_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("subject.key");
        std::fs::write(&path, [9u8; 31]).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(matches!(
            SubjectKey::load(&path),
            Err(KeyFileError::Length { len: 31, .. })
        ));
    }

    #[test]
    fn names_mask_to_the_surname() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧阳*");
        assert_eq!(mask_name("欧阳"), "欧*");
        assert_eq!(mask_name("Zhang San"), "Zhang *");
        assert_eq!(mask_name(""), "*");
    }

    #[test]
    fn ids_mask_to_first_two_and_last_two() {
        assert_eq!(mask_id(ID), "11**************2X");
        assert_eq!(mask_id("abcd"), "****");
        assert_eq!(mask_id("abcde"), "ab*de");
    }
}
