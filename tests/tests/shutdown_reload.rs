//! Operations without dropped calls: graceful shutdown lets calls in flight finish (within a
//! bound), and certificates swapped at runtime take effect for the next connection only.

use std::time::{Duration, Instant};

use huren::tls::TlsFiles;
use huren_tests::probe::{self, with_probe};
use huren_tests::{Pki, TestGateway};
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, health_check_response};

#[tokio::test]
async fn the_caller_identity_and_peer_certs_reach_the_handler() {
    let gw = TestGateway::start_with(Pki::new(), with_probe).await;
    let answer = probe::call(gw.channel_as("checkpoint", None).await, 0)
        .await
        .unwrap();
    let id = gw.pki.spiffe("330110", "checkpoint", "yuhang-gate-1");
    // Leaf plus the region CA: the client sends its chain and peer_certs() still works.
    assert_eq!(answer, format!("{id} certs=2"));
}

#[tokio::test]
async fn a_call_in_flight_completes_during_graceful_shutdown() {
    let mut gw = TestGateway::start_with(Pki::new(), with_probe).await;
    let channel = gw.channel_as("checkpoint", None).await;
    let in_flight = tokio::spawn(probe::call(channel.clone(), 1_200));
    tokio::time::sleep(Duration::from_millis(300)).await;

    let started = Instant::now();
    gw.shutdown().await;
    let answer = in_flight.await.unwrap();
    assert!(answer.is_ok(), "the call in flight was cut: {answer:?}");
    // Shutdown waited for it, but not for the whole drain bound (5 s in tests).
    assert!(started.elapsed() >= Duration::from_millis(500));
    assert!(started.elapsed() < Duration::from_secs(4));
    // And nothing new is accepted afterwards.
    assert!(
        gw.try_channel(&gw.pki.client("checkpoint", None))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn shutdown_reports_not_serving_to_watchers_first() {
    let mut gw = TestGateway::start_with_config(
        Pki::new(),
        |c| c.shutdown.not_serving_grace_ms = 300,
        |b| b,
    )
    .await;
    let channel = gw.channel_as("province", Some("330000")).await;
    let mut watch = HealthClient::new(channel)
        .watch(HealthCheckRequest {
            service: "huren.v1.RecognitionService".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let first = watch.message().await.unwrap().unwrap();
    assert_eq!(
        first.status(),
        health_check_response::ServingStatus::Serving
    );
    let stopping = tokio::spawn(async move { gw.shutdown().await });
    let next = tokio::time::timeout(Duration::from_secs(2), watch.message())
        .await
        .expect("a status change within the grace period")
        .unwrap()
        .unwrap();
    assert_eq!(
        next.status(),
        health_check_response::ServingStatus::NotServing
    );
    // Closing the watch lets the drain finish at once.
    drop(watch);
    stopping.await.unwrap();
}

#[tokio::test]
async fn the_drain_is_bounded() {
    let mut gw = TestGateway::start_with_config(
        Pki::new(),
        |c| c.shutdown.drain_timeout_ms = 300,
        with_probe,
    )
    .await;
    let channel = gw.channel_as("checkpoint", None).await;
    let slow = tokio::spawn(probe::call(channel, 20_000));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    gw.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "shutdown took {:?} with a 300 ms bound",
        started.elapsed()
    );
    // Past the bound the call is cut, not left running on a connection nobody serves any more.
    let cut = tokio::time::timeout(Duration::from_secs(5), slow)
        .await
        .expect("the call ended with the drain, not after its 20 s")
        .expect("joined");
    assert!(cut.is_err(), "a cut call cannot have an answer: {cut:?}");
}

#[tokio::test]
async fn swapped_certificates_serve_the_next_connection_while_the_old_one_keeps_working() {
    let gw = TestGateway::start().await;
    let old_channel = gw.channel_as("checkpoint", None).await;
    let mut old = HealthClient::new(old_channel);
    old.check(HealthCheckRequest::default()).await.unwrap();

    // A whole new PKI: new root, new gateway certificate, new clients.
    let next = Pki::new();
    gw.gateway().tls().reload(&next.tls_files()).unwrap();

    // The connection made before the swap keeps working...
    let answer = old.check(HealthCheckRequest::default()).await.unwrap();
    assert_eq!(
        answer.into_inner().status(),
        health_check_response::ServingStatus::Serving
    );
    // ...a new connection with the old PKI is refused (the gateway now shows the new root's
    // certificate and trusts only the new root)...
    let stale = gw.try_channel(&gw.pki.client("checkpoint", None)).await;
    let stale_ok = match stale {
        Err(_) => false,
        Ok(ch) => HealthClient::new(ch)
            .check(HealthCheckRequest::default())
            .await
            .is_ok(),
    };
    assert!(
        !stale_ok,
        "a client of the old PKI was served after the swap"
    );
    // ...and a new connection with the new PKI is served.
    let fresh = gw
        .try_channel(&next.client("checkpoint", None))
        .await
        .unwrap();
    HealthClient::new(fresh)
        .check(HealthCheckRequest::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_bad_reload_keeps_the_current_certificates() {
    let gw = TestGateway::start().await;
    let broken = TlsFiles {
        cert: gw.pki.path().join("does-not-exist.pem"),
        ..gw.pki.tls_files()
    };
    assert!(gw.gateway().tls().reload(&broken).is_err());
    let channel = gw.channel_as("checkpoint", None).await;
    HealthClient::new(channel)
        .check(HealthCheckRequest::default())
        .await
        .unwrap();
}
