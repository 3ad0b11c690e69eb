//! The reference service's latency fault over real TLS: every answer comes at least the
//! configured latency after its request, and the service's own count of what it added says so.

mod net_support;

use std::time::{Duration, Instant};

use huren_adapters::sim::Faults;
use huren_adapters::{Colour, RegionCode, Source};
use net_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_lookup_waits_at_least_the_latency_the_fault_names() {
    let pki = pki();
    let zj = start(&pki, RegionCode::ZHEJIANG, Faults::default()).await;
    let issued = issue(&zj, Colour::Green).await;
    // A zero TTL: every lookup goes to the service, none is answered from the cache.
    let trust = trust(&pki, &zj, Duration::ZERO);
    let client = client();
    let query = code(&issued.code_id);
    for latency in [Duration::from_millis(20), Duration::from_millis(3)] {
        zj.set_faults(Faults {
            latency,
            ..Faults::default()
        });
        zj.take_lookup_times();
        let mut lookups = Vec::new();
        for _ in 0..64 {
            let (client, trust, query) = (client.clone(), trust.clone(), query.clone());
            lookups.push(tokio::spawn(async move {
                let asked = Instant::now();
                let read = lookup(&client, &trust, RegionCode::ZHEJIANG, &query, SECOND).await;
                (read, asked.elapsed())
            }));
        }
        for done in lookups {
            let (read, took) = done.await.unwrap();
            assert_eq!(read.unwrap().source, Source::Online);
            assert!(
                took >= latency,
                "answered in {took:?} with {latency:?} added"
            );
        }
        let service = zj.take_lookup_times().unwrap();
        assert_eq!(service.answers, 64);
        assert!(service.min >= latency, "{service:?} for {latency:?}");
        assert!(service.min <= service.mean && service.mean <= service.max);
    }
}

const SECOND: Duration = Duration::from_secs(1);
