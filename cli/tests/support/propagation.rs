//! The registry as the federation tests publish it at national and read it back from each
//! node: shared by the propagation and following tests, each including this file with
//! `#[path]` beside `support/federation.rs` (as `federation`).
// Each test uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use huren_cli::federation::Federation;
use huren_cli::federation::layout::{NODES, REGISTRY_DIR};
use huren_proto::v1::GetRegistryRequest;
use huren_proto::v1::registry_service_client::RegistryServiceClient;
use huren_registry::dev::DevRegistry;
use huren_registry::doc::{Document as _, Root};
use huren_registry::note::SignedNote;
use huren_registry::witness::Witnesses;
use huren_registry::{SignedState, store};

/// Long enough for a publish to be cosigned and followed (a 1 s follow poll behind the push).
pub const PROPAGATION: Duration = Duration::from_secs(20);

pub fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

pub async fn started() -> (tempfile::TempDir, PathBuf, Federation) {
    let tmp = tempfile::tempdir().unwrap();
    let (federation, dir) = super::federation::start(&tmp).await;
    (tmp, dir, federation)
}

/// Publishes a new registry version in the publisher's directory, as `huren registry publish`
/// would; returns its version.
pub fn publish(dir: &Path) -> u64 {
    let registry = dir.join(REGISTRY_DIR);
    let mut dev = DevRegistry::open(&registry, now()).unwrap();
    let version = dev.refresh(now()).unwrap().version();
    store::save(&registry, &dev.registry).unwrap();
    version
}

/// The registry node `id` serves: its version and the witnesses whose cosignature on its
/// checkpoint verifies.
pub async fn served(federation: &Federation, id: &str) -> Option<(u64, Vec<String>)> {
    let channel = federation.channel(id, "national", None).await.ok()?;
    let mut request = tonic::Request::new(GetRegistryRequest::default());
    request.set_timeout(Duration::from_secs(2));
    let whole = RegistryServiceClient::new(channel)
        .get_registry(request)
        .await
        .ok()?
        .into_inner();
    let state = SignedState::from_bytes(&whole.signed_state).ok()?;
    let registry = huren_registry::verify_state(&state, None, now()).ok()?;
    let note = SignedNote::parse(registry.state().log.note.as_deref()?).ok()?;
    let cosigners = Witnesses::of_root(registry.root())
        .ok()?
        .cosigned_by(&note)
        .ok()?;
    Some((registry.version(), cosigners.into_iter().collect()))
}

/// Waits (at most `within`) until every node in `ids` serves `version`; the versions seen.
pub async fn wait_for(
    federation: &Federation,
    ids: &[&str],
    version: u64,
    within: Duration,
) -> Vec<(String, Option<(u64, Vec<String>)>)> {
    let until = Instant::now() + within;
    loop {
        let mut seen = Vec::new();
        for id in ids {
            seen.push((id.to_string(), served(federation, id).await));
        }
        let all = seen
            .iter()
            .all(|(_, s)| s.as_ref().is_some_and(|(v, _)| *v == version));
        if all || Instant::now() >= until {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn all_nodes() -> Vec<&'static str> {
    NODES.iter().map(|n| n.id).collect()
}

/// Publishes at national a new root, `change`d from the current one, as the root ceremony
/// would; returns the registry version.
pub fn publish_root(dir: &Path, change: impl FnOnce(&mut Root)) -> u64 {
    let registry = dir.join(REGISTRY_DIR);
    let mut dev = DevRegistry::open(&registry, now()).unwrap();
    let mut root = dev.registry.root().clone();
    root.version += 1;
    change(&mut root);
    let changes = vec![(root.name(), huren_registry::ceremony::envelope(&root))];
    let version = dev.publish(changes, now()).unwrap().version();
    store::save(&registry, &dev.registry).unwrap();
    version
}
