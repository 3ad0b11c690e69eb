//! The follow task on a federation of four `huren serve` processes, with zhejiang following
//! west first: a stale west (it follows no one), an unreachable west and a west that serves a
//! forked registry each leave zhejiang to catch up from national. The refused peer is counted,
//! and a fork is kept as evidence while the last good version is served. Every wait is bounded.

#[path = "support/federation.rs"]
mod federation;
#[path = "support/propagation.rs"]
mod propagation;
#[path = "support/registry_peer.rs"]
mod registry_peer;

use std::path::Path;
use std::time::{Duration, Instant};

use huren::follow::FOLLOW_FAILURES;
use huren::registry_witness::FORKS;
use huren_cli::federation::Federation;
use huren_cli::federation::launcher::metrics;
use huren_cli::federation::layout::{NODES_DIR, PKI_DIR, REGISTRY_DIR, STATE_DIR};
use huren_registry::dev::DevRegistry;
use huren_registry::store;
use propagation::{PROPAGATION, now, publish, served, wait_for};

/// Rewrites node `id`'s follow list (`huren federation init` writes national first).
fn follow(dir: &Path, id: &str, nodes: &[&str]) {
    let path = dir.join(NODES_DIR).join(id).join("huren.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let list: Vec<String> = nodes.iter().map(|n| format!("{n:?}")).collect();
    let edited: Vec<String> = text
        .lines()
        .map(|line| {
            if line.starts_with("follow = [") {
                format!("follow = [{}]", list.join(", "))
            } else {
                line.to_string()
            }
        })
        .collect();
    assert_ne!(edited.join("\n"), text.trim_end(), "{id} has a follow list");
    std::fs::write(&path, edited.join("\n") + "\n").unwrap();
}

/// zhejiang follows west first.
fn west_first(dir: &Path) {
    follow(dir, "zhejiang", &["west", "national", "south"]);
}

/// The version zhejiang serves and how many witnesses cosigned it, once it serves `version`.
async fn zhejiang_reaches(federation: &Federation, version: u64) -> (u64, usize) {
    let seen = wait_for(federation, &["zhejiang"], version, PROPAGATION).await;
    let (v, cosigners) = seen[0].1.clone().expect("zhejiang answers");
    assert_eq!(v, version, "zhejiang did not catch up: {seen:?}");
    (v, cosigners.len())
}

/// Waits (bounded) until node `id`'s metrics show every one of `lines`' prefixes; its metrics.
async fn metrics_show(federation: &Federation, id: &str, lines: &[&str]) -> String {
    let admin = federation.node(id).unwrap().admin;
    let until = Instant::now() + PROPAGATION;
    loop {
        let shown = metrics(admin).await.unwrap_or_default();
        if lines
            .iter()
            .all(|l| shown.lines().any(|line| line.starts_with(l)))
            || Instant::now() >= until
        {
            return shown;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_stale_first_peer_does_not_hold_the_follower_back() {
    let tmp = tempfile::tempdir().unwrap();
    let (federation, dir) = federation::start_edited(&tmp, |dir| {
        follow(dir, "west", &[]);
        west_first(dir);
    })
    .await;
    let stale = served(&federation, "west").await.unwrap().0;
    let version = publish(&dir);
    let (_, cosigners) = zhejiang_reaches(&federation, version).await;
    assert!(cosigners >= 2, "{cosigners} cosigners");
    assert_eq!(
        served(&federation, "west").await.unwrap().0,
        stale,
        "west follows no one: it was the stale peer throughout"
    );
}

#[tokio::test]
async fn an_unreachable_first_peer_is_counted_and_passed_over() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut federation, dir) = federation::start_edited(&tmp, west_first).await;
    federation.kill_node("west").unwrap();
    let version = publish(&dir);
    zhejiang_reaches(&federation, version).await;
    let counted = format!("{FOLLOW_FAILURES}{{node=\"west\"}}");
    let shown = metrics_show(&federation, "zhejiang", &[&counted]).await;
    assert!(shown.contains(&counted), "{shown}");
}

#[tokio::test]
async fn a_peer_serving_a_forked_registry_is_refused_and_the_honest_one_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut federation, dir) = federation::start_edited(&tmp, west_first).await;
    // Whoever holds the publisher's keys keeps the registry as it is now, to fork it later.
    let registry = dir.join(REGISTRY_DIR);
    let mut other = DevRegistry::open(&registry, now()).unwrap();
    let mut publisher = DevRegistry::open(&registry, now()).unwrap();
    let good = publisher
        .edit_region("330000", |_| (), now())
        .unwrap()
        .version();
    store::save(&registry, &publisher.registry).unwrap();
    zhejiang_reaches(&federation, good).await;

    // Another history from before `good`: every document `good` carries, the same, but another
    // document logged first, so the two logs differ at `good`'s size. Signed with every key
    // the registry lists, served under west's own certificate where west listens.
    other.edit_region("510000", |_| (), now()).unwrap();
    other.edit_region("330000", |_| (), now()).unwrap();
    let forked = &other.registry;
    assert!(forked.version() > good);
    let (state, version) = (forked.state().clone(), forked.version());
    federation.kill_node("west").unwrap();
    let west = dir.join(PKI_DIR).join(NODES_DIR).join("west");
    let read = |name: &str| std::fs::read_to_string(west.join(name)).unwrap();
    let _fake = registry_peer::start(
        federation.node("west").unwrap().listen,
        &read("server.pem"),
        &read("server.key"),
        &state,
        version,
    )
    .await;

    let counted = format!("{FOLLOW_FAILURES}{{node=\"west\"}}");
    let shown = metrics_show(&federation, "zhejiang", &[&counted, FORKS]).await;
    assert!(shown.contains(&counted), "{shown}");
    assert!(shown.contains(FORKS), "{}", federation.log_tail("zhejiang"));
    let (serving, cosigners) = served(&federation, "zhejiang").await.unwrap();
    assert_eq!(serving, good, "zhejiang keeps its last good version");
    assert!(cosigners.len() >= 2);
    let state_dir = dir.join(NODES_DIR).join("zhejiang").join(STATE_DIR);
    let evidence = std::fs::read_dir(&state_dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("fork-"))
        .count();
    // Polled again and again, the one fork is kept once: its two checkpoints.
    assert_eq!(evidence, 2, "both checkpoints kept, once: {evidence} files");

    // The honest publisher's next version still reaches zhejiang past the forked peer.
    let next = publish(&dir);
    let (_, cosigners) = zhejiang_reaches(&federation, next).await;
    assert!(cosigners >= 2, "the genuine, cosigned version: {cosigners}");
}
