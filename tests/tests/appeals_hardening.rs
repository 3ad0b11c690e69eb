//! Appeals and lookups hardened against a caller or a node that asks too much, over real
//! sockets on an in-process federation (zhejiang: Zhejiang; west: Sichuan and Henan; south:
//! Guangdong, Hunan, Hubei and national):
//! - one open appeal per decision (ALREADY_EXISTS naming it), another once it is answered;
//! - a relaying node's filing is checked at the queue's node as at the entry node;
//! - a relaying node speaks only for callers of provinces it serves (it cannot answer, list or
//!   read as another province's health commission);
//! - FileAppeal is rate-limited per caller, at the entry node and again at the queue's node;
//! - forwarded lookups are taken from the original caller's bucket at the serving node, so two
//!   entry nodes give no more than one's rate;
//! - a lookup decision is not an appeal's decision (documented in gateway/APPEALS.md).

use std::time::Duration;

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::appeals_relay_service_client::AppealsRelayServiceClient;
use huren_proto::v1::appeals_service_client::AppealsServiceClient;
use huren_proto::v1::lookup_service_client::LookupServiceClient;
use huren_proto::v1::{
    AnswerAppealRequest, Appeal, AppealOutcome, AppealState, FileAppealRequest, GetAppealRequest,
    ListAppealsRequest, LookupPersonRequest, RelayAppealRequest, RelayedFiling, Verdict,
    Verification, relay_appeal_request::Call,
};
use huren_tests::federation::{Federation, NodeSpec, verify};
use huren_tests::node::{NodeOptions, TestNode, resident_id};
use huren_tests::reason;
use tonic::Code;
use tonic::transport::Channel;
use tonic_types::StatusExt;

const DEADLINE: Duration = Duration::from_secs(5);

fn request<T>(message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.set_timeout(DEADLINE);
    request
}

fn specs() -> [NodeSpec; 3] {
    [
        NodeSpec::new("zhejiang", "330000", &["330000"], 1),
        NodeSpec::new("west", "510000", &["510000", "410000"], 1),
        NodeSpec::new(
            "south",
            "440000",
            &["440000", "430000", "420000", "000000"],
            1,
        ),
    ]
}

fn filing(seq: u64, payload: &str) -> FileAppealRequest {
    FileAppealRequest {
        decision_seq: seq,
        payload: payload.to_string(),
        verifying_region: String::new(),
        reason: "my code turned yellow by mistake".into(),
        contact: "138-0013-8000".into(),
    }
}

async fn file(channel: &Channel, req: FileAppealRequest) -> Result<Appeal, tonic::Status> {
    AppealsServiceClient::new(channel.clone())
        .file_appeal(request(req))
        .await
        .map(|r| r.into_inner().appeal.expect("an appeal"))
}

fn answer_of(id: &str, outcome: AppealOutcome) -> AnswerAppealRequest {
    AnswerAppealRequest {
        appeal_id: id.to_string(),
        outcome: outcome as i32,
        corrected_colour: huren_proto::v1::Colour::Green as i32,
        note: "checked".into(),
    }
}

async fn relay(
    channel: &Channel,
    caller: &str,
    call: Call,
) -> Result<huren_proto::v1::RelayAppealResponse, tonic::Status> {
    AppealsRelayServiceClient::new(channel.clone())
        .relay_appeal(request(RelayAppealRequest {
            caller_spiffe_id: caller.to_string(),
            call: Some(call),
        }))
        .await
        .map(tonic::Response::into_inner)
}

/// A Henan resident's yellow code, judged at the Yuhang checkpoint at zhejiang (read at west).
async fn yellow_henan_decision(fed: &Federation, n: u32, name: &str) -> (String, Verification) {
    let id = resident_id("410105", n);
    let issued = fed
        .issue(RegionCode::HENAN, &id, name, Colour::Yellow)
        .await;
    let gate = fed.channel_as("zhejiang", 0, "checkpoint", None).await;
    let judged = verify(&gate, &issued.payload, DEADLINE).await;
    assert_ne!(judged.verdict(), Verdict::Pass, "{judged:?}");
    assert!(judged.audit_seq > 0);
    (issued.payload, judged)
}

#[tokio::test]
async fn one_open_appeal_per_decision_and_a_relaying_node_speaks_only_for_its_own_callers() {
    let fed = Federation::start(&specs()).await;
    let gate = fed.channel_as("zhejiang", 0, "checkpoint", None).await;
    let henan_health = fed.channel_as("west", 0, "province", Some("410000")).await;
    let (payload, judged) = yellow_henan_decision(&fed, 31, "赵磊").await;

    // Filed at zhejiang into Henan's queue at west; a second filing of the same decision is
    // refused while the first is open, naming it.
    let first = file(&gate, filing(judged.audit_seq, &payload))
        .await
        .expect("filed");
    assert!(first.appeal_id.starts_with("410000-"), "{first:?}");
    let again = file(&gate, filing(judged.audit_seq, &payload))
        .await
        .expect_err("a second open appeal");
    assert_eq!(again.code(), Code::AlreadyExists, "{again:?}");
    assert!(again.message().contains(&first.appeal_id), "{again:?}");

    // South relays as Henan's health commission (a province south does not serve): refused for
    // every call, and the appeal stays open.
    let south_to_west = fed.channel_as_node("west", "south").await;
    let henan_spiffe = fed
        .pki
        .manifest
        .client("province", Some("410000"))
        .expect("Henan's health commission")
        .spiffe_id
        .clone();
    let id = first.appeal_id.clone();
    for call in [
        Call::Answer(answer_of(&id, AppealOutcome::Corrected)),
        Call::Get(GetAppealRequest {
            appeal_id: id.clone(),
        }),
        Call::List(ListAppealsRequest {
            issuing_region: "410000".into(),
            state: AppealState::Unspecified as i32,
        }),
    ] {
        let err = relay(&south_to_west, &henan_spiffe, call)
            .await
            .expect_err("a node speaking for another province's caller");
        assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
        assert_eq!(
            reason(&err).as_deref(),
            Some("NOT_THE_RELAYING_NODES_CALLER"),
            "{err:?}"
        );
    }
    // West relays an answer as Guangdong's health commission to south, which holds Guangdong's
    // queue: west serves no Guangdong caller.
    let west_to_south = fed.channel_as_node("south", "west").await;
    let guangdong = fed.pki.spiffe("440000", "province", "guangdong-health");
    let err = relay(
        &west_to_south,
        &guangdong,
        Call::Answer(answer_of(
            "440000-0123456789abcdef",
            AppealOutcome::Corrected,
        )),
    )
    .await
    .expect_err("west does not speak for Guangdong");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert_eq!(
        reason(&err).as_deref(),
        Some("NOT_THE_RELAYING_NODES_CALLER")
    );

    // Nor for the filer, a Zhejiang checkpoint (south does not serve Zhejiang).
    let gate_spiffe = fed
        .pki
        .manifest
        .client("checkpoint", None)
        .expect("the dev checkpoint")
        .spiffe_id
        .clone();
    let err = relay(
        &south_to_west,
        &gate_spiffe,
        Call::Get(GetAppealRequest {
            appeal_id: id.clone(),
        }),
    )
    .await
    .expect_err("not south's caller");
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");

    // Henan answers at west, its own node; then a new appeal of the same decision may be filed.
    let answered = AppealsServiceClient::new(henan_health.clone())
        .answer_appeal(request(answer_of(&id, AppealOutcome::Upheld)))
        .await
        .expect("answered")
        .into_inner()
        .appeal
        .expect("an appeal");
    assert_eq!(answered.state(), AppealState::Upheld);
    let second = file(&gate, filing(judged.audit_seq, &payload))
        .await
        .expect("a new appeal after the answer");
    assert_ne!(second.appeal_id, first.appeal_id);
}

#[tokio::test]
async fn a_relayed_filing_is_checked_at_the_queues_node_as_at_the_entry_node() {
    let fed = Federation::start(&specs()).await;
    let (payload, judged) = yellow_henan_decision(&fed, 32, "赵磊").await;
    // South relays for a Guangdong checkpoint (a caller of a province south serves).
    let south_to_west = fed.channel_as_node("west", "south").await;
    let caller = fed.pki.spiffe("440100", "checkpoint", "canton-gate");
    let claimed = "ff".repeat(32);
    let relayed = |masked_name: &str, verdict: Verdict, contact_hash: String| {
        Call::File(RelayedFiling {
            issuing_region: "410000".into(),
            verifying_region: "440000".into(),
            decision_seq: judged.audit_seq,
            verdict: verdict as i32,
            masked_name: masked_name.to_string(),
            reason: "relayed".into(),
            contact_hash,
            payload: payload.clone(),
            subject_ref: claimed.clone(),
        })
    };
    let hash = "ab".repeat(32);

    // The code names 赵*, the filing claims another person's decision.
    let err = relay(
        &south_to_west,
        &caller,
        relayed("李*", Verdict::HomeQuarantine, hash.clone()),
    )
    .await
    .expect_err("not the decided person");
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert_eq!(reason(&err).as_deref(), Some("NOT_THE_DECIDED_CODE"));
    // A PASS is not appealed, wherever it is filed.
    let err = relay(
        &south_to_west,
        &caller,
        relayed("赵*", Verdict::Pass, hash.clone()),
    )
    .await
    .expect_err("a PASS");
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    // A contact in clear is not a keyed hash.
    let err = relay(
        &south_to_west,
        &caller,
        relayed("赵*", Verdict::HomeQuarantine, "13800138000".into()),
    )
    .await
    .expect_err("a phone number in clear");
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");

    // A consistent filing is taken; west keeps its own pseudonym of the person, not the
    // relaying node's claim.
    let filed = relay(
        &south_to_west,
        &caller,
        relayed("赵*", Verdict::HomeQuarantine, hash),
    )
    .await
    .expect("filed")
    .appeal
    .expect("an appeal");
    assert_eq!(filed.decision_node, "south");
    let appeals_dir = fed.replicas["west"][0].state_dir.join("appeals");
    let kept = std::fs::read_dir(&appeals_dir)
        .expect("west's appeals")
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .find(|text| text.contains(&filed.appeal_id))
        .expect("the appeal's file");
    assert!(!kept.contains(&claimed), "{kept}");
}

#[tokio::test]
async fn filing_is_rate_limited_per_caller_at_the_queues_node_too() {
    // West holds Henan's queue and takes at most 2 filings of one caller at once.
    let fed = Federation::start_configured(&specs(), &|id, config| {
        if id == "west" {
            config.limits.appeal_burst = 2;
        }
    })
    .await;
    let south_to_west = fed.channel_as_node("west", "south").await;
    let caller = fed.pki.spiffe("440100", "checkpoint", "canton-gate");
    let junk = || {
        Call::File(RelayedFiling {
            issuing_region: "410000".into(),
            verifying_region: "440000".into(),
            decision_seq: 1,
            verdict: Verdict::HomeQuarantine as i32,
            masked_name: "赵*".into(),
            reason: "relayed".into(),
            contact_hash: "ab".repeat(32),
            payload: "not a code".into(),
            subject_ref: String::new(),
        })
    };
    let mut refused = None;
    for _ in 0..10 {
        match relay(&south_to_west, &caller, junk()).await {
            Err(e) if e.code() == Code::ResourceExhausted => {
                refused = Some(e);
                break;
            }
            _ => {}
        }
    }
    let err = refused.expect("the queue's node limits the relayed caller");
    assert_eq!(reason(&err).as_deref(), Some("RATE_LIMITED"));
    assert!(err.get_details_retry_info().is_some(), "{err:?}");
}

#[tokio::test]
async fn file_appeal_is_resource_exhausted_with_retry_info_once_the_bucket_is_empty() {
    let node = TestNode::start_with(NodeOptions {
        gateway: Box::new(|c| {
            c.limits.appeals_per_hour = 60;
            c.limits.appeal_burst = 2;
        }),
        ..NodeOptions::default()
    })
    .await;
    let checkpoint = node.channel_as("checkpoint", None).await;
    // Filings of decisions that do not exist still spend the bucket: trying sequence numbers is
    // what the limit is for.
    let mut answered = Vec::new();
    let err = loop {
        let err = file(&checkpoint, filing(900_000 + answered.len() as u64, "x"))
            .await
            .expect_err("no such decision");
        if err.code() == Code::ResourceExhausted {
            break err;
        }
        answered.push(err.code());
        assert!(answered.len() < 10, "the bucket never empties");
    };
    assert!(answered.len() >= 2, "the burst is 2: {answered:?}");
    assert!(
        answered.iter().all(|c| *c == Code::NotFound),
        "{answered:?}"
    );
    assert_eq!(reason(&err).as_deref(), Some("RATE_LIMITED"));
    let wait = err
        .get_details_retry_info()
        .and_then(|r| r.retry_delay)
        .expect("RetryInfo");
    assert!(wait <= Duration::from_secs(60), "{wait:?}");
    // Another caller has its own bucket.
    let province = node.channel_as("province", Some("330000")).await;
    let other = file(&province, filing(900_100, "x"))
        .await
        .expect_err("none");
    assert_eq!(other.code(), Code::NotFound);
}

async fn lookup(channel: &Channel, id: &str, name: &str) -> Result<Verification, tonic::Status> {
    LookupServiceClient::new(channel.clone())
        .lookup_person(request(LookupPersonRequest {
            resident_id_number: id.to_string(),
            name: name.to_string(),
            verifying_region: String::new(),
            purpose: "station-entry: no phone".into(),
        }))
        .await
        .map(|r| r.into_inner().verification.expect("a verification"))
}

#[tokio::test]
async fn forwarded_lookups_spend_the_original_callers_bucket_at_the_serving_node() {
    // West serves Sichuan and allows 2 lookups of one caller at once (then 1 a minute); the
    // entry nodes keep the default.
    let fed = Federation::start_configured(&specs(), &|id, config| {
        if id == "west" {
            config.limits.lookups_per_minute = 1;
            config.limits.lookup_burst = Some(2);
        }
    })
    .await;
    let sichuan = resident_id("510104", 33);
    fed.issue(RegionCode::SICHUAN, &sichuan, "李大爷", Colour::Green)
        .await;
    // The same checkpoint at two entry nodes.
    let at_zhejiang = fed.channel_as("zhejiang", 0, "checkpoint", None).await;
    let at_south = fed.channel_as("south", 0, "checkpoint", None).await;
    for channel in [&at_zhejiang, &at_south] {
        let v = lookup(channel, &sichuan, "李大爷")
            .await
            .expect("looked up");
        assert_eq!(v.verdict(), Verdict::Pass, "{v:?}");
    }
    // Each entry node would allow more, but west has given this caller its two.
    for channel in [&at_zhejiang, &at_south] {
        let v = lookup(channel, &sichuan, "李大爷").await.expect("answered");
        assert_ne!(v.verdict(), Verdict::Pass, "west's bucket is empty: {v:?}");
    }
}

#[tokio::test]
async fn a_lookup_decision_is_not_appealed() {
    let node = TestNode::start().await;
    let id = resident_id("330106", 34);
    node.issue(RegionCode::ZHEJIANG, &id, "陈爷爷", Colour::Yellow)
        .await;
    let checkpoint = node.channel_as("checkpoint", None).await;
    let looked_up = lookup(&checkpoint, &id, "陈爷爷").await.expect("looked up");
    assert_ne!(looked_up.verdict(), Verdict::Pass, "{looked_up:?}");
    assert_eq!(looked_up.audit_seq, 0, "a lookup gives no appeal ref");
    let seq = node
        .audit_records()
        .iter()
        .rev()
        .find(|r| r.entry.method.ends_with("/LookupPerson"))
        .expect("the lookup is audited")
        .seq;
    let err = file(&checkpoint, filing(seq, "x"))
        .await
        .expect_err("a lookup is not an appealable decision");
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    assert_eq!(reason(&err).as_deref(), Some("NO_SUCH_DECISION"));
}
