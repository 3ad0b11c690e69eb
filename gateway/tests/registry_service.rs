//! The registry service and hot reload: a newly published registry directory is picked up
//! without a restart, a call holding the old snapshot finishes on it, a bad update is refused and
//! the last good state served, and WatchRegistry streams the new state with a consistency proof.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use huren::registry_handle::SharedRegistry;
use huren::services::registry::{RegistryDistribution, RegistryState};
use huren_proto::v1::registry_service_server::RegistryService;
use huren_proto::v1::{
    GetCheckpointRequest, GetProofsRequest, GetRegistryRequest, WatchRegistryRequest,
};
use huren_registry::dev::{DevOptions, DevRegistry};
use huren_registry::log::{leaf_hash, verify_consistency, verify_inclusion};
use huren_registry::store;
use tonic::Request;

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

fn dev() -> (tempfile::TempDir, DevRegistry) {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    huren_certs::init(&pki, &huren_certs::InitOptions::default()).unwrap();
    let reg = dir.path().join("reg");
    let dev = DevRegistry::init(&pki, &reg, &DevOptions::default(), false, now()).unwrap();
    (dir, dev)
}

fn hash32(v: &[u8]) -> [u8; 32] {
    v.try_into().unwrap()
}

#[tokio::test]
async fn serves_full_and_delta_registries_checkpoints_and_proofs() {
    let (dir, mut dev) = dev();
    let reg_dir = dir.path().join("reg");
    let shared = SharedRegistry::open(&reg_dir).unwrap();
    let svc = RegistryDistribution::new(Arc::new(RegistryState::new(shared.clone())));

    let full = svc
        .get_registry(Request::new(GetRegistryRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(full.version, 1);
    assert!(!full.delta);
    assert_eq!(full.documents.len(), 12); // root, 7 regions, 3 agreements, timestamp
    let size1 = full.checkpoint.unwrap().tree_size;
    // A peer verifies a full response with the same verifier a node runs on its own disk.
    let peer_state = huren_registry::SignedState::from_bytes(&full.signed_state).unwrap();
    assert_eq!(
        huren_registry::verify_state(&peer_state, None, now())
            .unwrap()
            .version(),
        1
    );

    dev.edit_region("510000", |d| d.cache_ttl_secs = 5, now())
        .unwrap();
    dev.save(&reg_dir).unwrap();
    shared.reload_from(&reg_dir).unwrap();

    let delta = svc
        .get_registry(Request::new(GetRegistryRequest {
            since_version: 1,
            since_tree_size: size1,
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(delta.delta);
    let names: Vec<&str> = delta.documents.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["regions/510000", "timestamp"]);
    let cp = delta.checkpoint.unwrap();
    let first_root = hash32(&full_root(&svc, size1).await);
    let proof: Vec<[u8; 32]> = delta.consistency_proof.iter().map(|h| hash32(h)).collect();
    verify_consistency(
        size1,
        &first_root,
        cp.tree_size,
        &hash32(&cp.root_hash),
        &proof,
    )
    .unwrap();

    let doc = &delta.documents[0];
    let env = doc.envelope.as_ref().unwrap();
    let leaf = leaf_hash(&huren_registry::envelope::pae(
        &env.payload_type,
        &env.payload,
    ));
    let proofs = svc
        .get_proofs(Request::new(GetProofsRequest {
            leaf_hash: hex::encode(leaf),
            tree_size: 0,
            first_tree_size: 0,
        }))
        .await
        .unwrap()
        .into_inner();
    let path: Vec<[u8; 32]> = proofs.inclusion_proof.iter().map(|h| hash32(h)).collect();
    verify_inclusion(
        &leaf,
        proofs.leaf_index,
        proofs.tree_size,
        &path,
        &hash32(&proofs.checkpoint.unwrap().root_hash),
    )
    .unwrap();

    let bad = svc
        .get_proofs(Request::new(GetProofsRequest {
            leaf_hash: "zz".into(),
            ..Default::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
}

async fn full_root(svc: &RegistryDistribution, size: u64) -> Vec<u8> {
    // The checkpoint history keeps every signed size.
    let reg = svc.state.shared.current().unwrap();
    let leaves = &reg.leaves()[..size as usize];
    let _ = svc
        .get_checkpoint(Request::new(GetCheckpointRequest {}))
        .await
        .unwrap();
    huren_registry::log::root_hash(leaves).to_vec()
}

#[tokio::test]
async fn hot_reload_keeps_calls_in_flight_and_refuses_a_bad_update() {
    let (dir, mut dev) = dev();
    let reg_dir = dir.path().join("reg");
    let shared = SharedRegistry::open(&reg_dir).unwrap();
    let watcher = shared.watch_dir(reg_dir.clone(), Duration::from_millis(50));
    let svc = RegistryDistribution::new(Arc::new(RegistryState::new(shared.clone())));
    let mut stream = svc
        .watch_registry(Request::new(WatchRegistryRequest { since_version: 0 }))
        .await
        .unwrap()
        .into_inner();
    let first = stream.next().await.unwrap().unwrap().state.unwrap();
    assert_eq!(first.version, 1);

    // A call in flight holds the old snapshot throughout.
    let in_flight = shared.current().unwrap();

    dev.refresh(now()).unwrap();
    dev.save(&reg_dir).unwrap();
    let second = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("the watcher picks up the new registry")
        .unwrap()
        .unwrap()
        .state
        .unwrap();
    assert_eq!(second.version, 2);
    assert!(second.delta);
    assert_eq!(in_flight.version(), 1);
    assert_eq!(shared.current().unwrap().version(), 2);

    // A tampered directory is refused; version 2 keeps being served.
    let mut state = store::read_state(&reg_dir).unwrap();
    state
        .documents
        .get_mut("regions/330000")
        .unwrap()
        .signatures
        .clear();
    std::fs::write(reg_dir.join(store::STATE_FILE), state.to_bytes()).unwrap();
    let err = shared.reload_from(&reg_dir).unwrap_err();
    assert!(err.to_string().contains("regions/330000"), "{err}");
    assert_eq!(shared.current().unwrap().version(), 2);
    let served = svc
        .get_checkpoint(Request::new(GetCheckpointRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        served.checkpoint.unwrap().tree_size,
        shared.current().unwrap().checkpoint().tree_size
    );
    watcher.abort();
}
