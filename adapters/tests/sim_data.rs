//! The reference service keeps its records on disk: they survive a restart, and a status set by
//! another process (`huren region set-status`) is served and published without a restart.

mod net_support;

use std::time::Duration;

use huren_adapters::net::{FeedEvent, FollowFrom};
use huren_adapters::sim::{self, ServiceConfig, Store};
use huren_adapters::{Colour, RegionCode, Source};
use net_support::*;
use time::OffsetDateTime;

#[tokio::test]
async fn records_survive_a_restart_and_outside_changes_are_picked_up() {
    let pki = pki();
    let data = tempfile::tempdir().unwrap();
    let mut config = ServiceConfig::loopback(RegionCode::HENAN, pki.path());
    config.data = Some(data.path().to_path_buf());

    let first = sim::spawn(config.clone()).await.unwrap();
    let issued = issue(&first, Colour::Green).await;
    first.shutdown().await;

    let second = sim::spawn(config).await.unwrap();
    let trust = trust(&pki, &second, Duration::ZERO);
    let client = client();
    let reading = lookup(
        &client,
        &trust,
        second.region,
        &code(&issued.code_id),
        Duration::from_secs(1),
    )
    .await
    .unwrap();
    assert_eq!(
        (reading.source, reading.native_label.as_str()),
        (Source::Online, "低风险")
    );

    let mut follower = client.follow(second.region, trust.clone(), FollowFrom::Now);
    tokio::time::sleep(Duration::from_millis(200)).await;
    // What `huren region set-status` does from another process.
    let outside = Store::open(Some(data.path())).unwrap();
    outside
        .set_label(&resident(), "高风险", OffsetDateTime::now_utc())
        .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), follower.recv())
        .await
        .unwrap();
    let Some(FeedEvent::Change(change)) = event else {
        panic!("expected a change, got {event:?}");
    };
    assert_eq!(change.native_label, "高风险");
    let now = lookup(
        &client,
        &trust,
        second.region,
        &code(&issued.code_id),
        Duration::from_secs(1),
    )
    .await
    .unwrap();
    assert_eq!(now.native_label, "高风险");
}

#[tokio::test]
async fn a_status_change_replaces_the_record_file_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(Some(dir.path())).unwrap();
    let record = store
        .upsert(
            &resident(),
            "张三",
            "绿码",
            Some("c1"),
            OffsetDateTime::now_utc(),
        )
        .unwrap();
    store
        .set_label(&resident(), "红码", OffsetDateTime::now_utc())
        .unwrap();
    let names: Vec<String> = std::fs::read_dir(dir.path().join("people"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "no temporary file left behind: {names:?}");
    assert!(names[0].ends_with(".json"));
    assert_eq!(
        names[0],
        format!("{}.json", record.handle),
        "files are named by handle, not ID"
    );
    let text = std::fs::read_to_string(dir.path().join("people").join(&names[0])).unwrap();
    assert!(text.contains("红码"), "the replacement is what is on disk");
}
