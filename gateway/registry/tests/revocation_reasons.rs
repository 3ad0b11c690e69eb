//! A revocation's reason: `key_compromise` refuses the issuer at any signing time, `retired` and
//! `superseded` from the effective time on; legacy free text keeps the effective-time rule and
//! its exact bytes (so registries published before typed reasons still verify).

mod support;

use huren_adapters::{TrustError, TrustView};
use huren_registry::doc::{Revocation, RevocationReason};
use support::{fixture, now, region};
use time::Duration;

fn revoked_for(reason: RevocationReason) -> huren_registry::Registry {
    let mut f = fixture();
    let t = now();
    f.dev
        .edit_region(
            "510000",
            |d| {
                d.revocations.push(Revocation {
                    issuer: "sc-2020-01".into(),
                    effective_from: t,
                    reason,
                })
            },
            t,
        )
        .unwrap();
    f.dev.registry.clone()
}

#[test]
fn a_compromised_key_is_refused_whatever_the_signing_time() {
    let r = revoked_for(RevocationReason::KeyCompromise);
    for at in [
        now() - Duration::minutes(1),
        now() - Duration::days(30),
        now(),
    ] {
        let err = r
            .issuer_key(region("510000"), "sc-2020-01", at)
            .unwrap_err();
        assert!(
            matches!(&err, TrustError::Revoked { reason, .. } if reason == "key_compromise"),
            "{err}"
        );
    }
}

#[test]
fn a_retired_or_superseded_key_is_refused_from_the_effective_time_only() {
    for reason in [
        RevocationReason::Retired,
        RevocationReason::Superseded,
        RevocationReason::from("key leaked (written before reasons were typed)"),
    ] {
        let r = revoked_for(reason.clone());
        assert!(
            r.issuer_key(region("510000"), "sc-2020-01", now() - Duration::minutes(1))
                .is_ok(),
            "{reason}"
        );
        assert!(
            r.issuer_key(region("510000"), "sc-2020-01", now() + Duration::minutes(1))
                .is_err(),
            "{reason}"
        );
    }
}

#[test]
fn a_superseded_issuer_still_signs_the_status_list_of_its_earlier_codes_a_compromised_one_not() {
    let later = now() + Duration::minutes(1);
    for reason in [RevocationReason::Retired, RevocationReason::Superseded] {
        let r = revoked_for(reason.clone());
        // Its codes signed before the revocation stay in force, so they must stay withdrawable.
        assert!(
            r.status_list_key(region("510000"), "sc-2020-01", later)
                .is_ok(),
            "{reason}"
        );
    }
    let r = revoked_for(RevocationReason::KeyCompromise);
    assert!(
        r.status_list_key(region("510000"), "sc-2020-01", later)
            .is_err()
    );
    assert!(
        r.status_list_key(region("510000"), "sc-other", later)
            .is_err(),
        "an unlisted issuer signs no list"
    );
}

#[test]
fn reasons_read_and_write_as_their_words() {
    for (word, reason) in [
        ("key_compromise", RevocationReason::KeyCompromise),
        ("retired", RevocationReason::Retired),
        ("superseded", RevocationReason::Superseded),
    ] {
        assert_eq!(RevocationReason::parse(word), Some(reason.clone()));
        assert_eq!(String::from(reason.clone()), word);
        assert!(!RevocationReason::Retired.invalidates_all_codes());
    }
    assert!(RevocationReason::KeyCompromise.invalidates_all_codes());
    assert_eq!(RevocationReason::parse("key compromise"), None);
    let legacy: RevocationReason = serde_json::from_str("\"key compromise\"").unwrap();
    assert!(!legacy.invalidates_all_codes());
    assert_eq!(
        serde_json::to_string(&legacy).unwrap(),
        "\"key compromise\""
    );
}
