//! The admin listener an operator scrapes: Prometheus metrics by method and code, latency
//! histograms, handshake failures by reason, and liveness/readiness.

use huren_tests::{TestGateway, counter};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

const REQUESTS: &str = "huren_grpc_requests_total";

#[tokio::test]
async fn metrics_count_calls_by_method_and_code_and_time_them() {
    let gw = TestGateway::start().await;
    let ok = [("method", "/grpc.health.v1.Health/Check"), ("code", "OK")];
    let before = counter(&gw.metrics().await, REQUESTS, &ok);
    let mut health = HealthClient::new(gw.channel_as("checkpoint", None).await);
    health.check(HealthCheckRequest::default()).await.unwrap();
    health.check(HealthCheckRequest::default()).await.unwrap();
    let after = gw.wait_counter(REQUESTS, &ok, before + 1.0).await;
    assert!(after >= before + 2.0, "{before} -> {after}");

    let denied = [
        ("method", "/huren.v1.CoordinationService/ListRegions"),
        ("code", "PERMISSION_DENIED"),
    ];
    let before = counter(&gw.metrics().await, REQUESTS, &denied);
    let channel = gw.channel_as("carrier", None).await;
    let _ = huren_proto::v1::coordination_service_client::CoordinationServiceClient::new(channel)
        .list_regions(huren_proto::v1::ListRegionsRequest::default())
        .await;
    assert!(gw.wait_counter(REQUESTS, &denied, before).await > before);

    let text = gw.metrics().await;
    assert!(
        text.contains(
            "huren_grpc_request_duration_seconds_bucket{method=\"/grpc.health.v1.Health/Check\""
        ),
        "no latency histogram in:\n{text}"
    );
    assert!(text.contains("huren_tls_handshake_failures_total") || !text.is_empty());
}

#[tokio::test]
async fn healthz_and_readyz_answer_and_readyz_fails_while_draining() {
    let mut gw = TestGateway::start().await;
    assert_eq!(gw.admin_get("/healthz").await.0, 200);
    assert_eq!(gw.admin_get("/readyz").await.0, 200);
    let admin = gw.gateway().admin_addr().unwrap();
    // Hold a Watch open so the drain takes a moment, and look at /readyz meanwhile.
    let mut health = HealthClient::new(gw.channel_as("checkpoint", None).await);
    let mut watch = health
        .watch(HealthCheckRequest::default())
        .await
        .unwrap()
        .into_inner();
    let _ = watch.message().await;
    let stopping = gw.gateway().shutdown_handle();
    stopping.shutdown();
    let mut saw_not_ready = false;
    for _ in 0..40 {
        if huren_tests::http_get(admin, "/readyz").await.0 == 503 {
            saw_not_ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(saw_not_ready, "/readyz kept saying ready while draining");
    drop(watch);
    gw.shutdown().await;
}
