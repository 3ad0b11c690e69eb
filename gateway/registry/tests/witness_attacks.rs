//! Attacks on witnessing, each refused: a witness asked to cosign a note the log did not sign,
//! or with a wrong idea of what it last cosigned, or for another log; a new root that lists
//! fresh witnesses and has them approve it; and a registry offered with too few cosignatures.

mod support;

use huren_registry::doc::Root;
use huren_registry::note::{SignedNote, cosign, sign};
use huren_registry::witness::{
    Cosigner, WitnessError, quorum_to_act, root_at, sign_checkpoint_note,
};
use huren_registry::{Algorithm, SigningKey};
use support::fixture;

fn key() -> SigningKey {
    SigningKey::generate(Algorithm::Ed25519).unwrap()
}

/// `root` with witnesses `ids` (keys returned in order) and k = `threshold`, one version on.
fn with_witnesses(root: &Root, ids: &[&str], threshold: u32) -> (Root, Vec<SigningKey>) {
    let mut next = root.clone();
    let template = next.nodes.values().next().cloned().unwrap();
    next.nodes.clear();
    let mut keys = Vec::new();
    for id in ids {
        let k = key();
        let mut node = template.clone();
        node.witness_key = Some(k.public_key());
        node.spiffe_id = format!("spiffe://huren.dev/region/000000/role/gateway/{id}");
        next.nodes.insert(id.to_string(), node);
        keys.push(k);
    }
    next.witness_threshold = threshold;
    next.version += 1;
    (next, keys)
}

#[test]
fn a_witness_cosigns_only_what_the_log_signed() {
    let f = fixture();
    let reg = &f.dev.registry;
    let text = reg.state().log.note.clone().unwrap();
    let mut w = Cosigner::new("zhejiang", key(), None);

    // Signed under the log's name by a key the root does not list: refused, nothing remembered.
    let mut forged = SignedNote::new(reg.checkpoint().note_text().unwrap()).unwrap();
    forged.add(sign(&forged, &reg.root().log_origin, &key()).unwrap());
    assert!(matches!(
        w.add_checkpoint(reg.root(), &forged.to_text(), 0, &[], 1),
        Err(WitnessError::LogUnsigned { valid: 0, .. })
    ));
    assert!(w.last().is_none());

    // Another log's checkpoint, even signed: not this witness's business.
    let mut other = reg.checkpoint().clone();
    other.origin = "elsewhere.example/log".into();
    let other = sign_checkpoint_note(&other, &[&f.dev.keys.log])
        .unwrap()
        .unwrap();
    assert!(matches!(
        w.add_checkpoint(reg.root(), &other.to_text(), 0, &[], 1),
        Err(WitnessError::ForeignLog { .. })
    ));

    // The log's own note is cosigned, and the cosignature verifies under the witness's name.
    let note = w.add_checkpoint(reg.root(), &text, 0, &[], 2).unwrap();
    assert_eq!(note.signatures.last().unwrap().name, "zhejiang");
    assert_eq!(w.last(), Some(reg.checkpoint()));

    // The caller's idea of the last size must be the witness's own.
    assert_eq!(
        w.add_checkpoint(reg.root(), &text, 0, &[], 3),
        Err(WitnessError::OldSizeMismatch {
            held: reg.checkpoint().tree_size,
            claimed: 0
        })
    );
    assert!(
        w.add_checkpoint(reg.root(), &text, reg.checkpoint().tree_size, &[], 3)
            .is_ok()
    );
}

#[test]
fn a_new_root_cannot_list_fresh_witnesses_and_approve_itself() {
    let f = fixture();
    let reg = &f.dev.registry;
    let (old, old_keys) = with_witnesses(reg.root(), &["a", "b", "c"], 2);
    let (fresh, fresh_keys) = with_witnesses(&old, &["x", "y", "z"], 2);
    let cp = reg.checkpoint();
    let mut note = sign_checkpoint_note(cp, &[&f.dev.keys.log])
        .unwrap()
        .unwrap();
    for (id, k) in ["x", "y", "z"].iter().zip(&fresh_keys) {
        note.add(cosign(&note, id, k, 5).unwrap());
    }
    // Its own three witnesses are enough for the new root alone...
    assert!(quorum_to_act(&fresh, None, Some(&note.to_text())).is_ok());
    // ...but not as the successor of the root whose witnesses never saw it.
    assert!(matches!(
        quorum_to_act(&fresh, Some(&old), Some(&note.to_text())),
        Err(WitnessError::RootChangeNotWitnessed { .. })
    ));
    // One of the old witnesses is not enough either; two are.
    note.add(cosign(&note, "a", &old_keys[0], 6).unwrap());
    assert!(matches!(
        quorum_to_act(&fresh, Some(&old), Some(&note.to_text())),
        Err(WitnessError::RootChangeNotWitnessed { .. })
    ));
    note.add(cosign(&note, "c", &old_keys[2], 7).unwrap());
    let cosigned = quorum_to_act(&fresh, Some(&old), Some(&note.to_text())).unwrap();
    assert_eq!(
        cosigned.len(),
        3,
        "the new root's own witnesses are counted"
    );
    // The same root again asks only its own witnesses.
    assert!(quorum_to_act(&fresh, Some(&fresh), Some(&note.to_text())).is_ok());
}

#[test]
fn too_few_cosignatures_or_none_at_all_are_not_acted_on() {
    let f = fixture();
    let reg = &f.dev.registry;
    let (root, keys) = with_witnesses(reg.root(), &["a", "b", "c", "d"], 2);
    assert_eq!(
        quorum_to_act(&root, None, None),
        Err(WitnessError::TooFewCosignatures {
            valid: 0,
            needed: 2
        })
    );
    let mut note = sign_checkpoint_note(reg.checkpoint(), &[&f.dev.keys.log])
        .unwrap()
        .unwrap();
    note.add(cosign(&note, "a", &keys[0], 5).unwrap());
    assert_eq!(
        quorum_to_act(&root, None, Some(&note.to_text())),
        Err(WitnessError::TooFewCosignatures {
            valid: 1,
            needed: 2
        })
    );
    note.add(cosign(&note, "d", &keys[3], 5).unwrap());
    assert!(quorum_to_act(&root, None, Some(&note.to_text())).is_ok());
    // A root asking for none acts on no note at all (registries from before witnessing).
    assert!(quorum_to_act(reg.root(), None, None).unwrap().is_empty());
}

#[test]
fn each_root_version_is_found_in_the_chain_a_state_carries() {
    let f = fixture();
    let state = f.dev.registry.state();
    let v = f.dev.registry.root().version;
    assert_eq!(root_at(&state.roots, v).map(|r| r.version), Some(v));
    assert!(root_at(&state.roots, v + 1).is_none());
}
