//! A node anchors its audit chain with the key the registry lists for it: the checkpoints it
//! signs verify under that key, and it refuses to start with any other key.

use std::time::Duration;

use huren::node::{Node, NodeConfig, NodeError};
use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::VerifyCodeRequest;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_tests::node::{TestNode, resident_id};

/// The registry's public key as an audit checkpoint verifier.
struct Listed(huren_registry::PublicKey);

impl huren_audit::CheckpointVerifier for Listed {
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.0.verify(message, signature)
    }
}

#[tokio::test]
async fn the_node_signs_audit_checkpoints_with_the_key_the_registry_lists() {
    let t = TestNode::start().await;
    let code = t
        .issue(
            RegionCode::HUBEI,
            &resident_id("420106", 3),
            "吴十",
            Colour::Green,
        )
        .await;
    let mut client = RecognitionServiceClient::new(t.channel_as("checkpoint", None).await);
    client
        .verify_code(VerifyCodeRequest {
            payload: code.payload.clone(),
            verifying_region: String::new(),
            purpose: "checkpoint-entry".into(),
        })
        .await
        .expect("verified");
    let listed = t
        .node
        .recognizer()
        .registry
        .current()
        .and_then(|r| r.audit_key("gateway-1").cloned())
        .expect("the dev registry lists the node's audit key");
    let key = Listed(listed);
    let audit_dir = t.audit_dir();

    // Shutdown signs a checkpoint over everything written.
    let (registry_dir, dir) = (t.registry_dir(), t.dir().to_path_buf());
    let TestNode {
        mut gateway, node, ..
    } = t;
    gateway.shutdown().await;
    drop(gateway);
    drop(node);
    let mut report = huren_audit::verify_anchored(&audit_dir, &key).expect("readable");
    for _ in 0..100 {
        if report.problem.is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        report = huren_audit::verify_anchored(&audit_dir, &key).expect("readable");
    }
    assert!(report.problem.is_none(), "{report}");
    assert!(report.checkpoint.is_some_and(|c| c.records >= 1));

    // Any other key (here the receipt key) is refused at start.
    let mut config = NodeConfig::new(&registry_dir, dir.join("other-state"));
    config.audit_key = Some(registry_dir.join("keys/receipt.pem"));
    let err = Node::assemble(config).await.expect_err("a wrong audit key");
    assert!(matches!(err, NodeError::AuditKeyMismatch { .. }), "{err}");
}
