//! The signed part of a status list: who issued it, which list, which version, for how long, and
//! the digest of its bits; and the domain-separated message the issuer signs over it.

use time::OffsetDateTime;

use super::error::FormatError;
use super::reader::Reader;
use crate::model::RegionCode;

/// Prefixes every signed list header, so a list signature can never be taken for a code's (codes
/// sign their printable payload, which starts with a format prefix such as `HBJKM1.`) nor a code
/// signature for a list's.
pub const SIGNING_DOMAIN: &[u8] = b"huren status list v1\0";

/// Longest issuer id a list may name; registry ids are short (`gd-2020-01`).
const MAX_ISSUER_LEN: usize = 64;

/// Everything the issuer's signature covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListHeader {
    /// The issuing region: the registry is asked for `issuer`'s key in this region.
    pub region: RegionCode,
    /// The issuer id as the registry lists it, the same id the issuer's codes carry.
    pub issuer: String,
    /// Which of the issuer's lists: an issuer with more than [`super::MAX_CODES`] codes, or one
    /// that starts a list per period, uses several.
    pub list_id: u32,
    /// Strictly increasing per (region, issuer, list id): a node never goes back.
    pub sequence: u64,
    pub issued_at: OffsetDateTime,
    /// After this the list is not trusted at all, even if nothing newer arrived.
    pub expires_at: OffsetDateTime,
    /// Codes the list covers: indices `0..count`.
    pub count: u32,
    /// [`super::StatusBits::digest`] of the bits.
    pub digest: [u8; 32],
}

impl ListHeader {
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.region.as_str().as_bytes());
        // Issuer ids are checked to be at most 64 bytes when read and when signed.
        out.push(self.issuer.len().min(MAX_ISSUER_LEN) as u8);
        out.extend_from_slice(&self.issuer.as_bytes()[..self.issuer.len().min(MAX_ISSUER_LEN)]);
        out.extend_from_slice(&self.list_id.to_be_bytes());
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.issued_at.unix_timestamp().to_be_bytes());
        out.extend_from_slice(&self.expires_at.unix_timestamp().to_be_bytes());
        out.extend_from_slice(&self.count.to_be_bytes());
        out.extend_from_slice(&self.digest);
    }

    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, FormatError> {
        let region = std::str::from_utf8(r.take(6, "region")?)
            .ok()
            .and_then(|s| RegionCode::parse(s).ok())
            .ok_or(FormatError::BadField {
                field: "region",
                detail: "not six ASCII digits",
            })?;
        let issuer_len = r.u8("issuer length")? as usize;
        let issuer = std::str::from_utf8(r.take(issuer_len, "issuer")?)
            .map_err(|_| bad("issuer", "not UTF-8"))?
            .to_string();
        check_issuer(&issuer)?;
        let list_id = r.u32("list id")?;
        let sequence = r.u64("sequence")?;
        let issued_at = time(r.i64("issued-at")?, "issued-at")?;
        let expires_at = time(r.i64("expires-at")?, "expires-at")?;
        let count = r.u32("code count")?;
        let digest = r.array("digest")?;
        if expires_at <= issued_at {
            return Err(bad("expires-at", "not after issued-at"));
        }
        if count > super::MAX_CODES {
            return Err(bad("code count", "more codes than one list may hold"));
        }
        Ok(Self {
            region,
            issuer,
            list_id,
            sequence,
            issued_at,
            expires_at,
            count,
            digest,
        })
    }

    /// The exact bytes the issuer signs.
    pub fn signed_message(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(SIGNING_DOMAIN.len() + 128);
        out.extend_from_slice(SIGNING_DOMAIN);
        self.write(&mut out);
        out
    }

    /// Refuses headers a reader would refuse, before anything is signed.
    pub(crate) fn check(&self) -> Result<(), FormatError> {
        check_issuer(&self.issuer)?;
        if self.expires_at <= self.issued_at {
            return Err(bad("expires-at", "not after issued-at"));
        }
        Ok(())
    }
}

fn check_issuer(issuer: &str) -> Result<(), FormatError> {
    if issuer.is_empty()
        || issuer.len() > MAX_ISSUER_LEN
        || !issuer.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(bad("issuer", "must be 1 to 64 printable ASCII characters"));
    }
    Ok(())
}

fn time(unix: i64, field: &'static str) -> Result<OffsetDateTime, FormatError> {
    OffsetDateTime::from_unix_timestamp(unix).map_err(|_| bad(field, "out of range"))
}

fn bad(field: &'static str, detail: &'static str) -> FormatError {
    FormatError::BadField { field, detail }
}
