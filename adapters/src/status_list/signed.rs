//! A whole signed status list: issuing one with the issuer's key, and opening received bytes
//! under the registry (signature first, then the bits, then the digest).
//!
//! ```text
//! "HRSL" | version 1 | header | signature (64) | u32 length | zlib(status bits)
//! header = region (6 ASCII digits) | u8 length | issuer | u32 list id | u64 sequence
//!        | i64 issued-at | i64 expires-at | u32 code count | SHA-256 digest of the bits
//! ```
//!
//! Integers are big-endian, times Unix seconds. The signature covers
//! [`SIGNING_DOMAIN`](super::header::SIGNING_DOMAIN) followed by the header; the bits are bound by the digest.

use time::OffsetDateTime;

use super::bits::{StatusBits, byte_len};
use super::compress::{deflate, inflate_exact};
use super::error::{FormatError, IssueError, StatusListError};
use super::header::ListHeader;
use super::reader::Reader;
use crate::codec::{IssuerSigner, SignerError, verify};
use crate::model::RegionCode;
use crate::trust::TrustView;

pub const LIST_MAGIC: &[u8; 4] = b"HRSL";
pub(crate) const VERSION: u8 = 1;
/// Ed25519 and P-256 (`r || s`) signatures are both 64 bytes.
pub(crate) const SIGNATURE_LEN: usize = 64;

/// A status list whose signature has been checked (or that was just signed): the only kind the
/// store accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    header: ListHeader,
    signature: [u8; SIGNATURE_LEN],
    bits: StatusBits,
}

/// Which list an issuer is publishing, and for how long it holds.
#[derive(Debug, Clone)]
pub struct Issuance {
    pub region: RegionCode,
    pub list_id: u32,
    pub sequence: u64,
    pub issued_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl StatusList {
    /// Signs `bits` as the issuer's list. Times are kept to whole seconds, as on the wire.
    pub fn issue(
        signer: &IssuerSigner,
        what: &Issuance,
        bits: StatusBits,
    ) -> Result<Self, IssueError> {
        let header = ListHeader {
            region: what.region,
            issuer: signer.issuer_id().to_string(),
            list_id: what.list_id,
            sequence: what.sequence,
            issued_at: whole_seconds(what.issued_at),
            expires_at: whole_seconds(what.expires_at),
            count: bits.count(),
            digest: bits.digest(),
        };
        header.check()?;
        let signature = sign_header(signer, &header)?;
        Ok(Self {
            header,
            signature,
            bits,
        })
    }

    /// Parses, checks the issuer's signature against the key the registry lists for it at the
    /// list's issue time, and only then inflates the bits (so an unsigned list cannot make a
    /// node allocate), refusing reserved values and a digest that does not match.
    pub fn open(bytes: &[u8], trust: &dyn TrustView) -> Result<Self, StatusListError> {
        let mut r = Reader::new(bytes);
        r.preamble(LIST_MAGIC, VERSION)?;
        let header = ListHeader::read(&mut r)?;
        let signature = r.array::<SIGNATURE_LEN>("signature")?;
        // Even incompressible bits grow by no more than zlib's framing: 5 bytes per 64 KiB block.
        let raw_len = byte_len(header.count);
        let compressed = r.sized(raw_len + raw_len / 8192 + 1024, "compressed bits")?;
        r.finish()?;
        verify_header(&header, &signature, trust)?;
        let raw = inflate_exact(compressed, byte_len(header.count))?;
        let bits = StatusBits::from_bytes(header.count, raw)?;
        if bits.digest() != header.digest {
            return Err(FormatError::DigestMismatch.into());
        }
        Ok(Self {
            header,
            signature,
            bits,
        })
    }

    /// The wire form, with the bits compressed afresh.
    pub fn to_bytes(&self) -> Vec<u8> {
        let compressed = deflate(self.bits.as_bytes());
        let mut out = Vec::with_capacity(compressed.len() + 200);
        out.extend_from_slice(LIST_MAGIC);
        out.push(VERSION);
        self.header.write(&mut out);
        out.extend_from_slice(&self.signature);
        out.extend_from_slice(&(compressed.len() as u32).to_be_bytes());
        out.extend_from_slice(&compressed);
        out
    }

    pub fn header(&self) -> &ListHeader {
        &self.header
    }

    pub fn bits(&self) -> &StatusBits {
        &self.bits
    }

    pub(crate) fn signature(&self) -> &[u8; SIGNATURE_LEN] {
        &self.signature
    }

    /// Joins a header and signature already verified with bits already checked against the
    /// header's digest (the delta path).
    pub(crate) fn from_verified_parts(
        header: ListHeader,
        signature: [u8; SIGNATURE_LEN],
        bits: StatusBits,
    ) -> Self {
        Self {
            header,
            signature,
            bits,
        }
    }
}

pub(crate) fn sign_header(
    signer: &IssuerSigner,
    header: &ListHeader,
) -> Result<[u8; SIGNATURE_LEN], SignerError> {
    signer
        .sign(&header.signed_message())?
        .try_into()
        .map_err(|_| SignerError::Sign)
}

/// The registry decides the key and its algorithm (nothing in the list chooses them), as it does
/// for a code: the issuer listed for the region and valid at the list's issue time, revoked at
/// most in a way that leaves its earlier codes in force ([`TrustView::status_list_key`]).
pub(crate) fn verify_header(
    header: &ListHeader,
    signature: &[u8; SIGNATURE_LEN],
    trust: &dyn TrustView,
) -> Result<(), StatusListError> {
    let key = trust.status_list_key(header.region, &header.issuer, header.issued_at)?;
    if !verify::verify(&key, key.algorithm, &header.signed_message(), signature) {
        return Err(StatusListError::BadSignature {
            issuer: header.issuer.clone(),
        });
    }
    Ok(())
}

fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t.unix_timestamp()).unwrap_or(t)
}
