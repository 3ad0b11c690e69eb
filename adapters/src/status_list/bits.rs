//! The status array: 2 bits per code index, laid out as the IETF Token Status List does for
//! `bits = 2` (code `i` in byte `i / 4`, at bit offset `2 * (i % 4)`, least significant first).

use sha2::{Digest, Sha256};

use super::error::FormatError;

/// Codes one list can hold: 2^26 codes is 16 MiB of bits. An issuer with more codes uses more
/// list ids (as the EU DCC gateway partitions its revocations), which also keeps each download
/// and each delta small.
pub const MAX_CODES: u32 = 1 << 26;

/// What an issuer says about one code. The fourth 2-bit value is reserved: a list carrying it is
/// refused when it arrives, so a lookup never meets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum CodeStatus {
    Valid = 0,
    /// The holder turned yellow or red, or the code was taken back: REJECT.
    Withdrawn = 1,
    /// Pending review at the issuer: REVIEW, never PASS.
    Suspended = 2,
}

impl CodeStatus {
    pub fn from_bits(value: u8) -> Option<Self> {
        match value {
            0 => Some(Self::Valid),
            1 => Some(Self::Withdrawn),
            2 => Some(Self::Suspended),
            _ => None,
        }
    }
}

/// The statuses of `count` consecutive code indices.
#[derive(Clone, PartialEq, Eq)]
pub struct StatusBits {
    count: u32,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for StatusBits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Megabytes of bits say nothing in a log line.
        write!(f, "StatusBits({} codes)", self.count)
    }
}

/// Bytes that hold `count` codes.
pub fn byte_len(count: u32) -> usize {
    (count as usize).div_ceil(4)
}

impl StatusBits {
    /// `count` codes, all valid. Counts above [`MAX_CODES`] are clamped to it.
    pub fn new(count: u32) -> Self {
        let count = count.min(MAX_CODES);
        Self {
            count,
            bytes: vec![0; byte_len(count)],
        }
    }

    /// Takes received bits, refusing the reserved value and stray padding bits: after this,
    /// every index below `count` holds a [`CodeStatus`].
    pub(crate) fn from_bytes(count: u32, bytes: Vec<u8>) -> Result<Self, FormatError> {
        if count > MAX_CODES || bytes.len() != byte_len(count) {
            return Err(FormatError::BadField {
                field: "status bits",
                detail: "length does not match the code count",
            });
        }
        if let Some(index) = first_reserved(&bytes) {
            return Err(FormatError::ReservedValue { index });
        }
        let used = count % 4;
        if used != 0 && bytes.last().is_some_and(|b| b >> (2 * used) != 0) {
            return Err(FormatError::NonCanonicalPadding);
        }
        Ok(Self { count, bytes })
    }

    /// Bits exactly as given, unchecked: for tests that must sign what a reader refuses.
    #[cfg(test)]
    pub(crate) fn from_verified_raw_for_tests(count: u32, bytes: Vec<u8>) -> Self {
        Self { count, bytes }
    }

    pub fn count(&self) -> u32 {
        self.count
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The status of code `index`, or `None` past the end. A shift and a mask: no allocation.
    #[inline]
    pub fn get(&self, index: u32) -> Option<CodeStatus> {
        if index >= self.count {
            return None;
        }
        let byte = self.bytes[(index / 4) as usize];
        // Values of 3 were refused on arrival; should one appear anyway, the caller's safe
        // reading is "suspended" (REVIEW), never "valid".
        Some(
            CodeStatus::from_bits((byte >> (2 * (index % 4))) & 0b11)
                .unwrap_or(CodeStatus::Suspended),
        )
    }

    /// Sets code `index`; `false` if the list does not reach that far.
    pub fn set(&mut self, index: u32, status: CodeStatus) -> bool {
        if index >= self.count {
            return false;
        }
        let shift = 2 * (index % 4);
        let byte = &mut self.bytes[(index / 4) as usize];
        *byte = (*byte & !(0b11 << shift)) | ((status as u8) << shift);
        true
    }

    /// The same statuses over `count` codes: new codes are valid, codes past `count` are dropped.
    pub fn resized(&self, count: u32) -> Self {
        let mut out = Self::new(count);
        let keep = out.bytes.len().min(self.bytes.len());
        out.bytes[..keep].copy_from_slice(&self.bytes[..keep]);
        let used = out.count % 4;
        if used != 0
            && let Some(last) = out.bytes.last_mut()
        {
            *last &= (1u8 << (2 * used)) - 1;
        }
        out
    }

    /// SHA-256 of the count and the bits: what the issuer signs, so the signature does not
    /// depend on how the bits were compressed or whether they arrived whole or as a delta.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"huren status bits v1\0");
        h.update(self.count.to_be_bytes());
        h.update(&self.bytes);
        h.finalize().into()
    }

    /// Indices whose status differs from `other`'s (over the longer of the two lists), with
    /// this list's status. Compares whole 64-bit words first: lists differ in few places.
    pub fn changes_from(&self, other: &StatusBits) -> Vec<(u32, CodeStatus)> {
        let mut out = Vec::new();
        let len = self.bytes.len().max(other.bytes.len());
        let byte_at = |b: &StatusBits, i: usize| b.bytes.get(i).copied().unwrap_or(0);
        let mut i = 0;
        while i < len {
            let end = (i + 8).min(len);
            let differ = (i..end).any(|j| byte_at(self, j) != byte_at(other, j));
            if differ {
                for j in i..end {
                    let (mine, theirs) = (byte_at(self, j), byte_at(other, j));
                    for slot in 0..4u32 {
                        let shift = 2 * slot;
                        if (mine >> shift) & 3 != (theirs >> shift) & 3 {
                            let index = j as u32 * 4 + slot;
                            if index < self.count {
                                out.push((
                                    index,
                                    CodeStatus::from_bits((mine >> shift) & 3)
                                        .unwrap_or(CodeStatus::Suspended),
                                ));
                            }
                        }
                    }
                }
            }
            i = end;
        }
        out
    }
}

/// The first code holding the reserved value 3 (both bits of a pair set).
fn first_reserved(bytes: &[u8]) -> Option<u32> {
    bytes.iter().enumerate().find_map(|(i, &b)| {
        let both = b & (b >> 1) & 0x55;
        (both != 0).then(|| i as u32 * 4 + both.trailing_zeros() / 2)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_is_the_ietf_two_bit_layout() {
        let mut bits = StatusBits::new(9);
        bits.set(0, CodeStatus::Withdrawn);
        bits.set(3, CodeStatus::Suspended);
        bits.set(8, CodeStatus::Withdrawn);
        assert_eq!(bits.as_bytes(), &[0b1000_0001, 0, 0b01]);
        assert_eq!(bits.get(3), Some(CodeStatus::Suspended));
        assert_eq!(bits.get(1), Some(CodeStatus::Valid));
        assert_eq!(bits.get(9), None);
        assert!(!bits.set(9, CodeStatus::Withdrawn));
    }

    #[test]
    fn the_reserved_value_is_refused_with_its_index() {
        assert_eq!(
            StatusBits::from_bytes(8, vec![0, 0b0011_0000]),
            Err(FormatError::ReservedValue { index: 6 })
        );
        assert!(StatusBits::from_bytes(8, vec![0b1010_1001, 0b0110_0100]).is_ok());
    }

    #[test]
    fn padding_past_the_last_code_must_be_zero() {
        assert_eq!(
            StatusBits::from_bytes(5, vec![0, 0b0100]),
            Err(FormatError::NonCanonicalPadding)
        );
        assert!(StatusBits::from_bytes(5, vec![0, 0b0001]).is_ok());
        assert!(StatusBits::from_bytes(5, vec![0]).is_err());
    }

    #[test]
    fn changes_list_every_difference_including_growth() {
        let mut a = StatusBits::new(100);
        a.set(7, CodeStatus::Withdrawn);
        a.set(50, CodeStatus::Suspended);
        let mut b = a.resized(130);
        b.set(7, CodeStatus::Valid);
        b.set(99, CodeStatus::Withdrawn);
        b.set(129, CodeStatus::Suspended);
        assert_eq!(
            b.changes_from(&a),
            vec![
                (7, CodeStatus::Valid),
                (99, CodeStatus::Withdrawn),
                (129, CodeStatus::Suspended)
            ]
        );
        assert!(a.changes_from(&a).is_empty());
    }

    #[test]
    fn shrinking_clears_the_dropped_codes() {
        let mut a = StatusBits::new(8);
        a.set(5, CodeStatus::Withdrawn);
        let b = a.resized(5);
        assert!(StatusBits::from_bytes(5, b.as_bytes().to_vec()).is_ok());
        assert_ne!(a.digest(), b.digest());
    }
}
