//! A bounds-checked cursor over received bytes: every read either succeeds or says what was missing.

use super::error::FormatError;

pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    /// The four-byte magic of a list or delta and the one version this code reads.
    pub(crate) fn preamble(&mut self, magic: &[u8; 4], version: u8) -> Result<(), FormatError> {
        if self.take(4, "magic")? != magic {
            return Err(FormatError::WrongMagic);
        }
        match self.u8("version")? {
            v if v == version => Ok(()),
            v => Err(FormatError::UnsupportedVersion(v)),
        }
    }

    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], FormatError> {
        if self.bytes.len() < n {
            return Err(FormatError::Truncated(what));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    pub(crate) fn array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<[u8; N], FormatError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, FormatError> {
        Ok(self.array::<1>(what)?[0])
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, FormatError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64, FormatError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    pub(crate) fn i64(&mut self, what: &'static str) -> Result<i64, FormatError> {
        Ok(i64::from_be_bytes(self.array(what)?))
    }

    /// A `u32` length followed by that many bytes, at most `max`.
    pub(crate) fn sized(
        &mut self,
        max: usize,
        what: &'static str,
    ) -> Result<&'a [u8], FormatError> {
        let len = self.u32(what)? as usize;
        if len > max {
            return Err(FormatError::BadField {
                field: what,
                detail: "longer than allowed",
            });
        }
        self.take(len, what)
    }

    /// Refuses anything left over, so that one list has exactly one encoding.
    pub(crate) fn finish(self) -> Result<(), FormatError> {
        match self.bytes.len() {
            0 => Ok(()),
            n => Err(FormatError::TrailingBytes(n)),
        }
    }
}
