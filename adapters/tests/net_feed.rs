//! Following a region's change feed over TLS: a status change reaches the follower and makes
//! the cached answer stale; a restarted service makes the follower start over.

mod net_support;

use std::time::Duration;

use huren_adapters::net::{FeedEvent, FeedFollower, FollowFrom};
use huren_adapters::sim::{Faults, IssueInput};
use huren_adapters::{Colour, RegionCode, Source};
use net_support::*;

async fn next(follower: &mut FeedFollower) -> FeedEvent {
    tokio::time::timeout(Duration::from_secs(10), follower.recv())
        .await
        .expect("an event within 10 s")
        .expect("the follower is running")
}

#[tokio::test]
async fn a_status_change_reaches_the_follower_and_the_cache_forgets_the_old_answer() {
    let pki = pki();
    let sc = start(&pki, RegionCode::ZHEJIANG, Faults::default()).await;
    let before = sc
        .issue(IssueInput::new(second_resident(), "赵六", Colour::Green))
        .await
        .unwrap();
    let issued = issue(&sc, Colour::Green).await;
    let trust = trust(&pki, &sc, Duration::from_secs(60));
    let client = client();
    let cached = lookup(
        &client,
        &trust,
        sc.region,
        &code(&issued.code_id),
        Duration::from_secs(1),
    )
    .await
    .unwrap();
    assert_eq!(cached.native_label, "绿码");

    let mut follower = client.follow(sc.region, trust.clone(), FollowFrom::Now);
    // Let the follower learn where the feed stands before the change.
    tokio::time::sleep(Duration::from_millis(200)).await;
    sc.set_status(&resident(), Colour::Red).await.unwrap();

    let FeedEvent::Change(change) = next(&mut follower).await else {
        panic!("expected a change");
    };
    assert_eq!(change.native_label, "红码");
    assert_eq!(change.handle, issued.handle);
    assert!(change.code_ids.contains(&issued.code_id));
    assert_ne!(
        change.handle, before.handle,
        "history before the follower started is skipped"
    );

    let after = lookup(
        &client,
        &trust,
        sc.region,
        &code(&issued.code_id),
        Duration::from_secs(1),
    )
    .await
    .unwrap();
    assert_eq!(
        after.source,
        Source::Online,
        "the change dropped the cached answer"
    );
    assert_eq!(after.native_label, "红码");
}

#[tokio::test]
async fn from_the_beginning_replays_every_current_status() {
    let pki = pki();
    let ha = start(&pki, RegionCode::HENAN, Faults::default()).await;
    ha.issue(IssueInput::new(resident(), "张三", Colour::Green))
        .await
        .unwrap();
    ha.issue(IssueInput::new(second_resident(), "赵六", Colour::Yellow))
        .await
        .unwrap();
    let trust = trust(&pki, &ha, Duration::ZERO);
    let mut follower = client().follow(ha.region, trust, FollowFrom::Beginning);
    let mut labels = Vec::new();
    for _ in 0..2 {
        match next(&mut follower).await {
            FeedEvent::Change(c) => labels.push(c.native_label),
            other => panic!("unexpected {other:?}"),
        }
    }
    labels.sort();
    assert_eq!(labels, vec!["中风险".to_string(), "低风险".to_string()]);
}

#[tokio::test]
async fn a_restarted_service_sends_the_follower_back_to_the_start() {
    let pki = pki();
    let data = tempfile::tempdir().unwrap();
    let mut config = huren_adapters::sim::ServiceConfig::loopback(RegionCode::ZHEJIANG, pki.path());
    config.data = Some(data.path().to_path_buf());
    let first = huren_adapters::sim::spawn(config.clone()).await.unwrap();
    first
        .issue(IssueInput::new(resident(), "张三", Colour::Green))
        .await
        .unwrap();
    let trust = trust(&pki, &first, Duration::ZERO);
    let mut follower = client().follow(RegionCode::ZHEJIANG, trust, FollowFrom::Beginning);
    assert!(matches!(next(&mut follower).await, FeedEvent::Change(_)));

    // Same address and records, new run: the feed's numbering restarts.
    config.listen = first.addr;
    first.shutdown().await;
    let Ok(second) = huren_adapters::sim::spawn(config).await else {
        return; // the port was taken meanwhile; nothing to test
    };
    let mut saw_reset = false;
    for _ in 0..4 {
        match next(&mut follower).await {
            FeedEvent::Reset => saw_reset = true,
            FeedEvent::Change(c) if saw_reset => {
                assert_eq!(c.native_label, "绿码");
                break;
            }
            _ => {}
        }
    }
    assert!(saw_reset, "the follower was told to start over");
    drop(second);
}
