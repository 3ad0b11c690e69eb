//! A root's node list names each node once, under its own SPIFFE id: a root that lists two
//! nodes with one identity, or one node id twice, is refused by every verifier, not only by the
//! ceremony editor.

mod support;

use huren_registry::canonical::CanonicalError;
use huren_registry::ceremony::{PublishError, signed};
use huren_registry::doc::{Document, Node, Root};
use huren_registry::{Algorithm, DocumentError, Envelope, RootError, SigningKey, VerifyError};
use support::{fixture, publish_raw};

fn node(name: &str, spiffe_id: &str) -> Node {
    Node {
        receipt_key: SigningKey::generate(Algorithm::Ed25519)
            .expect("fresh key")
            .public_key(),
        audit_key: None,
        regions: vec!["510000".into()],
        spiffe_id: spiffe_id.into(),
        url: None,
        endpoints: vec![format!("https://{name}.huren.test:7000")],
        witness_key: None,
    }
}

/// The fixture's root at the next version, listing `nodes`.
fn next_root(f: &support::Fixture, nodes: &[(&str, Node)]) -> Root {
    let mut root = f.dev.registry.root().clone();
    root.version += 1;
    root.nodes = nodes
        .iter()
        .map(|(id, n)| (id.to_string(), n.clone()))
        .collect();
    root
}

#[test]
fn a_root_listing_two_nodes_with_one_spiffe_id_is_refused() {
    let f = fixture();
    let shared = "spiffe://huren.test/gateway/west";
    let root = next_root(
        &f,
        &[
            ("west", node("west", shared)),
            ("west2", node("west2", shared)),
        ],
    );
    let env = signed(&root, &[&f.dev.keys.root[0], &f.dev.keys.root[1]]).expect("signed");
    let err = publish_raw(&f.dev, &f.dev.registry, vec![("root".into(), env)]).unwrap_err();
    assert!(
        matches!(
            &err,
            PublishError::Refused(VerifyError::Root(RootError::SharedSpiffeId { spiffe_id, first, second }))
                if spiffe_id == shared && first == "west" && second == "west2"
        ),
        "{err}"
    );
    assert!(err.to_string().contains("one SPIFFE id"), "{err}");

    // The same root with an identity per node is published.
    let root = next_root(
        &f,
        &[
            ("west", node("west", shared)),
            ("west2", node("west2", "spiffe://huren.test/gateway/west2")),
        ],
    );
    let env = signed(&root, &[&f.dev.keys.root[0], &f.dev.keys.root[1]]).expect("signed");
    let v2 = publish_raw(&f.dev, &f.dev.registry, vec![("root".into(), env)]).expect("published");
    assert_eq!(v2.nodes().len(), 2);
}

#[test]
fn a_root_listing_one_node_id_twice_is_refused() {
    let f = fixture();
    let root = next_root(
        &f,
        &[("west", node("west", "spiffe://huren.test/gateway/west"))],
    );
    let text = String::from_utf8(huren_registry::canonical::encode(&root)).expect("UTF-8");
    // The signed bytes list "west" twice: a reader keeping either copy would disagree with one
    // keeping the other, so neither may be read.
    let (_, entry) = text.split_once("\"nodes\":{").expect("a node list");
    let entry = &entry[..entry.find("}}").expect("one node entry") + 1];
    let twice = text.replacen(entry, &format!("{entry},{entry}"), 1);
    assert_ne!(twice, text);
    let mut env = Envelope::new(Root::PAYLOAD_TYPE, twice.into_bytes());
    env.sign(&f.dev.keys.root[0]).expect("signed");
    env.sign(&f.dev.keys.root[1]).expect("signed");
    let err = publish_raw(&f.dev, &f.dev.registry, vec![("root".into(), env)]).unwrap_err();
    assert!(
        matches!(
            &err,
            PublishError::Refused(VerifyError::Document(DocumentError::Encoding {
                source: CanonicalError::NotCanonical,
                ..
            }))
        ),
        "{err}"
    );
}
