//! One audit record: the fields a decision is logged with, and its hash-chained line on disk.
//!
//! A line is `<sha256 of body, 64 hex> <body JSON>\n`. The body carries `prev`, the hash of
//! the previous record, so changing any byte of a record breaks either its own hash or the
//! next record's `prev`.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::encode::EncodeError;

/// Longest accepted free-text field (caller, method, purpose), in bytes.
pub const MAX_TEXT_BYTES: usize = 512;
/// Longest encoded line; bounds the size of a batch and thus of a torn tail.
pub const MAX_LINE_BYTES: usize = 4096;

/// SHA-256 of a record's body; the chain link.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainHash(pub [u8; 32]);

impl ChainHash {
    /// What the first record of a log names as its predecessor.
    pub const GENESIS: ChainHash = ChainHash([0; 32]);

    pub fn of(body: &[u8]) -> ChainHash {
        ChainHash(Sha256::digest(body).into())
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Option<ChainHash> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(ChainHash(out))
    }
}

impl fmt::Display for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainHash({})", self.to_hex())
    }
}

impl Serialize for ChainHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for ChainHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ChainHash::from_hex(&s)
            .ok_or_else(|| serde::de::Error::custom("a chain hash is 64 hex characters"))
    }
}

/// What the gateway logs about one per-person decision. There is no field for an ID number:
/// the person is only ever the keyed `subject_ref`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// The caller's SPIFFE id, e.g. `spiffe://huren.dev/region/330110/role/checkpoint/gate-1`.
    pub caller: String,
    /// The gRPC method, e.g. `/huren.v1.Recognition/VerifyCode`.
    pub method: String,
    /// Why the caller asked, as the caller stated it.
    pub purpose: String,
    /// Six-digit GB/T 2260 code of the region that issued the code.
    pub issuing_region: String,
    /// Keyed reference to the person for the verifying region (never a raw or hashed ID).
    pub subject_ref: String,
    /// The verdict that went out, e.g. `PASS`, `REVIEW`.
    pub verdict: String,
    /// Registry version the decision was made under.
    pub registry_version: u64,
}

/// Why an entry is not accepted into the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("{field} is longer than {max} bytes")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} is empty")]
    Empty { field: &'static str },
    #[error("issuing_region {0:?} is not six digits")]
    Region(String),
    #[error(
        "subject_ref may only hold ASCII letters, digits, '_', '-', ':' (it is a keyed reference)"
    )]
    SubjectRef,
    #[error("verdict {0:?} must be upper-case letters and '_'")]
    Verdict(String),
}

impl Entry {
    /// Checks the fields and masks anything in the free-text fields that is shaped like a resident
    /// ID number (17 digits and a valid check character): the purpose is typed by people, and an
    /// ID number in the audit log would outlive every other copy of it.
    pub fn sanitised(mut self) -> Result<Entry, EntryError> {
        for (field, value) in [
            ("caller", &mut self.caller),
            ("method", &mut self.method),
            ("purpose", &mut self.purpose),
        ] {
            if value.len() > MAX_TEXT_BYTES {
                return Err(EntryError::TooLong {
                    field,
                    max: MAX_TEXT_BYTES,
                });
            }
            mask_resident_ids(value);
        }
        for (field, value) in [("caller", &self.caller), ("method", &self.method)] {
            if value.is_empty() {
                return Err(EntryError::Empty { field });
            }
        }
        let r = self.issuing_region.as_bytes();
        if r.len() != 6 || !r.iter().all(u8::is_ascii_digit) {
            return Err(EntryError::Region(self.issuing_region));
        }
        if self.subject_ref.is_empty()
            || self.subject_ref.len() > 128
            || !self
                .subject_ref
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':'))
        {
            return Err(EntryError::SubjectRef);
        }
        if self.verdict.is_empty()
            || self.verdict.len() > 32
            || !self
                .verdict
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b == b'_')
        {
            return Err(EntryError::Verdict(self.verdict));
        }
        Ok(self)
    }
}

/// Replaces the middle 14 characters of every resident-ID-shaped run with `*`.
fn mask_resident_ids(text: &mut String) {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let mut bytes = std::mem::take(text).into_bytes();
    let mut i = 0;
    while i + 18 <= bytes.len() {
        let w = &bytes[i..i + 18];
        let digits = w[..17].iter().all(u8::is_ascii_digit);
        let id_like = digits && {
            let sum: u32 = w[..17]
                .iter()
                .zip(WEIGHTS)
                .map(|(d, k)| u32::from(d - b'0') * k)
                .sum();
            b"10X98765432"[(sum % 11) as usize] == w[17].to_ascii_uppercase()
        };
        if id_like {
            bytes[i + 2..i + 16].fill(b'*');
            i += 18;
        } else {
            i += 1;
        }
    }
    // Only ASCII digits were replaced by an ASCII byte, so the text is still UTF-8.
    *text = String::from_utf8(bytes).unwrap_or_default();
}

/// An entry as it sits in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Position in the log, from 1, without gaps.
    pub seq: u64,
    /// Hash of the record before this one; [`ChainHash::GENESIS`] for seq 1.
    pub prev: ChainHash,
    #[serde(flatten)]
    pub entry: Entry,
}

/// Why a line does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("not `<64 hex hash> <json>`")]
    Framing,
    #[error("stored hash {stored} but the body hashes to {computed}: the record was altered")]
    BadHash {
        stored: ChainHash,
        computed: ChainHash,
    },
    #[error("body is not a valid record: {0}")]
    Body(String),
}

impl Record {
    /// The line to append (with its trailing newline) and this record's hash.
    pub fn encode(&self) -> Result<(Vec<u8>, ChainHash), EncodeError> {
        let mut line = Vec::with_capacity(512);
        let hash = crate::encode::encode_into(self, &mut line)?;
        Ok((line, hash))
    }

    /// Decodes one line without its newline and checks it against its own hash.
    pub fn decode(line: &[u8]) -> Result<(Record, ChainHash), LineError> {
        if line.len() < 66 || line[64] != b' ' {
            return Err(LineError::Framing);
        }
        let stored = std::str::from_utf8(&line[..64])
            .ok()
            .and_then(ChainHash::from_hex)
            .ok_or(LineError::Framing)?;
        let body = &line[65..];
        let computed = ChainHash::of(body);
        if stored != computed {
            return Err(LineError::BadHash { stored, computed });
        }
        let record: Record =
            serde_json::from_slice(body).map_err(|e| LineError::Body(e.to_string()))?;
        Ok((record, computed))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn entry() -> Entry {
        Entry {
            time: time::macros::datetime!(2020-02-17 08:00 UTC),
            caller: "spiffe://huren.dev/region/330110/role/checkpoint/gate-1".into(),
            method: "/huren.v1.Recognition/VerifyCode".into(),
            purpose: "road checkpoint".into(),
            issuing_region: "510000".into(),
            subject_ref: "a".repeat(64),
            verdict: "PASS".into(),
            registry_version: 7,
        }
    }

    #[test]
    fn a_line_round_trips_and_names_its_hash() {
        let record = Record {
            seq: 1,
            prev: ChainHash::GENESIS,
            entry: entry(),
        };
        let (line, hash) = record.encode().unwrap();
        assert_eq!(line.last(), Some(&b'\n'));
        let (back, h2) = Record::decode(&line[..line.len() - 1]).unwrap();
        assert_eq!(back, record);
        assert_eq!(h2, hash);
    }

    #[test]
    fn a_changed_byte_is_a_bad_hash() {
        let record = Record {
            seq: 1,
            prev: ChainHash::GENESIS,
            entry: entry(),
        };
        let (mut line, _) = record.encode().unwrap();
        let pos = line.len() - 10;
        line[pos] ^= 1;
        assert!(matches!(
            Record::decode(&line[..line.len() - 1]),
            Err(LineError::BadHash { .. })
        ));
    }

    #[test]
    fn a_resident_id_typed_into_the_purpose_is_masked() {
        let mut e = entry();
        e.purpose = "checked 11010519491231002X at gate".into();
        let e = e.sanitised().unwrap();
        assert_eq!(e.purpose, "checked 11**************2X at gate");
        assert!(!e.purpose.contains("0519491231"));
    }

    #[test]
    fn eighteen_digits_with_a_wrong_check_digit_are_left_alone() {
        let mut e = entry();
        e.purpose = "ticket 110105194912310021".into();
        assert_eq!(e.sanitised().unwrap().purpose, "ticket 110105194912310021");
    }

    #[test]
    fn a_subject_ref_that_is_not_a_token_is_refused() {
        let mut e = entry();
        e.subject_ref = "张三 11010519491231002X".into();
        assert_eq!(e.sanitised(), Err(EntryError::SubjectRef));
    }
}
