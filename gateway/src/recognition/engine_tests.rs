//! The engine against the dev registry: every region pair × colour × age × source, and each rule.

use std::sync::OnceLock;

use huren_adapters::status_list::ListStatus;
use huren_adapters::{CodeError, Colour, RegionCode, Source, TrustError};
use huren_registry::dev::{DevOptions, DevRegistry};
use huren_registry::{Agreement, Registry, Verdict};
use time::{Duration, OffsetDateTime};

use super::engine::*;

/// [`super::engine::decide`] under a registry fresh for another day: rules 1 to 4. Rule 5 (an
/// expired registry) has its own tests at the end, which pass the expiry explicitly.
fn decide(
    reading: &Reading,
    verifying: RegionCode,
    agreement: Option<&Agreement>,
    now: OffsetDateTime,
) -> Decision {
    super::engine::decide(reading, verifying, agreement, now + Duration::days(1), now)
}

/// The seven reference regions and a county (Yuhang), which judges by its province's agreements.
const VERIFYING: [&str; 8] = [
    "330000", "330110", "440000", "510000", "430000", "410000", "420000", "000000",
];
const ISSUING: [&str; 7] = [
    "330000", "440000", "510000", "430000", "410000", "420000", "000000",
];

fn r(code: &str) -> RegionCode {
    RegionCode::parse(code).unwrap()
}

/// The signed dev registry, built once from a fresh dev PKI.
fn dev() -> &'static (Registry, OffsetDateTime) {
    static DEV: OnceLock<(Registry, OffsetDateTime)> = OnceLock::new();
    DEV.get_or_init(|| {
        let pki = tempfile::tempdir().unwrap();
        huren_certs::init(pki.path(), &huren_certs::InitOptions::default()).unwrap();
        let now = huren_registry::canonical::whole_seconds(OffsetDateTime::now_utc());
        let dev = DevRegistry::build(pki.path(), &DevOptions::default(), now).unwrap();
        (dev.registry, now)
    })
}

fn status(
    issuing: &str,
    colour: Colour,
    age: Duration,
    source: Source,
    now: OffsetDateTime,
) -> Reading {
    Reading::Status(CanonicalStatus {
        colour,
        issuing_region: r(issuing),
        refreshed_at: now - age,
        valid_until: None,
        source,
        list: None,
    })
}

/// What the dev agreements say, written out by hand: the national default (72 h), Zhejiang
/// judging Sichuan (24 h, online only), Guangdong judging Hubei (24 h, yellow → 14 days central).
fn expected(v: &str, i: &str, colour: Colour, age: Duration, source: Source) -> (Verdict, u32) {
    let (vp, ip) = (r(v).province(), r(i).province());
    let zj_sc = (vp.as_str(), ip.as_str()) == ("330000", "510000");
    let gd_hb = (vp.as_str(), ip.as_str()) == ("440000", "420000");
    let max_age = if zj_sc || gd_hb {
        Duration::hours(24)
    } else {
        Duration::hours(72)
    };
    if source == Source::Degraded
        || matches!(colour, Colour::Pending | Colour::Unknown)
        || age > max_age
        || (zj_sc && source == Source::OfflineSigned)
    {
        return (Verdict::Review, 0);
    }
    match colour {
        Colour::Green => (Verdict::Pass, 0),
        Colour::Yellow if gd_hb => (Verdict::CentralQuarantine, 14),
        Colour::Yellow => (Verdict::HomeQuarantine, 7),
        _ => (Verdict::CentralQuarantine, 14),
    }
}

#[test]
fn every_region_pair_colour_age_and_source_of_the_dev_registry() {
    let (registry, now) = dev();
    let ages = [
        Duration::hours(1),
        Duration::hours(24),
        Duration::hours(24) + Duration::seconds(1),
        Duration::hours(72),
        Duration::hours(73),
    ];
    let sources = [
        Source::Online,
        Source::OfflineSigned,
        Source::Cached,
        Source::Degraded,
    ];
    let mut cases = 0;
    for v in VERIFYING {
        for i in ISSUING {
            let agreement = registry.agreement(r(v), r(i), *now);
            assert!(
                agreement.is_some(),
                "the national agreement covers {v} judging {i}"
            );
            for colour in Colour::ALL {
                for age in ages {
                    for source in sources {
                        let d =
                            decide(&status(i, colour, age, source, *now), r(v), agreement, *now);
                        let want = expected(v, i, colour, age, source);
                        assert_eq!(
                            (d.verdict, d.quarantine_days),
                            want,
                            "{v} judging {colour:?} from {i}, {} h old, {source:?}: {:?}",
                            age.whole_hours(),
                            d.reasons
                        );
                        assert!(!d.reasons.is_empty(), "every decision says why");
                        cases += 1;
                    }
                }
            }
        }
    }
    assert_eq!(cases, 8 * 7 * 5 * 5 * 4);
}

#[test]
fn the_bilateral_agreements_win_over_the_national_one() {
    let (registry, now) = dev();
    let d = decide(
        &status(
            "420000",
            Colour::Yellow,
            Duration::hours(1),
            Source::OfflineSigned,
            *now,
        ),
        r("440000"),
        registry.agreement(r("440000"), r("420000"), *now),
        *now,
    );
    assert_eq!(
        (d.verdict, d.quarantine_days),
        (Verdict::CentralQuarantine, 14)
    );
    assert_eq!(d.agreement_id.as_deref(), Some("440000-420000"));
}

fn national(now: OffsetDateTime) -> Agreement {
    huren_registry::dev::agreements(now)
        .into_iter()
        .find(|a| a.id == "national")
        .unwrap()
}

fn green(now: OffsetDateTime) -> Reading {
    status(
        "510000",
        Colour::Green,
        Duration::hours(1),
        Source::Online,
        now,
    )
}

#[test]
fn no_agreement_is_review() {
    let now = OffsetDateTime::now_utc();
    let d = decide(&green(now), r("330000"), None, now);
    assert_eq!(d.verdict, Verdict::Review);
    assert!(d.has_reason(ReasonCode::NoAgreement));
    assert_eq!(d.agreement_id, None);
}

#[test]
fn an_agreement_outside_its_window_is_review() {
    let now = OffsetDateTime::now_utc();
    let mut a = national(now);
    a.effective_from = now + Duration::days(1);
    let d = decide(&green(now), r("330000"), Some(&a), now);
    assert_eq!(d.verdict, Verdict::Review);
    assert!(d.has_reason(ReasonCode::AgreementNotEffective));

    let mut a = national(now);
    a.effective_from = now - Duration::days(30);
    a.effective_until = Some(now);
    let d = decide(&green(now), r("330000"), Some(&a), now);
    assert_eq!(d.verdict, Verdict::Review, "effective_until is exclusive");

    a.effective_until = Some(now + Duration::seconds(1));
    assert_eq!(
        decide(&green(now), r("330000"), Some(&a), now).verdict,
        Verdict::Pass
    );
}

#[test]
fn an_agreement_for_another_pair_is_not_applied() {
    let now = OffsetDateTime::now_utc();
    let gd_hb = huren_registry::dev::agreements(now)
        .into_iter()
        .find(|a| a.id == "440000-420000")
        .unwrap();
    let d = decide(&green(now), r("330000"), Some(&gd_hb), now);
    assert_eq!(d.verdict, Verdict::Review);
    assert!(d.has_reason(ReasonCode::AgreementNotForPair));
}

#[test]
fn a_stale_green_is_never_pass_whatever_the_rule() {
    let now = OffsetDateTime::now_utc();
    let a = national(now);
    let just_in = status(
        "510000",
        Colour::Green,
        a.max_code_age(),
        Source::Online,
        now,
    );
    assert_eq!(
        decide(&just_in, r("330000"), Some(&a), now).verdict,
        Verdict::Pass
    );
    let replay = status(
        "510000",
        Colour::Green,
        a.max_code_age() + Duration::seconds(1),
        Source::Online,
        now,
    );
    let d = decide(&replay, r("330000"), Some(&a), now);
    assert_eq!(d.verdict, Verdict::Review);
    assert!(d.has_reason(ReasonCode::Stale));
}

#[test]
fn every_reason_for_review_is_listed() {
    let now = OffsetDateTime::now_utc();
    let a = national(now);
    let d = decide(
        &status(
            "510000",
            Colour::Pending,
            Duration::days(10),
            Source::Degraded,
            now,
        ),
        r("330000"),
        Some(&a),
        now,
    );
    assert_eq!(d.verdict, Verdict::Review);
    for code in [ReasonCode::Degraded, ReasonCode::Pending, ReasonCode::Stale] {
        assert!(d.has_reason(code), "{code} missing from {:?}", d.reasons);
    }
}

#[test]
fn an_expired_payload_or_a_refresh_from_the_future_is_review() {
    let now = OffsetDateTime::now_utc();
    let a = national(now);
    let expired = Reading::Status(CanonicalStatus {
        colour: Colour::Green,
        issuing_region: r("510000"),
        refreshed_at: now - Duration::hours(1),
        valid_until: Some(now - Duration::minutes(1)),
        source: Source::OfflineSigned,
        list: None,
    });
    let d = decide(&expired, r("330000"), Some(&a), now);
    assert_eq!(d.verdict, Verdict::Review);
    assert!(d.has_reason(ReasonCode::Expired));

    let future = status(
        "510000",
        Colour::Green,
        -Duration::hours(1),
        Source::Online,
        now,
    );
    let d = decide(&future, r("330000"), Some(&a), now);
    assert_eq!(d.verdict, Verdict::Review);
    assert!(d.has_reason(ReasonCode::FutureRefresh));
    let small_skew = status(
        "510000",
        Colour::Green,
        -Duration::minutes(1),
        Source::Online,
        now,
    );
    assert_eq!(
        decide(&small_skew, r("330000"), Some(&a), now).verdict,
        Verdict::Pass
    );
}

#[test]
fn read_failures_reject_or_review_even_with_an_agreement() {
    let now = OffsetDateTime::now_utc();
    let a = national(now);
    let cases = [
        (
            CodeError::BadSignature {
                issuer: "sc-1".into(),
            },
            Verdict::Reject,
            ReasonCode::Forged,
        ),
        (
            CodeError::Trust(TrustError::Revoked {
                issuer: "sc-1".into(),
                effective_from: now - Duration::days(1),
                reason: "key compromise".into(),
            }),
            Verdict::Reject,
            ReasonCode::RevokedIssuer,
        ),
        (
            CodeError::Trust(TrustError::UnknownIssuer {
                region: r("510000"),
                issuer: "nobody".into(),
            }),
            Verdict::Reject,
            ReasonCode::UntrustedIssuer,
        ),
        (
            CodeError::Malformed {
                region: r("510000"),
                detail: "truncated".into(),
            },
            Verdict::Reject,
            ReasonCode::Malformed,
        ),
        (
            CodeError::UnknownCode,
            Verdict::Reject,
            ReasonCode::UnknownCode,
        ),
        (
            CodeError::CodeRevoked {
                serial: "GD-42".into(),
                reason: "reissued".into(),
            },
            Verdict::Reject,
            ReasonCode::RevokedCode,
        ),
        (
            CodeError::Trust(TrustError::UnknownRegion(r("650000"))),
            Verdict::Review,
            ReasonCode::UnknownRegion,
        ),
        (
            CodeError::Expired(now),
            Verdict::Review,
            ReasonCode::Expired,
        ),
        (
            CodeError::Unsupported("format v9".into()),
            Verdict::Review,
            ReasonCode::Unsupported,
        ),
    ];
    for (error, verdict, code) in cases {
        let reading = Reading::Failed(ReadFailure::from(&error));
        let d = decide(&reading, r("330000"), Some(&a), now);
        assert_eq!(d.verdict, verdict, "{error}");
        assert_eq!(d.quarantine_days, 0);
        assert!(d.has_reason(code), "{error}: {:?}", d.reasons);
    }
}

/// Rule 5 as a table: what each verdict becomes once the registry has expired.
fn frozen_at(reading: &Reading, agreement: &Agreement, now: OffsetDateTime) -> Decision {
    super::engine::decide(reading, r("330000"), Some(agreement), now, now)
}

#[test]
fn a_pass_is_review_from_the_instant_the_registry_expires() {
    let now = OffsetDateTime::now_utc();
    let a = national(now);
    let just_before = super::engine::decide(
        &green(now),
        r("330000"),
        Some(&a),
        now + Duration::seconds(1),
        now,
    );
    assert_eq!(just_before.verdict, Verdict::Pass);
    assert!(!just_before.has_reason(ReasonCode::RegistryExpired));

    for expired in [now, now - Duration::days(3)] {
        let d = super::engine::decide(&green(now), r("330000"), Some(&a), expired, now);
        assert_eq!(d.verdict, Verdict::Review, "expired at {expired}");
        assert_eq!(d.quarantine_days, 0);
        assert_eq!(d.agreement_id.as_deref(), Some("national"));
        assert_eq!(d.reasons.len(), 1, "{:?}", d.reasons);
        assert_eq!(d.reasons[0].code, ReasonCode::RegistryExpired);
        assert_eq!(d.reasons[0].code.as_str(), "REGISTRY_EXPIRED");
        assert!(
            // RFC 3339, not time's Display (issue 13).
            d.reasons[0]
                .message
                .contains(&huren_adapters::when::rfc3339(&expired)),
            "{}",
            d.reasons[0].message
        );
    }
}

#[test]
fn under_an_expired_registry_other_verdicts_stand_and_say_so() {
    let now = OffsetDateTime::now_utc();
    let a = national(now);
    let yellow = status(
        "510000",
        Colour::Yellow,
        Duration::hours(1),
        Source::Online,
        now,
    );
    let forged = Reading::Failed(ReadFailure::Forged("bad signature".into()));
    let stale = status(
        "510000",
        Colour::Green,
        Duration::days(10),
        Source::Online,
        now,
    );
    for (reading, verdict, days, first) in [
        (
            yellow,
            Verdict::HomeQuarantine,
            7,
            ReasonCode::AgreementRule,
        ),
        (forged, Verdict::Reject, 0, ReasonCode::Forged),
        (stale, Verdict::Review, 0, ReasonCode::Stale),
    ] {
        let d = frozen_at(&reading, &a, now);
        assert_eq!(
            (d.verdict, d.quarantine_days),
            (verdict, days),
            "{reading:?}"
        );
        assert_eq!(d.reasons.len(), 2, "{:?}", d.reasons);
        assert_eq!(d.reasons[0].code, first);
        assert_eq!(d.reasons[1].code, ReasonCode::RegistryExpired);
    }
}

#[test]
fn the_dev_registry_expires_with_its_timestamp() {
    // The timestamp is the shortest-lived document, so it decides when a node freezes.
    let (registry, now) = dev();
    assert_eq!(registry.expires(), registry.timestamp().expires);
    assert_eq!(registry.expires(), *now + Duration::days(1));
}

#[test]
fn pending_and_unknown_colours_are_review_even_if_an_agreement_says_pass() {
    let now = OffsetDateTime::now_utc();
    let mut a = national(now);
    for colour in [Colour::Pending, Colour::Unknown] {
        a.rules
            .set(colour, huren_registry::doc::Rule::new(Verdict::Pass, 0));
    }
    for (colour, code) in [
        (Colour::Pending, ReasonCode::Pending),
        (Colour::Unknown, ReasonCode::UnknownColour),
    ] {
        let d = decide(
            &status("510000", colour, Duration::hours(1), Source::Online, now),
            r("330000"),
            Some(&a),
            now,
        );
        assert_eq!(d.verdict, Verdict::Review, "{colour:?}");
        assert_eq!(d.reasons.len(), 1, "{:?}", d.reasons);
        assert_eq!(d.reasons[0].code, code);
    }
}

#[test]
fn reason_codes_print_as_their_wire_names() {
    assert_eq!(ReasonCode::RegistryExpired.to_string(), "REGISTRY_EXPIRED");
    assert_eq!(ReasonCode::AgreementRule.to_string(), "AGREEMENT_RULE");
}

#[test]
fn a_refresh_up_to_the_clock_skew_ahead_is_believed() {
    let now = OffsetDateTime::now_utc();
    let a = national(now);
    let ahead = |by: Duration| status("510000", Colour::Green, -by, Source::Online, now);
    let d = decide(&ahead(CLOCK_SKEW), r("330000"), Some(&a), now);
    assert_eq!(d.verdict, Verdict::Pass, "{:?}", d.reasons);
    let d = decide(
        &ahead(CLOCK_SKEW + Duration::seconds(1)),
        r("330000"),
        Some(&a),
        now,
    );
    assert!(d.has_reason(ReasonCode::FutureRefresh), "{:?}", d.reasons);
}

/// A fresh offline green code that names a status-list entry, with what the held list says.
fn listed(list: ListStatus, colour: Colour, now: OffsetDateTime) -> Reading {
    match status(
        "430000",
        colour,
        Duration::hours(1),
        Source::OfflineSigned,
        now,
    ) {
        Reading::Status(s) => Reading::Status(CanonicalStatus {
            list: Some(list),
            ..s
        }),
        failed => failed,
    }
}

#[test]
fn a_valid_list_entry_leaves_the_agreement_to_decide() {
    let now = OffsetDateTime::now_utc();
    let a = national(now);
    let d = decide(
        &listed(ListStatus::Valid, Colour::Green, now),
        r("330000"),
        Some(&a),
        now,
    );
    assert_eq!(d.verdict, Verdict::Pass, "{:?}", d.reasons);
    assert_eq!(d.reasons[0].code, ReasonCode::AgreementRule);
    let d = decide(
        &listed(ListStatus::Valid, Colour::Red, now),
        r("330000"),
        Some(&a),
        now,
    );
    assert_eq!(d.verdict, Verdict::CentralQuarantine);
}

#[test]
fn a_withdrawn_code_is_rejected_with_or_without_an_agreement() {
    let now = OffsetDateTime::now_utc();
    let a = national(now);
    for agreement in [Some(&a), None] {
        let d = decide(
            &listed(ListStatus::Withdrawn, Colour::Green, now),
            r("330000"),
            agreement,
            now,
        );
        assert_eq!(d.verdict, Verdict::Reject, "{:?}", d.reasons);
        assert_eq!(d.reasons.len(), 1);
        assert_eq!(d.reasons[0].code, ReasonCode::RevokedCode);
        assert_eq!(d.quarantine_days, 0);
        assert_eq!(d.agreement_id, agreement.map(|a| a.id.clone()));
    }
}

#[test]
fn a_suspended_code_or_a_stale_or_missing_list_is_review_never_pass() {
    let now = OffsetDateTime::now_utc();
    let a = national(now);
    for (list, code) in [
        (ListStatus::Suspended, ReasonCode::CodeSuspended),
        (ListStatus::Stale, ReasonCode::StatusListStale),
        (ListStatus::Missing, ReasonCode::StatusListStale),
    ] {
        for colour in [Colour::Green, Colour::Red] {
            let d = decide(&listed(list, colour, now), r("330000"), Some(&a), now);
            assert_eq!(d.verdict, Verdict::Review, "{list:?} {colour:?}");
            assert_eq!(d.reasons.len(), 1, "{:?}", d.reasons);
            assert_eq!(d.reasons[0].code, code);
            assert_eq!(d.quarantine_days, 0);
        }
    }
}

#[test]
fn the_new_reason_codes_print_as_their_wire_names() {
    assert_eq!(ReasonCode::StatusListStale.to_string(), "STATUS_LIST_STALE");
    assert_eq!(ReasonCode::CodeSuspended.to_string(), "CODE_SUSPENDED");
}
