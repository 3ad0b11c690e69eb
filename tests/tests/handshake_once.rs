//! A handshake the gateway refused is tried once per call, not again and again (issue 13: one
//! call with an expired client certificate retried the handshake dozens of times). Alone in its
//! test binary, so the process-wide handshake counter sees only this client.

use huren_certs::LeafSpec;
use huren_tests::TestGateway;
use time::{Duration, OffsetDateTime};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

const FAILURES: &str = "huren_tls_handshake_failures_total";

#[tokio::test]
async fn a_refused_client_handshakes_once_per_call() {
    let gw = TestGateway::start().await;
    let now = OffsetDateTime::now_utc();
    let uri = gw.pki.spiffe("330110", "checkpoint", "gate-expired");
    let expired = LeafSpec {
        not_before: now - Duration::days(30),
        not_after: now - Duration::days(1),
        ..LeafSpec::client("gate-expired", &uri)
    };
    let tls = gw.pki.client_leaf("330000", &expired);
    let reason = [("reason", "certificate_expired")];
    let before = huren_tests::counter(&gw.metrics().await, FAILURES, &reason);
    let refused = match gw.try_channel(&tls).await {
        Err(_) => true,
        Ok(channel) => HealthClient::new(channel)
            .check(HealthCheckRequest::default())
            .await
            .is_err(),
    };
    assert!(refused, "an expired client certificate got an answer");
    let after = gw.wait_counter(FAILURES, &reason, before).await;
    // Give a retry loop time to show itself.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let settled = huren_tests::counter(&gw.metrics().await, FAILURES, &reason);
    assert!(after > before, "the refusal was not counted");
    assert!(
        settled - before <= 1.0,
        "one call handshook {} times",
        settled - before
    );
}
