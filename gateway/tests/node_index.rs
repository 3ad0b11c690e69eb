//! The registry's node lookups are built once per registry version: the SPIFFE id → node map
//! with the verified registry itself, and the federation's node index once per version it
//! serves, even on a node that has no peers of its own to keep one.

use std::sync::Arc;

use huren::federation::index::IndexCache;
use huren_registry::dev::{DEV_NODE_ID, DevOptions, DevRegistry};
use time::OffsetDateTime;

#[test]
fn the_node_index_is_built_once_per_registry_version() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    huren_certs::init(&pki, &huren_certs::InitOptions::default()).unwrap();
    let now = OffsetDateTime::now_utc();
    let mut dev = DevRegistry::init(
        &pki,
        &dir.path().join("reg"),
        &DevOptions::default(),
        false,
        now,
    )
    .unwrap();
    let v1 = dev.registry.clone();
    let spiffe_id = v1.nodes()[DEV_NODE_ID].spiffe_id.clone();
    assert_eq!(v1.node_of(&spiffe_id), Some(DEV_NODE_ID));
    assert_eq!(
        v1.node_of("spiffe://huren.dev/region/330000/role/gateway/x"),
        None
    );

    let cache = IndexCache::default();
    let first = cache.of(&v1);
    assert!(
        Arc::ptr_eq(&first, &cache.of(&v1)),
        "rebuilt for the same version"
    );
    assert_eq!(first.node_of(&spiffe_id), Some(DEV_NODE_ID));

    let v2 = dev
        .refresh(now + time::Duration::seconds(1))
        .unwrap()
        .clone();
    assert!(v2.version() > v1.version());
    let second = cache.of(&v2);
    assert!(
        !Arc::ptr_eq(&first, &second),
        "kept across a version change"
    );
    assert_eq!(second.version(), v2.version());
}
