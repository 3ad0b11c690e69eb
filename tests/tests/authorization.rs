//! Step 2 of a verification: the role × method table and the request-content rule, as callers
//! with the dev certificates meet them.

use huren_proto::v1::coordination_service_client::CoordinationServiceClient;
use huren_proto::v1::manifests_service_client::ManifestsServiceClient;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::registry_service_client::RegistryServiceClient;
use huren_proto::v1::{
    CheckManifestRequest, GetCheckpointRequest, GetNationalSummaryRequest, ListRegionsRequest,
    Manifest, VerifyCodeRequest, VerifyCodesRequest, WatchManifestRequest,
};
use huren_tests::{TestGateway, reason};
use tonic::{Code, Status};
use tonic_types::StatusExt;

fn verify(region: &str) -> VerifyCodeRequest {
    VerifyCodeRequest {
        payload: "ZJ1:example".into(),
        verifying_region: region.into(),
        purpose: "checkpoint-entry".into(),
    }
}

fn assert_denied(status: Status, why: &str) {
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert_eq!(reason(&status).as_deref(), Some(why), "{status:?}");
    let info = status.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.domain, "huren.dev");
}

/// Allowed through authorisation: whatever the service then answers (these gateways have no
/// registry or adapters behind them), it is not a refusal of the caller.
fn assert_passed_authz(status: Status) {
    let refused = [
        Code::PermissionDenied,
        Code::Unauthenticated,
        Code::InvalidArgument,
    ];
    assert!(!refused.contains(&status.code()), "refused: {status:?}");
    assert_ne!(reason(&status).as_deref(), Some("ROLE_NOT_ALLOWED"));
}

#[tokio::test]
async fn a_carrier_may_not_call_coordination() {
    let gw = TestGateway::start().await;
    let mut client = CoordinationServiceClient::new(gw.channel_as("carrier", None).await);
    let status = client
        .get_national_summary(GetNationalSummaryRequest::default())
        .await
        .unwrap_err();
    assert_denied(status, "ROLE_NOT_ALLOWED");
}

#[tokio::test]
async fn a_national_certificate_may_not_verify_a_code() {
    let gw = TestGateway::start().await;
    let mut client = RecognitionServiceClient::new(gw.channel_as("national", None).await);
    let status = client.verify_code(verify("")).await.unwrap_err();
    assert_denied(status, "ROLE_NOT_ALLOWED");
    assert!(status_mentions_role(
        &client.verify_codes(VerifyCodesRequest::default()).await
    ));
}

fn status_mentions_role<T>(result: &Result<T, Status>) -> bool {
    matches!(result, Err(s) if s.code() == Code::PermissionDenied && s.message().contains("national"))
}

#[tokio::test]
async fn a_checkpoint_naming_another_provinces_rules_is_denied() {
    let gw = TestGateway::start().await;
    let mut client = RecognitionServiceClient::new(gw.channel_as("checkpoint", None).await);
    let status = client.verify_code(verify("510000")).await.unwrap_err();
    assert_denied(status, "CHECKPOINT_OUTSIDE_OWN_PROVINCE");
    let status = client
        .verify_codes(VerifyCodesRequest {
            payloads: vec!["a".into()],
            verifying_region: "440000".into(),
            purpose: "x".into(),
        })
        .await
        .unwrap_err();
    assert_denied(status, "CHECKPOINT_OUTSIDE_OWN_PROVINCE");
}

#[tokio::test]
async fn a_checkpoint_under_its_own_provinces_rules_gets_through() {
    let gw = TestGateway::start().await;
    let mut client = RecognitionServiceClient::new(gw.channel_as("checkpoint", None).await);
    assert_passed_authz(client.verify_code(verify("")).await.unwrap_err());
    assert_passed_authz(client.verify_code(verify("330000")).await.unwrap_err());
}

#[tokio::test]
async fn a_province_may_name_another_verifying_region() {
    let gw = TestGateway::start().await;
    let channel = gw.channel_as("province", Some("510000")).await;
    let mut client = RecognitionServiceClient::new(channel);
    assert_passed_authz(client.verify_code(verify("330000")).await.unwrap_err());
}

#[tokio::test]
async fn a_malformed_verifying_region_is_an_invalid_argument() {
    let gw = TestGateway::start().await;
    let channel = gw.channel_as("province", Some("510000")).await;
    let status = RecognitionServiceClient::new(channel)
        .verify_code(verify("33"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let bad = status
        .get_details_bad_request()
        .expect("BadRequest details");
    assert_eq!(bad.field_violations[0].field, "verifying_region");
}

#[tokio::test]
async fn a_carrier_asks_manifests_under_its_destination_and_nothing_else() {
    let gw = TestGateway::start().await;
    let channel = gw.channel_as("carrier", None).await;
    let manifest = Manifest {
        train_id: "D9527".into(),
        origin_region: "510000".into(),
        destination_region: "330000".into(),
        ..Default::default()
    };
    let status = ManifestsServiceClient::new(channel.clone())
        .check_manifest(CheckManifestRequest {
            manifest: Some(manifest),
        })
        .await
        .unwrap_err();
    assert_passed_authz(status);
    let status = ManifestsServiceClient::new(channel.clone())
        .check_manifest(CheckManifestRequest { manifest: None })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let status = RecognitionServiceClient::new(channel)
        .verify_code(verify(""))
        .await
        .unwrap_err();
    assert_denied(status, "ROLE_NOT_ALLOWED");
}

#[tokio::test]
async fn a_carrier_submits_only_routes_that_start_in_its_own_province() {
    // The dev carrier is Sichuan's (510000): a Chengdu departure is its own, a Hangzhou
    // departure is Zhejiang's carriers' to submit.
    let gw = TestGateway::start().await;
    let channel = gw.channel_as("carrier", None).await;
    let route = |origin: &str| CheckManifestRequest {
        manifest: Some(Manifest {
            train_id: "D9527".into(),
            origin_region: origin.into(),
            destination_region: "330000".into(),
            ..Default::default()
        }),
    };
    let mut carrier = ManifestsServiceClient::new(channel.clone());
    let home = carrier.check_manifest(route("510100")).await.unwrap_err();
    assert_passed_authz(home);
    for elsewhere in ["330100", "440000", "000000"] {
        let status = carrier.check_manifest(route(elsewhere)).await.unwrap_err();
        assert_denied(status, "CARRIER_OUTSIDE_OWN_PROVINCE");
    }
    let watched = carrier
        .watch_manifest(WatchManifestRequest {
            manifest: route("330100").manifest,
        })
        .await
        .map(drop)
        .unwrap_err();
    assert_denied(watched, "CARRIER_OUTSIDE_OWN_PROVINCE");
    let status = carrier.check_manifest(route("")).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let bad = status
        .get_details_bad_request()
        .expect("BadRequest details");
    assert_eq!(bad.field_violations[0].field, "manifest.origin_region");
}

#[tokio::test]
async fn national_sees_aggregates_and_the_registry() {
    let gw = TestGateway::start().await;
    let channel = gw.channel_as("national", None).await;
    let status = CoordinationServiceClient::new(channel.clone())
        .list_regions(ListRegionsRequest::default())
        .await
        .unwrap_err();
    assert_passed_authz(status);
    let status = RegistryServiceClient::new(channel)
        .get_checkpoint(GetCheckpointRequest::default())
        .await
        .unwrap_err();
    assert_passed_authz(status);
}
