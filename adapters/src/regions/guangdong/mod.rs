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
use std::time::Instant;

use crate::adapter::{ReadContext, RegionAdapter, Task, Upkeep};
use crate::codec::{Armor, Field, SignedFormat};
use crate::model::{CodeError, ReadOutcome, RegionCode};
use crate::net::StatusClient;
use crate::status_list::ListArchive;
use crate::trust::{KeyAlgorithm, TrustView};

pub mod follow;
pub mod revocations;

pub use follow::{RefreshError, refresh_revocations};
pub use revocations::{RevocationCheck, RevocationLists, sign_revocation_list};

pub const FORMAT: SignedFormat = SignedFormat {
    region: RegionCode::GUANGDONG,
    prefix: "YKM1.",
    status_prefix: Some("YKM2."),
    separator: '.',
    armor: Armor::Base64Url,
    algorithm: KeyAlgorithm::Ed25519,
    second_algorithm: None,
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

    fn status_prefix(&self) -> Option<&'static str> {
        FORMAT.status_prefix
    }

    async fn read(&self, payload: &str, ctx: &ReadContext<'_>) -> Result<ReadOutcome, CodeError> {
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
        Ok(ReadOutcome::Read(reading))
    }

    /// Follows the issuer's revocation list, when the registry lists a status service to fetch
    /// it from.
    fn background(&self, upkeep: &Upkeep) -> Vec<Task> {
        if upkeep.trust.status_service(self.region()).is_none() {
            return Vec::new();
        }
        let revocations = follow::keep_fresh(
            upkeep.status.clone(),
            upkeep.trust.clone(),
            self.revocations.clone(),
            upkeep.every,
        );
        std::iter::once(revocations)
            .chain(crate::regions::signed::status_list_upkeep(&FORMAT, upkeep))
            .collect()
    }

    fn withdraws_on_change(&self) -> bool {
        true
    }

    /// A changed holder's token is withdrawn through the revocation list (v1 tokens) and the
    /// status list (v2 tokens): fetch both now, so the re-judgement sees the withdrawal rather
    /// than waiting for the next scheduled refresh.
    async fn on_status_change(
        &self,
        status: &StatusClient,
        trust: &dyn TrustView,
        lists: &ListArchive,
        deadline: Instant,
    ) {
        if let Err(e) = refresh_revocations(status, trust, &self.revocations, deadline).await {
            tracing::warn!(region = %self.region(), error = %e, "revocation list not refreshed");
        }
        crate::regions::signed::refresh_now(self.region(), status, trust, lists, deadline).await;
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

    use crate::issue::{IssueStatus, issue};
    use crate::model::Colour;
    use crate::regions::test_kit::{NOW, request};
    use crate::testing::{FakeLookup, TestIssuers, context, flat};

    #[tokio::test]
    async fn a_code_on_the_issuers_revocation_list_is_refused() {
        let issuers = TestIssuers::generate().unwrap();
        let signer = issuers.signer(RegionCode::GUANGDONG);
        let lookup = FakeLookup::new();
        let ctx = context(&issuers.ring, &lookup, NOW);
        let adapter = GuangdongAdapter::new(Default::default());
        let payload = issue(RegionCode::GUANGDONG, &request("绿码"), signer, NOW).unwrap();

        let before = adapter.read(&payload, &ctx).await.map(flat).unwrap();
        assert!(before.notes[0].contains("no Guangdong revocation list"));

        let list = sign_revocation_list(signer, &[7, 42], NOW + time::Duration::hours(1)).unwrap();
        let later = context(&issuers.ring, &lookup, NOW + time::Duration::hours(2));
        assert!(
            adapter
                .revocations()
                .install(&list, &issuers.ring, later.now)
                .unwrap()
        );
        let err = adapter.read(&payload, &later).await.unwrap_err();
        assert!(matches!(err, CodeError::CodeRevoked { ref serial, .. } if serial == "42"));

        // Other serials still read, and say which list they were checked against.
        let other = crate::issue::IssueRequest {
            serial: 43,
            ..request("绿码")
        };
        let ok = issue(RegionCode::GUANGDONG, &other, signer, NOW).unwrap();
        assert!(adapter.read(&ok, &later).await.map(flat).unwrap().notes[0].contains("not in"));
    }

    #[test]
    fn an_older_list_never_replaces_a_newer_one() {
        let issuers = TestIssuers::generate().unwrap();
        let signer = issuers.signer(RegionCode::GUANGDONG);
        let lists = RevocationLists::default();
        let newer = sign_revocation_list(signer, &[42], NOW).unwrap();
        let older = sign_revocation_list(signer, &[], NOW - time::Duration::hours(1)).unwrap();
        assert!(lists.install(&newer, &issuers.ring, NOW).unwrap());
        assert!(!lists.install(&older, &issuers.ring, NOW).unwrap());
        assert!(matches!(
            lists.check(signer.issuer_id(), 42),
            RevocationCheck::Revoked { .. }
        ));
    }

    #[test]
    fn a_list_edited_in_transit_or_signed_by_a_stranger_is_refused() {
        let issuers = TestIssuers::generate().unwrap();
        let signer = issuers.signer(RegionCode::GUANGDONG);
        let lists = RevocationLists::default();
        let list = sign_revocation_list(signer, &[42], NOW).unwrap();
        let (body, sig) = list[revocations::PREFIX.len()..].split_once('.').unwrap();
        let text = String::from_utf8(Armor::Base64Url.decode(body).unwrap()).unwrap();
        let emptied = text.replace("|42", "|");
        let forged = format!(
            "{}{}.{sig}",
            revocations::PREFIX,
            Armor::Base64Url.encode(emptied.as_bytes())
        );
        assert!(matches!(
            lists.install(&forged, &issuers.ring, NOW),
            Err(CodeError::BadSignature { .. })
        ));
        let stranger = TestIssuers::generate().unwrap();
        let foreign =
            sign_revocation_list(stranger.signer(RegionCode::GUANGDONG), &[], NOW).unwrap();
        assert!(lists.install(&foreign, &issuers.ring, NOW).is_err());
        assert_eq!(lists.check(signer.issuer_id(), 42), RevocationCheck::NoList);
    }

    #[test]
    fn guangdong_has_no_yellow_code_to_issue() {
        let issuers = TestIssuers::generate().unwrap();
        let req = crate::issue::IssueRequest {
            status: IssueStatus::Colour(Colour::Yellow),
            ..request("绿码")
        };
        let err = issue(
            RegionCode::GUANGDONG,
            &req,
            issuers.signer(RegionCode::GUANGDONG),
            NOW,
        );
        assert!(matches!(err, Err(CodeError::Unsupported(_))));
    }
}
