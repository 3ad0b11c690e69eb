//! The trusted state a node keeps across restarts: a registry older than it, or whose log does
//! not extend its checkpoint, is refused; the same or a newer one is accepted.

mod support;

use huren_registry::trusted::{self, RollbackError, TrustedState, check};
use support::{fixture, now};

/// A dev registry at version 1, and version 3 of it (two region edits later).
fn versions() -> (huren_registry::Registry, huren_registry::Registry) {
    let mut f = fixture();
    let v1 = f.dev.registry.clone();
    f.dev
        .edit_region("440000", |d| d.cache_ttl_secs = 11, now())
        .unwrap();
    f.dev
        .edit_region("440000", |d| d.cache_ttl_secs = 12, now())
        .unwrap();
    (v1, f.dev.registry.clone())
}

#[test]
fn the_same_or_a_newer_registry_is_accepted() {
    let (v1, v3) = versions();
    let t1 = TrustedState::of(&v1);
    assert_eq!(check(&t1, &v1), Ok(()));
    assert_eq!(check(&t1, &v3), Ok(()));
    assert_eq!(check(&TrustedState::of(&v3), &v3), Ok(()));
}

#[test]
fn the_trusted_state_records_every_version_and_the_checkpoint() {
    let (_, v3) = versions();
    let t = TrustedState::of(&v3);
    assert_eq!(t.timestamp_version, 3);
    assert_eq!(t.root_version, v3.root().version);
    assert_eq!(t.documents.get("regions/440000"), Some(&3));
    assert_eq!(t.documents.len(), v3.state().documents.len());
    assert_eq!(t.checkpoint_size, v3.checkpoint().tree_size);
    assert_eq!(t.checkpoint_root, v3.checkpoint().root_hash);
}

#[test]
fn an_older_registry_is_refused_naming_both_versions() {
    let (v1, v3) = versions();
    let err = check(&TrustedState::of(&v3), &v1).unwrap_err();
    // The timestamp is compared before the documents, so the registry version is named.
    assert_eq!(
        err,
        RollbackError::Older {
            what: "registry (timestamp)".into(),
            trusted: 3,
            offered: 1,
        }
    );
    let text = err.to_string();
    assert!(
        text.contains("version 1") && text.contains("version 3"),
        "{text}"
    );
    assert!(text.contains("publish a newer registry version"), "{text}");
    assert!(text.contains("trust-reset"), "{text}");
}

#[test]
fn a_newer_root_or_document_alone_is_enough_to_refuse() {
    let (v1, _) = versions();
    let mut t = TrustedState::of(&v1);
    t.root_version += 1;
    assert!(matches!(check(&t, &v1), Err(RollbackError::Older { what, .. }) if what == "root"));

    let mut t = TrustedState::of(&v1);
    *t.documents.get_mut("regions/440000").unwrap() += 1;
    assert!(
        matches!(check(&t, &v1), Err(RollbackError::Older { what, trusted: 2, offered: 1 }) if what == "regions/440000")
    );

    let mut t = TrustedState::of(&v1);
    t.timestamp_version += 1;
    assert!(matches!(check(&t, &v1), Err(RollbackError::Older { .. })));
}

#[test]
fn a_document_the_registry_no_longer_carries_is_not_a_rollback() {
    let (v1, _) = versions();
    let mut t = TrustedState::of(&v1);
    t.documents.insert("agreements/gone".into(), 9);
    assert_eq!(check(&t, &v1), Ok(()));
}

#[test]
fn a_log_that_does_not_extend_the_trusted_checkpoint_is_refused() {
    let (v1, v3) = versions();
    let mut t = TrustedState::of(&v1);
    t.checkpoint_root = "00".repeat(32);
    assert!(
        matches!(check(&t, &v3), Err(RollbackError::ForkedLog { offered, .. }) if offered == v3.checkpoint().tree_size),
        "a forked log"
    );
    // Same size, other root: also a fork.
    assert!(matches!(
        check(&t, &v1),
        Err(RollbackError::ForkedLog { .. })
    ));

    // A trusted log longer than the offered one: shrunk.
    let mut t = TrustedState::of(&v1);
    t.checkpoint_size = v3.checkpoint().tree_size + 1;
    let err = check(&t, &v3).unwrap_err();
    assert!(matches!(err, RollbackError::ForkedLog { .. }), "{err}");
    assert!(err.to_string().contains("trust-reset"), "{err}");
}

#[test]
fn the_file_is_kept_replaced_and_reset_into_a_record() {
    let (v1, v3) = versions();
    let state = tempfile::tempdir().unwrap();
    assert_eq!(trusted::file::load(state.path()).unwrap(), None);
    trusted::file::save(state.path(), &TrustedState::of(&v1)).unwrap();
    trusted::file::save(state.path(), &TrustedState::of(&v3)).unwrap();
    assert_eq!(
        trusted::file::load(state.path()).unwrap(),
        Some(TrustedState::of(&v3))
    );
    let reset = trusted::file::reset(state.path(), now()).unwrap().unwrap();
    assert_eq!(reset.discarded, TrustedState::of(&v3));
    assert!(reset.record.exists());
    assert_eq!(trusted::file::load(state.path()).unwrap(), None);
    assert!(trusted::file::reset(state.path(), now()).unwrap().is_none());
}
