//! 410000 Henan (河南健康码, in the 豫事办 app): online-only, risk levels instead of colours.
//!
//! Wire format:
//!
//! ```text
//! https://yushiban.huren.dev/jkm/q?code=<code id>
//! ```
//!
//! `code id` is 32 lower-case hex characters. The province's status service answers a risk
//! level — 低风险 / 中风险 / 高风险 — which the gateway maps to colours through Henan's concept map.

use crate::codec::{CodeId, MAX_PAYLOAD_LEN};
use crate::model::{CodeError, RegionCode};
use crate::regions::online::OnlineAdapter;
use crate::scan::ScannedUrl;

pub const PREFIX: &str = "https://yushiban.huren.dev/jkm/q?code=";

/// The QR payload for a code id.
pub fn payload(code_id: &CodeId) -> String {
    format!("{PREFIX}{code_id}")
}

/// The code id a payload names.
pub fn parse(payload: &str) -> Result<CodeId, CodeError> {
    let malformed = |detail: &str| CodeError::Malformed {
        region: RegionCode::HENAN,
        detail: detail.to_string(),
    };
    if payload.len() > MAX_PAYLOAD_LEN {
        return Err(malformed("payload longer than any QR code holds"));
    }
    let id = payload
        .strip_prefix(PREFIX)
        .ok_or_else(|| malformed("not a Henan health-code URL"))?;
    CodeId::parse(id).ok_or_else(|| malformed("code id is not 32 lower-case hex"))
}

/// The Henan adapter: the URL carries no city.
pub const ADAPTER: OnlineAdapter = OnlineAdapter {
    region: RegionCode::HENAN,
    prefix: PREFIX,
    parse: |payload| Ok((parse(payload)?, None)),
    payload_in_url,
};

/// The URL forms people paste (`http`, the host in any case, extra or encoded parameters), read
/// as the canonical payload; `None` when the URL is not Henan's or names no valid code id.
pub fn payload_in_url(url: &ScannedUrl) -> Option<String> {
    if !url.is_at("yushiban.huren.dev", "/jkm/q") {
        return None;
    }
    Some(payload(&CodeId::parse(url.param("code")?)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::LookupQuery;
    use crate::adapter::RegionAdapter;
    use crate::regions::test_kit::NOW;
    use crate::testing::{FakeLookup, KeyRing, context, flat, online_reading, resident_id};

    #[tokio::test]
    async fn reports_the_risk_level_the_province_answers() {
        let (ring, lookup) = (KeyRing::new(), FakeLookup::new());
        let id = CodeId::random();
        lookup.answer(
            RegionCode::HENAN,
            LookupQuery::CodeId {
                code_id: id.to_string(),
                city: None,
            },
            Ok(online_reading(RegionCode::HENAN, "中风险", NOW)),
        );
        let reading = ADAPTER
            .read(&payload(&id), &context(&ring, &lookup, NOW))
            .await
            .map(flat)
            .unwrap();
        assert_eq!(reading.native_label, "中风险");
    }

    #[tokio::test]
    async fn looks_its_own_residents_up_for_transfer_recognition() {
        let (ring, lookup) = (KeyRing::new(), FakeLookup::new());
        lookup.answer(
            RegionCode::HENAN,
            LookupQuery::Resident {
                id: resident_id(),
                name: "张三".into(),
            },
            Ok(online_reading(RegionCode::HENAN, "低风险", NOW)),
        );
        let reading = ADAPTER
            .read_resident(&resident_id(), "张三", &context(&ring, &lookup, NOW))
            .await
            .map(flat)
            .unwrap();
        assert_eq!(reading.native_label, "低风险");
    }

    #[tokio::test]
    async fn an_answer_for_another_region_is_refused() {
        let (ring, lookup) = (KeyRing::new(), FakeLookup::new());
        let id = CodeId::random();
        lookup.answer(
            RegionCode::HENAN,
            LookupQuery::CodeId {
                code_id: id.to_string(),
                city: None,
            },
            Ok(online_reading(RegionCode::ZHEJIANG, "绿码", NOW)),
        );
        let err = ADAPTER
            .read(&payload(&id), &context(&ring, &lookup, NOW))
            .await
            .unwrap_err();
        assert!(matches!(err, CodeError::Malformed { .. }));
    }
}
