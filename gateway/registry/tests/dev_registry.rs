//! The dev registry answers what the gateway will ask: concept maps, agreements, issuer keys,
//! status services, receipt keys — and it reloads from disk verified.

mod support;

use huren_adapters::{Colour, TrustError, TrustView};
use huren_registry::store;
use huren_registry::{AgreementKind, Verdict};
use support::{fixture, now, region};
use time::Duration;

#[test]
fn covers_the_seven_regions_with_their_2020_words() {
    let f = fixture();
    let r = &f.dev.registry;
    assert_eq!(r.regions().count(), 7);
    let t = now();
    assert_eq!(
        r.translate(region("410000"), "中风险", t, t),
        Colour::Yellow
    );
    assert_eq!(r.translate(region("000000"), "集中观察", t, t), Colour::Red);
    assert_eq!(r.translate(region("440000"), "黄码", t, t), Colour::Unknown);
    assert_eq!(r.translate(region("420000"), "灰码", t, t), Colour::Pending);
    // Hubei green lapses after 3 days without renewal; a Yuhang code reads Zhejiang's map.
    assert_eq!(
        r.translate(region("420000"), "绿码", t - Duration::days(4), t),
        Colour::Yellow
    );
    assert_eq!(r.translate(region("330110"), "绿码", t, t), Colour::Green);
}

#[test]
fn zhejiang_treats_sichuan_differently_from_the_national_default() {
    let f = fixture();
    let r = &f.dev.registry;
    let t = now();
    let zj_sc = r.agreement(region("330110"), region("510000"), t).unwrap();
    assert_eq!(zj_sc.kind, AgreementKind::Bilateral);
    assert_eq!(zj_sc.max_code_age_secs, 24 * 3600);
    assert!(zj_sc.online_check_required);
    let zj_hn = r.agreement(region("330000"), region("430000"), t).unwrap();
    assert_eq!(zj_hn.id, "national");
    assert_eq!(
        zj_hn.rules.get(Colour::Yellow).verdict,
        Verdict::HomeQuarantine
    );
    assert_eq!(zj_hn.rules.get(Colour::Yellow).quarantine_days, 7);
    assert_eq!(zj_hn.rules.get(Colour::Red).quarantine_days, 14);
    assert_eq!(zj_hn.rules.get(Colour::Pending).verdict, Verdict::Review);
    let gd_hb = r.agreement(region("440000"), region("420000"), t).unwrap();
    assert_eq!(
        gd_hb.rules.get(Colour::Yellow).verdict,
        Verdict::CentralQuarantine
    );
}

#[test]
fn issuer_keys_status_services_and_receipt_key_are_listed() {
    let f = fixture();
    let r = &f.dev.registry;
    let t = now();
    let key = r.issuer_key(region("510000"), "sc-2020-01", t).unwrap();
    assert_eq!(key.algorithm, huren_adapters::KeyAlgorithm::EcdsaP256Sha256);
    assert_eq!(key.public_key.len(), 65);
    assert!(matches!(
        r.issuer_key(region("510000"), "zj-2020-01", t),
        Err(TrustError::UnknownIssuer { .. })
    ));
    // Hunan lists an SM2 issuer beside its P-256 one.
    let sm2 = r.issuer_key(region("430000"), "hn-sm2-2026-01", t).unwrap();
    assert_eq!(sm2.algorithm, huren_adapters::KeyAlgorithm::Sm2Sm3);
    assert_eq!(sm2.public_key.len(), 65);
    let p256 = r.issuer_key(region("430000"), "hn-2020-01", t).unwrap();
    assert_eq!(
        p256.algorithm,
        huren_adapters::KeyAlgorithm::EcdsaP256Sha256
    );
    let svc = r.status_service(region("510000")).unwrap();
    assert_eq!(svc.url, "https://127.0.0.1:41003");
    assert!(
        svc.spiffe_id
            .ends_with("/region/510000/role/service/status")
    );
    assert!(r.status_service(region("440000")).is_none());
    assert_eq!(
        r.cache_ttl(region("330000")),
        std::time::Duration::from_secs(30)
    );
    let receipt = r.receipt_key("gateway-1").unwrap();
    assert_eq!(*receipt, f.dev.keys.receipt.public_key());
    assert_eq!(r.node_for_region(region("330110")).unwrap().0, "gateway-1");
}

#[test]
fn a_saved_registry_loads_verified_with_its_keys() {
    let f = fixture();
    let loaded = store::load(f.reg.path(), None, now()).unwrap();
    assert_eq!(loaded.version(), f.dev.registry.version());
    let reopened = huren_registry::dev::DevRegistry::open(f.reg.path(), now()).unwrap();
    assert_eq!(reopened.keys.receipt.key_id(), f.dev.keys.receipt.key_id());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(f.reg.path().join("keys/root-1.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
