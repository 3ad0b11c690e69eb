//! Federation between nodes on 127.0.0.1: an online read of a region another node serves is
//! forwarded there and gives the verdict a local read gives, the serving node audits the original
//! caller, identities are pinned both ways, and a node's replicas cover for each other.

use std::time::{Duration, Instant};

use huren_adapters::{Colour, RegionCode};
use huren_certs::LeafSpec;
use huren_proto::v1::{StatusSource, Verdict, Verification};
use huren_tests::federation::{Federation, verify};
use huren_tests::node::resident_id;
use huren_tests::reason;
use prost::Message;

async fn federation() -> Federation {
    Federation::zhejiang_and_west(2).await
}

/// The status with its times taken out, and those times in whole seconds: two replicas of the
/// serving node each stamp their own read time, so a read that lands on the other replica across
/// a second boundary is a second apart and still the same status.
fn untimed(v: &Verification) -> Option<(huren_proto::v1::CanonicalStatus, [Option<i64>; 2])> {
    let mut status = v.status.clone()?;
    let seconds = [
        status.refresh_time.take().map(|t| t.seconds),
        status.expire_time.take().map(|t| t.seconds),
    ];
    Some((status, seconds))
}

/// Whether two reads' times are within the two seconds replicas reading apart can give.
fn same_read(a: &Verification, b: &Verification) -> bool {
    match (untimed(a), untimed(b)) {
        (None, None) => true,
        (Some((sa, ta)), Some((sb, tb))) => {
            sa == sb
                && ta.iter().zip(tb.iter()).all(|pair| match pair {
                    (Some(x), Some(y)) => (x - y).abs() <= 2,
                    (None, None) => true,
                    _ => false,
                })
        }
        _ => false,
    }
}

#[tokio::test]
async fn a_forwarded_read_gives_the_local_verdict_and_the_serving_node_audits_the_caller() {
    let fed = federation().await;
    let henan_green = resident_id("410105", 1);
    let henan_red = resident_id("410105", 2);
    let sichuan = resident_id("510104", 3);
    let codes = [
        (
            fed.issue(RegionCode::HENAN, &henan_green, "王五", Colour::Green)
                .await,
            "410000",
        ),
        (
            fed.issue(RegionCode::HENAN, &henan_red, "赵六", Colour::Red)
                .await,
            "410000",
        ),
        (
            fed.issue(RegionCode::SICHUAN, &sichuan, "张三丰", Colour::Green)
                .await,
            "510000",
        ),
    ];
    let at_zhejiang = fed.channel_as("zhejiang", 0, "checkpoint", None).await;
    let at_west = fed.channel_as("west", 0, "checkpoint", None).await;
    for (code, region) in &codes {
        let local = verify(&at_west, &code.payload, Duration::from_secs(5)).await;
        let forwarded = verify(&at_zhejiang, &code.payload, Duration::from_secs(5)).await;
        assert_eq!(
            forwarded.verdict, local.verdict,
            "{region}: {forwarded:?} vs {local:?}"
        );
        // The statement carries times to the second, as every signed huren document does.
        assert!(
            same_read(&forwarded, &local),
            "{region}: {:?} vs {:?}",
            forwarded.status,
            local.status
        );
        assert_eq!(
            forwarded.source(),
            StatusSource::Forwarded,
            "{region}: {forwarded:?}"
        );
        assert_eq!(forwarded.forwarded_by, "west");
        assert!(local.forwarded_by.is_empty(), "west read {region} itself");
        let bytes = forwarded.encode_to_vec();
        for id in [&henan_green, &henan_red, &sichuan] {
            assert!(!bytes.windows(id.len()).any(|w| w == id.as_bytes()));
        }
    }
    assert_eq!(
        verify(&at_zhejiang, &codes[0].0.payload, Duration::from_secs(5))
            .await
            .verdict(),
        Verdict::Pass
    );

    // The serving node's audit names the original caller and the node that forwarded.
    let checkpoint = fed
        .pki
        .manifest
        .client("checkpoint", None)
        .expect("dev checkpoint");
    let west: Vec<_> = (0..2).flat_map(|i| fed.audit_records("west", i)).collect();
    let forwarded: Vec<_> = west
        .iter()
        .filter(|r| r.entry.method == "/huren.v1.FederationService/ResolveStatus")
        .collect();
    assert!(!forwarded.is_empty(), "west audited no forwarded read");
    for r in &forwarded {
        assert_eq!(r.entry.caller, checkpoint.spiffe_id);
        assert!(
            r.entry.purpose.starts_with(&format!(
                "forwarded by node zhejiang for caller {}",
                checkpoint.spiffe_id
            )),
            "{}",
            r.entry.purpose
        );
    }
    // The entry node audits the statement it relied on.
    let zhejiang = fed.audit_records("zhejiang", 0);
    assert!(
        zhejiang.iter().any(|r| r
            .entry
            .purpose
            .contains("[read by node west, statement sha256:")),
        "{zhejiang:?}"
    );
}

#[tokio::test]
async fn with_one_replica_of_a_node_down_every_call_with_time_to_retry_succeeds() {
    let mut fed = federation().await;
    let id = resident_id("410105", 7);
    let code = fed
        .issue(RegionCode::HENAN, &id, "钱七", Colour::Green)
        .await;
    let at_zhejiang = fed.channel_as("zhejiang", 0, "checkpoint", None).await;
    assert_eq!(
        verify(&at_zhejiang, &code.payload, Duration::from_secs(5))
            .await
            .verdict(),
        Verdict::Pass
    );
    fed.kill("west", 1).await;
    for _ in 0..20 {
        let v = verify(&at_zhejiang, &code.payload, Duration::from_secs(5)).await;
        assert_eq!(v.verdict(), Verdict::Pass, "{v:?}");
        assert_eq!(v.source(), StatusSource::Forwarded);
    }
}

#[tokio::test]
async fn a_dead_node_degrades_only_its_regions_within_the_deadline() {
    let mut fed = federation().await;
    let henan = fed
        .issue(
            RegionCode::HENAN,
            &resident_id("410105", 9),
            "孙八",
            Colour::Green,
        )
        .await;
    let zhejiang = fed
        .issue(
            RegionCode::ZHEJIANG,
            &resident_id("330106", 9),
            "周九",
            Colour::Green,
        )
        .await;
    let at_zhejiang = fed.channel_as("zhejiang", 0, "checkpoint", None).await;
    fed.kill("west", 0).await;
    fed.kill("west", 1).await;
    let started = Instant::now();
    let v = verify(&at_zhejiang, &henan.payload, Duration::from_secs(2)).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(v.verdict(), Verdict::Review, "{v:?}");
    assert_eq!(v.source(), StatusSource::Degraded);
    assert!(
        v.reasons
            .iter()
            .any(|r| r.code == "DEGRADED" && r.message.contains("west")),
        "{v:?}"
    );
    let v = verify(&at_zhejiang, &zhejiang.payload, Duration::from_secs(2)).await;
    assert_eq!(
        v.verdict(),
        Verdict::Pass,
        "Zhejiang's own region is unaffected: {v:?}"
    );
}

/// A ResolveStatus for a Henan code id, as `caller` asking under `verifying`.
fn resolve_for(caller: &str, verifying: &str) -> huren_proto::v1::ResolveStatusRequest {
    huren_proto::v1::ResolveStatusRequest {
        issuing_region: "410000".into(),
        code_id: "ha-unknown".into(),
        verifying_region: verifying.into(),
        caller_spiffe_id: caller.into(),
        caller_method: "/huren.v1.RecognitionService/VerifyCode".into(),
        purpose: "checkpoint-entry".into(),
        request_id: "5eed".repeat(8),
        ..Default::default()
    }
}

async fn resolve_as(
    fed: &Federation,
    tls: &huren::connect::ClientTls,
    req: huren_proto::v1::ResolveStatusRequest,
) -> Result<huren_proto::v1::ResolveStatusResponse, tonic::Status> {
    fed.resolve_at("west", tls, req).await
}

#[tokio::test]
async fn only_listed_nodes_forward_and_the_original_caller_is_judged_at_the_serving_node() {
    let fed = federation().await;
    let checkpoint = fed
        .pki
        .manifest
        .client("checkpoint", None)
        .expect("dev checkpoint");
    let zj = &fed.files["zhejiang"];
    let as_zhejiang = fed.as_node("zhejiang");

    // The listed node, for a checkpoint under its own province's rules: answered.
    let answer = resolve_as(
        &fed,
        &as_zhejiang,
        resolve_for(&checkpoint.spiffe_id, "330000"),
    )
    .await;
    assert!(answer.is_ok(), "{answer:?}");

    // The same checkpoint cannot get Henan's rules by being forwarded.
    let err = resolve_as(
        &fed,
        &as_zhejiang,
        resolve_for(&checkpoint.spiffe_id, "410000"),
    )
    .await
    .expect_err("refused");
    assert_eq!(err.code(), tonic::Code::PermissionDenied, "{err:?}");

    // A gateway certificate the registry does not list.
    let rogue_id = fed.pki.spiffe("330000", "gateway", "rogue");
    let rogue = fed
        .pki
        .client_leaf("330000", &LeafSpec::client("rogue node", &rogue_id));
    let err = resolve_as(&fed, &rogue, resolve_for(&checkpoint.spiffe_id, "330000"))
        .await
        .expect_err("refused");
    assert_eq!(err.code(), tonic::Code::Unauthenticated, "{err:?}");
    assert_eq!(
        reason(&err).as_deref(),
        Some("GATEWAY_NOT_A_REGISTERED_NODE")
    );

    // A listed node's id on a certificate another province's CA issued.
    let forged = fed.pki.client_leaf(
        "510000",
        &LeafSpec::client("forged zhejiang", &zj.spiffe_id),
    );
    let err = resolve_as(&fed, &forged, resolve_for(&checkpoint.spiffe_id, "330000"))
        .await
        .expect_err("refused");
    assert_eq!(err.code(), tonic::Code::Unauthenticated, "{err:?}");
}

#[tokio::test]
async fn a_node_answering_with_another_nodes_certificate_is_not_believed() {
    let mut fed = federation().await;
    let henan = fed
        .issue(
            RegionCode::HENAN,
            &resident_id("410105", 11),
            "吴十",
            Colour::Green,
        )
        .await;
    // The registry sends west's reads to an address where zhejiang answers, with its own
    // (valid, listed) certificate.
    let impostor = format!("https://{}", fed.replicas["zhejiang"][0].addr);
    fed.publish_root(|root| {
        if let Some(west) = root.nodes.get_mut("west") {
            west.endpoints = vec![impostor];
        }
    })
    .await;
    let at_zhejiang = fed.channel_as("zhejiang", 0, "checkpoint", None).await;
    let v = verify(&at_zhejiang, &henan.payload, Duration::from_secs(2)).await;
    assert_eq!(v.verdict(), Verdict::Review, "{v:?}");
    assert_eq!(v.source(), StatusSource::Degraded, "{v:?}");
}

#[tokio::test]
async fn a_code_the_region_does_not_know_is_judged_as_a_local_read_judges_it() {
    let fed = federation().await;
    let real = fed
        .issue(
            RegionCode::HENAN,
            &resident_id("410105", 12),
            "郑十一",
            Colour::Green,
        )
        .await;
    // Same form, an id the region never issued.
    let unknown = real.payload.replace(&real.code_id, "ffffffffffffffff");
    assert_ne!(unknown, real.payload);
    let at_zhejiang = fed.channel_as("zhejiang", 0, "checkpoint", None).await;
    let at_west = fed.channel_as("west", 0, "checkpoint", None).await;
    let local = verify(&at_west, &unknown, Duration::from_secs(5)).await;
    let forwarded = verify(&at_zhejiang, &unknown, Duration::from_secs(5)).await;
    assert_eq!(
        forwarded.verdict, local.verdict,
        "{forwarded:?} vs {local:?}"
    );
    assert_eq!(
        forwarded
            .reasons
            .iter()
            .map(|r| &r.code)
            .collect::<Vec<_>>(),
        local.reasons.iter().map(|r| &r.code).collect::<Vec<_>>()
    );
}
