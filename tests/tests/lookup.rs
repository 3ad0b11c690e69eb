//! Lookup by ID card for people without a phone (LookupPerson): a person of an online region is
//! found and judged like a scanned code, a region with no lookup service is REVIEW
//! `NO_LOOKUP_SERVICE`, a misread number is refused with what to do, a caller's bucket empties
//! and refills, carriers are refused, a lookup another node serves is forwarded and judged as
//! there, and the ID number is in no answer, no statement and no audit record.

use std::path::Path;
use std::time::Duration;

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::federation_service_client::FederationServiceClient;
use huren_proto::v1::lookup_service_client::LookupServiceClient;
use huren_proto::v1::{
    LookupPersonRequest, ResolveStatusRequest, StatusSource, Verdict, Verification,
    resolve_status_response,
};
use huren_tests::federation::{Federation, NodeSpec};
use huren_tests::node::{NodeOptions, TestNode, resident_id};
use huren_tests::reason;
use prost::Message;
use tonic::transport::Channel;
use tonic_types::StatusExt;

const LOOKUP_PERSON: &str = "/huren.v1.LookupService/LookupPerson";

async fn lookup(channel: &Channel, id: &str, name: &str) -> Result<Verification, tonic::Status> {
    let mut request = tonic::Request::new(LookupPersonRequest {
        resident_id_number: id.to_string(),
        name: name.to_string(),
        verifying_region: String::new(),
        purpose: "station-entry: no phone".into(),
    });
    request.set_timeout(Duration::from_secs(5));
    LookupServiceClient::new(channel.clone())
        .lookup_person(request)
        .await
        .map(|r| r.into_inner().verification.expect("a verification"))
}

fn holds(bytes: &[u8], id: &str) -> bool {
    bytes.windows(id.len()).any(|w| w == id.as_bytes())
}

/// No file under `dir` (an audit log: segments, checkpoints) holds the ID number.
fn assert_no_id_under(dir: &Path, id: &str) {
    for entry in std::fs::read_dir(dir).expect("audit dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            assert_no_id_under(&path, id);
        } else {
            let bytes = std::fs::read(&path).expect("audit file");
            assert!(!holds(&bytes, id), "{} holds the ID number", path.display());
        }
    }
}

#[tokio::test]
async fn a_person_of_an_online_region_is_looked_up_audited_and_never_named_by_id() {
    let node = TestNode::start().await;
    let henan = resident_id("410105", 21);
    node.issue(RegionCode::HENAN, &henan, "王大爷", Colour::Green)
        .await;
    let hubei = resident_id("420102", 22);
    let checkpoint = node.channel_as("checkpoint", None).await;

    let found = lookup(&checkpoint, &henan, "王大爷").await.expect("found");
    assert_eq!(found.verdict(), Verdict::Pass, "{found:?}");
    let status = found.status.clone().expect("a status");
    assert_eq!(status.colour(), huren_proto::v1::Colour::Green);
    assert_eq!(status.issuing_region, "410000");
    assert_eq!(found.source(), StatusSource::Online);
    assert_eq!(found.subject.as_ref().expect("subject").masked_name, "王*");
    assert!(!holds(&found.encode_to_vec(), &henan));

    // The wrong name on a real number finds nobody: no oracle for ID numbers.
    let wrong = lookup(&checkpoint, &henan, "王小二").await.expect("judged");
    assert_ne!(wrong.verdict(), Verdict::Pass, "{wrong:?}");

    // Hubei's service offers no lookup by ID: REVIEW, never a guess.
    let none = lookup(&checkpoint, &hubei, "刘奶奶").await.expect("judged");
    assert_eq!(none.verdict(), Verdict::Review, "{none:?}");
    assert!(
        none.reasons.iter().any(|r| r.code == "NO_LOOKUP_SERVICE"),
        "{none:?}"
    );
    assert_eq!(
        none.status.as_ref().expect("status").issuing_region,
        "420000"
    );
    assert!(!holds(&none.encode_to_vec(), &hubei));

    // Every lookup is audited with its purpose, under a pseudonym, never the number.
    let records: Vec<_> = node
        .audit_records()
        .into_iter()
        .filter(|r| r.entry.method == LOOKUP_PERSON)
        .collect();
    assert_eq!(records.len(), 3, "{records:?}");
    for r in &records {
        assert_eq!(r.entry.purpose, "station-entry: no phone");
        assert_eq!(r.entry.subject_ref.len(), 64, "{r:?}");
    }
    assert_eq!(records[2].entry.verdict, "REVIEW");
    for id in [&henan, &hubei] {
        assert_no_id_under(&node.audit_dir(), id);
    }
}

#[tokio::test]
async fn a_misread_number_is_refused_with_what_to_do_and_carriers_may_not_look_up() {
    let node = TestNode::start().await;
    let good = resident_id("510104", 23);
    let mut misread = good[..17].to_string();
    misread.push(if good.ends_with('1') { '2' } else { '1' });
    let checkpoint = node.channel_as("checkpoint", None).await;
    let err = lookup(&checkpoint, &misread, "张奶奶")
        .await
        .expect_err("refused");
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
    assert!(err.message().contains("check digit"), "{err:?}");
    assert!(err.message().contains("again"), "{err:?}");
    let bad_request = err.get_details_bad_request().expect("BadRequest");
    assert_eq!(bad_request.field_violations[0].field, "resident_id_number");
    assert!(!holds(err.message().as_bytes(), &misread));

    for role in ["carrier", "national"] {
        let channel = node.channel_as(role, None).await;
        let err = lookup(&channel, &good, "张奶奶").await.expect_err(role);
        assert_eq!(err.code(), tonic::Code::PermissionDenied, "{role}: {err:?}");
        assert_eq!(reason(&err).as_deref(), Some("ROLE_NOT_ALLOWED"));
    }
    // Nothing refused was looked up, so nothing was audited.
    assert!(
        node.audit_records()
            .iter()
            .all(|r| r.entry.method != LOOKUP_PERSON)
    );
}

#[tokio::test]
async fn an_empty_bucket_is_resource_exhausted_with_retry_info_and_refills() {
    let node = TestNode::start_with(NodeOptions {
        // Two at once, then one a second.
        gateway: Box::new(|c| {
            c.limits.lookups_per_minute = 60;
            c.limits.lookup_burst = Some(2);
        }),
        ..NodeOptions::default()
    })
    .await;
    let id = resident_id("330106", 24);
    node.issue(RegionCode::ZHEJIANG, &id, "陈爷爷", Colour::Green)
        .await;
    let checkpoint = node.channel_as("checkpoint", None).await;
    // The burst, and whatever refilled while a loaded machine made those calls; bounded.
    let mut answered = 0;
    let err = loop {
        match lookup(&checkpoint, &id, "陈爷爷").await {
            Ok(_) => answered += 1,
            Err(err) => break err,
        }
        assert!(answered < 20, "the bucket never empties");
    };
    assert!(answered >= 2, "the burst is 2: {answered}");
    assert_eq!(err.code(), tonic::Code::ResourceExhausted, "{err:?}");
    assert_eq!(reason(&err).as_deref(), Some("RATE_LIMITED"));
    let wait = err
        .get_details_retry_info()
        .and_then(|r| r.retry_delay)
        .expect("RetryInfo");
    assert!(wait <= Duration::from_secs(1), "{wait:?}");
    // Another caller has its own bucket.
    let province = node.channel_as("province", Some("330000")).await;
    lookup(&province, &id, "陈爷爷").await.expect("own bucket");
    tokio::time::sleep(wait).await;
    lookup(&checkpoint, &id, "陈爷爷").await.expect("refilled");
}

#[tokio::test]
async fn a_lookup_another_node_serves_is_forwarded_and_judged_as_there() {
    let fed = Federation::start(&[
        NodeSpec::new(
            "zhejiang",
            "330000",
            &["330000", "440000", "430000", "420000", "000000"],
            1,
        ),
        NodeSpec::new("west", "510000", &["510000", "410000"], 1),
    ])
    .await;
    let sichuan = resident_id("510104", 25);
    fed.issue(RegionCode::SICHUAN, &sichuan, "李大爷", Colour::Green)
        .await;
    let at_zhejiang = fed.channel_as("zhejiang", 0, "checkpoint", None).await;
    let at_west = fed.channel_as("west", 0, "checkpoint", None).await;

    let local = lookup(&at_west, &sichuan, "李大爷").await.expect("local");
    let forwarded = lookup(&at_zhejiang, &sichuan, "李大爷")
        .await
        .expect("forwarded");
    assert_eq!(local.verdict(), Verdict::Pass, "{local:?}");
    assert_eq!(forwarded.verdict, local.verdict, "{forwarded:?}");
    assert_eq!(
        forwarded.status.as_ref().map(|s| s.colour),
        local.status.as_ref().map(|s| s.colour)
    );
    assert_eq!(forwarded.source(), StatusSource::Forwarded);
    assert_eq!(forwarded.forwarded_by, "west");
    assert_eq!(
        forwarded.subject.as_ref().map(|s| s.masked_name.as_str()),
        Some("李*")
    );
    assert!(!holds(&forwarded.encode_to_vec(), &sichuan));

    // The serving node audits the original caller's lookup; neither node keeps the number.
    let checkpoint = fed
        .pki
        .manifest
        .client("checkpoint", None)
        .expect("dev checkpoint");
    assert!(
        fed.audit_records("west", 0)
            .iter()
            .any(|r| r.entry.caller == checkpoint.spiffe_id
                && r.entry.purpose.contains("station-entry: no phone")),
    );
    for (id, index) in [("zhejiang", 0), ("west", 0)] {
        let dir = fed.replicas[id][index]
            .state_dir
            .join(huren::node::AUDIT_DIR);
        assert_no_id_under(&dir, &sichuan);
    }

    // The signed statement west answers a lookup with carries no number either.
    let zj = &fed.files["zhejiang"];
    let as_zhejiang = fed
        .pki
        .anonymous()
        .with_identity(zj.cert_pem.clone(), zj.key_pem.clone());
    let channel = huren_tests::connect(fed.replicas["west"][0].addr, &as_zhejiang)
        .await
        .expect("TLS connects");
    let answer = FederationServiceClient::new(channel)
        .resolve_status(ResolveStatusRequest {
            issuing_region: "510000".into(),
            verifying_region: "330000".into(),
            caller_spiffe_id: checkpoint.spiffe_id.clone(),
            caller_method: LOOKUP_PERSON.into(),
            purpose: "station-entry: no phone".into(),
            resident_id_number: sichuan.clone(),
            resident_name: "李大爷".into(),
            request_id: "10c4".repeat(8),
            ..Default::default()
        })
        .await
        .expect("answered")
        .into_inner();
    assert!(
        matches!(
            answer.outcome,
            Some(resolve_status_response::Outcome::Statement(_))
        ),
        "{answer:?}"
    );
    assert!(!holds(&answer.encode_to_vec(), &sichuan));
}
