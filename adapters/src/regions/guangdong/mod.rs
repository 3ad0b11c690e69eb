//! 440000 Guangdong (粤康码): an offline Ed25519-signed token, plus a per-token revocation list.
//!
//! Wire format:
//!
//! ```text
//! YKM1.<base64url(body)>.<base64url(signature)>
//! body = serial | issuer | signed_at | valid_until | status | resident_id | name
//! ```
//!
//! Times are Unix seconds; `status` is 绿码 or 红码 (粤康码 had no yellow). The Ed25519
//! signature covers the ASCII text `YKM1.<base64url(body)>`.
//!
//! A token is valid until it expires unless the issuer revokes it early (a green code whose
//! holder became a close contact). Revocations travel as a signed list per issuer, see
//! [`revocations`]; the adapter refuses a token whose serial its current list names.

use std::sync::Arc;

use crate::adapter::{ReadContext, RegionAdapter};
use crate::codec::{Armor, Field, SignedFormat};
use crate::model::{CodeError, NativeReading, RegionCode};
use crate::trust::KeyAlgorithm;

pub mod revocations;

pub use revocations::{RevocationCheck, RevocationLists, sign_revocation_list};

pub const FORMAT: SignedFormat = SignedFormat {
    region: RegionCode::GUANGDONG,
    prefix: "YKM1.",
    separator: '.',
    armor: Armor::Base64Url,
    algorithm: KeyAlgorithm::Ed25519,
    layout: &[
        Field::Serial,
        Field::Issuer,
        Field::SignedAt,
        Field::ValidUntil,
        Field::Label,
        Field::ResidentId,
        Field::Name,
    ],
};

pub struct GuangdongAdapter {
    revocations: Arc<RevocationLists>,
}

impl GuangdongAdapter {
    pub fn new(revocations: Arc<RevocationLists>) -> Self {
        Self { revocations }
    }

    /// The store the revocation lists are installed into.
    pub fn revocations(&self) -> &Arc<RevocationLists> {
        &self.revocations
    }
}

#[async_trait::async_trait]
impl RegionAdapter for GuangdongAdapter {
    fn region(&self) -> RegionCode {
        FORMAT.region
    }

    fn prefix(&self) -> &'static str {
        FORMAT.prefix
    }

    async fn read(&self, payload: &str, ctx: &ReadContext<'_>) -> Result<NativeReading, CodeError> {
        let claims = FORMAT.read(payload, ctx)?;
        let serial = claims.serial;
        let check = self.revocations.check(&claims.issuer, serial);
        let mut reading = FORMAT.reading(claims);
        match check {
            RevocationCheck::Revoked { as_of } => {
                return Err(CodeError::CodeRevoked {
                    serial: serial.to_string(),
                    reason: format!("listed in Guangdong's revocation list of {as_of}"),
                });
            }
            RevocationCheck::NotRevoked { as_of } => reading
                .notes
                .push(format!("not in Guangdong's revocation list of {as_of}")),
            RevocationCheck::NoList => reading
                .notes
                .push("no Guangdong revocation list loaded: revocation not checked".to_string()),
        }
        Ok(reading)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regions::test_kit;

    #[tokio::test]
    async fn meets_the_signed_region_contract() {
        test_kit::signed_region_contract(
            &GuangdongAdapter::new(Default::default()),
            &FORMAT,
            "红码",
            "绿码",
        )
        .await;
    }
}
