//! A registry rolled back while the node was down is refused at the next start (the node keeps
//! a trusted state in its state directory), naming both versions; only the operator's
//! trust-reset lets the older registry through.

use std::time::Duration;

use huren::node::{Node, NodeConfig, NodeError};
use huren_registry::store::STATE_FILE;
use huren_tests::node::TestNode;

#[tokio::test]
async fn a_registry_copied_back_across_a_restart_is_refused_until_trust_reset() {
    let mut t = TestNode::start().await;
    let registry_dir = t.registry_dir();
    let state_dir = t.state_dir();
    let v1 = std::fs::read(registry_dir.join(STATE_FILE)).expect("v1 on disk");

    // v2 revokes Guangdong's issuer, v3 changes something else; the running node takes both.
    let issuer = t
        .pki()
        .manifest
        .region("440000")
        .expect("Guangdong")
        .issuer
        .id
        .clone();
    let now = time::OffsetDateTime::now_utc();
    t.dev
        .edit_region(
            "440000",
            |doc| {
                doc.revocations
                    .push(huren_registry::doc::region::Revocation {
                        issuer,
                        effective_from: now,
                        reason: huren_registry::doc::region::RevocationReason::KeyCompromise,
                    })
            },
            now,
        )
        .expect("v2 published");
    t.dev
        .edit_region("330000", |doc| doc.cache_ttl_secs += 1, now)
        .expect("v3 published");
    t.dev.save(&registry_dir).expect("saved");
    let registry = t.node.recognizer().registry.clone();
    for _ in 0..100 {
        if registry.current().map(|r| r.version()) == Some(3) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(registry.current().map(|r| r.version()), Some(3));
    drop(registry);

    // Stop the node, put v1 back, start again.
    t.gateway.shutdown().await;
    drop(t.gateway);
    drop(t.node);
    std::fs::write(registry_dir.join(STATE_FILE), &v1).expect("v1 copied back");
    // The stopped node's audit writer lets go of its lock shortly after the last handle drops.
    let restart = || async {
        let mut started = Node::assemble(NodeConfig::new(&registry_dir, &state_dir)).await;
        for _ in 0..100 {
            if !matches!(started, Err(NodeError::Audit(_))) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            started = Node::assemble(NodeConfig::new(&registry_dir, &state_dir)).await;
        }
        started
    };
    let err = restart()
        .await
        .expect_err("a rolled-back registry is refused");
    assert!(matches!(err, NodeError::RolledBack { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("version 1") && text.contains("version 3"),
        "both versions named: {text}"
    );
    assert!(text.contains("publish a newer registry version"), "{text}");

    // The operator's explicit reset discards the trusted state and keeps a record of it.
    let reset = huren_registry::trusted::file::reset(&state_dir, time::OffsetDateTime::now_utc())
        .expect("reset")
        .expect("there was a trusted state");
    assert_eq!(reset.discarded.timestamp_version, 3);
    assert!(reset.record.exists());
    let node = restart().await.expect("starts after trust-reset");
    assert_eq!(
        node.recognizer().registry.current().map(|r| r.version()),
        Some(1)
    );
}
