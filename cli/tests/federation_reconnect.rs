//! A forwarded read after the serving node was SIGKILLed and restarted on its address: the entry
//! node's connection to it broke with it, and the next read dials it again (pinned as before)
//! instead of failing on the dead connection.

#[path = "support/federation.rs"]
mod shared;

use huren_adapters::{Colour, RegionCode, ResidentId};
use huren_cli::federation::issue::{KNOWN_AFTER, issue_code};
use huren_proto::v1::{StatusSource, Verdict};

#[tokio::test]
async fn a_forwarded_read_reaches_the_serving_node_again_after_its_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut federation, dir) = shared::start(&tmp).await;
    let gate = shared::checkpoint_at_zhejiang(&federation).await;
    let who = ResidentId::from_first17("41010519900101002").unwrap();
    let payload = issue_code(&dir, RegionCode::HENAN, &who, "钱七", Colour::Green).unwrap();
    tokio::time::sleep(KNOWN_AFTER).await;
    let first = shared::verify(&gate, &payload).await;
    assert_eq!(first.source(), StatusSource::Forwarded, "{first:?}");
    assert_eq!(first.verdict(), Verdict::Pass, "{first:?}");

    // West gone: Henan's reads degrade, within the deadline, naming nobody else.
    federation.kill_node("west").unwrap();
    let down = shared::verify(&gate, &payload).await;
    assert_eq!(down.source(), StatusSource::Degraded, "{down:?}");
    assert_eq!(down.verdict(), Verdict::Review, "{down:?}");

    // Back on the same address: read at the source again, through a new connection.
    federation.restart_node("west").await.unwrap();
    let again = shared::verify(&gate, &payload).await;
    assert_eq!(again.source(), StatusSource::Forwarded, "{again:?}");
    assert_eq!(again.verdict(), Verdict::Pass, "{again:?}");
}
