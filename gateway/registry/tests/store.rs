//! The registry directory: updates either pass and land on disk, or are refused with a reason
//! and leave the last good state, in memory and on disk.

mod support;

use huren_registry::store::{self, Store};
use huren_registry::{FreshnessError, SignatureError, VerifyError, verify_state};
use support::{fixture, now};

#[test]
fn a_good_update_is_applied_and_persisted() {
    let mut f = fixture();
    let mut store = Store::open(f.reg.path(), now()).unwrap();
    f.dev
        .edit_region("330000", |d| d.cache_ttl_secs = 10, now())
        .unwrap();
    let applied = store.apply(f.dev.registry.state(), now()).unwrap();
    assert_eq!(applied.version(), 2);
    let reread = store::load(f.reg.path(), None, now()).unwrap();
    assert_eq!(reread.version(), 2);
}

#[test]
fn a_bad_update_is_refused_and_the_last_good_state_kept() {
    let mut f = fixture();
    let mut store = Store::open(f.reg.path(), now()).unwrap();
    let before = std::fs::read(f.reg.path().join(store::STATE_FILE)).unwrap();
    f.dev.refresh(now()).unwrap();
    let mut bad = f.dev.registry.state().clone();
    bad.documents
        .get_mut("regions/330000")
        .unwrap()
        .signatures
        .clear();
    let err = store.apply(&bad, now()).unwrap_err();
    assert!(
        matches!(err.verify_error(), Some(VerifyError::Signature(SignatureError::BelowThreshold { document, .. })) if document == "regions/330000"),
        "{err}"
    );
    assert_eq!(store.current().version(), 1);
    assert_eq!(
        std::fs::read(f.reg.path().join(store::STATE_FILE)).unwrap(),
        before
    );
}

#[test]
fn reload_refuses_a_directory_rolled_back_behind_the_node() {
    let mut f = fixture();
    let v1_bytes = std::fs::read(f.reg.path().join(store::STATE_FILE)).unwrap();
    f.dev.refresh(now()).unwrap();
    f.dev.save(f.reg.path()).unwrap();
    let mut store = Store::open(f.reg.path(), now()).unwrap();
    assert_eq!(store.current().version(), 2);
    std::fs::write(f.reg.path().join(store::STATE_FILE), v1_bytes).unwrap();
    let err = store.reload(now()).unwrap_err();
    assert!(
        matches!(
            err.verify_error(),
            Some(VerifyError::Freshness(FreshnessError::Rollback { .. }))
        ),
        "{err}"
    );
    assert_eq!(store.current().version(), 2);
    assert!(verify_state(store.current().state(), None, now()).is_ok());
}

#[test]
fn a_frozen_dev_registry_is_renewed_by_its_publisher_not_by_a_node() {
    let f = fixture();
    let later = now() + time::Duration::days(2);
    let err = store::load(f.reg.path(), None, later).unwrap_err();
    assert!(
        matches!(err.verify_error(), Some(VerifyError::Freshness(FreshnessError::Expired { document, .. })) if document == "timestamp"),
        "{err}"
    );
    assert!(huren_registry::dev::DevRegistry::renew_if_stale(f.reg.path(), later).unwrap());
    let renewed = store::load(f.reg.path(), None, later).unwrap();
    assert_eq!(renewed.version(), 2);
    assert!(!huren_registry::dev::DevRegistry::renew_if_stale(f.reg.path(), later).unwrap());
}
