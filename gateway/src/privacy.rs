//! How a person is named across regions: the keyed `subject_ref`, the node's key file, masking.
//!
//! A resident ID number has too little entropy to hide behind a plain hash (18 characters with a
//! region prefix, a birth date and a check digit: an unkeyed SHA-256 is brute-forced in minutes).
//! So a person is referred to across regions by an HMAC-SHA256 under a secret key that never
//! leaves the node, and the key is first narrowed to the verifying region: two destinations
//! receive unrelated refs for the same person and cannot join their records.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use huren_adapters::{Person, RegionCode};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Bumped if the derivation ever changes, so old and new refs never collide silently.
const DOMAIN: &[u8] = b"huren subject_ref v1";

/// The node's secret for subject references. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SubjectKey([u8; 32]);

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
        SubjectKey(bytes)
    }

    /// A fresh key from the operating system's random source.
    pub fn generate() -> SubjectKey {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        SubjectKey(k)
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
        Ok(SubjectKey(key))
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
                f.write_all(&key.0)?;
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

/// The reference to one person that `verifying_region` may see: 64 hex characters.
///
/// The node key is first narrowed to the verifying region
/// (`k_v = HMAC(key, DOMAIN ‖ 0 ‖ verifying_region)`), then
/// `ref = HMAC(k_v, issuing_region ‖ 0 ‖ subject_handle)`. Without the key nobody can test a
/// guessed ID; with one region's refs nobody can match another region's.
pub fn subject_ref(
    key: &SubjectKey,
    verifying_region: RegionCode,
    issuing_region: RegionCode,
    subject_handle: &str,
) -> String {
    let mut narrow = SubjectKey::mac(&key.0);
    narrow.update(DOMAIN);
    narrow.update(&[0]);
    narrow.update(verifying_region.as_str().as_bytes());
    let k_v: [u8; 32] = narrow.finalize().into_bytes().into();

    let mut mac = SubjectKey::mac(&k_v);
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
        let a = subject_ref(&key(1), r("330000"), r("510000"), &h);
        assert_eq!(a, subject_ref(&key(1), r("330000"), r("510000"), &h));
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn two_destinations_cannot_join_their_refs() {
        let h = format!("id:{ID}");
        let zj = subject_ref(&key(1), r("330000"), r("510000"), &h);
        let gd = subject_ref(&key(1), r("440000"), r("510000"), &h);
        assert_ne!(zj, gd);
    }

    #[test]
    fn different_keys_give_different_refs() {
        let h = format!("id:{ID}");
        assert_ne!(
            subject_ref(&key(1), r("330000"), r("510000"), &h),
            subject_ref(&key(2), r("330000"), r("510000"), &h)
        );
    }

    #[test]
    fn the_issuing_region_is_part_of_the_ref() {
        assert_ne!(
            subject_ref(&key(1), r("330000"), r("510000"), "handle:abc"),
            subject_ref(&key(1), r("330000"), r("410000"), "handle:abc")
        );
    }

    #[test]
    fn an_unkeyed_hash_of_the_id_is_never_the_ref() {
        let reference = subject_ref(&key(1), r("330000"), r("510000"), &format!("id:{ID}"));
        for candidate in [ID.to_string(), format!("id:{ID}")] {
            let plain = hex::encode(Sha256::digest(candidate.as_bytes()));
            assert_ne!(plain, reference);
        }
        // Nor an HMAC under the raw node key, i.e. without the per-destination narrowing.
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
