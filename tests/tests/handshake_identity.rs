//! Step 1 of a verification: no identity, no service. Certificates the chain check rejects are
//! refused at the TLS handshake (and counted by reason); certificates that chain but name no
//! caller get UNAUTHENTICATED with a reason a person can act on.

use huren_certs::{Ca, LeafSpec};
use huren_tests::{TestGateway, reason};
use time::{Duration, OffsetDateTime};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

const FAILURES: &str = "huren_tls_handshake_failures_total";

/// Calls health with these TLS settings; returns the error, however it surfaced.
async fn health_call(gw: &TestGateway, tls: &huren::connect::ClientTls) -> Result<(), String> {
    let channel = gw.try_channel(tls).await.map_err(|e| e.to_string())?;
    HealthClient::new(channel)
        .check(HealthCheckRequest::default())
        .await
        .map(|_| ())
        .map_err(|s| format!("{:?}: {}", s.code(), s.message()))
}

async fn assert_refused_at_handshake(gw: &TestGateway, tls: huren::connect::ClientTls, why: &str) {
    let before = huren_tests::counter(&gw.metrics().await, FAILURES, &[("reason", why)]);
    let result = health_call(gw, &tls).await;
    assert!(result.is_err(), "a {why} client got an answer");
    let after = gw.wait_counter(FAILURES, &[("reason", why)], before).await;
    assert!(
        after > before,
        "handshake failure {why:?} was not counted: {after} <= {before}"
    );
}

fn spec(uri: &str) -> LeafSpec {
    LeafSpec::client("huren test client", uri)
}

#[tokio::test]
async fn a_dev_checkpoint_certificate_is_served() {
    let gw = TestGateway::start().await;
    let result = health_call(&gw, &gw.pki.client("checkpoint", None)).await;
    assert_eq!(result, Ok(()));
}

#[tokio::test]
async fn no_client_certificate_is_refused_at_the_handshake() {
    let gw = TestGateway::start().await;
    assert_refused_at_handshake(&gw, gw.pki.anonymous(), "no_client_certificate").await;
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused() {
    let gw = TestGateway::start().await;
    let rogue_root = Ca::new_root("rogue national root").unwrap();
    let rogue_region = rogue_root
        .new_intermediate("rogue region 330000 CA")
        .unwrap();
    let uri = gw.pki.spiffe("330110", "checkpoint", "rogue-gate");
    let tls = gw.pki.client_from(&rogue_region, &spec(&uri));
    assert_refused_at_handshake(&gw, tls, "unknown_issuer").await;
}

#[tokio::test]
async fn an_expired_certificate_is_refused() {
    let gw = TestGateway::start().await;
    let now = OffsetDateTime::now_utc();
    let uri = gw.pki.spiffe("330110", "checkpoint", "old-gate");
    let expired = LeafSpec {
        not_before: now - Duration::days(30),
        not_after: now - Duration::days(1),
        ..spec(&uri)
    };
    let tls = gw.pki.client_leaf("330000", &expired);
    assert_refused_at_handshake(&gw, tls, "certificate_expired").await;
}

#[tokio::test]
async fn a_not_yet_valid_certificate_is_refused() {
    let gw = TestGateway::start().await;
    let now = OffsetDateTime::now_utc();
    let uri = gw.pki.spiffe("330110", "checkpoint", "future-gate");
    let future = LeafSpec {
        not_before: now + Duration::days(1),
        not_after: now + Duration::days(30),
        ..spec(&uri)
    };
    let tls = gw.pki.client_leaf("330000", &future);
    assert_refused_at_handshake(&gw, tls, "certificate_not_yet_valid").await;
}

/// A certificate that chains to the root but names nobody: UNAUTHENTICATED, with the reason.
async fn assert_unauthenticated(leaf: LeafSpec, expected_reason: &str, words: &str) {
    assert_unauthenticated_from("330000", leaf, expected_reason, words).await;
}

/// As [`assert_unauthenticated`], with the leaf issued by the CA of `province`.
async fn assert_unauthenticated_from(
    province: &str,
    leaf: LeafSpec,
    expected_reason: &str,
    words: &str,
) {
    let gw = TestGateway::start().await;
    let tls = gw.pki.client_leaf(province, &leaf);
    let channel = gw
        .try_channel(&tls)
        .await
        .expect("the handshake itself succeeds");
    let status = HealthClient::new(channel)
        .check(HealthCheckRequest::default())
        .await
        .expect_err("a certificate naming nobody must not be served");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert_eq!(reason(&status).as_deref(), Some(expected_reason));
    assert!(
        status.message().contains(words),
        "message {:?} should say {words:?}",
        status.message()
    );
}

#[tokio::test]
async fn no_uri_san_is_unauthenticated() {
    let leaf = LeafSpec {
        uris: vec![],
        ..LeafSpec::client("huren checkpoint without SAN", "")
    };
    assert_unauthenticated(leaf, "NO_URI_SAN", "no URI SAN").await;
}

#[tokio::test]
async fn two_uri_sans_are_unauthenticated() {
    let leaf = LeafSpec {
        uris: vec![
            "spiffe://huren.dev/region/330110/role/checkpoint/a".into(),
            "spiffe://huren.dev/region/440000/role/province/b".into(),
        ],
        ..LeafSpec::client("huren two-faced client", "")
    };
    assert_unauthenticated(leaf, "SEVERAL_URI_SANS", "exactly one").await;
}

#[tokio::test]
async fn another_trust_domain_is_unauthenticated() {
    let leaf = LeafSpec::client(
        "huren foreign client",
        "spiffe://example.org/region/330110/role/checkpoint/gate",
    );
    assert_unauthenticated(leaf, "WRONG_TRUST_DOMAIN", "example.org").await;
}

#[tokio::test]
async fn an_unknown_role_is_unauthenticated() {
    let leaf = LeafSpec::client(
        "huren mayor",
        "spiffe://huren.dev/region/330110/role/mayor/office",
    );
    assert_unauthenticated(leaf, "UNKNOWN_ROLE", "mayor").await;
}

#[tokio::test]
async fn a_malformed_region_code_is_unauthenticated() {
    let leaf = LeafSpec::client(
        "huren bad region",
        "spiffe://huren.dev/region/33011X/role/checkpoint/gate",
    );
    assert_unauthenticated(leaf, "BAD_REGION_CODE", "six digits").await;
}

#[tokio::test]
async fn the_common_name_is_ignored() {
    // A CN that looks like a province identity grants nothing: the URI SAN says checkpoint.
    let leaf = LeafSpec::client(
        "spiffe://huren.dev/region/510000/role/province/sichuan-labour",
        "spiffe://huren.dev/region/330110/role/checkpoint/gate",
    );
    let gw = TestGateway::start().await;
    let channel = gw
        .try_channel(&gw.pki.client_leaf("330000", &leaf))
        .await
        .unwrap();
    let status =
        huren_proto::v1::recognition_service_client::RecognitionServiceClient::new(channel)
            .confirm_workers(huren_proto::v1::ConfirmWorkersRequest {
                destination_region: "330000".into(),
                ..Default::default()
            })
            .await
            .expect_err("a checkpoint may not confirm workers");
    assert_eq!(status.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn a_region_named_by_another_provinces_ca_is_unauthenticated() {
    // Henan's CA chains to the national root, so rustls accepts the chain; it still may not
    // speak for a Zhejiang province caller.
    let leaf = LeafSpec::client(
        "huren forged zhejiang province",
        "spiffe://huren.dev/region/330000/role/province/zhejiang-health",
    );
    assert_unauthenticated_from("410000", leaf, "REGION_CA_MISMATCH", "province 330000").await;
}

#[tokio::test]
async fn a_city_caller_issued_by_its_provinces_ca_is_served() {
    let gw = TestGateway::start().await;
    let leaf = LeafSpec::client(
        "huren hangzhou gate",
        "spiffe://huren.dev/region/330100/role/checkpoint/hangzhou-east",
    );
    let tls = gw.pki.client_leaf("330000", &leaf);
    assert_eq!(health_call(&gw, &tls).await, Ok(()));
}
