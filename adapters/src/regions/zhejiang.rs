//! 330000 Zhejiang (浙江健康码): an online-only code; the QR holds a URL with an opaque code id.
//!
//! Wire format:
//!
//! ```text
//! https://hzgov.huren.dev/healthAct/index.html?stateCouncilBarCode=<code id>[&cityCode=<GB/T 2260>]
//! ```
//!
//! `code id` is 32 lower-case hex characters (128 random bits) naming the code in the province's
//! database; `cityCode` (e.g. 330100 Hangzhou) says which city's platform issued it. Nothing in the
//! QR is signed or personal: the status (绿码/黄码/红码), refresh time and masked name come from
//! the province's HTTPS status service, whose TLS identity the registry pins.

use crate::codec::{CodeId, MAX_PAYLOAD_LEN};
use crate::model::{CodeError, RegionCode};
use crate::regions::online::OnlineAdapter;
use crate::scan::ScannedUrl;

pub const PREFIX: &str = "https://hzgov.huren.dev/healthAct/index.html?stateCouncilBarCode=";
const CITY_PARAM: &str = "&cityCode=";

/// The QR payload for a code id, optionally naming the issuing city.
pub fn payload(code_id: &CodeId, city: Option<RegionCode>) -> String {
    match city {
        Some(city) => format!("{PREFIX}{code_id}{CITY_PARAM}{city}"),
        None => format!("{PREFIX}{code_id}"),
    }
}

/// The code id and city a payload names.
pub fn parse(payload: &str) -> Result<(CodeId, Option<RegionCode>), CodeError> {
    let malformed = |detail: &str| CodeError::Malformed {
        region: RegionCode::ZHEJIANG,
        detail: detail.to_string(),
    };
    if payload.len() > MAX_PAYLOAD_LEN {
        return Err(malformed("payload longer than any QR code holds"));
    }
    let rest = payload
        .strip_prefix(PREFIX)
        .ok_or_else(|| malformed("not a Zhejiang health-code URL"))?;
    let (id, city) = match rest.split_once(CITY_PARAM) {
        Some((id, city)) => (id, Some(city)),
        None => (rest, None),
    };
    let code_id = CodeId::parse(id).ok_or_else(|| malformed("code id is not 32 lower-case hex"))?;
    let city = match city {
        Some(c) => {
            let city =
                RegionCode::parse(c).map_err(|_| malformed("cityCode is not a region code"))?;
            if city.province() != RegionCode::ZHEJIANG {
                return Err(malformed("cityCode is not a city of Zhejiang"));
            }
            Some(city)
        }
        None => None,
    };
    Ok((code_id, city))
}

/// The URL forms people paste: `http` or `https`, the host in any case, the parameters in any
/// order and percent-encoded, extra parameters (a messenger's `&from=...`) dropped. Read as the
/// canonical payload, or `None` when the URL is not Zhejiang's or names no valid code id.
pub fn payload_in_url(url: &ScannedUrl) -> Option<String> {
    if !url.is_at(HOST, PATH) {
        return None;
    }
    let code_id = CodeId::parse(url.param("stateCouncilBarCode")?)?;
    let city = match url.param("cityCode") {
        Some(c) => Some(RegionCode::parse(c).ok()?),
        None => None,
    };
    Some(payload(&code_id, city))
}

const HOST: &str = "hzgov.huren.dev";
const PATH: &str = "/healthAct/index.html";

pub const ADAPTER: OnlineAdapter = OnlineAdapter {
    region: RegionCode::ZHEJIANG,
    prefix: PREFIX,
    parse,
    payload_in_url,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::LookupQuery;
    use crate::adapter::RegionAdapter;
    use crate::model::Source;
    use crate::regions::test_kit::NOW;
    use crate::testing::{FakeLookup, KeyRing, context, degraded_reading, flat, online_reading};

    fn query(code_id: &CodeId, city: Option<&str>) -> LookupQuery {
        LookupQuery::CodeId {
            code_id: code_id.to_string(),
            city: city.map(str::to_string),
        }
    }

    #[tokio::test]
    async fn reads_the_status_the_province_reports_for_the_code_id() {
        let (ring, lookup) = (KeyRing::new(), FakeLookup::new());
        let id = CodeId::random();
        let hangzhou = RegionCode::parse("330100").unwrap();
        lookup.answer(
            RegionCode::ZHEJIANG,
            query(&id, Some("330100")),
            Ok(online_reading(RegionCode::ZHEJIANG, "黄码", NOW)),
        );
        let reading = ADAPTER
            .read(&payload(&id, Some(hangzhou)), &context(&ring, &lookup, NOW))
            .await
            .map(flat)
            .unwrap();
        assert_eq!(reading.native_label, "黄码");
        assert_eq!(reading.source, Source::Online);
        assert_eq!(reading.subject.region_handle.as_deref(), Some(id.as_str()));
        assert_eq!(lookup.calls().len(), 1);
    }

    #[tokio::test]
    async fn a_province_that_does_not_answer_yields_a_degraded_reading() {
        let (ring, lookup) = (KeyRing::new(), FakeLookup::new());
        let id = CodeId::random();
        lookup.answer(
            RegionCode::ZHEJIANG,
            query(&id, None),
            Ok(degraded_reading(RegionCode::ZHEJIANG)),
        );
        let reading = ADAPTER
            .read(&payload(&id, None), &context(&ring, &lookup, NOW))
            .await
            .map(flat)
            .unwrap();
        assert_eq!(reading.source, Source::Degraded);
    }

    #[tokio::test]
    async fn a_code_the_province_does_not_know_is_unknown() {
        let (ring, lookup) = (KeyRing::new(), FakeLookup::new());
        let err = ADAPTER
            .read(
                &payload(&CodeId::random(), None),
                &context(&ring, &lookup, NOW),
            )
            .await
            .unwrap_err();
        assert_eq!(err, CodeError::UnknownCode);
    }

    #[tokio::test]
    async fn malformed_urls_are_refused_without_asking_the_province() {
        let (ring, lookup) = (KeyRing::new(), FakeLookup::new());
        let ctx = context(&ring, &lookup, NOW);
        let id = CodeId::random();
        for bad in [
            format!("{PREFIX}{}", id.as_str().to_uppercase()),
            format!("{PREFIX}{}", &id.as_str()[1..]),
            format!("{PREFIX}{id}&cityCode=440100"),
            format!("{PREFIX}{id}&cityCode=33010"),
            format!("{PREFIX}{id}&other=1"),
            format!("{PREFIX}{id}{}", "0".repeat(4096)),
        ] {
            assert!(
                matches!(
                    ADAPTER.read(&bad, &ctx).await,
                    Err(CodeError::Malformed { .. })
                ),
                "accepted {bad}"
            );
        }
        assert!(lookup.calls().is_empty());
    }
}
