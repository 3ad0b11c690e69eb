//! Limits a misbehaving or overloaded client meets: message size, calls in progress, and the
//! server's cap on how long a call may take. Each ends in a gRPC status, never a crash.

use std::time::Duration;

use huren_proto::v1::recognition_service_client::RecognitionServiceClient;
use huren_proto::v1::{VerifyCodeRequest, VerifyCodesRequest};
use huren_tests::probe::{self, with_probe};
use huren_tests::{Pki, TestGateway, counter, reason};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

#[tokio::test]
async fn an_oversize_request_is_resource_exhausted_and_the_node_keeps_serving() {
    let gw = TestGateway::start_with_config(
        Pki::new(),
        |c| c.limits.max_message_bytes = 64 * 1024,
        |b| b,
    )
    .await;
    let channel = gw.channel_as("checkpoint", None).await;
    let status = RecognitionServiceClient::new(channel.clone())
        .verify_code(VerifyCodeRequest {
            payload: "x".repeat(256 * 1024),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    // Same connection, next call: fine.
    HealthClient::new(channel)
        .check(HealthCheckRequest::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn past_the_concurrency_limit_calls_are_refused_at_once_but_health_answers() {
    let gw = TestGateway::start_with_config(Pki::new(), |c| c.limits.max_in_flight = 1, with_probe)
        .await;
    let channel = gw.channel_as("checkpoint", None).await;
    let busy = tokio::spawn(probe::call(channel.clone(), 1_500));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = probe::call(channel.clone(), 0).await.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(reason(&status).as_deref(), Some("OVERLOADED"));
    // Over real sockets too, the refusal tells the client how long to back off.
    let retry = tonic_types::StatusExt::get_error_details(&status)
        .retry_info()
        .and_then(|r| r.retry_delay);
    // The delay depends on how far over its limit the node is, within the bounds.
    let retry = retry.expect("a RetryInfo delay");
    assert!(
        (huren::limits::MIN_RETRY..=huren::limits::MAX_RETRY).contains(&retry),
        "{retry:?}"
    );
    HealthClient::new(channel.clone())
        .check(HealthCheckRequest::default())
        .await
        .unwrap();
    assert!(busy.await.unwrap().is_ok());
    // The slot is free again.
    probe::call(channel, 0).await.unwrap();
}

/// Admission is decided as a call arrives, before identity and policy have run for it; a refused
/// call must still meet them. A caller the policy refuses is told so even when the node is full,
/// never "overloaded" (which would tell a stranger to come back later), and every refusal for
/// load is counted in the metrics under its method.
#[tokio::test]
async fn a_full_node_still_tells_a_caller_it_may_not_call_and_counts_its_refusals() {
    let gw = TestGateway::start_with_config(Pki::new(), |c| c.limits.max_in_flight = 1, with_probe)
        .await;
    let checkpoint = gw.channel_as("checkpoint", None).await;
    let busy = tokio::spawn(probe::call(checkpoint.clone(), 1_500));
    tokio::time::sleep(Duration::from_millis(300)).await;

    let verify = || VerifyCodeRequest {
        payload: "ZJ1:example".into(),
        verifying_region: "330000".into(),
        purpose: "checkpoint-entry".into(),
    };
    let national = gw.channel_as("national", None).await;
    let status = RecognitionServiceClient::new(national)
        .verify_code(verify())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert_eq!(reason(&status).as_deref(), Some("ROLE_NOT_ALLOWED"));

    let refused = [
        // No other test of this file calls VerifyCodes, so nothing else moves this counter.
        ("method", "/huren.v1.RecognitionService/VerifyCodes"),
        ("code", "RESOURCE_EXHAUSTED"),
    ];
    let before = counter(&gw.metrics().await, "huren_grpc_requests_total", &refused);
    let status = RecognitionServiceClient::new(checkpoint.clone())
        .verify_codes(VerifyCodesRequest {
            payloads: vec!["ZJ1:example".into()],
            verifying_region: "330000".into(),
            purpose: "checkpoint-entry".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(reason(&status).as_deref(), Some("OVERLOADED"));
    retry_delay_of(&status);
    let after = gw
        .wait_counter("huren_grpc_requests_total", &refused, before)
        .await;
    assert_eq!(after, before + 1.0, "the refusal is counted once");
    assert!(busy.await.unwrap().is_ok());
}

/// The refusal's RetryInfo delay, which must be there and within the node's bounds.
fn retry_delay_of(status: &tonic::Status) -> Duration {
    let retry = tonic_types::StatusExt::get_error_details(status)
        .retry_info()
        .and_then(|r| r.retry_delay)
        .expect("a RetryInfo delay");
    assert!(
        (huren::limits::MIN_RETRY..=huren::limits::MAX_RETRY).contains(&retry),
        "{retry:?}"
    );
    retry
}

#[tokio::test]
async fn a_call_that_finds_the_node_full_waits_briefly_for_a_permit_then_is_refused() {
    const WAIT: Duration = Duration::from_secs(1);
    let gw = TestGateway::start_with_config(
        Pki::new(),
        |c| {
            c.limits.max_in_flight = 1;
            c.limits.admission_wait_ms = WAIT.as_millis() as u64;
        },
        with_probe,
    )
    .await;
    let channel = gw.channel_as("checkpoint", None).await;
    let with_deadline = |deadline| {
        let mut request = tonic::Request::new(0);
        request.set_timeout(deadline);
        request
    };

    // The one permit is freed within the wait: the call that found the node full is served.
    let busy = tokio::spawn(probe::call(channel.clone(), 600));
    tokio::time::sleep(Duration::from_millis(300)).await;
    probe::call(channel.clone(), 0)
        .await
        .expect("served once the busy call gave its permit back");
    assert!(busy.await.unwrap().is_ok());

    // The permit stays taken past the wait: refused with a RetryInfo once the wait is over, long
    // before the caller's own deadline of 30 s and before the busy call ends.
    let busy = tokio::spawn(probe::call(channel.clone(), 10_000));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let waiting = tokio::spawn(probe::call_request(
        channel.clone(),
        with_deadline(Duration::from_secs(30)),
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;
    // As many may wait as may be in progress (one here): a second waiter is refused at once,
    // while the first still waits.
    let crowded = probe::call_request(channel.clone(), with_deadline(Duration::from_secs(30)))
        .await
        .unwrap_err();
    assert!(
        !waiting.is_finished(),
        "the first waiter was answered first"
    );
    assert_eq!(crowded.code(), Code::ResourceExhausted, "{crowded:?}");
    assert_eq!(reason(&crowded).as_deref(), Some("OVERLOADED"));
    retry_delay_of(&crowded);

    let status = waiting.await.unwrap().unwrap_err();
    let took = started.elapsed();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert_eq!(reason(&status).as_deref(), Some("OVERLOADED"));
    retry_delay_of(&status);
    // It did wait (a timer never fires early), and was refused well before its deadline.
    assert!(
        took >= WAIT,
        "refused after {took:?}, before its wait of {WAIT:?}"
    );
    assert!(took < Duration::from_secs(8), "refused after {took:?}");
    assert!(!busy.is_finished());
    busy.abort();

    // A caller whose deadline leaves less than twice the wait waits half of what it has left
    // (about 500 ms here), and is refused with a RetryInfo before its deadline.
    let busy = tokio::spawn(probe::call(channel.clone(), 10_000));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let status = probe::call_request(channel.clone(), with_deadline(Duration::from_millis(1_000)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    retry_delay_of(&status);
    assert!(
        started.elapsed() < WAIT,
        "refused after {:?}",
        started.elapsed()
    );
    busy.abort();
}

#[tokio::test]
async fn the_server_caps_how_long_a_call_may_take() {
    let gw = TestGateway::start_with_config(
        Pki::new(),
        |c| c.limits.request_timeout_cap_ms = 200,
        with_probe,
    )
    .await;
    let channel = gw.channel_as("checkpoint", None).await;
    // No client deadline at all: the cap applies.
    let status = probe::call(channel.clone(), 3_000).await.unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(status.message().contains("caps"), "{}", status.message());
    // A client deadline longer than the cap: the cap still applies.
    let mut request = tonic::Request::new(3_000);
    request.set_timeout(Duration::from_secs(60));
    let status = probe::call_request(channel.clone(), request)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    // Calls within the cap are untouched.
    probe::call(channel, 10).await.unwrap();
}

#[tokio::test]
async fn the_clients_grpc_timeout_is_honoured() {
    let gw = TestGateway::start_with(Pki::new(), with_probe).await;
    let channel = gw.channel_as("checkpoint", None).await;
    let mut request = tonic::Request::new(5_000);
    request.set_timeout(Duration::from_millis(150));
    let started = std::time::Instant::now();
    let status = probe::call_request(channel, request).await.unwrap_err();
    assert!(
        matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{status:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn streams_per_connection_are_limited() {
    // With one stream per connection, two calls on one connection run one after the other.
    let gw = TestGateway::start_with_config(
        Pki::new(),
        |c| c.limits.max_concurrent_streams = 1,
        with_probe,
    )
    .await;
    let channel = gw.channel_as("checkpoint", None).await;
    // Let the client see the server's SETTINGS before it opens two streams at once.
    probe::call(channel.clone(), 0).await.unwrap();
    let started = std::time::Instant::now();
    let (a, b) = tokio::join!(
        probe::call(channel.clone(), 400),
        probe::call(channel.clone(), 400)
    );
    a.unwrap();
    b.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(780),
        "two 400 ms calls overlapped on one connection: {:?}",
        started.elapsed()
    );
}
