//! The dev registry's content: each reference region's concept map from the shared vocabulary
//! table, and the agreements among the regions.

use huren_adapters::Colour;
use huren_adapters::vocabulary::VOCABULARIES;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::doc::{
    Agreement, AgreementKind, ColourRules, ConceptEntry, ConceptMap, Lapse, Rule, Verdict,
    agreement::ANY_REGION,
};

/// The concept map of `region` from the shared vocabulary table; Hubei's green lapses to YELLOW
/// three days after the last refresh.
pub fn concept_map(region: &str) -> ConceptMap {
    let mut map = ConceptMap::default();
    if let Some(v) = VOCABULARIES.iter().find(|v| v.region == region) {
        for (label, colour) in v.labels {
            let lapse = (region == "420000" && *colour == Colour::Green).then_some(Lapse {
                after_secs: 3 * 86_400,
                to: Colour::Yellow,
            });
            map.labels.insert(
                label.to_string(),
                ConceptEntry {
                    colour: *colour,
                    lapse,
                },
            );
        }
    }
    map
}

/// How fresh an issuer's status list must be under the dev agreements: the reference services
/// publish on every fetch and nodes refresh every 30 s by default, so ten minutes leaves room for
/// a region that is briefly unreachable without letting a withdrawn code pass for long.
pub const STATUS_LIST_AGE_SECS: u64 = 600;

/// The dev agreements: a national default among all regions and two bilateral ones that differ.
pub fn agreements(now: OffsetDateTime) -> Vec<Agreement> {
    let base = Agreement {
        id: "national".into(),
        version: 1,
        expires: now + Duration::days(365),
        kind: AgreementKind::National,
        verifying: ANY_REGION.into(),
        issuing: ANY_REGION.into(),
        rules: ColourRules::national_defaults(),
        max_code_age_secs: 72 * 3600,
        online_check_required: false,
        effective_from: datetime!(2020-02-01 00:00 UTC),
        effective_until: None,
        max_status_list_age_secs: Some(STATUS_LIST_AGE_SECS),
    };
    // Zhejiang accepts Sichuan's green only when refreshed within 24 h, checked online.
    let zj_sc = Agreement {
        id: "330000-510000".into(),
        kind: AgreementKind::Bilateral,
        verifying: "330000".into(),
        issuing: "510000".into(),
        max_code_age_secs: 24 * 3600,
        online_check_required: true,
        ..base.clone()
    };
    // Guangdong sends Hubei's yellow to central quarantine and wants a code from today.
    let mut gd_hb = Agreement {
        id: "440000-420000".into(),
        kind: AgreementKind::Bilateral,
        verifying: "440000".into(),
        issuing: "420000".into(),
        max_code_age_secs: 24 * 3600,
        ..base.clone()
    };
    gd_hb
        .rules
        .set(Colour::Yellow, Rule::new(Verdict::CentralQuarantine, 14));
    vec![base, zj_sc, gd_hb]
}
