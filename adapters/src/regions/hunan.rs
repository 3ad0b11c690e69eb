//! 430000 Hunan (湖南居民健康卡): a national e-health-card style payload signed with ECDSA P-256.
//!
//! Wire format, upper-case hex as e-health-card terminals print it, `:`-separated:
//!
//! ```text
//! EHC1:430000:<HEX(body)>:<HEX(signature)>
//! body = resident_id | name | status | issuer | serial | signed_at | valid_until
//! ```
//!
//! Times are Unix seconds; `status` is 绿码 / 黄码 / 红码. The signature is ECDSA P-256 with
//! SHA-256 over the ASCII text `EHC1:430000:<HEX(body)>`, 64 bytes `r || s` with low `s`.
//! An issuer the registry lists with an SM2 key (the national e-health card's own standard, GB/T
//! 32918 with SM3) signs the same text with SM2 instead: 64 bytes `r || s`.

use crate::codec::{Armor, Field, SignedFormat};
use crate::model::RegionCode;
use crate::trust::KeyAlgorithm;

pub const FORMAT: SignedFormat = SignedFormat {
    region: RegionCode::HUNAN,
    prefix: "EHC1:430000:",
    status_prefix: Some("EHC2:430000:"),
    separator: ':',
    armor: Armor::HexUpper,
    algorithm: KeyAlgorithm::EcdsaP256Sha256,
    second_algorithm: Some(KeyAlgorithm::Sm2Sm3),
    layout: &[
        Field::ResidentId,
        Field::Name,
        Field::Label,
        Field::Issuer,
        Field::Serial,
        Field::SignedAt,
        Field::ValidUntil,
    ],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CodeError;
    use crate::regions::test_kit;

    #[tokio::test]
    async fn meets_the_signed_region_contract() {
        test_kit::signed_region_contract(&FORMAT, &FORMAT, "红码", "绿码").await;
    }

    use crate::issue::issue;
    use crate::regions::test_kit::{NOW, request};
    use crate::testing::TestIssuers;

    #[test]
    fn payload_is_upper_case_hex_like_an_e_health_card() {
        let issuers = TestIssuers::generate().unwrap();
        let payload = issue(
            RegionCode::HUNAN,
            &request("黄码"),
            issuers.signer(RegionCode::HUNAN),
            NOW,
        )
        .unwrap();
        let rest = payload.strip_prefix("EHC1:430000:").unwrap();
        let (body, sig) = rest.split_once(':').unwrap();
        assert!(
            body.bytes()
                .chain(sig.bytes())
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
        );
        assert_eq!(sig.len(), 128, "64-byte r || s");
    }

    #[tokio::test]
    async fn an_sm2_issuer_signs_codes_that_read_and_a_forged_one_is_refused() {
        use crate::adapter::RegionAdapter;
        use crate::codec::IssuerSigner;
        use crate::testing::{FakeLookup, KeyRing, context, flat};
        let signer = IssuerSigner::generate("hn-sm2-2026-01", KeyAlgorithm::Sm2Sm3).unwrap();
        let ring = KeyRing::new().with_signer(RegionCode::HUNAN, &signer);
        let lookup = FakeLookup::new();
        let ctx = context(&ring, &lookup, NOW);
        let payload = issue(RegionCode::HUNAN, &request("黄码"), &signer, NOW).unwrap();
        let reading = RegionAdapter::read(&FORMAT, &payload, &ctx)
            .await
            .map(flat)
            .unwrap();
        assert_eq!(reading.native_label, "黄码");
        assert_eq!(reading.issuer_id.as_deref(), Some("hn-sm2-2026-01"));

        let forged = test_kit::forge_label(&FORMAT, &payload, "黄码", "绿码");
        assert!(matches!(
            RegionAdapter::read(&FORMAT, &forged, &ctx).await,
            Err(CodeError::BadSignature { .. })
        ));
        // The same issuer id listed with a P-256 key: the SM2 signature does not pass under it.
        let p256 = IssuerSigner::generate("hn-sm2-2026-01", KeyAlgorithm::EcdsaP256Sha256).unwrap();
        let ring = KeyRing::new().with_signer(RegionCode::HUNAN, &p256);
        let ctx = context(&ring, &lookup, NOW);
        assert!(matches!(
            RegionAdapter::read(&FORMAT, &payload, &ctx).await,
            Err(CodeError::BadSignature { .. })
        ));
    }

    #[test]
    fn a_guangdong_key_cannot_sign_hunan_codes() {
        let issuers = TestIssuers::generate().unwrap();
        let err = issue(
            RegionCode::HUNAN,
            &request("绿码"),
            issuers.signer(RegionCode::GUANGDONG),
            NOW,
        );
        assert!(matches!(err, Err(CodeError::Unsupported(_))));
    }
}
