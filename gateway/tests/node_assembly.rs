//! `huren::node`: a node assembles from a registry and a state directory, keeps its subject key
//! across restarts, and refuses to start with a receipt key the registry does not list for it.

use std::os::unix::fs::PermissionsExt;

use huren::node::{AUDIT_DIR, Node, NodeConfig, NodeError, SUBJECT_KEY_FILE};
use huren_registry::dev::{DevOptions, DevRegistry};
use huren_registry::{Algorithm, SigningKey};

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    huren_certs::init(&pki, &huren_certs::InitOptions::default()).unwrap();
    DevRegistry::init(
        &pki,
        &dir.path().join("reg"),
        &DevOptions::default(),
        false,
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    dir
}

fn config(dir: &tempfile::TempDir) -> NodeConfig {
    let d = dir.path();
    NodeConfig::new(d.join("reg"), d.join("state"))
}

#[tokio::test]
async fn a_node_assembles_and_keeps_its_subject_key_across_restarts() {
    let dir = setup();
    let node = Node::assemble(config(&dir)).await.expect("assembles");
    let services = node.services();
    assert!(services.recognition.recognizer.is_some());
    assert!(services.manifests.recognizer.is_some());
    assert!(services.coordination.recognizer.is_some());
    assert!(services.registry.shared.current().is_some());
    let key_path = dir.path().join("state").join(SUBJECT_KEY_FILE);
    let mode = std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the subject key is private");
    assert!(dir.path().join("state").join(AUDIT_DIR).is_dir());
    let key = std::fs::read(&key_path).unwrap();
    drop(services);
    drop(node);
    // The audit writer lets go of its lock once its last handle is gone: soon, not at once.
    let mut again = Node::assemble(config(&dir)).await;
    for _ in 0..50 {
        if !matches!(
            again,
            Err(NodeError::Audit(huren_audit::OpenError::Locked(_)))
        ) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        again = Node::assemble(config(&dir)).await;
    }
    let again = again.expect("reassembles");
    assert_eq!(
        std::fs::read(&key_path).unwrap(),
        key,
        "the same key: subject_refs stay the same after a restart"
    );
    drop(again);
}

#[tokio::test]
async fn a_receipt_key_the_registry_does_not_list_is_refused() {
    let dir = setup();
    let foreign = dir.path().join("foreign.pem");
    let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
    std::fs::write(&foreign, key.to_pem().unwrap()).unwrap();
    let mut c = config(&dir);
    c.receipt_key = Some(foreign);
    let err = Node::assemble(c).await.expect_err("refused");
    assert!(matches!(err, NodeError::ReceiptKeyMismatch { .. }), "{err}");

    let mut c = config(&dir);
    c.node_id = "gateway-9".into();
    let err = Node::assemble(c).await.expect_err("refused");
    assert!(matches!(err, NodeError::UnknownNode { .. }), "{err}");
    let said = err.to_string();
    assert!(
        said.contains("\"gateway-9\"") && said.contains("version 1"),
        "the error names the node id and the registry version: {said}"
    );

    let mut c = config(&dir);
    c.registry_dir = dir.path().join("nowhere");
    c.receipt_key = Some(dir.path().join("reg/keys/receipt.pem"));
    let err = Node::assemble(c).await.expect_err("refused");
    assert!(matches!(err, NodeError::Registry { .. }), "{err}");
}
