//! The serving node's refusals of forwarded LookupPerson, CheckManifest and WatchManifest reads,
//! over real sockets: the original caller is judged by the serving node's own table and rules,
//! only a listed node may forward, and the caller it names must be of its own trust domain. Each
//! refusal is asserted with its code and `ErrorInfo` reason; each has an answered control beside
//! it, so a refusal is the rule's and not a broken request's.

use huren_certs::LeafSpec;
use huren_proto::v1::ResolveStatusRequest;
use huren_tests::federation::Federation;
use huren_tests::reason;
use tonic::Code;

const LOOKUP: &str = "/huren.v1.LookupService/LookupPerson";
const CHECK_MANIFEST: &str = "/huren.v1.ManifestsService/CheckManifest";
const WATCH_MANIFEST: &str = "/huren.v1.ManifestsService/WatchManifest";

/// A forwarded read of an unknown Henan code (west serves Henan) for `caller` calling `method`
/// under `verifying`'s rules, a manifest's route starting at `origin`.
fn ask(caller: &str, method: &str, verifying: &str, origin: &str) -> ResolveStatusRequest {
    ResolveStatusRequest {
        issuing_region: "410000".into(),
        code_id: "ha-unknown".into(),
        verifying_region: verifying.into(),
        caller_spiffe_id: caller.into(),
        caller_method: method.into(),
        purpose: "refusal test".into(),
        request_id: "5eed".repeat(8),
        origin_region: origin.into(),
        ..Default::default()
    }
}

fn refused(answer: Result<huren_proto::v1::ResolveStatusResponse, tonic::Status>) -> tonic::Status {
    answer.expect_err("refused")
}

fn assert_refusal(err: &tonic::Status, code: Code, why: &str) {
    assert_eq!(err.code(), code, "{err:?}");
    assert_eq!(reason(err).as_deref(), Some(why), "{err:?}");
}

#[tokio::test]
async fn forwarded_lookups_and_manifests_are_refused_for_a_role_the_table_does_not_allow() {
    let fed = Federation::zhejiang_and_west(1).await;
    let zhejiang = fed.as_node("zhejiang");
    let checkpoint = fed.pki.spiffe("330110", "checkpoint", "yuhang-gate");
    let carrier = fed.pki.spiffe("330000", "carrier", "zj-rail");
    let province = fed.pki.spiffe("330000", "province", "zj-health");

    // Controls: the roles the table names are answered.
    for (caller, method, origin) in [
        (&checkpoint, LOOKUP, ""),
        (&province, LOOKUP, ""),
        (&carrier, CHECK_MANIFEST, "330100"),
        (&carrier, WATCH_MANIFEST, "330100"),
    ] {
        let answer = fed
            .resolve_at("west", &zhejiang, ask(caller, method, "330000", origin))
            .await;
        assert!(answer.is_ok(), "{caller} {method}: {answer:?}");
    }

    // A carrier may not look a person up; a checkpoint or a province may not check a manifest.
    for (caller, method, origin) in [
        (&carrier, LOOKUP, ""),
        (&checkpoint, CHECK_MANIFEST, "330100"),
        (&province, WATCH_MANIFEST, "330100"),
    ] {
        let err = refused(
            fed.resolve_at("west", &zhejiang, ask(caller, method, "330000", origin))
                .await,
        );
        assert_refusal(&err, Code::PermissionDenied, "ROLE_NOT_ALLOWED");
        assert!(err.message().contains(method), "{caller} {method}: {err:?}");
    }
}

#[tokio::test]
async fn a_forwarded_lookup_cannot_get_a_checkpoint_another_provinces_rules() {
    let fed = Federation::zhejiang_and_west(1).await;
    let zhejiang = fed.as_node("zhejiang");
    let checkpoint = fed.pki.spiffe("330110", "checkpoint", "yuhang-gate");

    let answer = fed
        .resolve_at("west", &zhejiang, ask(&checkpoint, LOOKUP, "330000", ""))
        .await;
    assert!(answer.is_ok(), "{answer:?}");
    // Henan's rules, asked through forwarding to the node that serves Henan.
    let err = refused(
        fed.resolve_at("west", &zhejiang, ask(&checkpoint, LOOKUP, "410000", ""))
            .await,
    );
    assert_refusal(
        &err,
        Code::PermissionDenied,
        "CHECKPOINT_OUTSIDE_OWN_PROVINCE",
    );
    // A verifying region other than the one the caller's rules give is not quietly replaced.
    let province = fed.pki.spiffe("330000", "province", "zj-health");
    let mut other = ask(&province, LOOKUP, "", "");
    other.verifying_region = "330100".into();
    let err = refused(fed.resolve_at("west", &zhejiang, other).await);
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
}

#[tokio::test]
async fn a_gateway_the_registry_does_not_list_cannot_forward_a_lookup_or_a_manifest() {
    let fed = Federation::zhejiang_and_west(1).await;
    let checkpoint = fed.pki.spiffe("330110", "checkpoint", "yuhang-gate");
    let carrier = fed.pki.spiffe("330000", "carrier", "zj-rail");
    let rogue_id = fed.pki.spiffe("330000", "gateway", "rogue");
    let rogue = fed
        .pki
        .client_leaf("330000", &LeafSpec::client("rogue node", &rogue_id));
    for req in [
        ask(&checkpoint, LOOKUP, "330000", ""),
        ask(&carrier, CHECK_MANIFEST, "330000", "330100"),
        ask(&carrier, WATCH_MANIFEST, "330000", "330100"),
    ] {
        let err = refused(fed.resolve_at("west", &rogue, req).await);
        assert_refusal(&err, Code::Unauthenticated, "GATEWAY_NOT_A_REGISTERED_NODE");
    }
}

#[tokio::test]
async fn a_forwarded_caller_outside_the_entry_nodes_trust_domain_is_refused() {
    let fed = Federation::zhejiang_and_west(1).await;
    let zhejiang = fed.as_node("zhejiang");
    let stranger = |role: &str| format!("spiffe://elsewhere.example/region/330110/role/{role}/x");
    for (caller, method, origin) in [
        (stranger("checkpoint"), LOOKUP, ""),
        (stranger("carrier"), CHECK_MANIFEST, "330100"),
        (stranger("carrier"), WATCH_MANIFEST, "330100"),
    ] {
        let err = refused(
            fed.resolve_at("west", &zhejiang, ask(&caller, method, "330000", origin))
                .await,
        );
        assert_refusal(&err, Code::Unauthenticated, "WRONG_TRUST_DOMAIN");
    }
    // Nor may a node name another node as the caller it forwards for.
    let west = fed.files["west"].spiffe_id.clone();
    let err = refused(
        fed.resolve_at("west", &zhejiang, ask(&west, LOOKUP, "330000", ""))
            .await,
    );
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
}
