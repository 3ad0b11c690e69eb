//! Signed status lists end to end, over real sockets: the reference services of Hunan, Hubei and
//! the national platform publish their issuers' lists, the node follows them, and a v2 code whose
//! holder turns red is refused at Zhejiang's checkpoint after the next refresh; suspended codes
//! and lists the node must refuse (stale, expired, rolled back, wrong key, truncated, or another
//! list's genuine bytes answered for the one asked) are REVIEW;
//! WatchManifest sees a withdrawal before departure; a v2 code downgraded to v1 or pointed at
//! another list entry is FORGED.

use std::time::{Duration, Instant};

use huren_adapters::sim::{IssueInput, ListFault};
use huren_adapters::status_list::ListKey;
use huren_adapters::{Colour, RegionCode, ResidentId};
use huren_proto::v1::manifests_service_client::ManifestsServiceClient;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{
    Boarding, Manifest, Passenger, Verdict, Verification, VerifyCodeRequest, WatchManifestRequest,
};
use huren_tests::node::{NodeOptions, TestNode, resident_id};
use time::OffsetDateTime;
use tonic::transport::Channel;

/// How often the node under test refreshes its lists.
const REFRESH: Duration = Duration::from_millis(200);
/// Longest any expected change may take to show: many refreshes.
const WITHIN: Duration = Duration::from_secs(10);

const LISTED: [RegionCode; 3] = [RegionCode::HUNAN, RegionCode::HUBEI, RegionCode::NATIONAL];

async fn node() -> TestNode {
    let mut options = NodeOptions::default();
    options.listed_services.extend(LISTED);
    options.configure = Box::new(|config| config.revocations_every = REFRESH);
    TestNode::start_with(options).await
}

/// A v2 code (with a status-list entry) for a resident of `region`.
async fn issue_listed(node: &TestNode, region: RegionCode, id: &str, colour: Colour) -> String {
    let id = ResidentId::parse(id).expect("valid resident ID");
    node.service(region)
        .issue(IssueInput::new(id, "赵六", colour).listed())
        .await
        .expect("code issued")
        .payload
}

async fn scan(checkpoint: &mut RecognitionServiceClient<Channel>, payload: &str) -> Verification {
    checkpoint
        .verify_code(VerifyCodeRequest {
            payload: payload.to_string(),
            verifying_region: String::new(),
            purpose: "checkpoint-entry".into(),
        })
        .await
        .expect("verified")
        .into_inner()
        .verification
        .expect("a verification")
}

/// Scans until the verdict and first reason are the ones wanted, or [`WITHIN`] passes.
async fn scan_until(
    checkpoint: &mut RecognitionServiceClient<Channel>,
    payload: &str,
    verdict: Verdict,
    reason: &str,
) -> Verification {
    let until = Instant::now() + WITHIN;
    loop {
        let v = scan(checkpoint, payload).await;
        let first = v.reasons.first().map(|r| r.code.as_str()).unwrap_or("");
        if (v.verdict() == verdict && first == reason) || Instant::now() > until {
            return v;
        }
        tokio::time::sleep(REFRESH / 2).await;
    }
}

fn first_reason(v: &Verification) -> &str {
    v.reasons.first().map(|r| r.code.as_str()).unwrap_or("")
}

#[tokio::test]
async fn a_v2_code_whose_holder_turns_red_is_refused_at_another_provinces_checkpoint() {
    let node = node().await;
    let mut checkpoint = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
    for (n, region) in LISTED.into_iter().enumerate() {
        let id = resident_id(&format!("{}0102", &region.as_str()[..2]), n as u32 + 1);
        let code = issue_listed(&node, region, &id, Colour::Green).await;
        let before = scan_until(&mut checkpoint, &code, Verdict::Pass, "AGREEMENT_RULE").await;
        assert_eq!(before.verdict(), Verdict::Pass, "{region}: {before:?}");
        assert_eq!(before.verifying_region, "330000", "Zhejiang's checkpoint");

        node.set_status(region, &id, Colour::Red).await;
        let after = scan_until(&mut checkpoint, &code, Verdict::Reject, "REVOKED_CODE").await;
        assert_eq!(after.verdict(), Verdict::Reject, "{region}: {after:?}");
        assert_eq!(first_reason(&after), "REVOKED_CODE");
    }
}

#[tokio::test]
async fn a_suspended_code_is_review_and_a_v1_code_keeps_todays_behaviour() {
    let node = node().await;
    let mut checkpoint = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
    // Hunan has no word for "pending": the person keeps 绿码 and their codes are suspended.
    let hunan = resident_id("430102", 11);
    let v2 = issue_listed(&node, RegionCode::HUNAN, &hunan, Colour::Green).await;
    let v1 = node
        .issue(RegionCode::HUNAN, &hunan, "赵六", Colour::Green)
        .await
        .payload;
    assert!(v2.starts_with("EHC2:430000:") && v1.starts_with("EHC1:430000:"));
    scan_until(&mut checkpoint, &v2, Verdict::Pass, "AGREEMENT_RULE").await;
    node.set_status(RegionCode::HUNAN, &hunan, Colour::Pending)
        .await;
    let suspended = scan_until(&mut checkpoint, &v2, Verdict::Review, "CODE_SUSPENDED").await;
    assert_eq!(suspended.verdict(), Verdict::Review, "{suspended:?}");
    assert_eq!(first_reason(&suspended), "CODE_SUSPENDED");
    // A v1 code names no list entry: it still passes until it expires, as before.
    assert_eq!(scan(&mut checkpoint, &v1).await.verdict(), Verdict::Pass);

    // Hubei's grey code is its review word: its v2 codes are suspended too.
    let hubei = resident_id("420102", 12);
    let code = issue_listed(&node, RegionCode::HUBEI, &hubei, Colour::Green).await;
    scan_until(&mut checkpoint, &code, Verdict::Pass, "AGREEMENT_RULE").await;
    node.set_status(RegionCode::HUBEI, &hubei, Colour::Pending)
        .await;
    let grey = scan_until(&mut checkpoint, &code, Verdict::Review, "CODE_SUSPENDED").await;
    assert_eq!(first_reason(&grey), "CODE_SUSPENDED", "{grey:?}");
}

#[tokio::test]
async fn a_list_the_node_must_refuse_leaves_the_last_good_one_and_the_code_goes_review() {
    let mut node = node().await;
    // Lists must be at most 2 s old here, so a refused refresh shows within seconds.
    let mut national = huren_registry::dev::agreements(OffsetDateTime::now_utc())
        .into_iter()
        .find(|a| a.id == "national")
        .expect("national agreement");
    national.max_status_list_age_secs = Some(2);
    node.dev
        .put_agreement(national, OffsetDateTime::now_utc())
        .expect("agreement published");
    node.dev.save(&node.registry_dir()).expect("saved");

    let mut checkpoint = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
    let id = resident_id("430102", 21);
    let code = issue_listed(&node, RegionCode::HUNAN, &id, Colour::Green).await;
    let lists = node.node.recognizer().status_lists.clone();
    let hunan = node.service(RegionCode::HUNAN);
    for fault in [
        ListFault::Frozen,
        ListFault::Expired,
        ListFault::RolledBack,
        ListFault::WrongKey,
        ListFault::Truncated,
        // Genuine bytes of the issuer's other list, answered when list 1 was asked for.
        ListFault::OtherList,
    ] {
        let good = scan_until(&mut checkpoint, &code, Verdict::Pass, "AGREEMENT_RULE").await;
        assert_eq!(good.verdict(), Verdict::Pass, "before {fault:?}: {good:?}");
        let (key, held) = lists
            .index()
            .into_iter()
            .find(|(key, _)| key.region == RegionCode::HUNAN)
            .expect("Hunan's list is held");

        hunan.set_faults(huren_adapters::sim::Faults {
            status_lists: Some(fault),
            ..Default::default()
        });
        let refused =
            scan_until(&mut checkpoint, &code, Verdict::Review, "STATUS_LIST_STALE").await;
        assert_eq!(refused.verdict(), Verdict::Review, "{fault:?}: {refused:?}");
        assert_eq!(first_reason(&refused), "STATUS_LIST_STALE", "{fault:?}");
        assert_eq!(
            lists.sequence(&key),
            Some(held),
            "{fault:?}: nothing replaced the last good list"
        );
        hunan.set_faults(Default::default());
        assert_held_moves_on(&lists, &key, held).await;
    }
    // The other list was never installed, and the refusal is counted under its own name.
    assert!(
        lists
            .index()
            .iter()
            .all(|(key, _)| key.region != RegionCode::HUNAN || key.list_id == 1),
        "{:?}",
        lists.index()
    );
    let metrics = huren::metrics::render();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("huren_status_list_refreshes_total")
                && l.contains(r#"region="430000""#)
                && l.contains(r#"source="service""#)
                && l.contains(r#"outcome="not_the_list_asked""#)),
        "{metrics}"
    );
}

/// Once the service publishes good lists again, the node installs a newer one.
async fn assert_held_moves_on(
    lists: &huren_adapters::status_list::ListArchive,
    key: &ListKey,
    held: u64,
) {
    let until = Instant::now() + WITHIN;
    while lists.sequence(key) <= Some(held) && Instant::now() < until {
        tokio::time::sleep(REFRESH).await;
    }
    assert!(lists.sequence(key) > Some(held), "a good list follows");
}

#[tokio::test]
async fn a_watch_sees_a_passengers_code_withdrawn_before_departure() {
    let node = node().await;
    let id = resident_id("430102", 31);
    let code = issue_listed(&node, RegionCode::HUNAN, &id, Colour::Green).await;
    let mut checkpoint = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
    scan_until(&mut checkpoint, &code, Verdict::Pass, "AGREEMENT_RULE").await;

    let departure = OffsetDateTime::now_utc() + time::Duration::seconds(6);
    let manifest = Manifest {
        train_id: "G1234".into(),
        origin_region: "510000".into(),
        destination_region: "330100".into(),
        departure_time: Some(huren::recognition::wire::timestamp(departure)),
        passengers: vec![Passenger {
            seat: "2C".into(),
            payload: code.clone(),
        }],
    };
    let mut carrier = ManifestsServiceClient::new(node.channel_as("carrier", None).await);
    let mut stream = carrier
        .watch_manifest(WatchManifestRequest {
            manifest: Some(manifest),
        })
        .await
        .expect("watching")
        .into_inner();
    let first = stream.message().await.expect("stream").expect("first");
    assert_eq!(first.changes[0].boarding(), Boarding::Board);

    node.set_status(RegionCode::HUNAN, &id, Colour::Red).await;
    let mut seen = Vec::new();
    while let Some(event) = stream.message().await.expect("stream") {
        for change in &event.changes {
            let v = change.verification.as_ref().expect("judged");
            seen.push((change.boarding(), v.reasons[0].code.clone()));
        }
        if event.departed {
            break;
        }
    }
    assert_eq!(seen, [(Boarding::Deny, "REVOKED_CODE".to_string())]);
}

/// Rewrites the signed serial of a Hunan payload (`EHC?:430000:<HEX(body)>:<HEX(signature)>`)
/// without re-signing, and sets its prefix.
fn rewritten_hunan(payload: &str, prefix: &str, serial: impl Fn(u64) -> u64) -> String {
    let mut parts = payload.splitn(4, ':');
    let (_, _, body, signature) = (
        parts.next(),
        parts.next(),
        parts.next().expect("a body"),
        parts.next().expect("a signature"),
    );
    let body = String::from_utf8(hex::decode(body).expect("hex body")).expect("UTF-8 body");
    // The serial is the one field in list 1's range [2^32, 2^33): times lie below it, the
    // resident ID far above.
    let serials = body
        .split('|')
        .filter(|f| f.parse::<u64>().is_ok_and(|n| n >> 32 == 1))
        .count();
    assert_eq!(serials, 1, "one serial in {body}");
    let fields: Vec<String> = body
        .split('|')
        .map(|f| match f.parse::<u64>() {
            Ok(n) if n >> 32 == 1 => serial(n).to_string(),
            _ => f.to_string(),
        })
        .collect();
    format!(
        "{prefix}{}:{signature}",
        hex::encode_upper(fields.join("|"))
    )
}

#[tokio::test]
async fn a_v2_code_downgraded_to_v1_or_pointed_at_another_entry_is_forged() {
    let node = node().await;
    let mut checkpoint = RecognitionServiceClient::new(node.channel_as("checkpoint", None).await);
    let id = resident_id("430102", 41);
    let code = issue_listed(&node, RegionCode::HUNAN, &id, Colour::Green).await;
    // The holder is withdrawn: each forgery below would pass if it escaped the list.
    scan_until(&mut checkpoint, &code, Verdict::Pass, "AGREEMENT_RULE").await;
    node.set_status(RegionCode::HUNAN, &id, Colour::Red).await;
    let revoked = scan_until(&mut checkpoint, &code, Verdict::Reject, "REVOKED_CODE").await;
    assert_eq!(first_reason(&revoked), "REVOKED_CODE", "{revoked:?}");

    let forgeries = [
        // Re-prefixed as v1, the status reference kept in the serial.
        ("v1 prefix", rewritten_hunan(&code, "EHC1:430000:", |s| s)),
        // Re-prefixed as v1 with the status reference stripped to a plain serial.
        (
            "v1, reference stripped",
            rewritten_hunan(&code, "EHC1:430000:", |s| s & 0xffff_ffff),
        ),
        // Another index in the same list, which is not withdrawn.
        (
            "index + 1",
            rewritten_hunan(&code, "EHC2:430000:", |s| s ^ 1),
        ),
        // The same index in another list, which the node does not hold.
        (
            "list 2",
            rewritten_hunan(&code, "EHC2:430000:", |s| s + (1 << 32)),
        ),
    ];
    for (what, forged) in forgeries {
        assert_ne!(forged, code);
        let v = scan(&mut checkpoint, &forged).await;
        assert_eq!(v.verdict(), Verdict::Reject, "{what}: {v:?}");
        assert_eq!(first_reason(&v), "FORGED", "{what}: {v:?}");
    }
}
