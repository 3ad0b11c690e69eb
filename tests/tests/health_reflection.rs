//! Health checking (overall and per service, Check and Watch) and server reflection (v1 and the
//! v1alpha grpcurl 1.8 speaks), as tools see them over mTLS.

use huren_tests::TestGateway;
use tokio_stream::StreamExt;
use tonic::Code;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

#[tokio::test]
async fn check_reports_the_server_and_every_service_serving() {
    let gw = TestGateway::start().await;
    let mut health = HealthClient::new(gw.channel_as("checkpoint", None).await);
    let mut services = vec![""];
    services.extend(huren_proto::SERVICE_NAMES);
    for service in services {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status();
        assert_eq!(status, ServingStatus::Serving, "{service:?}");
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "huren.v1.NoSuchService".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
}

#[tokio::test]
async fn watch_streams_the_current_status_and_changes() {
    let gw = TestGateway::start().await;
    let mut health = HealthClient::new(gw.channel_as("carrier", None).await);
    let mut stream = health
        .watch(HealthCheckRequest {
            service: "huren.v1.ManifestsService".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let first = stream.message().await.unwrap().unwrap();
    assert_eq!(first.status(), ServingStatus::Serving);
    gw.gateway()
        .health()
        .set_service_status(
            "huren.v1.ManifestsService",
            tonic_health::ServingStatus::NotServing,
        )
        .await;
    let next = stream.message().await.unwrap().unwrap();
    assert_eq!(next.status(), ServingStatus::NotServing);
}

async fn list_v1(gw: &TestGateway) -> Vec<String> {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let mut client = ServerReflectionClient::new(gw.channel_as("national", None).await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.next().await.unwrap().unwrap();
    match response.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => {
            list.service.into_iter().map(|s| s.name).collect()
        }
        other => panic!("unexpected reflection answer {other:?}"),
    }
}

async fn list_v1alpha(gw: &TestGateway) -> Vec<String> {
    use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
    let mut client = ServerReflectionClient::new(gw.channel_as("checkpoint", None).await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.next().await.unwrap().unwrap();
    match response.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => {
            list.service.into_iter().map(|s| s.name).collect()
        }
        other => panic!("unexpected reflection answer {other:?}"),
    }
}

#[tokio::test]
async fn reflection_v1_and_v1alpha_list_every_service() {
    let gw = TestGateway::start().await;
    for listed in [list_v1(&gw).await, list_v1alpha(&gw).await] {
        for service in huren_proto::SERVICE_NAMES
            .iter()
            .chain(&["grpc.health.v1.Health"])
        {
            assert!(
                listed.iter().any(|s| s == service),
                "{service} missing from {listed:?}"
            );
        }
    }
}
