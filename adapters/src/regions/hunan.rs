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
