//! A follower rebuilds the publisher's registry from a GetRegistry delta alone — changed
//! documents, a new root version, the log entries and checkpoints after the size it holds, the
//! checkpoint note — and the rebuilt state is byte for byte the publisher's and verifies
//! against the one the follower held.

use std::sync::Arc;

use huren::follow::delta::rebuild;
use huren::registry_handle::SharedRegistry;
use huren::services::registry::{RegistryDistribution, RegistryState};
use huren_proto::v1::GetRegistryRequest;
use huren_proto::v1::registry_service_server::RegistryService;
use huren_registry::ceremony::envelope;
use huren_registry::dev::{DevOptions, DevRegistry};
use huren_registry::doc::Document;
use tonic::Request;

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

#[tokio::test]
async fn a_delta_rebuilds_the_publishers_state_and_verifies_against_the_held_one() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    huren_certs::init(&pki, &huren_certs::InitOptions::default()).unwrap();
    let reg = dir.path().join("reg");
    let mut dev = DevRegistry::init(&pki, &reg, &DevOptions::default(), false, now()).unwrap();
    let held = dev.registry.clone();

    // Two versions the follower missed: a region edit, then a new root version.
    dev.edit_region("510000", |d| d.cache_ttl_secs = 7, now())
        .unwrap();
    let mut root = dev.registry.root().clone();
    root.version += 1;
    dev.publish(vec![(root.name(), envelope(&root))], now())
        .unwrap();
    let publisher = SharedRegistry::new(dev.registry.clone());
    let svc = RegistryDistribution::new(Arc::new(RegistryState::new(publisher)));

    let delta = svc
        .get_registry(Request::new(GetRegistryRequest {
            since_version: held.version(),
            since_tree_size: held.checkpoint().tree_size,
        }))
        .await
        .unwrap()
        .into_inner();
    assert!(
        delta.delta && delta.signed_state.is_empty(),
        "no whole file"
    );
    assert!(!delta.log_entries.is_empty() && !delta.checkpoints.is_empty());
    let rebuilt = rebuild(&held, &delta).unwrap();
    assert_eq!(rebuilt, *dev.registry.state());
    let verified = huren_registry::verify_state(&rebuilt, Some(&held), now()).unwrap();
    assert_eq!(verified.version(), dev.registry.version());

    // A delta with an entry dropped does not verify: the log no longer hashes to its checkpoint.
    let mut cut = delta.clone();
    cut.log_entries.pop();
    let broken = rebuild(&held, &cut).unwrap();
    assert!(huren_registry::verify_state(&broken, Some(&held), now()).is_err());
}
