//! The witnesses a root lists are counted honestly: one key listed for two nodes, or a threshold
//! above the number of listed witnesses, is refused rather than counted twice or waited on forever.

mod support;

use huren_registry::keys::PublicKey;
use huren_registry::witness::{WitnessError, Witnesses};
use huren_registry::{Algorithm, SigningKey};

/// The dev root with `n` extra nodes copied from its own, each with the witness key `key(i)`.
fn root_with(
    n: usize,
    key: impl Fn(usize) -> PublicKey,
    threshold: u32,
) -> huren_registry::doc::Root {
    let f = support::fixture();
    let mut root = f.dev.registry.root().clone();
    let template = root
        .nodes
        .values()
        .next()
        .cloned()
        .expect("the dev root lists a node");
    for i in 0..n {
        let mut node = template.clone();
        node.witness_key = Some(key(i));
        root.nodes.insert(format!("witness-{i}"), node);
    }
    root.witness_threshold = threshold;
    root
}

#[test]
fn distinct_keys_under_a_reachable_threshold_are_listed() {
    let keys: Vec<SigningKey> = (0..3)
        .map(|_| SigningKey::generate(Algorithm::Ed25519).unwrap())
        .collect();
    let root = root_with(3, |i| keys[i].public_key(), 2);
    let w = Witnesses::of_root(&root).expect("three witnesses, two needed");
    assert_eq!(w.listed.len(), 3);
    assert_eq!(w.threshold, 2);
}

#[test]
fn one_key_listed_for_two_nodes_is_refused() {
    let shared = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let root = root_with(2, |_| shared.public_key(), 2);
    let err = Witnesses::of_root(&root).unwrap_err();
    assert!(
        matches!(&err, WitnessError::SharedWitnessKey { node } if node == "witness-1"),
        "{err}"
    );
}

#[test]
fn a_threshold_above_the_listed_witnesses_is_refused() {
    let keys: Vec<SigningKey> = (0..2)
        .map(|_| SigningKey::generate(Algorithm::Ed25519).unwrap())
        .collect();
    let root = root_with(2, |i| keys[i].public_key(), 3);
    let err = Witnesses::of_root(&root).unwrap_err();
    assert!(
        matches!(
            err,
            WitnessError::UnreachableThreshold {
                threshold: 3,
                listed: 2
            }
        ),
        "{err}"
    );
}
