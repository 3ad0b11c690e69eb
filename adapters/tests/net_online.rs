//! The status client against real reference services over TLS on 127.0.0.1: fresh and cached
//! answers, and every way a region can fail ending in a DEGRADED reading by the deadline.

mod net_support;

use std::time::Duration;

use huren_adapters::net::{BreakerConfig, ClientConfig, Health, StatusClient};
use huren_adapters::sim::{Faults, IssueInput};
use huren_adapters::{CodeError, Colour, LookupQuery, RegionCode, Source};
use net_support::*;

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test]
async fn a_fresh_answer_is_online_and_the_next_one_comes_from_the_cache() {
    let pki = pki();
    let zj = start(&pki, RegionCode::ZHEJIANG, Faults::default()).await;
    let issued = issue(&zj, Colour::Yellow).await;
    assert!(issued.payload.contains(&issued.code_id));
    let trust = trust(&pki, &zj, Duration::from_secs(30));
    let client = client();

    let first = lookup(&client, &trust, zj.region, &code(&issued.code_id), SECOND)
        .await
        .unwrap();
    assert_eq!(first.source, Source::Online);
    assert_eq!(first.native_label, "黄码");
    assert_eq!(first.subject.name, "张*", "only the masked name crosses");
    assert_eq!(
        first.subject.region_handle.as_deref(),
        Some(issued.handle.as_str())
    );

    let second = lookup(&client, &trust, zj.region, &code(&issued.code_id), SECOND)
        .await
        .unwrap();
    assert_eq!(second.source, Source::Cached);
    assert_eq!(second.native_label, "黄码");
    assert_eq!(
        zj.lookups_received(),
        1,
        "the cached answer did not ask the region"
    );
    assert_eq!(client.health(zj.region), Health::Healthy);
}

#[tokio::test]
async fn without_a_cache_every_read_asks_the_region() {
    let pki = pki();
    let zj = start(&pki, RegionCode::ZHEJIANG, Faults::default()).await;
    let issued = issue(&zj, Colour::Yellow).await;
    // A TTL that would serve the second read from the cache, had the node one.
    let trust = trust(&pki, &zj, Duration::from_secs(30));
    let client = StatusClient::new(ClientConfig {
        cache_capacity: 0,
        ..ClientConfig::default()
    });
    for read in 1..=3 {
        let answer = lookup(&client, &trust, zj.region, &code(&issued.code_id), SECOND)
            .await
            .unwrap();
        assert_eq!(answer.source, Source::Online, "read {read}");
        assert_eq!(zj.lookups_received(), read, "read {read} asked the region");
    }
    assert_eq!(client.cached(), 0);
    let counts = client.cache_counts();
    assert_eq!((counts.hits, counts.misses), (0, 3));
}

#[tokio::test]
async fn lookups_to_a_region_take_its_connections_in_turn_and_open_no_more() {
    let pki = pki();
    let zj = start(&pki, RegionCode::ZHEJIANG, Faults::default()).await;
    let issued = issue(&zj, Colour::Green).await;
    let trust = trust(&pki, &zj, Duration::ZERO);
    for connections in [1, 3] {
        let before = zj.connections_served();
        let client = StatusClient::new(ClientConfig {
            cache_capacity: 0,
            connections_per_region: connections,
            ..ClientConfig::default()
        });
        // Twice round the connections, and then some, one after another.
        for read in 0..connections * 2 + 1 {
            let answer = lookup(&client, &trust, zj.region, &code(&issued.code_id), SECOND)
                .await
                .unwrap();
            assert_eq!(answer.source, Source::Online, "read {read}");
        }
        assert_eq!(
            zj.connections_served() - before,
            connections as u64,
            "a client of {connections} connections a region"
        );
    }
    // Lookups at once open each connection once too.
    let before = zj.connections_served();
    let client = StatusClient::new(ClientConfig {
        cache_capacity: 0,
        ..ClientConfig::default()
    });
    let q = code(&issued.code_id);
    let read = || lookup(&client, &trust, zj.region, &q, SECOND);
    let (a, b, c, d) = tokio::join!(read(), read(), read(), read());
    for answer in [a, b, c, d] {
        assert_eq!(answer.unwrap().source, Source::Online);
    }
    assert_eq!(
        zj.connections_served() - before,
        huren_adapters::net::DEFAULT_CONNECTIONS_PER_REGION as u64
    );
}

#[tokio::test]
async fn henan_answers_for_its_residents_by_id_and_name_only() {
    let pki = pki();
    let ha = start(&pki, RegionCode::HENAN, Faults::default()).await;
    ha.issue(IssueInput::new(resident(), "李四", Colour::Green))
        .await
        .unwrap();
    let trust = trust(&pki, &ha, Duration::ZERO);
    let client = client();
    let by_id = LookupQuery::Resident {
        id: resident(),
        name: "李四".into(),
    };
    let reading = lookup(&client, &trust, ha.region, &by_id, SECOND)
        .await
        .unwrap();
    assert_eq!(reading.native_label, "低风险");
    assert_eq!(reading.source, Source::Online);

    let wrong_name = LookupQuery::Resident {
        id: resident(),
        name: "王五".into(),
    };
    let err = lookup(&client, &trust, ha.region, &wrong_name, SECOND).await;
    assert_eq!(err, Err(CodeError::UnknownCode));
    let unknown = lookup(&client, &trust, ha.region, &code(&"0".repeat(32)), SECOND).await;
    assert_eq!(unknown, Err(CodeError::UnknownCode));
    assert_eq!(
        client.health(ha.region),
        Health::Healthy,
        "a region that says 'no such code' is working"
    );
}

#[tokio::test]
async fn a_region_that_is_down_is_degraded() {
    let pki = pki();
    let zj = start(&pki, RegionCode::ZHEJIANG, Faults::default()).await;
    let trust = trust(&pki, &zj, Duration::ZERO);
    zj.shutdown().await;
    let reading = lookup(
        &client(),
        &trust,
        RegionCode::ZHEJIANG,
        &code(&"a".repeat(32)),
        SECOND,
    )
    .await
    .unwrap();
    assert_eq!(reading.source, Source::Degraded);
    assert_eq!(reading.native_label, "");
    assert!(reading.notes[0].contains("connect"), "{:?}", reading.notes);
}

#[tokio::test]
async fn a_slow_region_is_degraded_at_the_deadline_not_when_it_answers() {
    let pki = pki();
    let faults = Faults {
        latency: Duration::from_secs(30),
        ..Faults::default()
    };
    let zj = start(&pki, RegionCode::ZHEJIANG, faults).await;
    let issued = issue(&zj, Colour::Green).await;
    let trust = trust(&pki, &zj, Duration::ZERO);
    // The service would answer 绿码 after 30 s; the caller allows 300 ms. A degraded reading
    // means the client gave up at the deadline instead of waiting for the answer.
    let reading = lookup(
        &client(),
        &trust,
        zj.region,
        &code(&issued.code_id),
        Duration::from_millis(300),
    )
    .await
    .unwrap();
    assert_eq!(reading.source, Source::Degraded);
    assert!(reading.notes[0].contains("deadline"), "{:?}", reading.notes);
}

#[tokio::test]
async fn a_garbage_body_is_degraded() {
    let pki = pki();
    let zj = start(&pki, RegionCode::ZHEJIANG, Faults::default()).await;
    let issued = issue(&zj, Colour::Red).await;
    zj.set_faults(Faults {
        garbage_bodies: true,
        ..Faults::default()
    });
    let trust = trust(&pki, &zj, Duration::from_secs(30));
    let client = client();
    let reading = lookup(&client, &trust, zj.region, &code(&issued.code_id), SECOND)
        .await
        .unwrap();
    assert_eq!(reading.source, Source::Degraded);
    assert!(
        reading.notes[0].contains("unreadable"),
        "{:?}",
        reading.notes
    );
    assert_eq!(zj.lookups_received(), 1, "garbage is not retried");
    assert_eq!(client.cached(), 0, "garbage is never cached");
}

#[tokio::test]
async fn a_service_with_the_wrong_identity_is_never_asked() {
    let pki = pki();
    let faults = Faults {
        wrong_identity: true,
        ..Faults::default()
    };
    let zj = start(&pki, RegionCode::ZHEJIANG, faults).await;
    let issued = issue(&zj, Colour::Green).await;
    let trust = trust(&pki, &zj, Duration::ZERO);
    let reading = lookup(&client(), &trust, zj.region, &code(&issued.code_id), SECOND)
        .await
        .unwrap();
    assert_eq!(reading.source, Source::Degraded);
    let note = &reading.notes[0];
    assert!(
        note.contains("identity") && note.contains("impostor"),
        "{note}"
    );
    assert_eq!(zj.lookups_received(), 0, "no request went to the impostor");
}

#[tokio::test]
async fn a_service_chained_to_another_regions_ca_is_refused() {
    let pki = pki();
    let zj = start(&pki, RegionCode::ZHEJIANG, Faults::default()).await;
    let issued = issue(&zj, Colour::Green).await;
    // The registry pins Henan's CA for Zhejiang's service (as if Zhejiang's entry were forged).
    let mut entry = zj.status_service().unwrap();
    let henan =
        huren_adapters::sim::status_service(pki.path(), RegionCode::HENAN, &zj.url()).unwrap();
    entry.ca_der = henan.ca_der;
    let trust = huren_adapters::sim::DevServices::new(Duration::ZERO)
        .with_entry(RegionCode::ZHEJIANG, entry);
    let reading = lookup(&client(), &trust, zj.region, &code(&issued.code_id), SECOND)
        .await
        .unwrap();
    assert_eq!(reading.source, Source::Degraded);
    assert!(reading.notes[0].contains("identity"), "{:?}", reading.notes);
    assert_eq!(zj.lookups_received(), 0);
}

#[tokio::test]
async fn retries_are_bounded() {
    let pki = pki();
    let faults = Faults {
        error_rate: 1.0,
        ..Faults::default()
    };
    let zj = start(&pki, RegionCode::ZHEJIANG, faults).await;
    let trust = trust(&pki, &zj, Duration::ZERO);
    let client = StatusClient::new(ClientConfig {
        max_attempts: 3,
        ..ClientConfig::default()
    });
    let reading = lookup(
        &client,
        &trust,
        zj.region,
        &code(&"b".repeat(32)),
        SECOND * 5,
    )
    .await
    .unwrap();
    assert_eq!(reading.source, Source::Degraded);
    assert!(reading.notes[0].contains("503"), "{:?}", reading.notes);
    assert_eq!(
        zj.lookups_received(),
        3,
        "one call and two retries, no more"
    );
}

#[tokio::test]
async fn the_breaker_opens_after_repeated_failures_then_half_opens() {
    let pki = pki();
    let faults = Faults {
        error_rate: 1.0,
        ..Faults::default()
    };
    let zj = start(&pki, RegionCode::ZHEJIANG, faults).await;
    let issued = issue(&zj, Colour::Green).await;
    let trust = trust(&pki, &zj, Duration::ZERO);
    let open_for = Duration::from_millis(300);
    let client = StatusClient::new(ClientConfig {
        max_attempts: 1,
        breaker: BreakerConfig {
            failure_threshold: 3,
            open_for,
        },
        ..ClientConfig::default()
    });
    let q = code(&issued.code_id);
    for _ in 0..3 {
        let r = lookup(&client, &trust, zj.region, &q, SECOND)
            .await
            .unwrap();
        assert_eq!(r.source, Source::Degraded);
    }
    assert_eq!(client.health(zj.region), Health::Down);
    assert_eq!(client.health_report(), vec![(zj.region, Health::Down)]);
    let refused = lookup(&client, &trust, zj.region, &q, SECOND)
        .await
        .unwrap();
    assert_eq!(refused.source, Source::Degraded);
    assert!(
        refused.notes[0].contains("circuit open"),
        "{:?}",
        refused.notes
    );
    assert_eq!(
        zj.lookups_received(),
        3,
        "an open circuit does not ask the region"
    );

    // Cooled down, still failing: one probe goes out and the circuit opens again.
    tokio::time::sleep(open_for + Duration::from_millis(50)).await;
    let probe = lookup(&client, &trust, zj.region, &q, SECOND)
        .await
        .unwrap();
    assert_eq!(probe.source, Source::Degraded);
    assert_eq!(zj.lookups_received(), 4);
    assert_eq!(client.health(zj.region), Health::Down);

    // Cooled down and recovered: the probe succeeds and the circuit closes.
    zj.set_faults(Faults::default());
    tokio::time::sleep(open_for + Duration::from_millis(50)).await;
    let back = lookup(&client, &trust, zj.region, &q, SECOND)
        .await
        .unwrap();
    assert_eq!(back.source, Source::Online);
    assert_eq!(back.native_label, "绿码");
    assert_eq!(client.health(zj.region), Health::Healthy);
}

#[tokio::test]
async fn an_expired_deadline_degrades_without_a_call() {
    let pki = pki();
    let zj = start(&pki, RegionCode::ZHEJIANG, Faults::default()).await;
    let trust = trust(&pki, &zj, Duration::ZERO);
    let r = lookup(
        &client(),
        &trust,
        zj.region,
        &code(&"c".repeat(32)),
        Duration::ZERO,
    )
    .await
    .unwrap();
    assert_eq!(r.source, Source::Degraded);
    assert_eq!(zj.lookups_received(), 0);
}
