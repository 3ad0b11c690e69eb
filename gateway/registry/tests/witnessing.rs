//! Witnessing over a real published registry: the C2SP checkpoint note it carries, four nodes
//! cosigning each version they verified as consistent, the k-of-n check, and a fork refused by
//! every witness with both checkpoints kept as evidence.

mod support;

use huren_registry::log::{Checkpoint, leaf_hash, root_hash};
use huren_registry::note::{NoteVerifier, SignatureType, SignedNote};
use huren_registry::witness::{
    Cosigner, WitnessError, Witnesses, file, log_verifiers, sign_checkpoint_note,
    verify_checkpoint_note,
};
use huren_registry::{Algorithm, LogError, Registry, SigningKey, VerifyError, verify_state};
use support::{fixture, now};

const NODES: [&str; 4] = ["national", "zhejiang", "west", "south"];

fn note_of(registry: &Registry) -> SignedNote {
    SignedNote::parse(
        registry
            .state()
            .log
            .note
            .as_deref()
            .expect("a checkpoint note"),
    )
    .unwrap()
}

/// Four witnesses (one per node), k = 2, as the dev federation lists them.
fn four_witnesses() -> (Vec<Cosigner>, Witnesses) {
    let mut cosigners = Vec::new();
    let mut listed = Vec::new();
    for id in NODES {
        let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
        listed.push((
            id.to_string(),
            NoteVerifier::new(id, SignatureType::CosignatureV1, &key.public_key()).unwrap(),
        ));
        cosigners.push(Cosigner::new(id, key, None));
    }
    (
        cosigners,
        Witnesses {
            listed,
            threshold: 2,
        },
    )
}

#[test]
fn a_published_registry_carries_its_checkpoint_as_a_log_signed_c2sp_note() {
    let f = fixture();
    let reg = &f.dev.registry;
    let note = note_of(reg);
    assert_eq!(
        Checkpoint::from_note_text(&note.text).unwrap(),
        *reg.checkpoint()
    );
    let log = log_verifiers(reg.root());
    assert_eq!(note.verify(&log).unwrap().len(), 1);
    // The log key as a vkey, the form witness tooling is configured with.
    let vkey = log[0].vkey();
    assert!(vkey.starts_with(&format!("{}+", reg.root().log_origin)));
    assert_eq!(NoteVerifier::parse_vkey(&vkey).unwrap(), log[0]);
}

#[test]
fn an_altered_checkpoint_note_is_refused() {
    let f = fixture();
    let mut state = f.dev.registry.state().clone();
    let text = state.log.note.clone().unwrap();
    // Another root under the genuine log signature: the signature no longer verifies.
    let cp = f.dev.registry.checkpoint().clone();
    let other = Checkpoint::new(&cp.origin, cp.tree_size, &[9; 32]);
    let forged = text.replacen(&cp.note_text().unwrap(), &other.note_text().unwrap(), 1);
    state.log.note = Some(forged);
    assert!(matches!(
        verify_state(&state, None, now()),
        Err(VerifyError::Log(LogError::CheckpointNote(
            WitnessError::Note(_)
        )))
    ));
    // A note honestly signed by the log key for another checkpoint is refused as a mismatch.
    state.log.note = sign_checkpoint_note(&other, &[&f.dev.keys.log])
        .unwrap()
        .map(|n| n.to_text());
    assert!(matches!(
        verify_state(&state, None, now()),
        Err(VerifyError::Log(LogError::CheckpointNote(
            WitnessError::NoteMismatch { .. }
        )))
    ));
}

#[test]
fn each_version_is_cosigned_by_every_witness_and_acted_on_only_with_k() {
    let mut f = fixture();
    let (mut cosigners, witnesses) = four_witnesses();
    let v1 = f.dev.registry.clone();
    let mut n1 = note_of(&v1);
    assert!(matches!(
        witnesses.check_quorum(&n1),
        Err(WitnessError::TooFewCosignatures {
            valid: 0,
            needed: 2
        })
    ));
    for w in &mut cosigners {
        let sig = w.cosign(&n1, &[], 1_000).unwrap();
        n1.add(sig);
    }
    assert_eq!(witnesses.check_quorum(&n1).unwrap().len(), 4);

    // v2: each witness checks the consistency proof from the size it last cosigned.
    let v2 = f.dev.refresh(now()).unwrap().clone();
    let n2 = note_of(&v2);
    let mut with_one = n2.clone();
    let proof = v2
        .prove_consistency(v1.checkpoint().tree_size, v2.checkpoint().tree_size)
        .unwrap();
    with_one.add(cosigners[0].cosign(&n2, &proof, 2_000).unwrap());
    // One cosignature of the two needed: not acted on.
    assert!(matches!(
        witnesses.check_quorum(&with_one),
        Err(WitnessError::TooFewCosignatures { valid: 1, .. })
    ));
    let mut with_two = with_one.clone();
    with_two.add(cosigners[2].cosign(&n2, &proof, 2_001).unwrap());
    assert_eq!(witnesses.check_quorum(&with_two).unwrap().len(), 2);
    // The cosigned note still verifies as the registry's note, cosignatures and all.
    let mut state = v2.state().clone();
    state.log.note = Some(with_two.to_text());
    let reread = verify_state(&state, Some(&v1), now()).unwrap();
    assert_eq!(
        verify_checkpoint_note(
            reread.state().log.note.as_deref().unwrap(),
            reread.root(),
            reread.checkpoint()
        )
        .unwrap(),
        with_two
    );
}

#[test]
fn a_forked_checkpoint_is_refused_by_every_witness_and_kept_as_evidence() {
    let mut f = fixture();
    let (mut cosigners, _) = four_witnesses();
    let v1 = f.dev.refresh(now()).unwrap().clone();
    for w in &mut cosigners {
        w.cosign(&note_of(&v1), &[], 1_000).unwrap();
    }
    // The log key signs another history of the same size: a split view.
    let cp = v1.checkpoint();
    let mut leaves = v1.leaves().to_vec();
    leaves[0] = leaf_hash(b"a different past");
    let forked = Checkpoint::new(&cp.origin, cp.tree_size, &root_hash(&leaves));
    let forked_note = sign_checkpoint_note(&forked, &[&f.dev.keys.log])
        .unwrap()
        .unwrap();
    assert!(forked_note.verify(&log_verifiers(v1.root())).is_ok());
    let dir = tempfile::tempdir().unwrap();
    for w in &mut cosigners {
        let Err(WitnessError::Fork(fork)) = w.cosign(&forked_note, &[], 2_000) else {
            panic!("{} cosigned a fork", w.name())
        };
        assert_eq!(fork.held, *cp);
        assert_eq!(fork.offered, forked);
        // The witness keeps serving (and cosigning from) the last good checkpoint.
        assert_eq!(w.last(), Some(cp));
        let state_dir = dir.path().join(w.name());
        std::fs::create_dir_all(&state_dir).unwrap();
        let file::ForkEvidence::Kept { held, offered } = file::keep_fork_evidence(
            &state_dir,
            &cp.note_text().unwrap(),
            &forked_note.to_text(),
            2_000,
        )
        .unwrap() else {
            panic!("{}: the fork's evidence was not kept", w.name())
        };
        assert!(held.exists() && offered.exists());
    }
}

#[test]
fn a_restarted_witness_remembers_what_it_cosigned() {
    let mut f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let der = key.to_pkcs8_der().unwrap();
    let v1 = f.dev.registry.clone();
    let mut w = Cosigner::new("west", key, file::load(dir.path()).unwrap());
    let mut n1 = note_of(&v1);
    n1.add(w.cosign(&n1, &[], 10).unwrap());
    file::save(dir.path(), &n1).unwrap();
    drop(w);

    // Down while v2 and v3 were published; back up, it catches up with one proof.
    f.dev.refresh(now()).unwrap();
    let v3 = f.dev.refresh(now()).unwrap().clone();
    let mut w = Cosigner::new(
        "west",
        SigningKey::from_pkcs8_der(&der).unwrap(),
        file::load(dir.path()).unwrap(),
    );
    assert_eq!(w.last(), Some(v1.checkpoint()));
    let proof = v3
        .prove_consistency(v1.checkpoint().tree_size, v3.checkpoint().tree_size)
        .unwrap();
    assert!(w.cosign(&note_of(&v3), &proof, 20).is_ok());
    // And an old version is never cosigned again.
    assert!(matches!(
        w.cosign(&note_of(&v1), &[], 30),
        Err(WitnessError::Older { .. })
    ));
}
