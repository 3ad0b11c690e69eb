//! 000000 national platform (防疫健康信息码): an Ed25519-signed offline code.
//!
//! Wire format:
//!
//! ```text
//! FYJKXXM1.<base64url(body)>.<base64url(signature)>
//! body = issuer | serial | signed_at | valid_until | resident_id | name | status
//! ```
//!
//! Times are Unix seconds; `status` is 未见异常 / 居家观察 / 集中观察. The Ed25519 signature
//! (64 bytes) covers the ASCII text `FYJKXXM1.<base64url(body)>`.

use crate::codec::{Armor, Field, SignedFormat};
use crate::model::RegionCode;
use crate::trust::KeyAlgorithm;

pub const FORMAT: SignedFormat = SignedFormat {
    region: RegionCode::NATIONAL,
    prefix: "FYJKXXM1.",
    status_prefix: Some("FYJKXXM2."),
    separator: '.',
    armor: Armor::Base64Url,
    algorithm: KeyAlgorithm::Ed25519,
    second_algorithm: None,
    layout: &[
        Field::Issuer,
        Field::Serial,
        Field::SignedAt,
        Field::ValidUntil,
        Field::ResidentId,
        Field::Name,
        Field::Label,
    ],
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regions::test_kit;

    #[tokio::test]
    async fn meets_the_signed_region_contract() {
        test_kit::signed_region_contract(&FORMAT, &FORMAT, "集中观察", "未见异常").await;
    }
}
