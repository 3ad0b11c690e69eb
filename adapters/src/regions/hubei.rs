//! 420000 Hubei (湖北健康码): Ed25519-signed, with a grey (pending) state and a check-in time.
//!
//! Wire format:
//!
//! ```text
//! HBJKM1.<base64url(body)>.<base64url(signature)>
//! body = issuer | signed_at | serial | resident_id | name | status | checked_in_at | valid_until
//! ```
//!
//! Times are Unix seconds; `status` is 灰码 (pending review) / 绿码 / 黄码 / 红码. In 2020 a
//! Hubei green code lapsed to yellow after 3 days without a check-in: the payload carries the
//! last check-in and the adapter reports it as a fact ([`crate::NativeReading::checked_in_at`]);
//! the lapse itself is a rule of Hubei's concept map in the registry, not code here.

use crate::codec::{Armor, Field, SignedFormat};
use crate::model::RegionCode;
use crate::trust::KeyAlgorithm;

pub const FORMAT: SignedFormat = SignedFormat {
    region: RegionCode::HUBEI,
    prefix: "HBJKM1.",
    status_prefix: Some("HBJKM2."),
    separator: '.',
    armor: Armor::Base64Url,
    algorithm: KeyAlgorithm::Ed25519,
    second_algorithm: None,
    layout: &[
        Field::Issuer,
        Field::SignedAt,
        Field::Serial,
        Field::ResidentId,
        Field::Name,
        Field::Label,
        Field::CheckedInAt,
        Field::ValidUntil,
    ],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::RegionAdapter;
    use crate::model::CodeError;
    use crate::regions::test_kit;

    #[tokio::test]
    async fn meets_the_signed_region_contract() {
        test_kit::signed_region_contract(&FORMAT, &FORMAT, "红码", "绿码").await;
    }

    use crate::issue::{IssueRequest, issue};
    use crate::regions::test_kit::{NOW, request};
    use crate::testing::{FakeLookup, TestIssuers, context, flat};

    #[tokio::test]
    async fn reports_grey_codes_and_the_last_check_in() {
        let issuers = TestIssuers::generate().unwrap();
        let lookup = FakeLookup::new();
        let checked_in = NOW - time::Duration::days(4);
        let req = IssueRequest {
            checked_in_at: Some(checked_in),
            ..request("灰码")
        };
        let payload = issue(
            RegionCode::HUBEI,
            &req,
            issuers.signer(RegionCode::HUBEI),
            NOW,
        )
        .unwrap();
        let reading = RegionAdapter::read(&FORMAT, &payload, &context(&issuers.ring, &lookup, NOW))
            .await
            .map(flat)
            .unwrap();
        assert_eq!(reading.native_label, "灰码");
        // A fact for the concept map's lapse rule, not a decision made here.
        assert_eq!(reading.checked_in_at, Some(checked_in));
    }

    #[test]
    fn a_check_in_after_signing_cannot_be_issued() {
        let issuers = TestIssuers::generate().unwrap();
        let req = IssueRequest {
            checked_in_at: Some(NOW + time::Duration::hours(1)),
            ..request("绿码")
        };
        let err = issue(
            RegionCode::HUBEI,
            &req,
            issuers.signer(RegionCode::HUBEI),
            NOW,
        );
        assert!(matches!(err, Err(CodeError::Malformed { .. })));
    }
}
