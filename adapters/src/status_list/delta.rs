//! A delta from one held list to the issuer's next: the changed codes and their new statuses,
//! carried with the next list's signed header, so applying it either yields exactly the list the
//! issuer signed or is refused.
//!
//! ```text
//! "HRSD" | version 1 | u64 from sequence | from digest (32) | header of the target | signature
//!        | u32 change count | u32 length | zlib(entries)
//! entry  = LEB128 of (gap << 2 | status), gap = index - previous index - 1 (the first: index)
//! ```
//!
//! Only the target header is signed, and that is enough: the result is checked against the
//! target's signed digest, so a delta that is corrupt, forged, or applied to the wrong base
//! cannot produce a list that is not the issuer's. Gaps keep entries at 1-4 bytes before
//! compression; sorting makes one delta one encoding.

use super::bits::CodeStatus;
use super::compress::{deflate, inflate_bounded};
use super::error::{FormatError, Refusal, StatusListError};
use super::header::ListHeader;
use super::reader::Reader;
use super::signed::{SIGNATURE_LEN, StatusList, VERSION, verify_header};
use crate::trust::TrustView;

pub const DELTA_MAGIC: &[u8; 4] = b"HRSD";
/// Most changes one delta carries. The change count is not signed (only the result is), so it
/// bounds what a replayed header with a forged body can make a node allocate: about 4 MiB of
/// entries. An issuer with more changes publishes the whole list, which is then about as small.
pub const MAX_DELTA_CHANGES: u32 = 1 << 20;
/// Longest LEB128 entry: a gap below 2^26 shifted by two fits in 28 bits, 4 bytes.
const MAX_ENTRY_LEN: usize = 4;

/// A delta whose target header carries a verified issuer signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusDelta {
    from_sequence: u64,
    from_digest: [u8; 32],
    target: ListHeader,
    signature: [u8; SIGNATURE_LEN],
    changes: Vec<(u32, CodeStatus)>,
}

impl StatusDelta {
    /// What turns `from` into `to`; `None` if they are not two versions of one list, in order,
    /// or differ in more than [`MAX_DELTA_CHANGES`] codes (send `to` whole).
    pub fn between(from: &StatusList, to: &StatusList) -> Option<Self> {
        let (f, t) = (from.header(), to.header());
        if !same_list(f, t) || t.sequence <= f.sequence {
            return None;
        }
        let changes = to.bits().changes_from(from.bits());
        if changes.len() > MAX_DELTA_CHANGES as usize {
            return None;
        }
        Some(Self {
            from_sequence: f.sequence,
            from_digest: f.digest,
            target: t.clone(),
            signature: *to.signature(),
            changes,
        })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut entries = Vec::with_capacity(self.changes.len() * 3);
        let mut next = 0u32;
        for &(index, status) in &self.changes {
            let gap = u64::from(index - next);
            write_leb128(&mut entries, (gap << 2) | status as u64);
            next = index + 1;
        }
        let compressed = deflate(&entries);
        let mut out = Vec::with_capacity(compressed.len() + 250);
        out.extend_from_slice(DELTA_MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&self.from_sequence.to_be_bytes());
        out.extend_from_slice(&self.from_digest);
        self.target.write(&mut out);
        out.extend_from_slice(&self.signature);
        out.extend_from_slice(&(self.changes.len() as u32).to_be_bytes());
        out.extend_from_slice(&(compressed.len() as u32).to_be_bytes());
        out.extend_from_slice(&compressed);
        out
    }

    /// Parses and checks the target's signature under the registry, as for a whole list.
    pub fn open(bytes: &[u8], trust: &dyn TrustView) -> Result<Self, StatusListError> {
        let mut r = Reader::new(bytes);
        r.preamble(DELTA_MAGIC, VERSION)?;
        let from_sequence = r.u64("from sequence")?;
        let from_digest = r.array("from digest")?;
        let target = ListHeader::read(&mut r)?;
        let signature = r.array::<SIGNATURE_LEN>("signature")?;
        let count = r.u32("change count")?;
        if count > target.count.min(MAX_DELTA_CHANGES) {
            return Err(bad("change count", "more changes than a delta may carry").into());
        }
        let max_entries = count as usize * MAX_ENTRY_LEN;
        let compressed = r.sized(max_entries + 1024, "compressed entries")?;
        r.finish()?;
        if from_sequence >= target.sequence {
            return Err(bad("from sequence", "not before the target's").into());
        }
        verify_header(&target, &signature, trust)?;
        let entries = inflate_bounded(compressed, max_entries)?;
        let changes = read_entries(&entries, count, target.count)?;
        Ok(Self {
            from_sequence,
            from_digest,
            target,
            signature,
            changes,
        })
    }

    /// The target list, built from `base`: refused unless `base` is the version the delta starts
    /// from and the result has exactly the digest the issuer signed.
    pub fn apply(&self, base: &StatusList) -> Result<StatusList, StatusListError> {
        let held = base.header();
        if !same_list(held, &self.target) {
            return Err(Refusal::DeltaWrongList.into());
        }
        if held.sequence != self.from_sequence || held.digest != self.from_digest {
            return Err(Refusal::DeltaBaseMismatch {
                from: self.from_sequence,
                held: Some(held.sequence),
            }
            .into());
        }
        let mut bits = base.bits().resized(self.target.count);
        for &(index, status) in &self.changes {
            // Indices were checked against the target count when the delta was read.
            bits.set(index, status);
        }
        if bits.digest() != self.target.digest {
            return Err(FormatError::DigestMismatch.into());
        }
        Ok(StatusList::from_verified_parts(
            self.target.clone(),
            self.signature,
            bits,
        ))
    }

    /// Forgets one change, as a corrupt or malicious delta would.
    #[cfg(test)]
    pub(crate) fn drop_change_for_tests(&mut self) {
        self.changes.pop();
    }

    pub fn target(&self) -> &ListHeader {
        &self.target
    }

    pub fn from_sequence(&self) -> u64 {
        self.from_sequence
    }

    pub fn changes(&self) -> &[(u32, CodeStatus)] {
        &self.changes
    }
}

fn same_list(a: &ListHeader, b: &ListHeader) -> bool {
    a.region == b.region && a.issuer == b.issuer && a.list_id == b.list_id
}

fn write_leb128(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Exactly `count` entries, each index below `codes`, the reserved value refused, no bytes left.
fn read_entries(
    mut bytes: &[u8],
    count: u32,
    codes: u32,
) -> Result<Vec<(u32, CodeStatus)>, FormatError> {
    // Every entry takes at least one byte: a count the bytes cannot hold is refused before
    // anything is reserved for it.
    if count as usize > bytes.len() {
        return Err(FormatError::Truncated("delta entries"));
    }
    let mut out = Vec::with_capacity(count as usize);
    let mut next = 0u64;
    for _ in 0..count {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let (&byte, rest) = bytes
                .split_first()
                .ok_or(FormatError::Truncated("delta entry"))?;
            bytes = rest;
            if shift >= 7 * MAX_ENTRY_LEN as u32 {
                return Err(bad("delta entry", "too long"));
            }
            v |= u64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                break;
            }
        }
        let index = next + (v >> 2);
        let status = CodeStatus::from_bits((v & 3) as u8).ok_or(FormatError::ReservedValue {
            index: index.min(u64::from(u32::MAX)) as u32,
        })?;
        if index >= u64::from(codes) {
            return Err(bad("delta entry", "index past the list's end"));
        }
        out.push((index as u32, status));
        next = index + 1;
    }
    if !bytes.is_empty() {
        return Err(FormatError::TrailingBytes(bytes.len()));
    }
    Ok(out)
}

fn bad(field: &'static str, detail: &'static str) -> FormatError {
    FormatError::BadField { field, detail }
}
