//! Guangdong's per-token revocation lists: signed by the issuer, installed newest-first, consulted
//! on every read.
//!
//! Wire format (not a QR payload: the gateway fetches it from Guangdong's status service, or an
//! operator copies it in when offline):
//!
//! ```text
//! YKMRL1.<base64url(body)>.<base64url(signature)>
//! body = issuer | signed_at | serial,serial,...     serials strictly ascending, decimal
//! ```
//!
//! The signature is the issuer's own Ed25519 key over `YKMRL1.<base64url(body)>`, checked
//! against the registry like any token, so whoever carries the list cannot add or drop serials.
//! One list per issuer; a list never replaces a newer one (no rollback to un-revoke a code).

use std::collections::{BTreeSet, HashMap};
use std::sync::RwLock;

use time::OffsetDateTime;

use crate::codec::token::MAX_CLOCK_SKEW;
use crate::codec::{Armor, IssuerSigner, verify};
use crate::model::{CodeError, RegionCode};
use crate::trust::{KeyAlgorithm, TrustView};

pub const PREFIX: &str = "YKMRL1.";
/// Revocation lists are fetched, not scanned: allow far more than a QR code, but not unbounded.
pub const MAX_LIST_LEN: usize = 4 * 1024 * 1024;

fn malformed(detail: &str) -> CodeError {
    CodeError::Malformed {
        region: RegionCode::GUANGDONG,
        detail: format!("revocation list: {detail}"),
    }
}

/// What the current list says about one token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationCheck {
    NotRevoked {
        as_of: OffsetDateTime,
    },
    Revoked {
        as_of: OffsetDateTime,
    },
    /// No list from this issuer has been installed.
    NoList,
}

#[derive(Debug)]
struct List {
    signed_at: OffsetDateTime,
    serials: BTreeSet<u64>,
}

/// The installed lists, one per issuer; shared between the adapter and whoever refreshes them.
#[derive(Debug, Default)]
pub struct RevocationLists {
    lists: RwLock<HashMap<String, List>>,
}

impl RevocationLists {
    pub fn check(&self, issuer: &str, serial: u64) -> RevocationCheck {
        // A poisoned lock still holds a consistent map: installs swap whole lists.
        let lists = self.lists.read().unwrap_or_else(|e| e.into_inner());
        match lists.get(issuer) {
            Some(l) if l.serials.contains(&serial) => {
                RevocationCheck::Revoked { as_of: l.signed_at }
            }
            Some(l) => RevocationCheck::NotRevoked { as_of: l.signed_at },
            None => RevocationCheck::NoList,
        }
    }

    /// Verifies a list against the registry and installs it if it is newer than the one held.
    /// Returns whether it was installed (`false`: the held list is as new or newer).
    pub fn install(
        &self,
        list: &str,
        trust: &dyn TrustView,
        now: OffsetDateTime,
    ) -> Result<bool, CodeError> {
        let (issuer, signed_at, serials) = parse_and_verify(list, trust)?;
        if signed_at > now + MAX_CLOCK_SKEW {
            return Err(malformed("signed in the future"));
        }
        let mut lists = self.lists.write().unwrap_or_else(|e| e.into_inner());
        if lists
            .get(&issuer)
            .is_some_and(|held| held.signed_at >= signed_at)
        {
            return Ok(false);
        }
        lists.insert(issuer, List { signed_at, serials });
        Ok(true)
    }
}

/// Signs the list of revoked serials of `signer` as of `now`.
pub fn sign_revocation_list(
    signer: &IssuerSigner,
    serials: &[u64],
    now: OffsetDateTime,
) -> Result<String, CodeError> {
    if signer.algorithm() != KeyAlgorithm::Ed25519 {
        return Err(CodeError::Unsupported(
            "Guangdong's issuers sign with Ed25519".to_string(),
        ));
    }
    let sorted: BTreeSet<u64> = serials.iter().copied().collect();
    let list: Vec<String> = sorted.iter().map(u64::to_string).collect();
    let body = format!(
        "{}|{}|{}",
        signer.issuer_id(),
        now.unix_timestamp(),
        list.join(",")
    );
    let mut out = format!("{PREFIX}{}", Armor::Base64Url.encode(body.as_bytes()));
    let sig = signer
        .sign(out.as_bytes())
        .map_err(|e| CodeError::Unsupported(format!("issuer cannot sign: {e}")))?;
    out.push('.');
    out.push_str(&Armor::Base64Url.encode(&sig));
    Ok(out)
}

fn parse_and_verify(
    list: &str,
    trust: &dyn TrustView,
) -> Result<(String, OffsetDateTime, BTreeSet<u64>), CodeError> {
    if list.len() > MAX_LIST_LEN {
        return Err(malformed("too long"));
    }
    let rest = list
        .strip_prefix(PREFIX)
        .ok_or_else(|| malformed("wrong prefix"))?;
    let (body_text, sig_text) = rest
        .split_once('.')
        .ok_or_else(|| malformed("no signature"))?;
    let body = Armor::Base64Url
        .decode(body_text)
        .ok_or_else(|| malformed("body is not base64url"))?;
    let sig = Armor::Base64Url
        .decode(sig_text)
        .ok_or_else(|| malformed("signature is not base64url"))?;
    let body = std::str::from_utf8(&body).map_err(|_| malformed("body is not UTF-8"))?;
    let mut fields = body.split('|');
    let (Some(issuer), Some(at), Some(serials), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(malformed("body needs exactly issuer|signed_at|serials"));
    };
    let signed_at = decimal(at)
        .and_then(|s| i64::try_from(s).ok())
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
        .ok_or_else(|| malformed("signed_at is not a Unix time"))?;
    let key = trust.issuer_key(RegionCode::GUANGDONG, issuer, signed_at)?;
    let signed = &list[..PREFIX.len() + body_text.len()];
    if !verify::verify(&key, KeyAlgorithm::Ed25519, signed.as_bytes(), &sig) {
        return Err(CodeError::BadSignature {
            issuer: issuer.to_string(),
        });
    }
    let mut set = BTreeSet::new();
    if !serials.is_empty() {
        for s in serials.split(',') {
            let n = decimal(s).ok_or_else(|| malformed("serial is not a decimal number"))?;
            if set.last().is_some_and(|last| *last >= n) {
                return Err(malformed("serials are not strictly ascending"));
            }
            set.insert(n);
        }
    }
    Ok((issuer.to_string(), signed_at, set))
}

fn decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}
