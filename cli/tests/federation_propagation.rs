//! The registry travelling node to node, on a federation of four `huren serve` processes: a
//! version published at national reaches every node cosigned by k witnesses; with three of the
//! four witnesses down it is not acted on, and once they are back it is, and the restarted
//! nodes catch up; a forked checkpoint is refused by every node's witness and kept as evidence;
//! a root that replaces two witnesses reaches every node. Every wait is bounded.

#[path = "support/federation.rs"]
mod federation;
#[path = "support/propagation.rs"]
mod propagation;

use std::path::{Path, PathBuf};
use std::time::Duration;

use huren::connect::{ClientTls, connect};
use huren_cli::federation::Federation;
use huren_cli::federation::init::WITNESS_THRESHOLD;
use huren_cli::federation::layout::{NODES_DIR, REGISTRY_DIR, STATE_DIR};
use huren_proto::v1::AddCheckpointRequest;
use huren_proto::v1::witness_service_client::WitnessServiceClient;
use huren_registry::dev::DevRegistry;
use huren_registry::log::{Checkpoint, leaf_hash, root_hash};
use huren_registry::note::SignedNote;
use huren_registry::witness::sign_checkpoint_note;
use huren_registry::{Algorithm, SigningKey, store};
use propagation::{PROPAGATION, all_nodes, now, publish, publish_root, served, started, wait_for};

#[tokio::test]
async fn a_version_published_at_national_reaches_every_node_cosigned_by_k_witnesses() {
    let (_tmp, dir, federation) = started().await;
    let version = publish(&dir);
    let seen = wait_for(&federation, &all_nodes(), version, PROPAGATION).await;
    for (id, s) in &seen {
        let (v, cosigners) = s.clone().unwrap_or_else(|| panic!("{id} answered nothing"));
        assert_eq!(v, version, "{id} serves version {v}: {seen:?}");
        assert!(
            cosigners.len() >= WITNESS_THRESHOLD as usize,
            "{id}'s checkpoint is cosigned by {cosigners:?}"
        );
    }
    // The followers got it over the network: each keeps it in its own registry directory.
    for id in ["zhejiang", "west", "south"] {
        let kept = dir.join(NODES_DIR).join(id).join(REGISTRY_DIR);
        let state = store::read_state(&kept).unwrap();
        let registry = huren_registry::verify_state(&state, None, now()).unwrap();
        assert_eq!(
            registry.version(),
            version,
            "{id} kept its followed version"
        );
    }
}

#[tokio::test]
async fn a_version_with_fewer_cosignatures_is_not_acted_on_and_restarted_nodes_catch_up() {
    let (_tmp, dir, mut federation) = started().await;
    let before = served(&federation, "national").await.unwrap().0;
    for id in ["zhejiang", "west", "south"] {
        federation.kill_node(id).unwrap();
    }
    let version = publish(&dir);
    // national alone cosigns: 1 of the 2 needed, so it keeps serving the last good version.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (serving, cosigners) = served(&federation, "national").await.unwrap();
    assert_eq!(
        serving, before,
        "national acted on a version with {cosigners:?}"
    );

    for id in ["zhejiang", "west", "south"] {
        federation.restart_node(id).await.unwrap();
    }
    let seen = wait_for(&federation, &all_nodes(), version, PROPAGATION).await;
    for (id, s) in &seen {
        let (v, cosigners) = s.clone().unwrap_or_else(|| panic!("{id} answered nothing"));
        assert_eq!(v, version, "{id} did not catch up: {seen:?}");
        assert!(
            cosigners.len() >= WITNESS_THRESHOLD as usize,
            "{cosigners:?}"
        );
    }
}

/// A mutual-TLS connection to node `id` presenting national's own node certificate: the
/// gateway caller the witness service admits.
async fn as_national_node(
    dir: &Path,
    federation: &Federation,
    id: &str,
) -> tonic::transport::Channel {
    let pki = dir.join("pki");
    let manifest = huren_certs::Manifest::load(&pki).unwrap();
    let read = |p: PathBuf| std::fs::read_to_string(p).unwrap();
    let tls = ClientTls::trusting(read(pki.join(&manifest.root_ca))).with_identity(
        read(pki.join("nodes/national/server.pem")),
        read(pki.join("nodes/national/server.key")),
    );
    connect(federation.node(id).unwrap().listen, &tls)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_forked_checkpoint_is_refused_by_every_node_and_kept_as_evidence() {
    let (_tmp, dir, federation) = started().await;
    // The log key signs another history of the size every witness last cosigned: a split view.
    let dev = DevRegistry::open(&dir.join(REGISTRY_DIR), now()).unwrap();
    let cp = dev.registry.checkpoint().clone();
    let mut leaves = dev.registry.leaves().to_vec();
    leaves[0] = leaf_hash(b"a different past");
    let forked = Checkpoint::new(&cp.origin, cp.tree_size, &root_hash(&leaves));
    let note = sign_checkpoint_note(&forked, &[&dev.keys.log])
        .unwrap()
        .unwrap();
    for id in all_nodes() {
        let channel = as_national_node(&dir, &federation, id).await;
        let refused = WitnessServiceClient::new(channel)
            .add_checkpoint(AddCheckpointRequest {
                old_size: cp.tree_size,
                consistency_proof: Vec::new(),
                checkpoint_note: note.to_text(),
            })
            .await
            .expect_err("a fork is never cosigned");
        assert_eq!(
            refused.code(),
            tonic::Code::FailedPrecondition,
            "{id}: {refused:?}"
        );
        let state = dir.join(NODES_DIR).join(id).join(STATE_DIR);
        let evidence: Vec<String> = std::fs::read_dir(&state)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with("fork-"))
            .collect();
        assert_eq!(
            evidence.len(),
            2,
            "{id} keeps both checkpoints: {evidence:?}"
        );
        // The genuine checkpoint is still what each node serves.
        let (_, cosigners) = served(&federation, id).await.unwrap();
        assert!(cosigners.len() >= WITNESS_THRESHOLD as usize);
    }
    // A note signed under the log's name by a key the registry does not list is not cosigned
    // either: a witness vouches only for the log's own word.
    let mut unsigned = SignedNote::new(forked.note_text().unwrap()).unwrap();
    let stranger = SigningKey::generate(Algorithm::Ed25519).unwrap();
    unsigned.add(huren_registry::note::sign(&unsigned, &cp.origin, &stranger).unwrap());
    let channel = as_national_node(&dir, &federation, "zhejiang").await;
    let refused = WitnessServiceClient::new(channel)
        .add_checkpoint(AddCheckpointRequest {
            old_size: cp.tree_size,
            consistency_proof: Vec::new(),
            checkpoint_note: unsigned.to_text(),
        })
        .await
        .expect_err("an unsigned note is never cosigned");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{refused:?}");
}

/// A root that replaces two of the four witnesses' keys, published while the held root asks
/// for 3 cosignatures: the two witnesses it keeps cannot meet the held root's quorum, which a
/// node also needs before it acts on a new root. The publisher asks the replaced root's
/// witnesses too, so the new root reaches every node instead of being retried forever.
#[tokio::test]
async fn a_root_that_replaces_two_witnesses_reaches_every_node() {
    let (_tmp, dir, federation) = started().await;
    let three = publish_root(&dir, |root| root.witness_threshold = 3);
    let seen = wait_for(&federation, &all_nodes(), three, PROPAGATION).await;
    for (id, s) in &seen {
        assert_eq!(s.as_ref().map(|s| s.0), Some(three), "{id}: {seen:?}");
    }

    let rotated = publish_root(&dir, |root| {
        for id in ["west", "south"] {
            let fresh = SigningKey::generate(Algorithm::Ed25519).unwrap();
            root.nodes.get_mut(id).unwrap().witness_key = Some(fresh.public_key());
        }
        root.witness_threshold = WITNESS_THRESHOLD;
    });
    let seen = wait_for(&federation, &all_nodes(), rotated, PROPAGATION).await;
    for (id, s) in &seen {
        let (v, cosigners) = s.clone().unwrap_or_else(|| panic!("{id} answered nothing"));
        assert_eq!(v, rotated, "{id} did not act on the new root: {seen:?}");
        // Under the new root only the two kept witnesses' cosignatures count.
        assert_eq!(cosigners, ["national", "zhejiang"], "{id}");
    }
}
