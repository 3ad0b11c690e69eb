//! Federation without a network: the status statement a serving node signs is checked against
//! the key the registry lists for that node, carries no ID number or full name, and the serving
//! node authorises the original caller with its own role × method table.

use huren::federation::serve::authorise;
use std::sync::Arc;

use huren::federation::statement::{self, Asked, ListedKey, StatementError, StatusStatement};
use huren::identity::parse_spiffe_id;
use huren::privacy::mask_name;
use huren_adapters::codec::GroupVerifier;
use huren_proto::v1::ResolveStatusRequest;
use huren_registry::dev::{DevOptions, DevRegistry};
use huren_registry::{Algorithm, SigningKey};
use time::{Duration, OffsetDateTime};

const NODE: &str = "gateway-1";
const NODE_SPIFFE: &str = "spiffe://huren.dev/region/000000/role/gateway/gateway-1";
const CHECKPOINT: &str = "spiffe://huren.dev/region/330110/role/checkpoint/yuhang-gate";
const ID_NUMBER: &str = "510104199001011234";
/// The digest of the request a statement answers (any value: these tests sign their own).
const REQUEST: &str = "5d41402abc4b2a76b9719d911017c592";

fn dev() -> (tempfile::TempDir, DevRegistry) {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    huren_certs::init(&pki, &huren_certs::InitOptions::default()).unwrap();
    let dev = DevRegistry::init(
        &pki,
        &dir.path().join("reg"),
        &DevOptions::default(),
        false,
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    (dir, dev)
}

fn statement(now: OffsetDateTime) -> StatusStatement {
    StatusStatement {
        node_id: NODE.into(),
        region: "510000".into(),
        native_label: "绿码".into(),
        masked_name: mask_name("张三丰"),
        subject: "9f".repeat(32),
        issuer_id: None,
        refreshed_at: now,
        valid_until: Some(now + Duration::hours(24)),
        checked_in_at: None,
        cached: false,
        synthetic: false,
        read_at: now,
        expires: now + Duration::seconds(30),
        caller: CHECKPOINT.into(),
        verifying_region: "330000".into(),
        request: REQUEST.into(),
    }
}

fn asked() -> Asked<'static> {
    Asked {
        node_id: NODE,
        region: "510000",
        caller: CHECKPOINT,
        verifying_region: "330000",
        request: REQUEST,
    }
}

#[test]
fn a_statement_under_the_listed_node_key_verifies_and_names_nobody() {
    let (_dir, dev) = dev();
    let now = OffsetDateTime::now_utc();
    let env = statement::sign(&statement(now), &dev.keys.receipt).unwrap();
    let text = String::from_utf8(env.payload.clone()).unwrap();
    assert!(text.contains("张*"), "{text}");
    assert!(!text.contains("三丰"), "a full name crossed: {text}");
    assert!(
        !text.contains(ID_NUMBER) && !text.contains("id_number"),
        "{text}"
    );
    let checked = statement::verify(&env, &dev.registry, &asked(), now).unwrap();
    assert_eq!(checked.statement.native_label, "绿码");
    assert_eq!(checked.digest.len(), 64);
}

#[test]
fn a_statement_signed_by_a_key_the_registry_does_not_list_is_refused() {
    let (_dir, dev) = dev();
    let now = OffsetDateTime::now_utc();
    let stranger = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let env = statement::sign(&statement(now), &stranger).unwrap();
    let err = statement::verify(&env, &dev.registry, &asked(), now).unwrap_err();
    assert!(matches!(err, StatementError::UnknownKey { .. }), "{err}");

    // A key the registry lists, but for another purpose (the node's audit key), is no better.
    let env = statement::sign(&statement(now), &dev.keys.audit).unwrap();
    let err = statement::verify(&env, &dev.registry, &asked(), now).unwrap_err();
    assert!(matches!(err, StatementError::UnknownKey { .. }), "{err}");

    // Asked of a node the registry does not list at all.
    let env = statement::sign(&statement(now), &dev.keys.receipt).unwrap();
    let mut other = asked();
    other.node_id = "west";
    let err = statement::verify(&env, &dev.registry, &other, now).unwrap_err();
    assert!(matches!(err, StatementError::UnknownNode(_)), "{err}");
}

#[test]
fn an_altered_replayed_or_expired_statement_is_refused() {
    let (_dir, dev) = dev();
    let now = OffsetDateTime::now_utc();
    let mut env = statement::sign(&statement(now), &dev.keys.receipt).unwrap();
    let good = env.clone();
    env.payload = String::from_utf8(env.payload)
        .unwrap()
        .replace("绿码", "红码")
        .into_bytes();
    let err = statement::verify(&env, &dev.registry, &asked(), now).unwrap_err();
    assert!(matches!(err, StatementError::BadSignature { .. }), "{err}");

    let mut for_another = asked();
    for_another.caller = "spiffe://huren.dev/region/440000/role/checkpoint/gz-gate";
    let err = statement::verify(&good, &dev.registry, &for_another, now).unwrap_err();
    assert!(matches!(err, StatementError::Mismatch { .. }), "{err}");
    // Nor does it answer a read of another region, or the same read under another region's rules.
    let mut other_region = asked();
    other_region.region = "410000";
    let err = statement::verify(&good, &dev.registry, &other_region, now).unwrap_err();
    assert!(matches!(err, StatementError::Mismatch { .. }), "{err}");
    let mut other_rules = asked();
    other_rules.verifying_region = "510000";
    let err = statement::verify(&good, &dev.registry, &other_rules, now).unwrap_err();
    assert!(matches!(err, StatementError::Mismatch { .. }), "{err}");

    // Signed for another request (another code, or the same ask on another call).
    let mut other_call = asked();
    other_call.request = "another request";
    let err = statement::verify(&good, &dev.registry, &other_call, now).unwrap_err();
    assert!(matches!(err, StatementError::OtherRequest { .. }), "{err}");

    let later = now + Duration::minutes(5);
    let err = statement::verify(&good, &dev.registry, &asked(), later).unwrap_err();
    assert!(matches!(err, StatementError::Expired(_)), "{err}");
}

/// The entry node checks the statements of concurrent forwarded reads together: a forged one
/// among 63 genuine ones in flight at the same time is refused alone, with the error a single
/// check gives, and every genuine one passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_forged_statement_among_concurrent_ones_is_refused_alone() {
    let (_dir, dev) = dev();
    let now = OffsetDateTime::now_utc();
    let key = ListedKey::new(&dev.registry.root().nodes[NODE].receipt_key);
    let group = Arc::new(GroupVerifier::default());
    let genuine = statement::sign(&statement(now), &dev.keys.receipt).unwrap();
    let mut forged = genuine.clone();
    forged.payload = String::from_utf8(forged.payload)
        .unwrap()
        .replace("绿码", "红码")
        .into_bytes();
    for bad in [0usize, 17, 63] {
        let calls = (0..64).map(|i| {
            let env = if i == bad { &forged } else { &genuine }.clone();
            let (key, group) = (key.clone(), group.clone());
            tokio::spawn(async move {
                statement::verify_grouped(&env, Some(&key), &asked(), now, &group).await
            })
        });
        for (i, answer) in futures::future::join_all(calls)
            .await
            .into_iter()
            .enumerate()
        {
            match answer.unwrap() {
                Ok(checked) if i != bad => assert_eq!(checked.statement.native_label, "绿码"),
                Err(StatementError::BadSignature { .. }) if i == bad => {}
                other => panic!("statement {i} (forged: {bad}): {other:?}"),
            }
        }
    }
    // Every signature went through the group, not around it.
    assert_eq!(group.figures().signatures, 3 * 64);

    // The checks that come before the signature are the same as a single check's.
    let stranger = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let env = statement::sign(&statement(now), &stranger).unwrap();
    let err = statement::verify_grouped(&env, Some(&key), &asked(), now, &group)
        .await
        .unwrap_err();
    assert!(matches!(err, StatementError::UnknownKey { .. }), "{err}");
    let later = now + Duration::minutes(5);
    let err = statement::verify_grouped(&genuine, Some(&key), &asked(), later, &group)
        .await
        .unwrap_err();
    assert!(matches!(err, StatementError::Expired(_)), "{err}");
}

fn ask(caller: &str, method: &str, verifying: &str) -> ResolveStatusRequest {
    ResolveStatusRequest {
        issuing_region: "510000".into(),
        code_id: "sc-123".into(),
        city: String::new(),
        verifying_region: verifying.into(),
        caller_spiffe_id: caller.into(),
        caller_method: method.into(),
        purpose: "checkpoint-entry".into(),
        ..Default::default()
    }
}

#[test]
fn the_serving_node_authorises_the_original_caller_with_its_own_table() {
    let (_dir, dev) = dev();
    let node = parse_spiffe_id(NODE_SPIFFE, "huren.dev").unwrap();
    let verify = "/huren.v1.RecognitionService/VerifyCode";

    let fwd = authorise(
        &dev.registry,
        NODE,
        &node,
        &ask(CHECKPOINT, verify, "330000"),
    )
    .unwrap();
    assert_eq!(fwd.node_id, NODE);
    assert_eq!(fwd.caller.spiffe_id, CHECKPOINT);

    // A checkpoint cannot use forwarding to get another province's rules.
    let err = authorise(
        &dev.registry,
        NODE,
        &node,
        &ask(CHECKPOINT, verify, "510000"),
    )
    .unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied, "{err}");

    // A carrier may not verify single codes, forwarded or not.
    let carrier = "spiffe://huren.dev/region/510000/role/carrier/chengdu-rail";
    let err = authorise(&dev.registry, NODE, &node, &ask(carrier, verify, "330000")).unwrap_err();
    assert_eq!(err.code(), tonic::Code::PermissionDenied, "{err}");

    // Another node is not a caller a read can be forwarded for.
    let err = authorise(
        &dev.registry,
        NODE,
        &node,
        &ask(NODE_SPIFFE, verify, "330000"),
    )
    .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err}");

    // A gateway the registry does not list is refused, whoever it says it forwards for.
    let stranger = parse_spiffe_id(
        "spiffe://huren.dev/region/440000/role/gateway/rogue",
        "huren.dev",
    )
    .unwrap();
    let err = authorise(
        &dev.registry,
        NODE,
        &stranger,
        &ask(CHECKPOINT, verify, "330000"),
    )
    .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated, "{err}");

    // A region this node does not serve is not read here.
    let err = authorise(
        &dev.registry,
        "west",
        &node,
        &ask(CHECKPOINT, verify, "330000"),
    )
    .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err}");
}

#[test]
fn a_resident_statement_keeps_its_bytes_without_the_synthetic_field() {
    // Statements signed before the field existed have no "synthetic" key: a resident's
    // statement must encode the same, so theirs keep verifying.
    let (_dir, dev) = dev();
    let now = OffsetDateTime::now_utc();
    let env = statement::sign(&statement(now), &dev.keys.receipt).unwrap();
    let text = String::from_utf8(env.payload.clone()).unwrap();
    assert!(!text.contains("synthetic"), "{text}");
    let checked = statement::verify(&env, &dev.registry, &asked(), now).unwrap();
    assert!(!checked.statement.synthetic);

    let synthetic = StatusStatement {
        synthetic: true,
        ..statement(now)
    };
    let env = statement::sign(&synthetic, &dev.keys.receipt).unwrap();
    let checked = statement::verify(&env, &dev.registry, &asked(), now).unwrap();
    assert!(
        checked.statement.synthetic,
        "the serving node's word is kept"
    );
}

#[test]
fn a_statement_made_synthetic_by_anyone_but_the_serving_node_is_refused() {
    // Attack: hide a real person from the national summary by flagging their forwarded read
    // synthetic, either in transit (altering the signed statement) or by signing one's own.
    let (_dir, dev) = dev();
    let now = OffsetDateTime::now_utc();
    let mut env = statement::sign(&statement(now), &dev.keys.receipt).unwrap();
    let text = String::from_utf8(env.payload).unwrap();
    env.payload = text
        .replacen("\"cached\":false", "\"cached\":false,\"synthetic\":true", 1)
        .into_bytes();
    assert!(String::from_utf8_lossy(&env.payload).contains("\"synthetic\":true"));
    let err = statement::verify(&env, &dev.registry, &asked(), now).unwrap_err();
    assert!(matches!(err, StatementError::BadSignature { .. }), "{err}");

    let forged = StatusStatement {
        synthetic: true,
        ..statement(now)
    };
    let stranger = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let env = statement::sign(&forged, &stranger).unwrap();
    let err = statement::verify(&env, &dev.registry, &asked(), now).unwrap_err();
    assert!(matches!(err, StatementError::UnknownKey { .. }), "{err}");
}
