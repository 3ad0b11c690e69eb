//! A root's node entry: replicas and the witness key are added without changing older signed bytes.

use huren_registry::canonical;
use huren_registry::doc::Node;
use huren_registry::{Algorithm, SigningKey};

fn node(endpoints: Vec<String>, witness: bool) -> Node {
    let key = |_| SigningKey::generate(Algorithm::Ed25519).map(|k| k.public_key());
    Node {
        receipt_key: key(()).expect("fresh key"),
        audit_key: None,
        regions: vec!["330000".into()],
        spiffe_id: "spiffe://huren.test/gateway/zhejiang".into(),
        url: Some("https://127.0.0.1:7000".into()),
        endpoints,
        witness_key: witness.then(|| key(()).expect("fresh key")),
    }
}

#[test]
fn a_node_without_replicas_or_witness_key_encodes_as_before() {
    let old = node(Vec::new(), false);
    let bytes = canonical::encode(&old);
    let text = String::from_utf8(bytes.clone()).expect("JSON is UTF-8");
    assert!(!text.contains("endpoints"), "{text}");
    assert!(!text.contains("witness_key"), "{text}");
    // An older document's bytes still decode canonically, to the same node.
    let back: Node = canonical::decode(&bytes).expect("canonical");
    assert_eq!(back, old);
    assert_eq!(back.replica_urls(), vec!["https://127.0.0.1:7000"]);
}

#[test]
fn listed_replicas_take_the_place_of_the_single_url() {
    let two = node(
        vec![
            "https://127.0.0.1:7001".into(),
            "https://127.0.0.1:7002".into(),
        ],
        true,
    );
    let back: Node = canonical::decode(&canonical::encode(&two)).expect("canonical");
    assert_eq!(back, two);
    assert_eq!(
        back.replica_urls(),
        vec!["https://127.0.0.1:7001", "https://127.0.0.1:7002"]
    );
    assert!(back.witness_key.is_some());
    assert!(back.serves("330000") && !back.serves("510000"));
}
