//! Who may call as a `gateway` (issue 9, item 1): only a node the current registry lists, with a
//! certificate from the CA the registry names for it, and even then only the registry methods.
//! A province CA cannot mint a superuser, and a regional status service may not call at all.

use std::sync::Arc;

use http::uri::PathAndQuery;
use huren::registry_handle::SharedRegistry;
use huren::services::Services;
use huren::services::registry::RegistryState;
use huren_certs::LeafSpec;
use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::registry_service_client::RegistryServiceClient;
use huren_proto::v1::{GetCheckpointRequest, GetRegistryRequest, VerifyCodeRequest};
use huren_registry::dev::{DevOptions, DevRegistry};
use huren_tests::{Pki, TestGateway, reason};
use time::OffsetDateTime;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

/// A gateway whose services hold the dev registry (its one node: the PKI's gateway certificate).
/// `bound`: whether the config also binds every province to its CA at the handshake; the
/// registry's rule must hold without that help.
async fn serve(bound: bool) -> (TestGateway, SharedRegistry, DevRegistry) {
    let pki = Pki::new();
    let dev = DevRegistry::build(
        pki.path(),
        &DevOptions::default(),
        OffsetDateTime::now_utc(),
    )
    .expect("dev registry");
    let shared = SharedRegistry::new(dev.registry.clone());
    let services = Services {
        registry: Arc::new(RegistryState::new(shared.clone())),
        ..Services::default()
    };
    let gw = TestGateway::start_with_config(
        pki,
        |config| {
            if !bound {
                config.tls.region_cas.clear();
            }
        },
        |b| b.services(services),
    )
    .await;
    (gw, shared, dev)
}

/// Calls `path` with an empty message, whatever its real types: enough to meet the pipeline's
/// refusals, which come before any handler decodes the request.
async fn call_raw(channel: &Channel, path: &'static str) -> Result<(), Status> {
    let mut grpc = tonic::client::Grpc::new(channel.clone());
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    grpc.unary(Request::new(()), PathAndQuery::from_static(path), codec)
        .await
        .map(|_| ())
}

/// Every method the gateway serves refuses this caller as a stranger, saying why.
async fn assert_refused_everywhere(channel: &Channel, who: &str, want: &str) {
    for (path, _) in huren::policy::TABLE {
        let status = call_raw(channel, path)
            .await
            .expect_err(&format!("{who} was served {path}"));
        assert!(
            matches!(
                status.code(),
                Code::Unauthenticated | Code::PermissionDenied
            ),
            "{who} on {path}: {status:?}"
        );
        assert_eq!(reason(&status).as_deref(), Some(want), "{who} on {path}");
    }
}

fn client(uri: &str) -> LeafSpec {
    LeafSpec::client("huren test gateway", uri)
}

/// The PKI's own gateway certificate, presented as a client: the node the registry lists.
fn listed_node(pki: &Pki) -> huren::connect::ClientTls {
    let read = |p: &std::path::Path| std::fs::read_to_string(pki.path().join(p)).expect("PKI file");
    let gateway = &pki.manifest.gateway;
    pki.anonymous()
        .with_identity(read(&gateway.cert), read(&gateway.key))
}

#[tokio::test]
async fn rogue_gateway_certificates_are_refused_on_every_method() {
    for bound in [false, true] {
        let (gw, _registry, _dev) = serve(bound).await;
        let pki = &gw.pki;
        let listed = pki.manifest.gateway.spiffe_id.clone();
        assert_eq!(listed, pki.spiffe("000000", "gateway", "gateway-1"));
        let rogues = [
            (
                "an id the registry does not list, from Henan's CA",
                pki.client_leaf("410000", &client(&pki.spiffe("410000", "gateway", "rogue"))),
                "GATEWAY_NOT_A_REGISTERED_NODE",
            ),
            (
                "the listed node's id from Henan's CA",
                pki.client_leaf("410000", &client(&listed)),
                // With the provinces bound to their CAs the handshake already refuses it.
                if bound {
                    "REGION_CA_MISMATCH"
                } else {
                    "GATEWAY_CA_MISMATCH"
                },
            ),
            (
                "the listed node's name in another region, from that region's CA",
                pki.client_leaf(
                    "330000",
                    &client(&pki.spiffe("330110", "gateway", "gateway-1")),
                ),
                "GATEWAY_NOT_A_REGISTERED_NODE",
            ),
        ];
        for (who, tls, want) in rogues {
            let channel = gw
                .try_channel(&tls)
                .await
                .expect("the chain itself is good");
            assert_refused_everywhere(&channel, who, want).await;
        }
    }
}

#[tokio::test]
async fn the_listed_node_reads_the_registry_and_judges_nothing() {
    let (gw, _registry, _dev) = serve(true).await;
    let channel = gw
        .try_channel(&listed_node(&gw.pki))
        .await
        .expect("connects");
    let mut registry = RegistryServiceClient::new(channel.clone());
    let full = registry
        .get_registry(GetRegistryRequest::default())
        .await
        .expect("a node syncs the registry")
        .into_inner();
    assert!(full.version >= 1 && !full.signed_state.is_empty());
    registry
        .get_checkpoint(GetCheckpointRequest::default())
        .await
        .expect("a node reads checkpoints");

    // Nothing else: a node is not a superuser; federation will carry the original caller.
    for (path, roles) in huren::policy::TABLE {
        if roles.contains(&huren::Role::Gateway) {
            continue;
        }
        let status = call_raw(&channel, path)
            .await
            .expect_err(&format!("the node was served {path}"));
        assert_eq!(status.code(), Code::PermissionDenied, "{path}: {status:?}");
        assert_eq!(
            reason(&status).as_deref(),
            Some("ROLE_NOT_ALLOWED"),
            "{path}"
        );
    }
    let status = RecognitionServiceClient::new(channel)
        .verify_code(VerifyCodeRequest {
            payload: "ZJ1:example".into(),
            verifying_region: "330000".into(),
            purpose: "checkpoint-entry".into(),
        })
        .await
        .expect_err("a node may not judge codes under any region's rules");
    assert_eq!(status.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn a_node_removed_from_the_registry_loses_the_gateway_role() {
    let (gw, shared, mut dev) = serve(true).await;
    let channel = gw
        .try_channel(&listed_node(&gw.pki))
        .await
        .expect("connects");
    let mut registry = RegistryServiceClient::new(channel.clone());
    registry
        .get_registry(GetRegistryRequest::default())
        .await
        .expect("listed: served");

    // A new root without the node, installed while the connection stays open.
    let mut root = dev.registry.root().clone();
    root.version += 1;
    root.nodes.clear();
    let env = huren_registry::ceremony::envelope(&root);
    let next = dev
        .publish(
            vec![(huren_registry::doc::ROOT.to_string(), env)],
            OffsetDateTime::now_utc(),
        )
        .expect("published")
        .clone();
    shared.replace(next);

    let status = registry
        .get_registry(GetRegistryRequest::default())
        .await
        .expect_err("no longer a node");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert_eq!(
        reason(&status).as_deref(),
        Some("GATEWAY_NOT_A_REGISTERED_NODE")
    );
}

#[tokio::test]
async fn a_regional_status_service_may_not_call_the_gateway() {
    let (gw, _registry, _dev) = serve(true).await;
    // The status service's own id, from its own province's CA, usable as a client.
    let service_id = gw.pki.spiffe("330000", "service", "status");
    let tls = gw.pki.client_leaf("330000", &client(&service_id));
    let channel = gw
        .try_channel(&tls)
        .await
        .expect("the chain itself is good");
    assert_refused_everywhere(
        &channel,
        "Zhejiang's status service",
        "SERVICE_MAY_NOT_CALL",
    )
    .await;
}
