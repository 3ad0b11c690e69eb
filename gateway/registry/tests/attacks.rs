//! One test per attack on the registry: each asserts the refusal and its reason.

mod support;

use huren_adapters::{TrustError, TrustView};
use huren_registry::ceremony::{PublishError, envelope, signed};
use huren_registry::dev::DevError;
use huren_registry::doc::{Document, Issuer, IssuerStatus, Revocation, Root};
use huren_registry::log::{Checkpoint, CheckpointError, leaf_hash, verify_inclusion};
use huren_registry::x509::CertProblem;
use huren_registry::{
    Algorithm, DocumentError, Envelope, FreshnessError, KeySet, LogError, RootError,
    SignatureError, SigningKey, VerifyError, store, verify_state,
};
use support::{fixture, issuer_cert, now, publish_raw, region};
use time::Duration;

fn refused(e: DevError) -> VerifyError {
    match e {
        DevError::Publish(PublishError::Refused(v)) => v,
        other => panic!("expected a refusal, got {other}"),
    }
}

#[test]
fn rollback_to_an_older_registry_is_refused() {
    let mut f = fixture();
    let v1 = f.dev.registry.clone();
    let v2 = f.dev.refresh(now()).unwrap().clone();
    let err = verify_state(v1.state(), Some(&v2), now()).unwrap_err();
    assert_eq!(
        err,
        VerifyError::Freshness(FreshnessError::Rollback {
            document: "timestamp".into(),
            held: 2,
            offered: 1
        })
    );
    // An old document re-published under a newer timestamp is a rollback too.
    let old_sc = v1.state().documents["regions/510000"].clone();
    f.dev
        .edit_region("510000", |d| d.cache_ttl_secs = 5, now())
        .unwrap();
    let current = f.dev.registry.clone();
    let err = publish_raw(&f.dev, &current, vec![("regions/510000".into(), old_sc)]).unwrap_err();
    assert!(
        matches!(&err, PublishError::Refused(VerifyError::Freshness(FreshnessError::Rollback { document, held: 2, offered: 1 })) if document == "regions/510000"),
        "{err}"
    );
}

#[test]
fn a_frozen_registry_stops_loading_when_its_timestamp_expires() {
    let f = fixture();
    let later = now() + Duration::days(2);
    let err = verify_state(f.dev.registry.state(), None, later).unwrap_err();
    assert!(
        matches!(&err, VerifyError::Freshness(FreshnessError::Expired { document, .. }) if document == "timestamp"),
        "{err}"
    );
}

#[test]
fn a_registry_expires_with_its_shortest_lived_document() {
    // What a node judges by at runtime must agree with what start-up accepts.
    let mut f = fixture();
    assert_eq!(f.dev.registry.expires(), f.dev.registry.timestamp().expires);
    let soon = now() + Duration::hours(1);
    let mut national = huren_registry::dev::agreements(now())
        .into_iter()
        .find(|a| a.id == "national")
        .unwrap();
    national.expires = soon;
    let registry = f.dev.put_agreement(national, now()).unwrap().clone();
    assert_eq!(registry.expires(), soon);
    assert!(verify_state(registry.state(), None, soon - Duration::seconds(1)).is_ok());
    let err = verify_state(registry.state(), None, soon).unwrap_err();
    assert!(
        matches!(&err, VerifyError::Freshness(FreshnessError::Expired { .. })),
        "{err}"
    );
}

#[test]
fn mixing_a_document_from_another_state_is_refused() {
    let mut f = fixture();
    let v1 = f.dev.registry.clone();
    f.dev
        .edit_region("510000", |d| d.cache_ttl_secs = 5, now())
        .unwrap();
    let mut state = f.dev.registry.state().clone();
    state.documents.insert(
        "regions/510000".into(),
        v1.state().documents["regions/510000"].clone(),
    );
    let err = verify_state(&state, None, now()).unwrap_err();
    assert_eq!(
        err,
        VerifyError::Freshness(FreshnessError::MixAndMatch {
            document: "regions/510000".into(),
            bound: 2,
            found: 1
        })
    );
}

#[test]
fn a_document_the_timestamp_does_not_bind_is_refused() {
    let f = fixture();
    let mut state = f.dev.registry.state().clone();
    let mut a = f
        .dev
        .registry
        .agreements()
        .find(|a| a.id == "national")
        .unwrap()
        .clone();
    a.id = "extra".into();
    let env = signed(&a, &[&f.dev.keys.root[0], &f.dev.keys.root[1]]).unwrap();
    state.documents.insert(a.name(), env);
    let err = verify_state(&state, None, now()).unwrap_err();
    assert_eq!(
        err,
        VerifyError::Freshness(FreshnessError::Unbound {
            document: "agreements/extra".into()
        })
    );
}

#[test]
fn a_changed_agreement_is_verified_afresh_against_the_held_state() {
    let f = fixture();
    let current = f.dev.registry.clone();
    let mut a = current
        .agreements()
        .find(|a| a.id == "330000-510000")
        .unwrap()
        .clone();
    a.version += 1;
    a.max_code_age_secs = 3600;
    // Only Zhejiang signs the new version; Sichuan's threshold is missing.
    let env = signed(&a, &[&f.dev.keys.regions["330000"][0]]).unwrap();
    let err = publish_raw(&f.dev, &current, vec![(a.name(), env)]).unwrap_err();
    assert!(
        matches!(
            &err,
            PublishError::Refused(VerifyError::Signature(SignatureError::BelowThreshold { document, role, valid: 0, .. }))
                if document == "agreements/330000-510000" && role == "region 510000 keys"
        ),
        "{err}"
    );
}

#[test]
fn an_agreement_with_unusable_scopes_is_refused() {
    let f = fixture();
    let current = f.dev.registry.clone();
    let base = current
        .agreements()
        .find(|a| a.id == "330000-510000")
        .unwrap()
        .clone();
    let zj = &f.dev.keys.regions["330000"][0];
    let sc = &f.dev.keys.regions["510000"][0];
    let with_sides = |id: &str, verifying: &str, issuing: &str| {
        let mut a = base.clone();
        a.id = id.into();
        a.verifying = verifying.into();
        a.issuing = issuing.into();
        a
    };
    for (a, why) in [
        (
            with_sides("330000-330000", "330000", "330000"),
            "a bilateral agreement names two different regions",
        ),
        (
            with_sides("any-510000", "*", "510000"),
            "a bilateral agreement names two different regions",
        ),
        (
            with_sides("330000-any", "330000", "*"),
            "a bilateral agreement names two different regions",
        ),
        (
            with_sides("33-510000", "33", "510000"),
            "\"33\" is neither a region code nor *",
        ),
    ] {
        let env = signed(&a, &[zj, sc]).unwrap();
        let err = publish_raw(&f.dev, &current, vec![(a.name(), env)]).unwrap_err();
        assert!(
            matches!(
                &err,
                PublishError::Refused(VerifyError::Document(DocumentError::BadAgreement { document, reason }))
                    if *document == a.name() && reason == why
            ),
            "{err}"
        );
    }
}

#[test]
fn a_national_agreement_below_the_root_threshold_is_refused() {
    let f = fixture();
    let mut state = f.dev.registry.state().clone();
    let env = state.documents.get_mut("agreements/national").unwrap();
    env.signatures.truncate(1);
    let err = verify_state(&state, None, now()).unwrap_err();
    assert_eq!(
        err,
        VerifyError::Signature(SignatureError::BelowThreshold {
            document: "agreements/national".into(),
            role: "root role".into(),
            valid: 1,
            needed: 2
        })
    );
}

#[test]
fn one_key_signing_twice_does_not_reach_the_threshold() {
    let f = fixture();
    let mut state = f.dev.registry.state().clone();
    let env = state.documents.get_mut("agreements/national").unwrap();
    env.signatures.truncate(1);
    let dup = env.signatures[0].clone();
    env.signatures.push(dup);
    let err = verify_state(&state, None, now()).unwrap_err();
    assert_eq!(
        err,
        VerifyError::Signature(SignatureError::DuplicateKeySignature {
            document: "agreements/national".into(),
            key_id: f.dev.keys.root[0].key_id().0,
            valid: 1,
            needed: 2
        })
    );
}

#[test]
fn zhejiangs_key_cannot_sign_sichuans_document() {
    let f = fixture();
    let mut state = f.dev.registry.state().clone();
    let env = state.documents.get_mut("regions/510000").unwrap();
    env.signatures.clear();
    env.sign(&f.dev.keys.regions["330000"][0]).unwrap();
    let err = verify_state(&state, None, now()).unwrap_err();
    assert_eq!(
        err,
        VerifyError::Signature(SignatureError::ForeignRegionKey {
            document: "regions/510000".into(),
            signer: "330000".into()
        })
    );
}

#[test]
fn a_region_the_root_does_not_delegate_is_refused() {
    let mut f = fixture();
    let mut doc = f
        .dev
        .registry
        .region(region("510000"))
        .unwrap()
        .document
        .clone();
    doc.region = "310000".into();
    let env = signed(&doc, &[&f.dev.keys.regions["510000"][0]]).unwrap();
    let current = f.dev.registry.clone();
    let err = publish_raw(&f.dev, &current, vec![(doc.name(), env)]).unwrap_err();
    assert!(
        matches!(&err, PublishError::Refused(VerifyError::Root(RootError::RegionNotDelegated { region })) if region == "310000"),
        "{err}"
    );
    // The last good state is unchanged.
    assert!(f.dev.refresh(now()).is_ok());
}

#[test]
fn a_revoked_issuer_is_refused_from_its_effective_time() {
    let mut f = fixture();
    let t = now();
    let from = t - Duration::hours(1);
    f.dev
        .edit_region(
            "510000",
            |d| {
                d.revocations.push(Revocation {
                    issuer: "sc-2020-01".into(),
                    effective_from: from,
                    reason: "key compromise".into(),
                })
            },
            t,
        )
        .unwrap();
    let r = &f.dev.registry;
    let err = r.issuer_key(region("510000"), "sc-2020-01", t).unwrap_err();
    assert_eq!(
        err,
        TrustError::Revoked {
            issuer: "sc-2020-01".into(),
            effective_from: from,
            reason: "key compromise".into()
        }
    );
    assert!(
        r.issuer_key(region("510000"), "sc-2020-01", from - Duration::minutes(1))
            .is_ok()
    );
}

#[test]
fn an_issuer_certificate_from_another_regions_ca_is_refused() {
    let mut f = fixture();
    let t = now();
    let cert = issuer_cert(
        f.pki.path(),
        "510000",
        "330000",
        t - Duration::days(1),
        t + Duration::days(30),
    );
    let err = f
        .dev
        .edit_region(
            "510000",
            |d| {
                d.issuers.insert(
                    "sc-rogue".into(),
                    Issuer {
                        algorithm: Algorithm::Ed25519,
                        certificate: cert,
                        not_before: t - Duration::days(1),
                        not_after: t + Duration::days(30),
                        status: IssuerStatus::Active,
                        synthetic: false,
                    },
                );
            },
            t,
        )
        .unwrap_err();
    let err = refused(err);
    assert!(
        matches!(&err, VerifyError::Document(DocumentError::IssuerCertificate { region, issuer, problem: CertProblem::WrongCa { .. } }) if region == "510000" && issuer == "sc-rogue"),
        "{err}"
    );
    // Nothing changed: the rogue issuer is unknown.
    assert!(matches!(
        f.dev.registry.issuer_key(region("510000"), "sc-rogue", t),
        Err(TrustError::UnknownIssuer { .. })
    ));
}

#[test]
fn an_issuer_certificate_expired_at_the_codes_signing_time_is_refused() {
    let mut f = fixture();
    let t = now();
    let (nb, na) = (t - Duration::days(30), t - Duration::days(1));
    let cert = issuer_cert(f.pki.path(), "510000", "510000", nb, na);
    f.dev
        .edit_region(
            "510000",
            |d| {
                d.issuers.insert(
                    "sc-2019-09".into(),
                    Issuer {
                        algorithm: Algorithm::Ed25519,
                        certificate: cert,
                        not_before: nb,
                        not_after: t + Duration::days(365),
                        status: IssuerStatus::Active,
                        synthetic: false,
                    },
                );
            },
            t,
        )
        .unwrap();
    let r = &f.dev.registry;
    assert_eq!(
        r.issuer_key(region("510000"), "sc-2019-09", t).unwrap_err(),
        TrustError::NotValidAt {
            issuer: "sc-2019-09".into(),
            at: t
        }
    );
    // A code signed while the certificate was valid still verifies.
    assert!(
        r.issuer_key(region("510000"), "sc-2019-09", t - Duration::days(10))
            .is_ok()
    );
}

fn rotated_root(f: &support::Fixture, new_keys: &[SigningKey]) -> Root {
    let mut root = f.dev.registry.root().clone();
    root.version += 1;
    root.roles.root = KeySet::new(new_keys.iter().map(|k| k.public_key()), 2);
    root
}

#[test]
fn a_root_rotation_signed_only_by_the_new_keys_is_refused() {
    let f = fixture();
    let new_keys: Vec<SigningKey> = (0..3)
        .map(|_| SigningKey::generate(Algorithm::Ed25519).unwrap())
        .collect();
    let root = rotated_root(&f, &new_keys);
    let env = signed(&root, &[&new_keys[0], &new_keys[1]]).unwrap();
    let current = f.dev.registry.clone();
    let err = publish_raw(&f.dev, &current, vec![("root".into(), env)]).unwrap_err();
    assert!(
        matches!(
            err,
            PublishError::Refused(VerifyError::Root(RootError::RotationNotSignedByOld {
                version: 2,
                valid: 0,
                needed: 2
            }))
        ),
        "{err}"
    );
}

#[test]
fn a_root_naming_an_unusable_key_set_is_refused() {
    let f = fixture();
    let mut root = f.dev.registry.root().clone();
    root.version += 1;
    // One timestamp key, threshold two: no timestamp could ever be signed.
    root.roles.timestamp.threshold = 2;
    let env = signed(&root, &[&f.dev.keys.root[0], &f.dev.keys.root[1]]).unwrap();
    let current = f.dev.registry.clone();
    let err = publish_raw(&f.dev, &current, vec![("root".into(), env)]).unwrap_err();
    assert!(
        matches!(
            &err,
            PublishError::Refused(VerifyError::Root(RootError::BadKeySet { role, reason }))
                if role == "timestamp role" && reason.contains("exceeds")
        ),
        "{err}"
    );
}

#[test]
fn a_root_rotation_signed_by_old_and_new_keys_is_followed() {
    let f = fixture();
    let new_keys: Vec<SigningKey> = (0..3)
        .map(|_| SigningKey::generate(Algorithm::Ed25519).unwrap())
        .collect();
    let root = rotated_root(&f, &new_keys);
    let env = signed(
        &root,
        &[
            &f.dev.keys.root[0],
            &f.dev.keys.root[2],
            &new_keys[1],
            &new_keys[2],
        ],
    )
    .unwrap();
    // Documents the root role signs must be re-signed by the new root keys in the same publish.
    let mut national = f
        .dev
        .registry
        .agreements()
        .find(|a| a.id == "national")
        .unwrap()
        .clone();
    national.version += 1;
    let national_env = signed(&national, &[&new_keys[0], &new_keys[1]]).unwrap();
    let v1 = f.dev.registry.clone();
    let v2 = publish_raw(
        &f.dev,
        &v1,
        vec![("root".into(), env), (national.name(), national_env)],
    )
    .unwrap();
    assert_eq!(v2.root().version, 2);
    // A client holding root v1 walks forward to v2; one starting fresh checks from v1.
    assert!(verify_state(v2.state(), Some(&v1), now()).is_ok());
    assert!(verify_state(v2.state(), None, now()).is_ok());
}

#[test]
fn a_forked_log_is_refused() {
    let mut f = fixture();
    let held = f.dev.refresh(now()).unwrap().clone();
    f.dev.refresh(now()).unwrap();
    // Rewrite history: an old, no longer current leaf (timestamp v1), then re-sign the
    // checkpoint (and its C2SP note) with the log key.
    let index = f
        .dev
        .registry
        .state()
        .log
        .entries
        .iter()
        .position(|e| e.document == "timestamp" && e.version == 1)
        .unwrap();
    let state = f.dev.forked_state(index).unwrap();
    // A newcomer cannot tell, but a node that holds the earlier checkpoint can.
    assert!(verify_state(&state, None, now()).is_ok());
    let err = verify_state(&state, Some(&held), now()).unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::Log(LogError::Checkpoint(CheckpointError::Inconsistent { .. }))
        ),
        "{err}"
    );
}

#[test]
fn a_checkpoint_not_signed_by_the_log_key_is_refused() {
    let f = fixture();
    let mut state = f.dev.registry.state().clone();
    let cp = f.dev.registry.checkpoint().clone();
    let rogue = SigningKey::generate(Algorithm::Ed25519).unwrap();
    *state.log.checkpoints.last_mut().unwrap() = cp.sign(&rogue).unwrap();
    let err = verify_state(&state, None, now()).unwrap_err();
    assert_eq!(
        err,
        VerifyError::Log(LogError::Checkpoint(CheckpointError::Unsigned {
            valid: 0,
            needed: 1
        }))
    );
}

#[test]
fn witnesses_cosign_checkpoints_k_of_n() {
    let f = fixture();
    let env = f.dev.registry.signed_checkpoint().unwrap().clone();
    let witnesses = &f.dev.registry.root().roles.witnesses;
    assert_eq!(Checkpoint::verify_cosignatures(&env, witnesses), Ok(2));
    let mut one = env.clone();
    one.signatures
        .retain(|s| s.key_id != f.dev.keys.witnesses[0].key_id());
    assert_eq!(
        Checkpoint::verify_cosignatures(&one, witnesses),
        Err(CheckpointError::TooFewWitnesses {
            valid: 1,
            needed: 2
        })
    );
}

#[test]
fn a_tampered_leaf_does_not_verify_with_its_proof() {
    let f = fixture();
    let r = &f.dev.registry;
    let env = &r.state().documents["regions/510000"];
    let leaf = leaf_hash(&env.signed_bytes());
    let size = r.checkpoint().tree_size;
    let root = r.checkpoint().root().unwrap();
    let (index, proof) = r.prove_inclusion(&leaf, size).unwrap();
    assert!(verify_inclusion(&leaf, index, size, &proof, &root).is_ok());
    let mut tampered: Envelope = env.clone();
    tampered.payload = String::from_utf8(tampered.payload)
        .unwrap()
        .replace("\"cache_ttl_secs\":30", "\"cache_ttl_secs\":99")
        .into_bytes();
    let forged = leaf_hash(&tampered.signed_bytes());
    assert_eq!(
        verify_inclusion(&forged, index, size, &proof, &root),
        Err(huren_registry::log::ProofError::RootMismatch)
    );
    // The same tampering inside a state is caught before the log: its signature no longer holds.
    let mut state = r.state().clone();
    state.documents.insert("regions/510000".into(), tampered);
    let err = verify_state(&state, None, now()).unwrap_err();
    assert_eq!(
        err,
        VerifyError::Signature(SignatureError::BadSignature {
            document: "regions/510000".into(),
            key_id: f.dev.keys.regions["510000"][0].key_id().0
        })
    );
}

#[test]
fn a_log_entry_altered_on_disk_is_refused() {
    let f = fixture();
    let mut state = f.dev.registry.state().clone();
    state.log.entries[0].leaf_hash = hex::encode(leaf_hash(b"x"));
    assert_eq!(
        verify_state(&state, None, now()).unwrap_err(),
        VerifyError::Log(LogError::LogRootMismatch)
    );
}

#[test]
fn truncated_and_garbage_files_give_a_clear_error() {
    let f = fixture();
    let path = f.reg.path().join(store::STATE_FILE);
    let good = std::fs::read(&path).unwrap();
    for bad in [
        good[..good.len() / 2].to_vec(),
        b"\x00\xffgarbage".to_vec(),
        Vec::new(),
        b"{\"format\":1}".to_vec(),
    ] {
        std::fs::write(&path, &bad).unwrap();
        let err = store::load(f.reg.path(), None, now()).unwrap_err();
        assert!(
            matches!(
                err.verify_error(),
                Some(VerifyError::Document(DocumentError::Unreadable(_)))
            ),
            "{err}"
        );
    }
    // A payload that is JSON but not canonical is named as such.
    let mut state = f.dev.registry.state().clone();
    let env = state.documents.get_mut("agreements/national").unwrap();
    env.payload = format!(" {}", String::from_utf8(env.payload.clone()).unwrap()).into_bytes();
    assert!(matches!(
        verify_state(&state, None, now()).unwrap_err(),
        VerifyError::Document(DocumentError::Encoding {
            source: huren_registry::canonical::CanonicalError::NotCanonical,
            ..
        })
    ));
    // A garbage key file is an error, not a panic.
    std::fs::write(f.reg.path().join("keys/log.pem"), "garbage").unwrap();
    assert!(SigningKey::from_pem_file(&f.reg.path().join("keys/log.pem")).is_err());
}

#[test]
fn an_envelope_of_another_type_cannot_pass_as_a_region_document() {
    let f = fixture();
    let mut state = f.dev.registry.state().clone();
    let doc = f
        .dev
        .registry
        .region(region("510000"))
        .unwrap()
        .document
        .clone();
    let mut env = envelope(&doc);
    env.payload_type = "application/vnd.huren.agreement+json".into();
    env.sign(&f.dev.keys.regions["510000"][0]).unwrap();
    state.documents.insert("regions/510000".into(), env);
    assert!(matches!(
        verify_state(&state, None, now()).unwrap_err(),
        VerifyError::Document(DocumentError::WrongPayloadType { .. })
    ));
}

#[test]
fn a_region_document_is_checked_again_when_the_root_replaces_its_keys() {
    let f = fixture();
    let mut root = f.dev.registry.root().clone();
    root.version += 1;
    let new_key = SigningKey::generate(Algorithm::EcdsaP256).unwrap();
    root.regions.get_mut("510000").unwrap().keys = KeySet::new([new_key.public_key()], 1);
    let env = signed(&root, &[&f.dev.keys.root[0], &f.dev.keys.root[1]]).unwrap();
    let current = f.dev.registry.clone();
    // Unchanged documents signed with Sichuan's old key (its agreement with Zhejiang, then its
    // region document) no longer pass under the new root, though the node accepted them before.
    let err = publish_raw(&f.dev, &current, vec![("root".into(), env)]).unwrap_err();
    assert!(
        matches!(
            &err,
            PublishError::Refused(VerifyError::Signature(SignatureError::BelowThreshold { document, role, valid: 0, needed: 1 }))
                if document == "agreements/330000-510000" && role == "region 510000 keys"
        ),
        "{err}"
    );
    let mut bilateral = current
        .agreements()
        .find(|a| a.id == "330000-510000")
        .unwrap()
        .clone();
    bilateral.version += 1;
    let bilateral_env = signed(&bilateral, &[&f.dev.keys.regions["330000"][0], &new_key]).unwrap();
    let env = signed(&root, &[&f.dev.keys.root[0], &f.dev.keys.root[1]]).unwrap();
    let err = publish_raw(
        &f.dev,
        &current,
        vec![("root".into(), env), (bilateral.name(), bilateral_env)],
    )
    .unwrap_err();
    assert!(
        matches!(
            &err,
            PublishError::Refused(VerifyError::Signature(SignatureError::BelowThreshold { document, valid: 0, .. }))
                if document == "regions/510000"
        ),
        "{err}"
    );
}
