//! A forwarded read's answer is bound to that read: a genuine statement the serving node signed
//! for one code does not answer another (the entry node checks the digest of the very request
//! it sent); a forwarded manifest read carries the route's origin so the serving node holds a
//! carrier to its own-province rule as the entry node does; and a node's channel is pinned to
//! the CA of the registry version in use, not the one it was opened under.

use std::time::Duration;

use huren_adapters::{Colour, RegionCode};
use huren_proto::v1::{
    ResolveStatusRequest, ResolveStatusResponse, StatusSource, Verdict, resolve_status_response,
};
use huren_registry::doc::Document;
use huren_tests::federation::{Federation, verify};
use huren_tests::node::resident_id;
use rustls::pki_types::pem::PemObject;

async fn federation() -> Federation {
    Federation::zhejiang_and_west(1).await
}

/// Asks west directly, presenting zhejiang's node certificate.
async fn resolve_at_west(
    fed: &Federation,
    req: ResolveStatusRequest,
) -> Result<ResolveStatusResponse, tonic::Status> {
    fed.resolve_at("west", &fed.as_node("zhejiang"), req).await
}

#[tokio::test]
async fn a_genuine_statement_for_another_code_is_not_believed() {
    let mut fed = federation().await;
    let green = fed
        .issue(
            RegionCode::HENAN,
            &resident_id("410105", 21),
            "王五",
            Colour::Green,
        )
        .await;
    let red = fed
        .issue(
            RegionCode::HENAN,
            &resident_id("410105", 22),
            "赵六",
            Colour::Red,
        )
        .await;
    let checkpoint = fed
        .pki
        .manifest
        .client("checkpoint", None)
        .expect("dev checkpoint");
    // West signs a real statement for the green code, asked as zhejiang asks for a checkpoint.
    let genuine = resolve_at_west(
        &fed,
        ResolveStatusRequest {
            issuing_region: "410000".into(),
            code_id: green.code_id.clone(),
            verifying_region: "330000".into(),
            caller_spiffe_id: checkpoint.spiffe_id.clone(),
            caller_method: "/huren.v1.RecognitionService/VerifyCode".into(),
            purpose: "checkpoint-entry".into(),
            request_id: "00112233445566778899aabbccddeeff".into(),
            ..Default::default()
        },
    )
    .await
    .expect("west answers");
    assert!(
        matches!(
            genuine.outcome,
            Some(resolve_status_response::Outcome::Statement(_))
        ),
        "{genuine:?}"
    );
    // A peer holding west's certificate now answers every ask with that statement.
    let west = &fed.files["west"];
    let replayer = huren_tests::fake_peer::start(&west.cert_pem, &west.key_pem, genuine).await;
    fed.publish_root(|root| {
        if let Some(node) = root.nodes.get_mut("west") {
            node.endpoints = vec![format!("https://{replayer}")];
        }
    })
    .await;
    let at_zhejiang = fed.channel_as("zhejiang", 0, "checkpoint", None).await;
    let v = verify(&at_zhejiang, &red.payload, Duration::from_secs(5)).await;
    assert_ne!(v.verdict(), Verdict::Pass, "a red code passed: {v:?}");
    assert_eq!(v.verdict(), Verdict::Review, "{v:?}");
    assert_eq!(v.source(), StatusSource::Degraded, "{v:?}");
    assert!(
        v.reasons
            .iter()
            .any(|r| r.message.contains("not the one sent")),
        "{v:?}"
    );
    // The very code the statement was signed for is not believed either: that was another call.
    let v = verify(&at_zhejiang, &green.payload, Duration::from_secs(5)).await;
    assert_eq!(v.verdict(), Verdict::Review, "{v:?}");
}

#[tokio::test]
async fn a_forwarded_manifest_read_holds_the_carrier_to_its_own_province() {
    let fed = federation().await;
    let carrier = fed.pki.spiffe("510000", "carrier", "chengdu-rail");
    let ask = |origin: &str| ResolveStatusRequest {
        issuing_region: "410000".into(),
        code_id: "ha-unknown".into(),
        verifying_region: "330000".into(),
        caller_spiffe_id: carrier.clone(),
        caller_method: "/huren.v1.ManifestsService/CheckManifest".into(),
        purpose: "charter-train G1 510104->330100".into(),
        request_id: "0f".repeat(16),
        origin_region: origin.into(),
        ..Default::default()
    };
    // A route from the carrier's own province is read.
    let answer = resolve_at_west(&fed, ask("510104")).await;
    assert!(answer.is_ok(), "{answer:?}");
    // A Sichuan carrier's route that starts in Guangdong is refused here too.
    let err = resolve_at_west(&fed, ask("440100"))
        .await
        .expect_err("refused");
    assert_eq!(err.code(), tonic::Code::PermissionDenied, "{err:?}");
    assert_eq!(
        huren_tests::reason(&err).as_deref(),
        Some("CARRIER_OUTSIDE_OWN_PROVINCE")
    );
    // No origin at all is no route.
    let err = resolve_at_west(&fed, ask("")).await.expect_err("refused");
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
}

#[tokio::test]
async fn after_a_region_ca_is_rotated_the_old_channel_to_a_node_is_not_used() {
    let mut fed = federation().await;
    let henan = fed
        .issue(
            RegionCode::HENAN,
            &resident_id("410105", 23),
            "孙八",
            Colour::Green,
        )
        .await;
    let at_zhejiang = fed.channel_as("zhejiang", 0, "checkpoint", None).await;
    let v = verify(&at_zhejiang, &henan.payload, Duration::from_secs(5)).await;
    assert_eq!(v.verdict(), Verdict::Pass, "{v:?}");
    assert_eq!(v.forwarded_by, "west");

    // Sichuan's CA (the one west's certificate chains to) is replaced: west still presents its
    // old certificate, on the same URL and SPIFFE id, over a connection zhejiang already holds.
    // Sichuan's issuers chained to the old CA go with it.
    let rotated = huren_certs::Ca::new_root("rotated Sichuan CA").expect("CA");
    let der = rustls::pki_types::CertificateDer::from_pem_slice(rotated.cert_pem.as_bytes())
        .expect("CA DER")
        .to_vec();
    let sichuan = fed
        .dev
        .registry
        .region(RegionCode::SICHUAN)
        .expect("Sichuan listed")
        .document
        .clone();
    let mut sichuan = sichuan;
    sichuan.issuers.clear();
    sichuan.version += 1;
    let sichuan_env = (sichuan.name(), huren_registry::ceremony::envelope(&sichuan));
    fed.publish_root_with(
        |root| {
            if let Some(d) = root.regions.get_mut("510000") {
                d.ca_certificate = der;
            }
        },
        vec![sichuan_env],
    )
    .await;
    let v = verify(&at_zhejiang, &henan.payload, Duration::from_secs(3)).await;
    assert_eq!(v.verdict(), Verdict::Review, "{v:?}");
    assert_eq!(v.source(), StatusSource::Degraded, "{v:?}");
}
