//! Every region end to end over real TLS: the reference service issues a code, the region's
//! adapter reads it with the pinned status client, and the region's own status word comes out.

mod net_support;

use std::time::{Duration, Instant};

use huren_adapters::net::{ClientConfig, StatusClient};
use huren_adapters::sim::Faults;
use huren_adapters::testing::{KeyRing, flat};
use huren_adapters::{
    Colour, IssuerSigner, ReadContext, RegionCode, Source, default_adapters, vocabulary,
};
use net_support::*;
use time::OffsetDateTime;

const REGIONS: [RegionCode; 7] = [
    RegionCode::ZHEJIANG,
    RegionCode::GUANGDONG,
    RegionCode::SICHUAN,
    RegionCode::HUNAN,
    RegionCode::HENAN,
    RegionCode::HUBEI,
    RegionCode::NATIONAL,
];

/// The registry as the gateway would hold it: the region's issuer key and pinned service.
fn registry(
    pki: &tempfile::TempDir,
    region: RegionCode,
    service: huren_adapters::StatusService,
) -> KeyRing {
    let signer =
        IssuerSigner::from_pki(pki.path(), region.as_str()).expect("issuer key in the PKI");
    let mut ring = KeyRing::new().with_signer(region, &signer);
    ring.set_status_service(region, service);
    ring.set_cache_ttl(region, Duration::ZERO);
    ring
}

#[tokio::test]
async fn every_region_issues_and_reads_back_its_own_status_word() {
    let pki = pki();
    let adapters = default_adapters().unwrap();
    let client = StatusClient::new(ClientConfig::default());
    for region in REGIONS {
        let service = start(&pki, region, Faults::default()).await;
        let ring = registry(&pki, region, service.status_service().unwrap());
        let vocab = vocabulary::vocabulary(region.as_str()).unwrap();
        // Guangdong has no yellow; every region has red.
        let issued = issue(&service, Colour::Red).await;
        let adapter = adapters.claim(&issued.payload).unwrap();
        assert_eq!(
            adapter.region(),
            region,
            "{region}'s payload is claimed by its own adapter"
        );
        let mut ctx = ReadContext::new(
            &ring,
            &client,
            OffsetDateTime::now_utc(),
            Instant::now() + Duration::from_secs(2),
        );
        ctx.require_online = region == RegionCode::SICHUAN;
        let reading = adapter.read(&issued.payload, &ctx).await.map(flat).unwrap();
        assert_eq!(
            reading.native_label,
            vocab.label_for(Colour::Red).unwrap(),
            "{region}"
        );
        let online = matches!(
            region,
            RegionCode::ZHEJIANG | RegionCode::HENAN | RegionCode::SICHUAN
        );
        let expected = if online {
            Source::Online
        } else {
            Source::OfflineSigned
        };
        assert_eq!(reading.source, expected, "{region}");
        service.shutdown().await;
    }
}

#[tokio::test]
async fn sichuans_live_check_sees_a_status_changed_after_signing() {
    let pki = pki();
    let sc = start(&pki, RegionCode::SICHUAN, Faults::default()).await;
    let ring = registry(&pki, RegionCode::SICHUAN, sc.status_service().unwrap());
    let issued = issue(&sc, Colour::Green).await;
    sc.set_status(&resident(), Colour::Red).await.unwrap();
    let adapters = default_adapters().unwrap();
    let client = StatusClient::new(ClientConfig::default());
    let adapter = adapters.claim(&issued.payload).unwrap();
    let mut ctx = ReadContext::new(
        &ring,
        &client,
        OffsetDateTime::now_utc(),
        Instant::now() + Duration::from_secs(2),
    );
    let offline = adapter.read(&issued.payload, &ctx).await.map(flat).unwrap();
    assert_eq!(
        offline.native_label, "绿码",
        "the signature vouches for green"
    );
    ctx.require_online = true;
    let live = adapter.read(&issued.payload, &ctx).await.map(flat).unwrap();
    assert_eq!(live.native_label, "红码", "the live check wins");
    assert_eq!(live.source, Source::Online);
}

/// How a region fails in [`every_online_region_degrades_through_its_adapter_in_every_failure`].
#[derive(Debug, Clone, Copy)]
enum Failure {
    Down,
    Slow,
    Garbage,
    WrongIdentity,
}

#[tokio::test]
async fn every_online_region_degrades_through_its_adapter_in_every_failure() {
    let pki = pki();
    let adapters = default_adapters().unwrap();
    for region in [RegionCode::ZHEJIANG, RegionCode::HENAN, RegionCode::SICHUAN] {
        for failure in [
            Failure::Down,
            Failure::Slow,
            Failure::Garbage,
            Failure::WrongIdentity,
        ] {
            let service = start(&pki, region, Faults::default()).await;
            let ring = registry(&pki, region, service.status_service().unwrap());
            let issued = issue(&service, Colour::Green).await;
            let faults = match failure {
                Failure::Down => None,
                Failure::Slow => Some(Faults {
                    latency: Duration::from_secs(30),
                    ..Faults::default()
                }),
                Failure::Garbage => Some(Faults {
                    garbage_bodies: true,
                    ..Faults::default()
                }),
                Failure::WrongIdentity => Some(Faults {
                    wrong_identity: true,
                    ..Faults::default()
                }),
            };
            let _running = match faults {
                Some(f) => {
                    service.set_faults(f);
                    Some(service)
                }
                None => {
                    service.shutdown().await;
                    None
                }
            };
            // A fresh client per case: no connection or cached answer from before the fault.
            let client = StatusClient::new(ClientConfig::default());
            let mut ctx = ReadContext::new(
                &ring,
                &client,
                OffsetDateTime::now_utc(),
                Instant::now() + Duration::from_millis(300),
            );
            ctx.require_online = true;
            let reading = adapters
                .claim(&issued.payload)
                .unwrap()
                .read(&issued.payload, &ctx)
                .await
                .map(flat)
                .unwrap();
            assert_eq!(reading.source, Source::Degraded, "{region} {failure:?}");
            assert!(
                !reading.notes.is_empty(),
                "{region} {failure:?}: a degraded reading says why"
            );
        }
    }
}
